//! API tokens: only the SHA-256 of a token is stored. A token belongs to one organization,
//! optionally to one of its workspaces, and works until it expires or is revoked.

use super::{Db, StoreError, StoreResult, audit, new_id, now_millis};
use crate::model::{ApiTokenRow, AuditAction, Role, TokenName, TokenScope};
use sqlx::{Row, any::AnyRow};

/// A token found by its hash, with what authenticating needs besides its row.
#[derive(Clone, Debug)]
pub struct StoredToken {
    pub organization_id: String,
    pub token_hash: String,
    /// The role its creator has in its organization now; `None` when they are no longer in it.
    pub creator_role: Option<Role>,
    pub row: ApiTokenRow,
}

/// What a new token is, besides its hash.
#[derive(Clone, Debug)]
pub struct NewToken<'a> {
    /// The user making it: the token works only while they may do what its scope covers.
    pub created_by_user: &'a str,
    pub name: &'a TokenName,
    pub scope: TokenScope,
    pub workspace_id: Option<&'a str>,
    pub expires_at: Option<i64>,
}

/// A token is not used again within this long of its recorded use without a write: a script's
/// thousand calls a minute cost one `UPDATE`.
pub const LAST_USED_GRANULARITY_MS: i64 = 60_000;

const COLUMNS: &str = "t.id, t.organization_id, t.workspace_id, t.name, t.scope, t.token_hash, \
     t.created_by, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, m.role AS creator_role";

/// The tokens with their creator's membership in the token's organization, if any.
const FROM: &str = "api_tokens t LEFT JOIN memberships m \
     ON m.organization_id = t.organization_id AND m.user_id = t.created_by_user";

fn from_row(row: &AnyRow) -> StoreResult<StoredToken> {
    Ok(StoredToken {
        organization_id: row.try_get("organization_id")?,
        token_hash: row.try_get("token_hash")?,
        creator_role: row
            .try_get::<Option<String>, _>("creator_role")?
            .map(|role| Role::parse(&role))
            .transpose()?,
        row: ApiTokenRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            scope: TokenScope::parse(&row.try_get::<String, _>("scope")?)?,
            workspace_id: row.try_get("workspace_id")?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            last_used_at: row.try_get("last_used_at")?,
            revoked_at: row.try_get("revoked_at")?,
        },
    })
}

/// Records a token of `ctx`'s organization whose SHA-256 is `token_hash`, with its audit event.
/// A workspace that is not the organization's is [`StoreError::NotFound`], and nothing is written.
pub async fn create(
    db: &Db,
    ctx: &audit::AuditContext,
    new: &NewToken<'_>,
    token_hash: &str,
) -> StoreResult<ApiTokenRow> {
    let mut tx = db.begin().await?;
    if let Some(workspace_id) = new.workspace_id {
        let found: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM workspaces WHERE id = $1 AND organization_id = $2",
        )
        .bind(workspace_id)
        .bind(&ctx.organization_id)
        .fetch_one(&mut *tx)
        .await?;
        if found == 0 {
            return Err(StoreError::NotFound);
        }
    }
    let row = ApiTokenRow {
        id: new_id(),
        name: new.name.as_str().to_owned(),
        scope: new.scope,
        workspace_id: new.workspace_id.map(str::to_owned),
        created_by: ctx.actor.clone(),
        created_at: now_millis(),
        expires_at: new.expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_tokens (id, organization_id, workspace_id, name, scope, token_hash, created_by, created_by_user, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&row.id)
    .bind(&ctx.organization_id)
    .bind(row.workspace_id.as_deref())
    .bind(&row.name)
    .bind(row.scope.as_str())
    .bind(token_hash)
    .bind(&row.created_by)
    .bind(new.created_by_user)
    .bind(row.created_at)
    .bind(row.expires_at)
    .execute(&mut *tx)
    .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        new.workspace_id,
        AuditAction::ApiTokenCreated,
        &row.name,
        row.scope.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The organization's tokens, revoked and expired ones included, newest first.
pub async fn list(db: &Db, organization_id: &str) -> StoreResult<Vec<ApiTokenRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE t.organization_id = $1
         ORDER BY t.created_at DESC, t.id LIMIT 500"
    ))
    .bind(organization_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|row| Ok(from_row(row)?.row)).collect()
}

/// The token whose SHA-256 is `token_hash`, whatever its state; `None` when there is none.
pub async fn find_by_hash(db: &Db, token_hash: &str) -> StoreResult<Option<StoredToken>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE t.token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Revokes the organization's token `id`, with its audit event. Another organization's token, or
/// none, is [`StoreError::NotFound`]; revoking a revoked token changes nothing.
pub async fn revoke(db: &Db, ctx: &audit::AuditContext, id: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE t.id = $1 AND t.organization_id = $2"
    ))
    .bind(id)
    .bind(&ctx.organization_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let token = from_row(&row)?.row;
    if token.revoked_at.is_some() {
        return Ok(());
    }
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND organization_id = $3")
        .bind(now_millis())
        .bind(id)
        .bind(&ctx.organization_id)
        .execute(&mut *tx)
        .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        token.workspace_id.as_deref(),
        AuditAction::ApiTokenRevoked,
        &token.name,
        token.scope.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records that token `id` was used at `now`, unless its recorded use is less than
/// [`LAST_USED_GRANULARITY_MS`] old. Whether it wrote.
pub async fn record_use(db: &Db, id: &str, now: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
    )
    .bind(now)
    .bind(id)
    .bind(now - LAST_USED_GRANULARITY_MS)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}
