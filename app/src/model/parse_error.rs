//! Why a form field's text is not a value of its type. Every parser of the model returns the same
//! error, so the browser shows its sentence under the field as the user types, and the server
//! answers it as `AppError::Invalid` at that field (one `From`, in `crate::error`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which form field a validation message belongs to, so the browser can show it at that field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldError {
    ClientId,
    Key,
    Name,
    Description,
    Email,
    Password,
    /// The password a user types to prove it is them before changing it.
    CurrentPassword,
    OrgName,
    WorkspaceName,
    Namespace,
    DeviceId,
    Tag,
    Scope,
    TopicRule,
    /// When a key expires.
    KeyExpiry,
    /// When a rotated key's predecessor retires.
    RetireAt,
    /// What an API token may do.
    TokenScope,
    /// A REST request's `Idempotency-Key` header.
    IdempotencyKey,
    /// Where an event endpoint's events are sent.
    EndpointUrl,
    /// Which events an endpoint receives.
    EventTypes,
}

impl FieldError {
    /// What the field holds, with its indefinite article, as a sentence names it.
    fn noun(self) -> (&'static str, &'static str) {
        match self {
            FieldError::ClientId => ("a", "Client ID"),
            FieldError::Key => ("a", "key"),
            FieldError::Name => ("a", "name"),
            FieldError::Description => ("a", "description"),
            FieldError::Email => ("an", "email address"),
            FieldError::Password => ("a", "password"),
            FieldError::CurrentPassword => ("your", "current password"),
            FieldError::OrgName => ("an", "organization name"),
            FieldError::WorkspaceName => ("a", "workspace name"),
            FieldError::Namespace => ("a", "namespace"),
            FieldError::DeviceId => ("a", "device id"),
            FieldError::Tag => ("a", "tag"),
            FieldError::Scope => ("a", "scope entry"),
            FieldError::TopicRule => ("a", "topic filter"),
            FieldError::KeyExpiry => ("an", "expiry"),
            FieldError::RetireAt => ("a", "retirement time"),
            FieldError::TokenScope => ("a", "token scope"),
            FieldError::IdempotencyKey => ("an", "Idempotency-Key header"),
            FieldError::EndpointUrl => ("an", "endpoint URL"),
            FieldError::EventTypes => ("an", "event type"),
        }
    }
}

/// What is wrong with a field's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Empty,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// A line break in a field that holds one line.
    LineBreak,
    ControlCharacter,
    /// A character the field does not allow, named (never used for secrets).
    Character(char),
    /// The text breaks the field's rule of characters or shape; the message states the rule.
    Shape,
    /// A text shaped like a generated key whose checksum does not match: a typo.
    Checksum,
    /// A key in the generated format whose bytes are visibly not random: guessable.
    NotRandom,
    /// A list with more entries than it may hold.
    TooMany {
        max: usize,
    },
    /// A topic filter that reaches outside the workspace's namespace.
    OutsideNamespace,
    /// A `{…}` that is not a known placeholder as a whole topic level.
    Placeholder,
    /// A moment that has passed already, where one to come is needed.
    NotInFuture,
}

/// A field's text that did not parse: which field, and what is wrong with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    pub field: FieldError,
    pub problem: Problem,
}

impl ParseError {
    pub fn new(field: FieldError, problem: Problem) -> Self {
        Self { field, problem }
    }
}

