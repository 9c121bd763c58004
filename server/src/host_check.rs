//! Refuses requests for host names this Keygate is not served at, against DNS rebinding: a page
//! of `attacker.example` whose name the attacker makes resolve to 127.0.0.1 (or to the install's
//! address in a private network) would otherwise be same-origin with whatever answers there, so
//! its scripts could sign up on an empty install, try passwords, or read what the dashboard shows.
//! Its requests still say `Host: attacker.example`.
//!
//! With `--public-url` or `--allowed-hosts`, every request on the dashboard's listener (pages,
//! server functions, static files, HTTP publish, the webhooks) whose `Host` is not one of those
//! names is answered 421 Misdirected Request before anything else runs. Without either, every
//! host is answered, as a development install needs.
//!
//! The names come from the flags as typed values: [`PublicUrl`] (the address users open) and
//! [`AllowedHost`] (another name, with or without a port), each refusing a malformed one with a
//! sentence saying what to write instead.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;
use std::sync::Arc;

/// The address users open the dashboard at (`--public-url`): `http` or `https`, a host and
/// optionally a port, nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    https: bool,
    host: String,
    port: Option<u16>,
}

impl PublicUrl {
    /// Its port: the one written, or the scheme's.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        match self.port {
            Some(port) => write!(f, "{scheme}://{}:{port}", self.host),
            None => write!(f, "{scheme}://{}", self.host),
        }
    }
}

/// Why a `--public-url` was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    #[error("not a URL: give the address users open, e.g. https://keygate.example.com")]
    NoScheme,
    #[error("the scheme must be http or https, as in https://keygate.example.com")]
    Scheme,
    #[error("the URL has no host: give the address users open, e.g. https://keygate.example.com")]
    NoHost,
    #[error(
        "the URL must have no path, query or fragment: Keygate is served at the root of its host"
    )]
    Path,
    #[error("the URL must have no user name or password")]
    UserInfo,
    #[error("{0}")]
    Host(HostError),
}

impl FromStr for PublicUrl {
    type Err = PublicUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s.trim().split_once("://").ok_or(PublicUrlError::NoScheme)?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(PublicUrlError::Scheme),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(PublicUrlError::Path);
        }
        if authority.contains('@') {
            return Err(PublicUrlError::UserInfo);
        }
        if authority.is_empty() {
            return Err(PublicUrlError::NoHost);
        }
        let (host, port) = host_and_port(authority).map_err(PublicUrlError::Host)?;
        Ok(Self { https, host, port })
    }
}

/// Another name the dashboard answers for (`--allowed-hosts`): a host alone matches it on any
/// port, `host:port` on that port only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost {
    host: String,
    port: Option<u16>,
}

impl FromStr for AllowedHost {
    type Err = HostError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (host, port) = host_and_port(s.trim())?;
        Ok(Self { host, port })
    }
}

/// A host name (or address) and port that cannot be one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a host name with an optional port: write it as a browser's Host header has it, e.g. \
     keygate.example.com, keygate.example.com:8443, 10.0.0.5 or [::1]:3000 (no scheme, no path)"
)]
pub struct HostError;

/// Splits `host[:port]` (an IPv6 address in brackets), the host in lower case.
fn host_and_port(s: &str) -> Result<(String, Option<u16>), HostError> {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let (address, after) = inner.split_once(']').ok_or(HostError)?;
        address.parse::<Ipv6Addr>().map_err(|_| HostError)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(HostError)?),
        };
        (&s[..address.len() + 2], port)
    } else {
        match s.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        }
    };
    let name_character = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if host.is_empty() || !(host.starts_with('[') || host.chars().all(name_character)) {
        return Err(HostError);
    }
    let port = match port {
        None => None,
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some(digits.parse::<u16>().map_err(|_| HostError)?)
        }
        Some(_) => return Err(HostError),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Which ports a name is answered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ports {
    /// Any, or none written.
    Any,
    /// Exactly this one.
    Only(u16),
    /// This one, or none written (the public URL, whose port a browser leaves out when it is
    /// the scheme's and a proxy may leave out when it is not).
    ThisOrNone(u16),
}

/// The host names the dashboard's listener answers for; built only when the check is on.
#[derive(Clone, Debug)]
pub struct AllowedHosts {
    names: Vec<(String, Ports)>,
    public_url: Option<String>,
}

impl AllowedHosts {
    /// The names `--public-url` and `--allowed-hosts` give, or `None` (every host answered) when
    /// neither is set.
    pub fn from_flags(public_url: Option<&PublicUrl>, allowed: &[AllowedHost]) -> Option<Self> {
        if public_url.is_none() && allowed.is_empty() {
            return None;
        }
        let public = public_url.map(|url| (url.host.clone(), Ports::ThisOrNone(url.port())));
        let others = allowed.iter().map(|name| {
            let ports = name.port.map_or(Ports::Any, Ports::Only);
            (name.host.clone(), ports)
        });
        Some(Self {
            names: public.into_iter().chain(others).collect(),
            public_url: public_url.map(PublicUrl::to_string),
        })
    }

