//! A CONNECT's outcome as the embedded broker's CONNACK says it: the embedded path's one function
//! from an [`Outcome`] to its protocol (see `device_auth::outcome`).

use crate::device_auth::{Outcome, Protocol};
use rmqtt::types::AuthResult;

/// rmqtt lets an authentication hook answer only "bad username or password" or "not authorized"
/// (it calls no hook that could change the code of a refused handshake), so busy and unavailable
/// are "not authorized" here too: the device retries either way. MQTT 3.1.1 gets return code 5
/// for every refusal; MQTT 5 tells a bad key (0x86) from a key that is right but may not connect
/// (0x87), which only the key's holder learns.
pub fn auth_result(outcome: Outcome, protocol: Protocol) -> AuthResult {
    match (outcome, protocol) {
        (Outcome::Allowed, _) => AuthResult::Allow(false, None),
        (Outcome::BadCredentials | Outcome::UnknownClient, Protocol::V5) => {
            AuthResult::BadUsernameOrPassword
        }
        _ => AuthResult::NotAuthorized,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What rmqtt turns each answer into: MQTT 3.1.1's return code, MQTT 5's reason code.
    fn codes(result: &AuthResult) -> (u8, u8) {
        match result {
            AuthResult::Allow(false, None) => (0, 0),
            AuthResult::BadUsernameOrPassword => (4, 0x86),
            AuthResult::NotAuthorized => (5, 0x87),
            other => panic!("an answer Keygate never gives: {other:?}"),
        }
    }

    #[test]
    fn every_outcome_has_its_connack_in_both_protocols() {
        // (outcome, MQTT 3.1.1 return code, MQTT 5 reason code), as docs/architecture.md's table.
        for (outcome, v3, v5) in [
            (Outcome::Allowed, 0, 0),
            (Outcome::BadCredentials, 5, 0x86),
            (Outcome::UnknownClient, 5, 0x86),
            (Outcome::NotAuthorized, 5, 0x87),
            (Outcome::IdentifierRejected, 5, 0x87),
            (Outcome::Busy, 5, 0x87),
            (Outcome::Unavailable, 5, 0x87),
        ] {
            assert_eq!(
                codes(&auth_result(outcome, Protocol::V3)).0,
                v3,
                "{outcome:?}, 3.1.1"
            );
            assert_eq!(
                codes(&auth_result(outcome, Protocol::V5)).1,
                v5,
                "{outcome:?}, 5"
            );
        }
    }
}
