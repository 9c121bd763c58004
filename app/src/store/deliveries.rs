//! Revocation deliveries: one row per revocation and broker target, from the moment the revocation
//! is queued until the target confirmed it closed the client's sessions (or it was set aside for
//! an operator).
//!
//! Delivery is in outbox order per target: a target's worker retries the oldest undelivered row
//! until it succeeds before it moves on, so a broker that was down sees every revocation, in
//! order, once it is back.

use super::outbox::{self, OutboxRow};
use super::{Db, StoreResult, broker_targets, now_millis};
use crate::model::{RevocationProgress, RevocationReason};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// A revocation still to be delivered to one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub revocation: OutboxRow,
    /// Attempts so far (0 for a fresh row).
    pub attempts: i64,
}

/// Gives revocation `outbox_id` a delivery for every registered target, in the caller's
/// transaction (the one that queues it).
pub(super) async fn insert_for_revocation_in(
    conn: &mut AnyConnection,
    outbox_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO revocation_deliveries (outbox_id, target) SELECT $1, name FROM broker_targets",
    )
    .bind(outbox_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives `target` a delivery for every revocation not done yet, in the caller's transaction (the
/// one that registers it); how many it was given.
pub(super) async fn insert_pending_for_in(
    conn: &mut AnyConnection,
    target: &str,
) -> StoreResult<u64> {
    Ok(sqlx::query(
        "INSERT INTO revocation_deliveries (outbox_id, target)
         SELECT id, $1 FROM revocation_outbox WHERE done_at IS NULL
         ON CONFLICT (target, outbox_id) DO NOTHING",
    )
    .bind(target)
    .execute(conn)
    .await?
    .rows_affected())
}

/// How many revocations `target` has not confirmed, set aside or not, in the caller's transaction.
pub(super) async fn count_pending_in(conn: &mut AnyConnection, target: &str) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM revocation_deliveries WHERE target = $1 AND done_at IS NULL",
    )
    .bind(target)
    .fetch_one(conn)
    .await?;
    Ok(n as u64)
}

/// The oldest `limit` revocations `target` has not confirmed and that are not set aside, in
/// outbox order.
pub async fn list_pending(db: &Db, target: &str, limit: i64) -> StoreResult<Vec<Pending>> {
    let rows = sqlx::query(
        "SELECT o.id, o.client_id, o.organization_id, o.reason, o.created_at, o.revision, o.key_id, d.attempts
         FROM revocation_deliveries d JOIN revocation_outbox o ON o.id = d.outbox_id
         WHERE d.target = $1 AND d.done_at IS NULL AND d.needs_attention_at IS NULL
         ORDER BY d.outbox_id LIMIT $2",
    )
    .bind(target)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Pending {
                revocation: outbox::from_row(r)?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

/// Records that `target` confirmed revocation `outbox_id`, and marks the revocation done when it
/// was the last target to confirm. Idempotent.
pub async fn mark_delivered(db: &Db, target: &str, outbox_id: i64) -> StoreResult<()> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE revocation_deliveries
         SET done_at = $3, attempts = attempts + 1, last_error = NULL, next_attempt_at = NULL
         WHERE target = $1 AND outbox_id = $2 AND done_at IS NULL",
    )
    .bind(target)
    .bind(outbox_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    broker_targets::record_success_in(&mut tx, target, now).await?;
    tx.commit().await?;
    // After the commit, so that of two targets confirming at once the later one sees both.
    outbox::mark_done_if_delivered(db, outbox_id, now).await
}

/// Records a failed attempt to deliver `outbox_id` to `target`, and when the next one is due.
pub async fn mark_failed(
    db: &Db,
    target: &str,
    outbox_id: i64,
    error: &str,
    next_attempt_at: i64,
) -> StoreResult<()> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE revocation_deliveries
         SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4
         WHERE target = $1 AND outbox_id = $2 AND done_at IS NULL",
    )
    .bind(target)
    .bind(outbox_id)
    .bind(error)
    .bind(next_attempt_at)
    .execute(&mut *tx)
    .await?;
    broker_targets::record_error_in(&mut tx, target, error, now, true).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a delivery aside: `target` refused it in a way retrying cannot fix (a 4xx other than 404,
/// 408 or 429), so the revocations behind it go on while this one waits, with its error, in
/// Settings → Brokers and on its client until someone retries it ([`retry`]). The target itself
/// is not failing: its consecutive failures stay as they are.
pub async fn set_aside(db: &Db, target: &str, outbox_id: i64, error: &str) -> StoreResult<()> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE revocation_deliveries
         SET attempts = attempts + 1, last_error = $3, next_attempt_at = NULL, needs_attention_at = $4
         WHERE target = $1 AND outbox_id = $2 AND done_at IS NULL",
    )
    .bind(target)
    .bind(outbox_id)
    .bind(error)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    broker_targets::record_error_in(&mut tx, target, error, now, false).await?;
    tx.commit().await?;
    Ok(())
}

