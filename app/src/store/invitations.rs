//! Invitations: one-time links that make someone a member of an organization. Only the SHA-256 of
//! a link's token is stored; a link works once, until it expires, unless it is revoked first.

use super::{Db, StoreError, StoreResult, audit, memberships, new_id, now_millis, users};
use crate::model::{AuditAction, Email, InvitationRow, InvitationState, Role};
use sqlx::{AnyConnection, Row, any::AnyRow};

/// An invitation as stored, with its organization's name (what the link's page shows).
#[derive(Clone, Debug)]
pub struct Invitation {
    pub id: String,
    pub organization_id: String,
    pub organization_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Invitation {
    pub fn state(&self, now: i64) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if self.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

const COLUMNS: &str = "i.id, i.organization_id, o.name, i.email, i.role, i.invited_by, \
     i.created_at, i.expires_at, i.accepted_at, i.revoked_at";

fn from_row(row: &AnyRow) -> StoreResult<Invitation> {
    Ok(Invitation {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        organization_name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: Role::parse(&row.try_get::<String, _>("role")?)?,
        invited_by: row.try_get("invited_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        accepted_at: row.try_get("accepted_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Records an invitation of `email` into `ctx`'s organization with `role`, reachable by the token
/// whose hash is `token_hash` until `expires_at`. Someone who is a member already is
/// [`StoreError::AlreadyMember`].
pub async fn create(
    db: &Db,
    ctx: &audit::AuditContext,
    email: &Email,
    role: Role,
    token_hash: &str,
    expires_at: i64,
) -> StoreResult<InvitationRow> {
    let mut tx = db.begin().await?;
    let member: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.organization_id = $1 AND u.email = $2",
    )
    .bind(&ctx.organization_id)
    .bind(email.as_str())
    .fetch_one(&mut *tx)
    .await?;
    if member > 0 {
        return Err(StoreError::AlreadyMember);
    }
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO invitations (id, organization_id, email, role, token_hash, invited_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&ctx.organization_id)
    .bind(email.as_str())
    .bind(role.as_str())
    .bind(token_hash)
    .bind(&ctx.actor)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        None,
        AuditAction::MemberInvited,
        email.as_str(),
        role.label(),
    )
    .await?;
    tx.commit().await?;
    Ok(InvitationRow {
        id,
        email: email.as_str().to_owned(),
        role,
        invited_by: ctx.actor.clone(),
        created_at: now,
        expires_at,
        state: InvitationState::Pending,
    })
}

/// The organization's invitations that were not accepted, newest first: pending, expired and
/// revoked ones alike, each with its state.
pub async fn list(db: &Db, organization_id: &str) -> StoreResult<Vec<InvitationRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM invitations i JOIN organizations o ON o.id = i.organization_id
         WHERE i.organization_id = $1 AND i.accepted_at IS NULL
         ORDER BY i.created_at DESC, i.id LIMIT 200"
    ))
    .bind(organization_id)
    .fetch_all(db.pool())
    .await?;
    let now = now_millis();
    rows.iter()
        .map(|row| {
            let i = from_row(row)?;
            Ok(InvitationRow {
                state: i.state(now),
                id: i.id,
                email: i.email,
                role: i.role,
                invited_by: i.invited_by,
                created_at: i.created_at,
                expires_at: i.expires_at,
            })
        })
        .collect()
}

/// The invitation a link's token leads to, whatever its state; `None` for a token nobody made.
pub async fn find_by_token(db: &Db, token_hash: &str) -> StoreResult<Option<Invitation>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM invitations i JOIN organizations o ON o.id = i.organization_id
         WHERE i.token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Revokes a pending invitation of `ctx`'s organization; one that is not pending (or another
/// organization's) is [`StoreError::NotFound`].
pub async fn revoke(db: &Db, ctx: &audit::AuditContext, id: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let email: Option<String> = sqlx::query_scalar(
        "UPDATE invitations SET revoked_at = $1
         WHERE id = $2 AND organization_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL
         RETURNING email",
    )
    .bind(now_millis())
    .bind(id)
    .bind(&ctx.organization_id)
    .fetch_optional(&mut *tx)
    .await?;
    let email = email.ok_or(StoreError::NotFound)?;
    audit::insert_in(
        &mut tx,
        ctx,
        None,
        AuditAction::InvitationRevoked,
        &email,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Uses the invitation up inside the caller's transaction: only a pending one, and only once,
/// however many accept it at the same moment. Anything else is [`StoreError::InvitationUnusable`].
async fn use_in(conn: &mut AnyConnection, token_hash: &str) -> StoreResult<Invitation> {
    let now = now_millis();
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE invitations SET accepted_at = $1
         WHERE token_hash = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1
         RETURNING id",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let id = id.ok_or(StoreError::InvitationUnusable)?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM invitations i JOIN organizations o ON o.id = i.organization_id
         WHERE i.id = $1"
    ))
    .bind(&id)
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

async fn joined_in(
    conn: &mut AnyConnection,
    invitation: &Invitation,
    address: &str,
) -> StoreResult<()> {
    let ctx = audit::AuditContext {
        organization_id: invitation.organization_id.clone(),
        actor: invitation.email.clone(),
        address: address.to_owned(),
    };
    audit::insert_in(
        conn,
        &ctx,
        None,
        AuditAction::MemberJoined,
        &invitation.email,
        &format!(
            "{}, invited by {}",
            invitation.role.label(),
            invitation.invited_by
        ),
    )
    .await
}

/// Accepts an invitation by signing up: a new user with the invited email and `password_hash`,
/// a member with the invited role. Returns the user's id and the invitation.
pub async fn accept_with_new_user(
    db: &Db,
    token_hash: &str,
    password_hash: &str,
    address: &str,
) -> StoreResult<(String, Invitation)> {
    let mut tx = db.begin().await?;
    let invitation = use_in(&mut tx, token_hash).await?;
    let email = Email::parse(&invitation.email)?;
    let user_id =
        users::insert_in(&mut tx, &invitation.organization_id, &email, password_hash).await?;
    memberships::insert_in(
        &mut tx,
        &invitation.organization_id,
        &user_id,
        invitation.role,
    )
    .await?;
    joined_in(&mut tx, &invitation, address).await?;
    tx.commit().await?;
    Ok((user_id, invitation))
}

/// Accepts an invitation with an existing account, which must be the invited email's:
/// another is [`StoreError::InvitationForSomeoneElse`], and the invitation stays unused.
pub async fn accept_as(
    db: &Db,
    token_hash: &str,
    user: &users::User,
    address: &str,
) -> StoreResult<Invitation> {
    let mut tx = db.begin().await?;
    let invitation = use_in(&mut tx, token_hash).await?;
    if invitation.email != user.email {
        return Err(StoreError::InvitationForSomeoneElse);
    }
    memberships::insert_in(
        &mut tx,
        &invitation.organization_id,
        &user.id,
        invitation.role,
    )
    .await?;
    joined_in(&mut tx, &invitation, address).await?;
    tx.commit().await?;
    Ok(invitation)
}
