//! `/clients`: the current workspace's clients in a list or as cards, with every client modal.

mod access_badges;
mod card_view;
mod delete_modal;
mod edit_modal;
mod export;
mod import_modal;
mod key_badges;
mod key_steps;
mod keys_panel;
mod list_view;
mod login_activity;
mod new_modal;
mod pagination;
mod presence;
mod preview_box;
mod reveal_modal;
mod scope_editor;
pub mod snippets;
mod topic_rules_editor;

use crate::api::clients::list_clients;
use crate::components::key_policy::{KeyPolicyCtx, use_key_policy};
use crate::components::protected::{Protected, me_resource, use_me_version, when_signed_in};
use crate::components::role_gate::provide_may_manage;
use crate::components::search_box::SearchBox;
use crate::components::view_toggle::ViewToggle;
use crate::model::{
    AccessFilter, ClientId, ClientPage, ClientRow, ExpiryFilter, Me, RevealedKey, SortKey, ViewMode,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Which modal is open. Holding a revealed key here means it lives only as long as its modal.
#[derive(Clone, Debug)]
pub enum Dialog {
    Closed,
    New,
    Edit(ClientId),
    /// A client's login activity, for members who cannot open Edit.
    Logins(ClientId),
    Delete(ClientRow),
    /// Import clients from a file; its result holds the keys it generated.
    Import,
    Reveal {
        revealed: RevealedKey,
        kind: RevealKind,
    },
}

/// How the revealed key came to be, which its warning tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevealKind {
    /// A new client's first key.
    Created,
    /// Regenerated: the client's previous keys stopped working.
    Regenerated,
    /// Rotated: the previous key keeps working until then (Unix ms), when known.
    Rotated { old_until: Option<i64> },
}

/// What the list and card views can ask of the page.
#[derive(Clone, Copy)]
pub struct ClientsCtx {
    pub dialog: RwSignal<Dialog>,
    /// Bumped after every change: the list refetches without a page reload.
    pub version: RwSignal<u32>,
    /// The page's key policy, read again with the list: the header's count of expiring keys.
    policy: Option<KeyPolicyCtx>,
}

impl ClientsCtx {
    pub fn refresh(&self) {
        self.version.update(|v| *v += 1);
        if let Some(policy) = self.policy {
            policy.refetch();
        }
    }
}

/// The page's state and data live here, outside [`Protected`]: server rendering may run the
/// protected view more than once, and a resource created in a discarded run would be fetched,
/// serialized and then missing from hydration.
#[component]
pub fn ClientsPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.get();
        let sort = SortKey::parse(&q.get("sort").unwrap_or_default());
        let descending = match q.get("dir").as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            _ => sort == SortKey::Created || sort == SortKey::LastSeen,
        };
        PageQuery {
            search: q.get("q").unwrap_or_default(),
            access: AccessFilter::parse(&q.get("access").unwrap_or_default()),
            expiry: ExpiryFilter::parse(&q.get("expiry").unwrap_or_default()),
            sort,
            descending,
            page: q
                .get("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1),
        }
    });
    let me = me_resource();
    let ctx = ClientsCtx {
        dialog: RwSignal::new(Dialog::Closed),
        version: RwSignal::new(0),
        policy: use_key_policy(),
    };
    provide_context(ctx);
    let me_version = use_me_version();
    let data = Resource::new(
        move || (query.get(), ctx.version.get(), me_version.get()),
        move |(q, _, _)| {
            when_signed_in(me, move || {
                list_clients(
                    q.search,
                    q.access.as_str().to_owned(),
                    q.expiry.as_str().to_owned(),
                    q.sort.as_str().to_owned(),
                    q.descending,
                    q.page,
                )
            })
        },
    );
    view! {
        <Title text="Clients · Keygate"/>
        <Protected me children=Box::new(move |me| view! { <Clients me query data/> }.into_any())/>
    }
}

