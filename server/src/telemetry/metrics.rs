//! Keygate's Prometheus metrics: every name, its help text, its labels and its buckets, in one
//! place, and the one function per measurement the subsystems call.
//!
//! Each running Keygate has a recorder of its own, never the process-wide one the `metrics` macros
//! write to: a test binary runs many Keygates in one process at once, and each must count only
//! what happened to it, so its test can check exact numbers while others run. Subsystems get a
//! [`Metrics`] when they start; with the endpoint off (no `--metrics-listen`) it is [`Metrics::off`]
//! and every handle it gives records nothing.
//!
//! Counters and histograms are recorded where their events happen. Gauges (queue depths, sessions)
//! are read from their source when the endpoint is scraped (see `telemetry::exporter`), so they
//! cannot drift from what they measure and cost nothing between scrapes.
//!
//! Labels take a bounded set of values: outcomes and refusal reasons are enums, a broker target is
//! one of the configured ones, and an HTTP route is its pattern (`/api/clients/create`), never the
//! path a client sent.

use crate::device_auth::Refusal;
use crate::device_auth::outcome::Outcome;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::sync::Arc;
use std::time::Duration;

/// A metric: its name, what it measures, and for a histogram its bucket bounds in seconds.
struct Definition {
    name: &'static str,
    kind: Kind,
    help: &'static str,
}

enum Kind {
    Counter,
    Gauge,
    Histogram(&'static [f64]),
}

pub const DEVICE_CONNECTS: &str = "keygate_device_connects_total";
pub const KEY_VERIFICATION_QUEUE_DEPTH: &str = "keygate_key_verification_queue_depth";
pub const KEY_VERIFICATION_WAIT: &str = "keygate_key_verification_wait_seconds";
pub const KEY_VERIFICATION: &str = "keygate_key_verification_seconds";
pub const PASSWORD_HASHES: &str = "keygate_password_hashes_total";
pub const PASSWORD_QUEUE_DEPTH: &str = "keygate_password_queue_depth";
pub const MQTT_SESSIONS: &str = "keygate_mqtt_sessions";
pub const REVOCATION_DELIVERIES: &str = "keygate_revocation_deliveries_total";
pub const REVOCATION_DELIVERY_LATENCY: &str = "keygate_revocation_delivery_seconds";
pub const REVOCATION_QUEUE_DEPTH: &str = "keygate_revocation_queue_depth";
pub const REVOCATION_NEEDS_ATTENTION: &str = "keygate_revocation_needs_attention";
pub const HTTP_REQUEST_DURATION: &str = "keygate_http_request_duration_seconds";

/// Every metric Keygate exports.
const DEFINITIONS: &[Definition] = &[
    Definition {
        name: DEVICE_CONNECTS,
        kind: Kind::Counter,
        help: "MQTT CONNECTs and HTTP publishes' logins decided, by path (embedded, webhook, \
               http), outcome (allowed, bad_credentials, unknown_client, not_authorized, \
               identifier_rejected, busy, unavailable) and, for a refusal, its reason.",
    },
    Definition {
        name: KEY_VERIFICATION_QUEUE_DEPTH,
        kind: Kind::Gauge,
        help: "Key verifications (argon2id) waiting for a verification worker.",
    },
    Definition {
        name: PASSWORD_HASHES,
        kind: Kind::Counter,
        help: "argon2id hashes and verifications of passwords and typed client keys the \
               dashboard ran (sign-in, sign-up, New and Regenerate with a typed key).",
    },
    Definition {
        name: PASSWORD_QUEUE_DEPTH,
        kind: Kind::Gauge,
        help: "Passwords and typed keys waiting for an argon2id worker of the dashboard.",
    },
    Definition {
        name: KEY_VERIFICATION_WAIT,
        kind: Kind::Histogram(&[
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ]),
        help: "Time a key verification waited for a verification worker, in seconds.",
    },
    Definition {
        name: KEY_VERIFICATION,
        kind: Kind::Histogram(&[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
        help: "Time argon2id took to verify a key on a verification worker, in seconds.",
    },
    Definition {
        name: MQTT_SESSIONS,
        kind: Kind::Gauge,
        help: "Sessions on the embedded broker: online (a device is connected) or offline (kept \
               for a device that left, with its subscriptions and queued messages).",
    },
    Definition {
        name: REVOCATION_DELIVERIES,
        kind: Kind::Counter,
        help: "Attempts to close a revoked client's sessions on a broker target, by result: \
               delivered, retry (failed, tried again after a back-off) or set_aside (refused \
               for good, waiting for an operator).",
    },
    Definition {
        name: REVOCATION_DELIVERY_LATENCY,
        kind: Kind::Histogram(&[
            0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
        ]),
        help: "Time from a revocation's commit to its broker target's confirmation that the \
               client's sessions are closed, in seconds.",
    },
    Definition {
        name: REVOCATION_QUEUE_DEPTH,
        kind: Kind::Gauge,
        help: "Revocations waiting to be delivered to a broker target this process serves (not \
               counting those set aside).",
    },
    Definition {
        name: REVOCATION_NEEDS_ATTENTION,
        kind: Kind::Gauge,
        help: "Revocations a broker target this process serves refused for good, waiting for an \
               operator's Retry on Settings > Brokers.",
    },
    Definition {
        name: HTTP_REQUEST_DURATION,
        kind: Kind::Histogram(&[
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ]),
        help: "Time to answer an HTTP request of the dashboard or the webhooks (until the \
               response's head), by route pattern, method and status class.",
    },
];

/// Which path a device's login was decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectPath {
    /// A CONNECT to the embedded broker.
    Embedded,
    /// A CONNECT an external broker asked about.
    Webhook,
    /// An HTTP publish (`POST /v1/publish/...`), which logs in per request.
    Http,
}

impl ConnectPath {
    fn as_str(self) -> &'static str {
        match self {
            ConnectPath::Embedded => "embedded",
            ConnectPath::Webhook => "webhook",
            ConnectPath::Http => "http",
        }
    }
}

/// How one revocation delivery attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryResult {
    Delivered,
    Retry,
    SetAside,
}

