//! Keygate's configuration: every flag is also an environment variable (`keygate --help`), and
//! `--config FILE` adds what is awkward on a command line (named broker targets with their
//! credentials, the webhook secret).

pub mod file;

use crate::host_check::{AllowedHost, PublicUrl};
use crate::revocation::admin_api::AdminApi;
use clap::Parser;
use secrecy::SecretString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

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
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/keygate.db",
        global = true
    )]
    pub database_url: String,

    /// Broker host shown to users in connection details. Default: the host the dashboard was reached at.
    #[arg(long, env = "KEYGATE_BROKER_HOST")]
    pub broker_host: Option<String>,

    /// Broker MQTT port shown to users in connection details. Default: the embedded broker's port
    /// (1883 with `--no-broker`).
    #[arg(long, env = "KEYGATE_BROKER_PORT")]
    pub broker_port: Option<u16>,

    /// Run without the embedded MQTT broker (for deployments whose devices use an external broker).
    #[arg(long, env = "KEYGATE_NO_BROKER")]
    pub no_broker: bool,

    /// Address the embedded broker accepts MQTT 3.1.1 and 5 on (plain TCP).
    #[arg(long, env = "KEYGATE_MQTT_LISTEN", default_value = "0.0.0.0:1883")]
    pub mqtt_listen: SocketAddr,

    /// Also accept MQTT over WebSocket on this address (e.g. `0.0.0.0:8083`).
    #[arg(long, env = "KEYGATE_MQTT_WS_LISTEN")]
    pub mqtt_ws_listen: Option<SocketAddr>,

    /// Also accept MQTT over TLS on this address (e.g. `0.0.0.0:8883`); needs the two flags below.
    #[arg(long, env = "KEYGATE_MQTT_TLS_LISTEN", requires_all = ["mqtt_tls_cert", "mqtt_tls_key"])]
    pub mqtt_tls_listen: Option<SocketAddr>,

    /// PEM certificate chain for the TLS listener.
    #[arg(long, env = "KEYGATE_MQTT_TLS_CERT")]
    pub mqtt_tls_cert: Option<PathBuf>,

    /// PEM private key for the TLS listener.
    #[arg(long, env = "KEYGATE_MQTT_TLS_KEY")]
    pub mqtt_tls_key: Option<PathBuf>,

    /// This process's name among brokers sharing one database; its live sessions are cleared at start.
    #[arg(long, env = "KEYGATE_NODE_NAME", default_value = "keygate")]
    pub node_name: String,

    /// How many argon2id key verifications may run at once. Default: all cores but one, so a
    /// connect storm leaves a core to the dashboard.
    #[arg(long, env = "KEYGATE_MQTT_AUTH_WORKERS")]
    pub mqtt_auth_workers: Option<usize>,

    /// How many connects per verification worker may wait for their key to be checked; beyond,
    /// a connect is refused at once as busy (the device retries) instead of waiting until its
    /// handshake times out.
    #[arg(long, env = "KEYGATE_MQTT_AUTH_QUEUE", default_value_t = crate::device_auth::verifier::DEFAULT_WAITING_PER_WORKER, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub mqtt_auth_queue: usize,

    /// How many argon2id hashes of passwords and typed client keys (sign-in, sign-up, New and
    /// Regenerate with a typed key) may run at once; each takes 19 MiB while it runs. Up to 32
    /// more per worker wait; beyond, the dashboard answers "busy, try again" (503).
    #[arg(long, env = "KEYGATE_PASSWORD_WORKERS", default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub password_workers: usize,

    /// Wrong keys per client (from anywhere, and from one address) before further attempts are
    /// refused for a while. An address that authenticated the client before is not refused for
    /// other addresses' failures.
    #[arg(long, env = "KEYGATE_MQTT_LOCKOUT_AFTER", default_value_t = 5)]
    pub mqtt_lockout_after: u32,

    /// Failed MQTT logins for Client IDs that do not exist, per source address, before further
    /// such attempts from it are refused for a while (a client that exists is never refused for
    /// them).
    #[arg(long, env = "KEYGATE_MQTT_ADDRESS_LOCKOUT_AFTER", default_value_t = 20)]
    pub mqtt_address_lockout_after: u32,

    /// The first lock-out in milliseconds; it doubles with each further failure.
    #[arg(long, env = "KEYGATE_MQTT_LOCKOUT_MS", default_value_t = 1000)]
    pub mqtt_lockout_ms: u64,

    /// The longest lock-out in seconds.
    #[arg(long, env = "KEYGATE_MQTT_LOCKOUT_MAX_SECS", default_value_t = 900)]
    pub mqtt_lockout_max_secs: u64,

    /// How many MQTT client identifiers (sessions, connected or kept for later) one client may
    /// hold on one broker. Beyond it, the client's oldest offline session makes room, and when
    /// all are connected a new one is refused. On an external broker each is one admin API call
    /// when the client is revoked.
    #[arg(long, env = "KEYGATE_MQTT_MAX_SESSIONS_PER_CLIENT", default_value_t = crate::device_auth::DEFAULT_MAX_SESSIONS_PER_CLIENT, value_parser = clap::value_parser!(u32).range(1..))]
    pub mqtt_max_sessions_per_client: u32,

    /// Refused MQTT logins are audited once at first, then summarised once per this many seconds;
    /// each client's failure counts (the Edit modal's) are written as often.
    #[arg(long, env = "KEYGATE_MQTT_AUDIT_WINDOW_SECS", default_value_t = 60)]
    pub mqtt_audit_window_secs: u64,

    /// How long the broker keeps a disconnected device's session (its subscriptions and queued
    /// messages), in seconds: the lifetime of an MQTT 3.1.1 session without clean session, and the
    /// cap on the session expiry an MQTT 5 device asks for.
    #[arg(
        long,
        env = "KEYGATE_MQTT_MAX_SESSION_EXPIRY_SECS",
        default_value_t = 7200,
        value_parser = |s: &str| at_least_one::<u32>(s, "0 would let MQTT 5 sessions live for ever")
    )]
    pub mqtt_max_session_expiry_secs: u32,

    /// Subscriptions one session may hold at once; a SUBSCRIBE beyond them fails in the SUBACK.
    #[arg(
        long,
        env = "KEYGATE_MQTT_MAX_SUBSCRIPTIONS",
        default_value_t = 100,
        value_parser = |s: &str| at_least_one::<u32>(s, "0 would mean no limit")
    )]
    pub mqtt_max_subscriptions: u32,

    /// The largest MQTT packet the broker reads, in bytes (counted after the 2 to 5 bytes of its
    /// fixed header), from 1024 to 268435455; a device that sends a larger one is disconnected.
    /// MQTT 5 devices are told it.
    #[arg(
        long,
        env = "KEYGATE_MQTT_MAX_PACKET_SIZE",
        default_value_t = 262_144,
        value_parser = packet_size
    )]
    pub mqtt_max_packet_size: u32,

    /// Messages the broker queues for one session while its device is offline or behind; when
    /// full, a new QoS 1 or 2 message pushes out the oldest, a new QoS 0 message is dropped.
    #[arg(
        long,
        env = "KEYGATE_MQTT_MAX_QUEUED_MESSAGES",
        default_value_t = 100,
        value_parser = |s: &str| at_least_one::<u32>(s, "0 would drop every message, since every delivery passes through the queue")
    )]
    pub mqtt_max_queued_messages: u32,

    /// QoS 1 and 2 messages sent to a device and not yet acknowledged, at most (MQTT 5 devices are
    /// told it as the Receive Maximum); further messages wait in the queue.
    #[arg(
        long,
        env = "KEYGATE_MQTT_MAX_INFLIGHT",
        default_value_t = 16,
        value_parser = |s: &str| at_least_one::<u16>(s, "0 would leave no room for a single message")
    )]
    pub mqtt_max_inflight: u16,

    /// Seconds a connection may take for its TLS or WebSocket handshake, and again for the rest of
    /// its CONNECT once the protocol version (its first 9 or so bytes) has arrived; past it the
    /// broker closes it. Those first bytes have no deadline: rmqtt waits for them as long as the
    /// connection lasts.
    #[arg(
        long,
        env = "KEYGATE_MQTT_HANDSHAKE_TIMEOUT_SECS",
        default_value_t = 10,
        value_parser = |s: &str| at_least_one::<u32>(s, "0 would refuse every connection")
    )]
    pub mqtt_handshake_timeout_secs: u32,

    /// An external broker to disconnect revoked clients on, as `KIND=URL` with KIND one of emqx,
    /// rmqtt, vernemq and credentials in the URL (`emqx=http://API_KEY:SECRET@10.0.0.5:18083`).
    /// Repeat the flag, or separate several with commas in the variable.
    #[arg(
        long = "broker-target",
        env = "KEYGATE_BROKER_TARGETS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub broker_targets: Vec<AdminApi>,

    /// A TOML file with more settings: `webhook_secret`, `metrics_listen`, and
    /// `[[broker_target]]` tables (name, kind, url, username, password, token). Flags win over
    /// the file.
    #[arg(long, env = "KEYGATE_CONFIG")]
    pub config: Option<PathBuf>,

    /// The secret external brokers send to the webhooks (`Authorization: Bearer SECRET`, or HTTP
    /// Basic with it as the password); at least 16 characters. Without it the webhooks are off.
    #[arg(long, env = "KEYGATE_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<WebhookSecret>,

    /// Tell external brokers to disconnect a webhook-authenticated device after this many
    /// seconds (EMQX and rmqtt `expire_at`), so it must present its key again. Default: never.
    #[arg(long, env = "KEYGATE_WEBHOOK_SESSION_MAX_SECS")]
    pub webhook_session_max_secs: Option<u64>,

    /// The first wait before a failed revocation delivery is retried, in milliseconds; it
    /// doubles with each further failure (with jitter).
    #[arg(long, env = "KEYGATE_REVOCATION_RETRY_MIN_MS", default_value_t = 250)]
    pub revocation_retry_min_ms: u64,

    /// The longest wait between two retries of a revocation delivery, in seconds.
    #[arg(long, env = "KEYGATE_REVOCATION_RETRY_MAX_SECS", default_value_t = 30)]
    pub revocation_retry_max_secs: u64,

    /// The first wait before a failed credential event delivery is retried, in milliseconds; it
    /// doubles with each further failure (with jitter).
    #[arg(long, env = "KEYGATE_EVENT_RETRY_MIN_MS", default_value_t = 1000)]
    pub event_retry_min_ms: u64,

    /// The longest wait between two retries of a credential event delivery, in seconds.
    #[arg(long, env = "KEYGATE_EVENT_RETRY_MAX_SECS", default_value_t = 300)]
    pub event_retry_max_secs: u64,

    /// Let anyone sign up and create an organization. Without it only the first visitor of an empty install can.
    #[arg(long, env = "KEYGATE_OPEN_SIGNUP")]
    pub open_signup: bool,

    /// The address users open the dashboard at, e.g. `https://keygate.example.com`. With it (or
    /// `--allowed-hosts`), a request whose Host header names another host is refused (421), so a
    /// web page cannot reach this Keygate through a DNS name of its own (DNS rebinding). Set it
    /// on every install: without either flag every host name is answered.
    #[arg(long, env = "KEYGATE_PUBLIC_URL")]
    pub public_url: Option<PublicUrl>,

    /// More host names the dashboard answers for, comma-separated: `host` (any port) or
    /// `host:port`, e.g. `localhost:3000,10.0.0.5`. Setting it turns the Host check on, like
    /// `--public-url`.
    #[arg(long, env = "KEYGATE_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<AllowedHost>,

    /// Mark session cookies `Secure` (set this when users reach Keygate over HTTPS).
    #[arg(long, env = "KEYGATE_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// The most workspaces one organization may have (each holds a namespace nobody else can take).
    #[arg(long, env = "KEYGATE_MAX_WORKSPACES_PER_ORGANIZATION", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_workspaces_per_organization: u32,

    /// The most clients one workspace may have.
    #[arg(long, env = "KEYGATE_MAX_CLIENTS_PER_WORKSPACE", default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_clients_per_workspace: u32,

    /// End a dashboard session after this many seconds without a request (default: 7 days).
    /// Every request of an active session moves the deadline on.
    #[arg(long, env = "KEYGATE_SESSION_IDLE_SECS", default_value_t = 7 * 24 * 60 * 60, value_parser = clap::value_parser!(u64).range(10..=31_536_000))]
    pub session_idle_secs: u64,

    /// Folder with the compiled browser bundle (`pkg/`) and static files.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Serve Prometheus metrics at `/metrics` on this address, e.g. `127.0.0.1:9464` (a listener
    /// of its own, so it can be reachable from monitoring only). Default: off.
    #[arg(long, env = "KEYGATE_METRICS_LISTEN", value_parser = listen_address)]
    pub metrics_listen: Option<SocketAddr>,

    /// Log filter, e.g. `info`, `keygate=debug,sqlx=warn`, `trace`.
    #[arg(long, env = "KEYGATE_LOG", default_value = "info")]
    pub log: String,

    /// Without a command, Keygate serves the dashboard and the broker.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands: operator commands run once against `--database-url` and exit; `clients` and
