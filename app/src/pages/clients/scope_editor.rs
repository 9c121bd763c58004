//! "Who may use this key", in the New and Edit modals: any device in the workspace, or only the
//! devices a comma-separated list of device ids and `key=value` tags names. Each entry becomes a
//! chip checked as you type (the same parser the server uses), and a live count says how many of
//! the workspace's devices the list selects now.

use crate::api::clients::count_devices_in_scope;
use crate::error::AppError;
use crate::model::{FieldError, Scope, ScopeMode};
use leptos::prelude::*;
use std::time::Duration;

/// What the scope field says about `list` with `mode`, as the server would say it; `None` when it
/// is valid. An empty list is reported only once `submitted` (or once something was typed).
pub fn scope_error(mode: ScopeMode, list: &str, submitted: bool) -> Option<String> {
    if list.trim().is_empty() && !submitted {
        return None;
    }
    mode.scope(list)
        .err()
        .map(|e| AppError::from(e).to_string())
}

/// The list without its `index`-th entry (counting non-empty entries), as the chips' × writes it.
fn without_entry(list: &str, index: usize) -> String {
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, e)| e)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How the live count stands.
#[derive(Clone, Debug, PartialEq)]
enum Count {
    /// Nothing to count (any device, or a list that does not parse).
    Idle,
    Counting,
    Counted(u64),
}

/// The radio choice, the list with its chips, the live count and the field's error.
#[component]
pub fn ScopeEditor(
    mode: RwSignal<ScopeMode>,
    list: RwSignal<String>,
    /// What the server said about the scope when the form was sent.
    #[prop(into)]
    server_error: Signal<Option<AppError>>,
    /// The form was submitted: an empty list is an error from now on.
    #[prop(into)]
    submitted: Signal<bool>,
) -> impl IntoView {
    let count = RwSignal::new(Count::Idle);
    let count_error = RwSignal::new(None::<String>);

    // Count after a short pause in typing; an answer to an older list is dropped.
    let seq = StoredValue::new(0u32);
    Effect::new(move |_| {
        let text = list.get();
        let only = mode.get() == ScopeMode::Only;
        seq.update_value(|n| *n += 1);
        let mine = seq.get_value();
        count_error.set(None);
        if !only || Scope::parse(&text).is_err() {
            count.set(Count::Idle);
            return;
        }
        count.set(Count::Counting);
        set_timeout(
            move || {
                if seq.try_get_value() != Some(mine) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let answer = count_devices_in_scope(text).await;
                    if seq.try_get_value() != Some(mine) {
                        return;
                    }
                    match answer {
                        Ok(n) => {
                            count.try_set(Count::Counted(n));
                        }
                        Err(e) => {
                            count.try_set(Count::Idle);
                            count_error.try_set(Some(e.to_string()));
                        }
                    }
                });
            },
            Duration::from_millis(300),
        );
    });

    let error = Signal::derive(move || {
        if mode.get() == ScopeMode::Any {
            return None;
        }
        scope_error(mode.get(), &list.get(), submitted.get())
            .or_else(|| {
                server_error
                    .get()
                    .and_then(|e| e.for_field(FieldError::Scope))
            })
            .or_else(|| count_error.get())
    });
    let chips = move || {
        Scope::check_entries(&list.get())
            .into_iter()
            .enumerate()
            .map(|(index, (text, parsed))| {
                let reason = parsed.err().map(|e| e.to_string());
                let invalid = reason.is_some();
                let label = format!("Remove {text}");
                let title = reason.unwrap_or_default();
                view! {
                    <li class="chip" class:invalid=invalid data-testid="scope-chip" data-invalid=invalid.to_string()
                        title=title>
                        <span class="chip-text">{text}</span>
                        <button type="button" class="chip-remove" aria-label=label
                            on:click=move |_| list.update(|l| *l = without_entry(l, index))>"×"</button>
                    </li>
                }
            })
            .collect_view()
    };
    let count_text = move || match count.get() {
        Count::Idle => String::new(),
        Count::Counting => "Counting devices…".to_owned(),
        Count::Counted(1) => "1 device in scope now".to_owned(),
        Count::Counted(n) => format!("{n} devices in scope now"),
    };

    view! {
        <fieldset class="choice scope" data-testid="scope-editor">
            <legend>"Who may use this key"</legend>
            <label><input type="radio" name="scope-mode" value="any" data-testid="scope-any"
                prop:checked=move || mode.get() == ScopeMode::Any on:change=move |_| mode.set(ScopeMode::Any)/>
                " Any device in this workspace"</label>
            <label><input type="radio" name="scope-mode" value="only" data-testid="scope-only"
                prop:checked=move || mode.get() == ScopeMode::Only on:change=move |_| mode.set(ScopeMode::Only)/>
                " Only these devices"</label>
            <Show when=move || mode.get() == ScopeMode::Only>
                <div class="field" class:invalid=move || error.get().is_some()>
                    <label for="field-scope">"Device ids and tags"</label>
                    <input id="field-scope" name="scope" class="mono" autocomplete="off" spellcheck="false"
                        placeholder="d-1, d-2, env=prod" aria-describedby="error-scope"
                        aria-invalid=move || error.get().is_some().to_string()
                        prop:value=move || list.get() on:input=move |ev| list.set(event_target_value(&ev))/>
                    <ul class="chips" data-testid="scope-chips">{chips}</ul>
                    <p class="hint">"Separate entries with commas. A tag is key=value: every device carrying it is in scope, also when tagged later. Devices of a restricted client connect with the Client ID as username and their device id as client identifier, and use only NAMESPACE/devices/DEVICE_ID/… of the devices in scope."</p>
                    <p class="scope-count" data-testid="scope-count" aria-live="polite">{count_text}</p>
                    <p class="field-error" id="error-scope" data-testid="error-scope" role="alert">
                        {move || error.get().unwrap_or_default()}
                    </p>
                </div>
            </Show>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chip_removes_its_own_entry() {
        assert_eq!(without_entry("d-1, ,env=prod , d-2", 1), "d-1, d-2");
        assert_eq!(without_entry("d-1", 0), "");
    }

    #[test]
    fn an_empty_list_is_an_error_once_submitted() {
        assert_eq!(scope_error(ScopeMode::Only, "", false), None);
        assert_eq!(
            scope_error(ScopeMode::Only, "", true).as_deref(),
            Some("List at least one device id or key=value tag.")
        );
        assert_eq!(scope_error(ScopeMode::Any, "a/b", true), None);
        assert_eq!(
            scope_error(ScopeMode::Only, "d-1, env=", false).as_deref(),
            Some("\"env=\": Write a tag as key=value, both sides filled in.")
        );
    }
}
