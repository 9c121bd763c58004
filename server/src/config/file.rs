//! The optional TOML configuration file:
//!
//! ```toml
//! webhook_secret = "a long random string"
//! metrics_listen = "127.0.0.1:9464"   # optional; Prometheus metrics, off without it
//!
//! [[broker_target]]
//! name = "emqx-eu"            # optional; default KIND:HOST:PORT
//! kind = "emqx"               # emqx, rmqtt or vernemq
//! url = "http://10.0.0.5:18083"
//! username = "API_KEY"        # HTTP Basic (VerneMQ: the API key, no password)
//! password = "API_SECRET"
//! # token = "…"               # or a bearer token
//! ```

use super::{WebhookSecret, listen_address};
use crate::revocation::admin_api::{AdminApi, Kind, TargetConfigError};
use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read the configuration file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {} is not valid: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("the configuration file {}: {source}", path.display())]
    Target {
        path: PathBuf,
        source: TargetConfigError,
    },
    #[error("the configuration file {}: the webhook secret must be at least {} characters", path.display(), WebhookSecret::MIN_LEN)]
    WebhookSecret { path: PathBuf },
    #[error("the configuration file {}: metrics_listen: {message}", path.display())]
    MetricsListen { path: PathBuf, message: String },
    /// From the flags, the file, or both together.
    #[error(
        "two broker targets are named {0:?}; name them apart with `name` in the configuration file"
    )]
    DuplicateTarget(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    webhook_secret: Option<String>,
    metrics_listen: Option<String>,
    #[serde(default)]
    broker_target: Vec<RawTarget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Option<String>,
    kind: Kind,
    url: String,
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
}

/// What the file adds (its secrets print redacted).
#[derive(Debug)]
pub struct Loaded {
    pub webhook_secret: Option<WebhookSecret>,
    pub metrics_listen: Option<SocketAddr>,
    pub broker_targets: Vec<AdminApi>,
}

pub fn load(path: &Path) -> Result<Loaded, FileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)
}

fn parse(path: &Path, text: &str) -> Result<Loaded, FileError> {
    let raw: Raw = toml::from_str(text).map_err(|e| FileError::Parse {
        path: path.to_owned(),
        // toml's message names the line and the key, never a value of another line.
        message: e.to_string().trim().to_owned(),
    })?;
    let webhook_secret = raw
        .webhook_secret
        .map(|s| {
            s.parse::<WebhookSecret>()
                .map_err(|_| FileError::WebhookSecret {
                    path: path.to_owned(),
                })
        })
        .transpose()?;
    let metrics_listen = raw
        .metrics_listen
        .map(|s| {
            listen_address(&s).map_err(|message| FileError::MetricsListen {
                path: path.to_owned(),
                message,
            })
        })
        .transpose()?;
    let broker_targets = raw
        .broker_target
        .into_iter()
        .map(|t| {
            let mut api = AdminApi::new(t.name.as_deref(), t.kind, &t.url).map_err(|source| {
                FileError::Target {
                    path: path.to_owned(),
                    source,
                }
            })?;
            if t.username.is_some() {
                api.username = t.username;
            }
            if let Some(password) = t.password {
                api.password = Some(SecretString::from(password));
            }
            api.token = t.token.map(SecretString::from);
            Ok(api)
        })
        .collect::<Result<_, FileError>>()?;
    Ok(Loaded {
        webhook_secret,
        metrics_listen,
        broker_targets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn parsed(text: &str) -> Result<Loaded, String> {
        parse(Path::new("keygate.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn targets_and_secret_are_read() {
        let loaded = parsed(
            r#"
            webhook_secret = "0123456789abcdef"
            metrics_listen = "0.0.0.0:9464"
            [[broker_target]]
            name = "emqx-eu"
            kind = "emqx"
            url = "https://emqx.example:18083"
            username = "key"
            password = "secret"
            [[broker_target]]
            kind = "vernemq"
            url = "http://verne:8888"
            token = "t0k"
            "#,
        )
        .unwrap();
        assert!(loaded.webhook_secret.is_some());
        assert_eq!(loaded.metrics_listen, Some("0.0.0.0:9464".parse().unwrap()));
        let [emqx, verne] = &loaded.broker_targets[..] else {
            panic!("two targets")
        };
        assert_eq!(emqx.name, "emqx-eu");
        assert_eq!(emqx.password.as_ref().unwrap().expose_secret(), "secret");
        assert_eq!(verne.name, "vernemq:verne:8888");
        assert_eq!(verne.token.as_ref().unwrap().expose_secret(), "t0k");
    }

    #[test]
    fn mistakes_are_named() {
        let err = parsed("[[broker_target]]\nkind = \"hivemq\"\nurl = \"http://h\"").unwrap_err();
        assert!(err.contains("hivemq"), "{err}");
        let err = parsed("[[broker_target]]\nkind = \"emqx\"\nurl = \"h:1\"").unwrap_err();
        assert!(err.contains("http:// or https://"), "{err}");
        let err = parsed("webhook_secret = \"short\"").unwrap_err();
        assert!(err.contains("at least 16"), "{err}");
        assert!(!err.contains("short\""), "{err}");
        let err = parsed("metrics_listen = \"monitoring:9464\"").unwrap_err();
        assert!(
            err.contains("metrics_listen") && err.contains("give an IP address and a port"),
            "{err}"
        );
        let err = parsed("brokers = 1").unwrap_err();
        assert!(err.contains("brokers"), "{err}");
        let err = parsed("[[broker_target]]\nkind = \"emqx\"\nurl = \"http://h\"\nname = \"a b\"")
            .unwrap_err();
        assert!(err.contains("name"), "{err}");
    }
}
