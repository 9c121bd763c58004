//! The Edit modal's "Topic rules": an ordered list of allow and deny rules, each for publishing,
//! subscribing or both, with a topic filter inside the workspace's namespace. Each rule is checked
//! as you type with the parser the server uses ([`TopicRules::parse`]); rules can be added,
//! removed and moved up or down, since the first match wins.

use crate::model::{Permission, RuleAction, TopicRule, TopicRules};
use leptos::prelude::*;

/// One rule being edited; `key` keeps its row when the list is reordered.
#[derive(Clone, Copy)]
struct RuleDraft {
    key: u32,
    permission: RwSignal<Permission>,
    action: RwSignal<RuleAction>,
    filter: RwSignal<String>,
}

impl RuleDraft {
    fn new(key: u32, rule: &TopicRule) -> Self {
        Self {
            key,
            permission: RwSignal::new(rule.permission),
            action: RwSignal::new(rule.action),
            filter: RwSignal::new(rule.filter.clone()),
        }
    }

    fn rule(&self) -> TopicRule {
        TopicRule {
            permission: self.permission.get(),
            action: self.action.get(),
            filter: self.filter.get(),
        }
    }
}

/// The rules as the Edit modal holds them before they are saved.
#[derive(Clone, Copy)]
pub struct RulesDraft {
    rows: RwSignal<Vec<RuleDraft>>,
    next_key: StoredValue<u32>,
}

