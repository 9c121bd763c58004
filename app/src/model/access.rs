//! The access rule every path applies: may this device publish to, or subscribe with, this topic?
//! One function, [`decide`], answers for the embedded broker's hooks, each webhook, the HTTP
//! publish endpoint and the Edit modal's preview box.
//!
//! In this order:
//!
//! 1. **The namespace.** A client lives under its workspace's namespace (`NAMESPACE/#`) and
//!    nowhere else, `$SYS` and shared subscriptions included. No rule can open anything outside.
//! 2. **The scope** of a restricted client: only `NAMESPACE/devices/DEVICE_ID` and below, for the
//!    devices in its scope, spelled out (a wildcard where the device id goes could reach a device
//!    outside it).
//! 3. **The topic rules** ([`TopicRules`]), first match wins; no rule matching allows.

use super::topic_filter::{covers, intersects, matches};
use super::topic_rules::{Permission, TopicRules};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a client wants to do with a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Access {
    /// Publish to a topic name (no wildcards).
    Publish,
    /// Subscribe with a topic filter, as the broker reports it: a `$share/GROUP/` or `$queue/`
    /// prefix may still be on (external brokers pass it; rmqtt strips it before its hook).
    Subscribe,
}

/// Who asks: everything the rule needs to know about the session.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub namespace: &'a str,
    /// The client's Client ID, for `{client_id}` in a rule.
    pub client_id: &'a str,
    /// The session's MQTT client identifier (the device id in connection form 3), for
    /// `{device_id}` in a rule.
    pub identifier: &'a str,
    /// A restricted client's devices in scope (their ids); `None` for any device.
    pub scope: Option<&'a BTreeSet<String>>,
    pub rules: &'a TopicRules,
}

/// Why [`decide`] answered as it did: the preview box says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Because {
    /// The topic is outside the workspace's namespace (or malformed).
    OutsideNamespace,
    /// The topic belongs to no device in the restricted client's scope.
    OutsideScope,
    /// Rule number `n` (0-based) matched first.
    Rule(usize),
    /// No rule matched: the default within the namespace.
    NoRule,
}

/// An answer of [`decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub allowed: bool,
    pub because: Because,
}

impl Verdict {
    fn deny(because: Because) -> Self {
        Self {
            allowed: false,
            because,
        }
    }
}

/// The level under the namespace where each device's topics live.
pub const DEVICES_LEVEL: &str = "devices";

/// Whether `subject` may do `access` on `topic`.
pub fn decide(subject: &Subject<'_>, access: Access, topic: &str) -> Verdict {
    let filter = match access {
        Access::Publish if !topic.contains(['+', '#']) => topic,
        Access::Publish => return Verdict::deny(Because::OutsideNamespace),
        Access::Subscribe => match shared_filter(topic) {
            Some(filter) => filter,
            None => return Verdict::deny(Because::OutsideNamespace),
        },
    };
    if !within(subject.namespace, filter) {
        return Verdict::deny(Because::OutsideNamespace);
    }
    if let Some(scope) = subject.scope
        && !device_of(subject.namespace, filter).is_some_and(|d| scope.contains(d))
    {
        return Verdict::deny(Because::OutsideScope);
    }
    match first_rule(subject, access, filter) {
        Some((index, permission)) => Verdict {
            allowed: permission == Permission::Allow,
            because: Because::Rule(index),
        },
        None => Verdict {
            allowed: true,
            because: Because::NoRule,
        },
    }
}

/// The first rule that decides: for a publish, the first whose filter matches the topic; for a
/// subscription, the first deny rule that could match any topic the subscription receives, or the
/// first allow rule that matches every one of them (an allow rule that matches only some is
/// passed over, so a later deny rule still sees the subscription).
fn first_rule(subject: &Subject<'_>, access: Access, filter: &str) -> Option<(usize, Permission)> {
    for (index, rule) in subject.rules.iter().enumerate() {
        if !rule.action.includes(access) {
            continue;
        }
        let Some(rule_filter) = rule.filter_for(subject.client_id, subject.identifier) else {
            // A placeholder whose value cannot be one topic level: an allow rule cannot open
            // anything with it, and a deny rule denies as if it matched.
            if rule.permission == Permission::Deny {
                return Some((index, Permission::Deny));
            }
            continue;
        };
        let decides = match (access, rule.permission) {
            (Access::Publish, _) => matches(&rule_filter, filter),
            (Access::Subscribe, Permission::Deny) => intersects(&rule_filter, filter),
            (Access::Subscribe, Permission::Allow) => covers(&rule_filter, filter),
        };
        if decides {
            return Some((index, rule.permission));
        }
    }
    None
}

