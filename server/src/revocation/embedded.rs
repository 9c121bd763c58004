//! The embedded broker as a revocation target: its kick is in-process and closes every connection
//! of the client, whatever MQTT client identifiers they used.

use crate::broker::Broker;
use app::model::ClientId;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When the second kick follows the first. A CONNECT that read the client before the change and
/// completes after the first kick is refused or closed as it arrives (see `broker::hooks::Live`);
/// the second kick is the backstop for a connection the first could not close (its session was
/// locked mid-handshake).
const SECOND_KICK: Duration = Duration::from_millis(500);

pub async fn disconnect(broker: &Arc<Broker>, client_id: &str) -> Result<(), String> {
    let Ok(client) = ClientId::parse(client_id) else {
        // No such id can have a session; retrying would only block the queue behind it.
        tracing::error!(client_id, "an outbox row names an invalid Client ID");
        return Ok(());
    };
    // The change is committed by now. A CONNECT that begins later reads the changed client (a
    // regenerated key, an activation) and is left alone, by both kicks; one that began earlier
    // may hold the old key, and is closed whenever it arrives.
    let committed_by = Instant::now();
    let closed = broker.kick(&client, committed_by).await;
    if closed > 0 {
        tracing::info!(%client, "closed {closed} MQTT connection(s)");
    }
    let (broker, late) = (broker.clone(), client);
    tokio::spawn(async move {
        tokio::time::sleep(SECOND_KICK).await;
        let closed = broker.kick(&late, committed_by).await;
        if closed > 0 {
            tracing::info!(client = %late, "closed {closed} MQTT connection(s) on the second try");
        }
    });
    Ok(())
}
