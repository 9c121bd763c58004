//! The Devices page as a sortable table: one row per device, with its tags as chips.

use super::tags::TagChips;
use super::{DevicesCtx, Dialog, PageQuery, last_seen};
use crate::model::{DeviceRow, DeviceSortKey, time_format};
use leptos::prelude::*;

/// The table layout. Column headers are links, so sorting works before the page is interactive.
#[component]
pub fn ListView(rows: Vec<DeviceRow>, query: Memo<PageQuery>) -> impl IntoView {
    let header = move |key: DeviceSortKey| {
        let q = query.get_untracked();
        let (arrow, aria) = match (q.sort == key, q.descending) {
            (true, true) => (" ▼", "descending"),
            (true, false) => (" ▲", "ascending"),
            (false, _) => ("", "none"),
        };
        view! {
            <th aria-sort=aria><a href=q.sorted_by(key).href() data-testid=format!("sort-{}", key.as_str())>{key.label()}{arrow}</a></th>
        }
    };
    view! {
        <div class="table-wrap">
            <table class="table devices" data-testid="device-table">
                <thead>
                    <tr>
                        {header(DeviceSortKey::DeviceId)}
                        {header(DeviceSortKey::Name)}
                        <th>"Tags"</th>
                        {header(DeviceSortKey::Created)}
                        {header(DeviceSortKey::LastSeen)}
                        <th>"Last client"</th>
                        <th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <Row row/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(row: DeviceRow) -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    let edit_row = row.clone();
    let delete_row = row.clone();
    view! {
        <tr data-device-id=row.device_id.to_string()>
            <td><code class="device-id">{row.device_id.to_string()}</code></td>
            <td class="name">{row.name.clone()}</td>
            <td class="tags"><TagChips tags=row.tags.clone()/></td>
            <td class="time">{time_format::utc_minutes(row.created_at)}</td>
            <td class="time" data-testid="last-seen">{last_seen(&row)}</td>
            <td data-testid="last-client">{row.last_client_id.clone().map(|c| view! { <code>{c}</code> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"—"</span> }.into_any())}</td>
            <td class="actions">
                {crate::components::role_gate::may_manage().then(|| view! {
                    <button type="button" class="small" data-testid="edit" on:click=move |_| ctx.dialog.set(Dialog::Edit(edit_row.clone()))>"Edit"</button>
                    <button type="button" class="small danger" data-testid="delete" on:click=move |_| ctx.dialog.set(Dialog::Delete(delete_row.clone()))>"DELETE"</button>
                })}
            </td>
        </tr>
    }
}
