//! A started Keygate and the one sequence that stops it, whether a test calls [`Running::stop`]
//! or the binary receives Ctrl-C or SIGTERM ([`Running::wait`]).

use crate::broker::Broker;
use crate::device_auth::DeviceAuth;
use crate::revocation;
use app::store::Db;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// A running server: its addresses, its store, and a way to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub(super) metrics_addr: Option<SocketAddr>,
    pub db: Db,
    /// The embedded broker, unless `--no-broker`.
    pub broker: Option<Arc<Broker>>,
    /// The decisions behind every MQTT CONNECT (the tests read its counters).
    pub device_auth: Arc<DeviceAuth>,
    pub(super) servers: Servers,
    /// Tasks that loop until they are aborted: sweeps, the broker's connection tracker, and the
    /// credential event worker.
    pub(super) background: Vec<JoinHandle<()>>,
    pub(super) revocation_workers: revocation::Workers,
}

impl Running {
    /// The embedded broker's MQTT (TCP) address.
    pub fn mqtt_addr(&self) -> Option<SocketAddr> {
        self.broker.as_ref().map(|b| b.tcp_addr)
    }

    /// The metrics endpoint's address, with `--metrics-listen`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Stops accepting, finishes in-flight requests, and waits for the server to end.
    pub async fn stop(self) {
        self.shut_down().await;
    }

    /// Serves until Ctrl-C or SIGTERM (or until an HTTP server ends by itself), then stops as
    /// [`Running::stop`] does.
    pub async fn wait(mut self) {
        tokio::select! {
            _ = terminate_signal() => {}
            _ = self.servers.ended() => {}
        }
        self.shut_down().await;
    }

    /// The one shutdown sequence. The broker stops accepting first and the HTTP servers finish
    /// what is in flight, so no new change or session arrives while the rest stops; the
    /// revocation workers give their targets' leases back so another process can take over at
    /// once; the refused-login summaries still held are written; the database closes last.
    async fn shut_down(self) {
        if let Some(broker) = &self.broker {
            broker.stop();
        }
        self.servers.stop().await;
        for task in &self.background {
            task.abort();
        }
        self.revocation_workers.stop().await;
        self.device_auth.failures().flush_all().await;
        self.db.close().await;
    }
}

/// The HTTP servers: each finishes the requests in flight and ends when told to stop.
pub(super) struct Servers {
    stop: watch::Sender<bool>,
    ended_tx: mpsc::UnboundedSender<()>,
    ended_rx: mpsc::UnboundedReceiver<()>,
    tasks: Vec<JoinHandle<()>>,
}

impl Servers {
    pub(super) fn new() -> Self {
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        Self {
            stop: watch::channel(false).0,
            ended_tx,
            ended_rx,
            tasks: Vec::new(),
        }
    }

    /// Serves `app` on `listener` until [`Servers::stop`].
    pub(super) fn serve(&mut self, listener: TcpListener, app: Router) {
        let mut stop = self.stop.subscribe();
        let ended = self.ended_tx.clone();
        self.tasks.push(tokio::spawn(async move {
            // Also ends when the `Servers` is dropped without being stopped.
            let stopping = async move {
                let _ = stop.wait_for(|stop| *stop).await;
            };
            if let Err(e) = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stopping)
            .await
            {
                tracing::error!("server error: {e}");
            }
            let _ = ended.send(());
        }));
    }

    /// Resolves once a server has ended.
    async fn ended(&mut self) {
        let _ = self.ended_rx.recv().await;
    }

    /// Tells every server to stop, and waits until each has finished its requests.
    async fn stop(self) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn terminate_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
