//! Connects and disconnects, written to the store in batches: a connect storm becomes a few
//! transactions instead of one per device, and the broker never waits on the database to let a
//! device in.

use crate::device_auth::Grant;
use app::model::ClientRef;
use app::store::Db;
use app::store::device_sessions::{self, Connected, ConnectionEvent, Disconnected};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events written in one transaction, at most.
const BATCH: usize = 512;

#[derive(Clone, Debug)]
pub struct Tracker {
    /// The broker target the sessions are on (`embedded:NODE`).
    broker: String,
    tx: mpsc::UnboundedSender<ConnectionEvent>,
}

impl Tracker {
    /// Clears what an earlier run of this broker left behind, then starts the writer. The writer
    /// ends once every `Tracker` clone is dropped and the queue is written.
    pub async fn start(
        db: Db,
        broker: String,
    ) -> Result<(Self, JoinHandle<()>), app::store::StoreError> {
        let stale = device_sessions::delete_for_broker(&db, &broker).await?;
        if stale > 0 {
            tracing::info!("cleared {stale} device sessions left by an earlier run of {broker}");
        }
        let (tx, rx) = mpsc::unbounded_channel();
        Ok((Self { broker, tx }, tokio::spawn(write(db, rx))))
    }

    /// A session `grant` let in is connected, with `mqtt_client_id`, from `source`.
    pub fn connected(
        &self,
        connection_id: &str,
        grant: &Grant,
        mqtt_client_id: &str,
        source: Option<SocketAddr>,
    ) {
        self.send(ConnectionEvent::Connected(Connected {
            id: connection_id.to_owned(),
            broker: self.broker.clone(),
            owner: grant.client.clone(),
            mqtt_client_id: mqtt_client_id.to_owned(),
            key_id: grant.key_id.clone(),
            source: source.map(|a| a.to_string()).unwrap_or_default(),
            at: app::store::now_millis(),
            device: grant.seen_device(),
        }));
    }

    pub fn disconnected(&self, connection_id: &str, owner: &ClientRef) {
        self.send(ConnectionEvent::Disconnected(Disconnected {
            id: connection_id.to_owned(),
            owner: owner.clone(),
            at: app::store::now_millis(),
        }));
    }

    fn send(&self, event: ConnectionEvent) {
        if self.tx.send(event).is_err() {
            tracing::warn!("connection tracking has stopped; an event was not recorded");
        }
    }
}

async fn write(db: Db, mut rx: mpsc::UnboundedReceiver<ConnectionEvent>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        // One retry after a pause rides out a briefly locked or restarting database; after that
        // the batch is logged and dropped rather than holding up every later event.
        if let Err(e) = device_sessions::apply(&db, &batch).await {
            tracing::warn!(
                "recording {} connection events failed, retrying: {e}",
                batch.len()
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Err(e) = device_sessions::apply(&db, &batch).await {
                tracing::error!("dropped {} connection events: {e}", batch.len());
            }
        }
        batch.clear();
    }
}
