//! Credential events: what Keygate tells an organization's HTTPS endpoints when a client changes
//! or a burst of failed logins locks it out. The event types, which audit action raises which
//! event ([`EventType::of`]), an endpoint's URL and chosen types as the Settings → Events form
//! parses them (in the browser as you type, and on the server), the payload, and the rows the page
//! lists.

use super::{AuditAction, FieldError, ParseError, Problem, text_enum};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

text_enum!(
    /// What happened, as the payload's `type` and `event_deliveries.event_type` say it.
    EventType, "event type" {
        ClientCreated = "client.created",
        ClientUpdated = "client.updated",
        ClientKeyRegenerated = "client.key_regenerated",
        ClientDeactivated = "client.deactivated",
        ClientActivated = "client.activated",
        ClientDeleted = "client.deleted",
        /// A burst of wrong keys that locked the client out: one event per burst.
        ClientAuthFailures = "client.auth_failures",
    }
);

impl EventType {
    /// The event a change audited as `action` raises, if any. Every change of a client writes
    /// its audit row in its own transaction, so the store queues the event beside that row: one
    /// rule, whichever front door made the change.
    pub fn of(action: AuditAction) -> Option<Self> {
        Some(match action {
            AuditAction::ClientCreated => EventType::ClientCreated,
            AuditAction::ClientUpdated => EventType::ClientUpdated,
            AuditAction::ClientKeyRegenerated => EventType::ClientKeyRegenerated,
            AuditAction::ClientDeactivated => EventType::ClientDeactivated,
            AuditAction::ClientActivated => EventType::ClientActivated,
            AuditAction::ClientDeleted => EventType::ClientDeleted,
            _ => return None,
        })
    }

    /// What the page says it means.
    pub fn label(self) -> &'static str {
        match self {
            EventType::ClientCreated => "A client was created",
            EventType::ClientUpdated => "A client's name or description changed",
            EventType::ClientKeyRegenerated => "A client's key was regenerated",
            EventType::ClientDeactivated => "A client was deactivated",
            EventType::ClientActivated => "A client was activated",
            EventType::ClientDeleted => "A client was deleted",
            EventType::ClientAuthFailures => "A burst of wrong keys locked a client out",
        }
    }
}

/// The event types an endpoint receives: at least one, each once, in declaration order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTypes(Vec<EventType>);

impl EventTypes {
    /// Event type texts separated by commas or white space (`client.created,client.deleted`).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut chosen = Vec::new();
        for word in text.split([',', ' ', '\n', '\t']).filter(|w| !w.is_empty()) {
            let event = EventType::parse(word)
                .map_err(|_| ParseError::new(FieldError::EventTypes, Problem::Shape))?;
            chosen.push(event);
        }
        if chosen.is_empty() {
            return Err(ParseError::new(FieldError::EventTypes, Problem::Empty));
        }
        Ok(Self(
            EventType::ALL
                .iter()
                .copied()
                .filter(|e| chosen.contains(e))
                .collect(),
        ))
    }

    pub fn contains(&self, event: EventType) -> bool {
        self.0.contains(&event)
    }

    pub fn iter(&self) -> impl Iterator<Item = EventType> + '_ {
        self.0.iter().copied()
    }

    /// The stored form: the texts separated by spaces.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Where an endpoint's events are POSTed: `https://…`, or `http://` to a loopback address only
/// (a receiver on the same machine, for development and tests), since an event sent in the clear
/// could be read or forged on the way. Credentials in the URL and fragments are refused: the URL
/// is listed on the page, and a fragment is never sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointUrl(String);

impl EndpointUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let error = |problem| ParseError::new(FieldError::EndpointUrl, problem);
        let text = text.trim();
        if text.is_empty() {
            return Err(error(Problem::Empty));
        }
        if text.chars().count() > Self::MAX_LEN {
            return Err(error(Problem::TooLong { max: Self::MAX_LEN }));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(error(Problem::Shape));
        }
        let lower = text.to_ascii_lowercase();
        let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
            (true, &text[text.len() - rest.len()..])
        } else if let Some(rest) = lower.strip_prefix("http://") {
            (false, &text[text.len() - rest.len()..])
        } else {
            return Err(error(Problem::Shape));
        };
        if rest.contains('#') {
            return Err(error(Problem::Shape));
        }
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let host = host_of(authority).ok_or(error(Problem::Shape))?;
        if !secure && !host.is_loopback() {
            return Err(error(Problem::Shape));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The host an authority (`host`, `host:port`, `[v6]:port`) names; `None` when it is not one
/// (empty, credentials, a bad port, characters no host name has).
fn host_of(authority: &str) -> Option<Host> {
    if authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        let address: Ipv6Addr = inside.parse().ok()?;
        (Host::V6(address), after.strip_prefix(':'))
    } else {
        let (name, port) = match authority.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        };
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return None;
        }
        let host = match name.parse::<Ipv4Addr>() {
            Ok(address) => Host::V4(address),
            Err(_) => Host::Name,
        };
        (host, port)
    };
    match port {
        Some(port) if port.parse::<u16>().map_or(true, |p| p == 0) => None,
        _ => Some(host),
    }
}

enum Host {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Name,
}

impl Host {
    /// Whether it is an address of this machine: 127.0.0.0/8 or ::1. A name is not, whatever it
    /// resolves to now.
    fn is_loopback(&self) -> bool {
        match self {
            Host::V4(address) => address.is_loopback(),
            Host::V6(address) => address.is_loopback(),
            Host::Name => false,
        }
    }
}

