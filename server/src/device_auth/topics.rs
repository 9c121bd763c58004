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
