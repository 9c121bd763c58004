//! Operators: the users who run the install. They see the broker targets (addresses, node names,
//! error text) and open or close sign-up; the first sign-up is one, and operators name others.

use super::{Db, StoreError, StoreResult, audit, now_millis};
use crate::model::{AuditAction, Email, OperatorRow};
use sqlx::{AnyConnection, Row};

pub(super) async fn insert_in(
    conn: &mut AnyConnection,
    user_id: &str,
    named_by: &str,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO operators (user_id, named_by, created_at) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(named_by)
        .bind(now_millis())
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether `user_id` operates the install.
pub async fn exists(db: &Db, user_id: &str) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operators WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// The install's operators, in the order they were named.
pub async fn list(db: &Db) -> StoreResult<Vec<OperatorRow>> {
    let rows = sqlx::query(
        "SELECT u.email, o.named_by, o.created_at FROM operators o JOIN users u ON u.id = o.user_id
         ORDER BY o.created_at, u.email",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OperatorRow {
                email: r.try_get("email")?,
                named_by: r.try_get("named_by")?,
                since: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Names the user who signs in with `email` an operator, audited in the naming operator's
/// organization. An unknown email is [`StoreError::NotFound`]; one already an operator is fine.
pub async fn create(db: &Db, ctx: &audit::AuditContext, email: &Email) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let user_id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let user_id = user_id.ok_or(StoreError::NotFound)?;
    let inserted = sqlx::query(
        "INSERT INTO operators (user_id, named_by, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(&user_id)
    .bind(&ctx.actor)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        audit::insert_in(
            &mut tx,
            ctx,
            None,
            AuditAction::OperatorNamed,
            email.as_str(),
            "",
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes the operator who signs in with `email`, audited in the removing operator's
/// organization. Not the last one ([`StoreError::LastOperator`]: the install would have nobody to
/// see its brokers); one who is no operator is [`StoreError::NotFound`].
pub async fn delete(db: &Db, ctx: &audit::AuditContext, email: &Email) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    // The install's row lock: two operators removing each other at once leave one.
    sqlx::query("UPDATE install SET claimed_at = claimed_at WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    let user_id: Option<String> = sqlx::query_scalar(
        "SELECT o.user_id FROM operators o JOIN users u ON u.id = o.user_id WHERE u.email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let user_id = user_id.ok_or(StoreError::NotFound)?;
    let operators: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM operators")
        .fetch_one(&mut *tx)
        .await?;
    if operators <= 1 {
        return Err(StoreError::LastOperator);
    }
    sqlx::query("DELETE FROM operators WHERE user_id = $1")
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        None,
        AuditAction::OperatorRemoved,
        email.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