/// The URL query of the page: `?q=&access=&expiry=&sort=&dir=&page=`.
#[derive(Clone, Debug, PartialEq)]
pub struct PageQuery {
    pub search: String,
    pub access: AccessFilter,
    pub expiry: ExpiryFilter,
    pub sort: SortKey,
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
        if self.access != AccessFilter::All {
            parts.push(format!("access={}", self.access.as_str()));
        }
        if self.expiry != ExpiryFilter::All {
            parts.push(format!("expiry={}", self.expiry.as_str()));
        }
        if self.sort != SortKey::default() {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        let default_descending = self.sort == SortKey::Created || self.sort == SortKey::LastSeen;
        if self.descending != default_descending {
            parts.push(format!(
                "dir={}",
                if self.descending { "desc" } else { "asc" }
            ));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        if parts.is_empty() {
            "/clients".to_owned()
        } else {
            format!("/clients?{}", parts.join("&"))
        }
    }

    /// The same query sorted by `key`: the first click sorts the natural way, the next flips it.
    pub fn sorted_by(&self, key: SortKey) -> Self {
        let natural_descending = key == SortKey::Created || key == SortKey::LastSeen;
        let descending = if self.sort == key {
            !self.descending
        } else {
            natural_descending
        };
        Self {
            sort: key,
            descending,
            page: 1,
            ..self.clone()
        }
    }
}

#[component]
fn Clients(
    me: Me,
    query: Memo<PageQuery>,
    data: Resource<Result<Option<ClientPage>, crate::error::AppError>>,
) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    let manage = provide_may_manage(&me, crate::model::Capability::ManageClients);
    let view_mode = RwSignal::new(me.view);
    let workspace = me.current_workspace().cloned();
    let namespace = workspace
        .as_ref()
        .map(|w| w.namespace.to_string())
        .unwrap_or_default();
    let workspace_name = workspace.map(|w| w.name).unwrap_or_default();
    let export_namespace = namespace.clone();

    view! {
        <div class="page-head">
            <div>
                <h1>"Clients"</h1>
                <p class="muted">"Workspace " <strong>{workspace_name}</strong> " · namespace " <code data-testid="namespace">{namespace}</code></p>
            </div>
            <div class="page-actions">
                <export::ExportButtons namespace=export_namespace/>
                {manage.then(|| view! {
                    <button type="button" class="small" data-testid="import-clients" title="Create clients from a Keygate export, a Mosquitto or an EMQX file"
                        on:click=move |_| ctx.dialog.set(Dialog::Import)>"Import"</button>
                    <button type="button" class="primary" data-testid="new-client" on:click=move |_| ctx.dialog.set(Dialog::New)>"+ New"</button>
                })}
            </div>
            {(!manage).then(|| view! { <span class="badge" data-testid="read-only">"Read-only: your role is Viewer"</span> })}
        </div>
        <Toolbar query view_mode/>
        <Transition fallback=|| view! { <div class="loading">"Loading clients…"</div> }>
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
            <SearchBox action="/clients" placeholder="Search by Client ID or name" label="Search clients"
                initial=query.get_untracked().search max_len=crate::model::ClientQuery::MAX_SEARCH href_for>
                {move || {
                    let access = query.get().access;
                    (access != AccessFilter::All).then(|| view! { <input type="hidden" name="access" value=access.as_str()/> })
                }}
                {move || {
                    let expiry = query.get().expiry;
                    (expiry != ExpiryFilter::All).then(|| view! { <input type="hidden" name="expiry" value=expiry.as_str()/> })
                }}
            </SearchBox>
            <AccessFilterLinks query/>
            <ExpiryFilterLinks query/>
            <ViewToggle view_mode/>
        </div>
    }
}

/// All / Restricted / Unrestricted: plain links, so the filter works before the page is
/// interactive.
#[component]
fn AccessFilterLinks(query: Memo<PageQuery>) -> impl IntoView {
    let link = move |filter: AccessFilter| {
        let href = move || {
            PageQuery {
                access: filter,
                page: 1,
                ..query.get()
            }
            .href()
        };
        let current = move || query.get().access == filter;
        view! {
            <a href=href class="button" class:active=current aria-current=move || current().then_some("page")
                data-testid=format!("access-{}", filter.as_str())>{filter.label()}</a>
        }
    };
    view! {
        <nav class="view-toggle access-filter" aria-label="Filter by access">
            {AccessFilter::ALL.into_iter().map(link).collect_view()}
        </nav>
    }
}

/// Any expiry / Expiring in 7 days / Expired: plain links, like the access filter.
#[component]
fn ExpiryFilterLinks(query: Memo<PageQuery>) -> impl IntoView {
    let link = move |filter: ExpiryFilter| {
        let href = move || {
            PageQuery {
                expiry: filter,
                page: 1,
                ..query.get()
            }
            .href()
        };
        let current = move || query.get().expiry == filter;
        let name = if filter == ExpiryFilter::All {
            "any"
        } else {
            filter.as_str()
        };
        view! {
            <a href=href class="button" class:active=current aria-current=move || current().then_some("page")
                data-testid=format!("expiry-{name}")>{filter.label()}</a>
        }
    };
    view! {
        <nav class="view-toggle access-filter" aria-label="Filter by key expiry">
            {ExpiryFilter::ALL.into_iter().map(link).collect_view()}
        </nav>
    }
}

