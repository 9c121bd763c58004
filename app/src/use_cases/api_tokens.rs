//! API tokens: making, listing and revoking them, and [`authenticate`], which turns a request's
//! `Authorization: Bearer kgt_…` into an [`Actor`] acting as the token.
//!
//! Who may make a token: creating or revoking any token, read-only ones included, needs
//! [`Capability::ManageClients`] (an Admin or an Owner). A token is a credential that outlives the
//! session it was made in, so a Viewer, who changes nothing, makes none either; they see the list.
//! A manage token's reach is an Admin's over clients, and a token cannot make or revoke tokens
//! itself. A token never does more than its creator's role allows, then or later: it stops working
//! when its creator leaves the organization, and a manage token when they can no longer manage
//! clients (a demotion to viewer).

use super::{Actor, Denied, Failure, TokenLimit};
use crate::model::{
    ApiToken, ApiTokenRow, Capability, IssuedApiToken, Role, TokenLifetime, TokenName, TokenScope,
};
use crate::secrets;
use crate::store::api_tokens::{self, NewToken};
use crate::store::{Db, StoreError, now_millis};

/// What the create form sends, parsed.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub name: TokenName,
    pub scope: TokenScope,
    pub workspace_id: Option<String>,
    pub lifetime: TokenLifetime,
}

/// Makes a token and returns it with the plain `kgt_…` token, which is never stored: this is the
/// only time anyone sees it.
pub async fn create(
    db: &Db,
    actor: &Actor,
    request: &TokenRequest,
) -> Result<IssuedApiToken, Failure> {
    let ctx = require_member_managing(actor)?;
    let token = ApiToken::generate();
    let row = api_tokens::create(
        db,
        &ctx,
        &NewToken {
            created_by_user: &actor.user_id,
            name: &request.name,
            scope: request.scope,
            workspace_id: request.workspace_id.as_deref(),
            expires_at: request.lifetime.expires_at(now_millis()),
        },
        &secrets::fast_hash(token.expose().as_bytes()),
    )
    .await?;
    Ok(IssuedApiToken {
        row,
        token: token.expose().to_owned(),
    })
}

/// The organization's tokens, for any member (never the tokens themselves: only hashes are kept).
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<ApiTokenRow>, Failure> {
    Ok(api_tokens::list(db, &actor.organization_id).await?)
}

/// Revokes the organization's token `id`; another organization's is [`StoreError::NotFound`].
pub async fn revoke(db: &Db, actor: &Actor, id: &str) -> Result<(), Failure> {
    let ctx = require_member_managing(actor)?;
    Ok(api_tokens::revoke(db, &ctx, id).await?)
}

/// A signed-in member whose role manages clients; a token acting never qualifies.
fn require_member_managing(actor: &Actor) -> Result<crate::store::audit::AuditContext, Denied> {
    actor.require_member(Capability::ManageClients)
}

/// Why a bearer token was refused. One answer for unknown, malformed, expired and revoked tokens
/// alike, so a caller learns nothing about which tokens exist.
#[derive(Debug, thiserror::Error)]
pub enum Unauthorized {
    #[error("the API token is unknown, malformed, expired or revoked")]
    Refused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a creator with `role` now (none: no longer a member) may still stand behind a token of
/// `scope`.
fn creator_still_allows(role: Option<Role>, scope: TokenScope) -> bool {
    match (role, scope) {
        (None, _) => false,
        (Some(_), TokenScope::Read) => true,
        (Some(role), TokenScope::ManageClients) => role.allows(Capability::ManageClients),
    }
}

/// The role a token of `scope` acts with: read → Viewer, manage clients → Admin (and
/// [`TokenLimit`] keeps the latter to clients).
pub fn role_of(scope: TokenScope) -> Role {
    match scope {
        TokenScope::Read => Role::Viewer,
        TokenScope::ManageClients => Role::Admin,
    }
}

/// Turns an `Authorization` header's value (`Bearer kgt_…`) into an [`Actor`] acting as the token:
/// its organization, the role its scope stands for, the name `token NAME` in every audit event it
/// causes, and its workspace limit in [`Actor::token`]. Records the use at most once a minute.
pub async fn authenticate(
    db: &Db,
    authorization: &str,
    address: &str,
) -> Result<Actor, Unauthorized> {
    let raw = authorization
        .strip_prefix("Bearer ")
        .map(str::trim)
        .ok_or(Unauthorized::Refused)?;
    let presented = ApiToken::parse(raw);
    let hash = secrets::fast_hash(raw.as_bytes());
    let stored = match &presented {
        Some(_) => api_tokens::find_by_hash(db, &hash).await?,
        None => None,
    };
    // The lookup is by hash; the comparison below is in constant time all the same, against a
    // decoy when nothing was found, so every refusal costs the same.
    let matched = secrets::verify_fast_or_decoy(
        raw.as_bytes(),
        stored.as_ref().map(|s| s.token_hash.as_str()),
    );
    let now = now_millis();
    let stored = match stored {
        Some(stored)
            if matched
                && presented.is_some()
                && stored.row.usable(now)
                && creator_still_allows(stored.creator_role, stored.row.scope) =>
        {
            stored
        }
        _ => return Err(Unauthorized::Refused),
    };
    let row = stored.row;
    if row
        .last_used_at
        .is_none_or(|at| at <= now - api_tokens::LAST_USED_GRANULARITY_MS)
    {
        api_tokens::record_use(db, &row.id, now).await?;
    }
    Ok(Actor {
        user_id: format!("api-token:{}", row.id),
        email: format!("token {}", row.name),
        organization_id: stored.organization_id,
        role: role_of(row.scope),
        operator: false,
        address: address.to_owned(),
        token: Some(TokenLimit {
            token_id: row.id,
            scope: row.scope,
            workspace_id: row.workspace_id,
        }),
    })
}
