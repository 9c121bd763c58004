//! Why a credential was revoked: the change that queued a revocation for the brokers.

use super::text_enum;

text_enum!(
    /// The reason of a revocation, stored in `revocation_outbox.reason` as its text.
    RevocationReason, "revocation reason" {
        KeyRegenerated = "key_regenerated",
        Deactivated = "deactivated",
        Deleted = "deleted",
    }
);

impl RevocationReason {
    /// What the Clients page calls the change.
    pub fn label(self) -> &'static str {
        match self {
            RevocationReason::KeyRegenerated => "Key regenerated",
            RevocationReason::Deactivated => "Deactivated",
            RevocationReason::Deleted => "Deleted",
        }
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
            ["key_regenerated", "deactivated", "deleted"]
        );
    }
}
