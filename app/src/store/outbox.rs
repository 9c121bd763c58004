//! The revocation outbox: one row per revoked credential, written in the transaction that revokes
//! it, so a revocation can never be committed without also being queued for the brokers. A row is
//! done once every broker target it was queued for confirmed it.

use super::{Db, StoreResult, deliveries, now_millis};
use crate::model::{ClientRef, RevocationReason};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// The revision a deletion records: every session of a deleted client predates it.
pub const DELETED: i64 = i64::MAX;

/// A queued revocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub client_id: String,
    pub organization_id: String,
    pub reason: RevocationReason,
    pub created_at: i64,
    /// The client's revision the change made ([`DELETED`] for a deletion): sessions authenticated
    /// against an earlier one are what the revocation closes.
    pub revision: i64,
    /// The key whose sessions it closes, for a revocation of one key ([`RevocationReason::ends_one_key`]).
    pub key_id: Option<String>,
}

/// Queues a revocation inside the caller's transaction, with one delivery for every registered
/// broker target, so the change, the revocation and where it must go commit together. `revision`
/// is the client's revision the change made.
pub(super) async fn insert_in(
    conn: &mut AnyConnection,
    client_id: &str,
    organization_id: &str,
    reason: RevocationReason,
    revision: i64,
) -> StoreResult<i64> {
    insert_row_in(conn, client_id, organization_id, reason, revision, None).await
}

/// Queues a revocation of one key of `client` (retired, expired) inside the caller's transaction:
/// only the sessions that authenticated with `key_id` are closed.
pub(super) async fn insert_key_in(
    conn: &mut AnyConnection,
    client: &ClientRef,
    reason: RevocationReason,
    revision: i64,
    key_id: &str,
) -> StoreResult<i64> {
    insert_row_in(
        conn,
        client.client_id.as_str(),
        &client.organization_id,
        reason,
        revision,
        Some(key_id),
    )
    .await
}

async fn insert_row_in(
    conn: &mut AnyConnection,
    client_id: &str,
    organization_id: &str,
    reason: RevocationReason,
    revision: i64,
    key_id: Option<&str>,
) -> StoreResult<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO revocation_outbox (client_id, organization_id, reason, created_at, revision, key_id) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id",
    )
    .bind(client_id)
    .bind(organization_id)
    .bind(reason.as_str())
    .bind(now_millis())
    .bind(revision)
    .bind(key_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    deliveries::insert_for_revocation_in(conn, id).await?;
    Ok(id)
}

/// Marks revocation `id` done at `at` if every target it was queued for confirmed it.
pub(super) async fn mark_done_if_delivered(db: &Db, id: i64, at: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE revocation_outbox SET done_at = $2
         WHERE id = $1 AND done_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM revocation_deliveries d WHERE d.outbox_id = $1 AND d.done_at IS NULL)",
    )
    .bind(id)
    .bind(at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Marks done, in the caller's transaction, the revocations that wait for `target` alone (it is
/// being forgotten); how many. Only rows `target` held: a revocation made while no target was
/// registered stays pending for the next one.
pub(super) async fn mark_done_waiting_only_for_in(
    conn: &mut AnyConnection,
    target: &str,
    at: i64,
) -> StoreResult<u64> {
    Ok(sqlx::query(
        "UPDATE revocation_outbox SET done_at = $2
         WHERE done_at IS NULL
           AND id IN (SELECT outbox_id FROM revocation_deliveries WHERE target = $1 AND done_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM revocation_deliveries d
                           WHERE d.outbox_id = revocation_outbox.id AND d.target <> $1 AND d.done_at IS NULL)",
    )
    .bind(target)
    .bind(at)
    .execute(conn)
    .await?
    .rows_affected())
}

/// An outbox row from a query that selects its columns by their own names.
pub(super) fn from_row(r: &AnyRow) -> StoreResult<OutboxRow> {
    Ok(OutboxRow {
        id: r.try_get("id")?,
        client_id: r.try_get("client_id")?,
        organization_id: r.try_get("organization_id")?,
        reason: RevocationReason::parse(&r.try_get::<String, _>("reason")?)?,
        created_at: r.try_get("created_at")?,
        revision: r.try_get("revision")?,
        key_id: r.try_get("key_id")?,
    })
}

/// Revocations not yet delivered, oldest first.
#[cfg(feature = "test-support")]
pub async fn list_pending(db: &Db, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    let rows = sqlx::query(
        "SELECT id, client_id, organization_id, reason, created_at, revision, key_id FROM revocation_outbox
         WHERE done_at IS NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Every revocation of a client, delivered or not, oldest first, with when it was done.
#[cfg(feature = "test-support")]
pub async fn list_for_client(
    db: &Db,
    client_id: &str,
) -> StoreResult<Vec<(OutboxRow, Option<i64>)>> {
    let rows = sqlx::query(
        "SELECT id, client_id, organization_id, reason, created_at, revision, key_id, done_at FROM revocation_outbox
         WHERE client_id = $1 ORDER BY id",
    )
    .bind(client_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((from_row(r)?, r.try_get("done_at")?)))
        .collect()
}
