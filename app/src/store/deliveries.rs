//! Delivery of revocations to broker targets: the targets themselves (with their health), one
//! delivery row per revocation and target, and the lease that lets exactly one Keygate process
//! deliver to a target at a time.
//!
//! Delivery is in outbox order per target: a target's worker retries the oldest undelivered row
//! until it succeeds before it moves on, so a broker that was down sees every revocation, in
//! order, once it is back.

use super::outbox::{self, OutboxRow};
use super::{Db, StoreError, StoreResult, now_millis};
use crate::model::{BrokerKind, BrokerTarget, RevocationProgress, RevocationReason};
use sqlx::Row;
use std::collections::HashMap;

/// A target as a process configures it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    /// Unique among all processes sharing the database, e.g. `embedded:keygate` or `emqx-eu`.
    pub name: String,
    pub kind: BrokerKind,
    /// Where it is, without credentials.
    pub endpoint: String,
}

/// A revocation still to be delivered to one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub revocation: OutboxRow,
    /// Attempts so far (0 for a fresh row).
    pub attempts: i64,
}

/// Registers (or updates) a target, and gives it a delivery for every revocation that is not done
/// yet: a broker added while revocations are pending may hold sessions they must close.
pub async fn register(db: &Db, target: &TargetSpec) -> StoreResult<u64> {
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO broker_targets (name, kind, endpoint, registered_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, endpoint = excluded.endpoint",
    )
    .bind(&target.name)
    .bind(target.kind.as_str())
    .bind(&target.endpoint)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    let added = sqlx::query(
        "INSERT INTO revocation_deliveries (outbox_id, target)
         SELECT id, $1 FROM revocation_outbox WHERE done_at IS NULL
         ON CONFLICT (target, outbox_id) DO NOTHING",
    )
    .bind(&target.name)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(added)
}

/// Takes or renews the lease on `target` for `holder` until `until` (Unix ms). True when `holder`
/// has it: nobody held it, the last holder's lease ran out, or `holder` held it already. A single
/// conditional UPDATE, so two processes racing for it cannot both win.
pub async fn lease(db: &Db, target: &str, holder: &str, until: i64) -> StoreResult<bool> {
    let taken = sqlx::query(
        "UPDATE broker_targets SET lease_holder = $2, lease_until = $3
         WHERE name = $1 AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until < $4)",
    )
    .bind(target)
    .bind(holder)
    .bind(until)
    .bind(now_millis())
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// Gives the lease back (at shutdown), so another process can take over at once.
pub async fn release(db: &Db, target: &str, holder: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE broker_targets SET lease_holder = NULL, lease_until = 0
         WHERE name = $1 AND lease_holder = $2",
    )
    .bind(target)
    .bind(holder)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The oldest `limit` revocations `target` has not confirmed, in outbox order.
