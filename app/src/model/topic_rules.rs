//! A client's topic rules: an ordered list of allow and deny rules, each for publishing,
//! subscribing or both, each with a topic filter inside the workspace's namespace. `{client_id}`
//! and `{device_id}` in a filter stand for the client's Client ID and the session's MQTT client
//! identifier. [`super::access::decide`] applies them; this module makes sure a list is valid.

use super::topic_filter::is_valid_filter;
use super::{FieldError, ParseError, Problem};
use serde::{Deserialize, Serialize};

/// Whether a rule allows or denies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Allow,
    Deny,
}

/// What a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    Publish,
    Subscribe,
    Both,
}

impl RuleAction {
    pub const ALL: [RuleAction; 3] = [RuleAction::Publish, RuleAction::Subscribe, RuleAction::Both];

    pub fn includes(self, access: super::access::Access) -> bool {
        use super::access::Access;
        matches!(
            (self, access),
            (RuleAction::Both, _)
                | (RuleAction::Publish, Access::Publish)
                | (RuleAction::Subscribe, Access::Subscribe)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Publish => "publish",
            RuleAction::Subscribe => "subscribe",
            RuleAction::Both => "both",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Allow => "allow",
            Permission::Deny => "deny",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Permission::Allow, Permission::Deny]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// One rule, as the Edit modal sends it and the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TopicRule {
    pub permission: Permission,
    pub action: RuleAction,
    pub filter: String,
}

/// The placeholders a filter may use, each as a whole level.
pub const PLACEHOLDERS: [&str; 2] = ["{client_id}", "{device_id}"];

impl TopicRule {
    /// The rule's filter for a session of `client_id` with MQTT client identifier `identifier`;
    /// `None` when a placeholder's value cannot be one plain topic level (it holds `/`, `+` or
    /// `#`, or is empty), so it would widen the filter.
    pub fn filter_for(&self, client_id: &str, identifier: &str) -> Option<String> {
        let mut filter = self.filter.clone();
        for (placeholder, value) in PLACEHOLDERS.iter().zip([client_id, identifier]) {
            if filter.contains(placeholder) {
                if value.is_empty() || value.contains(['/', '+', '#']) {
                    return None;
                }
                filter = filter.replace(placeholder, value);
            }
        }
        Some(filter)
    }

    /// Checks the rule's filter for a workspace of `namespace`: a valid MQTT filter whose first
    /// level is the namespace, spelled out, placeholders only as whole levels.
    fn check(&self, namespace: &str) -> Result<(), ParseError> {
        let invalid = |problem| ParseError::new(FieldError::TopicRule, problem);
        let filter = self.filter.as_str();
        if filter.trim().is_empty() {
            return Err(invalid(Problem::Empty));
        }
        if filter.len() > TopicRules::MAX_FILTER_LEN {
            return Err(invalid(Problem::TooLong {
                max: TopicRules::MAX_FILTER_LEN,
            }));
        }
        if let Some(bad) = filter.chars().find(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid(Problem::Character(bad)));
        }
        for level in filter.split('/') {
            if (level.contains('{') || level.contains('}')) && !PLACEHOLDERS.contains(&level) {
                return Err(invalid(Problem::Placeholder));
            }
        }
        if !is_valid_filter(filter) {
            return Err(invalid(Problem::Shape));
        }
        if filter.split('/').next() != Some(namespace) {
            return Err(invalid(Problem::OutsideNamespace));
        }
        Ok(())
    }
}

/// A client's rules, in order; valid for its workspace's namespace. Empty by default: everything
/// inside the namespace is allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TopicRules(Vec<TopicRule>);

/// A rule of a list that is not valid: which one (0-based) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Rule {}: {error}", index + 1)]
pub struct RuleError {
    pub index: usize,
    pub error: ParseError,
}

impl From<RuleError> for ParseError {
    fn from(e: RuleError) -> Self {
        e.error
    }
}

impl TopicRules {
    pub const MAX_RULES: usize = 50;
    pub const MAX_FILTER_LEN: usize = 256;

