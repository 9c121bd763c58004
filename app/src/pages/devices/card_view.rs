//! The Devices page as cards: one card per device, same actions as the list.

use super::tags::TagChips;
use super::{DevicesCtx, Dialog, last_seen};
use crate::model::{DeviceRow, time_format};
use leptos::prelude::*;

/// The card layout.
#[component]
pub fn CardView(rows: Vec<DeviceRow>) -> impl IntoView {
    view! {
        <div class="cards" data-testid="device-cards">
            {rows.into_iter().map(|row| view! { <Card row/> }).collect_view()}
        </div>
    }
}

#[component]
fn Card(row: DeviceRow) -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    let manage = crate::components::role_gate::may_manage();
    let edit_row = row.clone();
    let delete_row = row.clone();
    let delete_label = format!("Delete {}", row.device_id);
    let title = if row.name.is_empty() {
        row.device_id.to_string()
    } else {
        row.name.clone()
    };
    view! {
        <article class="card" data-device-id=row.device_id.to_string()>
            {manage.then(|| view! {
                <button type="button" class="icon card-delete" data-testid="delete" aria-label=delete_label title="Delete"
                    on:click=move |_| ctx.dialog.set(Dialog::Delete(delete_row.clone()))>"×"</button>
            })}
            <h3 class="name">{title}</h3>
            <div class="card-id"><code class="device-id">{row.device_id.to_string()}</code></div>
            <TagChips tags=row.tags.clone()/>
            <dl class="meta">
                <dt>"Created"</dt><dd>{time_format::utc_minutes(row.created_at)}</dd>
                <dt>"Last seen"</dt><dd data-testid="last-seen">{last_seen(&row)}</dd>
                <dt>"Last client"</dt><dd data-testid="last-client">{row.last_client_id.clone().unwrap_or_else(|| "—".into())}</dd>
            </dl>
            <footer>
                <span></span>
                {manage.then(|| view! {
                    <button type="button" class="small" data-testid="edit" on:click=move |_| ctx.dialog.set(Dialog::Edit(edit_row.clone()))>"Edit"</button>
                })}
            </footer>
        </article>
    }
}
