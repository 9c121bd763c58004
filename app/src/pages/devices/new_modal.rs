//! The New device modal: a device id, an optional name and tags, checked as the user types.

use super::tags::TagsField;
use super::{DevicesCtx, Dialog};
use crate::api::devices::create_device;
use crate::components::field::TextField;
use crate::components::modal::Modal;
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{DeviceId, DeviceName, FieldError, ParseError, parse_tags};
use leptos::prelude::*;

/// `+ New`: every field is checked as you type with the parsers the server uses; the server
/// checks again (and knows whether the id is in the workspace already).
#[component]
pub fn NewDeviceModal() -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    let toaster = use_toaster();
    let device_id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let server_error = RwSignal::new(None::<AppError>);

    // A server verdict is about what was sent: editing any field clears it.
    Effect::new(move |previous: Option<()>| {
        device_id.track();
        name.track();
        tags.track();
        if previous.is_some() {
            server_error.set(None);
        }
    });
    let field_error = move |parsed: Option<ParseError>, field| {
        parsed
            .map(|e| e.to_string())
            .or_else(|| server_error.get().and_then(|e| e.for_field(field)))
    };
    let id_error = Signal::derive(move || {
        let text = device_id.get();
        if text.is_empty() && !submitted.get() {
            return None;
        }
        field_error(DeviceId::parse(&text).err(), FieldError::DeviceId)
    });
    let name_error =
        Signal::derive(move || field_error(DeviceName::parse(&name.get()).err(), FieldError::Name));
    let tags_error =
        Signal::derive(move || field_error(parse_tags(&tags.get()).err(), FieldError::Tag));
    let general_error = Signal::derive(move || match server_error.get() {
        Some(AppError::Invalid { .. }) | None => None,
        Some(e) => Some(e.to_string()),
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if id_error.get_untracked().is_some()
            || name_error.get_untracked().is_some()
            || tags_error.get_untracked().is_some()
        {
            return;
        }
        // Read before spawning: the task first runs after this handler returns, and the modal
        // may be gone by then.
        let request = create_device(
            device_id.get_untracked(),
            name.get_untracked(),
            tags.get_untracked(),
        );
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = request.await;
            let _ = busy.try_set(false);
            match result {
                Ok(row) => {
                    toaster.success(format!("Device {} added", row.device_id));
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
        <Modal title="Add device" on_close=move |_| close() testid="new-device-modal">
            <form on:submit=submit novalidate>
                <TextField label="Device ID" name="device_id" value=device_id error=id_error monospace=true
                    hint="The MQTT client identifier the device connects with (connection form 3): 1–128 letters, digits, '-', '_', '.', ':' or '@'. Unique in this workspace."/>
                <TextField label="Name" name="name" value=name error=name_error hint="Optional, e.g. “Boiler room sensor 3”."/>
                <TagsField value=tags error=tags_error/>
                {move || general_error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
                <footer class="modal-footer">
                    <button type="button" on:click=move |_| close()>"Cancel"</button>
                    <button type="submit" class="primary" data-testid="create-device" disabled=move || busy.get()>
                        {move || if busy.get() { "Adding…" } else { "Add device" }}
                    </button>
                </footer>
            </form>
        </Modal>
    }
}
