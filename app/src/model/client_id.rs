//! `ClientId`: the identifier a device connects with, and the one parser that makes it.

use super::{FieldError, ParseError, Problem};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A Client ID: 3–64 characters of `A-Za-z0-9-_.`, globally unique. A value of this type is valid.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 64;
    const GENERATED_ALPHABET: &'static [u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = |problem| ParseError::new(FieldError::ClientId, problem);
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid(Problem::Empty));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(invalid(Problem::Character(bad)));
        }
        match raw.len() {
            n if n < Self::MIN_LEN => Err(invalid(Problem::TooShort { min: Self::MIN_LEN })),
            n if n > Self::MAX_LEN => Err(invalid(Problem::TooLong { max: Self::MAX_LEN })),
            _ => Ok(Self(raw.to_owned())),
        }
    }

    /// A Client ID exactly as a device sent it: no trimming, so `" c-1"`, `"c-1\t"` or `"c-1"` with an
    /// invisible character name no client. What a person types in the dashboard goes through
    /// [`ClientId::parse`], which forgives surrounding spaces; what arrives over the network
    /// is taken as it is.
    pub fn parse_exact(raw: &str) -> Option<Self> {
        Self::parse(raw).ok().filter(|id| id.0 == raw)
    }

    /// A fresh id like `c-7k2m9x4q`: lowercase, no look-alike characters, 40 bits of entropy.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 8];
        super::random_bytes(&mut bytes);
        let alphabet = Self::GENERATED_ALPHABET;
        let suffix: String = bytes
            .iter()
            .map(|b| alphabet[*b as usize % alphabet.len()] as char)
            .collect();
        Self(format!("c-{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientId {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClientId> for String {
    fn from(value: ClientId) -> Self {
        value.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_error::problem_of;

    #[test]
    fn accepts_the_allowed_alphabet() {
        assert_eq!(
            ClientId::parse("Sensor_01.a-b").unwrap().as_str(),
            "Sensor_01.a-b"
        );
    }

    #[test]
    fn trims_surrounding_space() {
        assert_eq!(ClientId::parse("  abc ").unwrap().as_str(), "abc");
    }

    #[test]
    fn network_input_is_taken_exactly() {
        assert_eq!(ClientId::parse_exact("c-1a").unwrap().as_str(), "c-1a");
        for padded in [
            " c-1a",
            "c-1a\t",
            "\u{a0}c-1a",
            "c-1a\u{200b}",
            "\u{feff}c-1a",
            "c-1a\n",
        ] {
            assert_eq!(ClientId::parse_exact(padded), None, "{padded:?}");
        }
    }

    #[test]
    fn rejects_bad_input_with_a_reason() {
        let problem = |raw: &str| problem_of(ClientId::parse(raw), FieldError::ClientId);
        assert_eq!(problem(""), Problem::Empty);
        assert_eq!(problem("ab"), Problem::TooShort { min: 3 });
        assert_eq!(problem(&"a".repeat(65)), Problem::TooLong { max: 64 });
        assert_eq!(problem("a b"), Problem::Character(' '));
        assert_eq!(problem("a/b#"), Problem::Character('/'));
        assert_eq!(problem("dev+1"), Problem::Character('+'));
        assert_eq!(problem("ünï"), Problem::Character('ü'));
        assert_eq!(
            ClientId::parse("ab").unwrap_err().to_string(),
            "A Client ID needs at least 3 characters."
        );
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = ClientId::generate();
        let b = ClientId::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("c-") && a.as_str().len() == 10);
        assert_eq!(ClientId::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn deserializing_runs_the_parser() {
        assert!(serde_json::from_str::<ClientId>("\"a b c\"").is_err());
        assert!(serde_json::from_str::<ClientId>("\"abc\"").is_ok());
    }
}
