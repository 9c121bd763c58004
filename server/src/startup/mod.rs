//! Starting Keygate: one function per subsystem, called by [`start`] in the order each needs the
//! ones before it, and the one way a started Keygate stops ([`Running`]).
//!
//! 1. the database, whose migrations run as it opens;
//! 2. the dashboard's listener, bound early so that a taken port fails before anything starts;
//! 3. device authentication: the argon2id pool, the back-off and the verified-key cache;
//! 4. the background sweeps (expired web sessions, summaries of refused MQTT logins, refused
//!    logins older than 30 days);
//! 5. the embedded broker and its connection tracker, unless `--no-broker`;
//! 6. the revocation workers, one per broker target, and the credential event worker;
//! 7. the broker webhooks, when a webhook secret is configured, and HTTP publish;
//! 8. the dashboard's HTTP server, with all of the above in its state;
//! 9. the metrics endpoint, when `--metrics-listen` is set. Its recorder is made first, since
//!    every subsystem above counts into it, and its listener is bound with the dashboard's.

mod running;

pub use running::Running;

use crate::broker::{self, Broker, BrokerConfig, BrokerError, TlsListener};
use crate::config::{self, Config};
use crate::device_auth::failures::Limits;
use crate::device_auth::{self, DeviceAuth};
use crate::telemetry::exporter::{self, Sources};
use crate::telemetry::metrics::Metrics;
use crate::{events, host_check, http_publish, revocation, router, webhooks};
use app::argon2_pool::Argon2Pool;
use app::state::{AppState, Bell, RevocationSignal, Settings};
use app::store::Db;
use app::store::sessions::DbSessionStore;
use app::throttle::Throttle;
use app::verified_keys::VerifiedKeys;
use leptos::config::LeptosOptions;
use running::Servers;
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_sessions::session_store::ExpiredDeletion;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Database(#[from] app::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot listen for metrics (--metrics-listen) on {addr}: {source}")]
    MetricsListen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error(transparent)]
    Config(#[from] config::file::FileError),
}

/// Opens the database, binds the listeners, starts every subsystem and serves until
/// [`Running::stop`] or a signal ([`Running::wait`]).
pub async fn start(config: Config) -> Result<Running, StartError> {
    let config = config.with_file()?;
    install_crypto_provider();
    let metrics = match config.metrics_listen {
        Some(_) => Metrics::on(),
        None => Metrics::off(),
    };
    let db = Db::connect(&config.database_url).await?;
    let (listener, addr) = bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(
            bind(addr)
                .await
                .map_err(|source| StartError::MetricsListen { addr, source })?,
        ),
        None => None,
    };
    let verified_keys = Arc::new(VerifiedKeys::new());
    let event_bell = Arc::new(Bell::new());
    let device_auth = device_auth(&config, &db, &verified_keys, &event_bell, &metrics);
    let mut background = background_tasks(&db, &device_auth);
    let broker = embedded_broker(&config, &db, &device_auth, &metrics, &mut background).await?;
    let revocations = Arc::new(RevocationSignal::new());
    let revocation_workers =
        revocation_workers(&config, &db, broker.as_ref(), &revocations, &metrics).await?;
    background.push(events::start(
        db.clone(),
        config.node_name.clone(),
        &event_bell,
        revocation::backoff::Backoff {
            min: Duration::from_millis(config.event_retry_min_ms.max(1)),
            max: Duration::from_secs(config.event_retry_max_secs.max(1)),
        },
    ));
    // After the workers: the ends due while Keygate was down are applied now, and delivered.
    background.push(tokio::spawn(crate::key_ends::run(
        db.clone(),
        revocations.clone(),
    )));
    let webhooks = webhooks(&config, &device_auth, &metrics);
    let publish = Arc::new(http_publish::HttpPublish {
        auth: device_auth.clone(),
        broker: broker.clone(),
        max_packet_size: config.mqtt_max_packet_size.max(1),
        metrics: metrics.clone(),
    });
    let passwords = Arc::new(Argon2Pool::unobserved(
        "keygate-password",
        config.password_workers,
        PASSWORDS_WAITING_PER_WORKER,
    ));
    let state = AppState {
        db: db.clone(),
        settings: Arc::new(settings(&config, broker.as_deref(), webhooks.is_some())),
        sign_in_throttle: sign_in_throttle(),
        passwords: passwords.clone(),
        verified_keys,
        revocations,
        events: event_bell,
        back_off: device_auth.clone(),
        leptos_options: leptos_options(&config, addr),
    };
    let hosts =
        host_check::AllowedHosts::from_flags(config.public_url.as_ref(), &config.allowed_hosts);
    match &hosts {
        Some(hosts) => tracing::info!("the dashboard answers only for {}", hosts.describe()),
        None => tracing::info!(
            "the dashboard answers for every host name; set --public-url to refuse others"
        ),
    }
    let mut servers = Servers::new();
    servers.serve(
        listener,
        router::router(
            state,
            config.secure_cookies,
            publish,
            webhooks,
            hosts,
            &metrics,
        ),
    );
    tracing::info!("Keygate dashboard on http://{addr}");
    let sources = Sources {
        device_auth: device_auth.clone(),
        passwords,
        broker: broker.clone(),
        db: db.clone(),
        targets: revocation_workers.targets().to_vec(),
    };
    let metrics_addr = metrics_endpoint(
        metrics_listener,
        &metrics,
        sources,
        &mut servers,
        &mut background,
    );
    Ok(Running {
        addr,
        metrics_addr,
        db,
        broker,
        device_auth,
        servers,
        background,
        revocation_workers,
    })
}