pub async fn pending(db: &Db, target: &str, limit: i64) -> StoreResult<Vec<Pending>> {
    let rows = sqlx::query(
        "SELECT o.id, o.client_id, o.organization_id, o.reason, o.created_at, o.revision, d.attempts
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
pub async fn delivered(db: &Db, target: &str, outbox_id: i64) -> StoreResult<()> {
    let now = now_millis();
    let mut tx = db.pool().begin().await?;
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
    sqlx::query("UPDATE broker_targets SET failures = 0, last_success_at = $2 WHERE name = $1")
        .bind(target)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // After the commit, so that of two targets confirming at once the later one sees both.
    sqlx::query(
        "UPDATE revocation_outbox SET done_at = $2
         WHERE id = $1 AND done_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM revocation_deliveries d WHERE d.outbox_id = $1 AND d.done_at IS NULL)",
    )
    .bind(outbox_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed attempt to deliver `outbox_id` to `target`, and when the next one is due.
pub async fn failed(
    db: &Db,
    target: &str,
    outbox_id: i64,
    error: &str,
    next_attempt_at: i64,
) -> StoreResult<()> {
    let now = now_millis();
    let mut tx = db.pool().begin().await?;
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
    sqlx::query(
        "UPDATE broker_targets SET failures = failures + 1, last_error = $2, last_error_at = $3
         WHERE name = $1",
    )
    .bind(target)
    .bind(error)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a delivery aside: `target` refused it in a way retrying cannot fix (a 4xx other than 404,
/// 408 or 429), so the revocations behind it go on while this one waits, with its error, in
/// Settings → Brokers and on its client until someone retries it ([`retry`]). The target itself
/// is not failing: its consecutive failures stay as they are.
pub async fn set_aside(db: &Db, target: &str, outbox_id: i64, error: &str) -> StoreResult<()> {
    let now = now_millis();
    let mut tx = db.pool().begin().await?;
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
    sqlx::query("UPDATE broker_targets SET last_error = $2, last_error_at = $3 WHERE name = $1")
        .bind(target)
        .bind(error)
        .bind(now)
        .execute(&mut *tx)
        .await?;
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

/// What forgetting a target let go of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forgotten {
    /// Revocations the target had not confirmed: they will never reach it.
    pub dropped: u64,
    /// Of those, the ones that were waiting for this target alone and are now done.
    pub completed: u64,
}

/// Removes a target no process delivers to any more (a renamed node, a broker dropped from the
/// configuration), so that its revocations stop waiting for it. Refused while a process holds its
/// lease: that process would register it again and deliver anyway. Revocations that waited for
/// this target alone become done, and the device sessions known on it are forgotten.
pub async fn forget_target(db: &Db, name: &str) -> StoreResult<Forgotten> {
    let now = now_millis();
    let mut tx = db.pool().begin().await?;
    // Only rows this target held: a revocation made while no target was registered stays
    // pending for the next one.
    let completed = sqlx::query(
        "UPDATE revocation_outbox SET done_at = $2
         WHERE done_at IS NULL
           AND id IN (SELECT outbox_id FROM revocation_deliveries WHERE target = $1 AND done_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM revocation_deliveries d
                           WHERE d.outbox_id = revocation_outbox.id AND d.target <> $1 AND d.done_at IS NULL)",
    )
    .bind(name)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // After a write, like every transaction here: a SQLite transaction that reads first and
    // writes later fails at once ("database is locked") if another process wrote in between,
    // where one that writes first waits its turn. The update above changed no delivery.
    let dropped: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM revocation_deliveries WHERE target = $1 AND done_at IS NULL",
    )
    .bind(name)
    .fetch_one(&mut *tx)
    .await?;
    // Conditional, like `lease`: a process taking the lease meanwhile makes this delete nothing.
    // Its deliveries go with it (ON DELETE CASCADE).
    let removed = sqlx::query(
        "DELETE FROM broker_targets
         WHERE name = $1 AND (lease_holder IS NULL OR lease_until < $2)",
    )
    .bind(name)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed == 0 {
        tx.rollback().await?;
        let holder: Option<Option<String>> =
            sqlx::query_scalar("SELECT lease_holder FROM broker_targets WHERE name = $1")
                .bind(name)
                .fetch_optional(db.pool())
                .await?;
        return Err(match holder {
            Some(holder) => StoreError::TargetServed {
                holder: holder.unwrap_or_default(),
            },
            None => StoreError::NotFound,
        });
    }
    // The sessions known on it can no longer be closed through Keygate.
    sqlx::query("DELETE FROM device_sessions WHERE broker = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Forgotten {
        dropped: dropped as u64,
        completed,
    })
}

/// Every registered target with its health and how many revocations wait for it.
pub async fn targets(db: &Db) -> StoreResult<Vec<BrokerTarget>> {
    let now = now_millis();
    let rows = sqlx::query(
        "SELECT t.name, t.kind, t.endpoint, t.lease_holder, t.lease_until, t.failures,
                t.last_success_at, t.last_error, t.last_error_at,
                (SELECT COUNT(*) FROM revocation_deliveries d
                  WHERE d.target = t.name AND d.done_at IS NULL AND d.needs_attention_at IS NULL) AS queue,
                (SELECT MIN(o.created_at) FROM revocation_deliveries d JOIN revocation_outbox o ON o.id = d.outbox_id
                  WHERE d.target = t.name AND d.done_at IS NULL AND d.needs_attention_at IS NULL) AS oldest,
                (SELECT MIN(d.next_attempt_at) FROM revocation_deliveries d
                  WHERE d.target = t.name AND d.done_at IS NULL AND d.needs_attention_at IS NULL) AS next_attempt,
                (SELECT COUNT(*) FROM revocation_deliveries d
                  WHERE d.target = t.name AND d.done_at IS NULL AND d.needs_attention_at IS NOT NULL) AS attention,
                (SELECT d.last_error FROM revocation_deliveries d
                  WHERE d.target = t.name AND d.done_at IS NULL AND d.needs_attention_at IS NOT NULL
                  ORDER BY d.needs_attention_at DESC, d.outbox_id DESC LIMIT 1) AS attention_error
         FROM broker_targets t ORDER BY t.kind <> $1, t.name",
    )
    .bind(BrokerKind::Embedded.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let lease_until: i64 = r.try_get("lease_until")?;
            let holder: Option<String> = r.try_get("lease_holder")?;
            Ok(BrokerTarget {
                name: r.try_get("name")?,
                kind: BrokerKind::parse(&r.try_get::<String, _>("kind")?)?,
                endpoint: r.try_get("endpoint")?,
                served_by: holder.filter(|_| lease_until >= now),
                failures: r.try_get::<i64, _>("failures")? as u32,
                last_success_at: r.try_get("last_success_at")?,
                last_error: r.try_get("last_error")?,
                last_error_at: r.try_get("last_error_at")?,
                queue_depth: r.try_get::<i64, _>("queue")? as u64,
                oldest_pending_at: r.try_get("oldest")?,
                next_attempt_at: r.try_get("next_attempt")?,
                needs_attention: r.try_get::<i64, _>("attention")? as u64,
                attention_error: r.try_get("attention_error")?,
            })
        })
        .collect()
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
