//! One attempt at delivering one event to one endpoint: signed when it is sent (a receiver
//! refuses a `webhook-timestamp` far from its clock), POSTed, and judged by the answer.

use app::event_signature::EventSecret;
use app::store::event_deliveries::Queued;
use std::time::Duration;

/// Why an attempt failed, as the Events page shows it.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The endpoint answered, but not with 2xx (a redirect included: events are not followed
    /// anywhere the organization did not name).
    #[error("the endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the endpoint did not answer in time")]
    Timeout,
    #[error("cannot connect to the endpoint: {0}")]
    Connect(String),
    #[error("the request failed: {0}")]
    Request(String),
    #[error(transparent)]
    Secret(#[from] app::event_signature::MalformedSecret),
}

impl SendError {
    /// The HTTP status the endpoint answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            SendError::Status(status) => Some(*status),
            _ => None,
        }
    }
}

/// The client events are sent with: no redirects, bounded time.
pub fn http_client() -> reqwest::Client {
    // The process's rustls provider (`start` installs it; unit tests come here first).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("keygate/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("an HTTP client with rustls")
}

/// POSTs `event` to `url`, signed with `secret` at `now_secs`; the 2xx status it answered.
pub async fn send(
    http: &reqwest::Client,
    url: &str,
    secret: &EventSecret,
    event: &Queued,
    now_secs: i64,
) -> Result<u16, SendError> {
    let signature = secret.sign(&event.message_id, now_secs, &event.payload)?;
    let answer = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &event.message_id)
        .header("webhook-timestamp", now_secs.to_string())
        .header("webhook-signature", signature)
        .body(event.payload.clone())
        .send()
        .await
        .map_err(failed)?;
    let status = answer.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err(SendError::Status(status.as_u16()))
    }
}

/// A transport error in words, by its innermost cause and without the URL (whose query may carry
/// the receiver's own token).
fn failed(e: reqwest::Error) -> SendError {
    let e = e.without_url();
    if e.is_timeout() {
        return SendError::Timeout;
    }
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if e.is_connect() {
        SendError::Connect(cause)
    } else {
        SendError::Request(cause)
    }
}
