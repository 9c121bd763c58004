//! The topic rule every broker path applies: a client lives under its workspace's namespace
//! (`NAMESPACE/#`) and nowhere else, `$SYS` and shared subscriptions included.
//!
//! MQTT's `NAMESPACE/#` matches `NAMESPACE` itself and everything below it, so those are the topics
//! a client may publish to, and the filters it may subscribe with are those whose first level is the
//! namespace, spelled out (a wildcard there could reach other namespaces).

/// Whether a client of `namespace` may publish to `topic` (a topic name: no wildcards).
pub fn may_publish(namespace: &str, topic: &str) -> bool {
    within(namespace, topic) && !topic.contains(['+', '#'])
}

/// Whether a client of `namespace` may subscribe with `filter`. For a shared subscription pass the
/// filter without its `$share/GROUP/` prefix: the group name is free, the filter is not.
pub fn may_subscribe(namespace: &str, filter: &str) -> bool {
    within(namespace, filter)
}

/// [`may_subscribe`] for a filter as a broker passes it on, with any `$share/GROUP/` or `$queue/`
/// prefix still on (external brokers call the webhooks with the raw filter).
pub fn may_subscribe_raw(namespace: &str, filter: &str) -> bool {
    let filter = if let Some(rest) = filter.strip_prefix("$share/") {
        match rest.split_once('/') {
            Some((group, filter)) if !group.is_empty() && !group.contains(['+', '#']) => filter,
            _ => return false,
        }
    } else {
        filter.strip_prefix("$queue/").unwrap_or(filter)
    };
    may_subscribe(namespace, filter)
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

    #[test]
    fn shared_filters_follow_the_rule_after_their_group() {
        assert!(may_subscribe_raw("acme", "$share/g1/acme/#"));
        assert!(may_subscribe_raw("acme", "$queue/acme/x"));
        assert!(!may_subscribe_raw("acme", "$share/acme/other/#"));
        assert!(!may_subscribe_raw("acme", "$share/g1/#"));
        assert!(!may_subscribe_raw("acme", "$share//acme/#"));
        assert!(!may_subscribe_raw("acme", "$share/acme"));
        assert!(!may_subscribe_raw("acme", "$SYS/#"));
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
