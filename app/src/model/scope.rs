//! `Scope`: the devices a restricted client serves, as Losant's restricted access keys put it, a
//! comma-separated list of device ids and `key=value` tags. A device is in scope when its id is
//! listed or it carries one of the listed tags.

use super::device_id::{DeviceId, Tag};
use super::{FieldError, ParseError, Problem};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One entry of a scope list: an entry with `=` is a tag, any other a device id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ScopeEntry {
    Device(DeviceId),
    Tag(Tag),
}

impl ScopeEntry {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let as_scope = |e: ParseError| ParseError::new(FieldError::Scope, e.problem);
        if raw.contains('=') {
            Tag::parse(raw).map(ScopeEntry::Tag).map_err(as_scope)
        } else {
            DeviceId::parse(raw)
                .map(ScopeEntry::Device)
                .map_err(as_scope)
        }
    }
}

impl std::fmt::Display for ScopeEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeEntry::Device(id) => id.fmt(f),
            ScopeEntry::Tag(tag) => tag.fmt(f),
        }
    }
}

/// A restricted client's scope: at least one entry, at most [`Scope::MAX_ENTRIES`]. A value of
/// this type is valid; an unrestricted client has none (`Option<Scope>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope {
    devices: BTreeSet<DeviceId>,
    tags: BTreeSet<Tag>,
}

/// An entry of a scope list that did not parse: which one (0-based, counting non-empty entries),
/// its text, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("\"{text}\": {error}")]
pub struct ScopeError {
    pub index: usize,
    pub text: String,
    pub error: ParseError,
}

impl From<ScopeError> for ParseError {
    fn from(e: ScopeError) -> Self {
        e.error
    }
}

impl Scope {
    pub const MAX_ENTRIES: usize = 200;

    /// A scope from its list, as typed or stored: entries separated by commas (blank ones
    /// ignored, duplicates collapsed).
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        let mut scope = Scope {
            devices: BTreeSet::new(),
            tags: BTreeSet::new(),
        };
        let entries: Vec<&str> = raw.split(',').filter(|e| !e.trim().is_empty()).collect();
        for (index, text) in entries.iter().enumerate() {
            match ScopeEntry::parse(text) {
                Ok(ScopeEntry::Device(id)) => {
                    scope.devices.insert(id);
                }
                Ok(ScopeEntry::Tag(tag)) => {
                    scope.tags.insert(tag);
                }
                Err(error) => {
                    return Err(ScopeError {
                        index,
                        text: text.trim().to_owned(),
                        error,
                    });
                }
            }
        }
        let fail = |problem| ScopeError {
            index: 0,
            text: String::new(),
            error: ParseError::new(FieldError::Scope, problem),
        };
        if scope.is_empty() {
            return Err(fail(Problem::Empty));
        }
        if scope.len() > Self::MAX_ENTRIES {
            return Err(fail(Problem::TooMany {
                max: Self::MAX_ENTRIES,
            }));
        }
        Ok(scope)
    }

    /// Every entry's error, for the chips the dashboard draws as you type: each non-empty entry
    /// with its own verdict.
    pub fn check_entries(raw: &str) -> Vec<(String, Result<ScopeEntry, ParseError>)> {
        raw.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| (e.to_owned(), ScopeEntry::parse(e)))
            .collect()
    }

    pub fn devices(&self) -> impl Iterator<Item = &DeviceId> {
        self.devices.iter()
    }

    pub fn tags(&self) -> impl Iterator<Item = &Tag> {
        self.tags.iter()
    }

    pub fn entries(&self) -> impl Iterator<Item = ScopeEntry> + '_ {
        self.devices
            .iter()
            .cloned()
            .map(ScopeEntry::Device)
            .chain(self.tags.iter().cloned().map(ScopeEntry::Tag))
    }

    pub fn len(&self) -> usize {
        self.devices.len() + self.tags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a device with `id` and `tags` is in this scope.
    pub fn contains(&self, id: &DeviceId, tags: &[Tag]) -> bool {
        self.devices.contains(id) || tags.iter().any(|t| self.tags.contains(t))
    }

    /// The entries of `self` that `next` drops: a change from `self` to `next` narrows access
    /// when there is any (a device the dropped entry selected may leave the scope).
    pub fn dropped_by(&self, next: &Scope) -> Vec<ScopeEntry> {
        self.entries()
            .filter(|e| match e {
                ScopeEntry::Device(id) => !next.devices.contains(id),
                ScopeEntry::Tag(tag) => !next.tags.contains(tag),
            })
            .collect()
    }

    /// The list as stored and shown: device ids, then tags, each sorted, `", "`-separated.
    pub fn to_text(&self) -> String {
        self.entries()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether a change of a client's scope, from `before` to `after` (`None`: any device in the
/// workspace), can take access away from a device.
pub fn narrows(before: Option<&Scope>, after: Option<&Scope>) -> bool {
    match (before, after) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(before), Some(after)) => !before.dropped_by(after).is_empty(),
    }
}

