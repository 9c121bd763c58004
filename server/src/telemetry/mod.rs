//! What Keygate tells its operators besides the text of its log lines: which HTTP request a log
//! line belongs to ([`requests`]), and Prometheus metrics ([`metrics`]), served on a listener of
//! their own when `--metrics-listen` is set ([`exporter`]).

pub mod exporter;
pub mod metrics;
pub mod requests;

pub use metrics::Metrics;
