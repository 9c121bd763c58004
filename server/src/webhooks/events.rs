//! Session events from external brokers (`/webhooks/events?broker=NAME`): a device connected,
//! went offline, or its session ended. They keep the device-session record of a webhook-
//! authenticated device true, so the Clients page shows it as Connected while it is, and its
//! identifiers stop counting against its client's limit once its session is gone.
//!
//! Two shapes, one JSON body each:
//!
//! - rmqtt's web-hook plugin: `{"action": "client_connected" | "client_disconnected" |
//!   "session_terminated", "clientid": ...}`;
//! - EMQX 5 webhook rules (`SELECT * FROM "$events/client_connected", "$events/client_disconnected"`):
//!   `{"event": "client.connected" | "client.disconnected", "clientid": ...}`.
//!
//! Any other event is acknowledged and ignored, so a broker told to send everything does not retry
//! it. VerneMQ's events come through its own hook endpoint ([`super::vernemq`]).

use super::{Broker, Webhooks, bad_request, unavailable};
use app::store::StoreError;
use app::store::device_sessions::{self, BrokerEvent};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct EventRequest {
    /// rmqtt's name for the event.
    action: Option<String>,
    /// EMQX's.
    event: Option<String>,
    #[serde(alias = "client_id")]
    clientid: Option<String>,
}

fn kind(name: &str) -> Option<BrokerEvent> {
    match name {
        "client_connected" | "client.connected" => Some(BrokerEvent::Connected),
        "client_disconnected" | "client.disconnected" => Some(BrokerEvent::Disconnected),
        "session_terminated" | "session.terminated" => Some(BrokerEvent::Terminated),
        _ => None,
    }
}

pub async fn event(
    State(hooks): State<Arc<Webhooks>>,
    Broker(broker): Broker,
    body: axum::body::Bytes,
) -> Response {
    let request: EventRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return bad_request(format!(
                "the event is not JSON as rmqtt or EMQX send it: {e}"
            ));
        }
    };
    let Some(name) = request.action.as_deref().or(request.event.as_deref()) else {
        return bad_request("the event names no `action` (rmqtt) or `event` (EMQX)".into());
    };
    let Some(kind) = kind(name) else {
        return Json(json!({ "result": "ignored" })).into_response();
    };
    let Some(identifier) = request.clientid.as_deref().filter(|c| !c.is_empty()) else {
        return bad_request("the event names no `clientid`".into());
    };
    match record(&hooks, &broker, identifier, kind).await {
        Ok(()) => Json(json!({ "result": "ok" })).into_response(),
        Err(_) => unavailable(),
    }
}

/// Records what `broker` said about the session of `identifier`, at the moment it arrived: the
/// brokers' clocks are not Keygate's.
#[tracing::instrument(name = "session_event", skip_all, fields(%broker, identifier = ?identifier, ?kind))]
pub async fn record(
    hooks: &Webhooks,
    broker: &str,
    identifier: &str,
    kind: BrokerEvent,
) -> Result<(), StoreError> {
    let at = app::store::now_millis();
    device_sessions::report(hooks.auth.db(), broker, identifier, kind, at)
        .await
        .map(|_| ())
        .inspect_err(|e| tracing::warn!("could not record a broker's session event: {e}"))
}
