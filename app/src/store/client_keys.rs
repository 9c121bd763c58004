//! Client keys: a client has one, or two while a rotation runs (the new key works at once, the one
//! it replaces until it retires). Each key has its own id, which every session records, so that a
//! retirement or an expiry closes exactly the sessions of that key.
//!
//! A key's end (`ends_at`) is applied once (`ended_at`), by whichever process gets there first:
//! [`end_due`] bumps the client's revision and queues a revocation of that key in the transaction
//! that ends it. A retired key's row goes; an expired key's stays, refused like a wrong key, so
//! the dashboard can say "Expired" and a device presenting it is told apart in the activity log.
//!
//! Every writer that touches both tables writes `clients` first, then `client_keys`, like the
//! connection tracker (device sessions, devices, clients, keys), so no two transactions wait on
//! each other in a circle.

use super::audit::{self, AuditContext};
use super::{Db, StoreError, StoreResult, new_id, now_millis, outbox};
use crate::model::{AuditAction, ClientId, ClientRef, KeyInfo, MAX_KEYS, RevocationReason};
use crate::secrets;
use sqlx::{AnyConnection, Row, any::AnyRow};
use std::collections::HashMap;

/// A key as verification needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    pub id: String,
    pub hash: String,
    /// When it stops verifying; `None`: never.
    pub ends_at: Option<i64>,
    /// Its last successful login as read.
    pub last_used_at: Option<i64>,
}

/// A key's last use is written at most this often by a login that holds no session (an HTTP
/// publish): the dashboard shows minutes, and a publish a second must not be a write a second.
const USE_RECORDED_EVERY_MS: i64 = 60_000;

/// Whether a login at `now` with a key last used at `last_used_at` should record its use: it was
/// not recorded lately.
pub fn use_worth_recording(last_used_at: Option<i64>, now: i64) -> bool {
    last_used_at.is_none_or(|at| now - at >= USE_RECORDED_EVERY_MS)
}

impl StoredKey {
    /// Whether it verifies at `now` (Unix ms).
    pub fn works_at(&self, now: i64) -> bool {
        crate::model::works_until(self.ends_at, now)
    }
}

/// The system's name in the activity log, for what happens because a moment came.
const SYSTEM: &str = "Keygate";

/// Adds a key to `client`, in the caller's transaction; its id.
pub(super) async fn insert_in(
    conn: &mut AnyConnection,
    client: &ClientRef,
    hash: &str,
    ends_at: Option<i64>,
    now: i64,
) -> StoreResult<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO client_keys (id, client_id, organization_id, key_hash, created_at, ends_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(client.client_id.as_str())
    .bind(&client.organization_id)
    .bind(hash)
    .bind(now)
    .bind(ends_at)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Replaces every key of `client` with one, in the caller's transaction (Regenerate: the old keys
/// stop at once, and the revocation the caller queues ends every session).
pub(super) async fn replace_in(
    conn: &mut AnyConnection,
    client: &ClientRef,
    hash: &str,
    ends_at: Option<i64>,
    now: i64,
) -> StoreResult<String> {
    sqlx::query("DELETE FROM client_keys WHERE client_id = $1 AND organization_id = $2")
        .bind(client.client_id.as_str())
        .bind(&client.organization_id)
        .execute(&mut *conn)
        .await?;
    insert_in(conn, client, hash, ends_at, now).await
}

const INFO_COLUMNS: &str = "k.id, k.client_id, k.key_hash, k.created_at, k.ends_at, k.retiring, k.last_used_at, k.last_address,
    (SELECT COUNT(*) FROM device_sessions s WHERE s.key_id = k.id AND s.disconnected_at IS NULL) AS live_sessions";

fn info_from_row(r: &AnyRow) -> StoreResult<KeyInfo> {
    Ok(KeyInfo {
        id: r.try_get("id")?,
        fingerprint: secrets::fingerprint(&r.try_get::<String, _>("key_hash")?),
        created_at: r.try_get("created_at")?,
        ends_at: r.try_get("ends_at")?,
        retiring: r.try_get::<i64, _>("retiring")? != 0,
        last_used_at: r.try_get("last_used_at")?,
        last_address: r.try_get("last_address")?,
        live_sessions: r.try_get::<i64, _>("live_sessions")? as u32,
    })
}

/// The keys of each of `client_ids` (clients of `organization_id`), oldest first, in one query.
pub async fn list_for(
    db: &Db,
    organization_id: &str,
    client_ids: &[&str],
) -> StoreResult<HashMap<String, Vec<KeyInfo>>> {
    let mut keys: HashMap<String, Vec<KeyInfo>> = HashMap::new();
    if client_ids.is_empty() {
        return Ok(keys);
    }
    let list = (0..client_ids.len())
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {INFO_COLUMNS} FROM client_keys k
         WHERE k.organization_id = $1 AND k.client_id IN ({list})
         ORDER BY k.created_at, k.id"
    );
    let mut query = sqlx::query(&sql).bind(organization_id);
    for id in client_ids {
        query = query.bind(*id);
    }
    for row in query.fetch_all(db.pool()).await? {
        keys.entry(row.try_get("client_id")?)
            .or_default()
            .push(info_from_row(&row)?);
    }
    Ok(keys)
}

