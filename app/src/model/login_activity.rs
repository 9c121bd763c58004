//! A client's failed logins as the Edit modal shows them: the last one (when, from where, why),
//! how many in the last 24 hours, and whether the back-off locks the client out right now.

use super::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    /// Why a login of an existing client was refused, stored in `client_login_failures.last_reason`
    /// as its text. Failures for names that do not exist belong to no client and are not here.
    LoginFailureReason, "login failure reason" {
        WrongKey = "wrong_key",
        Inactive = "inactive",
        /// A restricted client's key from a device outside its scope, or not in connection form 3.
        OutsideScope = "outside_scope",
        WillOutsideNamespace = "will_outside_namespace",
        /// An MQTT client identifier another client holds, or another client's Client ID.
        IdentifierHeld = "identifier_held",
        TooManySessions = "too_many_sessions",
        /// Refused by the back-off before its key was checked.
        LockedOut = "locked_out",
        /// The right key, past its expiry: refused like a wrong key.
        ExpiredKey = "expired_key",
    }
);

impl LoginFailureReason {
    /// The reason in words, as the Edit modal and the activity log say it.
    pub fn words(self) -> &'static str {
        match self {
            LoginFailureReason::WrongKey => "wrong key",
            LoginFailureReason::Inactive => "client is inactive",
            LoginFailureReason::OutsideScope => "device outside the restricted client's scope",
            LoginFailureReason::WillOutsideNamespace => "Last Will topic outside the namespace",
            LoginFailureReason::IdentifierHeld => "MQTT client identifier held by another client",
            LoginFailureReason::TooManySessions => "too many sessions on one broker",
            LoginFailureReason::LockedOut => "locked out",
            LoginFailureReason::ExpiredKey => "expired key",
        }
    }
}

/// One refused login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailure {
    /// Unix milliseconds.
    pub at: i64,
    /// The device's source address as its broker reported it; empty when it reported none.
    pub address: String,
    pub reason: LoginFailureReason,
}

/// What the back-off holds against a client right now, in the process that answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockout {
    /// Seconds left of the lock on the client itself: a device from an address that has not
    /// authenticated the client lately is refused, whatever its key. `None`: not locked.
    pub client_secs: Option<u64>,
    /// Addresses locked out for this client (each after its own wrong keys).
    pub addresses: u32,
    /// The longest time left, in seconds, among those addresses' locks.
    pub address_secs: u64,
}

impl Lockout {
    /// The longest time left of any of the client's locks, in seconds.
    pub fn secs_left(&self) -> u64 {
        self.client_secs.unwrap_or(0).max(self.address_secs)
    }
}

/// A client's failed logins: the Edit modal's login activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginActivity {
    /// The latest successful login, with any of the client's keys: when, and from which address
    /// (empty when its broker reported none); `None`: none yet.
    pub last_success: Option<(i64, String)>,
    /// The latest refused login Keygate remembers (for 30 days); `None`: none.
    pub last_failure: Option<LoginFailure>,
    /// Refused logins in the last 24 hours, counted by the hour (the hour that began 24 hours ago
    /// counts in full).
    pub failures_24h: u64,
    /// `None` while nothing is locked.
    pub lockout: Option<Lockout>,
}

/// "14 min 2 s", "45 s", "2 h 5 min": a lock's time left.
pub fn duration_words(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 if secs.is_multiple_of(60) => format!("{} min", secs / 60),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ if (secs % 3600) / 60 == 0 => format!("{} h", secs / 3600),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trips;

    #[test]
    fn login_failure_reasons_round_trip_as_the_stored_texts() {
        assert_round_trips!(
            LoginFailureReason,
            [
                "wrong_key",
                "inactive",
                "outside_scope",
                "will_outside_namespace",
                "identifier_held",
                "too_many_sessions",
                "locked_out",
                "expired_key"
            ]
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_words(0), "0 s");
        assert_eq!(duration_words(45), "45 s");
        assert_eq!(duration_words(60), "1 min");
        assert_eq!(duration_words(842), "14 min 2 s");
        assert_eq!(duration_words(3600), "1 h");
        assert_eq!(duration_words(7500), "2 h 5 min");
    }

    #[test]
    fn the_time_left_is_the_longest_lock() {
        let lockout = Lockout {
            client_secs: Some(30),
            addresses: 2,
            address_secs: 90,
        };
        assert_eq!(lockout.secs_left(), 90);
        let client_only = Lockout {
            client_secs: Some(30),
            addresses: 0,
            address_secs: 0,
        };
        assert_eq!(client_only.secs_left(), 30);
    }
}
