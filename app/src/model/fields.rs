//! The free-text fields of forms. Each parses to a type that is valid by construction.

use super::{FieldError, ParseError, Problem};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Trims, then checks that a text has between `min` and `max` characters and no control
/// characters (newlines only where `multiline`).
fn bounded_text(
    raw: &str,
    field: FieldError,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, ParseError> {
    let invalid = |problem| ParseError::new(field, problem);
    let text = raw.trim();
    let len = text.chars().count();
    if len == 0 && min > 0 {
        return Err(invalid(Problem::Empty));
    }
    if len < min {
        return Err(invalid(Problem::TooShort { min }));
    }
    if len > max {
        return Err(invalid(Problem::TooLong { max }));
    }
    if text.chars().any(|c| c == '\n' || c == '\r') && !multiline {
        return Err(invalid(Problem::LineBreak));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(invalid(Problem::ControlCharacter));
    }
    Ok(text.to_owned())
}

macro_rules! text_field {
    ($(#[$doc:meta])* $name:ident, $field:ident, $min:literal, $max:literal, $multiline:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                bounded_text(raw, FieldError::$field, $min, $max, $multiline).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_field!(
    /// A client's display name.
    ClientName, Name, 1, 80, false
);
text_field!(
    /// A client's optional description.
    Description, Description, 0, 500, true
);
text_field!(
    /// A device's optional display name (a device that appeared by connecting has none).
    DeviceName, Name, 0, 80, false
);
text_field!(
    /// An organization's name.
    OrgName, OrgName, 1, 80, false
);
text_field!(
    /// An API token's name: who or what uses it ("CI deploy"), and the actor its changes are
    /// audited under.
    TokenName, Name, 1, 60, false
);
text_field!(
    /// A workspace's name ("Production", "staging", …).
    WorkspaceName, WorkspaceName, 1, 40, false
);

/// A sign-in email address, lowercased. Only the shape is checked; nothing is sent to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = |problem| ParseError::new(FieldError::Email, problem);
        let email = raw.trim().to_lowercase();
        let shape_ok = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(char::is_whitespace)
                    && !domain.contains('@')
            }
            None => false,
        };
        if email.is_empty() {
            Err(invalid(Problem::Empty))
        } else if email.len() > Self::MAX_LEN {
            Err(invalid(Problem::TooLong { max: Self::MAX_LEN }))
        } else if !shape_ok {
            Err(invalid(Problem::Shape))
        } else {
            Ok(Self(email))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// A user's password: wrapped like a client key so it never reaches a log line.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub const MIN_LEN: usize = 10;
    pub const MAX_LEN: usize = 256;

    /// Checks a new password's length. Sign-in accepts any password and lets the hash decide.
    pub fn parse_new(raw: &str) -> Result<Self, ParseError> {
        let invalid = |problem| ParseError::new(FieldError::Password, problem);
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            Err(invalid(Problem::TooShort { min: Self::MIN_LEN }))
        } else if len > Self::MAX_LEN {
            Err(invalid(Problem::TooLong { max: Self::MAX_LEN }))
        } else {
            Ok(Self(SecretString::from(raw.to_owned())))
        }
    }

    pub fn from_sign_in(raw: String) -> Self {
        Self(SecretString::from(raw))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_error::problem_of;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            ClientName::parse("  Boiler 3 ").unwrap().as_str(),
            "Boiler 3"
        );
        let problem = |raw: &str| problem_of(ClientName::parse(raw), FieldError::Name);
        assert_eq!(
            ClientName::parse("   ").unwrap_err().to_string(),
            "Enter a name."
        );
        assert_eq!(problem(&"n".repeat(81)), Problem::TooLong { max: 80 });
        assert_eq!(problem("bell\u{7}"), Problem::ControlCharacter);
        assert_eq!(problem("two\nlines"), Problem::LineBreak);
        assert_eq!(
            Description::parse("two\nlines").unwrap().as_str(),
            "two\nlines"
        );
        assert_eq!(Description::parse("").unwrap().as_str(), "");
        assert_eq!(
            Description::parse(&"d".repeat(501)).unwrap_err(),
            ParseError::new(FieldError::Description, Problem::TooLong { max: 500 })
        );
    }

    #[test]
    fn emails_are_lowercased_and_shape_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().field,
                FieldError::Email,
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn passwords_need_ten_characters_and_never_show_in_debug() {
        assert_eq!(
            Password::parse_new("short").unwrap_err(),
            ParseError::new(FieldError::Password, Problem::TooShort { min: 10 })
        );
        let p = Password::parse_new("long-enough-password").unwrap();
        assert!(!format!("{p:?}").contains("long-enough"));
    }
}

/// A secret as typed into a form (a key or a password) before it is parsed: deserializes any
/// string, so the server can answer "too short" at the field instead of refusing the request, and
/// is redacted in `Debug` like the parsed types.
#[derive(Clone, Default)]
pub struct SecretInput(String);

impl SecretInput {
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretInput(<redacted>)")
    }
}

impl Serialize for SecretInput {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}
