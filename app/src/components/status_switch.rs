use crate::api::clients::set_client_active;
use crate::components::toast::use_toaster;
use crate::model::ClientRow;
use leptos::prelude::*;

/// The active/inactive switch of a client, in the list, on the card and in the Edit modal.
/// Disabled until the page is interactive, so a click is never silently lost.
#[component]
pub fn StatusSwitch(
    row: ClientRow,
    #[prop(into)] on_changed: Callback<ClientRow>,
) -> impl IntoView {
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
        busy.set(true);
        leptos::task::spawn_local(async move {
            match set_client_active(id.clone(), wanted).await {
                Ok(row) => {
                    active.set(row.active);
                    toaster.success(if row.active {
                        format!("{id} activated")
                    } else {
                        format!("{id} deactivated: its sessions are revoked")
                    });
                    on_changed.run(row);
                }
                Err(e) => {
                    active.set(!wanted);
                    toaster.error(e.to_string());
                }
            }
            busy.set(false);
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
