//! `/devices`: the current workspace's devices in a list or as cards, with the New, bulk paste,
//! Edit and Delete modals. Search, sort and page live in the URL, so they work before the page is
//! interactive, like the Clients page.

mod bulk_modal;
mod card_view;
mod delete_modal;
mod edit_modal;
mod list_view;
mod new_modal;
mod tags;

use crate::api::devices::list_devices;
use crate::components::pagination::PageLinks;
use crate::components::protected::{Protected, me_resource, use_me_version, when_signed_in};
use crate::components::search_box::SearchBox;
use crate::components::view_toggle::ViewToggle;
use crate::model::{DevicePage, DeviceRow, DeviceSortKey, Me, ViewMode, time_format};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Which modal is open.
#[derive(Clone, Debug)]
pub enum Dialog {
    Closed,
    New,
    Bulk,
    Edit(DeviceRow),
    Delete(DeviceRow),
}

/// What the list and card views can ask of the page.
#[derive(Clone, Copy)]
pub struct DevicesCtx {
    pub dialog: RwSignal<Dialog>,
    /// Bumped after every change: the list refetches without a page reload.
    pub version: RwSignal<u32>,
}

impl DevicesCtx {
    pub fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }
}

/// The page's state and data live here, outside [`Protected`] (see the Clients page: a resource
/// created in a discarded server-render run would be missing at hydration).
#[component]
pub fn DevicesPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.get();
        let sort = DeviceSortKey::parse(&q.get("sort").unwrap_or_default());
        let descending = match q.get("dir").as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            _ => sort.descending_by_default(),
        };
        PageQuery {
            search: q.get("q").unwrap_or_default(),
            sort,
            descending,
            page: q
                .get("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1),
        }
    });
    let ctx = DevicesCtx {
        dialog: RwSignal::new(Dialog::Closed),
        version: RwSignal::new(0),
    };
    provide_context(ctx);
    let me = me_resource();
    let me_version = use_me_version();
    let data = Resource::new(
        move || (query.get(), ctx.version.get(), me_version.get()),
        move |(q, _, _)| {
            when_signed_in(me, move || {
                list_devices(q.search, q.sort.as_str().to_owned(), q.descending, q.page)
            })
        },
    );
    view! {
        <Title text="Devices · Keygate"/>
        <Protected me children=Box::new(move |me| view! { <Devices me query data/> }.into_any())/>
    }
}

/// The URL query of the page: `?q=&sort=&dir=&page=`.
#[derive(Clone, Debug, PartialEq)]
pub struct PageQuery {
    pub search: String,
    pub sort: DeviceSortKey,
    pub descending: bool,
    pub page: u32,
}

