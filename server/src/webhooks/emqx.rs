//! EMQX 5's HTTP authentication and authorization, the shape rmqtt's auth-http plugin speaks too.
//!
//! Authentication (`/webhooks/emqx/authn`) takes `clientid`, `username`, `password` and
//! `peerhost` (rmqtt: `ipaddr`) and answers `{"result": "allow" | "deny" | "ignore",
//! "is_superuser": false, "acl": [...], "expire_at": ...}`. The `acl` lets the broker enforce the
//! namespace itself, without asking again per message.
//!
//! Authorization (`/webhooks/emqx/authz`) takes `clientid`, `username`, `topic` and `action`
//! (`publish` / `subscribe`; rmqtt: `access` 2 / 1) and answers `{"result": "allow" | "deny"}`
//! (rmqtt's style, with `access`: the bare word).

use super::{Fields, Verdict, Webhooks};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct AuthnRequest {
    #[serde(default)]
    clientid: String,
    username: Option<String>,
    password: Option<String>,
    #[serde(alias = "ipaddr", alias = "ipaddress")]
    peerhost: Option<String>,
}

pub async fn authn(
    State(hooks): State<Arc<Webhooks>>,
    Fields(request): Fields<AuthnRequest>,
) -> Response {
    let verdict = hooks
        .connect(
            &request.clientid,
            request.username.as_deref(),
            request.password.as_deref(),
            request.peerhost.as_deref(),
        )
        .await;
    match verdict {
        Verdict::Allow(grant) => {
            let mut body = json!({
                "result": "allow",
                "is_superuser": false,
                // rmqtt's name for the same flag.
                "superuser": false,
                "acl": acl(&grant.namespace),
            });
            if let Some(at) = hooks.expire_at() {
                body["expire_at"] = json!(at);
            }
            Json(body).into_response()
        }
        Verdict::Deny => Json(json!({ "result": "deny", "is_superuser": false })).into_response(),
        Verdict::Unknown => {
            Json(json!({ "result": "ignore", "is_superuser": false })).into_response()
        }
        Verdict::Unavailable => unavailable(),
    }
}

/// The topic rule as an EMQX/rmqtt ACL: everything under the namespace, nothing else.
/// `NAMESPACE/#` also matches `NAMESPACE` itself.
fn acl(namespace: &str) -> Value {
    json!([
        { "permission": "allow", "action": "all", "topic": format!("{namespace}/#") },
        { "permission": "deny", "action": "all", "topic": "#" },
        { "permission": "deny", "action": "all", "topic": "$SYS/#" },
    ])
}

#[derive(Debug, Deserialize)]
pub struct AuthzRequest {
    #[serde(default)]
    clientid: String,
    username: Option<String>,
    #[serde(default)]
    topic: String,
    action: Option<String>,
    /// rmqtt: 1 = subscribe, 2 = publish.
    access: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Action {
    Publish,
    Subscribe,
}

pub async fn authz(
    State(hooks): State<Arc<Webhooks>>,
    Fields(request): Fields<AuthzRequest>,
) -> Response {
    let bare_word = request.access.is_some();
    let action = match (request.action.as_deref(), request.access.as_deref()) {
        (Some("publish"), _) | (None, Some("2")) => Action::Publish,
        (Some("subscribe"), _) | (None, Some("1")) => Action::Subscribe,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "error": "`action` must be publish or subscribe (or `access` 2 or 1)",
                })),
            )
                .into_response();
        }
    };
    let namespace = match hooks
        .namespace_of(request.username.as_deref(), &request.clientid)
        .await
    {
        Ok(namespace) => namespace,
        Err(e) => {
            tracing::warn!("webhook authorization undecided: {e}");
            return unavailable();
        }
    };
    let allowed = namespace.is_some_and(|ns| match action {
        Action::Publish => crate::device_auth::topics::may_publish(&ns, &request.topic),
        Action::Subscribe => crate::device_auth::topics::may_subscribe_raw(&ns, &request.topic),
    });
    if !allowed {
        tracing::debug!(client = %request.clientid, topic = %request.topic, "webhook authorization refused");
    }
    let result = if allowed { "allow" } else { "deny" };
    if bare_word {
        ([(header::CONTENT_TYPE, "text/plain")], result).into_response()
    } else {
        Json(json!({ "result": result })).into_response()
    }
}

/// EMQX and rmqtt treat a 5xx as "ignore" (or "deny", per their settings) and log it.
fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(
            json!({ "result": "ignore", "error": "Keygate cannot decide right now; see its log" }),
        ),
    )
        .into_response()
}
