//! The bulk paste modal: many device ids at once, one per line or comma-separated. As you type it
//! says how many will be created, how many the workspace has already (skipped) and which lines are
//! not device ids and why; the whole paste is created in one request.

use super::{DevicesCtx, Dialog};
use crate::api::devices::{create_devices, existing_devices};
use crate::components::modal::Modal;
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{DeviceId, FieldError, parse_paste};
use leptos::prelude::*;
use std::collections::HashSet;
use std::time::Duration;

/// "Paste many".
#[component]
pub fn BulkDevicesModal() -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    let toaster = use_toaster();
    let text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let server_error = RwSignal::new(None::<AppError>);
    // The ids of the paste the workspace has already, as the server last answered.
    let existing = RwSignal::new(HashSet::<DeviceId>::new());
    let paste = Memo::new(move |_| parse_paste(&text.get()));

    // Ask the server which ids exist, after a short pause in typing.
    let check_seq = StoredValue::new(0u32);
    Effect::new(move |previous: Option<()>| {
        let current = text.get();
        if previous.is_some() {
            server_error.set(None);
        }
        check_seq.update_value(|n| *n += 1);
        let seq = check_seq.get_value();
        if paste.with_untracked(|p| p.ids.is_empty()) {
            return;
        }
        // The timer and the request can outlive the modal: after a pause, every access goes
        // through `try_`.
        set_timeout(
            move || {
                if check_seq.try_get_value() != Some(seq) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let answer = existing_devices(current).await;
                    if let Ok(found) = answer
                        && check_seq.try_get_value() == Some(seq)
                    {
                        let _ = existing.try_set(found.into_iter().collect());
                    }
                });
            },
            Duration::from_millis(250),
        );
    });

    let skipped = move || {
        paste.with(|p| existing.with(|e| p.ids.iter().filter(|id| e.contains(*id)).count()))
    };
    let to_create = move || paste.with(|p| p.ids.len()) - skipped();
    let error = move || {
        let p = paste.get();
        if text.get().trim().is_empty() {
            return None;
        }
        p.problem().or_else(|| {
            server_error
                .get()
                .and_then(|e| e.for_field(FieldError::DeviceId))
        })
    };
    let general_error = move || match server_error.get() {
        Some(AppError::Invalid { .. }) | None => None,
        Some(e) => Some(e.to_string()),
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !paste.with_untracked(|p| p.is_ready()) {
            return;
        }
        let request = create_devices(text.get_untracked());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = request.await;
            let _ = busy.try_set(false);
            match result {
                Ok(done) => {
                    let created = done.created.len();
                    let mut message = format!(
                        "{created} device{} created",
                        if created == 1 { "" } else { "s" }
                    );
                    if !done.skipped.is_empty() {
                        message.push_str(&format!(
                            " · {} skipped (already in this workspace)",
                            done.skipped.len()
                        ));
                    }
                    toaster.success(message);
                    ctx.refresh();
                    ctx.dialog.set(Dialog::Closed);
                }
                Err(e) => {
                    let _ = server_error.try_set(Some(e));
                }
            }
        });
    };
    let close = move || ctx.dialog.set(Dialog::Closed);

    view! {
        <Modal title="Add many devices" on_close=move |_| close() testid="bulk-devices-modal" wide=true>
            <form on:submit=submit novalidate>
                <div class="field" class:invalid=move || error().is_some()>
                    <label for="field-ids">"Device IDs"</label>
                    <textarea id="field-ids" name="ids" rows="10" class="mono" spellcheck="false"
                        aria-invalid=move || error().is_some().to_string() aria-describedby="error-ids"
                        placeholder="sensor-001\nsensor-002, sensor-003"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <p class="hint">"One per line or comma-separated, up to 1000. Ids this workspace has already are skipped."</p>
                    <p class="field-error" id="error-ids" data-testid="error-ids" role="alert">{move || error().unwrap_or_default()}</p>
                </div>
                <p class="paste-summary" data-testid="paste-summary">
                    {move || {
                        let (create, skip, repeated) = (to_create(), skipped(), paste.with(|p| p.repeated));
                        let mut parts = vec![format!("{create} to create"), format!("{skip} already here (skipped)")];
                        if repeated > 0 {
                            parts.push(format!("{repeated} repeated"));
                        }
                        parts.join(" · ")
                    }}
                </p>
                {move || {
                    let invalid = paste.with(|p| p.invalid.clone());
                    (!invalid.is_empty()).then(|| view! {
                        <ul class="paste-invalid" data-testid="paste-invalid">
                            {invalid.into_iter().map(|bad| view! {
                                <li data-testid="invalid-line">"Line " {bad.line} ": " <code>{bad.text}</code> " — " {bad.reason}</li>
                            }).collect_view()}
                        </ul>
                    })
                }}
                {move || general_error().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
                <footer class="modal-footer">
                    <button type="button" on:click=move |_| close()>"Cancel"</button>
                    <button type="submit" class="primary" data-testid="create-devices"
                        disabled=move || busy.get() || !paste.with(|p| p.is_ready())>
                        {move || if busy.get() { "Creating…".to_owned() } else { format!("Create {}", to_create()) }}
                    </button>
                </footer>
            </form>
        </Modal>
    }
}
