//! External brokers as revocation targets: each is told over its admin API to close a revoked
//! client's sessions, by MQTT client identifier.
//!
//! - EMQX 5: `DELETE /api/v5/clients/{clientid}`, HTTP Basic with an API key and secret.
//! - rmqtt (http-api plugin): `DELETE /api/v1/clients/{clientid}`.
//! - VerneMQ: `GET /api/v1/session/disconnect?client-id={clientid}&--cleanup`, the API key as the
//!   Basic user name.
//!
//! A 2xx answer or 404 ("no such client": nothing to close) confirms; anything else is a
//! [`DeliveryError`], which says whether retrying can fix it.
//!
//! An identifier is one path segment, percent-encoded (`dev/1 x` → `dev%2F1%20x`). `.` and `..`
//! cannot be a segment at all (the URL standard removes them, encoded or not), so the identifier
//! rule keeps devices from using them, and a session known by one is reported, never sent.

use super::error::{DeliveryError, Unreachable};
use app::model::BrokerKind;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Which admin API a broker speaks: the external kinds of [`BrokerKind`], named by its texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Emqx,
    Rmqtt,
    Vernemq,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        BrokerKind::from(self).as_str()
    }
}

impl From<Kind> for BrokerKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Emqx => BrokerKind::Emqx,
            Kind::Rmqtt => BrokerKind::Rmqtt,
            Kind::Vernemq => BrokerKind::Vernemq,
        }
    }
}

impl FromStr for Kind {
    type Err = TargetConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim().to_ascii_lowercase();
        match BrokerKind::parse(&text) {
            Ok(BrokerKind::Emqx) => Ok(Kind::Emqx),
            Ok(BrokerKind::Rmqtt) => Ok(Kind::Rmqtt),
            Ok(BrokerKind::Vernemq) => Ok(Kind::Vernemq),
            Ok(BrokerKind::Embedded) | Err(_) => Err(TargetConfigError::UnknownKind(text)),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetConfigError {
    #[error("expected KIND=URL (e.g. emqx=http://KEY:SECRET@10.0.0.5:18083), got {0:?}")]
    Shape(String),
    #[error("unknown broker kind {0:?}: use emqx, rmqtt or vernemq")]
    UnknownKind(String),
    #[error("{url:?} is not a URL: {reason}")]
    Url { url: String, reason: String },
    #[error("{0:?} must start with http:// or https://")]
    Scheme(String),
    #[error(
        "a broker target name must be 1 to 64 letters, digits, '.', '-', '_' or ':', got {0:?}"
    )]
    Name(String),
}

/// How to reach one external broker's admin API. Credentials are kept apart from the URL, which
/// is shown on Settings → Brokers.
#[derive(Clone)]
pub struct AdminApi {
    pub name: String,
    pub kind: Kind,
    /// Scheme, host, port and any path prefix; never credentials.
    pub base: Url,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub token: Option<SecretString>,
}

