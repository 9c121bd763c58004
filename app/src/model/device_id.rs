//! `DeviceId` and `Tag`: what names a device, and the `key=value` labels a restricted client's
//! scope selects devices by.
//!
//! A device id is the MQTT client identifier a device connects with (connection form 3), and it is
//! one level of the device's topics (`NAMESPACE/devices/DEVICE_ID/#`), so it may hold nothing that
//! means something in a topic (`/`, `+`, `#`) nor in a scope list (`,`, `=`).

use super::{FieldError, ParseError, Problem};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether `c` may appear in a device id, a tag's key or a tag's value.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@')
}

/// A device id: 1–128 characters of `A-Za-z0-9-_.:@`, not `.` or `..`. A value of this type is
/// valid.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

impl DeviceId {
    pub const MAX_LEN: usize = 128;

    /// A device id as a person typed it (surrounding spaces forgiven).
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = |problem| ParseError::new(FieldError::DeviceId, problem);
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid(Problem::Empty));
        }
        if let Some(bad) = raw.chars().find(|c| !is_name_char(*c)) {
            return Err(invalid(Problem::Character(bad)));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(invalid(Problem::TooLong { max: Self::MAX_LEN }));
        }
        if raw == "." || raw == ".." {
            return Err(invalid(Problem::Shape));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A device id exactly as a device sent it (its MQTT client identifier), or `None`.
    pub fn parse_exact(raw: &str) -> Option<Self> {
        Self::parse(raw).ok().filter(|id| id.0 == raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DeviceId {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DeviceId> for String {
    fn from(value: DeviceId) -> Self {
        value.0
    }
}

/// A device's tag, `key=value`: a key of 1–64 and a value of 1–128 characters of
/// `A-Za-z0-9-_.:@`. A device may carry several, several values of one key included.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag {
    key: String,
    value: String,
}

impl Tag {
    pub const MAX_KEY_LEN: usize = 64;
    pub const MAX_VALUE_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = |problem| ParseError::new(FieldError::Tag, problem);
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid(Problem::Empty));
        }
        let Some((key, value)) = raw.split_once('=') else {
            return Err(invalid(Problem::Shape));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || value.is_empty() {
            return Err(invalid(Problem::Shape));
        }
        if let Some(bad) = key.chars().chain(value.chars()).find(|c| !is_name_char(*c)) {
            return Err(invalid(Problem::Character(bad)));
        }
        if key.len() > Self::MAX_KEY_LEN {
            return Err(invalid(Problem::TooLong {
                max: Self::MAX_KEY_LEN,
            }));
        }
        if value.len() > Self::MAX_VALUE_LEN {
            return Err(invalid(Problem::TooLong {
                max: Self::MAX_VALUE_LEN,
            }));
        }
        Ok(Self {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

impl TryFrom<String> for Tag {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Tag> for String {
    fn from(value: Tag) -> Self {
        value.to_string()
    }
}

/// A device's tags, as typed: comma-separated `key=value` pairs; duplicates collapse, the order is
/// the sorted one. At most [`MAX_TAGS`].
pub fn parse_tags(raw: &str) -> Result<Vec<Tag>, ParseError> {
    let mut tags = raw
        .split(',')
        .filter(|t| !t.trim().is_empty())
        .map(Tag::parse)
        .collect::<Result<Vec<_>, _>>()?;
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TAGS {
        return Err(ParseError::new(
            FieldError::Tag,
            Problem::TooMany { max: MAX_TAGS },
        ));
    }
    Ok(tags)
}

/// How many tags one device may carry.
pub const MAX_TAGS: usize = 32;

/// Tags as the store and the dashboard write them: `a=1, b=2`.
pub fn tags_text(tags: &[Tag]) -> String {
    tags.iter()
        .map(Tag::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_error::problem_of;

    #[test]
    fn device_ids_are_one_safe_topic_level() {
        for ok in ["sensor-01", "a", "mac:00:1b:44", "dev_1.eu@site", "..."] {
            assert_eq!(DeviceId::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(DeviceId::parse("  d-1 ").unwrap().as_str(), "d-1");
        assert_eq!(DeviceId::parse_exact(" d-1"), None);
        for (bad, c) in [
            ("a/b", '/'),
            ("a+", '+'),
            ("#", '#'),
            ("a,b", ','),
            ("k=v", '='),
            ("d 1", ' '),
            ("dé", 'é'),
        ] {
            assert_eq!(
                problem_of(DeviceId::parse(bad), FieldError::DeviceId),
                Problem::Character(c),
                "{bad}"
            );
        }
        assert_eq!(
            problem_of(DeviceId::parse(".."), FieldError::DeviceId),
            Problem::Shape
        );
        assert_eq!(
            problem_of(DeviceId::parse(" "), FieldError::DeviceId),
            Problem::Empty
        );
        assert_eq!(
            problem_of(DeviceId::parse(&"x".repeat(129)), FieldError::DeviceId),
            Problem::TooLong { max: 128 }
        );
    }

    #[test]
    fn tags_are_key_value_pairs() {
        let tag = Tag::parse(" env = prod ").unwrap();
        assert_eq!((tag.key(), tag.value()), ("env", "prod"));
        assert_eq!(tag.to_string(), "env=prod");
        for bad in ["env", "=prod", "env=", "="] {
            assert_eq!(
                problem_of(Tag::parse(bad), FieldError::Tag),
                Problem::Shape,
                "{bad}"
            );
        }
        assert_eq!(
            problem_of(Tag::parse("env=a=b"), FieldError::Tag),
            Problem::Character('=')
        );
        assert_eq!(
            problem_of(Tag::parse("e v=x"), FieldError::Tag),
            Problem::Character(' ')
        );
    }

    #[test]
    fn a_tag_list_is_sorted_and_without_duplicates() {
        let tags = parse_tags("zone=b, env=prod,, zone=a, env=prod").unwrap();
        assert_eq!(tags_text(&tags), "env=prod, zone=a, zone=b");
        assert!(parse_tags("").unwrap().is_empty());
        assert_eq!(
            problem_of(parse_tags("env=prod, broken"), FieldError::Tag),
            Problem::Shape
        );
        let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(
            problem_of(parse_tags(&many.join(",")), FieldError::Tag),
            Problem::TooMany { max: MAX_TAGS }
        );
    }
}