/// The New and Edit modals' choice "Who may use this key": any device in the workspace, or only
/// the devices a scope list names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeMode {
    #[default]
    Any,
    Only,
}

impl ScopeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeMode::Any => "any",
            ScopeMode::Only => "only",
        }
    }

    /// The scope this choice and list mean: `None` for any device (the list is ignored), else
    /// the parsed list, which must name at least one device id or tag.
    pub fn scope(self, list: &str) -> Result<Option<Scope>, ScopeError> {
        match self {
            ScopeMode::Any => Ok(None),
            ScopeMode::Only => Scope::parse(list).map(Some),
        }
    }
}

impl TryFrom<String> for Scope {
    type Error = ScopeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(value: Scope) -> Self {
        value.to_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_device_ids_and_tags() {
        let scope = Scope::parse("d-2, env=prod, d-1,, d-2 , zone=eu").unwrap();
        assert_eq!(scope.to_text(), "d-1, d-2, env=prod, zone=eu");
        assert_eq!(scope.len(), 4);
        let d = |s: &str| DeviceId::parse(s).unwrap();
        let t = |s: &str| Tag::parse(s).unwrap();
        assert!(scope.contains(&d("d-1"), &[]));
        assert!(scope.contains(&d("other"), &[t("zone=eu")]));
        assert!(!scope.contains(&d("other"), &[t("zone=us"), t("env=dev")]));
        assert_eq!(Scope::parse(&scope.to_text()).unwrap(), scope);
    }

    #[test]
    fn a_bad_entry_is_named_with_its_position() {
        let e = Scope::parse("d-1, a/b, env=prod").unwrap_err();
        assert_eq!((e.index, e.text.as_str()), (1, "a/b"));
        assert_eq!(
            e.error,
            ParseError::new(FieldError::Scope, Problem::Character('/'))
        );
        assert_eq!(
            Scope::parse(" , ").unwrap_err().error.problem,
            Problem::Empty
        );
        assert_eq!(
            Scope::parse("env=").unwrap_err().error.problem,
            Problem::Shape
        );
        let checked = Scope::check_entries("d-1, bad/id, env=prod");
        assert_eq!(checked.len(), 3);
        assert!(checked[0].1.is_ok() && checked[1].1.is_err() && checked[2].1.is_ok());
    }

    #[test]
    fn only_these_devices_needs_a_list_and_any_device_ignores_it() {
        assert_eq!(ScopeMode::Any.scope("a/b").unwrap(), None);
        assert_eq!(
            ScopeMode::Only.scope(" , ").unwrap_err().error.problem,
            Problem::Empty
        );
        assert_eq!(
            ScopeMode::Only.scope("d-1").unwrap(),
            Some(Scope::parse("d-1").unwrap())
        );
    }

    #[test]
    fn dropping_an_entry_narrows_and_adding_one_does_not() {
        let s = |text: &str| Scope::parse(text).unwrap();
        assert!(narrows(None, Some(&s("d-1"))));
        assert!(!narrows(Some(&s("d-1")), None));
        assert!(!narrows(Some(&s("d-1")), Some(&s("d-1, env=prod"))));
        assert!(narrows(Some(&s("d-1, env=prod")), Some(&s("d-1"))));
        assert!(!narrows(None, None));
        assert_eq!(
            s("d-1, env=prod").dropped_by(&s("env=prod, d-2")),
            vec![ScopeEntry::Device(DeviceId::parse("d-1").unwrap())]
        );
    }
}
