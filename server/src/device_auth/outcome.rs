//! What a refused CONNECT comes to, whichever broker path it took: the one table from a
//! [`Refusal`] to an [`Outcome`]. Each path then says the outcome in its own protocol, in one
//! function of its own (`broker::connack::auth_result`, `webhooks::emqx::authn_answer`,
//! `webhooks::vernemq::register_answer`), so the same refusal gets the same outcome on every path.

use super::Refusal;

/// The outcome of a CONNECT, as every broker path must convey it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    /// A wrong key, no credentials, or a username that names nobody in a known shape. All a
    /// device without the right key ever learns.
    BadCredentials,
    /// The right key, but the client may not connect now (inactive, locked out, its identifier
    /// held by another client, ...). Only the key's holder learns this.
    NotAuthorized,
    /// No client by that name. To a device this is [`Outcome::BadCredentials`] (same code, same
    /// time); an external broker hears it so it can ask its next authenticator.
    UnknownClient,
    /// The MQTT client identifier breaks Keygate's rule (see `identifier`).
    IdentifierRejected,
    /// Too many connects are waiting for key verification: try again shortly.
    Busy,
    /// Keygate cannot decide (its database or verifier failed): an error, not a verdict.
    Unavailable,
}

impl Refusal {
    /// The one table from a refusal to its outcome.
    pub fn outcome(&self) -> Outcome {
        match self {
            Refusal::BadCredentials | Refusal::KeyExpired => Outcome::BadCredentials,
            Refusal::UnknownClient => Outcome::UnknownClient,
            Refusal::Identifier(_) => Outcome::IdentifierRejected,
            Refusal::Inactive
            | Refusal::WillOutsideNamespace
            | Refusal::OutsideScope
            | Refusal::Throttled(_)
            | Refusal::IdentifierReserved
            | Refusal::IdentifierInUse
            | Refusal::TooManySessions
            | Refusal::RevokedWhileChecking => Outcome::NotAuthorized,
            Refusal::Busy => Outcome::Busy,
            Refusal::Store(_) | Refusal::VerifierStopped => Outcome::Unavailable,
        }
    }

    /// The refusal's name where it is counted (the metrics' `reason` label).
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::BadCredentials => "bad_credentials",
            Refusal::KeyExpired => "key_expired",
            Refusal::UnknownClient => "unknown_client",
            Refusal::Identifier(_) => "identifier_rule",
            Refusal::Inactive => "inactive",
            Refusal::WillOutsideNamespace => "will_outside_namespace",
            Refusal::OutsideScope => "outside_scope",
            Refusal::Throttled(_) => "throttled",
            Refusal::IdentifierReserved => "identifier_reserved",
            Refusal::IdentifierInUse => "identifier_in_use",
            Refusal::TooManySessions => "too_many_sessions",
            Refusal::RevokedWhileChecking => "revoked_while_checking",
            Refusal::Busy => "busy",
            Refusal::Store(_) => "store_failed",
            Refusal::VerifierStopped => "verifier_stopped",
        }
    }
}

impl Outcome {
    /// The outcome of a decision.
    pub fn of<T>(decided: &Result<T, Refusal>) -> Self {
        match decided {
            Ok(_) => Outcome::Allowed,
            Err(refusal) => refusal.outcome(),
        }
    }

    /// The outcome's name where it is counted (the metrics' `outcome` label).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::BadCredentials => "bad_credentials",
            Outcome::NotAuthorized => "not_authorized",
            Outcome::UnknownClient => "unknown_client",
            Outcome::IdentifierRejected => "identifier_rejected",
            Outcome::Busy => "busy",
            Outcome::Unavailable => "unavailable",
        }
    }

    /// Whether Keygate failed to decide, rather than deciding no (operators see these as errors).
    pub fn is_error(self) -> bool {
        matches!(self, Outcome::Busy | Outcome::Unavailable)
    }
}
