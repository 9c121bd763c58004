//! The command line: a handful of flags, parsed by hand (an argument parser would cost more to
//! build than the flags are worth).

use std::net::{Ipv4Addr, SocketAddr};

pub const USAGE: &str = "\
usage: rmqtt-test-broker --keygate URL --secret SECRET --name NAME [options]

An rmqtt 0.24 broker for Keygate's tests: devices authenticate through Keygate's webhooks, and
Keygate closes sessions through this broker's admin API. Prints one JSON line when it listens,
{\"mqtt\":\"127.0.0.1:PORT\",\"api\":\"http://127.0.0.1:PORT\"}, and exits when stdin reaches EOF
or on SIGTERM/SIGINT.

  --keygate URL      Keygate's base URL, e.g. http://127.0.0.1:3000
  --secret SECRET    Keygate's webhook secret (--webhook-secret)
  --name NAME        the broker target name Keygate knows this broker by (every webhook URL
                     carries ?broker=NAME)
  --mqtt ADDR        MQTT over TCP, on a loopback address (default 127.0.0.1:0)
  --api ADDR         the admin API (rmqtt-http-api), on a loopback address (default: a free
                     port on 127.0.0.1)
  --api-token TOKEN  make the admin API require `Authorization: Bearer TOKEN`
  --log LEVEL        what rmqtt logs to stderr: off, error, warn, info, debug, trace (default warn)
  -h, --help         this text";

/// What the command line asked for. No `Debug`: it holds the secret and the token.
pub struct Flags {
    pub keygate: KeygateUrl,
    pub secret: String,
    pub name: String,
    pub mqtt: SocketAddr,
    /// `None`: a free loopback port, found at start-up.
    pub api: Option<SocketAddr>,
    pub api_token: Option<String>,
    pub log: log::LevelFilter,
}

/// Why the command line was not run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Help,
    Invalid(String),
}

/// Keygate's base URL, split so that user info can go in front of the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeygateUrl {
    /// `http` or `https`.
    scheme: String,
    /// `host:port`.
    authority: String,
    /// Any path prefix, without a trailing slash (usually empty).
    prefix: String,
}

impl KeygateUrl {
    fn parse(url: &str) -> Result<Self, String> {
        let invalid = |why: &str| format!("--keygate {url:?}: {why}");
        let (scheme, rest) = url
            .trim()
            .split_once("://")
            .ok_or_else(|| invalid("expected a URL such as http://127.0.0.1:3000"))?;
        if !matches!(scheme, "http" | "https") {
            return Err(invalid("must start with http:// or https://"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(invalid("needs a host and no user info"));
        }
        if path.contains(['?', '#']) {
            return Err(invalid("must not have a query or fragment"));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            authority: authority.to_owned(),
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }

    /// `{base}{path}?broker={name}`.
    pub fn endpoint(&self, path: &str, name: &str) -> String {
        format!(
            "{}://{}{}{path}?broker={}",
            self.scheme,
            self.authority,
            self.prefix,
            percent_encode(name)
        )
    }

    /// Like [`KeygateUrl::endpoint`], with `user:password@` in front of the host (reqwest sends
    /// that as HTTP Basic).
    pub fn endpoint_with_basic(
        &self,
        path: &str,
        name: &str,
        user: &str,
        password: &str,
    ) -> String {
        format!(
            "{}://{}:{}@{}{}{path}?broker={}",
            self.scheme,
            percent_encode(user),
            percent_encode(password),
            self.authority,
            self.prefix,
            percent_encode(name)
        )
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters: safe in user info and in a
/// query value alike.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn loopback(flag: &str, value: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = value
        .parse()
        .map_err(|e| format!("{flag} {value:?}: not an address such as 127.0.0.1:1883 ({e})"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{flag} {value:?}: this broker is for tests and listens on loopback addresses only"
        ));
    }
    Ok(addr)
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Flags, Refusal> {
    let invalid = Refusal::Invalid;
    let mut args = args.into_iter();
    let (mut keygate, mut secret, mut name) = (None, None, None);
    let mut mqtt = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let (mut api, mut api_token) = (None, None);
    let mut log = log::LevelFilter::Warn;
    while let Some(arg) = args.next() {
        if matches!(arg.as_str(), "-h" | "--help") {
            return Err(Refusal::Help);
        }
        // `--flag VALUE` or `--flag=VALUE`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| invalid(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--keygate" => keygate = Some(KeygateUrl::parse(&value()?).map_err(invalid)?),
            "--secret" => secret = Some(value()?),
            "--name" => name = Some(value()?),
            "--mqtt" => mqtt = loopback("--mqtt", &value()?).map_err(invalid)?,
            "--api" => api = Some(loopback("--api", &value()?).map_err(invalid)?),
            "--api-token" => api_token = Some(value()?),
            "--log" => {
                let level = value()?;
                log = level.parse().map_err(|_| {
                    invalid(format!(
                        "--log {level:?}: use off, error, warn, info, debug or trace"
                    ))
                })?;
            }
            other => return Err(invalid(format!("unknown argument {other:?}"))),
        }
    }
    let required = |v: Option<String>, flag: &str| {
        v.filter(|v| !v.trim().is_empty())
            .ok_or_else(|| invalid(format!("{flag} is required")))
    };
    Ok(Flags {
        keygate: keygate.ok_or_else(|| invalid("--keygate is required".into()))?,
        secret: required(secret, "--secret")?,
        name: required(name, "--name")?,
        mqtt,
        api,
        api_token: api_token.filter(|t| !t.is_empty()),
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_webhook_urls_carry_the_broker_name_and_the_secret() {
        let flags = parse(args(&[
            "--keygate",
            "http://127.0.0.1:41234/",
            "--secret=s3:cr/et",
            "--name",
            "rmqtt:127.0.0.1:6060",
        ]))
        .unwrap();
        assert_eq!(
            flags.keygate.endpoint("/webhooks/emqx/authn", &flags.name),
            "http://127.0.0.1:41234/webhooks/emqx/authn?broker=rmqtt%3A127.0.0.1%3A6060"
        );
        assert_eq!(
            flags
                .keygate
                .endpoint_with_basic("/webhooks/events", "b", "keygate", &flags.secret),
            "http://keygate:s3%3Acr%2Fet@127.0.0.1:41234/webhooks/events?broker=b"
        );
        assert_eq!(flags.mqtt, "127.0.0.1:0".parse().unwrap());
        assert_eq!(flags.api, None);
    }

    #[test]
    fn addresses_must_be_loopback_and_the_three_names_are_required() {
        let base = [
            "--keygate",
            "http://127.0.0.1:1",
            "--secret",
            "s",
            "--name",
            "n",
        ];
        let with = |extra: &[&str]| parse(args(&[&base[..], extra].concat()));
        assert!(with(&["--mqtt", "0.0.0.0:1883"]).is_err());
        assert!(with(&["--api", "10.0.0.1:6060"]).is_err());
        assert_eq!(
            with(&["--api", "[::1]:6060"]).unwrap().api,
            Some("[::1]:6060".parse().unwrap())
        );
        assert!(
            matches!(parse(args(&base[2..])), Err(Refusal::Invalid(m)) if m.contains("--keygate"))
        );
        assert!(
            matches!(parse(args(&base[..4])), Err(Refusal::Invalid(m)) if m.contains("--name"))
        );
        assert!(parse(args(&["--keygate", "ftp://x"])).is_err());
        assert!(parse(args(&["--keygate", "http://u:p@x"])).is_err());
        assert!(matches!(parse(args(&["--help"])), Err(Refusal::Help)));
    }
}