impl PageQuery {
    pub fn href(&self) -> String {
        let mut parts = Vec::new();
        if !self.search.is_empty() {
            parts.push(format!(
                "q={}",
                crate::pages::query_string::encode(&self.search)
            ));
        }
        if self.sort != DeviceSortKey::default() {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.descending != self.sort.descending_by_default() {
            parts.push(format!(
                "dir={}",
                if self.descending { "desc" } else { "asc" }
            ));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if parts.is_empty() {
            "/devices".to_owned()
        } else {
            format!("/devices?{}", parts.join("&"))
        }
    }

    /// The same query sorted by `key`: the first click sorts the natural way, the next flips it.
    pub fn sorted_by(&self, key: DeviceSortKey) -> Self {
        let descending = if self.sort == key {
            !self.descending
        } else {
            key.descending_by_default()
        };
        Self {
            sort: key,
            descending,
            page: 1,
            ..self.clone()
        }
    }
}

/// "never", or when the device last connected.
pub fn last_seen(row: &DeviceRow) -> String {
    row.last_seen_at
        .map(time_format::utc_minutes)
        .unwrap_or_else(|| "never".into())
}

#[component]
fn Devices(
    me: Me,
    query: Memo<PageQuery>,
    data: Resource<Result<Option<DevicePage>, crate::error::AppError>>,
) -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    let manage = crate::components::role_gate::provide_may_manage(
        &me,
        crate::model::Capability::ManageClients,
    );
    let view_mode = RwSignal::new(me.view);
    let workspace = me.current_workspace().cloned();
    let namespace = workspace
        .as_ref()
        .map(|w| w.namespace.to_string())
        .unwrap_or_default();
    let workspace_name = workspace.map(|w| w.name).unwrap_or_default();

    view! {
        <div class="page-head">
            <div>
                <h1>"Devices"</h1>
                <p class="muted">"Workspace " <strong>{workspace_name}</strong> " · namespace " <code data-testid="namespace">{namespace}</code></p>
            </div>
            {manage.then(|| view! {
                <div class="head-actions">
                    <button type="button" data-testid="bulk-devices" on:click=move |_| ctx.dialog.set(Dialog::Bulk)>"Paste many"</button>
                    <button type="button" class="primary" data-testid="new-device" on:click=move |_| ctx.dialog.set(Dialog::New)>"+ New"</button>
                </div>
            })}
            {(!manage).then(|| view! { <span class="badge" data-testid="read-only">"Read-only: your role is Viewer"</span> })}
        </div>
        <Toolbar query view_mode/>
        <Transition fallback=|| view! { <div class="loading">"Loading devices…"</div> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(page)) => view! { <Results page query view_mode/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <div class="banner error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
        <Dialogs/>
    }
}

#[component]
fn Toolbar(query: Memo<PageQuery>, view_mode: RwSignal<ViewMode>) -> impl IntoView {
    let href_for = move |search: String| {
        PageQuery {
            search,
            page: 1,
            ..query.get_untracked()
        }
        .href()
    };
    view! {
        <div class="toolbar">
            <SearchBox action="/devices" placeholder="Search by device ID, name or tag" label="Search devices"
                initial=query.get_untracked().search max_len=crate::model::DeviceQuery::MAX_SEARCH href_for/>
            <ViewToggle view_mode/>
        </div>
    }
}

#[component]
fn Results(
    page: DevicePage,
    query: Memo<PageQuery>,
    view_mode: RwSignal<ViewMode>,
) -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    if page.workspace_total == 0 {
        return view! {
            <div class="empty" data-testid="empty-state">
                <div class="empty-icon">"📟"</div>
                <h2>"No devices yet — they appear when a device connects with form 3, or add them here"</h2>
                <p>"A device connecting with a Client ID as its username and its device id as the MQTT client identifier is added by itself. A restricted client selects devices by id or by key=value tag."</p>
                {crate::components::role_gate::may_manage().then(|| view! {
                    <p>
                        <button type="button" class="primary" on:click=move |_| ctx.dialog.set(Dialog::New)>"+ New device"</button>
                        " "
                        <button type="button" on:click=move |_| ctx.dialog.set(Dialog::Bulk)>"Paste many"</button>
                    </p>
                })}
            </div>
        }
        .into_any();
    }
    if page.total == 0 {
        return view! {
            <div class="empty small" data-testid="no-match">
                <p>"No device matches " <strong>"“"{query.get_untracked().search}"”"</strong> "."</p>
                <a href="/devices">"Clear the search"</a>
            </div>
        }
        .into_any();
    }
    let rows = page.rows.clone();
    let summary = if page.rows.is_empty() {
        format!("No devices on this page; {} in all", page.total)
    } else {
        let first = (page.page - 1) * page.per_page + 1;
        let last = first + page.rows.len() as u32 - 1;
        format!("{first}–{last} of {} devices", page.total)
    };
    let href = move |n: u32| {
        PageQuery {
            page: n,
            ..query.get_untracked()
        }
        .href()
    };
    view! {
        <p class="muted summary" data-testid="summary">{summary}</p>
        {move || match view_mode.get() {
            ViewMode::List => view! { <list_view::ListView rows=rows.clone() query/> }.into_any(),
            ViewMode::Cards => view! { <card_view::CardView rows=rows.clone()/> }.into_any(),
        }}
        <PageLinks current=page.page count=page.page_count() href/>
    }
    .into_any()
}

/// The open modal, each a WASM chunk of its own (see the Clients page).
#[component]
fn Dialogs() -> impl IntoView {
    let ctx = expect_context::<DevicesCtx>();
    move || {
        let dialog = ctx.dialog.get();
        if matches!(dialog, Dialog::Closed) {
            return ().into_any();
        }
        Suspend::new(async move {
            match dialog {
                Dialog::Closed => ().into_any(),
                Dialog::New => new_device_modal().await,
                Dialog::Bulk => bulk_devices_modal().await,
                Dialog::Edit(row) => edit_device_modal(row).await,
                Dialog::Delete(row) => delete_device_modal(row).await,
            }
        })
        .into_any()
    }
}

#[lazy]
fn new_device_modal() -> AnyView {
    view! { <new_modal::NewDeviceModal/> }.into_any()
}

#[lazy]
fn bulk_devices_modal() -> AnyView {
    view! { <bulk_modal::BulkDevicesModal/> }.into_any()
}

#[lazy]
fn edit_device_modal(row: DeviceRow) -> AnyView {
    view! { <edit_modal::EditDeviceModal row/> }.into_any()
}

#[lazy]
fn delete_device_modal(row: DeviceRow) -> AnyView {
    view! { <delete_modal::DeleteDeviceModal row/> }.into_any()
}
