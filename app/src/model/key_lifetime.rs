//! A key's life: when it stops working (its expiry, or the end of a rotation for the key the new
//! one replaces), the choices the dashboard offers for both, and what a client's keys say of the
//! client as a whole ("Expires in 5 days", "Expired"). Both sides use it: the browser to label and
//! to check a choice as it is made, the server to decide.

use super::time_format::parse_utc_minutes;
use super::{FieldError, ParseError, Problem};
use serde::{Deserialize, Serialize};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// A key that ends within this is "expiring": the Clients page's filter and the header's count.
pub const EXPIRING_WITHIN_MS: i64 = 7 * DAY_MS;
/// A client has at most this many keys: its key, and during a rotation the one it replaces.
pub const MAX_KEYS: usize = 2;
/// The longest expiry in days a key may be given.
pub const MAX_EXPIRY_DAYS: u32 = 3650;

/// One key of a client as the dashboard shows it: never the key, nor its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub id: String,
    /// Eight hex digits that tell keys apart. For a generated key they are the start of its
    /// SHA-256, so whoever holds a key can tell which one it is.
    pub fingerprint: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When it stops verifying; `None`: never.
    pub ends_at: Option<i64>,
    /// Whether that end is a rotation's (the key was replaced) rather than an expiry.
    pub retiring: bool,
    /// Its last successful login, and from where.
    pub last_used_at: Option<i64>,
    pub last_address: Option<String>,
    /// Sessions authenticated with it that are connected now, on every broker.
    pub live_sessions: u32,
}

/// The organization's key policy as the dashboard shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPolicy {
    /// How many days a new key works for by default; `None`: never expires.
    pub default_days: Option<u32>,
    /// The current workspace's keys that expire within 7 days (what its Clients page's
    /// "expiring" filter lists the clients of).
    pub expiring: u64,
}

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Works, with no end set.
    Active,
    /// Works until then, when it expires.
    Expires(i64),
    /// Works until then, when a rotation retires it.
    Retires(i64),
    /// Its expiry has passed: refused like a wrong key.
    Expired,
}

/// Whether a key that ends at `ends_at` (`None`: never) verifies at `now`: the one rule, for the
/// dashboard's keys and the broker's alike.
pub fn works_until(ends_at: Option<i64>, now: i64) -> bool {
    ends_at.is_none_or(|end| end > now)
}

impl KeyInfo {
    /// Whether the key verifies at `now`.
    pub fn works_at(&self, now: i64) -> bool {
        works_until(self.ends_at, now)
    }

    pub fn state(&self, now: i64) -> KeyState {
        match self.ends_at {
            None => KeyState::Active,
            Some(end) if end <= now => KeyState::Expired,
            Some(end) if self.retiring => KeyState::Retires(end),
            Some(end) => KeyState::Expires(end),
        }
    }
}

/// What a client's keys say of it: whether its devices can connect, and until when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientExpiry {
    /// A key works and never ends.
    Never,
    /// Its last working key ends then.
    Ends(i64),
    /// No key works any more.
    Expired,
}

impl ClientExpiry {
    pub fn of(keys: &[KeyInfo], now: i64) -> Self {
        let mut working = keys.iter().filter(|k| k.works_at(now)).peekable();
        if working.peek().is_none() {
            return if keys.is_empty() {
                ClientExpiry::Never
            } else {
                ClientExpiry::Expired
            };
        }
        let mut last = i64::MIN;
        for key in working {
            match key.ends_at {
                None => return ClientExpiry::Never,
                Some(end) => last = last.max(end),
            }
        }
        ClientExpiry::Ends(last)
    }

    /// The badge the Clients page shows: "Expires in 5 days" from 30 days ahead, "Expired" once
    /// no key works; `None` otherwise. The flag says whether it warns (7 days or less).
    pub fn badge(self, now: i64) -> Option<(String, bool)> {
        match self {
            ClientExpiry::Never => None,
            ClientExpiry::Expired => Some(("Expired".to_owned(), true)),
            ClientExpiry::Ends(end) if end - now > 30 * DAY_MS => None,
            ClientExpiry::Ends(end) => Some((
                format!("Expires in {}", in_words(end - now)),
                end - now <= EXPIRING_WITHIN_MS,
            )),
        }
    }
}

