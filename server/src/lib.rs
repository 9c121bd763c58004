//! The `keygate` server: configuration, the axum router around the Leptos app, the embedded
//! broker, device authentication, revocation delivery, the broker webhooks and HTTP publish,
//! started and stopped by [`startup`]. Integration tests start it through [`start`] on random
//! ports.

mod api_responses;
pub mod broker;
pub mod cli;
pub mod commands;
pub mod config;
pub mod device_auth;
pub mod events;
pub mod host_check;
pub mod http_publish;
pub mod key_ends;
mod origin_check;
pub mod rest;
pub mod revocation;
mod router;
mod see_other;
mod startup;
pub mod telemetry;
pub mod webhooks;

pub use router::router;
pub use startup::{Running, StartError, start};
