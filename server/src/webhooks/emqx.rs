//! EMQX 5's HTTP authentication and authorization, the shape rmqtt's auth-http plugin speaks too.
//!
//! Authentication (`/webhooks/emqx/authn`) takes `clientid`, `username`, `password` and
//! `peerhost` (rmqtt: `ipaddr`) and answers `{"result": "allow" | "deny" | "ignore",
//! "is_superuser": false, "acl": [...], "expire_at": ...}`. For a client with neither a scope nor
//! topic rules, the `acl` lets the broker enforce the namespace itself, without asking again per
//! message; any other client's messages are authorized here, one by one.
//!
//! Authorization (`/webhooks/emqx/authz`) takes `clientid`, `username`, `topic` and `action`
//! (`publish` / `subscribe`; rmqtt: `access` 2 / 1) and answers `{"result": "allow" | "deny"}`
//! (rmqtt's style, with `access`: the bare word).

use super::{Broker, Fields, Webhooks, unavailable};
use crate::device_auth::{Access, Grant, Outcome, Protocol, Report};
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
    /// rmqtt's `%r` (the protocol level: 4 or 5); EMQX's `${proto_ver}` if configured.
    #[serde(alias = "proto_ver")]
    protocol: Option<String>,
}

pub async fn authn(
    State(hooks): State<Arc<Webhooks>>,
    Broker(broker): Broker,
    Fields(request): Fields<AuthnRequest>,
) -> Response {
    let protocol = request
        .protocol
        .as_deref()
        .and_then(|p| p.trim().parse::<u8>().ok())
        .map_or(Protocol::Unknown, Protocol::from_level);
    let decided = hooks
        .connect(
            broker,
            Report::from_webhook(
                request.username.as_deref(),
                &request.clientid,
                request.password.as_deref(),
                request.peerhost.as_deref(),
                protocol,
            ),
        )
        .await;
    let grant = decided.as_ref().ok();
    // A key that ends sooner than the session limit ends the session then: the broker itself
    // closes it at that moment, besides the revocation Keygate sends.
    let key_end = grant
        .and_then(|g| g.key_ends_at)
        .map(|ms| (ms.max(0) / 1000) as u64);
    let expire_at = match (hooks.expire_at(), key_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    authn_answer(Outcome::of(&decided), grant, expire_at)
}

/// An outcome as EMQX 5 and rmqtt's auth-http plugin take it. A wrong key, or the right key of a
/// client that may not connect, is `deny`; a Client ID that does not exist is `ignore`, so the
/// broker can ask its next authenticator (its own operators' accounts); Keygate unable to decide
/// is a 503, which both brokers log and treat as `ignore`.
pub fn authn_answer(outcome: Outcome, grant: Option<&Grant>, expire_at: Option<u64>) -> Response {
    let result = match outcome {
        Outcome::Allowed => "allow",
        Outcome::BadCredentials | Outcome::NotAuthorized | Outcome::IdentifierRejected => "deny",
        Outcome::UnknownClient => "ignore",
        Outcome::Busy | Outcome::Unavailable => return unavailable(),
    };
    let mut body = json!({ "result": result, "is_superuser": false });
    if let Some(grant) = grant.filter(|_| outcome == Outcome::Allowed) {
        // rmqtt's name for the same flag.
        body["superuser"] = json!(false);
        // The namespace alone is a rule the broker can hold; a scope or topic rules are decided
        // here, per message, through authorization, so they stay one rule and follow changes.
        if grant.is_namespace_only() {
            body["acl"] = acl(&grant.namespace);
        }
        if let Some(at) = expire_at {
            body["expire_at"] = json!(at);
        }
    }
    Json(body).into_response()
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

pub async fn authz(
    State(hooks): State<Arc<Webhooks>>,
    Fields(request): Fields<AuthzRequest>,
) -> Response {
    let bare_word = request.access.is_some();
    let access = match (request.action.as_deref(), request.access.as_deref()) {
        (Some("publish"), _) | (None, Some("2")) => Access::Publish,
        (Some("subscribe"), _) | (None, Some("1")) => Access::Subscribe,
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
    let allowed = match hooks
        .grant(request.username.as_deref(), &request.clientid)
        .await
    {
        Ok(grant) => grant.is_some_and(|g| g.allows(access, &request.topic)),
        Err(response) => return response,
    };
    if !allowed {
        tracing::debug!(identifier = ?request.clientid, topic = ?request.topic, ?access, "webhook authorization refused");
    }
    let result = if allowed { "allow" } else { "deny" };
    if bare_word {
        ([(header::CONTENT_TYPE, "text/plain")], result).into_response()
    } else {
        Json(json!({ "result": result })).into_response()
    }
}
