//! The one place a key is shown: connection details, snippets and a download, until confirmed.

use super::snippets::{Snippet, credentials_file, credentials_filename};
use super::{ClientsCtx, Dialog, RevealKind};
use crate::components::browser::download_text;
use crate::components::copy_button::{CopyButton, CopyField};
use crate::components::modal::Modal;
use crate::model::{RevealedKey, time_format};
use leptos::prelude::*;

/// The one time a key is shown: every detail a device needs, copy buttons, a credentials file,
/// snippets, and a confirmation the user must tick before the modal can close.
#[component]
pub fn RevealModal(revealed: RevealedKey, kind: RevealKind) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let saved = RwSignal::new(false);
    let snippet = RwSignal::new(Snippet::MosquittoPub);
    let revealed = StoredValue::new(revealed);
    let c = revealed.with_value(|r| r.connection.clone());
    let key = move || revealed.with_value(|r| r.key.expose().to_owned());
    let close = move || {
        if saved.get_untracked() {
            ctx.dialog.set(Dialog::Closed);
        }
    };
    let download = move |_| {
        revealed.with_value(|r| {
            download_text(
                &credentials_filename(&r.connection),
                &credentials_file(&r.connection, r.key.expose(), r.row.updated_at),
            );
        });
    };
    let title = match kind {
        RevealKind::Created => "Client created: ",
        RevealKind::Regenerated | RevealKind::Rotated { .. } => "New key for ",
    }
    .to_owned()
        + c.client_id.as_str();
    let previous = match kind {
        RevealKind::Created => String::new(),
        RevealKind::Regenerated => "The previous key has stopped working.".to_owned(),
        RevealKind::Rotated {
            old_until: Some(until),
        } => format!(
            "The previous key keeps working until {}: move your devices to this key before then.",
            time_format::utc_minutes(until)
        ),
        RevealKind::Rotated { old_until: None } => {
            "The previous key keeps working until the time you chose.".to_owned()
        }
    };
    let stored = |s: String| Signal::stored(s);
    view! {
        <Modal title=title on_close=move |_| close() dismissable=Signal::derive(move || saved.get()) testid="reveal" wide=true>
            <div class="banner warning" role="note">
                <strong>"Save this key now."</strong>
                " Keygate keeps only a hash of it and can never show it again. "
                <span data-testid="reveal-previous">{previous}</span>
            </div>
            <div class="reveal-grid">
                <CopyField label="Client ID" value=stored(c.client_id.to_string()) testid="reveal-client-id"/>
                <CopyField label="Key" value=Signal::derive(key) testid="reveal-key" secret=true/>
                <CopyField label="Broker host" value=stored(c.broker_host.clone()) testid="reveal-host"/>
                <CopyField label="Port" value=stored(c.broker_port.to_string()) testid="reveal-port"/>
                <CopyField label="Organization ID" value=stored(c.organization_id.clone()) testid="reveal-org"/>
            </div>
            <h3>"MQTT username: three ways to connect"</h3>
            <div class="reveal-grid">
                <CopyField label="Namespace (client id = Client ID)" value=stored(c.username_namespace().to_owned()) testid="reveal-username-namespace"/>
                <CopyField label="Client ID @ organization (any client id)" value=stored(c.username_with_org()) testid="reveal-username-org"/>
                <CopyField label="Client ID (client id = a device id)" value=stored(c.username_client_id().to_owned()) testid="reveal-username-client"/>
            </div>
            <h3>"Connect"</h3>
            <div class="tabs" role="tablist">
                {Snippet::ALL.into_iter().map(|s| view! {
                    <button type="button" role="tab" aria-selected=move || (snippet.get() == s).to_string()
                        class:active=move || snippet.get() == s data-testid=format!("tab-{}", s.id())
                        on:click=move |_| snippet.set(s)>{s.label()}</button>
                }).collect_view()}
            </div>
            {
                let c = c.clone();
                let text = Signal::derive(move || revealed.with_value(|r| snippet.get().render(&c, r.key.expose())));
                view! {
                    <div class="snippet">
                        <pre data-testid="snippet"><code>{move || text.get()}</code></pre>
                        <CopyButton value=text label="Copy snippet" testid="copy-snippet"/>
                    </div>
                }
            }
            <footer class="modal-footer">
                <button type="button" data-testid="download" on:click=download>"⬇ Download credentials"</button>
                <label class="confirm">
                    <input type="checkbox" data-testid="saved-checkbox" prop:checked=move || saved.get()
                        on:change=move |ev| saved.set(event_target_checked(&ev))/>
                    "I have saved this key"
                </label>
                <button type="button" class="primary" data-testid="reveal-done" disabled=move || !saved.get() on:click=move |_| close()>"Done"</button>
            </footer>
        </Modal>
    }
}
