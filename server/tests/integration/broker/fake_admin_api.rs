//! A stand-in for an external broker's admin API: a real HTTP server on 127.0.0.1 that records
//! every request and answers as told (healthy, failing, or "no such client").

use axum::extract::Request;
use axum::http::StatusCode;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the broker saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub method: String,
    /// Path and query, as sent (percent-encoded).
    pub target: String,
    pub authorization: Option<String>,
    /// What the fake answered.
    pub status: u16,
}

pub struct FakeAdminApi {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    status: Arc<AtomicU16>,
    /// Answers for requests whose target contains a given text, before `status`.
    overrides: Arc<Mutex<Vec<(String, u16)>>>,
    task: tokio::task::JoinHandle<()>,
}

/// A port nothing listens on (a broker that is down: connections are refused).
pub fn closed_port() -> SocketAddr {
    crate::support::unused_address()
}

impl FakeAdminApi {
    /// Listens on a random port and answers every request with `status`.
    pub async fn start(status: u16) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), status).await
    }

    /// Listens on `addr` (a broker coming back where it was).
    pub async fn start_on(addr: SocketAddr, status: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(status));
        let overrides = Arc::new(Mutex::new(Vec::<(String, u16)>::new()));
        let (seen, current, special) = (calls.clone(), answer.clone(), overrides.clone());
        let app = axum::Router::new().fallback(move |request: Request| {
            let (seen, current, special) = (seen.clone(), current.clone(), special.clone());
            async move {
                let target = request
                    .uri()
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                let status = special
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|(text, _)| target.contains(text.as_str()))
                    .map(|(_, status)| *status)
                    .unwrap_or_else(|| current.load(Ordering::SeqCst));
                seen.lock().unwrap().push(Call {
                    method: request.method().to_string(),
                    target,
                    authorization: request
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    status,
                });
                (StatusCode::from_u16(status).unwrap(), "{}")
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            calls,
            status: answer,
            overrides,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, answer with `status`.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// From now on, answer requests whose target contains `text` with `status`; `None` goes back
    /// to the common answer.
    pub fn answer_to(&self, text: &str, status: Option<u16>) {
        let mut overrides = self.overrides.lock().unwrap();
        overrides.retain(|(t, _)| t != text);
        if let Some(status) = status {
            overrides.push((text.to_owned(), status));
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The request targets it answered with `status`, in order.
    pub fn answered(&self, status: u16) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.status == status)
            .map(|c| c.target)
            .collect()
    }

    /// Waits until `done` holds for the calls so far; false after `within`.
    pub async fn wait_for(&self, within: Duration, done: impl Fn(&[Call]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if done(&self.calls()) {
                return true;
            }
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FakeAdminApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}
