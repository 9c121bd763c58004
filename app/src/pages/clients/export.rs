//! Export: the workspace's clients as a CSV or JSON file, made by the server (never a key nor a
//! hash in it) and saved by the browser. Any member may export what they may read.

use crate::api::clients::export_clients;
use crate::components::toast::use_toaster;
use crate::model::client_export::ExportFormat;
use leptos::prelude::*;

#[component]
pub fn ExportButtons(namespace: String) -> impl IntoView {
    let toaster = use_toaster();
    let busy = RwSignal::new(false);
    let namespace = StoredValue::new(namespace);
    let export = move |format: ExportFormat| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match export_clients(format).await {
                Ok(text) => {
                    let name = format!(
                        "keygate-clients-{}.{}",
                        namespace.get_value(),
                        format.extension()
                    );
                    crate::components::browser::download_text(&name, &text);
                }
                Err(e) => toaster.error(e.to_string()),
            }
            let _ = busy.try_set(false);
        });
    };
    view! {
        <div class="export-buttons" role="group" aria-label="Export the workspace's clients">
            <button type="button" class="small" data-testid="export-csv" disabled=move || busy.get()
                title="Every client of this workspace, without keys" on:click=move |_| export(ExportFormat::Csv)>"Export CSV"</button>
            <button type="button" class="small" data-testid="export-json" disabled=move || busy.get()
                title="Every client of this workspace, without keys" on:click=move |_| export(ExportFormat::Json)>"Export JSON"</button>
        </div>
    }
}
