//! TEMPORARY local stand-in until the tracking-ui branch lands (not committed).
use super::{Db, StoreResult};
use crate::model::ClientId;
pub struct Connected {
    pub id: String,
    pub client_id: ClientId,
    pub node: String,
    pub mqtt_client_id: String,
    pub source: String,
    pub at: i64,
}
pub struct Disconnected {
    pub id: String,
    pub client_id: ClientId,
    pub at: i64,
}
pub enum ConnectionEvent {
    Connected(Connected),
    Disconnected(Disconnected),
}
pub async fn apply(db: &Db, events: &[ConnectionEvent]) -> StoreResult<()> {
    let mut tx = db.pool().begin().await?;
    for e in events {
        match e {
            ConnectionEvent::Connected(c) => {
                sqlx::query("UPDATE clients SET last_seen_at = $1 WHERE client_id = $2")
                    .bind(c.at)
                    .bind(c.client_id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            ConnectionEvent::Disconnected(d) => {
                sqlx::query("UPDATE clients SET last_seen_at = $1 WHERE client_id = $2")
                    .bind(d.at)
                    .bind(d.client_id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}
pub async fn clear_node(_db: &Db, _node: &str) -> StoreResult<u64> {
    Ok(0)
}
