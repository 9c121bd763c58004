//! The metrics endpoint: `GET /metrics` in Prometheus's text format, on a listener of its own
//! (`--metrics-listen`), so that it can be open to the monitoring network and closed to the
//! dashboard's users. It is a plain axum router: the exporter crate's own HTTP listener would
//! bring a second HTTP server stack for one route.
//!
//! Gauges are read from their sources as each scrape arrives (see `telemetry::metrics`): the
//! verification queue from the verifier, sessions from the embedded broker, revocation queues
//! from the store.

use super::metrics::Metrics;
use crate::broker::Broker;
use crate::device_auth::DeviceAuth;
use app::argon2_pool::Argon2Pool;
use app::store::{Db, broker_targets};
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::Duration;

/// The path the metrics are served on.
pub const PATH: &str = "/metrics";

/// How often histogram samples are folded into their buckets between scrapes, so that memory
/// does not grow with the number of requests when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// Where the gauges are read from.
pub struct Sources {
    pub device_auth: Arc<DeviceAuth>,
    /// The dashboard's argon2id pool for passwords and typed keys.
    pub passwords: Arc<Argon2Pool>,
    /// The embedded broker, unless `--no-broker`.
    pub broker: Option<Arc<Broker>>,
    pub db: Db,
    /// The broker targets this process delivers revocations to.
    pub targets: Vec<String>,
}

struct Exporter {
    metrics: Metrics,
    handle: PrometheusHandle,
    sources: Sources,
}

/// The endpoint's router; `None` when metrics are off.
pub fn router(metrics: &Metrics, sources: Sources) -> Option<Router> {
    let handle = metrics.handle()?;
    let exporter = Arc::new(Exporter {
        metrics: metrics.clone(),
        handle,
        sources,
    });
    Some(
        Router::new()
            .route(PATH, axum::routing::get(scrape))
            .with_state(exporter),
    )
}

async fn scrape(State(exporter): State<Arc<Exporter>>) -> Response {
    exporter.sample().await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        exporter.handle.render(),
    )
        .into_response()
}

impl Exporter {
    /// Sets every gauge from its source.
    async fn sample(&self) {
        let Sources {
            device_auth,
            passwords,
            broker,
            db,
            targets,
        } = &self.sources;
        self.metrics
            .verification_queue_depth(device_auth.verifier().waiting());
        self.metrics
            .password_pool(passwords.runs(), passwords.waiting());
        if let Some(broker) = broker {
            let counts = broker.session_counts();
            self.metrics.mqtt_sessions(counts.online, counts.offline);
        }
        match broker_targets::list(db).await {
            Ok(known) => {
                for target in known.iter().filter(|t| targets.contains(&t.name)) {
                    self.metrics.revocation_queue(
                        &target.name,
                        target.queue_depth,
                        target.needs_attention,
                    );
                }
            }
            // The gauges keep their last values; the scrape still answers.
            Err(e) => tracing::warn!("cannot read the revocation queues for the metrics: {e}"),
        }
    }
}

/// Folds histogram samples into their buckets every few seconds, until aborted.
pub async fn upkeep(handle: PrometheusHandle) {
    let mut every = tokio::time::interval(UPKEEP);
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}
