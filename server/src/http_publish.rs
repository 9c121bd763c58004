//! `POST /v1/publish/{topic}`: a device publishes over HTTP with the same key it connects with
//! (`curl -u CLIENT_ID:KEY --data-binary @reading.json https://keygate/v1/publish/TOPIC?qos=1`),
//! and the message goes into the embedded broker, where MQTT subscribers receive it.
//!
//! This module only translates HTTP: the login is a CONNECT decided by `device_auth` (back-off
//! shared with MQTT, the verified-key cache, the identifier rules, audit of failures), the topic is
//! checked with the grant's own rule (`Grant::allows`, as the broker's PUBLISH hook does), and
//! [`refused`] is the one function from a refusal to its HTTP answer.
//!
//! - **Who.** HTTP Basic: the user is an MQTT username of any connection form, the password the
//!   client's key. The message is published as an MQTT client identifier, `?device=ID`; without
//!   it, the Client ID the username names (`CLIENT_ID` or `CLIENT_ID@ORGANIZATION_ID`). With the
//!   workspace namespace as the user (form 1), `device` must be the Client ID, as a form-1
//!   CONNECT's identifier must; without it the namespace names no client, and the answer is 401.
//!   An HTTP publish holds no session: it claims no identifier, but an identifier another client
//!   holds on the broker is theirs, and another client's Client ID is reserved for it.
//! - **What.** The body is the payload, byte for byte. `qos` is 0 (the default), 1 or 2: the QoS
//!   subscribers get it with (at most their subscription's). The answer comes once the broker has
//!   handed the message to every matching session (queued for an offline persistent one), so
//!   a 200 means what a PUBACK means. `retain=true` is refused: the embedded broker keeps no
//!   retained messages, and dropping the flag silently would lie.
//! - **How much.** A body is at most 1 MiB, and the PUBLISH it makes (topic, packet id and
//!   payload, as rmqtt counts a packet) at most `--mqtt-max-packet-size`: nothing a device could
//!   not send over MQTT.
//! - **Browsers.** The route takes no session cookie, and Basic credentials reach it only when a
//!   client sends them: a browser adds them by itself only after someone typed them into its own
//!   prompt for this origin. Such a browser would add them to a cross-site form POST too, so the
//!   dashboard's Origin check applies here as well: a POST whose `Origin` names another site is
//!   refused; curl and devices send no `Origin`.

use crate::broker::publish::QoS;
use crate::broker::{Broker, Message};
use crate::device_auth::{Access, Attempt, DeviceAuth, Grant, Outcome, Refusal, Report};
use crate::origin_check;
use crate::telemetry::metrics::{ConnectPath, Metrics};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// The largest body taken, whatever the broker's packet size.
pub const MAX_BODY: usize = 1024 * 1024;

/// MQTT's longest topic name, in bytes.
const MAX_TOPIC: usize = 65_535;

/// What the endpoint needs.
pub struct HttpPublish {
    pub auth: Arc<DeviceAuth>,
    /// The embedded broker, unless Keygate runs without it (`--no-broker`): then there is nothing
    /// to publish into, and the endpoint says so.
    pub broker: Option<Arc<Broker>>,
    /// The broker's largest packet (`--mqtt-max-packet-size`), counted as rmqtt counts it.
    pub max_packet_size: u32,
    /// Where logins are counted.
    pub metrics: Metrics,
}

impl HttpPublish {
    /// The largest body worth reading: 1 MiB, or less when the broker's packets are smaller.
    fn body_limit(&self) -> usize {
        MAX_BODY.min(self.max_packet_size as usize)
    }
}

/// The route, behind the Origin check, without sessions.
pub fn router(publish: Arc<HttpPublish>) -> Router {
    use axum::routing::post;
    Router::new()
        .route("/v1/publish", post(no_topic).fallback(not_post))
        .route("/v1/publish/", post(no_topic).fallback(not_post))
        .route("/v1/publish/{*topic}", post(handle).fallback(not_post))
        .layer(DefaultBodyLimit::max(publish.body_limit()))
        .layer(axum::middleware::from_fn(origin_check::check_origin))
        .with_state(publish)
}

/// The query parameters; any other is a mistake worth saying (`Qos=1` would be QoS 0).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    qos: Option<String>,
    retain: Option<String>,
    device: Option<String>,
}

