//! Device sessions: every session a device holds on a broker, whichever way it was authenticated.
//! The embedded broker's connection tracker writes its connects and disconnects in batches; a
//! webhook claims a row when it lets a CONNECT in on an external broker, and that broker's events
//! say when the device goes offline. The Clients page reads them ("Connected"), and a revocation
//! reads them to know which MQTT client identifiers to close on an external broker.
//!
//! A broker holds one session per MQTT client identifier, so `(broker, mqtt_client_id)` is
//! unique: a row says which client row (organization and Client ID) owns that identifier there.

use super::{Db, StoreResult, client_keys, clients, devices, now_millis};
use crate::model::{ClientRef, DeviceId, LiveSession};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// A device connected to the embedded broker.
#[derive(Clone, Debug, PartialEq)]
pub struct Connected {
    /// The connection's own id (the broker makes one per connection).
    pub id: String,
    /// The broker target holding it (`embedded:NODE`).
    pub broker: String,
    pub owner: ClientRef,
    /// The MQTT client identifier the device chose.
    pub mqtt_client_id: String,
    /// The key it authenticated with.
    pub key_id: String,
    /// `ip:port` of the device.
    pub source: String,
    pub at: i64,
    /// The device it is, in connection form 3 (username = Client ID, client identifier = a device
    /// id), and its client's workspace: the device is recorded as seen (and created when new).
    pub device: Option<SeenDevice>,
}

/// A device a connection identified, in the workspace of the client it connected with.
#[derive(Clone, Debug, PartialEq)]
pub struct SeenDevice {
    pub workspace_id: String,
    pub device_id: DeviceId,
}