/// `workspaces` talk to a running Keygate's REST API.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Forget a broker target that no Keygate process delivers to any more (a renamed or removed
    /// node, a broker taken out of the configuration), so that revocations stop waiting for it.
    /// Refused while a running process delivers to it.
    ForgetBrokerTarget {
        /// The target's name as Settings → Brokers shows it, e.g. `embedded:old-node` or `emqx-eu`.
        name: String,
    },
    /// Manage clients on a running Keygate through its REST API, with an API token
    /// (`KEYGATE_URL`, `KEYGATE_TOKEN`). Exit codes: 0 done, 1 failed, 2 usage, 3 token refused,
    /// 4 not allowed for the token, 5 not found, 6 input refused, 7 Keygate unreachable.
    Clients {
        #[command(flatten)]
        connection: crate::cli::Connection,
        #[command(subcommand)]
        command: crate::cli::ClientsCommand,
    },
    /// List the workspaces an API token reaches, through the REST API of a running Keygate.
    Workspaces {
        #[command(flatten)]
        connection: crate::cli::Connection,
        #[command(subcommand)]
        command: crate::cli::WorkspacesCommand,
    },
}

impl Config {
    /// The configuration with every default, as `keygate` with no flags and no environment has it.
    pub fn defaults() -> Self {
        Self::parse_from(["keygate"])
    }

