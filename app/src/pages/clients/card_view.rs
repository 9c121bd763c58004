//! The Clients page as cards: one card per client, with its switch, badges, keys and actions.

use super::access_badges::AccessBadges;
use super::key_badges::KeyBadges;
use super::keys_panel::KeyList;
use super::presence::{ConnectedBadge, RevocationBadge, last_seen};
use super::{ClientsCtx, Dialog};
use crate::components::status_switch::StatusSwitch;
use crate::model::{ClientRow, time_format};
use leptos::prelude::*;

/// The card layout: one card per client, same actions as the list.
#[component]
pub fn CardView(rows: Vec<ClientRow>, now: i64) -> impl IntoView {
    view! {
        <div class="cards" data-testid="client-cards">
            {rows.into_iter().map(|row| view! { <Card row now/> }).collect_view()}
        </div>
    }
}

#[component]
fn Card(row: ClientRow, now: i64) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let manage = crate::components::role_gate::may_manage();
    let active = RwSignal::new(row.active);
    let edit_id = row.client_id.clone();
    let delete_row = row.clone();
    let delete_label = format!("Delete {}", row.client_id);
    view! {
        <article class="card" data-client-id=row.client_id.to_string() class:inactive=move || !active.get()>
            {manage.then(|| view! {
                <button type="button" class="icon card-delete" data-testid="delete" aria-label=delete_label title="Delete"
                    on:click=move |_| ctx.dialog.set(Dialog::Delete(delete_row.clone()))>"×"</button>
            })}
            <h3 class="name">{row.name.clone()}</h3>
            <div class="card-id"><code class="client-id">{row.client_id.to_string()}</code><ConnectedBadge count=row.live_sessions/></div>
            <AccessBadges row=row.clone()/>
            <KeyBadges keys=row.keys.clone() now/>
            <RevocationBadge client_id=row.client_id.clone() progress=row.revocation.clone()/>
            <p class="description">{if row.description.is_empty() { "No description".to_owned() } else { row.description.clone() }}</p>
            <dl class="meta">
                <dt>"Created"</dt><dd>{time_format::utc_minutes(row.created_at)}</dd>
                <dt>"Last seen"</dt><dd data-testid="last-seen">{last_seen(&row)}</dd>
            </dl>
            <KeyList keys=row.keys.clone() now/>
            <footer>
                {if manage {
                    view! { <StatusSwitch row=row.clone() on_changed=move |r: ClientRow| { let _ = active.try_set(r.active); ctx.refresh(); }/> }.into_any()
                } else {
                    view! { <span class="status-text" data-testid="status">{if row.active { "Active" } else { "Inactive" }}</span> }.into_any()
                }}
                {manage.then(|| view! {
                    <button type="button" class="small" data-testid="edit" on:click=move |_| ctx.dialog.set(Dialog::Edit(edit_id.clone()))>"Edit"</button>
                })}
                {(!manage).then(|| { let id = row.client_id.clone(); view! {
                    <button type="button" class="small" data-testid="logins" on:click=move |_| ctx.dialog.set(Dialog::Logins(id.clone()))>"Logins"</button>
                }})}
            </footer>
        </article>
    }
}