/// A device disconnected (or was disconnected) from the embedded broker.
#[derive(Clone, Debug, PartialEq)]
pub struct Disconnected {
    pub id: String,
    pub owner: ClientRef,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConnectionEvent {
    Connected(Connected),
    Disconnected(Disconnected),
}

/// Applies a batch of the embedded broker's events in one transaction, in order. The embedded
/// broker decided ownership itself before it let the device in, so a connect takes the
/// identifier's row whoever held it; a disconnect removes only its own connection's row. Events
/// for a client deleted meanwhile still record the session (its revocation closes it), and
/// replaying an event is harmless, so a batch never fails on either.
///
/// Every writer here locks in one order, device sessions, then devices, then clients, so that
/// two transactions (this batch and a webhook's [`claim`], say) never wait on each other in a
/// circle, which PostgreSQL ends by failing one of them: the batch writes its clients' "last seen"
/// last, once per client (it only moves forward, so the latest time is all that counts).
pub async fn apply(db: &Db, events: &[ConnectionEvent]) -> StoreResult<()> {
    let mut last_seen: BTreeMap<(&str, &str), (&ClientRef, i64)> = BTreeMap::new();
    let mut key_used: BTreeMap<&str, (i64, &str)> = BTreeMap::new();
    let mut tx = db.begin().await?;
    for event in events {
        let (owner, at) = match event {
            ConnectionEvent::Connected(c) => {
                sqlx::query(
                    "INSERT INTO device_sessions (id, broker, mqtt_client_id, client_id, organization_id, source, connected_at, key_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (broker, mqtt_client_id) DO UPDATE SET id = excluded.id,
                         client_id = excluded.client_id, organization_id = excluded.organization_id,
                         source = excluded.source, connected_at = excluded.connected_at,
                         disconnected_at = NULL, key_id = excluded.key_id",
                )
                .bind(&c.id)
                .bind(&c.broker)
                .bind(&c.mqtt_client_id)
                .bind(c.owner.client_id.as_str())
                .bind(&c.owner.organization_id)
                .bind(&c.source)
                .bind(c.at)
                .bind(&c.key_id)
                .execute(&mut *tx)
                .await?;
                key_used
                    .entry(c.key_id.as_str())
                    .and_modify(|used| {
                        if c.at >= used.0 {
                            *used = (c.at, c.source.as_str());
                        }
                    })
                    .or_insert((c.at, c.source.as_str()));
                if let Some(device) = &c.device {
                    devices::record_seen_in(
                        &mut tx,
                        &device.workspace_id,
                        &c.owner,
                        &device.device_id,
                        c.at,
                    )
                    .await?;
                }
                (&c.owner, c.at)
            }
            ConnectionEvent::Disconnected(d) => {
                sqlx::query("DELETE FROM device_sessions WHERE id = $1")
                    .bind(&d.id)
                    .execute(&mut *tx)
                    .await?;
                (&d.owner, d.at)
            }
        };
        last_seen
            .entry((owner.organization_id.as_str(), owner.client_id.as_str()))
            .and_modify(|(_, latest)| *latest = (*latest).max(at))
            .or_insert((owner, at));
    }
    for (owner, at) in last_seen.into_values() {
        clients::update_last_seen_in(&mut tx, owner, at).await?;
    }
    // Keys last, after their clients (see `client_keys`' lock order).
    for (key_id, (at, source)) in key_used {
        client_keys::record_use_in(&mut tx, key_id, at, source).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes every row of `broker` (an embedded broker's sessions ended with its process); how many.
pub async fn delete_for_broker(db: &Db, broker: &str) -> StoreResult<u64> {
    let mut conn = db.pool().acquire().await?;
    delete_for_broker_in(&mut conn, broker).await
}

/// [`delete_for_broker`] in the caller's transaction (the one that forgets the broker target).
pub(super) async fn delete_for_broker_in(
    conn: &mut AnyConnection,
    broker: &str,
) -> StoreResult<u64> {
    Ok(sqlx::query("DELETE FROM device_sessions WHERE broker = $1")
        .bind(broker)
        .execute(conn)
        .await?
        .rows_affected())
}

/// A session an external broker is about to open, as its webhook sees it.
#[derive(Clone, Debug)]
pub struct Claim<'a> {
    pub broker: &'a str,
    pub mqtt_client_id: &'a str,
    pub owner: &'a ClientRef,
    /// The key it authenticated with.
    pub key_id: &'a str,
    /// The device's address as the broker reported it (empty when it did not).
    pub source: &'a str,
    /// The device it is, in connection form 3: recorded as seen (and created when new).
    pub device: Option<&'a SeenDevice>,
}

/// What [`claim`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claimed {
    /// The identifier is the owner's on that broker now.
    Yes,
    /// Another client row holds the identifier there: letting the device in would let the broker
    /// take that client's session over.
    HeldByAnother,
    /// The owner holds `max_per_client` identifiers there, all of them connected.
    TooMany,
}

/// Claims `claim.mqtt_client_id` on `claim.broker` for `claim.owner`, in one transaction: free,
/// or already the owner's, it becomes (or stays) the owner's; another client row's, nothing
/// changes. A client keeps at most `max_per_client` identifiers per broker: beyond that its
/// oldest offline ones are forgotten, and when all of them are connected the claim is refused.
/// The conditional upsert is atomic on both engines, so two webhooks racing for one identifier
/// cannot both win it.
pub async fn claim(db: &Db, claim: &Claim<'_>, max_per_client: u32) -> StoreResult<Claimed> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    let taken = sqlx::query(
        "INSERT INTO device_sessions (id, broker, mqtt_client_id, client_id, organization_id, source, connected_at, key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (broker, mqtt_client_id) DO UPDATE SET
             source = excluded.source, connected_at = excluded.connected_at, disconnected_at = NULL,
             key_id = excluded.key_id
         WHERE device_sessions.client_id = excluded.client_id
           AND device_sessions.organization_id = excluded.organization_id",
    )
    .bind(super::new_id())
    .bind(claim.broker)
    .bind(claim.mqtt_client_id)
    .bind(claim.owner.client_id.as_str())
    .bind(&claim.owner.organization_id)
    .bind(claim.source)
    .bind(now)
    .bind(claim.key_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if taken == 0 {
        tx.rollback().await?;
        return Ok(Claimed::HeldByAnother);
    }
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM device_sessions WHERE broker = $1 AND client_id = $2 AND organization_id = $3",
    )
    .bind(claim.broker)
    .bind(claim.owner.client_id.as_str())
    .bind(&claim.owner.organization_id)
    .fetch_one(&mut *tx)
    .await?;
    let excess = held - i64::from(max_per_client.max(1));
    if excess > 0 {
        let forgotten = sqlx::query(
            "DELETE FROM device_sessions WHERE id IN (
                 SELECT id FROM device_sessions
                 WHERE broker = $1 AND client_id = $2 AND organization_id = $3
                   AND disconnected_at IS NOT NULL AND mqtt_client_id <> $4
                 ORDER BY disconnected_at, connected_at LIMIT $5)",
        )
        .bind(claim.broker)
        .bind(claim.owner.client_id.as_str())
        .bind(&claim.owner.organization_id)
        .bind(claim.mqtt_client_id)
        .bind(excess)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if (forgotten as i64) < excess {
            tx.rollback().await?;
            return Ok(Claimed::TooMany);
        }
    }
    // Devices before clients, as in `apply`.
    if let Some(device) = claim.device {
        devices::record_seen_in(
            &mut tx,
            &device.workspace_id,
            claim.owner,
            &device.device_id,
            now,
        )
        .await?;
    }
    clients::update_last_seen_in(&mut tx, claim.owner, now).await?;
    client_keys::record_use_in(&mut tx, claim.key_id, now, claim.source).await?;
    tx.commit().await?;
    Ok(Claimed::Yes)
}

/// What an external broker reported about one of its sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerEvent {
    /// The device is connected.
    Connected,
    /// The device went offline; its session may persist until it expires.
    Disconnected,
    /// The session is gone for good.
    Terminated,
}

