//! The embedded MQTT broker (rmqtt): MQTT 3.1.1 and 5 over TCP, and optionally WebSocket and TLS,
//! in the same process as the dashboard. Keygate plugs in through rmqtt's hooks ([`hooks`]), which
//! hand each step of a connection's life to [`connections`]: every CONNECT is decided by
//! [`crate::device_auth`] and answered in a CONNACK ([`connack`]), its grant waits for the session
//! ([`pending`]), every SUBSCRIBE and PUBLISH is checked by the topic rule, which client holds each
//! MQTT client identifier is kept by [`sessions`], and connects and disconnects are recorded in
//! the store by [`tracking`]. Every listener applies the same [`Limits`] to what a connection and
//! its session may hold. Keygate also publishes into it on a device's behalf ([`publish`]: the
//! HTTP publish endpoint).

mod connack;
mod connections;
mod hooks;
mod limits;
mod pending;
pub mod publish;
pub mod sessions;
mod shared;
pub mod tracking;

use crate::device_auth::DeviceAuth;
use crate::telemetry::metrics::Metrics;
use connections::Connections;
use hooks::HookHandler;
use rmqtt::context::ServerContext;
use rmqtt::net::{Builder, Listener};
use rmqtt::server::MqttServer;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinHandle;
use tracking::Tracker;

pub use limits::Limits;
pub use publish::Message;
pub use sessions::SessionCounts;

/// Where the broker listens, and what each connection may hold.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    pub tcp: SocketAddr,
    pub ws: Option<SocketAddr>,
    pub tls: Option<TlsListener>,
    pub limits: Limits,
}

#[derive(Clone, Debug)]
pub struct TlsListener {
    pub addr: SocketAddr,
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("cannot listen for MQTT{kind} on {addr}: {source}")]
    Listen {
        kind: &'static str,
        addr: SocketAddr,
        source: rmqtt::Error,
    },
}

/// The running broker: the addresses it listens on, a way to close a client's connections, and
/// one to publish on a device's behalf.
pub struct Broker {
    pub tcp_addr: SocketAddr,
    pub ws_addr: Option<SocketAddr>,
    pub tls_addr: Option<SocketAddr>,
    connections: Arc<Connections>,
    sessions: Arc<sessions::EmbeddedSessions>,
    scx: ServerContext,
    task: JoinHandle<()>,
}

impl Broker {
    /// Stops accepting connections.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// How many sessions the broker holds, online and offline.
    pub fn session_counts(&self) -> SessionCounts {
        self.connections.session_counts()
    }

    /// Closes every session, online or offline, of `client` (with `key`, only those that
    /// authenticated with that key) that its revocation revoked (one known committed by
    /// `committed_by`, making the client's `revision`), with its subscriptions and queued
    /// messages, and refuses or closes the ones still being made; how many sessions it found to
    /// close.
    pub async fn close_sessions(
        &self,
        client: &app::model::ClientRef,
        key: Option<&str>,
        committed_by: Instant,
        revision: i64,
    ) -> usize {
        self.connections
            .close_sessions(client, key, committed_by, revision)
            .await
    }

    /// Decides the sessions of `client` again after a revocation that narrowed its access (see
    /// [`Connections::refresh_sessions`]).
    pub async fn refresh_sessions(
        &self,
        client: &app::model::ClientRef,
        committed_by: Instant,
        revision: i64,
    ) -> Result<connections::Refreshed, app::store::StoreError> {
        self.connections
            .refresh_sessions(client, committed_by, revision)
            .await
    }

    /// Routes `message` to its subscribers as if its device had published it over MQTT; the
    /// caller decided that it may. `Err` with rmqtt's reason when it could not be routed.
    pub async fn publish(&self, message: Message<'_>) -> Result<(), String> {
        publish::publish(&self.scx, message).await
    }

    /// Who holds which MQTT client identifier, for a decision that holds no session (an HTTP
    /// publish): `device_auth` claims nothing from it, but another client's identifier is theirs.
    pub fn sessionless(&self) -> sessions::Sessionless<'_> {
        sessions::Sessionless(&self.sessions)
    }

    /// Whether a revocation of the client or key `grant` names, that this broker heard of, came
    /// after a decision that began at `began` and made `grant` (see `broker::sessions`).
    pub fn revoked(&self, grant: &crate::device_auth::Grant, began: Instant) -> bool {
        self.sessions
            .revoked(&grant.client, &grant.key_id, began, grant.revision)
    }
}

