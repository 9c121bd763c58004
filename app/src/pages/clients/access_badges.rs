//! The badges that say what a client may reach: "Restricted" with its scope, and how many topic
//! rules it has. Shown in the list and on the cards.

use crate::model::ClientRow;
use leptos::prelude::*;

/// How much of a scope list a badge shows; the whole list is in its tooltip.
const SHOWN_CHARS: usize = 32;

/// `text` cut to [`SHOWN_CHARS`] characters, with "…" when cut.
fn truncated(text: &str) -> String {
    if text.chars().count() <= SHOWN_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(SHOWN_CHARS).collect();
    cut.push('…');
    cut
}

#[component]
pub fn AccessBadges(row: ClientRow) -> impl IntoView {
    let restricted = row.scope.map(|scope| {
        let text = scope.to_text();
        let title = format!("Restricted to: {text}");
        view! { <span class="badge restricted" data-testid="restricted-badge" title=title>"Restricted: " {truncated(&text)}</span> }
    });
    let rules = (!row.topic_rules.is_empty()).then(|| {
        let n = row.topic_rules.len();
        let text = if n == 1 {
            "1 rule".to_owned()
        } else {
            format!("{n} rules")
        };
        let title = row
            .topic_rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                format!(
                    "{}. {} {} {}",
                    i + 1,
                    r.permission.as_str(),
                    r.action.as_str(),
                    r.filter
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        view! { <span class="badge rules" data-testid="rules-badge" title=title>{text}</span> }
    });
    (restricted.is_some() || rules.is_some())
        .then(|| view! { <div class="access-badges">{restricted}{rules}</div> })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_scope_is_cut_with_an_ellipsis() {
        assert_eq!(truncated("d-1, env=prod"), "d-1, env=prod");
        let long = "d-0001, d-0002, d-0003, d-0004, d-0005";
        assert_eq!(truncated(long), "d-0001, d-0002, d-0003, d-0004, …");
    }
}
