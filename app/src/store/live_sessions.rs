//! Live sessions: the MQTT connections each client has right now, and when it was last seen.
//! The embedded broker's connection tracker writes them in batches; the Clients page reads them.

use super::{Db, StoreResult};
use crate::model::{ClientId, LiveSession};
use sqlx::Row;

/// A device connected.
#[derive(Clone, Debug, PartialEq)]
pub struct Connected {
    /// The connection's own id (the broker makes one per connection).
    pub id: String,
    pub client_id: ClientId,
    /// The Keygate process whose broker holds the connection.
    pub node: String,
    /// The MQTT client identifier the device chose.
    pub mqtt_client_id: String,
    /// `ip:port` of the device.
    pub source: String,
    pub at: i64,
}

/// A device disconnected (or was disconnected).
#[derive(Clone, Debug, PartialEq)]
pub struct Disconnected {
    pub id: String,
    pub client_id: ClientId,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConnectionEvent {
    Connected(Connected),
    Disconnected(Disconnected),
}

/// Applies a batch of events in one transaction, in order. Events for a client deleted meanwhile
/// change nothing, and replaying an event is harmless, so a batch never fails on either.
pub async fn apply(db: &Db, events: &[ConnectionEvent]) -> StoreResult<()> {
    let mut tx = db.pool().begin().await?;
    for event in events {
        let (client_id, at) = match event {
            ConnectionEvent::Connected(c) => {
                sqlx::query(
                    "INSERT INTO live_sessions (id, client_id, node, mqtt_client_id, source, connected_at)
                     SELECT $1, client_id, $3, $4, $5, $6 FROM clients WHERE client_id = $2
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(&c.id)
                .bind(c.client_id.as_str())
                .bind(&c.node)
                .bind(&c.mqtt_client_id)
                .bind(&c.source)
                .bind(c.at)
                .execute(&mut *tx)
                .await?;
                (&c.client_id, c.at)
            }
            ConnectionEvent::Disconnected(d) => {
                sqlx::query("DELETE FROM live_sessions WHERE id = $1")
                    .bind(&d.id)
                    .execute(&mut *tx)
                    .await?;
                (&d.client_id, d.at)
            }
        };
        // Last seen only moves forward, whatever order two nodes' batches land in.
        sqlx::query(
            "UPDATE clients SET last_seen_at = $1
             WHERE client_id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)",
        )
        .bind(at)
        .bind(client_id.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the rows an earlier run of `node` left behind (its connections ended with it).
pub async fn clear_node(db: &Db, node: &str) -> StoreResult<u64> {
    Ok(sqlx::query("DELETE FROM live_sessions WHERE node = $1")
        .bind(node)
        .execute(db.pool())
        .await?
        .rows_affected())
}

/// A client's live sessions, oldest first. Another organization's client has none.
pub async fn list(
    db: &Db,
    organization_id: &str,
    client_id: &ClientId,
) -> StoreResult<Vec<LiveSession>> {
    let rows = sqlx::query(
        "SELECT s.mqtt_client_id, s.source, s.connected_at FROM live_sessions s
         JOIN clients c ON c.client_id = s.client_id
         WHERE s.client_id = $1 AND c.organization_id = $2
         ORDER BY s.connected_at, s.id",
    )
    .bind(client_id.as_str())
    .bind(organization_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LiveSession {
                mqtt_client_id: r.try_get("mqtt_client_id")?,
                source: r.try_get("source")?,
                since: r.try_get("connected_at")?,
            })
        })
        .collect()
}
