//! The Delete modal: a client is deleted, and its sessions revoked, only after confirming.

use super::{ClientsCtx, Dialog};
use crate::api::clients::delete_client;
use crate::components::modal::Modal;
use crate::components::toast::use_toaster;
use crate::model::ClientRow;
use leptos::prelude::*;

/// Confirms a delete; the client is gone afterwards and its sessions are revoked.
#[component]
pub fn DeleteClientModal(row: ClientRow) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let toaster = use_toaster();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = row.client_id.to_string();
    let confirm = {
        let id = id.clone();
        move |_| {
            busy.set(true);
            let id = id.clone();
            leptos::task::spawn_local(async move {
                let result = delete_client(id.clone()).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        toaster.success(format!("{id} deleted"));
                        ctx.refresh();
                        ctx.dialog.set(Dialog::Closed);
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    let close = move || ctx.dialog.set(Dialog::Closed);
    view! {
        <Modal title=format!("Delete {id}?") on_close=move |_| close() testid="delete-client-modal">
            <p>"Delete " <strong>{row.name.clone()}</strong> " (" <code>{id.clone()}</code> ")? "
               "Devices using it are disconnected and can no longer connect. This cannot be undone."</p>
            {move || error.get().map(|e| view! { <div class="banner error" role="alert" data-testid="modal-error">{e}</div> })}
            <footer class="modal-footer">
                <button type="button" on:click=move |_| close()>"Cancel"</button>
                <button type="button" class="danger" data-testid="confirm-delete" disabled=move || busy.get() on:click=confirm>"Delete client"</button>
            </footer>
        </Modal>
    }
}