/// Puts every delivery set aside for `target` back in its queue (after the operator fixed what the
/// broker objected to); how many. They go first: they are the oldest.
pub async fn retry(db: &Db, target: &str) -> StoreResult<u64> {
    Ok(sqlx::query(
        "UPDATE revocation_deliveries SET needs_attention_at = NULL
         WHERE target = $1 AND done_at IS NULL AND needs_attention_at IS NOT NULL",
    )
    .bind(target)
    .execute(db.pool())
    .await?
    .rows_affected())
}

/// How far the latest revocation of each of `client_ids` (of `organization_id`) got, for
/// revocations still pending or made since `since` (Unix ms). Clients without one are missing
/// from the map.
pub async fn progress(
    db: &Db,
    organization_id: &str,
    client_ids: &[&str],
    since: i64,
) -> StoreResult<HashMap<String, RevocationProgress>> {
    if client_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = (0..client_ids.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT o.client_id, o.reason, o.created_at, o.done_at,
                (SELECT COUNT(*) FROM revocation_deliveries d WHERE d.outbox_id = o.id) AS total,
                (SELECT COUNT(*) FROM revocation_deliveries d WHERE d.outbox_id = o.id AND d.done_at IS NOT NULL) AS confirmed,
                (SELECT d.target || ': ' || d.last_error FROM revocation_deliveries d
                  WHERE d.outbox_id = o.id AND d.done_at IS NULL AND d.needs_attention_at IS NOT NULL
                  ORDER BY d.target LIMIT 1) AS attention
         FROM revocation_outbox o
         WHERE o.organization_id = $2 AND o.client_id IN ({list})
           AND o.id = (SELECT MAX(l.id) FROM revocation_outbox l WHERE l.client_id = o.client_id)
           AND (o.done_at IS NULL OR o.created_at >= $1)"
    );
    let mut query = sqlx::query(&sql).bind(since).bind(organization_id);
    for id in client_ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| {
            let done_at: Option<i64> = r.try_get("done_at")?;
            Ok((
                r.try_get("client_id")?,
                RevocationProgress {
                    reason: RevocationReason::parse(&r.try_get::<String, _>("reason")?)?,
                    created_at: r.try_get("created_at")?,
                    confirmed: r.try_get::<i64, _>("confirmed")? as u32,
                    brokers: r.try_get::<i64, _>("total")? as u32,
                    done: done_at.is_some(),
                    needs_attention: r.try_get("attention")?,
                },
            ))
        })
        .collect()
}

/// An organization's revocations on their way, counted over every broker target: what a member
/// who does not operate the install sees (no target's name, address or error).
pub async fn summary(
    db: &Db,
    organization_id: &str,
) -> StoreResult<crate::model::OrganizationRevocations> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS waiting, MIN(o.created_at) AS oldest,
                COALESCE(SUM(CASE WHEN d.needs_attention_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS set_aside
         FROM revocation_deliveries d JOIN revocation_outbox o ON o.id = d.outbox_id
         WHERE o.organization_id = $1 AND d.done_at IS NULL",
    )
    .bind(organization_id)
    .fetch_one(db.pool())
    .await?;
    let brokers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM broker_targets")
        .fetch_one(db.pool())
        .await?;
    Ok(crate::model::OrganizationRevocations {
        waiting: row.try_get::<i64, _>("waiting")? as u64,
        oldest_waiting_at: row.try_get("oldest")?,
        set_aside: row.try_get::<i64, _>("set_aside")? as u64,
        brokers: brokers as u64,
        now: now_millis(),
    })
}