impl DeliveryResult {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryResult::Delivered => "delivered",
            DeliveryResult::Retry => "retry",
            DeliveryResult::SetAside => "set_aside",
        }
    }
}

/// The handles the key verification workers record with: they run on threads of their own.
#[derive(Clone)]
pub struct VerifierMetrics {
    /// Time in the queue, until a worker took the verification.
    pub waited: Histogram,
    /// Time the verification took (argon2id, or a generated key's SHA-256).
    pub verified: Histogram,
}

/// One Keygate's metrics; cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<PrometheusRecorder>>);

/// Where metrics recorded through handles come from; Prometheus shows none of it.
static METADATA: Metadata<'static> = Metadata::new("keygate", Level::INFO, None);

impl Metrics {
    /// Metrics that record nothing: the endpoint is off.
    pub fn off() -> Self {
        Self(None)
    }

    /// A recorder of its own, with every metric described and every histogram's buckets set.
    pub fn on() -> Self {
        let mut builder = PrometheusBuilder::new();
        for definition in DEFINITIONS {
            if let Kind::Histogram(buckets) = definition.kind {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(definition.name.into()), buckets)
                    .expect("every histogram has buckets");
            }
        }
        let recorder = builder.build_recorder();
        for definition in DEFINITIONS {
            let name = KeyName::from_const_str(definition.name);
            let help = definition.help.into();
            match definition.kind {
                Kind::Counter => recorder.describe_counter(name, None, help),
                Kind::Gauge => recorder.describe_gauge(name, None, help),
                Kind::Histogram(_) => recorder.describe_histogram(name, Some(Unit::Seconds), help),
            }
        }
        Self(Some(Arc::new(recorder)))
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// What renders the metrics for a scrape, and keeps histograms from growing between scrapes.
    pub fn handle(&self) -> Option<PrometheusHandle> {
        self.0.as_ref().map(|recorder| recorder.handle())
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        match &self.0 {
            Some(recorder) => recorder.register_counter(&Key::from_parts(name, labels), &METADATA),
            None => Counter::noop(),
        }
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        match &self.0 {
            Some(recorder) => recorder.register_gauge(&Key::from_parts(name, labels), &METADATA),
            None => Gauge::noop(),
        }
    }

    fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        match &self.0 {
            Some(recorder) => {
                recorder.register_histogram(&Key::from_parts(name, labels), &METADATA)
            }
            None => Histogram::noop(),
        }
    }

    /// A CONNECT decided on `path`: allowed, or refused with its outcome and reason.
    pub fn device_connect<T>(&self, path: ConnectPath, decided: &Result<T, Refusal>) {
        let mut labels = vec![
            Label::from_static_parts("path", path.as_str()),
            Label::from_static_parts("outcome", Outcome::of(decided).as_str()),
        ];
        if let Err(refusal) = decided {
            labels.push(Label::from_static_parts("reason", refusal.reason()));
        }
        self.counter(DEVICE_CONNECTS, labels).increment(1);
    }

    /// The handles for the key verification workers.
    pub fn verifier(&self) -> VerifierMetrics {
        VerifierMetrics {
            waited: self.histogram(KEY_VERIFICATION_WAIT, Vec::new()),
            verified: self.histogram(KEY_VERIFICATION, Vec::new()),
        }
    }

    /// How many key verifications wait for a worker.
    pub fn verification_queue_depth(&self, waiting: usize) {
        self.gauge(KEY_VERIFICATION_QUEUE_DEPTH, Vec::new())
            .set(waiting as f64);
    }

    /// How many argon2id jobs the dashboard's password pool has run, and how many wait.
    pub fn password_pool(&self, runs: u64, waiting: usize) {
        self.counter(PASSWORD_HASHES, Vec::new()).absolute(runs);
        self.gauge(PASSWORD_QUEUE_DEPTH, Vec::new())
            .set(waiting as f64);
    }

    /// How many sessions the embedded broker holds, online and offline.
    pub fn mqtt_sessions(&self, online: usize, offline: usize) {
        for (state, count) in [("online", online), ("offline", offline)] {
            self.gauge(
                MQTT_SESSIONS,
                vec![Label::from_static_parts("state", state)],
            )
            .set(count as f64);
        }
    }

    /// A delivery attempt to `target` ended with `result`; a delivered one `since_commit` after
    /// its revocation was committed.
    pub fn revocation_delivery(
        &self,
        target: &str,
        result: DeliveryResult,
        since_commit: Option<Duration>,
    ) {
        let target = Label::new("target", target.to_owned());
        self.counter(
            REVOCATION_DELIVERIES,
            vec![
                target.clone(),
                Label::from_static_parts("result", result.as_str()),
            ],
        )
        .increment(1);
        if let Some(latency) = since_commit {
            self.histogram(REVOCATION_DELIVERY_LATENCY, vec![target])
                .record(latency);
        }
    }

    /// How many revocations wait for `target`, and how many it refused for good.
    pub fn revocation_queue(&self, target: &str, waiting: u64, needs_attention: u64) {
        let target = || vec![Label::new("target", target.to_owned())];
        self.gauge(REVOCATION_QUEUE_DEPTH, target())
            .set(waiting as f64);
        self.gauge(REVOCATION_NEEDS_ATTENTION, target())
            .set(needs_attention as f64);
    }

    /// An HTTP request answered in `elapsed`: `route` is the pattern it matched, `None` for the
    /// fallback (static files, pages that do not exist).
    pub fn http_request(
        &self,
        route: Option<&str>,
        method: &http::Method,
        status: http::StatusCode,
        elapsed: Duration,
    ) {
        let labels = vec![
            Label::new("route", route.unwrap_or("fallback").to_owned()),
            Label::from_static_parts("method", method_label(method)),
            Label::from_static_parts("status", status_class(status)),
        ];
        self.histogram(HTTP_REQUEST_DURATION, labels)
            .record(elapsed);
    }
}

/// A method as a label: the standard ones by name, any other as `other`, so a client cannot add
/// label values.
fn method_label(method: &http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: http::StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        for definition in DEFINITIONS {
            let name = definition.name;
            assert!(name.starts_with("keygate_"), "{name}");
            match definition.kind {
                Kind::Counter => assert!(name.ends_with("_total"), "{name}"),
                Kind::Histogram(buckets) => {
                    assert!(name.ends_with("_seconds"), "{name}");
                    assert!(buckets.windows(2).all(|w| w[0] < w[1]), "{name}");
                }
                Kind::Gauge => assert!(!name.ends_with("_total"), "{name}"),
            }
            assert!(definition.help.ends_with('.'), "{name}");
        }
    }

    #[test]
    fn label_values_are_bounded() {
        assert_eq!(method_label(&http::Method::PATCH), "PATCH");
        assert_eq!(
            method_label(&http::Method::from_bytes(b"BREW").unwrap()),
            "other"
        );
        assert_eq!(status_class(http::StatusCode::NOT_FOUND), "4xx");
        assert_eq!(status_class(http::StatusCode::SERVICE_UNAVAILABLE), "5xx");
    }

    #[test]
    fn a_recorder_that_is_off_records_nothing_and_one_that_is_on_renders_help() {
        let off = Metrics::off();
        off.device_connect::<()>(ConnectPath::Embedded, &Err(Refusal::Inactive));
        assert!(off.handle().is_none());

        let on = Metrics::on();
        on.device_connect::<()>(ConnectPath::Embedded, &Err(Refusal::Inactive));
        on.device_connect(ConnectPath::Webhook, &Ok(()));
        on.device_connect::<()>(ConnectPath::Http, &Err(Refusal::Throttled(4)));
        let text = on.handle().unwrap().render();
        assert!(text.contains("# HELP keygate_device_connects_total MQTT CONNECTs and HTTP"));
        assert!(text.contains(
            r#"keygate_device_connects_total{path="embedded",outcome="not_authorized",reason="inactive"} 1"#
        ));
        assert!(
            text.contains(r#"keygate_device_connects_total{path="webhook",outcome="allowed"} 1"#)
        );
        assert!(text.contains(
            r#"keygate_device_connects_total{path="http",outcome="not_authorized",reason="throttled"} 1"#
        ));
        // Another Keygate in the same process counts apart.
        let other = Metrics::on();
        assert!(
            !other
                .handle()
                .unwrap()
                .render()
                .contains("keygate_device_connects_total{")
        );
    }
}