    /// Adds what `--config` names; flags and variables win. Broker target names must be unique
    /// across the flags and the file together.
    pub fn with_file(mut self) -> Result<Self, file::FileError> {
        if let Some(path) = self.config.clone() {
            let loaded = file::load(&path)?;
            if self.webhook_secret.is_none() {
                self.webhook_secret = loaded.webhook_secret;
            }
            if self.metrics_listen.is_none() {
                self.metrics_listen = loaded.metrics_listen;
            }
            self.broker_targets.extend(loaded.broker_targets);
        }
        let mut seen = std::collections::HashSet::new();
        for target in &self.broker_targets {
            if !seen.insert(target.name.clone()) {
                return Err(file::FileError::DuplicateTarget(target.name.clone()));
            }
        }
        Ok(self)
    }
}

/// The whole-number types the broker limits come in, with their largest value.
trait Count: FromStr + PartialOrd + From<u8> + fmt::Display {
    const MAX: Self;
}

impl Count for u16 {
    const MAX: Self = u16::MAX;
}

impl Count for u32 {
    const MAX: Self = u32::MAX;
}

/// Parses a broker limit that must be at least 1. rmqtt gives 0 a meaning of its own (no limit,
/// or nothing passes), never that of a small limit, so a 0 is refused with `zero`, what it would do.
fn at_least_one<T: Count>(s: &str, zero: &str) -> Result<T, String> {
    match s.parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        Ok(_) => Err(format!("must be at least 1: {zero}")),
        Err(_) => Err(format!("must be a whole number from 1 to {}", T::MAX)),
    }
}