/// The keys of every client of `workspace_id`, oldest first, in one query: an export's.
pub async fn list_for_workspace(
    db: &Db,
    workspace_id: &str,
) -> StoreResult<HashMap<String, Vec<KeyInfo>>> {
    let rows = sqlx::query(&format!(
        "SELECT {INFO_COLUMNS} FROM client_keys k
         JOIN clients c ON c.client_id = k.client_id AND c.organization_id = k.organization_id
         WHERE c.workspace_id = $1 ORDER BY k.created_at, k.id"
    ))
    .bind(workspace_id)
    .fetch_all(db.pool())
    .await?;
    let mut keys: HashMap<String, Vec<KeyInfo>> = HashMap::new();
    for row in rows {
        keys.entry(row.try_get("client_id")?)
            .or_default()
            .push(info_from_row(&row)?);
    }
    Ok(keys)
}

/// The keys of `client`, oldest first, in the caller's transaction.
pub(super) async fn list_of_in(
    conn: &mut AnyConnection,
    client: &ClientRef,
) -> StoreResult<Vec<KeyInfo>> {
    let rows = sqlx::query(&format!(
        "SELECT {INFO_COLUMNS} FROM client_keys k
         WHERE k.client_id = $1 AND k.organization_id = $2 ORDER BY k.created_at, k.id"
    ))
    .bind(client.client_id.as_str())
    .bind(&client.organization_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(info_from_row).collect()
}

/// Bumps the revision of `client` (its first write, see the module's lock order); the new
/// revision and the client's workspace, or [`StoreError::NotFound`].
async fn bump_client_in(
    conn: &mut AnyConnection,
    client: &ClientRef,
    now: i64,
) -> StoreResult<(i64, String)> {
    let row = sqlx::query(
        "UPDATE clients SET revision = revision + 1, updated_at = $3
         WHERE client_id = $1 AND organization_id = $2 RETURNING revision, workspace_id",
    )
    .bind(client.client_id.as_str())
    .bind(&client.organization_id)
    .bind(now)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok((row.try_get("revision")?, row.try_get("workspace_id")?))
}

/// A rotation, as [`rotate`] takes it.
#[derive(Clone, Copy, Debug)]
pub struct Rotation<'a> {
    /// The new key's hash, and when it ends (`None`: never).
    pub hash: &'a str,
    pub ends_at: Option<i64>,
    /// When the key it replaces retires (sooner, if that key expires sooner).
    pub retire_at: i64,
}

