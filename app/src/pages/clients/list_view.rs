//! The Clients page as a sortable table: one row per client, with its switch, badges and actions.

use super::access_badges::AccessBadges;
use super::key_badges::KeyBadges;
use super::presence::{ConnectedBadge, RevocationBadge, last_seen};
use super::{ClientsCtx, Dialog, PageQuery};
use crate::components::status_switch::StatusSwitch;
use crate::model::{ClientRow, SortKey, time_format};
use leptos::prelude::*;

/// The table layout. Column headers are links, so sorting works before the page is interactive.
#[component]
pub fn ListView(rows: Vec<ClientRow>, query: Memo<PageQuery>, now: i64) -> impl IntoView {
    let header = move |key: SortKey| {
        let q = query.get_untracked();
        let arrow = if q.sort == key {
            if q.descending { " ▼" } else { " ▲" }
        } else {
            ""
        };
        let aria = if q.sort == key {
            if q.descending {
                "descending"
            } else {
                "ascending"
            }
        } else {
            "none"
        };
        view! {
            <th aria-sort=aria><a href=q.sorted_by(key).href() data-testid=format!("sort-{}", key.as_str())>{key.label()}{arrow}</a></th>
        }
    };
    view! {
        <div class="table-wrap">
            <table class="table clients" data-testid="client-table">
                <thead>
                    <tr>
                        {header(SortKey::ClientId)}
                        {header(SortKey::Name)}
                        <th>"Description"</th>
                        <th>"Status"</th>
                        {header(SortKey::Created)}
                        {header(SortKey::LastSeen)}
                        <th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <Row row now/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(row: ClientRow, now: i64) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let manage = crate::components::role_gate::may_manage();
    let active = RwSignal::new(row.active);
    let edit_id = row.client_id.clone();
    let delete_row = row.clone();
    view! {
        <tr data-client-id=row.client_id.to_string() class:inactive=move || !active.get()>
            <td><code class="client-id">{row.client_id.to_string()}</code><ConnectedBadge count=row.live_sessions/><AccessBadges row=row.clone()/><KeyBadges keys=row.keys.clone() now/></td>
            <td class="name">{row.name.clone()}</td>
            <td class="description" title=row.description.clone()>{row.description.clone()}</td>
            <td class="status">
                {if manage {
                    view! { <StatusSwitch row=row.clone() on_changed=move |r: ClientRow| { let _ = active.try_set(r.active); ctx.refresh(); }/> }.into_any()
                } else {
                    view! { <span class="status-text" data-testid="status">{if row.active { "Active" } else { "Inactive" }}</span> }.into_any()
                }}
                <RevocationBadge client_id=row.client_id.clone() progress=row.revocation.clone()/>
            </td>
            <td class="time">{time_format::utc_minutes(row.created_at)}</td>
            <td class="time" data-testid="last-seen">{last_seen(&row)}</td>
            <td class="actions">
                {(!manage).then(|| { let id = row.client_id.clone(); view! {
                    <button type="button" class="small" data-testid="logins" on:click=move |_| ctx.dialog.set(Dialog::Logins(id.clone()))>"Logins"</button>
                }})}
                {manage.then(|| view! {
                    <button type="button" class="small" data-testid="edit" on:click=move |_| ctx.dialog.set(Dialog::Edit(edit_id.clone()))>"Edit"</button>
                    <button type="button" class="small danger" data-testid="delete" on:click=move |_| ctx.dialog.set(Dialog::Delete(delete_row.clone()))>"DELETE"</button>
                })}
            </td>
        </tr>
    }
}
