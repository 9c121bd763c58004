//! Why a credential was revoked: the change that queued a revocation for the brokers.

use super::text_enum;

text_enum!(
    /// The reason of a revocation, stored in `revocation_outbox.reason` as its text.
    RevocationReason, "revocation reason" {
        KeyRegenerated = "key_regenerated",
        Deactivated = "deactivated",
        Deleted = "deleted",
        /// A restricted client's scope lost a device id or tag, or a device left it (untagged,
        /// deleted): only the sessions now out of scope are closed.
        ScopeNarrowed = "scope_narrowed",
        /// A client's topic rules changed: each session keeps only the subscriptions still
        /// allowed.
        RulesChanged = "rules_changed",
        /// A rotation's old key retired (its time came, or "Retire now"): only the sessions that
        /// authenticated with it are closed.
        KeyRetired = "key_retired",
        /// A key expired: only the sessions that authenticated with it are closed.
        KeyExpired = "key_expired",
        /// Every live session was closed at a member's request; the key, status and access are
        /// unchanged, so a device with the key reconnects.
        SessionsDisconnected = "sessions_disconnected",
    }
);

impl RevocationReason {
    /// What the Clients page calls the change.
    pub fn label(self) -> &'static str {
        match self {
            RevocationReason::KeyRegenerated => "Key regenerated",
            RevocationReason::Deactivated => "Deactivated",
            RevocationReason::Deleted => "Deleted",
            RevocationReason::ScopeNarrowed => "Scope narrowed",
            RevocationReason::RulesChanged => "Topic rules changed",
            RevocationReason::KeyRetired => "Old key retired",
            RevocationReason::KeyExpired => "Key expired",
            RevocationReason::SessionsDisconnected => "Sessions disconnected",
        }
    }

    /// Whether the revocation ends the sessions of one key only (the outbox row names it), and
    /// no other.
    pub fn ends_one_key(self) -> bool {
        matches!(
            self,
            RevocationReason::KeyRetired | RevocationReason::KeyExpired
        )
    }

    /// Whether the revocation ends every session the client had (a key, its activity or the
    /// client itself is gone); otherwise each session is decided again, and only what is no
    /// longer allowed goes.
    pub fn ends_every_session(self) -> bool {
        matches!(
            self,
            RevocationReason::KeyRegenerated
                | RevocationReason::Deactivated
                | RevocationReason::Deleted
                | RevocationReason::SessionsDisconnected
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trips;

    #[test]
    fn revocation_reasons_round_trip_as_the_stored_texts() {
        assert_round_trips!(
            RevocationReason,
            [
                "key_regenerated",
                "deactivated",
                "deleted",
                "scope_narrowed",
                "rules_changed",
                "key_retired",
                "key_expired",
                "sessions_disconnected"
            ]
        );
    }
}