/// Listener ids inside rmqtt (they key its per-listener settings).
const TCP_ID: u16 = 1;
const WS_ID: u16 = 2;
const TLS_ID: u16 = 3;

fn listener(name: &str, addr: SocketAddr, limits: &Limits) -> Builder {
    let builder = Builder::new()
        .name(name)
        .laddr(addr)
        .reuseaddr(Some(true))
        .nodelay(true)
        // Every CONNECT goes through Keygate's authentication; rmqtt's default lets anonymous in.
        .allow_anonymous(false);
    limits.apply(builder)
}

fn bound(
    kind: &'static str,
    addr: SocketAddr,
    result: rmqtt::Result<Listener>,
) -> Result<(Listener, SocketAddr), BrokerError> {
    let error = |source| BrokerError::Listen { kind, addr, source };
    let listener = result.map_err(error)?;
    let local = listener.local_addr().map_err(error)?;
    Ok((listener, local))
}

/// Binds the listeners and starts serving MQTT; its connects are counted in `metrics`.
pub async fn start(
    config: &BrokerConfig,
    auth: Arc<DeviceAuth>,
    tracker: Tracker,
    metrics: Metrics,
) -> Result<Broker, BrokerError> {
    let scx = ServerContext::new()
        // rmqtt's "busy" check refuses connects when the machine's CPU load is high: the argon2id
        // pool already bounds Keygate's own cost, and a loaded host must not lock devices out.
        .busy_check_enable(false)
        .build()
        .await;

    *scx.extends.shared_subscription_mut().await = Box::new(shared::RoundRobin::default());

    let (tcp, tcp_addr) = bound(
        "",
        config.tcp,
        listener("tcp", config.tcp, &config.limits)
            .bind()
            .and_then(|l| l.tcp()),
    )?;
    let mut server = MqttServer::new(scx.clone()).listener_by_id(tcp, TCP_ID);
    let mut ws_addr = None;
    if let Some(addr) = config.ws {
        let (ws, local) = bound(
            " over WebSocket",
            addr,
            listener("ws", addr, &config.limits)
                .bind()
                .and_then(|l| l.ws()),
        )?;
        server = server.listener_by_id(ws, WS_ID);
        ws_addr = Some(local);
    }
    let mut tls_addr = None;
    if let Some(tls) = &config.tls {
        // `start` installed the process's rustls provider; tests that start the broker alone
        // need it here. Already installed is fine.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let (listener, local) = bound(
            " over TLS",
            tls.addr,
            listener("tls", tls.addr, &config.limits)
                .tls_cert(Some(tls.cert.to_string_lossy()))
                .tls_key(Some(tls.key.to_string_lossy()))
                .bind()
                .and_then(|l| l.tls()),
        )?;
        server = server.listener_by_id(listener, TLS_ID);
        tls_addr = Some(local);
    }

    let sessions = Arc::new(sessions::EmbeddedSessions::new(scx.clone()));
    let connections = Arc::new(Connections::new(auth, tracker, sessions.clone(), metrics));
    let handler = HookHandler(connections.clone());
    let register = scx.extends.hook_mgr().register();
    for typ in hooks::TYPES {
        register.add(typ, Box::new(handler.clone())).await;
    }
    register.start().await;

    let server = server.build();
    let task = tokio::spawn(async move {
        if let Err(e) = server.run().await {
            tracing::error!("the MQTT broker stopped: {e}");
        }
    });
    tracing::info!("Keygate MQTT broker on mqtt://{tcp_addr}");
    if let Some(addr) = ws_addr {
        tracing::info!("Keygate MQTT broker on ws://{addr}");
    }
    if let Some(addr) = tls_addr {
        tracing::info!("Keygate MQTT broker on mqtts://{addr}");
    }
    Ok(Broker {
        tcp_addr,
        ws_addr,
        tls_addr,
        connections,
        sessions,
        scx,
        task,
    })
}
