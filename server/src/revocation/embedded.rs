//! The embedded broker as a revocation target: its kick is in-process and closes every connection
//! of the client, whatever MQTT client identifiers they used.

use crate::broker::Broker;
use app::model::ClientId;
use std::sync::Arc;
use std::time::Duration;

/// When the second kick follows the first: a CONNECT whose key was verified just before the change
/// committed may finish after the first kick.
const SECOND_KICK: Duration = Duration::from_millis(500);

pub async fn disconnect(broker: &Arc<Broker>, client_id: &str) -> Result<(), String> {
    let Ok(client) = ClientId::parse(client_id) else {
        // No such id can have a session; retrying would only block the queue behind it.
        tracing::error!(client_id, "an outbox row names an invalid Client ID");
        return Ok(());
    };
    let closed = broker.kick(&client).await;
    if closed > 0 {
        tracing::info!(%client, "closed {closed} MQTT connection(s)");
    }
    let (broker, late) = (broker.clone(), client);
    tokio::spawn(async move {
        tokio::time::sleep(SECOND_KICK).await;
        broker.kick(&late).await;
    });
    Ok(())
}
