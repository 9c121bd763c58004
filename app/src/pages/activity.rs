//! `/settings/activity`: the organization's audit log — every change, sign-in and refused MQTT
//! login — with filters (who, what, which target, from which address, a time range), a page at a
//! time from the newest, and a CSV export of what the filters select. The filters are a plain GET
//! form whose values live in the address, so a filtered view works without JavaScript and can be
//! shared as a link.

use crate::api::activity::{export_activity, list_activity};
use crate::components::protected::{Protected, me_resource, when_signed_in};
use crate::components::toast::use_toaster;
use crate::model::{ActivityFilter, ActivityPage, AuditAction, time_format};
use crate::pages::settings::SettingsNav;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The filters and the page's cursor, as the address holds them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Query {
    filter: ActivityFilter,
    before: Option<i64>,
}

impl Query {
    /// The address of this query with `before` as its cursor.
    fn href(&self, before: Option<i64>) -> String {
        let f = &self.filter;
        let mut pairs: Vec<(&str, String)> = vec![
            ("who", f.actor.clone()),
            (
                "what",
                f.action.map(|a| a.as_str().to_owned()).unwrap_or_default(),
            ),
            ("target", f.target.clone()),
            ("address", f.address.clone()),
            (
                "from",
                f.from.map(time_format::datetime_local).unwrap_or_default(),
            ),
            (
                "to",
                f.to.map(time_format::datetime_local).unwrap_or_default(),
            ),
        ];
        if let Some(before) = before {
            pairs.push(("before", before.to_string()));
        }
        let query: Vec<String> = pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", crate::pages::query_string::encode(&v)))
            .collect();
        if query.is_empty() {
            "/settings/activity".to_owned()
        } else {
            format!("/settings/activity?{}", query.join("&"))
        }
    }
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let me = me_resource();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.get();
        let text = |key: &str| {
            q.get(key)
                .unwrap_or_default()
                .trim()
                .chars()
                .take(ActivityFilter::MAX_TEXT)
                .collect::<String>()
        };
        Query {
            filter: ActivityFilter {
                actor: text("who"),
                action: AuditAction::parse(&text("what")).ok(),
                target: text("target"),
                address: text("address"),
                from: time_format::parse_utc_minutes(&text("from")),
                to: time_format::parse_utc_minutes(&text("to")),
            },
            before: text("before").parse().ok(),
        }
    });
    let page = Resource::new(
        move || query.get(),
        move |q| when_signed_in(me, move || list_activity(q.filter, q.before)),
    );
    view! {
        <Title text="Activity · Settings · Keygate"/>
        <Protected me children=Box::new(move |me| view! {
            <h1>"Settings"</h1>
            <SettingsNav me/>
            <Filters query/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(Some(page)) => view! { <Events page query=query.get_untracked()/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                    }
                })}
            </Transition>
        }.into_any())/>
    }
}

#[component]
fn Filters(query: Memo<Query>) -> impl IntoView {
    let q = query.get_untracked();
    let f = q.filter.clone();
    let toaster = use_toaster();
    let exporting = RwSignal::new(false);
    let export = move |_| {
        let filter = query.get_untracked().filter;
        exporting.set(true);
        leptos::task::spawn_local(async move {
            match export_activity(filter).await {
                Ok(csv) => crate::components::browser::download_text("keygate-activity.csv", &csv),
                Err(e) => toaster.error(e.to_string()),
            }
            exporting.set(false);
        });
    };
    let field = |label: &'static str, name: &'static str, value: String, kind: &'static str| {
        view! {
            <label class="field compact">
                <span>{label}</span>
                <input name=name type=kind value=value maxlength=ActivityFilter::MAX_TEXT.to_string()/>
            </label>
        }
    };
    view! {
        <section class="panel">
            <h2>"Activity"</h2>
            <p class="hint">"Every change, sign-in and refused MQTT login of this organization: who, what, when and from which address. Times are UTC."</p>
            <form class="filters" method="get" action="/settings/activity" data-testid="activity-filters">
                {field("Who", "who", f.actor.clone(), "search")}
                <label class="field compact">
                    <span>"What"</span>
                    <select name="what">
                        <option value="" selected=f.action.is_none()>"Anything"</option>
                        {AuditAction::ALL.iter().map(|a| view! {
                            <option value=a.as_str() selected=f.action == Some(*a)>{a.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                {field("Target (client, member…)", "target", f.target.clone(), "search")}
                {field("From address", "address", f.address.clone(), "search")}
                {field("Since (UTC)", "from", f.from.map(time_format::datetime_local).unwrap_or_default(), "datetime-local")}
                {field("Before (UTC)", "to", f.to.map(time_format::datetime_local).unwrap_or_default(), "datetime-local")}
                <button type="submit" class="primary">"Filter"</button>
                {(!f.is_empty()).then(|| view! { <a class="button" href="/settings/activity">"Clear"</a> })}
                <button type="button" data-testid="export-csv" disabled=move || exporting.get() on:click=export>
                    {move || if exporting.get() { "Exporting…" } else { "Download CSV" }}
                </button>
            </form>
        </section>
    }
}

#[component]
fn Events(page: ActivityPage, query: Query) -> impl IntoView {
    let total = page.total;
    let shown = page.entries.len();
    let older = page.older.map(|cursor| query.href(Some(cursor)));
    let newest = query.before.is_some().then(|| query.href(None));
    view! {
        <section class="panel">
            <p class="muted" data-testid="activity-total">
                {match total { 1 => "1 event".to_owned(), n => format!("{n} events") }}
                {(total as usize > shown).then(|| format!(", {shown} on this page"))}
            </p>
            <table class="table compact" data-testid="activity">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Target"</th><th>"From"</th></tr></thead>
                <tbody>
                    {page.entries.into_iter().map(|e| view! {
                        <tr data-event=e.id.to_string()>
                            <td>{time_format::utc_minutes(e.at)}</td>
                            <td>{e.actor}</td>
                            <td>
                                <code>{e.action.as_str()}</code>
                                {(!e.detail.is_empty()).then(|| view! { <div class="muted detail">{e.detail}</div> })}
                            </td>
                            <td>{e.target}</td>
                            <td>{e.address}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <nav class="pager" aria-label="Pages">
                {newest.map(|href| view! { <a href=href data-testid="newest">"← Newest"</a> })}
                {older.map(|href| view! { <a href=href data-testid="older">"Older →"</a> })}
            </nav>
        </section>
    }
}