/// A publish as asked, before anyone is authenticated.
#[derive(Debug)]
struct Asked {
    topic: String,
    qos: QoS,
    device: Option<String>,
}

async fn no_topic() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "the topic is missing: POST /v1/publish/TOPIC",
    )
}

async fn not_post() -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "publish with POST /v1/publish/TOPIC, the payload as the body",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

async fn handle(
    State(publish): State<Arc<HttpPublish>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    topic: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(broker) = &publish.broker else {
        return error(
            StatusCode::NOT_FOUND,
            "this Keygate runs without its embedded broker (--no-broker): publish to your broker",
        );
    };
    let asked = match asked(topic, &uri) {
        Ok(asked) => asked,
        Err(problem) => return error(StatusCode::BAD_REQUEST, &problem),
    };
    let payload = match body {
        Ok(payload) => payload,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large(publish.body_limit());
        }
        Err(rejection) => return error(StatusCode::BAD_REQUEST, &rejection.body_text()),
    };
    if packet_size(&asked, payload.len()) > publish.max_packet_size as usize {
        return too_large(publish.max_packet_size as usize);
    }
    let Some((username, password)) = basic_credentials(&headers) else {
        // Nothing to decide: no name and no key. This is how HTTP Basic begins (a client asks,
        // is told to authenticate, and asks again), so it is neither counted nor audited.
        return unauthorized();
    };
    let identifier = asked
        .device
        .as_deref()
        .unwrap_or_else(|| client_id_in(&username));
    let attempt = Attempt::new(Report::from_http(
        Some(&username),
        identifier,
        Some(password.expose_secret()),
        peer,
    ));
    let grant = match login(&publish.auth, broker, &attempt, &publish.metrics).await {
        Ok(grant) => grant,
        Err(refusal) => return refused(&refusal),
    };
    if !grant.allows(Access::Publish, &asked.topic) {
        tracing::info!(client = %grant.client, topic = ?asked.topic, "HTTP publish refused by the topic rule");
        // Said without the rule's details: the grant's rules may be more than the namespace.
        return error(
            StatusCode::FORBIDDEN,
            &format!("this client may not publish to {:?}", asked.topic),
        );
    }
    let bytes = payload.len();
    let message = Message {
        topic: &asked.topic,
        payload,
        qos: asked.qos,
        identifier,
        username: &username,
        source: Some(peer),
    };
    if let Err(e) = broker.publish(message).await {
        tracing::error!(client = %grant.client, topic = ?asked.topic, "the broker did not take an HTTP publish: {e}");
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the broker could not take the message; see Keygate's log",
        );
    }
    axum::Json(json!({
        "result": "published",
        "topic": asked.topic,
        "qos": asked.qos as u8,
        "bytes": bytes,
    }))
    .into_response()
}

/// Decides the login on the one core, with the broker's record of identifiers, and counts it.
async fn login(
    auth: &DeviceAuth,
    broker: &Broker,
    attempt: &Attempt,
    metrics: &Metrics,
) -> Result<Grant, Refusal> {
    let decided = match auth.authenticate(attempt, &broker.sessionless()).await {
        // The key was checked against the client as it was read; a revocation the broker heard
        // of since refuses it, as it refuses a CONNECT.
        Ok(grant) if broker.revoked(&grant, attempt.began) => Err(Refusal::RevokedWhileChecking),
        decided => decided,
    };
    if let Ok(grant) = &decided {
        // A publish holds no session for the tracker to record: its key's use is written here,
        // at most once a minute per key, so a device publishing every second is no write a
        // second.
        let now = app::store::now_millis();
        if app::store::client_keys::use_worth_recording(grant.key_last_used_at, now) {
            let source = attempt.source.map(|ip| ip.to_string()).unwrap_or_default();
            if let Err(e) =
                app::store::client_keys::record_use(auth.db(), &grant.key_id, now, &source).await
            {
                tracing::warn!("could not record a key's use: {e}");
            }
        }
    }
    metrics.device_connect(ConnectPath::Http, &decided);
    if let Err(refusal) = &decided {
        if refusal.outcome().is_error() {
            tracing::warn!(identifier = ?attempt.client_identifier, "HTTP publish login undecided: {refusal}");
        } else {
            tracing::info!(identifier = ?attempt.client_identifier, source = ?attempt.source, "HTTP publish login refused: {refusal}");
        }
    }
    decided
}

