//! The embedded broker as a revocation target: closing a client's sessions is in-process and
//! reaches every session of the client, online and offline, whatever MQTT client identifiers they
//! used.

use crate::broker::Broker;
use app::model::ClientRef;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// When the second pass follows the first. A CONNECT that read the client before the change and
/// completes after the first pass is refused or closed as it arrives (see `broker::sessions`); the
/// second pass is the backstop for a session the first could not close (its session was locked
/// mid-handshake).
const SECOND_PASS: Duration = Duration::from_millis(500);

pub async fn close_sessions(broker: &Arc<Broker>, client: ClientRef, revision: i64) {
    // The change is committed by now. A CONNECT that begins later, or that read the client after
    // the change (a regenerated key, an activation: a later revision), is left alone by both
    // passes; one that began earlier and read it before may hold the old key, and is closed
    // whenever it arrives.
    let committed_by = Instant::now();
    let closed = broker.close_sessions(&client, committed_by, revision).await;
    if closed > 0 {
        tracing::info!(%client, "closed {closed} MQTT session(s)");
    }
    let broker = broker.clone();
    tokio::spawn(
        async move {
            tokio::time::sleep(SECOND_PASS).await;
            let closed = broker.close_sessions(&client, committed_by, revision).await;
            if closed > 0 {
                tracing::info!(%client, "closed {closed} MQTT session(s) on the second pass");
            }
        }
        // Its line belongs to the delivery that started it.
        .in_current_span(),
    );
}
