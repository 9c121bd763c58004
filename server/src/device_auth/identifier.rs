//! Which MQTT client identifiers Keygate lets in, on every broker path.
//!
//! An identifier names a session on a broker, and a revocation closes that session on an external
//! broker through its admin API, where the identifier becomes one segment of a URL path
//! (`DELETE /api/v5/clients/{identifier}`). So an identifier must survive that trip:
//!
//! - 1 to [`MAX_LEN`] characters;
//! - printable ASCII without spaces (`!` to `~`): no control or invisible characters, nothing that
//!   looks like another identifier in a log or in the dashboard;
//! - not `.` or `..`: a URL path cannot carry those as a segment, not even percent-encoded (the
//!   URL standard treats `%2e%2e` as `..`), so no admin API could ever close such a session.
//!
//! Generated identifiers of common clients (`mosq-…`, `mosqsub|1234-host`, `paho…`, `mqttjs_…`,
//! a broker-assigned UUID) all pass.

/// The longest identifier accepted, in characters (AWS IoT's limit too).
pub const MAX_LEN: usize = 128;

/// Why an identifier is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("the MQTT client identifier is empty")]
    Empty,
    #[error("the MQTT client identifier is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("the MQTT client identifier has a character outside printable ASCII: {0:?}")]
    BadCharacter(char),
    #[error("the MQTT client identifier {0:?} cannot be addressed in an admin API's URL")]
    DotSegment(String),
}

/// Checks `identifier` against the rule above.
pub fn check(identifier: &str) -> Result<(), IdentifierError> {
    if identifier.is_empty() {
        return Err(IdentifierError::Empty);
    }
    if let Some(bad) = identifier.chars().find(|c| !matches!(c, '!'..='~')) {
        return Err(IdentifierError::BadCharacter(bad));
    }
    if identifier.len() > MAX_LEN {
        return Err(IdentifierError::TooLong);
    }
    if identifier == "." || identifier == ".." {
        return Err(IdentifierError::DotSegment(identifier.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_client_identifiers_pass() {
        for id in [
            "c-7k2m9x4q",
            "mosq-Qx1bZ9aLk2",
            "mosqsub|1234-raspberrypi",
            "mqttjs_3f9a1c2e",
            "paho/sensor#1?x=%2F",
            "0c8f1a2b3c4d5e6f7a8b9c0d1e2f3a4b",
            "...",
            "a",
        ] {
            assert_eq!(check(id), Ok(()), "{id}");
        }
        assert_eq!(check(&"x".repeat(MAX_LEN)), Ok(()));
    }

    #[test]
    fn identifiers_that_cannot_travel_are_refused() {
        assert_eq!(check(""), Err(IdentifierError::Empty));
        assert_eq!(
            check(&"x".repeat(MAX_LEN + 1)),
            Err(IdentifierError::TooLong)
        );
        assert_eq!(check("."), Err(IdentifierError::DotSegment(".".into())));
        assert_eq!(check(".."), Err(IdentifierError::DotSegment("..".into())));
        for (id, bad) in [
            ("dev 1", ' '),
            ("dev\t1", '\t'),
            ("dev\u{200b}1", '\u{200b}'),
            ("dév", 'é'),
            ("\u{feff}dev", '\u{feff}'),
            ("dev\n", '\n'),
        ] {
            assert_eq!(check(id), Err(IdentifierError::BadCharacter(bad)), "{id:?}");
        }
    }
}
