//! A real HTTP endpoint on 127.0.0.1 that receives credential events: it records every request it
//! gets (headers and body as they arrived) and answers each with the next status of its script,
//! then 200. Started on an address that refused connections before, it is an endpoint that was
//! down and came back.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// One request as it arrived, and what it was answered.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub status: u16,
}

impl Received {
    /// The body's JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("an event's body is JSON")
    }

    /// The event's `type`.
    pub fn event_type(&self) -> String {
        self.json()["type"].as_str().expect("a type").to_owned()
    }
}

#[derive(Clone, Default)]
struct Shared {
    log: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

pub struct EventReceiver {
    pub addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

/// An address on 127.0.0.1 where nothing listens (yet): connections to it are refused.
pub fn refusing_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

impl EventReceiver {
    /// Listens on a free port; answers `script`'s statuses in turn, then 200.
    pub async fn start(script: &[u16]) -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("an address"), script).await
    }

    /// Listens on `addr`.
    pub async fn start_on(addr: SocketAddr, script: &[u16]) -> Self {
        let shared = Shared::default();
        shared.script.lock().unwrap().extend(script);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
        let addr = listener.local_addr().expect("its address");
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the receiver serves");
        });
        Self { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks/keygate", self.addr)
    }

    /// Every request so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The requests it answered 2xx: the events delivered.
    pub fn delivered(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let status = shared.script.lock().unwrap().pop_front().unwrap_or(200);
    shared.log.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
        status,
    });
    StatusCode::from_u16(status).expect("a status")
}