/// rustls needs one process-wide crypto provider (for the TLS listener and for HTTPS admin APIs);
/// with more than one compiled in it cannot pick by itself. Already installed is fine.
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Binds a TCP listener, and says where it listens (port 0 picks one).
async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// The decisions behind every MQTT CONNECT, on every broker path.
fn device_auth(
    config: &Config,
    db: &Db,
    verified_keys: &Arc<VerifiedKeys>,
    events: &Arc<Bell>,
    metrics: &Metrics,
) -> Arc<DeviceAuth> {
    Arc::new(DeviceAuth::new(
        db.clone(),
        verified_keys.clone(),
        device_auth::verifier::KeyVerifier::new(
            config
                .mqtt_auth_workers
                .unwrap_or_else(default_auth_workers),
            config.mqtt_auth_queue,
            metrics.verifier(),
        ),
        Limits {
            free_per_client: config.mqtt_lockout_after,
            free_per_address: config.mqtt_address_lockout_after,
            base: Duration::from_millis(config.mqtt_lockout_ms),
            max: Duration::from_secs(config.mqtt_lockout_max_secs),
            audit_window: Duration::from_secs(config.mqtt_audit_window_secs.max(1)),
        },
        config.mqtt_max_sessions_per_client,
        events.clone(),
    ))
}

/// All cores but one for argon2id, so a connect storm cannot take the dashboard's.
fn default_auth_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

/// The periodic sweeps, which run until Keygate stops.
fn background_tasks(db: &Db, device_auth: &Arc<DeviceAuth>) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(delete_expired_sessions(DbSessionStore::new(db.clone()))),
        tokio::spawn(flush_failures(device_auth.clone())),
        tokio::spawn(delete_old_login_failures(db.clone())),
    ]
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

