//! VerneMQ's webhooks (`vmq_webhooks`), all on one endpoint: VerneMQ names the hook in the
//! `vernemq-hook` header. `auth_on_register` decides a CONNECT; `auth_on_subscribe` answers per
//! topic (a refused one gets QoS 128, or 135 for MQTT 5); `auth_on_publish` allows or refuses.
//! The `_m5` variants take the same fields.

use super::{Verdict, Webhooks};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
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
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let name = headers
        .get("vernemq-hook")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let result = match name.as_str() {
        "auth_on_register" | "auth_on_register_m5" => register(&hooks, &body).await,
        "auth_on_subscribe" => subscribe(&hooks, &body, false).await,
        "auth_on_subscribe_m5" => subscribe(&hooks, &body, true).await,
        "auth_on_publish" | "auth_on_publish_m5" => publish(&hooks, &body).await,
        "" => Err(bad("the `vernemq-hook` header is missing".into())),
        other => Err(bad(format!(
            "Keygate answers auth_on_register, auth_on_subscribe and auth_on_publish (and their _m5 forms), not {other}"
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
    /// Keygate's store failed: 503, so VerneMQ logs it instead of taking it as a verdict.
    Unavailable,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Bad(message) => {
                (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
            }
            Failure::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "Keygate cannot decide right now; see its log" })),
            )
                .into_response(),
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

async fn register(hooks: &Webhooks, body: &[u8]) -> Result<Value, Failure> {
    let request: Register = parse(body)?;
    match hooks
        .connect(
            &request.client_id,
            request.username.as_deref(),
            request.password.as_deref(),
            request.peer_addr.as_deref(),
        )
        .await
    {
        Verdict::Allow(_) => Ok(json!({ "result": "ok" })),
        Verdict::Deny => Ok(not_allowed()),
        Verdict::Unknown => Ok(json!({ "result": "next" })),
        Verdict::Unavailable => Err(Failure::Unavailable),
    }
}

async fn subscribe(hooks: &Webhooks, body: &[u8], mqtt5: bool) -> Result<Value, Failure> {
    let request: Subscribe = parse(body)?;
    let Some(namespace) = namespace(hooks, request.username.as_deref(), &request.client_id).await?
    else {
        return Ok(not_allowed());
    };
    let verdicts: Vec<bool> = request
        .topics
        .iter()
        .map(|t| crate::device_auth::topics::may_subscribe_raw(&namespace, &t.topic))
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
    let allowed = namespace(hooks, request.username.as_deref(), &request.client_id)
        .await?
        .is_some_and(|ns| crate::device_auth::topics::may_publish(&ns, &request.topic));
    Ok(if allowed {
        json!({ "result": "ok" })
    } else {
        not_allowed()
    })
}

async fn namespace(
    hooks: &Webhooks,
    username: Option<&str>,
    client_id: &str,
) -> Result<Option<String>, Failure> {
    hooks.namespace_of(username, client_id).await.map_err(|e| {
        tracing::warn!("webhook authorization undecided: {e}");
        Failure::Unavailable
    })
}