    /// Whether a request whose `Host` (or HTTP/2 `:authority`) is `host` is answered.
    pub fn allows(&self, host: &str) -> bool {
        let Ok((host, port)) = host_and_port(host) else {
            return false;
        };
        self.names.iter().any(|(name, ports)| {
            *name == host
                && match (*ports, port) {
                    (Ports::Any, _) => true,
                    (Ports::Only(p), Some(q)) => p == q,
                    (Ports::Only(_), None) => false,
                    (Ports::ThisOrNone(p), Some(q)) => p == q,
                    (Ports::ThisOrNone(_), None) => true,
                }
        })
    }

    /// The names, for the start-up log.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self
            .names
            .iter()
            .map(|(name, ports)| match ports {
                Ports::Any => name.clone(),
                Ports::Only(port) => format!("{name}:{port}"),
                Ports::ThisOrNone(port) => format!("{name} (port {port} or none)"),
            })
            .collect();
        names.join(", ")
    }
}

/// The middleware: a request for another host is answered 421 with a plain sentence.
pub async fn check_host(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(|host| allowed.allows(host)) {
        return next.run(request).await;
    }
    tracing::info!(
        ?host,
        "refused a request for a host name this Keygate is not served at"
    );
    let mut message =
        String::from("421 Misdirected Request: this Keygate does not answer for this host name.\n");
    if let Some(url) = &allowed.public_url {
        message.push_str(&format!("Open it at {url}\n"));
    }
    let mut response = (StatusCode::MISDIRECTED_REQUEST, message).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(public_url: Option<&str>, allowed: &[&str]) -> AllowedHosts {
        let public_url = public_url.map(|u| u.parse::<PublicUrl>().expect("a public URL"));
        let allowed: Vec<AllowedHost> =
            allowed.iter().map(|h| h.parse().expect("a host")).collect();
        AllowedHosts::from_flags(public_url.as_ref(), &allowed).expect("the check is on")
    }

    #[test]
    fn without_either_flag_the_check_is_off() {
        assert!(AllowedHosts::from_flags(None, &[]).is_none());
    }

    #[test]
    fn the_public_url_host_passes_with_its_port_or_none() {
        let https = hosts(Some("https://Keygate.Example.com/"), &[]);
        for host in [
            "keygate.example.com",
            "keygate.example.com:443",
            "KEYGATE.example.COM",
        ] {
            assert!(https.allows(host), "{host}");
        }
        for host in [
            "keygate.example.com:80",
            "keygate.example.com:",
            "keygate.example.com.",
            "evil.keygate.example.com",
            "keygate.example.com.evil.example",
            "keygate.example.com@evil.example",
            "",
        ] {
            assert!(!https.allows(host), "{host}");
        }
        let local = hosts(Some("http://127.0.0.1:3000"), &[]);
        assert!(local.allows("127.0.0.1:3000"));
        assert!(local.allows("127.0.0.1"));
        assert!(!local.allows("127.0.0.1:3001"));
        assert!(!local.allows("localhost:3000"));
        let v6 = hosts(Some("http://[::1]:3000"), &[]);
        assert!(v6.allows("[::1]:3000"));
        assert!(!v6.allows("[::2]:3000"));
    }

    #[test]
    fn an_allowed_host_without_a_port_passes_on_any_port() {
        let allowed = hosts(None, &["keygate.lan", "localhost:3000", " 10.0.0.5 "]);
        for host in [
            "keygate.lan",
            "keygate.lan:8080",
            "localhost:3000",
            "10.0.0.5:3000",
        ] {
            assert!(allowed.allows(host), "{host}");
        }
        for host in ["localhost", "localhost:3001", "keygate.lan.evil.example"] {
            assert!(!allowed.allows(host), "{host}");
        }
    }

    #[test]
    fn malformed_public_urls_are_refused_with_what_to_write() {
        for (url, error) in [
            ("keygate.example.com", PublicUrlError::NoScheme),
            ("ftp://keygate.example.com", PublicUrlError::Scheme),
            ("https://", PublicUrlError::NoHost),
            ("https://keygate.example.com/app", PublicUrlError::Path),
            ("https://keygate.example.com?x=1", PublicUrlError::Path),
            ("https://u:p@keygate.example.com", PublicUrlError::UserInfo),
            (
                "https://keygate.example.com:99999",
                PublicUrlError::Host(HostError),
            ),
            (
                "https://keygate example.com",
                PublicUrlError::Host(HostError),
            ),
            ("https://::1:3000", PublicUrlError::Host(HostError)),
        ] {
            assert_eq!(url.parse::<PublicUrl>(), Err(error), "{url}");
        }
        let url: PublicUrl = "HTTPS://Keygate.Example.com:8443/".parse().unwrap();
        assert_eq!(url.to_string(), "https://keygate.example.com:8443");
    }

    #[test]
    fn malformed_allowed_hosts_are_refused() {
        for host in [
            "",
            "http://keygate.lan",
            "keygate.lan/",
            "keygate.lan:",
            "keygate.lan:http",
            "keygate.lan:65536",
            "[::1",
            "[not-v6]:3000",
            "::1",
            "user@keygate.lan",
        ] {
            assert_eq!(host.parse::<AllowedHost>(), Err(HostError), "{host:?}");
        }
    }
}