/// The one table from a refused login to its HTTP answer. A device without the right key learns
/// no more than over MQTT: a wrong key, a name nobody has, and another organization's client are
/// one 401. The right key's holder learns why it may not publish (403), and a lock-out or a full
/// verification queue say when to retry (429).
fn refused(refusal: &Refusal) -> Response {
    if let Refusal::Throttled(secs) = refusal {
        return retry_after(
            *secs,
            &format!(
                "too many failed logins for this client or from this address; retry in {secs} s"
            ),
        );
    }
    match refusal.outcome() {
        Outcome::BadCredentials | Outcome::UnknownClient => unauthorized(),
        Outcome::NotAuthorized | Outcome::IdentifierRejected => {
            error(StatusCode::FORBIDDEN, &refusal.to_string())
        }
        Outcome::Busy => retry_after(1, "too many logins are waiting for key verification"),
        // Allowed is no refusal; it cannot come here.
        Outcome::Unavailable | Outcome::Allowed => {
            let mut response = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Keygate cannot decide right now; see its log",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// The topic from the path and the parameters from the query, checked; what is wrong otherwise
/// (a 400).
fn asked(topic: Result<Path<String>, PathRejection>, uri: &Uri) -> Result<Asked, String> {
    let Path(topic) = topic.map_err(|e| format!("the topic is not valid: {}", e.body_text()))?;
    check_topic(&topic).map_err(str::to_owned)?;
    let Query(params) = Query::<Params>::try_from_uri(uri).map_err(|e| e.body_text())?;
    let qos = match params.qos.as_deref() {
        None | Some("0") => QoS::AtMostOnce,
        Some("1") => QoS::AtLeastOnce,
        Some("2") => QoS::ExactlyOnce,
        Some(_) => return Err("qos must be 0, 1 or 2".into()),
    };
    match params.retain.as_deref() {
        None | Some("false") => {}
        Some("true") => {
            return Err(
                "retain is not supported: Keygate's embedded broker keeps no retained messages"
                    .into(),
            );
        }
        Some(_) => return Err("retain must be true or false".into()),
    }
    Ok(Asked {
        topic,
        qos,
        device: params.device,
    })
}

/// What a topic name may be in a PUBLISH: not empty, no wildcards, no NUL, at most 65,535 bytes.
/// Where it may be is the grant's topic rule, once the client is known.
fn check_topic(topic: &str) -> Result<(), &'static str> {
    if topic.is_empty() {
        return Err("the topic is missing: POST /v1/publish/TOPIC");
    }
    if topic.contains(['+', '#']) {
        return Err("a topic to publish to has no wildcards (+ or #)");
    }
    if topic.contains('\0') {
        return Err("a topic cannot contain the NUL character");
    }
    if topic.len() > MAX_TOPIC {
        return Err("a topic is at most 65,535 bytes");
    }
    Ok(())
}

/// The PUBLISH `asked` with `payload` bytes would be, counted as rmqtt counts a packet (its
/// remaining length, MQTT 3.1.1's): topic length, topic, packet id for QoS 1 and 2, payload.
fn packet_size(asked: &Asked, payload: usize) -> usize {
    let packet_id = if asked.qos == QoS::AtMostOnce { 0 } else { 2 };
    2 + asked.topic.len() + packet_id + payload
}

/// HTTP Basic's user and password. A user is text (an MQTT username); the password is taken as
/// bytes, as a CONNECT's is.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, SecretSlice<u8>)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let user = std::str::from_utf8(&decoded[..colon]).ok()?.to_owned();
    let password = SecretSlice::from(decoded[colon + 1..].to_vec());
    Some((user, password))
}

/// The Client ID a username names by itself: `CLIENT_ID@ORGANIZATION_ID`'s, or a bare one (a
/// namespace, which names none, stays itself and finds no client).
fn client_id_in(username: &str) -> &str {
    username.split_once('@').map_or(username, |(id, _)| id)
}

/// An answer with `{"error": message}`.
fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn unauthorized() -> Response {
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        "bad username or password: send HTTP Basic with a client's MQTT username (CLIENT_ID, \
         CLIENT_ID@ORGANIZATION_ID, or the namespace with ?device=CLIENT_ID) and its key",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"keygate\""),
    );
    response
}

