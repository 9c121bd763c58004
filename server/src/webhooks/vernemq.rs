//! VerneMQ's webhooks (`vmq_webhooks`), all on one endpoint: VerneMQ names the hook in the
//! `vernemq-hook` header. `auth_on_register` decides a CONNECT; `auth_on_subscribe` answers per
//! topic (a refused one gets QoS 128, or 135 for MQTT 5); `auth_on_publish` allows or refuses.
//! The `_m5` variants take the same fields. The events `on_register` (connected),
//! `on_client_offline` and `on_client_gone` keep the device's session record.

use super::{Broker, Webhooks, bad_request, unavailable};
use crate::device_auth::{Access, Grant, Outcome, Protocol, Report};
use app::store::device_sessions::BrokerEvent;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
struct Register {
    client_id: String,
    username: Option<String>,
    password: Option<String>,
    peer_addr: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Event {
    client_id: String,
}

#[derive(Debug, Deserialize)]
struct Subscribe {
    client_id: String,
    username: Option<String>,
    topics: Vec<TopicQos>,
}

#[derive(Debug, Deserialize)]
struct TopicQos {
    topic: String,
    qos: u8,
}

#[derive(Debug, Deserialize)]
struct Publish {
    client_id: String,
    username: Option<String>,
    topic: String,
}

pub async fn hook(
    State(hooks): State<Arc<Webhooks>>,
    Broker(broker): Broker,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let name = headers
        .get("vernemq-hook")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let result = match name.as_str() {
        "auth_on_register" => register(&hooks, broker, &body, Protocol::V3).await,
        "auth_on_register_m5" => register(&hooks, broker, &body, Protocol::V5).await,
        "on_register" | "on_register_m5" => {
            event(&hooks, broker, &body, BrokerEvent::Connected).await
        }
        "on_client_offline" => event(&hooks, broker, &body, BrokerEvent::Disconnected).await,
        "on_client_gone" => event(&hooks, broker, &body, BrokerEvent::Terminated).await,
        "auth_on_subscribe" => subscribe(&hooks, &body, false).await,
        "auth_on_subscribe_m5" => subscribe(&hooks, &body, true).await,
        "auth_on_publish" | "auth_on_publish_m5" => publish(&hooks, &body).await,
        "" => Err(bad("the `vernemq-hook` header is missing".into())),
        other => Err(bad(format!(
            "Keygate answers auth_on_register, auth_on_subscribe, auth_on_publish (and their _m5 forms), on_register, on_client_offline and on_client_gone, not {other}"
        ))),
    };
    match result {
        Ok(value) => Json(value).into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// A hook Keygate could not answer.
enum Failure {
    /// Not a request VerneMQ sends: 400 with the reason.
    Bad(String),
    /// Keygate cannot decide (busy, or its store failed): 503, so VerneMQ logs it instead of
    /// taking it as a verdict.
    Unavailable,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Bad(message) => bad_request(message),
            Failure::Unavailable => unavailable(),
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body)
        .map_err(|e| Failure::Bad(format!("the request body is not what VerneMQ sends: {e}")))
}

fn bad(message: String) -> Failure {
    Failure::Bad(message)
}

fn not_allowed() -> Value {
    json!({ "result": { "error": "not_allowed" } })
}

async fn register(
    hooks: &Webhooks,
    broker: String,
    body: &[u8],
    protocol: Protocol,
) -> Result<Value, Failure> {
    let request: Register = parse(body)?;
    let decided = hooks
        .connect(
            broker,
            Report::from_webhook(
                request.username.as_deref(),
                &request.client_id,
                request.password.as_deref(),
                request.peer_addr.as_deref(),
                protocol,
            ),
        )
        .await;
    register_answer(Outcome::of(&decided))
}

/// An outcome as VerneMQ's `auth_on_register` takes it: `ok`, `not_allowed`, or `next` for a
/// Client ID that does not exist (VerneMQ asks its next plugin); Keygate unable to decide is a
/// 503, which VerneMQ logs as an error.
fn register_answer(outcome: Outcome) -> Result<Value, Failure> {
    match outcome {
        Outcome::Allowed => Ok(json!({ "result": "ok" })),
        Outcome::BadCredentials | Outcome::NotAuthorized | Outcome::IdentifierRejected => {
            Ok(not_allowed())
        }
        Outcome::UnknownClient => Ok(json!({ "result": "next" })),
        Outcome::Busy | Outcome::Unavailable => Err(Failure::Unavailable),
    }
}

async fn event(
    hooks: &Webhooks,
    broker: String,
    body: &[u8],
    kind: BrokerEvent,
) -> Result<Value, Failure> {
    let request: Event = parse(body)?;
    super::events::record(hooks, &broker, &request.client_id, kind)
        .await
        .map_err(|_| Failure::Unavailable)?;
    Ok(json!({ "result": "ok" }))
}

async fn subscribe(hooks: &Webhooks, body: &[u8], mqtt5: bool) -> Result<Value, Failure> {
    let request: Subscribe = parse(body)?;
    let Some(grant) = grant(hooks, request.username.as_deref(), &request.client_id).await? else {
        return Ok(not_allowed());
    };
    let verdicts: Vec<bool> = request
        .topics
        .iter()
        .map(|t| grant.allows(Access::Subscribe, &t.topic))
        .collect();
    if verdicts.iter().all(|ok| *ok) {
        return Ok(json!({ "result": "ok" }));
    }
    // 128 is "refused" in MQTT 3.1.1's SUBACK; MQTT 5 says why: 135, not authorized.
    let refused = if mqtt5 { 135 } else { 128 };
    let topics: Vec<Value> = request
        .topics
        .iter()
        .zip(&verdicts)
        .map(|(t, ok)| json!({ "topic": t.topic, "qos": if *ok { t.qos } else { refused } }))
        .collect();
    Ok(if mqtt5 {
        json!({ "result": "ok", "modifiers": { "topics": topics } })
    } else {
        json!({ "result": "ok", "topics": topics })
    })
}

async fn publish(hooks: &Webhooks, body: &[u8]) -> Result<Value, Failure> {
    let request: Publish = parse(body)?;
    let allowed = grant(hooks, request.username.as_deref(), &request.client_id)
        .await?
        .is_some_and(|g| g.allows(Access::Publish, &request.topic));
    Ok(if allowed {
        json!({ "result": "ok" })
    } else {
        not_allowed()
    })
}

async fn grant(
    hooks: &Webhooks,
    username: Option<&str>,
    client_id: &str,
) -> Result<Option<Grant>, Failure> {
    hooks
        .grant(username, client_id)
        .await
        .map_err(|_| Failure::Unavailable)
}
