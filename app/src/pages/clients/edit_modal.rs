//! The Edit modal: a client's details, status and live sessions, and the Regenerate Key step.

use super::presence::LiveSessions;
use super::{ClientsCtx, Dialog};
use crate::api::clients::{get_client, regenerate_key, update_client};
use crate::components::copy_button::CopyField;
use crate::components::field::TextField;
use crate::components::modal::Modal;
use crate::components::status_switch::StatusSwitch;
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{
    ClientDetails, ClientId, ClientKey, ClientName, ClientRow, Description, FieldError, ParseError,
    SecretInput, time_format,
};
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Details,
    Regenerate,
}

/// Edit: name, description, status and connection details (never the key), and the way to a new key.
#[component]
pub fn EditClientModal(client_id: ClientId) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let id = client_id.to_string();
    let details = LocalResource::new(move || get_client(id.clone()));
    let step = RwSignal::new(Step::Details);
    let title = Signal::derive(move || match step.get() {
        Step::Details => format!("Edit client {client_id}"),
        Step::Regenerate => format!("Regenerate key for {client_id}"),
    });
    let close = move || ctx.dialog.set(Dialog::Closed);
    view! {
        <Modal title=title on_close=move |_| close() testid="edit-client-modal">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(details) => view! {
                            <Show when=move || step.get() == Step::Details
                                fallback={ let d = details.clone(); move || view! { <RegenerateStep details=d.clone() step/> } }>
                                <DetailsStep details=details.clone() step/>
                            </Show>
                        }.into_any(),
                        Err(e) => view! {
                            <div class="banner error" role="alert" data-testid="modal-error">{e.to_string()}</div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </Modal>
    }
}

#[component]
fn DetailsStep(details: ClientDetails, step: RwSignal<Step>) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let toaster = use_toaster();
    let row = details.row.clone();
    let c = details.connection.clone();
    let name = RwSignal::new(row.name.clone());
    let description = RwSignal::new(row.description.clone());
    let server_error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    // What the field says: its own parser's verdict as you type, else the server's.
    let field_error = move |parsed: Option<ParseError>, field| {
        parsed
            .map(|e| e.to_string())
            .or_else(|| server_error.get().and_then(|e| e.for_field(field)))
    };
    let name_error =
        Signal::derive(move || field_error(ClientName::parse(&name.get()).err(), FieldError::Name));
    let description_error = Signal::derive(move || {
        field_error(
            Description::parse(&description.get()).err(),
            FieldError::Description,
        )
    });
    let general_error = Signal::derive(move || match server_error.get() {
        Some(AppError::Invalid { .. }) | None => None,
        Some(e) => Some(e.to_string()),
    });
    let id = row.client_id.to_string();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if name_error.get_untracked().is_some() || description_error.get_untracked().is_some() {
            return;
        }
        busy.set(true);
        // Read before spawning: the task first runs after this handler returns.
        let request = update_client(
            id.clone(),
            name.get_untracked(),
            description.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            let result = request.await;
            busy.set(false);
            match result {
                Ok(row) => {
                    toaster.success(format!("{} saved", row.client_id));
                    ctx.refresh();
                    ctx.dialog.set(Dialog::Closed);
                }
                Err(e) => server_error.set(Some(e)),
            }
        });
    };
    let stored = |s: String| Signal::stored(s);
    view! {
        <form on:submit=save novalidate>
            <TextField label="Name" name="name" value=name error=name_error/>
            <TextField label="Description" name="description" value=description error=description_error multiline=true/>
            <div class="field">
                <span class="label">"Status"</span>
                <StatusSwitch row=row.clone() on_changed=move |_r: ClientRow| ctx.refresh()/>
                <p class="hint">"An inactive client cannot connect; deactivating disconnects its live sessions."</p>
            </div>
            <h3>"Live sessions"</h3>
            <LiveSessions sessions=details.sessions.clone()/>
            <h3>"Connection details"</h3>
            <div class="reveal-grid">
                <CopyField label="Client ID" value=stored(c.client_id.to_string()) testid="edit-client-id"/>
                <CopyField label="Broker" value=stored(format!("{}:{}", c.broker_host, c.broker_port)) testid="edit-broker"/>
                <CopyField label="Username (namespace)" value=stored(c.username_namespace().to_owned()) testid="edit-username-namespace"/>
                <CopyField label="Username (Client ID @ organization)" value=stored(c.username_with_org()) testid="edit-username-org"/>
                <CopyField label="Organization ID" value=stored(c.organization_id.clone()) testid="edit-org"/>
            </div>
            <p class="hint">"The key is not shown: Keygate keeps only its hash. Lost it? Regenerate it. Created "
                {time_format::utc_minutes(row.created_at)} ", last changed " {time_format::utc_minutes(row.updated_at)} "."</p>
            {move || general_error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
            <footer class="modal-footer">
                <button type="button" class="danger-outline" data-testid="regenerate" on:click=move |_| step.set(Step::Regenerate)>"Regenerate Key"</button>
                <span class="spacer"></span>
                <button type="button" on:click=move |_| ctx.dialog.set(Dialog::Closed)>"Cancel"</button>
                <button type="submit" class="primary" data-testid="save-client" disabled=move || busy.get()>"Save changes"</button>
            </footer>
        </form>
    }
}