fn retry_after(secs: u64, message: &str) -> Response {
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

fn too_large(limit: usize) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "the message is too large: at most {limit} bytes as an MQTT PUBLISH (topic, packet id and payload)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device_auth::identifier::IdentifierError;

    #[test]
    fn every_refusal_has_its_status() {
        // (refusal, status), as docs/architecture.md's outcome table says for HTTP publish.
        let cases = [
            (Refusal::BadCredentials, StatusCode::UNAUTHORIZED),
            (Refusal::UnknownClient, StatusCode::UNAUTHORIZED),
            (
                Refusal::Identifier(IdentifierError::Empty),
                StatusCode::FORBIDDEN,
            ),
            (Refusal::Inactive, StatusCode::FORBIDDEN),
            (Refusal::WillOutsideNamespace, StatusCode::FORBIDDEN),
            (Refusal::Throttled(7), StatusCode::TOO_MANY_REQUESTS),
            (Refusal::IdentifierReserved, StatusCode::FORBIDDEN),
            (Refusal::IdentifierInUse, StatusCode::FORBIDDEN),
            (Refusal::TooManySessions, StatusCode::FORBIDDEN),
            (Refusal::RevokedWhileChecking, StatusCode::FORBIDDEN),
            (Refusal::Busy, StatusCode::TOO_MANY_REQUESTS),
            (Refusal::VerifierStopped, StatusCode::SERVICE_UNAVAILABLE),
        ];
        for (refusal, status) in cases {
            let response = refused(&refusal);
            assert_eq!(response.status(), status, "{refusal:?}");
            let headers = response.headers();
            match status {
                StatusCode::UNAUTHORIZED => {
                    assert_eq!(headers[header::WWW_AUTHENTICATE], "Basic realm=\"keygate\"")
                }
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    assert!(headers.contains_key(header::RETRY_AFTER), "{refusal:?}")
                }
                _ => {}
            }
        }
        assert_eq!(
            refused(&Refusal::Throttled(7)).headers()[header::RETRY_AFTER],
            "7"
        );
    }

    #[test]
    fn topics_are_names_without_wildcards() {
        for good in ["acme", "acme/devices/c-1/telemetry", "acme/", "acme/room 1"] {
            assert_eq!(check_topic(good), Ok(()), "{good}");
        }
        for bad in ["", "acme/+", "acme/#", "acme/+/x", "acme/a\0b"] {
            assert!(check_topic(bad).is_err(), "{bad:?}");
        }
        assert!(check_topic(&"a".repeat(MAX_TOPIC + 1)).is_err());
    }

    #[test]
    fn basic_credentials_are_user_and_password_bytes() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            basic_credentials(&h).map(|(u, p)| (u, p.expose_secret().to_vec()))
        };
        // base64("c-1@org:kgk_a:b")
        assert_eq!(
            with("Basic Yy0xQG9yZzprZ2tfYTpi"),
            Some(("c-1@org".to_owned(), b"kgk_a:b".to_vec()))
        );
        assert_eq!(
            with("basic Yy0xQG9yZzprZ2tfYTpi").map(|c| c.0),
            Some("c-1@org".into())
        );
        assert_eq!(with("Bearer kgk_x"), None);
        assert_eq!(with("Basic !!!"), None);
        // base64("no-colon")
        assert_eq!(with("Basic bm8tY29sb24="), None);
        assert!(basic_credentials(&HeaderMap::new()).is_none());
    }

    #[test]
    fn the_default_device_is_the_client_id_the_username_names() {
        assert_eq!(client_id_in("c-1@0b5f"), "c-1");
        assert_eq!(client_id_in("c-1"), "c-1");
        assert_eq!(client_id_in("acme"), "acme");
    }

    #[test]
    fn the_packet_is_counted_as_rmqtt_counts_it() {
        let asked = |qos| Asked {
            topic: "acme/x".into(),
            qos,
            device: None,
        };
        assert_eq!(packet_size(&asked(QoS::AtMostOnce), 10), 2 + 6 + 10);
        assert_eq!(packet_size(&asked(QoS::AtLeastOnce), 10), 2 + 6 + 2 + 10);
    }
}