/// A time to come, in words: "5 days", "1 day", "3 hours", "12 minutes", rounded up in the largest
/// unit it fills ("1 day" for exactly 24 hours, "2 days" for a minute more).
pub fn in_words(ms: i64) -> String {
    let ms = ms.max(0);
    let up = |unit: i64| (ms + unit - 1) / unit;
    let (count, unit) = if ms >= DAY_MS {
        (up(DAY_MS), "day")
    } else if ms >= HOUR_MS {
        (up(HOUR_MS), "hour")
    } else {
        (up(60_000).max(1), "minute")
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// When a key expires, as chosen: never, a number of days from now, or a date (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiry {
    Never,
    Days(u32),
    On(i64),
}

impl Expiry {
    /// The choices the forms offer besides a date: their text and label.
    pub const CHOICES: [(&'static str, &'static str); 4] = [
        ("never", "Never"),
        ("30", "In 30 days"),
        ("90", "In 90 days"),
        ("365", "In 365 days"),
    ];

    /// `never`, a number of days (1 to 3650), or a date (`YYYY-MM-DD`, or with `THH:MM`) that is
    /// still to come at `now`.
    pub fn parse(text: &str, now: i64) -> Result<Self, ParseError> {
        let text = text.trim();
        let error = |problem| ParseError::new(FieldError::KeyExpiry, problem);
        if text.is_empty() || text == "never" {
            return Ok(Expiry::Never);
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<u32>() {
                Ok(days @ 1..=MAX_EXPIRY_DAYS) => Ok(Expiry::Days(days)),
                _ => Err(error(Problem::Shape)),
            };
        }
        let at = parse_utc_minutes(text).ok_or(error(Problem::Shape))?;
        if at <= now {
            return Err(error(Problem::NotInFuture));
        }
        Ok(Expiry::On(at))
    }

    /// When a key given this expiry at `now` ends.
    pub fn ends_at(self, now: i64) -> Option<i64> {
        match self {
            Expiry::Never => None,
            Expiry::Days(days) => Some(now + i64::from(days) * DAY_MS),
            Expiry::On(at) => Some(at),
        }
    }
}

/// How long the current key keeps working once a rotation begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetireAfter {
    Hour,
    Day,
    Week,
    At(i64),
}

impl RetireAfter {
    /// The choices the Rotate step offers besides a date: their text and label.
    pub const CHOICES: [(&'static str, &'static str); 3] = [
        ("1h", "For 1 hour"),
        ("24h", "For 24 hours"),
        ("7d", "For 7 days"),
    ];

    /// `1h`, `24h`, `7d`, or a date (`YYYY-MM-DD`, or with `THH:MM`) still to come at `now`.
    pub fn parse(text: &str, now: i64) -> Result<Self, ParseError> {
        let error = |problem| ParseError::new(FieldError::RetireAt, problem);
        match text.trim() {
            "1h" => Ok(RetireAfter::Hour),
            "24h" => Ok(RetireAfter::Day),
            "7d" => Ok(RetireAfter::Week),
            other => {
                let at = parse_utc_minutes(other).ok_or(error(Problem::Shape))?;
                if at <= now {
                    return Err(error(Problem::NotInFuture));
                }
                Ok(RetireAfter::At(at))
            }
        }
    }

    /// When a key replaced at `now` retires.
    pub fn at(self, now: i64) -> i64 {
        match self {
            RetireAfter::Hour => now + HOUR_MS,
            RetireAfter::Day => now + DAY_MS,
            RetireAfter::Week => now + 7 * DAY_MS,
            RetireAfter::At(at) => at,
        }
    }
}

/// Which clients the Clients page lists by their keys' expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpiryFilter {
    #[default]
    All,
    /// A key works now and every key ends within 7 days.
    Expiring,
    /// No key works.
    Expired,
}

