//! The `keygate` server: configuration, the axum router around the Leptos app, sessions, and
//! start-up and shutdown. Integration tests start it through [`start`] on a random port.

mod api_responses;
pub mod broker;
pub mod commands;
pub mod config;
pub mod device_auth;
mod origin_check;
pub mod revocation;
pub mod webhooks;

use app::state::{AppState, RevocationSignal, Settings};
use app::store::Db;
use app::store::sessions::DbSessionStore;
use app::throttle::Throttle;
use app::verified_keys::VerifiedKeys;
use axum::Router;
use broker::{Broker, BrokerConfig, BrokerError, TlsListener};
use config::Config;
use device_auth::DeviceAuth;
use device_auth::failures::Limits;
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Database(#[from] app::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error(transparent)]
    Config(#[from] config::file::FileError),
}

/// A running server: its addresses, its store, and a way to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub db: Db,
    /// The embedded broker, unless `--no-broker`.
    pub broker: Option<Arc<Broker>>,
    /// The decisions behind every MQTT CONNECT (the tests read its counters).
    pub device_auth: Arc<DeviceAuth>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    background: Vec<tokio::task::JoinHandle<()>>,
    revocation_workers: Option<revocation::Workers>,
}

impl Running {
    /// The embedded broker's MQTT (TCP) address.
    pub fn mqtt_addr(&self) -> Option<SocketAddr> {
        self.broker.as_ref().map(|b| b.tcp_addr)
    }

    /// Stops accepting, finishes in-flight requests, and waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(broker) = &self.broker {
            broker.stop();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        for task in &self.background {
            task.abort();
        }
        if let Some(workers) = self.revocation_workers.take() {
            workers.stop().await;
        }
        self.device_auth.failures().flush_all().await;
        self.db.close().await;
    }

    /// Waits until the server ends (on Ctrl-C or SIGTERM for the binary), then stops the broker
    /// and writes what the audit still holds.
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
        if let Some(broker) = &self.broker {
            broker.stop();
        }
        if let Some(workers) = self.revocation_workers.take() {
            workers.stop().await;
        }
        self.device_auth.failures().flush_all().await;
    }
}

fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("keygate")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// The dashboard's routes, listed once per process. Listing them renders the app with resource
/// loading switched off by a process-wide flag (leptos_server's `SuppressResourceLoad`): a page
/// whose resource first polled meanwhile, in another router of the same process, would wait
/// forever. Listing once, before any router exists, leaves no such page.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// The whole HTTP application for `state`, with the broker webhooks when they are configured.
pub fn router(
    state: AppState,
    secure_cookies: bool,
    webhooks: Option<Arc<webhooks::Webhooks>>,
) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("keygate_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::days(7),
        ));
    let routes = route_list();
    let options = state.leptos_options.clone();
    let dashboard = Router::new()
        .leptos_routes(&state, routes, move || app::shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(api_responses::no_store))
        .layer(axum::middleware::from_fn(origin_check::check_origin))
        .with_state(state);
    // Brokers are not browsers: the webhooks take no session and no cookie, only their secret.
    match webhooks {
        Some(hooks) => webhooks::router(hooks).merge(dashboard),
        None => dashboard,
    }
}