/// The smallest and largest `--mqtt-max-packet-size`: the floor keeps a slip of the finger from
/// refusing ordinary CONNECT packets (credentials, a Last Will), the ceiling is the largest packet
/// MQTT can encode.
const PACKET_SIZE_RANGE: std::ops::RangeInclusive<u32> = 1024..=268_435_455;

fn packet_size(s: &str) -> Result<u32, String> {
    let range = PACKET_SIZE_RANGE;
    match s.parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "must be from {} to {} bytes: the floor keeps ordinary CONNECT packets fitting, \
             the ceiling is the largest packet MQTT can encode, and 0 would mean no limit",
            range.start(),
            range.end()
        )),
    }
}

/// Parses an address to listen on: an IP address and a port. A host name is refused rather than
/// resolved, so that what Keygate binds is exactly what was written.
pub fn listen_address(s: &str) -> Result<SocketAddr, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "{s:?} is not an address to listen on: give an IP address and a port, e.g. \
             127.0.0.1:9464 or [::1]:9464 (a host name is not resolved)"
        )
    })
}

/// The webhooks' shared secret: never printed, compared in constant time.
#[derive(Clone)]
pub struct WebhookSecret(pub SecretString);

impl WebhookSecret {
    pub const MIN_LEN: usize = 16;
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "the webhook secret must be at least {} characters",
    WebhookSecret::MIN_LEN
)]
pub struct WebhookSecretTooShort;