/// What the event says about its client: ids and state, never a key or a hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    pub organization_id: String,
    pub workspace_id: String,
    pub client_id: String,
    /// The client's name and status as the change left them; absent once it is deleted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub active: Option<bool>,
    /// For `client.auth_failures`: wrong keys counted when the lock-out began.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failures: Option<u32>,
    /// For `client.auth_failures`: how long the first lock lasts, in seconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub locked_for_secs: Option<u64>,
}

/// An event as its endpoint receives it: `{"type", "timestamp", "data"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it happened, ISO 8601 in UTC with milliseconds.
    pub timestamp: String,
    pub data: EventData,
}

impl Event {
    pub fn new(event_type: EventType, at_millis: i64, data: EventData) -> Self {
        Self {
            event_type,
            timestamp: super::time_format::iso8601(at_millis),
            data,
        }
    }

    /// The body POSTed, byte for byte what is signed.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an event serialises")
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryState {
    /// Not tried yet.
    Pending,
    /// Tried and failed; tried again at `next_attempt_at` (or after the one before it).
    Failing,
    /// The endpoint answered 2xx.
    Delivered,
}

impl DeliveryState {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Pending => "Pending",
            DeliveryState::Failing => "Failing",
            DeliveryState::Delivered => "Delivered",
        }
    }
}

/// One event queued for one endpoint, as Settings → Events lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDeliveryRow {
    pub id: i64,
    /// The `webhook-id` header: a resend carries its original's.
    pub message_id: String,
    pub event_type: EventType,
    pub created_at: i64,
    pub attempts: u32,
    /// When it is tried next, while it is not delivered.
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    /// The HTTP status of the latest answer, if one came.
    pub response_status: Option<u16>,
    /// Why the latest attempt failed, in words.
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

impl EventDeliveryRow {
    pub fn state(&self) -> DeliveryState {
        if self.delivered_at.is_some() {
            DeliveryState::Delivered
        } else if self.attempts == 0 {
            DeliveryState::Pending
        } else {
            DeliveryState::Failing
        }
    }
}

/// An endpoint as Settings → Events lists it (never its secret: that is shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEndpointRow {
    pub id: String,
    pub url: String,
    pub event_types: EventTypes,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: i64,
    /// Its newest delivery, if it has had one.
    pub last_delivery: Option<EventDeliveryRow>,
}

/// A new endpoint and its signing secret, shown once to its creator.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedEventEndpoint {
    pub row: EventEndpointRow,
    /// The `whsec_…` secret, in this one response only.
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trips;
    use crate::model::parse_error::problem_of;

    #[test]
    fn event_types_round_trip_as_the_stored_texts() {
        assert_round_trips!(
            EventType,
            [
                "client.created",
                "client.updated",
                "client.key_regenerated",
                "client.deactivated",
                "client.activated",
                "client.deleted",
                "client.auth_failures",
            ]
        );
    }

    #[test]
    fn each_client_change_raises_its_event_and_nothing_else_raises_one() {
        for event in EventType::ALL {
            if *event == EventType::ClientAuthFailures {
                continue;
            }
            let action = AuditAction::parse(event.as_str()).unwrap();
            assert_eq!(EventType::of(action), Some(*event));
        }
        assert_eq!(EventType::of(AuditAction::ClientScopeChanged), None);
        assert_eq!(EventType::of(AuditAction::MqttAuthFailed), None);
        assert_eq!(EventType::of(AuditAction::WorkspaceCreated), None);
    }

    #[test]
    fn https_urls_pass_and_plain_http_only_to_loopback_addresses() {
        for ok in [
            "https://hooks.example.com/keygate",
            "HTTPS://hooks.example.com:8443/a?b=c",
            "https://10.0.0.5/x",
            "http://127.0.0.1:8080/hook",
            "http://127.1.2.3/",
            "http://[::1]:9000/hook",
            "  https://example.com  ",
        ] {
            assert!(EndpointUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/hook",
            "http://localhost:8080/",
            "http://10.0.0.1/",
            "http://[::2]/",
            "ftp://example.com/",
            "example.com/hook",
            "https://user:pass@example.com/",
            "https://example.com/#frag",
            "https://exa mple.com/",
            "https://:443/",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https://[::1/",
        ] {
            assert_eq!(
                problem_of(EndpointUrl::parse(bad), FieldError::EndpointUrl),
                Problem::Shape,
                "{bad}"
            );
        }
        assert_eq!(
            problem_of(EndpointUrl::parse(" "), FieldError::EndpointUrl),
            Problem::Empty
        );
    }

    #[test]
    fn event_types_need_one_known_type_and_keep_declaration_order() {
        let types = EventTypes::parse("client.deleted, client.created client.deleted").unwrap();
        assert_eq!(types.to_text(), "client.created client.deleted");
        assert_eq!(
            problem_of(EventTypes::parse(" , "), FieldError::EventTypes),
            Problem::Empty
        );
        assert_eq!(
            problem_of(
                EventTypes::parse("client.created,client.exploded"),
                FieldError::EventTypes
            ),
            Problem::Shape
        );
    }

    #[test]
    fn an_event_serialises_with_its_type_timestamp_and_data_only() {
        let event = Event::new(
            EventType::ClientDeleted,
            1_764_675_000_123,
            EventData {
                organization_id: "o".into(),
                workspace_id: "w".into(),
                client_id: "c-1".into(),
                name: None,
                active: None,
                failures: None,
                locked_for_secs: None,
            },
        );
        assert_eq!(
            event.to_json(),
            r#"{"type":"client.deleted","timestamp":"2025-12-02T11:30:00.123Z","data":{"organization_id":"o","workspace_id":"w","client_id":"c-1"}}"#
        );
    }
}
