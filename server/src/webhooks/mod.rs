//! Webhooks that let an external, possibly clustered broker use Keygate's credentials: the
//! broker asks, per CONNECT, SUBSCRIBE and PUBLISH, and Keygate answers with the decisions of
//! `device_auth`, exactly as its embedded broker does. The broker's session events keep the
//! Clients page's "Connected" true for webhook-authenticated devices too.
//!
//! - [`emqx`]: EMQX 5's HTTP authentication and authorization (also rmqtt's auth-http plugin);
//! - [`vernemq`]: VerneMQ's `auth_on_register`, `auth_on_subscribe`, `auth_on_publish`, and its
//!   `on_register`, `on_client_offline` and `on_client_gone` events;
//! - [`events`]: session events from rmqtt's web-hook plugin and EMQX's webhook rules.
//!
//! Every request must carry the shared secret (`--webhook-secret`): as a bearer token, or as the
//! password of HTTP Basic (what a URL's `user:secret@` sends). Without a configured secret the
//! routes do not exist. A request says which broker sent it with `?broker=NAME`, the broker
//! target's name (see [`Webhooks::broker`]).

pub mod emqx;
pub mod events;
pub mod vernemq;

use crate::config::WebhookSecret;
use crate::device_auth::sessions::StoreSessions;
use crate::device_auth::{Attempt, DeviceAuth, Grant, Refusal, Report};
use crate::telemetry::metrics::{ConnectPath, Metrics};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The broker name sessions are recorded under when no external broker target is configured:
/// they count as Connected, but no revocation can close them on their broker.
pub const UNNAMED_BROKER: &str = "webhooks";

/// What the webhook handlers share.
pub struct Webhooks {
    pub auth: Arc<DeviceAuth>,
    pub secret: WebhookSecret,
    /// When set, external brokers are told to end a session this long after its CONNECT.
    pub session_max: Option<Duration>,
    /// The external broker targets' names: the brokers that may call.
    pub brokers: Vec<String>,
    /// Where logins are counted.
    pub metrics: Metrics,
}

/// Which broker a request came from could not be told.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UnknownBroker {
    #[error("no broker target is named {0:?}; the configured ones are: {1}")]
    NotConfigured(String, String),
    #[error("several broker targets are configured ({0}): add ?broker=NAME to the webhook URL")]
    Ambiguous(String),
}

impl IntoResponse for UnknownBroker {
    fn into_response(self) -> Response {
        bad_request(self.to_string())
    }
}

impl Webhooks {
    /// The broker target a request came from: `?broker=NAME` when given (it must be configured);
    /// otherwise the one external target, or [`UNNAMED_BROKER`] when there is none.
    pub fn broker(&self, named: Option<&str>) -> Result<String, UnknownBroker> {
        pick_broker(named, &self.brokers)
    }

    /// Decides a CONNECT that `broker` asks about, and claims its identifier there.
    #[tracing::instrument(name = "webhook_connect", skip_all, fields(%broker))]
    pub async fn connect(&self, broker: String, report: Report<'_>) -> Result<Grant, Refusal> {
        let attempt = Attempt::new(report);
        let sessions = StoreSessions {
            db: self.auth.db().clone(),
            broker,
        };
        let decided = self.auth.authenticate(&attempt, &sessions).await;
        self.metrics.device_connect(ConnectPath::Webhook, &decided);
        if let Err(refusal) = &decided {
            if refusal.outcome().is_error() {
                tracing::warn!(identifier = ?attempt.client_identifier, "webhook login undecided: {refusal}");
            } else {
                tracing::info!(identifier = ?attempt.client_identifier, source = ?attempt.source, "webhook login refused: {refusal}");
            }
        }
        decided
    }

    /// What the session's client may do, if it is still an active client; `Err` (a 503) when
    /// Keygate cannot decide.
    pub async fn grant(
        &self,
        username: Option<&str>,
        client_identifier: &str,
    ) -> Result<Option<Grant>, Response> {
        self.auth
            .grant(username.filter(|u| !u.is_empty()), client_identifier)
            .await
            .map_err(|e| {
                tracing::warn!("webhook authorization undecided: {e}");
                unavailable()
            })
    }

    /// When a session authenticated now must end, in Unix seconds.
    pub fn expire_at(&self) -> Option<u64> {
        self.session_max.map(|max| {
            (std::time::SystemTime::now() + max)
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default()
        })
    }
}

/// [`Webhooks::broker`], given the configured external targets.
fn pick_broker(named: Option<&str>, brokers: &[String]) -> Result<String, UnknownBroker> {
    let list = || {
        if brokers.is_empty() {
            "none".to_owned()
        } else {
            brokers.join(", ")
        }
    };
    match (named.filter(|n| !n.is_empty()), brokers) {
        (Some(name), brokers) if brokers.iter().any(|b| b == name) => Ok(name.to_owned()),
        (Some(name), []) if name == UNNAMED_BROKER => Ok(name.to_owned()),
        (Some(name), _) => Err(UnknownBroker::NotConfigured(name.to_owned(), list())),
        (None, []) => Ok(UNNAMED_BROKER.to_owned()),
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(UnknownBroker::Ambiguous(list())),
    }
}

