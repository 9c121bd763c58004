//! The embedded broker as a revocation target: closing a client's sessions is in-process and
//! reaches every session of the client, online and offline, whatever MQTT client identifiers they
//! used. A revocation that only narrows access (a scope, topic rules) re-decides each session
//! instead: those out of scope close, the others lose the subscriptions no longer allowed.

use super::error::DeliveryError;
use crate::broker::Broker;
use app::model::{ClientRef, RevocationReason};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// When the second pass follows the first. A CONNECT that read the client before the change and
/// completes after the first pass is refused or closed as it arrives (see `broker::sessions`); the
/// second pass is the backstop for a session the first could not close (its session was locked
/// mid-handshake).
const SECOND_PASS: Duration = Duration::from_millis(500);

/// Delivers a revocation of `reason` that made `revision` of `client`; `key` names the key whose
/// sessions a retirement or an expiry ends.
pub async fn deliver(
    broker: &Arc<Broker>,
    client: ClientRef,
    revision: i64,
    reason: RevocationReason,
    key: Option<String>,
) -> Result<(), DeliveryError> {
    if reason.ends_every_session() {
        close_sessions(broker, client, None, revision).await;
        return Ok(());
    }
    if reason.ends_one_key() {
        // A row without its key cannot say which sessions: none is closed by mistake.
        if key.is_some() {
            close_sessions(broker, client, key, revision).await;
        }
        return Ok(());
    }
    let committed_by = Instant::now();
    let refreshed = broker
        .refresh_sessions(&client, committed_by, revision)
        .await?;
    if refreshed != Default::default() {
        tracing::info!(
            %client,
            "closed {} MQTT session(s) now out of scope, removed {} subscription(s) no longer allowed",
            refreshed.closed,
            refreshed.unsubscribed
        );
    }
    Ok(())
}

async fn close_sessions(
    broker: &Arc<Broker>,
    client: ClientRef,
    key: Option<String>,
    revision: i64,
) {
    // The change is committed by now. A CONNECT that begins later, or that read the client after
    // the change (a regenerated key, an activation: a later revision), is left alone by both
    // passes; one that began earlier and read it before may hold the old key, and is closed
    // whenever it arrives.
    let committed_by = Instant::now();
    let closed = broker
        .close_sessions(&client, key.as_deref(), committed_by, revision)
        .await;
    if closed > 0 {
        tracing::info!(%client, ?key, "closed {closed} MQTT session(s)");
    }
    let broker = broker.clone();
    tokio::spawn(
        async move {
            tokio::time::sleep(SECOND_PASS).await;
            let closed = broker
                .close_sessions(&client, key.as_deref(), committed_by, revision)
                .await;
            if closed > 0 {
                tracing::info!(%client, "closed {closed} MQTT session(s) on the second pass");
            }
        }
        // Its line belongs to the delivery that started it.
        .in_current_span(),
    );
}
