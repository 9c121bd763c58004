//! The install itself: who claimed it (the first sign-up) and whether sign-up is open. One row,
//! written by the first sign-up inside its own transaction.

use super::{Db, StoreResult, audit, now_millis, operators};
use crate::model::AuditAction;
use sqlx::AnyConnection;

/// Claims an empty install for `user_id` inside the caller's (sign-up's) transaction and makes
/// them its operator; whether this sign-up was the claim. Of two sign-ups racing for an empty
/// install, exactly one claims it: the other's insert waits for the first to commit and then
/// finds the row.
pub(super) async fn claim_in(conn: &mut AnyConnection, user_id: &str) -> StoreResult<bool> {
    let claimed = sqlx::query(
        "INSERT INTO install (id, claimed_by, claimed_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(user_id)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if claimed {
        operators::insert_in(conn, user_id, "install").await?;
    }
    Ok(claimed)
}

/// The install row's sign-up column inside `conn`: `None` on an unclaimed install (no row),
/// `Some(None)` until an operator chooses.
async fn signup_column_in(conn: &mut AnyConnection) -> StoreResult<Option<Option<i64>>> {
    Ok(
        sqlx::query_scalar("SELECT signup_open FROM install WHERE id = 1")
            .fetch_optional(conn)
            .await?,
    )
}

/// The dashboard's choice for sign-up inside the caller's transaction: `None` until an operator
/// makes one (then `--open-signup` decides), and also `None` on an empty install.
pub(super) async fn signup_choice_in(conn: &mut AnyConnection) -> StoreResult<Option<bool>> {
    Ok(signup_column_in(conn)
        .await?
        .flatten()
        .map(|open| open != 0))
}

/// Whether sign-up is open: always on an unclaimed install, else the dashboard's choice, else
/// `default` (`--open-signup`). One query.
pub async fn signup_open(db: &Db, default: bool) -> StoreResult<bool> {
    let mut conn = db.pool().acquire().await?;
    Ok(match signup_column_in(&mut conn).await? {
        None => true,
        Some(choice) => choice.map_or(default, |open| open != 0),
    })
}

/// Opens or closes sign-up from the dashboard, audited in the operator's organization.
pub async fn update_signup_open(db: &Db, ctx: &audit::AuditContext, open: bool) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE install SET signup_open = $1 WHERE id = 1")
        .bind(i64::from(open))
        .execute(&mut *tx)
        .await?;
    let action = if open {
        AuditAction::SignupOpened
    } else {
        AuditAction::SignupClosed
    };
    audit::insert_in(&mut tx, ctx, None, action, "sign-up", "").await?;
    tx.commit().await?;
    Ok(())
}
