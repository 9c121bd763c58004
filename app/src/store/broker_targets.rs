//! Broker targets: every broker revocations are delivered to (a node's embedded broker, an
//! external broker's admin API), with its health, and the lease that lets exactly one Keygate
//! process deliver to a target at a time.

use super::{Db, StoreError, StoreResult, deliveries, device_sessions, now_millis, outbox};
use crate::model::{BrokerKind, BrokerTarget};
use sqlx::{AnyConnection, Row};

/// A target as a process configures it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    /// Unique among all processes sharing the database, e.g. `embedded:keygate` or `emqx-eu`.
    pub name: String,
    pub kind: BrokerKind,
    /// Where it is, without credentials.
    pub endpoint: String,
}

/// Registers (or updates) a target, and gives it a delivery for every revocation that is not done
/// yet: a broker added while revocations are pending may hold sessions they must close. How many
/// deliveries it was given.
pub async fn register(db: &Db, target: &TargetSpec) -> StoreResult<u64> {
    let mut tx = db.begin().await?;
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
    let added = deliveries::insert_pending_for_in(&mut tx, &target.name).await?;
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

/// Records, in the caller's transaction, that `target` confirmed a delivery at `at`: it is
/// healthy again.
pub(super) async fn record_success_in(
    conn: &mut AnyConnection,
    target: &str,
    at: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE broker_targets SET failures = 0, last_success_at = $2 WHERE name = $1")
        .bind(target)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records, in the caller's transaction, an attempt on `target` that failed with `error` at `at`.
/// A failure that retrying may fix counts towards its consecutive failures; one set aside does
/// not (the target answered, it refused that one request).
pub(super) async fn record_error_in(
    conn: &mut AnyConnection,
    target: &str,
    error: &str,
    at: i64,
    counts_as_failure: bool,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE broker_targets SET failures = failures + $4, last_error = $2, last_error_at = $3
         WHERE name = $1",
    )
    .bind(target)
    .bind(error)
    .bind(at)
    .bind(i64::from(counts_as_failure))
    .execute(conn)
    .await?;
    Ok(())
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
/// lease ([`StoreError::TargetServed`]): that process would register it again and deliver anyway.
/// Revocations that waited for this target alone become done, and the device sessions known on it
/// are forgotten.
pub async fn forget(db: &Db, name: &str) -> StoreResult<Forgotten> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    // The write comes first: a SQLite transaction that reads first and writes later fails at once
    // ("database is locked") if another process wrote in between, where one that writes first
    // waits its turn. This update changes no delivery, so the count below still sees them all.
    let completed = outbox::mark_done_waiting_only_for_in(&mut tx, name, now).await?;
    let dropped = deliveries::count_pending_in(&mut tx, name).await?;
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
    device_sessions::delete_for_broker_in(&mut tx, name).await?;
    tx.commit().await?;
    Ok(Forgotten { dropped, completed })
}

/// Every registered target with its health and how many revocations wait for it, the embedded
/// brokers first.
pub async fn list(db: &Db) -> StoreResult<Vec<BrokerTarget>> {
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