impl ExpiryFilter {
    pub const ALL: [ExpiryFilter; 3] = [
        ExpiryFilter::All,
        ExpiryFilter::Expiring,
        ExpiryFilter::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryFilter::All => "",
            ExpiryFilter::Expiring => "expiring",
            ExpiryFilter::Expired => "expired",
        }
    }

    /// Unknown text is no filter, like a hand-edited address's other parameters.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "expiring" => ExpiryFilter::Expiring,
            "expired" => ExpiryFilter::Expired,
            _ => ExpiryFilter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExpiryFilter::All => "Any expiry",
            ExpiryFilter::Expiring => "Expiring in 7 days",
            ExpiryFilter::Expired => "Expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_error::problem_of;

    const NOW: i64 = 1_800_000_000_000;

    fn key(ends_at: Option<i64>, retiring: bool) -> KeyInfo {
        KeyInfo {
            id: "k".into(),
            fingerprint: "00000000".into(),
            created_at: 0,
            ends_at,
            retiring,
            last_used_at: None,
            last_address: None,
            live_sessions: 0,
        }
    }

    #[test]
    fn a_key_stops_working_at_its_end_exactly() {
        let k = key(Some(NOW), false);
        assert!(k.works_at(NOW - 1));
        assert!(!k.works_at(NOW));
        assert_eq!(k.state(NOW), KeyState::Expired);
        assert_eq!(k.state(NOW - 1), KeyState::Expires(NOW));
        assert_eq!(key(Some(NOW), true).state(NOW - 1), KeyState::Retires(NOW));
        assert_eq!(key(None, false).state(NOW), KeyState::Active);
    }

    #[test]
    fn a_client_expires_when_its_last_working_key_does() {
        let soon = Some(NOW + 2 * DAY_MS);
        assert_eq!(
            ClientExpiry::of(&[key(Some(NOW + HOUR_MS), true), key(None, false)], NOW),
            ClientExpiry::Never
        );
        assert_eq!(
            ClientExpiry::of(&[key(Some(NOW + HOUR_MS), true), key(soon, false)], NOW),
            ClientExpiry::Ends(NOW + 2 * DAY_MS)
        );
        assert_eq!(
            ClientExpiry::of(&[key(Some(NOW - 1), false)], NOW),
            ClientExpiry::Expired
        );
        assert_eq!(
            ClientExpiry::of(&[key(Some(NOW - 1), false), key(soon, false)], NOW),
            ClientExpiry::Ends(NOW + 2 * DAY_MS)
        );
        assert_eq!(ClientExpiry::of(&[], NOW), ClientExpiry::Never);
    }

    #[test]
    fn badges_say_how_long_is_left_and_warn_within_a_week() {
        let badge = |end| ClientExpiry::Ends(end).badge(NOW);
        assert_eq!(
            badge(NOW + 5 * DAY_MS),
            Some(("Expires in 5 days".into(), true))
        );
        assert_eq!(
            badge(NOW + 4 * DAY_MS + 1),
            Some(("Expires in 5 days".into(), true))
        );
        assert_eq!(
            badge(NOW + 20 * DAY_MS),
            Some(("Expires in 20 days".into(), false))
        );
        assert_eq!(badge(NOW + 31 * DAY_MS), None);
        assert_eq!(
            badge(NOW + 3 * HOUR_MS),
            Some(("Expires in 3 hours".into(), true))
        );
        assert_eq!(badge(NOW + 1), Some(("Expires in 1 minute".into(), true)));
        assert_eq!(
            ClientExpiry::Expired.badge(NOW),
            Some(("Expired".into(), true))
        );
        assert_eq!(ClientExpiry::Never.badge(NOW), None);
    }

    #[test]
    fn expiry_choices_parse_and_anything_else_is_refused_at_its_field() {
        assert_eq!(Expiry::parse("never", NOW), Ok(Expiry::Never));
        assert_eq!(Expiry::parse("", NOW), Ok(Expiry::Never));
        assert_eq!(Expiry::parse("90", NOW), Ok(Expiry::Days(90)));
        assert_eq!(Expiry::Days(30).ends_at(NOW), Some(NOW + 30 * DAY_MS));
        let date = Expiry::parse("2030-01-31", NOW).unwrap();
        assert_eq!(date, Expiry::On(1_896_048_000_000));
        for bad in [
            "0",
            "3651",
            "-5",
            "soon",
            "2030-02-30",
            "99999999999999999999",
        ] {
            assert_eq!(
                problem_of(Expiry::parse(bad, NOW), FieldError::KeyExpiry),
                Problem::Shape,
                "{bad}"
            );
        }
        assert_eq!(
            problem_of(Expiry::parse("2020-01-01", NOW), FieldError::KeyExpiry),
            Problem::NotInFuture
        );
    }

    #[test]
    fn retirement_choices_parse_and_a_past_date_is_refused() {
        assert_eq!(
            RetireAfter::parse("1h", NOW).unwrap().at(NOW),
            NOW + HOUR_MS
        );
        assert_eq!(
            RetireAfter::parse("24h", NOW).unwrap().at(NOW),
            NOW + DAY_MS
        );
        assert_eq!(
            RetireAfter::parse("7d", NOW).unwrap().at(NOW),
            NOW + 7 * DAY_MS
        );
        assert_eq!(
            RetireAfter::parse("2030-01-31T12:30", NOW),
            Ok(RetireAfter::At(1_896_093_000_000))
        );
        assert_eq!(
            problem_of(RetireAfter::parse("2h", NOW), FieldError::RetireAt),
            Problem::Shape
        );
        assert_eq!(
            problem_of(RetireAfter::parse("2001-01-01", NOW), FieldError::RetireAt),
            Problem::NotInFuture
        );
    }
}
