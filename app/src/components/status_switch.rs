//! The active/inactive switch of a client, in the list, on the card and in the Edit modal.

use crate::api::clients::set_client_active;
use crate::components::toast::use_toaster;
use crate::model::ClientRow;
use leptos::prelude::*;

/// Disabled until the page is interactive, so a click is never silently lost.
///
/// The answer to a click can arrive after the view that drew this switch is gone: the list
/// re-renders every row when it refetches after another change, and a modal can close. So
/// `on_changed` is a plain closure moved into the request's task, not a `Callback` owned by the
/// view (calling a disposed `Callback` panics and leaves the WASM page dead), and after the await
/// the switch touches its own signals only through `try_`. The caller's closure must tolerate a
/// disposed row too: it sets row signals (a no-op once disposed) and asks the page, which outlives
/// its rows, to refetch.
#[component]
pub fn StatusSwitch<F>(row: ClientRow, on_changed: F) -> impl IntoView
where
    F: Fn(ClientRow) + Clone + 'static,
{
    let toaster = use_toaster();
    let active = RwSignal::new(row.active);
    let busy = RwSignal::new(false);
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));
    let client_id = row.client_id.clone();
    let label = format!("Active: {}", row.client_id);
    let on_change = move |ev| {
        let wanted = event_target_checked(&ev);
        let id = client_id.to_string();
        let on_changed = on_changed.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match set_client_active(id.clone(), wanted).await {
                Ok(row) => {
                    let _ = active.try_set(row.active);
                    toaster.success(if row.active {
                        format!("{id} activated")
                    } else {
                        format!("{id} deactivated: its sessions are revoked")
                    });
                    on_changed(row);
                }
                Err(e) => {
                    let _ = active.try_set(!wanted);
                    toaster.error(e.to_string());
                }
            }
            let _ = busy.try_set(false);
        });
    };
    view! {
        <label class="switch" title=move || if active.get() { "Active: click to deactivate" } else { "Inactive: click to activate" }>
            <input type="checkbox" role="switch" data-testid="active-switch" aria-label=label
                checked=row.active
                prop:checked=move || active.get()
                disabled=move || busy.get() || !interactive.get()
                on:change=on_change/>
            <span class="slider"></span>
            <span class="switch-text">{move || if active.get() { "Active" } else { "Inactive" }}</span>
        </label>
    }
}
