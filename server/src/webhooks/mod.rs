//! Webhooks that let an external, possibly clustered broker use Keygate's credentials: the
//! broker asks, per CONNECT, SUBSCRIBE and PUBLISH, and Keygate answers with the same decisions
//! as its embedded broker (the same key check, back-off and audit, the same topic rule).
//!
//! - [`emqx`]: EMQX 5's HTTP authentication and authorization (also rmqtt's auth-http plugin);
//! - [`vernemq`]: VerneMQ's `auth_on_register`, `auth_on_subscribe` and `auth_on_publish`.
//!
//! Every request must carry the shared secret (`--webhook-secret`): as a bearer token, or as the
//! password of HTTP Basic (what a URL's `user:secret@` sends). Without a configured secret the
//! routes do not exist.

pub mod emqx;
pub mod vernemq;

use crate::config::WebhookSecret;
use crate::device_auth::identity::{Claim, resolve};
use crate::device_auth::{Attempt, DeviceAuth, Grant, Refusal};
use app::store::{Db, StoreError, deliveries};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use secrecy::{ExposeSecret, SecretSlice};
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// What the webhook handlers share.
pub struct Webhooks {
    pub auth: Arc<DeviceAuth>,
    pub db: Db,
    pub secret: WebhookSecret,
    /// When set, external brokers are told to end a session this long after its CONNECT.
    pub session_max: Option<Duration>,
}

/// The decision on a CONNECT that came through a webhook.
pub enum Verdict {
    Allow(Grant),
    Deny,
    /// No such client: the broker may ask its next authenticator (its own operators' accounts,
    /// say). A device cannot tell this from a wrong key.
    Unknown,
    /// Keygate could not decide (its database or key check failed): the broker should treat it
    /// as an error, not as a wrong key.
    Unavailable,
}

impl Webhooks {
    /// Decides a CONNECT exactly as the embedded broker does, and remembers the MQTT client
    /// identifier so a later revocation can disconnect it by that identifier.
    pub async fn connect(
        &self,
        client_identifier: &str,
        username: Option<&str>,
        password: Option<&str>,
        peer: Option<&str>,
    ) -> Verdict {
        let password = password.map(|p| SecretSlice::from(p.as_bytes().to_vec()));
        let attempt = Attempt {
            username: username.filter(|u| !u.is_empty()),
            client_identifier,
            password: password.as_ref(),
            source: peer.and_then(parse_peer),
            will_topic: None,
        };
        match self.auth.authenticate(&attempt).await {
            Ok(grant) => {
                if let Err(e) = deliveries::remember_identifier(
                    &self.db,
                    grant.client_id.as_str(),
                    client_identifier,
                )
                .await
                {
                    // Without the identifier a revocation could miss this session: refuse.
                    tracing::warn!("cannot record a webhook login: {e}");
                    return Verdict::Unavailable;
                }
                Verdict::Allow(grant)
            }
            Err(e @ (Refusal::Store(_) | Refusal::Busy | Refusal::VerifierStopped)) => {
                tracing::warn!("webhook login undecided: {e}");
                Verdict::Unavailable
            }
            Err(Refusal::UnknownClient) => Verdict::Unknown,
            Err(_) => Verdict::Deny,
        }
    }

    /// The namespace a connected client may use, if it is still an active client: authorization
    /// requests carry no password, the broker authenticated the session before.
    pub async fn namespace_of(
        &self,
        username: Option<&str>,
        client_identifier: &str,
    ) -> Result<Option<String>, StoreError> {
        let resolved = resolve(
            &self.db,
            Claim {
                username: username.unwrap_or_default(),
                client_identifier,
            },
        )
        .await?;
        Ok(resolved
            .credential
            .filter(|c| c.active)
            .map(|c| c.namespace))
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

/// The webhook routes, each behind the shared-secret check.
pub fn router(hooks: Arc<Webhooks>) -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route("/webhooks/emqx/authn", get(emqx::authn).post(emqx::authn))
        .route("/webhooks/emqx/authz", get(emqx::authz).post(emqx::authz))
        .route("/webhooks/vernemq", post(vernemq::hook))
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

/// `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`.
fn parse_peer(peer: &str) -> Option<IpAddr> {
    let peer = peer.trim();
    peer.parse::<IpAddr>()
        .ok()
        .or_else(|| peer.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
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
        let bad = |e: String| {
            (
                StatusCode::BAD_REQUEST,
                axum::Json(serde_json::json!({ "error": e })),
            )
                .into_response()
        };
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

    #[test]
    fn peers_with_or_without_a_port() {
        assert_eq!(parse_peer("10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(
            parse_peer("10.1.2.3:4567"),
            Some("10.1.2.3".parse().unwrap())
        );
        assert_eq!(parse_peer("[::1]:80"), Some("::1".parse().unwrap()));
        assert_eq!(parse_peer("undefined"), None);
    }
}
