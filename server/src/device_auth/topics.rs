//! The topic rule every broker path applies: a client lives under its workspace's namespace
//! (`NAMESPACE/#`) and nowhere else, `$SYS` and shared subscriptions included.
//!
//! MQTT's `NAMESPACE/#` matches `NAMESPACE` itself and everything below it, so those are the topics
//! a client may publish to, and the filters it may subscribe with are those whose first level is the
//! namespace, spelled out (a wildcard there could reach other namespaces).

/// What a client wants to do with a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Publish to a topic name (no wildcards).
    Publish,
    /// Subscribe with a topic filter, as the broker reports it: a `$share/GROUP/` or `$queue/`
    /// prefix may still be on (external brokers pass it; rmqtt strips it before its hook).
    Subscribe,
}

/// The topic rule: whether a client of `namespace` may do `access` on `topic`. The one entry point
/// every broker path calls.
pub fn allows(namespace: &str, access: Access, topic: &str) -> bool {
    match access {
        Access::Publish => within(namespace, topic) && !topic.contains(['+', '#']),
        Access::Subscribe => shared_filter(topic).is_some_and(|filter| within(namespace, filter)),
    }
}

/// The filter a subscription applies: without a shared subscription's `$share/GROUP/` or `$queue/`
/// prefix (the group name is free, the filter is not). `None` for a malformed shared filter.
fn shared_filter(filter: &str) -> Option<&str> {
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
fn within(namespace: &str, topic: &str) -> bool {
    !namespace.is_empty()
        && topic
            .strip_prefix(namespace)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn may_subscribe(namespace: &str, filter: &str) -> bool {
        allows(namespace, Access::Subscribe, filter)
    }

    fn may_publish(namespace: &str, topic: &str) -> bool {
        allows(namespace, Access::Publish, topic)
    }

    #[test]
    fn shared_filters_follow_the_rule_after_their_group() {
        assert!(may_subscribe("acme", "$share/g1/acme/#"));
        assert!(may_subscribe("acme", "$queue/acme/x"));
        assert!(!may_subscribe("acme", "$share/acme/other/#"));
        assert!(!may_subscribe("acme", "$share/g1/#"));
        assert!(!may_subscribe("acme", "$share//acme/#"));
        assert!(!may_subscribe("acme", "$share/acme"));
        assert!(!may_subscribe("acme", "$SYS/#"));
    }

    #[test]
    fn inside_the_namespace_is_allowed() {
        for filter in [
            "acme",
            "acme/#",
            "acme/+",
            "acme/devices/c-1/telemetry",
            "acme/+/x/#",
            "acme/",
        ] {
            assert!(may_subscribe("acme", filter), "{filter}");
        }
        assert!(may_publish("acme", "acme/devices/c-1/telemetry"));
        assert!(may_publish("acme", "acme"));
    }

    #[test]
    fn everything_else_is_refused() {
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
        ] {
            assert!(!may_subscribe("acme", filter), "{filter}");
        }
        for topic in ["other/x", "acme-labs", "$SYS/x", "", "acme/+", "acme/#"] {
            assert!(!may_publish("acme", topic), "{topic}");
        }
        assert!(!may_subscribe("", "anything"), "no namespace, no topics");
    }
}
