//! The New client modal: a generated or typed Client ID and key, checked as the user types, when
//! the key expires, and which devices may use it.

use super::scope_editor::{ScopeEditor, scope_error};
use super::{ClientsCtx, Dialog, RevealKind};
use crate::api::clients::{client_id_available, create_client};
use crate::components::browser::now_millis;
use crate::components::expiry_field::{ExpiryDraft, ExpiryField};
use crate::components::field::TextField;
use crate::components::key_policy::use_key_policy;
use crate::components::modal::Modal;
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{
    Availability, ClientId, ClientKey, ClientName, Description, FieldError, ScopeMode, SecretInput,
};
use leptos::prelude::*;
use std::time::Duration;

/// `+ New`: a generated Client ID and key (both editable), a name and a description, and when the
/// key expires (the organization's default preselected). Every field is checked as you type with
/// the same parsers the server uses; the server checks again.
#[component]
pub fn NewClientModal() -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let toaster = use_toaster();
    let client_id = RwSignal::new(ClientId::generate().to_string());
    let key = RwSignal::new(ClientKey::generate().expose().to_owned());
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let scope_mode = RwSignal::new(ScopeMode::Any);
    let scope_list = RwSignal::new(String::new());
    let default_days = use_key_policy()
        .and_then(|p| p.loaded())
        .map(|p| p.default_days);
    let expiry = ExpiryDraft::preselect(default_days);
    let submitted = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let server_error = RwSignal::new(None::<AppError>);
    let taken = RwSignal::new(None::<String>);

    // Ask the server whether a typed id is free, after a short pause in typing.
    let check_seq = StoredValue::new(0u32);
    Effect::new(move |_| {
        let id = client_id.get();
        check_seq.update_value(|n| *n += 1);
        let seq = check_seq.get_value();
        if ClientId::parse(&id).is_err() {
            return;
        }
        // The timer and the request can outlive the modal (closed while they ran): every access
        // after a pause goes through `try_`, which answers None once the modal is gone.
        set_timeout(
            move || {
                if check_seq.try_get_value() != Some(seq) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let answer = client_id_available(id.clone()).await;
                    // A later keystroke has started a newer check: this answer is stale.
                    if matches!(answer, Ok(Availability::Taken))
                        && check_seq.try_get_value() == Some(seq)
                    {
                        taken.try_set(Some(id));
                    }
                });
            },
            Duration::from_millis(250),
        );
    });

    // A server verdict is about what was sent: editing any field clears it.
    Effect::new(move |previous: Option<()>| {
        client_id.track();
        key.track();
        name.track();
        description.track();
        scope_mode.track();
        scope_list.track();
        expiry.text();
        if previous.is_some() {
            server_error.set(None);
        }
    });

    let server_msg = move |field| server_error.get().and_then(|e| e.for_field(field));
    let id_error = Signal::derive(move || {
        let id = client_id.get();
        match ClientId::parse(&id) {
            Err(e) => Some(e.to_string()),
            Ok(parsed) if taken.get().as_deref() == Some(parsed.as_str()) => {
                Some("This Client ID is taken. Choose another one.".into())
            }
            Ok(_) => server_msg(FieldError::ClientId),
        }
    });
    let key_error = Signal::derive(move || {
        ClientKey::parse(&key.get())
            .err()
            .map(|e| e.to_string())
            .or_else(|| server_msg(FieldError::Key))
    });
    let name_error = Signal::derive(move || {
        let text = name.get();
        if text.is_empty() && !submitted.get() {
            return None;
        }
        ClientName::parse(&text)
            .err()
            .map(|e| e.to_string())
            .or_else(|| server_msg(FieldError::Name))
    });
    let description_error = Signal::derive(move || {
        Description::parse(&description.get())
            .err()
            .map(|e| e.to_string())
            .or_else(|| server_msg(FieldError::Description))
    });
    let expiry_error = Signal::derive(move || {
        expiry
            .error(now_millis())
            .map(|e| e.to_string())
            .or_else(|| server_msg(FieldError::KeyExpiry))
    });
    let general_error = Signal::derive(move || match server_error.get() {
        Some(AppError::Invalid { .. }) | None => None,
        Some(e) => Some(e.to_string()),
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if ClientName::parse(&name.get_untracked()).is_err()
            || id_error.get_untracked().is_some()
            || key_error.get_untracked().is_some()
            || description_error.get_untracked().is_some()
            || expiry_error.get_untracked().is_some()
            || (scope_mode.get_untracked() == ScopeMode::Only
                && scope_error(ScopeMode::Only, &scope_list.get_untracked(), true).is_some())
        {
            return;
        }
        // Read before spawning: the task first runs after this handler returns, and the modal
        // may be gone by then.
        let request = create_client(
            client_id.get_untracked(),
            SecretInput::new(key.get_untracked()),
            name.get_untracked(),
            description.get_untracked(),
            scope_mode.get_untracked(),
            scope_list.get_untracked(),
            expiry.text_untracked(),
        );
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = request.await;
            busy.set(false);
            match result {
                Ok(revealed) => {
                    toaster.success(format!("Client {} created", revealed.row.client_id));
                    ctx.refresh();
                    ctx.dialog.set(Dialog::Reveal {
                        revealed,
                        kind: RevealKind::Created,
                    });
                }
                Err(e) => server_error.set(Some(e)),
            }
        });
    };
    let close = move || ctx.dialog.set(Dialog::Closed);

    view! {
        <Modal title="Add client" on_close=move |_| close() testid="new-client-modal">
            <form on:submit=submit novalidate>
                <TextField label="Name" name="name" value=name error=name_error hint="What this device or service is, e.g. “Boiler room sensor 3”."/>
                <TextField label="Description" name="description" value=description error=description_error multiline=true/>
                <TextField label="Client ID" name="client_id" value=client_id error=id_error monospace=true
                    hint="Generated for you, or create your own: 3–64 letters, digits, '-', '_' or '.'. Unique across Keygate.">
                    <button type="button" class="small" data-testid="generate-client-id" on:click=move |_| { taken.set(None); client_id.set(ClientId::generate().to_string()) }>"Generate"</button>
                </TextField>
                <TextField label="Key" name="key" value=key error=key_error monospace=true
                    hint="Generated from 32 random bytes, or type your own of at least 16 characters. It is shown once after you create the client.">
                    <button type="button" class="small" data-testid="generate-key" on:click=move |_| key.set(ClientKey::generate().expose().to_owned())>"Generate"</button>
                </TextField>
                <ExpiryField draft=expiry label="Key expires" name="expiry" default_days dates=true error=expiry_error
                    hint="Devices cannot connect with the key after that. You can rotate it to a new key without downtime."/>
                <ScopeEditor mode=scope_mode list=scope_list server_error=server_error submitted=submitted/>
                {move || general_error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
                <footer class="modal-footer">
                    <button type="button" on:click=move |_| close()>"Cancel"</button>
                    <button type="submit" class="primary" data-testid="create-client" disabled=move || busy.get()>
                        {move || if busy.get() { "Creating…" } else { "Create client" }}
                    </button>
                </footer>
            </form>
        </Modal>
    }
}
