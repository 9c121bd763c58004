//! The Edit modal's preview box: "may device D publish to (or subscribe with) topic T?", answered
//! as you type for the scope and rules being edited, by the server with the one access rule the
//! brokers apply.

use super::topic_rules_editor::RulesDraft;
use crate::api::clients::preview_access;
use crate::model::access::Access;
use crate::model::{AccessPreview, ClientId, ScopeMode};
use leptos::prelude::*;
use std::time::Duration;

/// Where the answer stands.
#[derive(Clone, Debug, PartialEq)]
enum Answer {
    /// Not asked: why not.
    Waiting(&'static str),
    Asking,
    Answered(AccessPreview),
    Failed(String),
}

#[component]
pub fn PreviewBox(
    client_id: ClientId,
    namespace: String,
    mode: RwSignal<ScopeMode>,
    list: RwSignal<String>,
    rules: RulesDraft,
    /// Whether the scope or the rules being edited have an error: nothing to preview then.
    #[prop(into)]
    draft_invalid: Signal<bool>,
) -> impl IntoView {
    let device = RwSignal::new(String::new());
    let topic = RwSignal::new(String::new());
    let action = RwSignal::new(Access::Publish);
    let answer = RwSignal::new(Answer::Waiting(
        "Type a device id and a topic to see what this client's access decides.",
    ));
    let client_id = StoredValue::new(client_id.to_string());

    // Ask after a short pause in typing; an answer to an older question is dropped.
    let seq = StoredValue::new(0u32);
    Effect::new(move |_| {
        let question = (
            device.get().trim().to_owned(),
            topic.get().trim().to_owned(),
            action.get(),
        );
        let draft = (mode.get(), list.get(), rules.rules());
        let invalid = draft_invalid.get();
        seq.update_value(|n| *n += 1);
        let mine = seq.get_value();
        if question.0.is_empty() || question.1.is_empty() {
            answer.set(Answer::Waiting(
                "Type a device id and a topic to see what this client's access decides.",
            ));
            return;
        }
        if invalid {
            answer.set(Answer::Waiting(
                "Fix the errors above to preview this client's access.",
            ));
            return;
        }
        answer.set(Answer::Asking);
        set_timeout(
            move || {
                if seq.try_get_value() != Some(mine) {
                    return;
                }
                let Some(id) = client_id.try_get_value() else {
                    return;
                };
                leptos::task::spawn_local(async move {
                    let (device, topic, action) = question;
                    let (mode, list, rules) = draft;
                    let result = preview_access(id, mode, list, rules, device, topic, action).await;
                    if seq.try_get_value() != Some(mine) {
                        return;
                    }
                    answer.try_set(match result {
                        Ok(preview) => Answer::Answered(preview),
                        Err(e) => Answer::Failed(e.to_string()),
                    });
                });
            },
            Duration::from_millis(300),
        );
    });

    let shown = move || {
        match answer.get() {
        Answer::Waiting(text) => view! { <p class="preview-answer muted" data-testid="preview-answer" data-verdict="none">{text}</p> }.into_any(),
        Answer::Asking => view! { <p class="preview-answer muted" data-testid="preview-answer" data-verdict="asking">"Checking…"</p> }.into_any(),
        Answer::Answered(preview) => {
            let verdict = if preview.allowed { "allowed" } else { "denied" };
            view! {
                <p class="preview-answer" class:allowed=preview.allowed class:denied=!preview.allowed
                    data-testid="preview-answer" data-verdict=verdict>{preview.to_string()}</p>
            }
            .into_any()
        }
        Answer::Failed(message) => view! { <p class="preview-answer denied" data-testid="preview-answer" data-verdict="error">{message}</p> }.into_any(),
    }
    };
    let topic_placeholder = format!("{namespace}/devices/d-1/telemetry");
    view! {
        <section class="preview-box" data-testid="preview-box">
            <h3>"Try it"</h3>
            <p class="hint">"What the brokers would decide with the scope and rules above, before you save them. The device id is the MQTT client identifier the device connects with."</p>
            <div class="preview-inputs">
                <label>"Device id"
                    <input class="mono" data-testid="preview-device" autocomplete="off" spellcheck="false" placeholder="d-1"
                        prop:value=move || device.get() on:input=move |ev| device.set(event_target_value(&ev))/>
                </label>
                <label>"Action"
                    <select data-testid="preview-action"
                        prop:value=move || if action.get() == Access::Publish { "publish" } else { "subscribe" }
                        on:change=move |ev| action.set(if event_target_value(&ev) == "subscribe" { Access::Subscribe } else { Access::Publish })>
                        <option value="publish">"publish to"</option>
                        <option value="subscribe">"subscribe to"</option>
                    </select>
                </label>
                <label class="preview-topic">"Topic"
                    <input class="mono" data-testid="preview-topic" autocomplete="off" spellcheck="false" placeholder=topic_placeholder
                        prop:value=move || topic.get() on:input=move |ev| topic.set(event_target_value(&ev))/>
                </label>
            </div>
            <div aria-live="polite">{shown}</div>
        </section>
    }
}