/// Hourly sweep of refused logins older than the Edit modal reaches back.
async fn delete_old_login_failures(db: Db) {
    use app::store::login_failures;
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let before = app::store::now_millis() - login_failures::KEPT_MS;
        if let Err(e) = login_failures::delete_before(&db, before).await {
            tracing::warn!("could not delete old refused logins: {e}");
        }
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

/// The embedded broker, unless `--no-broker`; the task that writes its connects and disconnects
/// to the store joins `background`.
async fn embedded_broker(
    config: &Config,
    db: &Db,
    device_auth: &Arc<DeviceAuth>,
    metrics: &Metrics,
    background: &mut Vec<JoinHandle<()>>,
) -> Result<Option<Arc<Broker>>, StartError> {
    if config.no_broker {
        return Ok(None);
    }
    let (tracker, writer) = broker::tracking::Tracker::start(
        db.clone(),
        revocation::embedded_target_name(&config.node_name),
    )
    .await?;
    background.push(writer);
    let broker = broker::start(
        &broker_config(config),
        device_auth.clone(),
        tracker,
        metrics.clone(),
    )
    .await?;
    Ok(Some(Arc::new(broker)))
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

/// One delivery task per broker target: this node's embedded broker and every external one.
async fn revocation_workers(
    config: &Config,
    db: &Db,
    broker: Option<&Arc<Broker>>,
    signal: &RevocationSignal,
    metrics: &Metrics,
) -> Result<revocation::Workers, StartError> {
    let embedded = broker.map(|b| revocation::Target::Embedded(b.clone()));
    let external = config
        .broker_targets
        .iter()
        .cloned()
        .map(revocation::Target::AdminApi);
    let workers = revocation::start(
        db.clone(),
        config.node_name.clone(),
        embedded.into_iter().chain(external).collect(),
        signal,
        revocation::backoff::Backoff {
            min: Duration::from_millis(config.revocation_retry_min_ms.max(1)),
            max: Duration::from_secs(config.revocation_retry_max_secs.max(1)),
        },
        metrics.clone(),
    )
    .await?;
    Ok(workers)
}

/// The webhooks external brokers call, when a webhook secret is configured.
fn webhooks(
    config: &Config,
    device_auth: &Arc<DeviceAuth>,
    metrics: &Metrics,
) -> Option<Arc<webhooks::Webhooks>> {
    let secret = config.webhook_secret.clone()?;
    tracing::info!(
        "broker webhooks on /webhooks/emqx/authn, /webhooks/emqx/authz, /webhooks/vernemq and /webhooks/events"
    );
    Some(Arc::new(webhooks::Webhooks {
        auth: device_auth.clone(),
        secret,
        session_max: config.webhook_session_max_secs.map(Duration::from_secs),
        brokers: config
            .broker_targets
            .iter()
            .map(|target| target.name.clone())
            .collect(),
        metrics: metrics.clone(),
    }))
}

/// What the dashboard shows and allows.
fn settings(config: &Config, broker: Option<&Broker>, webhooks: bool) -> Settings {
    Settings {
        broker_host: config.broker_host.clone(),
        broker_port: config
            .broker_port
            .or(broker.map(|b| b.tcp_addr.port()))
            .unwrap_or(1883),
        open_signup: config.open_signup,
        session_idle_ms: (config.session_idle_secs * 1000) as i64,
        max_workspaces_per_organization: config.max_workspaces_per_organization,
        max_clients_per_workspace: config.max_clients_per_workspace,
        webhooks,
        http_publish: broker.is_some(),
    }
}

/// Passwords waiting for a worker, per worker: a few seconds of argon2id at most.
const PASSWORDS_WAITING_PER_WORKER: usize = 32;

/// The dashboard's sign-in throttle: five free failures, then 2 s doubling up to 15 min.
fn sign_in_throttle() -> Arc<Throttle> {
    Arc::new(Throttle::new(
        5,
        Duration::from_secs(2),
        Duration::from_secs(900),
    ))
}

fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("keygate")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// The metrics endpoint on its own listener, and the upkeep its histograms need; where it
/// listens, or `None` when metrics are off.
fn metrics_endpoint(
    listener: Option<(TcpListener, SocketAddr)>,
    metrics: &Metrics,
    sources: Sources,
    servers: &mut Servers,
    background: &mut Vec<JoinHandle<()>>,
) -> Option<SocketAddr> {
    let (listener, addr) = listener?;
    let (endpoint, handle) = (exporter::router(metrics, sources)?, metrics.handle()?);
    servers.serve(listener, endpoint);
    background.push(tokio::spawn(exporter::upkeep(handle)));
    tracing::info!("Keygate metrics on http://{addr}{}", exporter::PATH);
    Some(addr)
}