impl fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminApi")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base", &self.base.as_str())
            .field("username", &self.username.as_ref().map(|_| "[set]"))
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl AdminApi {
    /// An admin API from its parts; credentials in the URL (`http://KEY:SECRET@host`) are moved
    /// out of it. `name` defaults to `KIND:HOST:PORT`.
    pub fn new(name: Option<&str>, kind: Kind, url: &str) -> Result<Self, TargetConfigError> {
        let mut base = Url::parse(url.trim()).map_err(|e| TargetConfigError::Url {
            url: redact_url(url),
            reason: e.to_string(),
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(TargetConfigError::Scheme(redact_url(url)));
        }
        let username = Some(percent_decode(base.username())).filter(|u| !u.is_empty());
        let password = base
            .password()
            .map(|p| SecretString::from(percent_decode(p)));
        let _ = base.set_username("");
        let _ = base.set_password(None);
        base.set_query(None);
        base.set_fragment(None);
        let name = match name {
            Some(n) => n.trim().to_owned(),
            None => format!(
                "{}:{}:{}",
                kind.as_str(),
                base.host_str().unwrap_or_default(),
                base.port_or_known_default().unwrap_or_default()
            ),
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
        if !valid {
            return Err(TargetConfigError::Name(name));
        }
        Ok(Self {
            name,
            kind,
            base,
            username,
            password,
            token: None,
        })
    }

    /// The base URL as Settings → Brokers shows it.
    pub fn endpoint(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    /// The request that closes the session of `mqtt_client_id`.
    fn request(&self, http: &reqwest::Client, mqtt_client_id: &str) -> reqwest::RequestBuilder {
        // Below the base URL's own path, if any (`http://host/prefix/`).
        let at = |segments: [&str; 4]| {
            let mut url = self.base.clone();
            url.path_segments_mut()
                .expect("http URLs have paths")
                .pop_if_empty()
                .extend(segments);
            url
        };
        let builder = match self.kind {
            Kind::Emqx => http.delete(at(["api", "v5", "clients", mqtt_client_id])),
            Kind::Rmqtt => http.delete(at(["api", "v1", "clients", mqtt_client_id])),
            Kind::Vernemq => {
                let mut url = at(["api", "v1", "session", "disconnect"]);
                url.query_pairs_mut()
                    .append_pair("client-id", mqtt_client_id)
                    .append_key_only("--cleanup");
                http.get(url)
            }
        };
        match (&self.token, &self.username) {
            (Some(token), _) => builder.bearer_auth(token.expose_secret()),
            (None, Some(user)) => builder.basic_auth(
                user,
                Some(
                    self.password
                        .as_ref()
                        .map(|p| p.expose_secret())
                        .unwrap_or(""),
                ),
            ),
            (None, None) => builder,
        }
    }

    /// Closes the sessions of every one of `mqtt_client_ids`; all must be confirmed. Every
    /// identifier is tried: a transient failure of one means the whole delivery is retried (the
    /// calls are idempotent), a permanent one is reported once the others are through.
    pub async fn close_sessions(
        &self,
        http: &reqwest::Client,
        mqtt_client_ids: &[String],
    ) -> Result<(), DeliveryError> {
        let mut permanent = None;
        for id in mqtt_client_ids {
            match self.close_session(http, id).await {
                Ok(()) => {}
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    permanent.get_or_insert(e);
                }
            }
        }
        permanent.map_or(Ok(()), Err)
    }

    async fn close_session(&self, http: &reqwest::Client, id: &str) -> Result<(), DeliveryError> {
        if self.kind != Kind::Vernemq && (id == "." || id == "..") {
            return Err(DeliveryError::UnsendableIdentifier {
                kind: self.kind,
                identifier: id.to_owned(),
            });
        }
        let response = self.request(http, id).send().await.map_err(unreachable)?;
        let status = response.status();
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        Err(DeliveryError::Refused {
            kind: self.kind,
            status,
            body: body.trim().to_owned(),
        })
    }
}

impl FromStr for AdminApi {
    type Err = TargetConfigError;

    /// `KIND=URL`, as `--broker-target` takes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, url) = s
            .split_once('=')
            .ok_or_else(|| TargetConfigError::Shape(redact_url(s)))?;
        AdminApi::new(None, kind.parse()?, url)
    }
}

/// One HTTP client for every admin API: short timeouts, because a slow broker only delays its own
/// queue, and a retry follows anyway.
pub fn http_client() -> reqwest::Client {
    // The process's rustls provider (`start` installs it; unit tests come here first).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("keygate/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client with rustls")
}

/// A transport error by its kind and innermost cause, without the URL's credentials (reqwest URLs
/// carry none here).
fn unreachable(e: reqwest::Error) -> DeliveryError {
    let reason = if e.is_connect() {
        Unreachable::Connect
    } else if e.is_timeout() {
        Unreachable::Timeout
    } else {
        Unreachable::Request
    };
    let mut cause = std::error::Error::source(&e);
    let mut root = e.to_string();
    while let Some(c) = cause {
        root = c.to_string();
        cause = c.source();
    }
    DeliveryError::Unreachable {
        reason,
        cause: root,
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// `s` with anything between `://` and `@` hidden, for error messages.
fn redact_url(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(start), Some(at)) if at > start => format!("{}://…@{}", &s[..start], &s[at + 1..]),
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_move_out_of_the_url() {
        let api: AdminApi = "emqx=http://key:s%40cret@10.0.0.5:18083".parse().unwrap();
        assert_eq!(api.name, "emqx:10.0.0.5:18083");
        assert_eq!(api.endpoint(), "http://10.0.0.5:18083");
        assert_eq!(api.username.as_deref(), Some("key"));
        assert_eq!(api.password.as_ref().unwrap().expose_secret(), "s@cret");
        assert!(!format!("{api:?}").contains("s@cret"));
    }

    #[test]
    fn requests_have_each_brokers_shape() {
        let http = http_client();
        let url = |spec: &str, id: &str| {
            let api: AdminApi = spec.parse().unwrap();
            api.request(&http, id).build().unwrap()
        };
        let emqx = url("emqx=http://k:s@h:18083", "dev/1 x");
        assert_eq!(emqx.method(), "DELETE");
        assert_eq!(
            emqx.url().as_str(),
            "http://h:18083/api/v5/clients/dev%2F1%20x"
        );
        assert!(emqx.headers().contains_key("authorization"));
        let rmqtt = url("rmqtt=http://h:6060/prefix/", "a");
        assert_eq!(
            rmqtt.url().as_str(),
            "http://h:6060/prefix/api/v1/clients/a"
        );
        assert!(!rmqtt.headers().contains_key("authorization"));
        let verne = url("vernemq=http://apikey@h:8888", "a&b");
        assert_eq!(verne.method(), "GET");
        assert_eq!(
            verne.url().as_str(),
            "http://h:8888/api/v1/session/disconnect?client-id=a%26b&--cleanup"
        );
    }

    #[test]
    fn bad_targets_say_what_is_wrong_without_the_secret() {
        let err = |s: &str| s.parse::<AdminApi>().unwrap_err().to_string();
        assert!(err("emqx").contains("KIND=URL"));
        assert!(err("mosquitto=http://h").contains("unknown broker kind \"mosquitto\""));
        assert!(err("emqx=ftp://h").contains("http:// or https://"));
        let bad = err("emqx=http://key:topsecret@");
        assert!(bad.contains("not a URL"), "{bad}");
        assert!(!bad.contains("topsecret"), "{bad}");
    }
}
