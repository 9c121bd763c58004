//! `Namespace`: a workspace's topic root and MQTT username, derived from names or typed.

use super::{FieldError, ParseError, Problem};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A workspace's namespace: the root of its topics (`NAMESPACE/#`) and the MQTT username of the
/// STS-style connection form. A lowercase slug, globally unique, fixed once created because devices
/// have it in their configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Namespace(String);

impl Namespace {
    pub const MIN_LEN: usize = 2;
    pub const MAX_LEN: usize = 48;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = |problem| ParseError::new(FieldError::Namespace, problem);
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid(Problem::Empty));
        }
        let allowed = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !allowed || raw.starts_with('-') || raw.ends_with('-') || raw.contains("--") {
            return Err(invalid(Problem::Shape));
        }
        match raw.len() {
            n if n < Self::MIN_LEN => Err(invalid(Problem::TooShort { min: Self::MIN_LEN })),
            n if n > Self::MAX_LEN => Err(invalid(Problem::TooLong { max: Self::MAX_LEN })),
            _ => Ok(Self(raw.to_owned())),
        }
    }

    /// A namespace derived from a free-form name: "Acme Corp (EU)" → `acme-corp-eu`,
    /// "Ünïcode Labs" → `unicode-labs` (transliterated by the `slug` crate). Falls back to `ws`
    /// when nothing usable is left; the store adds a suffix when it is taken.
    /// Server-only: workspaces are named on the server, and the transliteration tables would
    /// ship to the browser for nothing.
    #[cfg(feature = "ssr")]
    pub fn derive(name: &str) -> Self {
        let mut slug = slug::slugify(name);
        slug.truncate(Self::MAX_LEN - 7); // room for a "-NNNNNN" uniqueness suffix
        let slug = slug.trim_end_matches('-');
        Self::parse(slug).unwrap_or_else(|_| Self("ws".to_owned()))
    }

    /// This namespace with a numeric suffix, for when the plain one is taken.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Namespace {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Namespace> for String {
    fn from(value: Namespace) -> Self {
        value.0
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_error::problem_of;

    #[cfg(feature = "ssr")]
    #[test]
    fn derives_a_slug_from_a_name() {
        assert_eq!(Namespace::derive("Acme Corp (EU)").as_str(), "acme-corp-eu");
        assert_eq!(
            Namespace::derive("  Ünïcode  Labs ").as_str(),
            "unicode-labs"
        );
        assert_eq!(Namespace::derive("!!!").as_str(), "ws");
        assert!(Namespace::derive(&"x".repeat(200)).as_str().len() <= Namespace::MAX_LEN - 7);
    }

    #[test]
    fn rejects_bad_namespaces() {
        let problem = |raw: &str| problem_of(Namespace::parse(raw), FieldError::Namespace);
        assert_eq!(problem(""), Problem::Empty);
        assert_eq!(problem("a"), Problem::TooShort { min: 2 });
        assert_eq!(problem("Acme"), Problem::Shape);
        assert_eq!(problem("a/b"), Problem::Shape);
        assert_eq!(problem("-ab"), Problem::Shape);
        assert_eq!(problem("a--b"), Problem::Shape);
        assert_eq!(problem(&"a".repeat(49)), Problem::TooLong { max: 48 });
        assert!(Namespace::parse("acme-prod-2").is_ok());
    }
}