impl RulesDraft {
    pub fn new(rules: &TopicRules) -> Self {
        let rows: Vec<RuleDraft> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| RuleDraft::new(i as u32, r))
            .collect();
        Self {
            next_key: StoredValue::new(rows.len() as u32),
            rows: RwSignal::new(rows),
        }
    }

    /// The rules as typed, in order (tracked).
    pub fn rules(&self) -> Vec<TopicRule> {
        self.rows.get().iter().map(RuleDraft::rule).collect()
    }

    /// The first problem of the list for a workspace of `namespace`, as the server would say it.
    pub fn error(&self, namespace: &str) -> Option<String> {
        TopicRules::parse(namespace, self.rules())
            .err()
            .map(|e| e.to_string())
    }

    fn add(&self, namespace: &str) {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        let rule = TopicRule {
            permission: Permission::Deny,
            action: RuleAction::Both,
            filter: format!("{namespace}/"),
        };
        self.rows
            .update(|rows| rows.push(RuleDraft::new(key, &rule)));
    }

    fn remove(&self, key: u32) {
        self.rows.update(|rows| rows.retain(|r| r.key != key));
    }

    /// Moves a rule one place up (`up`) or down.
    fn shift(&self, key: u32, up: bool) {
        self.rows.update(|rows| {
            let Some(at) = rows.iter().position(|r| r.key == key) else {
                return;
            };
            let to = if up { at.checked_sub(1) } else { Some(at + 1) };
            if let Some(to) = to.filter(|to| *to < rows.len()) {
                rows.swap(at, to);
            }
        });
    }

    fn position(&self, key: u32) -> Option<usize> {
        self.rows
            .with(|rows| rows.iter().position(|r| r.key == key))
    }

    fn len(&self) -> usize {
        self.rows.with(Vec::len)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A rule's own problem for a workspace of `namespace`, as you type.
fn rule_error(namespace: &str, rule: TopicRule) -> Option<String> {
    TopicRules::parse(namespace, vec![rule])
        .err()
        .map(|e| e.error.to_string())
}

/// The section: the rules, their errors, and what they mean.
#[component]
pub fn TopicRulesEditor(
    rules: RulesDraft,
    namespace: String,
    /// What the server said about the rules when they were sent (names the rule: "Rule 2: …").
    #[prop(into)]
    server_error: Signal<Option<String>>,
) -> impl IntoView {
    let ns = StoredValue::new(namespace.clone());
    let too_many = move || rules.len() > TopicRules::MAX_RULES;
    let row = move |draft: RuleDraft| {
        let key = draft.key;
        let number = move || rules.position(key).map_or(0, |i| i + 1);
        let first = move || rules.position(key) == Some(0);
        let last = move || rules.position(key) == Some(rules.len().saturating_sub(1));
        let error = Signal::derive(move || ns.with_value(|ns| rule_error(ns, draft.rule())));
        let error_id = format!("rule-error-{key}");
        view! {
            <li class="rule" class:invalid=move || error.get().is_some() data-testid="rule">
                <span class="rule-number">{move || format!("{}.", number())}</span>
                <select aria-label=move || format!("Rule {} permission", number()) data-testid="rule-permission"
                    prop:value=move || draft.permission.get().as_str()
                    on:change=move |ev| {
                        if let Some(p) = Permission::parse(&event_target_value(&ev)) {
                            draft.permission.set(p);
                        }
                    }>
                    <option value="allow">"Allow"</option>
                    <option value="deny">"Deny"</option>
                </select>
                <select aria-label=move || format!("Rule {} action", number()) data-testid="rule-action"
                    prop:value=move || draft.action.get().as_str()
                    on:change=move |ev| {
                        if let Some(a) = RuleAction::parse(&event_target_value(&ev)) {
                            draft.action.set(a);
                        }
                    }>
                    <option value="publish">"publish"</option>
                    <option value="subscribe">"subscribe"</option>
                    <option value="both">"publish and subscribe"</option>
                </select>
                <input class="mono rule-filter" data-testid="rule-filter" autocomplete="off" spellcheck="false"
                    aria-label=move || format!("Rule {} topic filter", number())
                    aria-invalid=move || error.get().is_some().to_string() aria-describedby=error_id.clone()
                    prop:value=move || draft.filter.get() on:input=move |ev| draft.filter.set(event_target_value(&ev))/>
                <span class="rule-buttons">
                    <button type="button" class="small icon" data-testid="rule-up" disabled=first
                        aria-label=move || format!("Move rule {} up", number()) on:click=move |_| rules.shift(key, true)>"↑"</button>
                    <button type="button" class="small icon" data-testid="rule-down" disabled=last
                        aria-label=move || format!("Move rule {} down", number()) on:click=move |_| rules.shift(key, false)>"↓"</button>
                    <button type="button" class="small icon danger" data-testid="rule-remove"
                        aria-label=move || format!("Remove rule {}", number()) on:click=move |_| rules.remove(key)>"×"</button>
                </span>
                <p class="field-error" id=error_id data-testid="rule-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </li>
        }
    };
    let example = format!("{namespace}/devices/{{device_id}}/#");
    view! {
        <section class="topic-rules" data-testid="topic-rules">
            <h3>"Topic rules"</h3>
            <p class="hint">"Checked in order; the first rule that matches decides. When none matches, everything inside the namespace "
                <code>{format!("{namespace}/")}</code> " is allowed. No rule can reach outside it. Use "
                <code>"{client_id}"</code> " and " <code>"{device_id}"</code> " as whole levels for the Client ID and the device's client identifier, e.g. "
                <code>{example}</code> "."</p>
            <Show when=move || rules.is_empty()>
                <p class="muted" data-testid="no-rules">"No rules: the devices may publish and subscribe anywhere inside the namespace."</p>
            </Show>
            <ol class="rules">
                <For each=move || rules.rows.get() key=|draft| draft.key children=row/>
            </ol>
            <button type="button" class="small" data-testid="add-rule" disabled=move || { rules.len() >= TopicRules::MAX_RULES }
                on:click=move |_| ns.with_value(|ns| rules.add(ns))>"+ Add rule"</button>
            <p class="field-error" data-testid="error-topic-rules" role="alert">
                {move || {
                    if too_many() {
                        Some(format!("At most {} rules are allowed.", TopicRules::MAX_RULES))
                    } else {
                        server_error.get()
                    }
                }}
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_own_error_names_its_problem() {
        let rule = |filter: &str| TopicRule {
            permission: Permission::Allow,
            action: RuleAction::Publish,
            filter: filter.to_owned(),
        };
        assert_eq!(rule_error("acme", rule("acme/#")), None);
        assert!(
            rule_error("acme", rule("other/#"))
                .unwrap()
                .contains("must start with the workspace's namespace")
        );
    }
}
