//! A CONNECT as Keygate decides it, built one way from whatever a broker reports: the embedded
//! broker's hook, each webhook and the HTTP publish endpoint (whose Basic credentials are a
//! CONNECT's username and password) hand over the raw strings they received, and this module turns
//! them into an [`Attempt`]. Nothing is trimmed or repaired: a username with a space or an
//! invisible character is a different username.

use secrecy::SecretSlice;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// The MQTT version a device spoke, where the broker says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// MQTT 3.1 or 3.1.1.
    V3,
    V5,
    /// The broker did not say (VerneMQ's plain hooks, a webhook without `protocol`), or it was no
    /// MQTT at all (an HTTP publish).
    Unknown,
}

impl Protocol {
    /// From the CONNECT's protocol level (3 and 4 are MQTT 3.1 and 3.1.1, 5 is MQTT 5).
    pub fn from_level(level: u8) -> Self {
        match level {
            3 | 4 => Protocol::V3,
            5 => Protocol::V5,
            _ => Protocol::Unknown,
        }
    }
}

/// Where the device connected from, as a broker reports it.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// The embedded broker and the HTTP publish endpoint know the socket.
    Socket(Option<SocketAddr>),
    /// A webhook's `peerhost` / `ipaddr` / `peer_addr`: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80`.
    Reported(Option<&'a str>),
}

/// What a broker reports about a CONNECT, untouched.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    pub username: Option<&'a str>,
    pub client_identifier: &'a str,
    pub password: Option<&'a [u8]>,
    pub source: Source<'a>,
    pub protocol: Protocol,
    /// The Last Will's topic, if the CONNECT carries one (only the embedded broker sees it).
    pub will_topic: Option<&'a str>,
}

impl<'a> Report<'a> {
    /// What a webhook reports: text fields as the broker sent them, the peer as it wrote it, no
    /// Last Will (brokers do not pass it on).
    pub fn from_webhook(
        username: Option<&'a str>,
        client_identifier: &'a str,
        password: Option<&'a str>,
        peer: Option<&'a str>,
        protocol: Protocol,
    ) -> Self {
        Self {
            username,
            client_identifier,
            password: password.map(str::as_bytes),
            source: Source::Reported(peer),
            protocol,
            will_topic: None,
        }
    }

    /// What an HTTP publish reports: HTTP Basic's user and password as sent, the identifier the
    /// device publishes as, and the request's socket. There is no Last Will, and no MQTT version.
    pub fn from_http(
        username: Option<&'a str>,
        client_identifier: &'a str,
        password: Option<&'a [u8]>,
        peer: SocketAddr,
    ) -> Self {
        Self {
            username,
            client_identifier,
            password,
            source: Source::Socket(Some(peer)),
            protocol: Protocol::Unknown,
            will_topic: None,
        }
    }
}

/// A CONNECT's credentials, ready to be decided.
pub struct Attempt {
    /// `None` when the device sent none, or an empty one.
    pub username: Option<String>,
    pub client_identifier: String,
    /// `None` when the device sent none, or an empty one.
    pub password: Option<SecretSlice<u8>>,
    pub source: Option<IpAddr>,
    pub protocol: Protocol,
    /// It is published on the client's behalf later, so it must obey the topic rule now.
    pub will_topic: Option<String>,
    /// When the decision began: a revocation committed after this may have been missed by it.
    pub began: Instant,
}

impl std::fmt::Debug for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("username", &self.username)
            .field("client_identifier", &self.client_identifier)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("source", &self.source)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Attempt {
    /// The one way every broker path builds an attempt.
    pub fn new(report: Report<'_>) -> Self {
        let source = match report.source {
            Source::Socket(socket) => socket.map(|s| s.ip()),
            Source::Reported(peer) => peer.and_then(parse_peer),
        };
        Self {
            username: report.username.filter(|u| !u.is_empty()).map(str::to_owned),
            client_identifier: report.client_identifier.to_owned(),
            password: report
                .password
                .filter(|p| !p.is_empty())
                .map(|p| SecretSlice::from(p.to_vec())),
            source,
            protocol: report.protocol,
            will_topic: report.will_topic.map(str::to_owned),
            began: Instant::now(),
        }
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`; anything else is no address.
fn parse_peer(peer: &str) -> Option<IpAddr> {
    let peer = peer.trim();
    peer.parse::<IpAddr>()
        .ok()
        .or_else(|| peer.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report<'a>(username: Option<&'a str>, source: Source<'a>) -> Report<'a> {
        Report {
            username,
            client_identifier: "dev-1",
            password: Some(b""),
            source,
            protocol: Protocol::V5,
            will_topic: None,
        }
    }

    #[test]
    fn peers_with_or_without_a_port() {
        assert_eq!(parse_peer("10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(
            parse_peer("10.1.2.3:4567"),
            Some("10.1.2.3".parse().unwrap())
        );
        assert_eq!(parse_peer("[::1]:80"), Some("::1".parse().unwrap()));
        assert_eq!(parse_peer("undefined"), None);
    }

    #[test]
    fn empty_credentials_are_no_credentials_and_nothing_is_trimmed() {
        let attempt = Attempt::new(report(Some(""), Source::Reported(Some("10.0.0.1:99"))));
        assert_eq!(attempt.username, None);
        assert!(attempt.password.is_none());
        assert_eq!(attempt.source, Some("10.0.0.1".parse().unwrap()));
        let padded = Attempt::new(report(Some(" c-1\t"), Source::Socket(None)));
        assert_eq!(padded.username.as_deref(), Some(" c-1\t"));
        assert_eq!(padded.source, None);
    }

    #[test]
    fn the_password_never_shows_in_debug() {
        let mut r = report(Some("u"), Source::Socket(None));
        r.password = Some(b"kgk_secret");
        let attempt = Attempt::new(r);
        assert!(!format!("{attempt:?}").contains("kgk_secret"));
    }
}