#[component]
fn RegenerateStep(details: ClientDetails, step: RwSignal<Step>) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let toaster = use_toaster();
    let own = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let generated = StoredValue::new(ClientKey::generate());
    let server_error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let key_error = Signal::derive(move || {
        if !own.get() {
            return None;
        }
        ClientKey::parse(&typed.get())
            .err()
            .map(|e| e.to_string())
            .or_else(|| {
                server_error
                    .get()
                    .and_then(|e| e.for_field(FieldError::Key))
            })
    });
    let general_error = Signal::derive(move || match server_error.get() {
        Some(AppError::Invalid {
            field: FieldError::Key,
            ..
        })
        | None => None,
        Some(e) => Some(e.to_string()),
    });
    let id = details.row.client_id.to_string();
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if key_error.get_untracked().is_some() {
            return;
        }
        let key = if own.get_untracked() {
            typed.get_untracked()
        } else {
            generated.with_value(|k| k.expose().to_owned())
        };
        busy.set(true);
        let id = id.clone();
        leptos::task::spawn_local(async move {
            let result = regenerate_key(id, SecretInput::new(key)).await;
            busy.set(false);
            match result {
                Ok(revealed) => {
                    toaster.success(format!(
                        "New key for {}: the old key no longer works",
                        revealed.row.client_id
                    ));
                    ctx.refresh();
                    ctx.dialog.set(Dialog::Reveal {
                        revealed,
                        regenerated: true,
                    });
                }
                Err(e) => server_error.set(Some(e)),
            }
        });
    };
    view! {
        <form on:submit=confirm novalidate>
            <div class="banner warning" role="note">
                "The current key stops working as soon as you confirm. Devices using it are disconnected and cannot reconnect until they have the new key."
            </div>
            <fieldset class="choice">
                <legend>"New key"</legend>
                <label><input type="radio" name="key-source" data-testid="key-generated" prop:checked=move || !own.get() on:change=move |_| own.set(false)/>
                    " Generate a new key (recommended)"</label>
                <label><input type="radio" name="key-source" data-testid="key-own" prop:checked=move || own.get() on:change=move |_| own.set(true)/>
                    " Type my own key"</label>
            </fieldset>
            <Show when=move || own.get()>
                <TextField label="Your key" name="key" value=typed error=key_error monospace=true hint="At least 16 printable characters, no spaces."/>
            </Show>
            {move || general_error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
            <footer class="modal-footer">
                <button type="button" on:click=move |_| step.set(Step::Details)>"Back"</button>
                <span class="spacer"></span>
                <button type="submit" class="danger" data-testid="confirm-regenerate" disabled=move || busy.get()>
                    {move || if busy.get() { "Regenerating…" } else { "Regenerate key" }}
                </button>
            </footer>
        </form>
    }
}