/// Records what `broker` reported about the session of `mqtt_client_id` at `at` (Unix ms). A
/// broker's events can arrive late and out of order, so news older than the row's own claim is
/// ignored, and a session is forgotten only once it is offline: a "terminated" that comes after a
/// newer CONNECT of the same identifier leaves that newer session alone. How many rows changed.
pub async fn report(
    db: &Db,
    broker: &str,
    mqtt_client_id: &str,
    event: BrokerEvent,
    at: i64,
) -> StoreResult<u64> {
    let statement = match event {
        BrokerEvent::Connected => {
            "UPDATE device_sessions SET disconnected_at = NULL
             WHERE broker = $1 AND mqtt_client_id = $2 AND connected_at <= $3"
        }
        BrokerEvent::Disconnected => {
            "UPDATE device_sessions SET disconnected_at = $3
             WHERE broker = $1 AND mqtt_client_id = $2 AND connected_at <= $3"
        }
        BrokerEvent::Terminated => {
            "DELETE FROM device_sessions
             WHERE broker = $1 AND mqtt_client_id = $2 AND disconnected_at IS NOT NULL"
        }
    };
    let mut tx = db.begin().await?;
    let changed = sqlx::query(statement)
        .bind(broker)
        .bind(mqtt_client_id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if event != BrokerEvent::Terminated {
        clients::update_last_seen_by_session_in(&mut tx, broker, mqtt_client_id, at).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// The MQTT client identifiers `owner` holds on `broker`, connected or not, oldest first: what a
/// revocation must close there. With `key`, only the sessions that authenticated with that key.
pub async fn list_identifiers(
    db: &Db,
    broker: &str,
    owner: &ClientRef,
    key: Option<&str>,
) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT mqtt_client_id FROM device_sessions
         WHERE broker = $1 AND client_id = $2 AND organization_id = $3
           AND ($4 IS NULL OR key_id = $4)
         ORDER BY connected_at, mqtt_client_id",
    )
    .bind(broker)
    .bind(owner.client_id.as_str())
    .bind(&owner.organization_id)
    .bind(key)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get("mqtt_client_id")?))
        .collect()
}

/// Deletes the sessions of `owner` on `broker` that began before `before` (Unix ms): a
/// revocation made then has closed them. A session the device opened after the change (with its
/// regenerated key, say) stays.
pub async fn delete_closed(
    db: &Db,
    broker: &str,
    owner: &ClientRef,
    before: i64,
) -> StoreResult<u64> {
    Ok(sqlx::query(
        "DELETE FROM device_sessions
         WHERE broker = $1 AND client_id = $2 AND organization_id = $3 AND connected_at <= $4",
    )
    .bind(broker)
    .bind(owner.client_id.as_str())
    .bind(&owner.organization_id)
    .bind(before)
    .execute(db.pool())
    .await?
    .rows_affected())
}

/// A client's connected sessions on every broker, oldest first. Another organization's client has
/// none.
pub async fn list(db: &Db, owner: &ClientRef) -> StoreResult<Vec<LiveSession>> {
    let rows = sqlx::query(
        "SELECT s.broker, s.mqtt_client_id, s.source, s.connected_at, k.key_hash
         FROM device_sessions s LEFT JOIN client_keys k ON k.id = s.key_id
         WHERE s.client_id = $1 AND s.organization_id = $2 AND s.disconnected_at IS NULL
         ORDER BY s.connected_at, s.broker, s.mqtt_client_id",
    )
    .bind(owner.client_id.as_str())
    .bind(&owner.organization_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LiveSession {
                broker: r.try_get("broker")?,
                mqtt_client_id: r.try_get("mqtt_client_id")?,
                source: r.try_get("source")?,
                since: r.try_get("connected_at")?,
                key_fingerprint: r
                    .try_get::<Option<String>, _>("key_hash")?
                    .map(|hash| crate::secrets::fingerprint(&hash)),
            })
        })
        .collect()
}

/// Deletes the sessions of `owner` on `broker` with these identifiers, begun before `before` (Unix
/// ms): a revocation that closed only some of the client's sessions (those out of its scope) has
/// closed them.
pub async fn delete_identifiers(
    db: &Db,
    broker: &str,
    owner: &ClientRef,
    identifiers: &[String],
    before: i64,
) -> StoreResult<u64> {
    let mut deleted = 0;
    for identifier in identifiers {
        deleted += sqlx::query(
            "DELETE FROM device_sessions
             WHERE broker = $1 AND client_id = $2 AND organization_id = $3 AND mqtt_client_id = $4
               AND connected_at <= $5",
        )
        .bind(broker)
        .bind(owner.client_id.as_str())
        .bind(&owner.organization_id)
        .bind(identifier)
        .bind(before)
        .execute(db.pool())
        .await?
        .rows_affected();
    }
    Ok(deleted)
}
