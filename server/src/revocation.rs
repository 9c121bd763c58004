//! The revocation worker: drains the outbox that regenerate, deactivate and delete write in the
//! transaction of the change, and makes the embedded broker honour each row. By the time a row is
//! read the change is committed, so new connects already fail; the worker forgets the client's
//! verified key, closes every live connection of the client, and closes them again a moment later
//! to catch a connect that was in flight. A row is marked done only after that, so rows survive a
//! restart and are delivered then.

use crate::broker::Broker;
use app::model::ClientId;
use app::store::{Db, outbox};
use app::verified_keys::VerifiedKeys;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often the outbox is read when nobody says there is something new.
const POLL: Duration = Duration::from_millis(500);
/// When the second kick follows the first.
const SECOND_KICK: Duration = Duration::from_millis(500);

pub async fn run(db: Db, verified: Arc<VerifiedKeys>, broker: Arc<Broker>, wake: Arc<Notify>) {
    loop {
        match outbox::list_pending(&db, 100).await {
            Ok(rows) => {
                for row in rows {
                    deliver(&db, &verified, &broker, &row).await;
                }
            }
            Err(e) => tracing::warn!("cannot read the revocation outbox: {e}"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn deliver(db: &Db, verified: &VerifiedKeys, broker: &Arc<Broker>, row: &outbox::OutboxRow) {
    verified.forget(&row.client_id);
    let Ok(client) = ClientId::parse(&row.client_id) else {
        tracing::error!(id = row.id, "an outbox row names an invalid Client ID");
        return;
    };
    let closed = broker.kick(&client).await;
    if closed > 0 {
        tracing::info!(%client, reason = %row.reason, "closed {closed} MQTT connection(s)");
    }
    let (broker, late) = (broker.clone(), client.clone());
    tokio::spawn(async move {
        tokio::time::sleep(SECOND_KICK).await;
        broker.kick(&late).await;
    });
    if let Err(e) = outbox::mark_done(db, row.id).await {
        tracing::warn!(
            id = row.id,
            "delivered a revocation but could not mark it: {e}"
        );
    }
}