/// The sentence the user reads under the field.
impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use FieldError as F;
        let (a, noun) = self.field.noun();
        let capital = if a == "an" { "An" } else { "A" };
        match (self.field, self.problem) {
            (F::DeviceId | F::Scope, Problem::Character(c)) => write!(
                f,
                "'{c}' is not allowed in a device id or tag: use letters, digits, '-', '_', '.', ':' and '@'."
            ),
            (F::Tag, Problem::Character(c)) => write!(
                f,
                "'{c}' is not allowed in a tag: write key=value with letters, digits, '-', '_', '.', ':' and '@'."
            ),
            (F::DeviceId, Problem::Shape) => write!(f, "'.' and '..' cannot be device ids."),
            (F::Tag | F::Scope, Problem::Shape) => {
                write!(f, "Write a tag as key=value, both sides filled in.")
            }
            (F::Scope, Problem::Empty) => {
                write!(f, "List at least one device id or key=value tag.")
            }
            (F::TopicRule, Problem::Shape) => write!(
                f,
                "This is not a valid MQTT topic filter: '+' and '#' must fill a whole level, '#' only the last."
            ),
            (F::TopicRule, Problem::Character(c)) => {
                write!(f, "{c:?} is not allowed in a topic filter.")
            }
            (F::Key, Problem::Empty) => write!(f, "Enter a key, or generate one."),
            (F::EventTypes, Problem::Empty) => write!(f, "Choose at least one event type."),
            (F::EventTypes, Problem::Shape) => write!(
                f,
                "Choose event types from the list: client.created, client.updated, client.key_regenerated, client.deactivated, client.activated, client.deleted, client.auth_failures."
            ),
            (F::EndpointUrl, Problem::Shape) => write!(
                f,
                "Enter an https:// URL without a user name or #fragment; plain http:// only to a loopback address (127.0.0.1, [::1]) for development."
            ),
            (F::Email, Problem::Empty) => write!(f, "Enter your email address."),
            (_, Problem::Empty) => write!(f, "Enter {a} {noun}."),
            (F::Password, Problem::TooShort { min }) => {
                write!(f, "Use at least {min} characters for your password.")
            }
            (_, Problem::TooShort { min }) => {
                write!(f, "{capital} {noun} needs at least {min} characters.")
            }
            (_, Problem::TooLong { max }) => {
                write!(f, "{capital} {noun} can have at most {max} characters.")
            }
            (_, Problem::LineBreak) => write!(f, "{capital} {noun} must fit on one line."),
            (_, Problem::ControlCharacter) => {
                write!(f, "{capital} {noun} cannot contain control characters.")
            }
            (F::ClientId, Problem::Character(c)) => write!(
                f,
                "'{c}' is not allowed in a Client ID: use letters, digits, '-', '_' and '.'."
            ),
            (_, Problem::Character(c)) => write!(f, "'{c}' is not allowed in {a} {noun}."),
            (F::Key, Problem::Shape) => {
                write!(f, "Use printable ASCII characters without spaces in a key.")
            }
            (F::Namespace, Problem::Shape) => write!(
                f,
                "Use lowercase letters, digits and single '-' inside a namespace."
            ),
            (F::Email, Problem::Shape) => {
                write!(f, "Enter an email address like name@example.com.")
            }
            (F::KeyExpiry | F::RetireAt, Problem::Shape) => {
                write!(f, "Pick one of the choices, or a date as YYYY-MM-DD.")
            }
            (_, Problem::Shape) => write!(f, "This is not {a} {noun}."),
            (_, Problem::NotInFuture) => write!(f, "Pick a moment that has not passed yet."),
            (_, Problem::TooMany { max }) => write!(f, "At most {max} {noun}s are allowed."),
            (_, Problem::OutsideNamespace) => write!(
                f,
                "A topic filter must start with the workspace's namespace: rules cannot reach outside it."
            ),
            (_, Problem::Placeholder) => write!(
                f,
                "Use {{client_id}} or {{device_id}} as a whole level; no other placeholders exist."
            ),
            (_, Problem::NotRandom) => write!(
                f,
                "This looks like a generated Keygate key but its bytes are not random: generate a key instead."
            ),
            (_, Problem::Checksum) => write!(
                f,
                "This looks like a Keygate key but its checksum is wrong: check for a typo."
            ),
        }
    }
}

/// The problem a parser found in text it refused, asserting that it names `field`.
#[cfg(test)]
#[track_caller]
pub(crate) fn problem_of<T: fmt::Debug>(
    parsed: Result<T, ParseError>,
    field: FieldError,
) -> Problem {
    let e = parsed.unwrap_err();
    assert_eq!(e.field, field);
    e.problem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_reads_as_a_sentence_about_its_field() {
        let say = |field, problem| ParseError::new(field, problem).to_string();
        assert_eq!(
            say(FieldError::ClientId, Problem::Empty),
            "Enter a Client ID."
        );
        assert_eq!(
            say(FieldError::Key, Problem::Empty),
            "Enter a key, or generate one."
        );
        assert_eq!(
            say(FieldError::OrgName, Problem::TooLong { max: 80 }),
            "An organization name can have at most 80 characters."
        );
        assert_eq!(
            say(FieldError::Password, Problem::TooShort { min: 10 }),
            "Use at least 10 characters for your password."
        );
        assert_eq!(
            say(FieldError::ClientId, Problem::Character('/')),
            "'/' is not allowed in a Client ID: use letters, digits, '-', '_' and '.'."
        );
        assert_eq!(
            say(FieldError::Name, Problem::LineBreak),
            "A name must fit on one line."
        );
    }
}