/// Gives a client of `ctx.organization_id` a second key that works at once, and sets the key it
/// has to retire at `rotation.retire_at`: its revocation is queued when that moment comes
/// ([`end_due`]). An expired key that was still kept goes first, its end applied. A client with
/// two working keys is [`StoreError::KeysFull`]. The new key's id.
pub async fn rotate(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
    rotation: Rotation<'_>,
) -> StoreResult<String> {
    let client = ClientRef {
        organization_id: ctx.organization_id.clone(),
        client_id: client_id.clone(),
    };
    let now = now_millis();
    let mut tx = db.begin().await?;
    let (_, workspace_id) = bump_client_in(&mut tx, &client, now).await?;
    // An expired key has no sessions once its end is applied: apply it (its revocation commits
    // with this change), then forget the key.
    let (working, ended): (Vec<_>, Vec<_>) = list_of_in(&mut tx, &client)
        .await?
        .into_iter()
        .partition(|key| key.works_at(now));
    for key in ended {
        end_in(&mut tx, &client, &key.id, now).await?;
        sqlx::query("DELETE FROM client_keys WHERE id = $1")
            .bind(&key.id)
            .execute(&mut *tx)
            .await?;
    }
    if working.len() >= MAX_KEYS {
        return Err(StoreError::KeysFull);
    }
    let mut detail = String::new();
    if let Some(current) = working.first() {
        // The key retires at the rotation's end, or expires before it as it was going to.
        let (ends_at, retiring) = match current.ends_at {
            Some(end) if end <= rotation.retire_at => (end, false),
            _ => (rotation.retire_at, true),
        };
        sqlx::query("UPDATE client_keys SET ends_at = $2, retiring = $3 WHERE id = $1")
            .bind(&current.id)
            .bind(ends_at)
            .bind(retiring as i64)
            .execute(&mut *tx)
            .await?;
        detail = format!(
            "key {} works until {}",
            current.fingerprint,
            crate::model::time_format::utc_minutes(ends_at)
        );
    }
    let id = insert_in(&mut tx, &client, rotation.hash, rotation.ends_at, now).await?;
    audit::insert_in(
        &mut tx,
        ctx,
        Some(&workspace_id),
        AuditAction::ClientKeyRotated,
        client_id.as_str(),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Retires a key of a client of `ctx.organization_id` now ("Retire now"): it stops verifying
/// when this returns, and the revocation of its sessions is queued with the change. The client's
/// only working key is [`StoreError::OnlyKey`]; another client's key, or none, is
/// [`StoreError::NotFound`].
pub async fn retire(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
    key_id: &str,
) -> StoreResult<()> {
    let client = ClientRef {
        organization_id: ctx.organization_id.clone(),
        client_id: client_id.clone(),
    };
    let now = now_millis();
    let mut tx = db.begin().await?;
    let (revision, workspace_id) = bump_client_in(&mut tx, &client, now).await?;
    let keys = list_of_in(&mut tx, &client).await?;
    let key = keys
        .iter()
        .find(|k| k.id == key_id)
        .ok_or(StoreError::NotFound)?;
    if !keys.iter().any(|k| k.id != key_id && k.works_at(now)) {
        return Err(StoreError::OnlyKey);
    }
    sqlx::query("DELETE FROM client_keys WHERE id = $1")
        .bind(key_id)
        .execute(&mut *tx)
        .await?;
    // Queued even for a key that expired already: its end may not have been applied yet, and a
    // second revocation of a key closes nothing more.
    outbox::insert_key_in(
        &mut tx,
        &client,
        RevocationReason::KeyRetired,
        revision,
        key_id,
    )
    .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        Some(&workspace_id),
        AuditAction::ClientKeyRetired,
        client_id.as_str(),
        &format!("key {} retired now", key.fingerprint),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets when a key of a client of `ctx.organization_id` expires (`None`: never). A retiring key
/// keeps its retirement, and a key that has ended stays ended: both are [`StoreError::NotFound`].
pub async fn update_expiry(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
    key_id: &str,
    ends_at: Option<i64>,
) -> StoreResult<()> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    // The client's row first (see the module's lock order), which also says it is ours.
    let workspace_id: String = sqlx::query_scalar(
        "UPDATE clients SET updated_at = $3 WHERE client_id = $1 AND organization_id = $2 RETURNING workspace_id",
    )
    .bind(client_id.as_str())
    .bind(&ctx.organization_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let row = sqlx::query(
        "UPDATE client_keys SET ends_at = $4
         WHERE id = $1 AND client_id = $2 AND organization_id = $3 AND retiring = 0
           AND ended_at IS NULL AND (ends_at IS NULL OR ends_at > $5)
         RETURNING key_hash",
    )
    .bind(key_id)
    .bind(client_id.as_str())
    .bind(&ctx.organization_id)
    .bind(ends_at)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let fingerprint = secrets::fingerprint(&row.try_get::<String, _>("key_hash")?);
    let when = ends_at.map_or_else(
        || "never".to_owned(),
        crate::model::time_format::utc_minutes,
    );
    audit::insert_in(
        &mut tx,
        ctx,
        Some(&workspace_id),
        AuditAction::ClientKeyExpiryChanged,
        client_id.as_str(),
        &format!("key {fingerprint} expires {when}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The soonest end still to be applied, if any: when [`end_due`] has work next.
pub async fn next_end(db: &Db) -> StoreResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MIN(ends_at) FROM client_keys WHERE ended_at IS NULL")
            .fetch_one(db.pool())
            .await?,
    )
}

/// A key whose end [`end_due`] applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    pub client: ClientRef,
    pub key_id: String,
    pub reason: RevocationReason,
}

/// Applies the end of every key due by `now` (a retirement or an expiry), each in its own
/// transaction with its client's new revision, its revocation and its audit event. Another
/// process that applied one first makes this one change nothing. What it ended.
pub async fn end_due(db: &Db, now: i64) -> StoreResult<Vec<Ended>> {
    let due = sqlx::query(
        "SELECT id, client_id, organization_id FROM client_keys
         WHERE ended_at IS NULL AND ends_at <= $1 ORDER BY ends_at LIMIT 500",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    let mut ended = Vec::new();
    for row in due {
        let key_id: String = row.try_get("id")?;
        let Ok(client_id) = ClientId::parse(&row.try_get::<String, _>("client_id")?) else {
            continue;
        };
        let client = ClientRef {
            organization_id: row.try_get("organization_id")?,
            client_id,
        };
        let mut tx = db.begin().await?;
        let reason = match end_in(&mut tx, &client, &key_id, now).await {
            Ok(Some(reason)) => reason,
            Ok(None) | Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        ended.push(Ended {
            client,
            key_id,
            reason,
        });
    }
    Ok(ended)
}

/// Applies the end of `key_id` of `client` if it is due by `now` and not applied yet, in the
/// caller's transaction: a retired key's row goes, an expired one is marked; the client's
/// revision moves on and the key's revocation is queued. Which it was, or `None` when there was
/// nothing to do.
async fn end_in(
    conn: &mut AnyConnection,
    client: &ClientRef,
    key_id: &str,
    now: i64,
) -> StoreResult<Option<RevocationReason>> {
    let (revision, workspace_id) = bump_client_in(conn, client, now).await?;
    let Some(row) = sqlx::query(
        "UPDATE client_keys SET ended_at = $2
         WHERE id = $1 AND ended_at IS NULL AND ends_at <= $2
         RETURNING retiring, key_hash, ends_at",
    )
    .bind(key_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let retiring = row.try_get::<i64, _>("retiring")? != 0;
    let fingerprint = secrets::fingerprint(&row.try_get::<String, _>("key_hash")?);
    let (reason, action, what) = if retiring {
        sqlx::query("DELETE FROM client_keys WHERE id = $1")
            .bind(key_id)
            .execute(&mut *conn)
            .await?;
        (
            RevocationReason::KeyRetired,
            AuditAction::ClientKeyRetired,
            "retired at the end of its rotation",
        )
    } else {
        (
            RevocationReason::KeyExpired,
            AuditAction::ClientKeyExpired,
            "expired",
        )
    };
    outbox::insert_key_in(conn, client, reason, revision, key_id).await?;
    let ctx = AuditContext {
        organization_id: client.organization_id.clone(),
        actor: SYSTEM.to_owned(),
        address: String::new(),
    };
    audit::insert_in(
        conn,
        &ctx,
        Some(&workspace_id),
        action,
        client.client_id.as_str(),
        &format!("key {fingerprint} {what}"),
    )
    .await?;
    Ok(Some(reason))
}

/// Records a successful login with `key_id` at `at` from `address`, in the caller's transaction;
/// never moves back.
pub(super) async fn record_use_in(
    conn: &mut AnyConnection,
    key_id: &str,
    at: i64,
    address: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE client_keys SET last_used_at = $2, last_address = $3
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2)",
    )
    .bind(key_id)
    .bind(at)
    .bind(address)
    .execute(conn)
    .await?;
    Ok(())
}

/// [`record_use_in`] on its own: a login that holds no session (an HTTP publish).
pub async fn record_use(db: &Db, key_id: &str, at: i64, address: &str) -> StoreResult<()> {
    let mut conn = db.pool().acquire().await?;
    record_use_in(&mut conn, key_id, at, address).await
}

/// Replaces the stored hash of key `key_id` with another form of the same key's hash (a generated
/// key's argon2id hash with its fast form, once the key verified), if it is still `from`: not a
/// change of the key, so no revision, revocation or audit event. Whether it replaced it.
pub async fn upgrade_hash(db: &Db, key_id: &str, from: &str, to: &str) -> StoreResult<bool> {
    Ok(
        sqlx::query("UPDATE client_keys SET key_hash = $1 WHERE id = $2 AND key_hash = $3")
            .bind(to)
            .bind(key_id)
            .bind(from)
            .execute(db.pool())
            .await?
            .rows_affected()
            == 1,
    )
}

/// How many keys of `workspace_id`'s clients expire (not retire) after `now` and within `within`
/// ms: the header's count, beside the Clients page's "expiring" filter of the same workspace.
pub async fn count_expiring(
    db: &Db,
    workspace_id: &str,
    now: i64,
    within: i64,
) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM client_keys k
         JOIN clients c ON c.client_id = k.client_id AND c.organization_id = k.organization_id
         WHERE c.workspace_id = $1 AND k.retiring = 0 AND k.ends_at > $2 AND k.ends_at <= $3",
    )
    .bind(workspace_id)
    .bind(now)
    .bind(now + within)
    .fetch_one(db.pool())
    .await?;
    Ok(n as u64)
}

/// The stored hashes of a client's keys, whoever owns it, oldest first: tests check what the
/// broker will verify against.
#[cfg(feature = "test-support")]
pub async fn list_hashes(db: &Db, client_id: &ClientId) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT key_hash FROM client_keys WHERE client_id = $1 ORDER BY created_at, id",
    )
    .bind(client_id.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok(r.try_get("key_hash")?)).collect()
}

/// Moves a key's end to `ends_at`, as if it had been set that way: tests make a key expire or
/// retire now without waiting for it.
#[cfg(feature = "test-support")]
pub async fn set_end_for_test(db: &Db, key_id: &str, ends_at: i64) -> StoreResult<()> {
    sqlx::query("UPDATE client_keys SET ends_at = $2 WHERE id = $1")
        .bind(key_id)
        .bind(ends_at)
        .execute(db.pool())
        .await?;
    Ok(())
}