impl FromStr for WebhookSecret {
    type Err = WebhookSecretTooShort;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.chars().count() < Self::MIN_LEN {
            return Err(WebhookSecretTooShort);
        }
        Ok(Self(SecretString::from(s.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message clap gives for `keygate FLAG VALUE`, or `None` if it parses.
    fn refusal(flag: &str, value: &str) -> Option<String> {
        Config::try_parse_from(["keygate".to_owned(), format!("{flag}={value}")])
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn broker_limits_default_to_bounded_values() {
        let config = Config::defaults();
        assert_eq!(config.mqtt_max_session_expiry_secs, 7200);
        assert_eq!(config.mqtt_max_subscriptions, 100);
        assert_eq!(config.mqtt_max_packet_size, 262_144);
        assert_eq!(config.mqtt_max_queued_messages, 100);
        assert_eq!(config.mqtt_max_inflight, 16);
        assert_eq!(config.mqtt_handshake_timeout_secs, 10);

        let config = Config::parse_from([
            "keygate",
            "--mqtt-max-session-expiry-secs",
            "60",
            "--mqtt-max-subscriptions",
            "1",
            "--mqtt-max-packet-size",
            "1024",
            "--mqtt-max-queued-messages",
            "5",
            "--mqtt-max-inflight",
            "65535",
            "--mqtt-handshake-timeout-secs",
            "3",
        ]);
        assert_eq!(config.mqtt_max_session_expiry_secs, 60);
        assert_eq!(config.mqtt_max_subscriptions, 1);
        assert_eq!(config.mqtt_max_packet_size, 1024);
        assert_eq!(config.mqtt_max_queued_messages, 5);
        assert_eq!(config.mqtt_max_inflight, 65535);
        assert_eq!(config.mqtt_handshake_timeout_secs, 3);
    }

    #[test]
    fn a_broker_limit_of_zero_is_refused_with_what_it_would_do() {
        for (flag, consequence) in [
            (
                "--mqtt-max-session-expiry-secs",
                "0 would let MQTT 5 sessions live for ever",
            ),
            ("--mqtt-max-subscriptions", "0 would mean no limit"),
            ("--mqtt-max-queued-messages", "0 would drop every message"),
            (
                "--mqtt-max-inflight",
                "0 would leave no room for a single message",
            ),
            (
                "--mqtt-handshake-timeout-secs",
                "0 would refuse every connection",
            ),
        ] {
            let message = refusal(flag, "0").unwrap_or_else(|| panic!("{flag} 0 was accepted"));
            assert!(
                message.contains(&format!("invalid value '0' for '{flag}"))
                    && message.contains("must be at least 1: ")
                    && message.contains(consequence),
                "{flag}: {message}"
            );
            assert!(refusal(flag, "1").is_none(), "{flag} 1");
        }
    }

    #[test]
    fn broker_limits_out_of_range_or_not_numbers_are_refused() {
        for (flag, value, expected) in [
            (
                "--mqtt-max-packet-size",
                "0",
                "from 1024 to 268435455 bytes",
            ),
            (
                "--mqtt-max-packet-size",
                "1023",
                "from 1024 to 268435455 bytes",
            ),
            (
                "--mqtt-max-packet-size",
                "268435456",
                "from 1024 to 268435455",
            ),
            (
                "--mqtt-max-packet-size",
                "1MiB",
                "from 1024 to 268435455 bytes",
            ),
            (
                "--mqtt-max-inflight",
                "65536",
                "a whole number from 1 to 65535",
            ),
            (
                "--mqtt-max-subscriptions",
                "-1",
                "a whole number from 1 to 4294967295",
            ),
            (
                "--mqtt-max-queued-messages",
                "ten",
                "a whole number from 1 to 4294967295",
            ),
            (
                "--mqtt-max-session-expiry-secs",
                "4294967296",
                "a whole number from 1 to 4294967295",
            ),
            (
                "--mqtt-handshake-timeout-secs",
                "1.5",
                "a whole number from 1 to",
            ),
        ] {
            let message =
                refusal(flag, value).unwrap_or_else(|| panic!("{flag} {value} was accepted"));
            assert!(message.contains(expected), "{flag} {value}: {message}");
        }
        assert!(refusal("--mqtt-max-packet-size", "1024").is_none());
        assert!(refusal("--mqtt-max-packet-size", "268435455").is_none());
    }

    #[test]
    fn the_metrics_listener_is_off_by_default_and_a_bad_address_is_named() {
        assert_eq!(Config::defaults().metrics_listen, None);
        let config = Config::parse_from(["keygate", "--metrics-listen", "127.0.0.1:9464"]);
        assert_eq!(
            config.metrics_listen,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        for bad in ["localhost:9464", "9464", "127.0.0.1", "127.0.0.1:99999"] {
            let message = refusal("--metrics-listen", bad)
                .unwrap_or_else(|| panic!("--metrics-listen {bad} was accepted"));
            assert!(
                message.contains("'--metrics-listen <METRICS_LISTEN>'")
                    && message.contains("give an IP address and a port, e.g. 127.0.0.1:9464"),
                "{bad}: {message}"
            );
        }
    }

    #[test]
    fn two_targets_with_one_name_are_refused_whichever_way_they_came() {
        let config = Config::parse_from([
            "keygate",
            "--broker-target",
            "emqx=http://10.0.0.5:18083",
            "--broker-target",
            "emqx=http://key:secret@10.0.0.5:18083",
        ]);
        let error = config.with_file().unwrap_err().to_string();
        assert_eq!(
            error,
            "two broker targets are named \"emqx:10.0.0.5:18083\"; name them apart with `name` in the configuration file"
        );
    }
}