/// The device whose topics `filter` is in (`NAMESPACE/devices/DEVICE_ID[/…]`), if it names one
/// level literally.
fn device_of<'t>(namespace: &str, filter: &'t str) -> Option<&'t str> {
    let rest = filter.strip_prefix(namespace)?.strip_prefix('/')?;
    let rest = rest.strip_prefix(DEVICES_LEVEL)?.strip_prefix('/')?;
    let device = rest.split('/').next()?;
    (!device.is_empty() && !device.contains(['+', '#'])).then_some(device)
}

/// The filter a subscription applies: without a shared subscription's `$share/GROUP/` or `$queue/`
/// prefix (the group name is free, the filter is not). `None` for a malformed shared filter.
pub fn shared_filter(filter: &str) -> Option<&str> {
    if let Some(rest) = filter.strip_prefix("$share/") {
        return match rest.split_once('/') {
            Some((group, filter)) if !group.is_empty() && !group.contains(['+', '#']) => {
                Some(filter)
            }
            _ => None,
        };
    }
    Some(filter.strip_prefix("$queue/").unwrap_or(filter))
}

/// `namespace` itself or anything below it. A namespace is a slug (`[a-z0-9-]`), never empty and
/// never a wildcard, so the first level decides.
pub fn within(namespace: &str, topic: &str) -> bool {
    !namespace.is_empty()
        && topic
            .strip_prefix(namespace)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::topic_rules::{RuleAction, TopicRule};

    fn rules(list: &[(Permission, RuleAction, &str)]) -> TopicRules {
        TopicRules::parse(
            "acme",
            list.iter()
                .map(|(p, a, f)| TopicRule {
                    permission: *p,
                    action: *a,
                    filter: (*f).to_owned(),
                })
                .collect(),
        )
        .unwrap()
    }

    fn subject<'a>(rules: &'a TopicRules, scope: Option<&'a BTreeSet<String>>) -> Subject<'a> {
        Subject {
            namespace: "acme",
            client_id: "c-1",
            identifier: "d-1",
            scope,
            rules,
        }
    }

    fn may(subject: &Subject<'_>, access: Access, topic: &str) -> bool {
        decide(subject, access, topic).allowed
    }

    #[test]
    fn the_namespace_alone_without_rules_or_scope() {
        let none = TopicRules::default();
        let s = subject(&none, None);
        for filter in [
            "acme",
            "acme/#",
            "acme/+",
            "acme/devices/c-1/telemetry",
            "acme/+/x/#",
            "acme/",
            "$share/g1/acme/#",
            "$queue/acme/x",
        ] {
            assert!(may(&s, Access::Subscribe, filter), "{filter}");
        }
        assert!(may(&s, Access::Publish, "acme/devices/c-1/telemetry"));
        assert!(may(&s, Access::Publish, "acme"));
        for filter in [
            "#",
            "+",
            "+/devices/#",
            "acme-labs/#",
            "acmex",
            "other/acme/#",
            "$SYS/#",
            "$SYS/broker/clients",
            "/acme/#",
            "",
            "ACME/#",
            "$share/acme/other/#",
            "$share/g1/#",
            "$share//acme/#",
            "$share/acme",
        ] {
            assert!(!may(&s, Access::Subscribe, filter), "{filter}");
        }
        for topic in ["other/x", "acme-labs", "$SYS/x", "", "acme/+", "acme/#"] {
            assert!(!may(&s, Access::Publish, topic), "{topic}");
        }
        let empty = Subject { namespace: "", ..s };
        assert!(
            !may(&empty, Access::Subscribe, "anything"),
            "no namespace, no topics"
        );
    }

    #[test]
    fn a_restricted_client_reaches_only_its_scopes_devices() {
        let none = TopicRules::default();
        let scope: BTreeSet<String> = ["d-1".to_owned(), "d-2".to_owned()].into();
        let s = subject(&none, Some(&scope));
        assert!(may(&s, Access::Publish, "acme/devices/d-1/telemetry"));
        assert!(may(&s, Access::Subscribe, "acme/devices/d-2/#"));
        assert!(may(&s, Access::Subscribe, "acme/devices/d-2"));
        for denied in [
            "acme/devices/d-3/#",
            "acme/devices/+/telemetry",
            "acme/devices/#",
            "acme/#",
            "acme",
            "acme/other/d-1",
            "$share/g/acme/devices/+/x",
        ] {
            assert_eq!(
                decide(&s, Access::Subscribe, denied),
                Verdict::deny(Because::OutsideScope),
                "{denied}"
            );
        }
        assert_eq!(
            decide(&s, Access::Publish, "other/devices/d-1"),
            Verdict::deny(Because::OutsideNamespace)
        );
    }

    #[test]
    fn the_first_matching_rule_wins() {
        use Permission::*;
        use RuleAction::*;
        let r = rules(&[
            (Allow, Publish, "acme/devices/{device_id}/#"),
            (Deny, Both, "acme/devices/#"),
            (Deny, Subscribe, "acme/secret/#"),
        ]);
        let s = subject(&r, None);
        assert_eq!(
            decide(&s, Access::Publish, "acme/devices/d-1/t"),
            Verdict {
                allowed: true,
                because: Because::Rule(0)
            }
        );
        assert_eq!(
            decide(&s, Access::Publish, "acme/devices/d-2/t"),
            Verdict {
                allowed: false,
                because: Because::Rule(1)
            }
        );
        assert!(
            may(&s, Access::Publish, "acme/secret/x"),
            "rule 2 is for subscribe only"
        );
        assert_eq!(
            decide(&s, Access::Subscribe, "acme/x"),
            Verdict {
                allowed: true,
                because: Because::NoRule
            }
        );
    }

    #[test]
    fn a_subscription_is_denied_if_a_deny_rule_could_match_what_it_receives() {
        use Permission::*;
        use RuleAction::*;
        let r = rules(&[
            (Allow, Subscribe, "acme/public/#"),
            (Deny, Subscribe, "acme/secret/#"),
        ]);
        let s = subject(&r, None);
        assert!(may(&s, Access::Subscribe, "acme/public/+/x"));
        assert!(
            !may(&s, Access::Subscribe, "acme/#"),
            "it would receive acme/secret/…"
        );
        assert!(
            !may(&s, Access::Subscribe, "acme/+/x"),
            "it would receive acme/secret/x"
        );
        assert!(!may(&s, Access::Subscribe, "$share/g/acme/secret/a"));
        assert!(may(&s, Access::Subscribe, "acme/other"));
    }

    #[test]
    fn a_placeholder_that_is_not_one_level_opens_nothing_and_denies_all() {
        use Permission::*;
        use RuleAction::*;
        let r = rules(&[(Allow, Both, "acme/{device_id}/#"), (Deny, Both, "acme/#")]);
        let hostile = Subject {
            identifier: "x/+",
            ..subject(&r, None)
        };
        assert!(!may(
            &hostile,
            Access::Publish,
            "acme/x/+/y".replace('+', "z").as_str()
        ));
        assert!(!may(&hostile, Access::Subscribe, "acme/x/#"));
        let deny_first = rules(&[(Deny, Both, "acme/{device_id}/#")]);
        let hostile = Subject {
            identifier: "#",
            ..subject(&deny_first, None)
        };
        assert!(!may(&hostile, Access::Publish, "acme/anything"));
        let fine = subject(&r, None);
        assert!(may(&fine, Access::Publish, "acme/d-1/x"));
        assert!(!may(&fine, Access::Publish, "acme/d-2/x"));
    }
}
