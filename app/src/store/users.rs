//! Users: people who sign in to the dashboard. Each is a member of one or more organizations
//! (`memberships`); `organization_id` is the one they joined first.

use super::{Db, StoreError, StoreResult, is_unique_violation, new_id, now_millis};
use crate::model::{Email, ViewMode};
use sqlx::{AnyConnection, Row, any::AnyRow};

/// A user as stored. `password_hash` is an argon2id PHC string.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    pub password_hash: String,
    pub view_mode: ViewMode,
}

fn from_row(row: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        view_mode: ViewMode::parse(&row.try_get::<String, _>("view_mode")?),
    })
}

/// Inserts a user inside the caller's transaction (sign-up's); a taken email is
/// [`StoreError::EmailTaken`].
pub(super) async fn insert_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    email: &Email,
    password_hash: &str,
) -> StoreResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO users (id, organization_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(organization_id)
    .bind(email.as_str())
    .bind(password_hash)
    .bind(now_millis())
    .execute(conn)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::EmailTaken } else { e.into() })?;
    Ok(id)
}

/// A user by id; one that no longer exists is [`StoreError::NotFound`].
pub async fn get(db: &Db, id: &str) -> StoreResult<User> {
    let row = sqlx::query("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// The user who signs in with `email`, if any.
pub async fn find_by_email(db: &Db, email: &Email) -> StoreResult<Option<User>> {
    let row = sqlx::query("SELECT * FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Whether someone signs in with `email`.
pub async fn exists_by_email(db: &Db, email: &Email) -> StoreResult<bool> {
    Ok(find_by_email(db, email).await?.is_some())
}

/// Remembers the user's choice of list or card view. Not audited: a preference of the user's own
/// that changes nothing anyone else sees.
pub async fn update_view_mode(db: &Db, id: &str, view: ViewMode) -> StoreResult<()> {
    sqlx::query("UPDATE users SET view_mode = $1 WHERE id = $2")
        .bind(view.as_str())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Replaces the user's password hash, audited in `ctx`'s organization.
pub async fn update_password(
    db: &Db,
    ctx: &super::audit::AuditContext,
    id: &str,
    password_hash: &str,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    super::audit::insert_in(
        &mut tx,
        ctx,
        None,
        crate::model::AuditAction::UserPasswordChanged,
        &ctx.actor,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