/// `?broker=NAME` on any webhook URL.
#[derive(Debug, Default, serde::Deserialize)]
struct BrokerParam {
    broker: Option<String>,
}

/// The broker target a webhook request came from ([`Webhooks::broker`]), taken from its URL; a
/// request that cannot say which is answered 400 with the reason before its handler runs.
pub struct Broker(pub String);

impl axum::extract::FromRequestParts<Arc<Webhooks>> for Broker {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        hooks: &Arc<Webhooks>,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(param) =
            axum::extract::Query::<BrokerParam>::try_from_uri(&parts.uri)
                .map_err(|e| bad_request(e.body_text()))?;
        hooks
            .broker(param.broker.as_deref())
            .map(Broker)
            .map_err(IntoResponse::into_response)
    }
}

/// A 400 with the reason, for a request no broker sends.
pub fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

/// A 503: Keygate could not decide (busy, or its store failed). Brokers log it and treat it as
/// "ignore" (EMQX, rmqtt) or an error (VerneMQ), never as a verdict; `Retry-After` says when to
/// try again.
pub fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        axum::Json(serde_json::json!({
            "result": "ignore",
            "error": "Keygate cannot decide right now; see its log",
        })),
    )
        .into_response()
}

/// The webhook routes, each behind the shared-secret check.
pub fn router(hooks: Arc<Webhooks>) -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route("/webhooks/emqx/authn", get(emqx::authn).post(emqx::authn))
        .route("/webhooks/emqx/authz", get(emqx::authz).post(emqx::authz))
        .route("/webhooks/vernemq", post(vernemq::hook))
        .route("/webhooks/events", post(events::event))
        .layer(axum::middleware::from_fn_with_state(
            hooks.clone(),
            require_secret,
        ))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(hooks)
}

async fn require_secret(
    State(hooks): State<Arc<Webhooks>>,
    request: Request,
    next: Next,
) -> Response {
    if presented_secret(request.headers()).is_some_and(|s| {
        bool::from(
            s.as_bytes()
                .ct_eq(hooks.secret.0.expose_secret().as_bytes()),
        )
    }) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a webhook call without the right secret");
    let mut response = (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({
            "error": "this webhook needs Keygate's webhook secret, as `Authorization: Bearer SECRET` or as the password of HTTP Basic",
        })),
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"keygate-webhooks\""),
    );
    response
}

/// The secret from `Authorization: Bearer S` or `Authorization: Basic base64(user:S)`.
fn presented_secret(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        return decoded.split_once(':').map(|(_, s)| s.to_owned());
    }
    None
}

/// A request's fields wherever the broker put them: the query string of a GET, or a JSON or
/// form-encoded body (EMQX and rmqtt let the operator choose).
pub struct Fields<T>(pub T);

impl<S, T> FromRequest<S> for Fields<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bad = bad_request;
        if request.method() == Method::GET {
            return axum::extract::Query::<T>::try_from_uri(request.uri())
                .map(|q| Fields(q.0))
                .map_err(|e| bad(e.body_text()));
        }
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if json {
            let axum::Json(value) = axum::Json::<T>::from_request(request, state)
                .await
                .map_err(|e| bad(e.body_text()))?;
            Ok(Fields(value))
        } else {
            let axum::Form(value) = axum::Form::<T>::from_request(request, state)
                .await
                .map_err(|e| bad(e.body_text()))?;
            Ok(Fields(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_its_broker_or_there_is_only_one() {
        let none: Vec<String> = Vec::new();
        let one = vec!["emqx-eu".to_owned()];
        let two = vec!["emqx-eu".to_owned(), "rmqtt-us".to_owned()];
        assert_eq!(pick_broker(None, &none).unwrap(), UNNAMED_BROKER);
        assert_eq!(pick_broker(Some(""), &one).unwrap(), "emqx-eu");
        assert_eq!(pick_broker(None, &one).unwrap(), "emqx-eu");
        assert_eq!(pick_broker(Some("rmqtt-us"), &two).unwrap(), "rmqtt-us");
        assert_eq!(
            pick_broker(None, &two),
            Err(UnknownBroker::Ambiguous("emqx-eu, rmqtt-us".into()))
        );
        assert_eq!(
            pick_broker(Some("typo"), &one),
            Err(UnknownBroker::NotConfigured(
                "typo".into(),
                "emqx-eu".into()
            ))
        );
        assert!(pick_broker(Some("typo"), &none).is_err());
    }

    #[test]
    fn the_secret_comes_from_bearer_or_basic() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            presented_secret(&h)
        };
        assert_eq!(with("Bearer s3cret").as_deref(), Some("s3cret"));
        // "keygate:s3:cret": the password is everything after the first colon.
        assert_eq!(
            with("Basic a2V5Z2F0ZTpzMzpjcmV0").as_deref(),
            Some("s3:cret")
        );
        assert_eq!(with("Basic !!!"), None);
        assert_eq!(with("Digest x"), None);
        assert_eq!(presented_secret(&HeaderMap::new()), None);
    }
}
