//! Keygate's configuration: every flag is also an environment variable (`keygate --help`).

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Parser)]
#[command(
    name = "keygate",
    version,
    about = "Self-hosted MQTT credential service: a dashboard for client keys that the broker honours at once."
)]
pub struct Config {
    /// Address the dashboard listens on.
    #[arg(long, env = "KEYGATE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Database: `sqlite://PATH` (created when missing) or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/keygate.db")]
    pub database_url: String,

    /// Broker host shown to users in connection details. Default: the host the dashboard was reached at.
    #[arg(long, env = "KEYGATE_BROKER_HOST")]
    pub broker_host: Option<String>,

    /// Broker MQTT port shown to users in connection details.
    #[arg(long, env = "KEYGATE_BROKER_PORT", default_value_t = 1883)]
    pub broker_port: u16,

    /// Let anyone sign up and create an organization. Without it only the first visitor of an empty install can.
    #[arg(long, env = "KEYGATE_OPEN_SIGNUP")]
    pub open_signup: bool,

    /// Mark session cookies `Secure` (set this when users reach Keygate over HTTPS).
    #[arg(long, env = "KEYGATE_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Folder with the compiled browser bundle (`pkg/`) and static files.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Log filter, e.g. `info`, `keygate=debug,sqlx=warn`, `trace`.
    #[arg(long, env = "KEYGATE_LOG", default_value = "info")]
    pub log: String,
}