/// Opens the database, binds the listener and serves until [`Running::stop`] or a signal.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let config = config.with_file()?;
    // rustls needs one process-wide crypto provider (for the TLS listener and for HTTPS admin
    // APIs); with more than one compiled in it cannot pick by itself. Already installed is fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let db = Db::connect(&config.database_url).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let verified_keys = Arc::new(VerifiedKeys::new());
    let device_auth = Arc::new(DeviceAuth::new(
        db.clone(),
        verified_keys.clone(),
        device_auth::verifier::KeyVerifier::new(
            config
                .mqtt_auth_workers
                .unwrap_or_else(default_auth_workers),
            config.mqtt_auth_queue,
        ),
        Limits {
            free_per_client: config.mqtt_lockout_after,
            free_per_address: config.mqtt_address_lockout_after,
            base: Duration::from_millis(config.mqtt_lockout_ms),
            max: Duration::from_secs(config.mqtt_lockout_max_secs),
            audit_window: Duration::from_secs(config.mqtt_audit_window_secs.max(1)),
        },
        config.mqtt_max_sessions_per_client,
    ));
    let mut background = vec![
        tokio::spawn(delete_expired_sessions(DbSessionStore::new(db.clone()))),
        tokio::spawn(flush_failures(device_auth.clone())),
    ];
    let broker = if config.no_broker {
        None
    } else {
        let (tracker, writer) = broker::tracking::Tracker::start(
            db.clone(),
            revocation::embedded_target_name(&config.node_name),
        )
        .await?;
        background.push(writer);
        Some(Arc::new(
            broker::start(&broker_config(&config), device_auth.clone(), tracker).await?,
        ))
    };
    let revocations = Arc::new(RevocationSignal::new());
    let mut targets: Vec<revocation::Target> = Vec::new();
    if let Some(broker) = &broker {
        targets.push(revocation::Target::Embedded(broker.clone()));
    }
    targets.extend(
        config
            .broker_targets
            .iter()
            .cloned()
            .map(revocation::Target::AdminApi),
    );
    let revocation_workers = revocation::start(
        db.clone(),
        config.node_name.clone(),
        targets,
        &revocations,
        revocation::backoff::Backoff {
            min: Duration::from_millis(config.revocation_retry_min_ms.max(1)),
            max: Duration::from_secs(config.revocation_retry_max_secs.max(1)),
        },
    )
    .await?;
    let webhooks = config.webhook_secret.clone().map(|secret| {
        tracing::info!(
            "broker webhooks on /webhooks/emqx/authn, /webhooks/emqx/authz, /webhooks/vernemq and /webhooks/events"
        );
        Arc::new(webhooks::Webhooks {
            auth: device_auth.clone(),
            secret,
            session_max: config.webhook_session_max_secs.map(Duration::from_secs),
            brokers: config
                .broker_targets
                .iter()
                .map(|target| target.name.clone())
                .collect(),
        })
    });
    let state = AppState {
        db: db.clone(),
        settings: Arc::new(Settings {
            broker_host: config.broker_host.clone(),
            broker_port: config
                .broker_port
                .or(broker.as_ref().map(|b| b.tcp_addr.port()))
                .unwrap_or(1883),
            open_signup: config.open_signup,
            webhooks: webhooks.is_some(),
        }),
        // Five free failures, then 2 s doubling up to 15 min.
        sign_in_throttle: Arc::new(Throttle::new(
            5,
            Duration::from_secs(2),
            Duration::from_secs(900),
        )),
        verified_keys,
        revocations,
        leptos_options: leptos_options(&config, addr),
    };

    let app = router(state, config.secure_cookies, webhooks);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            tokio::select! {
                _ = rx => {}
                _ = terminate_signal() => {}
            }
        };
        if let Err(e) = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        {
            tracing::error!("server error: {e}");
        }
    });
    tracing::info!("Keygate dashboard on http://{addr}");
    Ok(Running {
        addr,
        db,
        broker,
        device_auth,
        shutdown: Some(tx),
        task,
        background,
        revocation_workers: Some(revocation_workers),
    })
}

fn broker_config(config: &Config) -> BrokerConfig {
    BrokerConfig {
        tcp: config.mqtt_listen,
        ws: config.mqtt_ws_listen,
        tls: config.mqtt_tls_listen.map(|addr| TlsListener {
            addr,
            // clap requires both with the TLS listener.
            cert: config.mqtt_tls_cert.clone().unwrap_or_default(),
            key: config.mqtt_tls_key.clone().unwrap_or_default(),
        }),
        // The flags refuse 0; `max(1)` keeps a configuration built in code from turning a limit
        // off the same way.
        limits: broker::Limits {
            session_expiry: Duration::from_secs(config.mqtt_max_session_expiry_secs.max(1).into()),
            max_subscriptions: config.mqtt_max_subscriptions.max(1) as usize,
            max_packet_size: config.mqtt_max_packet_size.max(1),
            max_queued_messages: config.mqtt_max_queued_messages.max(1) as usize,
            max_inflight: NonZeroU16::new(config.mqtt_max_inflight).unwrap_or(NonZeroU16::MIN),
            handshake_timeout: Duration::from_secs(
                config.mqtt_handshake_timeout_secs.max(1).into(),
            ),
        },
    }
}

/// All cores but one for argon2id, so a connect storm cannot take the dashboard's.
fn default_auth_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

/// Writes the summaries of refused MQTT logins once per audit window.
async fn flush_failures(auth: Arc<DeviceAuth>) {
    let mut every = tokio::time::interval(auth.failures().audit_window());
    every.tick().await;
    loop {
        every.tick().await;
        auth.failures().flush().await;
    }
}

/// Hourly sweep of expired sessions (loading one already ignores it once expired).
async fn delete_expired_sessions(store: DbSessionStore) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(e) = store.delete_expired().await {
            tracing::warn!("could not delete expired sessions: {e}");
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
