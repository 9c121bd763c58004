//! MQTT topic names and filters compared the way a broker routes: whether a filter matches a
//! topic, whether one filter covers every topic another matches, and whether two filters can
//! match a topic in common. Levels are split at `/`; `+` is one level, `#` (last) any number of
//! levels, none included (`a/#` matches `a`).

/// Whether `filter` is a well-formed MQTT topic filter: not empty, `#` only as the whole last
/// level, `+` only as a whole level, no NUL.
pub fn is_valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(i, level)| match *level {
        "#" => i == levels.len() - 1,
        "+" => true,
        level => !level.contains(['+', '#']),
    })
}

/// Whether `topic` is a well-formed topic name: not empty, no wildcard, no NUL.
pub fn is_valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0'])
}

/// Whether `filter` matches the topic name `topic`.
pub fn matches(filter: &str, topic: &str) -> bool {
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return true,
            "+" => {
                if topic_levels.next().is_none() {
                    return false;
                }
            }
            literal => {
                if topic_levels.next() != Some(literal) {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

/// Whether every topic `inner` matches is matched by `outer`.
pub fn covers(outer: &str, inner: &str) -> bool {
    let mut inner_levels = inner.split('/');
    for level in outer.split('/') {
        match (level, inner_levels.next()) {
            ("#", _) => return true,
            (_, None) => return false,
            (_, Some("#")) => return false,
            ("+", Some(_)) => {}
            (literal, Some(other)) => {
                if other == "+" || other != literal {
                    return false;
                }
            }
        }
    }
    inner_levels.next().is_none()
}

/// Whether some topic name is matched by both `a` and `b`.
pub fn intersects(a: &str, b: &str) -> bool {
    let (mut a_levels, mut b_levels) = (a.split('/'), b.split('/'));
    loop {
        match (a_levels.next(), b_levels.next()) {
            (None, None) => return true,
            (Some("#"), _) | (_, Some("#")) => return true,
            (None, Some(_)) | (Some(_), None) => return false,
            (Some("+"), Some(_)) | (Some(_), Some("+")) => {}
            (Some(x), Some(y)) => {
                if x != y {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_topics_as_brokers_route() {
        assert!(matches("a/#", "a"));
        assert!(matches("a/#", "a/b/c"));
        assert!(matches("a/+/c", "a/b/c"));
        assert!(!matches("a/+/c", "a/b"));
        assert!(!matches("a/+", "a/b/c"));
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(matches("a/+", "a/"));
        assert!(matches("#", "x"));
    }

    #[test]
    fn a_filter_covers_what_it_matches_everywhere() {
        assert!(covers("a/#", "a/+/c"));
        assert!(covers("a/#", "a"));
        assert!(covers("a/#", "a/#"));
        assert!(covers("a/+", "a/b"));
        assert!(covers("a/+", "a/+"));
        assert!(!covers("a/+", "a/#"));
        assert!(!covers("a/b", "a/+"));
        assert!(!covers("a/b/#", "a/#"));
        assert!(!covers("a/b", "a/b/c"));
        assert!(!covers("a/b/c", "a/b"));
    }

    #[test]
    fn filters_intersect_when_one_topic_matches_both() {
        assert!(intersects("a/#", "a/b"));
        assert!(intersects("a/+/c", "a/b/+"));
        assert!(intersects("a/#", "a"));
        assert!(intersects("+/secret", "a/#"));
        assert!(!intersects("a/b", "a/c"));
        assert!(!intersects("a/+", "a/b/c"));
        assert!(!intersects("a/b/c", "a/b"));
    }

    #[test]
    fn malformed_filters_and_topics_are_told() {
        for ok in ["a", "a/#", "#", "+/b/+", "a//b", "a/"] {
            assert!(is_valid_filter(ok), "{ok}");
        }
        for bad in ["", "a/#/b", "a#", "a/b+", "a/\0"] {
            assert!(!is_valid_filter(bad), "{bad:?}");
        }
        assert!(is_valid_topic("a/b"));
        assert!(!is_valid_topic("a/+"));
        assert!(!is_valid_topic(""));
    }
}
