//! The Edit modal: a device's name and tags. Removing a tag takes the device out of the restricted
//! clients that selected it by that tag, and closes those sessions.

use super::tags::TagsField;
use super::{DevicesCtx, Dialog, last_seen};
use crate::api::devices::update_device;
use crate::components::field::TextField;
use crate::components::modal::Modal;
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{DeviceName, DeviceRow, FieldError, ParseError, parse_tags, tags_text};
use leptos::prelude::*;

/// Edit: name and tags, checked as you type; the device id cannot change.
#[component]
pub fn EditDeviceModal(row: DeviceRow) -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    let toaster = use_toaster();
    let name = RwSignal::new(row.name.clone());
    let tags = RwSignal::new(tags_text(&row.tags));
    let server_error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    Effect::new(move |previous: Option<()>| {
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
    let name_error =
        Signal::derive(move || field_error(DeviceName::parse(&name.get()).err(), FieldError::Name));
    let tags_error =
        Signal::derive(move || field_error(parse_tags(&tags.get()).err(), FieldError::Tag));
    let general_error = Signal::derive(move || match server_error.get() {
        Some(AppError::Invalid { .. }) | None => None,
        Some(e) => Some(e.to_string()),
    });
    let id = row.device_id.to_string();
    let save = {
        let id = id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if name_error.get_untracked().is_some() || tags_error.get_untracked().is_some() {
                return;
            }
            busy.set(true);
            let request = update_device(id.clone(), name.get_untracked(), tags.get_untracked());
            leptos::task::spawn_local(async move {
                let result = request.await;
                let _ = busy.try_set(false);
                match result {
                    Ok(row) => {
                        toaster.success(format!("{} saved", row.device_id));
                        ctx.refresh();
                        ctx.dialog.set(Dialog::Closed);
                    }
                    Err(e) => {
                        let _ = server_error.try_set(Some(e));
                    }
                }
            });
        }
    };
    let close = move || ctx.dialog.set(Dialog::Closed);
    let last_client = row.last_client_id.clone().unwrap_or_else(|| "—".into());
    view! {
        <Modal title=format!("Edit device {id}") on_close=move |_| close() testid="edit-device-modal">
            <form on:submit=save novalidate>
                <div class="field">
                    <span class="label">"Device ID"</span>
                    <code data-testid="edit-device-id">{id.clone()}</code>
                </div>
                <TextField label="Name" name="name" value=name error=name_error/>
                <TagsField value=tags error=tags_error/>
                <p class="hint">"Removing a tag takes this device out of every restricted client that selected it by that tag: its sessions through those clients are closed."</p>
                <p class="hint">"Last seen " {last_seen(&row)} " · last client " <code>{last_client}</code></p>
                {move || general_error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
                <footer class="modal-footer">
                    <button type="button" on:click=move |_| close()>"Cancel"</button>
                    <button type="submit" class="primary" data-testid="save-device" disabled=move || busy.get()>"Save changes"</button>
                </footer>
            </form>
        </Modal>
    }
}