    /// The rules, checked for a workspace of `namespace`.
    pub fn parse(namespace: &str, rules: Vec<TopicRule>) -> Result<Self, RuleError> {
        if rules.len() > Self::MAX_RULES {
            return Err(RuleError {
                index: Self::MAX_RULES,
                error: ParseError::new(
                    FieldError::TopicRule,
                    Problem::TooMany {
                        max: Self::MAX_RULES,
                    },
                ),
            });
        }
        let rules: Vec<TopicRule> = rules
            .into_iter()
            .map(|r| TopicRule {
                filter: r.filter.trim().to_owned(),
                ..r
            })
            .collect();
        for (index, rule) in rules.iter().enumerate() {
            rule.check(namespace)
                .map_err(|error| RuleError { index, error })?;
        }
        Ok(Self(rules))
    }

    /// Rules as the store keeps them (JSON). They were checked when written, and the namespace
    /// boundary does not rest on them: [`super::access::decide`] checks it first.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json).map(Self)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("topic rules serialize")
    }

    pub fn iter(&self) -> impl Iterator<Item = &TopicRule> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<TopicRule> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(filter: &str) -> TopicRule {
        TopicRule {
            permission: Permission::Deny,
            action: RuleAction::Both,
            filter: filter.to_owned(),
        }
    }

    fn problem(filter: &str) -> Problem {
        TopicRules::parse("acme", vec![rule(filter)])
            .unwrap_err()
            .error
            .problem
    }

    #[test]
    fn rules_stay_inside_the_namespace() {
        for ok in [
            "acme",
            "acme/#",
            "acme/devices/{device_id}/#",
            "acme/{client_id}/+/x",
            " acme/x ",
        ] {
            assert!(TopicRules::parse("acme", vec![rule(ok)]).is_ok(), "{ok}");
        }
        assert_eq!(problem("#"), Problem::OutsideNamespace);
        assert_eq!(problem("+/x"), Problem::OutsideNamespace);
        assert_eq!(problem("other/#"), Problem::OutsideNamespace);
        assert_eq!(problem("acme-labs/x"), Problem::OutsideNamespace);
        assert_eq!(problem("$SYS/#"), Problem::OutsideNamespace);
        assert_eq!(problem("{client_id}/x"), Problem::OutsideNamespace);
        assert_eq!(problem("acme/#/x"), Problem::Shape);
        assert_eq!(problem("acme/x+"), Problem::Shape);
        assert_eq!(problem(""), Problem::Empty);
        assert_eq!(problem("acme/a b"), Problem::Character(' '));
        assert_eq!(problem("acme/{device}/x"), Problem::Placeholder);
        assert_eq!(problem("acme/x{device_id}"), Problem::Placeholder);
        assert_eq!(
            problem(&format!("acme/{}", "x".repeat(300))),
            Problem::TooLong { max: 256 }
        );
        let e = TopicRules::parse("acme", vec![rule("acme/ok"), rule("nope")]).unwrap_err();
        assert_eq!(e.index, 1);
    }

    #[test]
    fn placeholders_take_the_sessions_values_when_they_are_one_level() {
        let r = rule("acme/{client_id}/{device_id}/#");
        assert_eq!(
            r.filter_for("c-1", "d-1").as_deref(),
            Some("acme/c-1/d-1/#")
        );
        assert_eq!(r.filter_for("c-1", "a/b"), None);
        assert_eq!(r.filter_for("c-1", "+"), None);
        assert_eq!(r.filter_for("c-1", ""), None);
        assert_eq!(
            rule("acme/x").filter_for("c-1", "#").as_deref(),
            Some("acme/x")
        );
    }

    #[test]
    fn rules_round_trip_through_json() {
        let rules = TopicRules::parse("acme", vec![rule("acme/{device_id}/#")]).unwrap();
        let json = rules.to_json();
        assert_eq!(
            json,
            r#"[{"permission":"deny","action":"both","filter":"acme/{device_id}/#"}]"#
        );
        assert_eq!(TopicRules::from_json(&json).unwrap(), rules);
        assert!(TopicRules::from_json("{").is_err());
    }
}