#[component]
fn Results(
    page: ClientPage,
    query: Memo<PageQuery>,
    view_mode: RwSignal<ViewMode>,
) -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    if page.workspace_total == 0 {
        return view! {
            <div class="empty" data-testid="empty-state">
                <div class="empty-icon">"🔑"</div>
                <h2>"No clients yet"</h2>
                <p>"A client is the credential a device uses to connect to the MQTT broker: a Client ID and a key."</p>
                {if crate::components::role_gate::may_manage() {
                    view! {
                        <p>"Click " <strong>"+ New"</strong> " to create the first one. You will see its key once, with ready-to-paste connection snippets."</p>
                        <button type="button" class="primary" on:click=move |_| ctx.dialog.set(Dialog::New)>"+ New client"</button>
                    }.into_any()
                } else {
                    view! { <p>"An owner or admin of the organization creates them."</p> }.into_any()
                }}
            </div>
        }
        .into_any();
    }
    if page.total == 0 {
        let q = query.get_untracked();
        let kind = match q.access {
            AccessFilter::All => "",
            AccessFilter::Restricted => "restricted ",
            AccessFilter::Unrestricted => "unrestricted ",
        };
        let kind = match q.expiry {
            ExpiryFilter::All => kind.to_owned(),
            ExpiryFilter::Expiring => format!("{kind}expiring "),
            ExpiryFilter::Expired => format!("{kind}expired "),
        };
        let message = if q.search.is_empty() {
            view! { <p>"No " {kind} "clients in this workspace."</p> }.into_any()
        } else {
            view! { <p>"No " {kind} "client matches " <strong>"“"{q.search.clone()}"”"</strong> "."</p> }.into_any()
        };
        return view! {
            <div class="empty small" data-testid="no-match">
                {message}
                <a href="/clients">"Show all clients"</a>
            </div>
        }
        .into_any();
    }
    let rows = page.rows.clone();
    let summary = {
        let first = (page.page - 1) * page.per_page + 1;
        let last = first + page.rows.len() as u32 - 1;
        format!("{first}–{last} of {} clients", page.total)
    };
    view! {
        <p class="muted summary" data-testid="summary">{summary}</p>
        {move || match view_mode.get() {
            ViewMode::List => view! { <list_view::ListView rows=rows.clone() query now=page.now/> }.into_any(),
            ViewMode::Cards => view! { <card_view::CardView rows=rows.clone() now=page.now/> }.into_any(),
        }}
        <pagination::Pagination page=page.clone() query/>
    }
    .into_any()
}

/// The open modal. Each modal is a WASM chunk of its own, fetched the first time it opens (most
/// visits open none); `Closed` renders nothing, on the server and in the browser alike.
#[component]
fn Dialogs() -> impl IntoView {
    let ctx = expect_context::<ClientsCtx>();
    move || {
        let dialog = ctx.dialog.get();
        if matches!(dialog, Dialog::Closed) {
            return ().into_any();
        }
        Suspend::new(async move {
            match dialog {
                Dialog::Closed => ().into_any(),
                Dialog::New => new_client_modal().await,
                Dialog::Edit(client_id) => edit_client_modal(client_id).await,
                Dialog::Logins(client_id) => login_activity_modal(client_id).await,
                Dialog::Delete(row) => delete_client_modal(row).await,
                Dialog::Import => import_clients_modal().await,
                Dialog::Reveal { revealed, kind } => reveal_modal(revealed, kind).await,
            }
        })
        .into_any()
    }
}

#[lazy]
fn new_client_modal() -> AnyView {
    view! { <new_modal::NewClientModal/> }.into_any()
}

#[lazy]
fn edit_client_modal(client_id: ClientId) -> AnyView {
    view! { <edit_modal::EditClientModal client_id/> }.into_any()
}

#[lazy]
fn login_activity_modal(client_id: ClientId) -> AnyView {
    view! { <login_activity::LoginActivityModal client_id/> }.into_any()
}

#[lazy]
fn delete_client_modal(row: ClientRow) -> AnyView {
    view! { <delete_modal::DeleteClientModal row/> }.into_any()
}

#[lazy]
fn import_clients_modal() -> AnyView {
    view! { <import_modal::ImportClientsModal/> }.into_any()
}

#[lazy]
fn reveal_modal(revealed: RevealedKey, kind: RevealKind) -> AnyView {
    view! { <reveal_modal::RevealModal revealed kind/> }.into_any()
}
