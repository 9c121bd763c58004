//! The Delete modal: a device is deleted only after confirming.

use super::{DevicesCtx, Dialog};
use crate::api::devices::delete_device;
use crate::components::modal::Modal;
use crate::components::toast::use_toaster;
use crate::model::DeviceRow;
use leptos::prelude::*;

/// Confirms a delete; restricted clients that selected the device lose it.
#[component]
pub fn DeleteDeviceModal(row: DeviceRow) -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    let toaster = use_toaster();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = row.device_id.to_string();
    let confirm = {
        let id = id.clone();
        move |_| {
            busy.set(true);
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let result = delete_device(id.clone()).await;
                let _ = busy.try_set(false);
                match result {
                    Ok(()) => {
                        toaster.success(format!("{id} deleted"));
                        ctx.refresh();
                        ctx.dialog.set(Dialog::Closed);
                    }
                    Err(e) => {
                        let _ = error.try_set(Some(e.to_string()));
                    }
                }
            });
        }
    };
    let close = move || ctx.dialog.set(Dialog::Closed);
    view! {
        <Modal title=format!("Delete {id}?") on_close=move |_| close() testid="delete-device-modal">
            <p>"Delete device " <code>{id.clone()}</code> "? Restricted clients that selected it lose it, and its sessions through them are closed. "
               "It comes back by itself if it connects again through an unrestricted client with connection form 3."</p>
            {move || error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
            <footer class="modal-footer">
                <button type="button" on:click=move |_| close()>"Cancel"</button>
                <button type="button" class="danger" data-testid="confirm-delete" disabled=move || busy.get() on:click=confirm>"Delete device"</button>
            </footer>
        </Modal>
    }
}
