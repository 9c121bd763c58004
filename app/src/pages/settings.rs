//! `/settings`: the organization's id, its workspaces, how long new keys work, and the way to the
//! audit log. The other tabs are `/settings/members`, `/settings/api-tokens`, `/settings/events`, `/settings/account` and `/settings/brokers`.

use crate::api::keys::SetDefaultKeyExpiry;
use crate::api::workspaces::{create_workspace, rename_workspace, switch_workspace};
use crate::components::copy_button::CopyField;
use crate::components::expiry_field::{ExpiryDraft, ExpiryField};
use crate::components::field::TextField;
use crate::components::key_policy::use_key_policy;
use crate::components::protected::{Protected, me_resource, use_me_version};
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{Capability, FieldError, Me, Namespace, WorkspaceInfo, WorkspaceName};
use leptos::prelude::*;
use leptos_meta::Title;

/// Data is fetched here, outside [`Protected`], for the same reason as on the Clients page: a
/// resource created in a discarded server-render run would break hydration.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let me = me_resource();
    view! {
        <Title text="Settings · Keygate"/>
        <Protected me children=Box::new(move |me| view! { <Settings me/> }.into_any())/>
    }
}

#[component]
fn Settings(me: Me) -> impl IntoView {
    let org_id = me.organization_id.clone();
    view! {
        <h1>"Settings"</h1>
        <SettingsNav me=me.clone()/>
        <section class="panel">
            <h2>"Organization"</h2>
            <p class="muted">{me.organization_name.clone()}</p>
            <CopyField label="Organization ID" value=Signal::stored(org_id) testid="organization-id"/>
            <p class="hint">"Devices that connect with the username form " <code>"CLIENT_ID@ORGANIZATION_ID"</code> " use this id."</p>
        </section>
        <Workspaces me=me.clone()/>
        <KeyDefaults manage=me.can(Capability::ManageClients)/>
        <section class="panel">
            <h2>"Activity"</h2>
            <p>"Every change, sign-in and refused MQTT login, with filters and a CSV export: " <a href="/settings/activity">"Settings → Activity"</a>"."</p>
        </section>
    }
}

/// The tabs of Settings: plain links, so they work before the page is interactive.
/// Brokers is the operators' view of every broker; members who do not operate the install see
/// their organization's revocations there.
#[component]
pub fn SettingsNav(me: Me) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let current =
        move |path: &'static str| move || (location.pathname.get() == path).then_some("page");
    view! {
        <nav class="settings-tabs" aria-label="Settings">
            <a href="/settings" aria-current=current("/settings")>"Organization"</a>
            <a href="/settings/members" aria-current=current("/settings/members") data-testid="members-tab">"Members"</a>
            <a href="/settings/activity" aria-current=current("/settings/activity") data-testid="activity-tab">"Activity"</a>
            <a href="/settings/api-tokens" aria-current=current("/settings/api-tokens") data-testid="api-tokens-tab">"API tokens"</a>
            <a href="/settings/events" aria-current=current("/settings/events") data-testid="events-tab">"Events"</a>
            <a href="/settings/account" aria-current=current("/settings/account") data-testid="account-tab">"Account"</a>
            <a href="/settings/brokers" aria-current=current("/settings/brokers") data-testid="brokers-tab">
                {if me.operator { "Brokers" } else { "Revocations" }}
            </a>
        </nav>
    }
}

/// How long new keys work unless their form says otherwise: never, or a number of days. Owners
/// and admins change it (a plain form, so it works before the page is interactive); viewers read it.
#[component]
fn KeyDefaults(manage: bool) -> impl IntoView {
    let policy = use_key_policy();
    let resource = policy.map(|p| p.resource());
    view! {
        <section class="panel" data-testid="key-defaults">
            <h2>"Keys"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let loaded = match resource {
                        Some(resource) => resource.await,
                        None => None,
                    };
                    match loaded {
                        Some(p) if manage => view! { <DefaultExpiryForm default_days=p.default_days/> }.into_any(),
                        Some(p) => view! {
                            <p data-testid="default-expiry">{default_in_words(p.default_days)}</p>
                            <p class="hint">"Owners and admins choose how long new keys work."</p>
                        }.into_any(),
                        None => view! { <p class="muted">"The key policy could not be read."</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// "New keys expire after 90 days." or "New keys never expire."
fn default_in_words(default_days: Option<u32>) -> String {
    match default_days {
        None => "New keys never expire.".to_owned(),
        Some(1) => "New keys expire after 1 day.".to_owned(),
        Some(days) => format!("New keys expire after {days} days."),
    }
}

#[component]
fn DefaultExpiryForm(default_days: Option<u32>) -> impl IntoView {
    let toaster = use_toaster();
    let policy = use_key_policy();
    let save = ServerAction::<SetDefaultKeyExpiry>::new();
    let draft = ExpiryDraft::preselect(Some(default_days));
    let error = Signal::derive(move || {
        save.value().with(|result| {
            result
                .as_ref()
                .and_then(|r| r.as_ref().err())
                .map(|e| e.to_string())
        })
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            toaster.success(default_in_words(draft.text_untracked().parse().ok()));
            if let Some(policy) = policy {
                policy.refetch();
            }
        }
    });
    view! {
        <ActionForm action=save attr:class="inline-form" attr:data-testid="default-expiry-form">
            <ExpiryField draft label="Default key expiry for new keys" name="expiry" default_days=Some(default_days) error
                hint="New clients, regenerated and rotated keys start with this unless their form says otherwise. Keys that exist keep their expiry."/>
            <button type="submit" class="primary" data-testid="save-default-expiry" disabled=move || save.pending().get()>"Save default"</button>
        </ActionForm>
    }
}

#[component]
fn Workspaces(me: Me) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let name = RwSignal::new(String::new());
    let namespace = RwSignal::new(String::new());
    let server_error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    // A server verdict is about what was sent: editing either field clears it.
    Effect::new(move |previous: Option<()>| {
        name.track();
        namespace.track();
        if previous.is_some() {
            server_error.set(None);
        }
    });
    let name_error = Signal::derive(move || {
        server_error
            .get()
            .and_then(|e| e.for_field(FieldError::WorkspaceName))
    });
    let namespace_error = Signal::derive(move || {
        let typed = namespace.get();
        if let Some(e) = Some(typed.trim())
            .filter(|t| !t.is_empty())
            .and_then(|t| Namespace::parse(t).err())
        {
            return Some(e.to_string());
        }
        server_error
            .get()
            .and_then(|e| e.for_field(FieldError::Namespace))
    });
    let on_create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Err(e) = WorkspaceName::parse(&name.get_untracked()) {
            server_error.set(Some(e.into()));
            return;
        }
        // Read before spawning: the task first runs after this handler returns.
        let request = create_workspace(name.get_untracked(), namespace.get_untracked());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(w) => {
                    toaster.success(format!(
                        "Workspace {} created with namespace {}",
                        w.name, w.namespace
                    ));
                    name.set(String::new());
                    namespace.set(String::new());
                    server_error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e @ AppError::Invalid { .. }) => server_error.set(Some(e)),
                Err(e) => toaster.error(e.to_string()),
            }
            busy.set(false);
        });
    };
    let current = me.current_workspace_id.clone();
    let manage = me.can(Capability::ManageWorkspaces);
    view! {
        <section class="panel">
            <h2>"Workspaces"</h2>
            <p class="hint">"Each workspace has its own clients and its own namespace, the root of its topics (" <code>"NAMESPACE/#"</code> "). A namespace never changes once created, because devices have it in their configuration."</p>
            <table class="table" data-testid="workspaces">
                <thead><tr><th>"Name"</th><th>"Namespace"</th><th>"Clients"</th><th></th></tr></thead>
                <tbody>
                    {me.workspaces.iter().map(|w| view! { <WorkspaceRow workspace=w.clone() current=w.id == current manage/> }).collect_view()}
                </tbody>
            </table>
            <Show when=move || manage>
            <form class="inline-form" on:submit=on_create data-testid="new-workspace">
                <h3>"New workspace"</h3>
                <TextField label="Name" name="workspace_name" value=name error=name_error hint="e.g. dev, staging, prod"/>
                <TextField label="Namespace (optional)" name="namespace" value=namespace error=namespace_error monospace=true
                    hint="Lowercase letters, digits and '-'. Left empty, it is derived from the organization and workspace names."/>
                <button type="submit" class="primary" disabled=move || busy.get()>"Create workspace"</button>
            </form>
            </Show>
        </section>
    }
}

#[component]
fn WorkspaceRow(workspace: WorkspaceInfo, current: bool, manage: bool) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let editing = RwSignal::new(false);
    let name = RwSignal::new(workspace.name.clone());
    let error = RwSignal::new(None::<String>);
    let id = StoredValue::new(workspace.id.clone());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Err(e) = WorkspaceName::parse(&name.get_untracked()) {
            error.set(Some(e.to_string()));
            return;
        }
        let request = rename_workspace(id.get_value(), name.get_untracked());
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(()) => {
                    toaster.success("Workspace renamed");
                    editing.set(false);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let switch = move |_| {
        let request = switch_workspace(id.get_value());
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(()) => {
                    toaster.success("Switched workspace");
                    version.update(|v| *v += 1);
                }
                Err(e) => toaster.error(e.to_string()),
            }
        });
    };
    let label = workspace.name.clone();
    view! {
        <tr data-workspace=workspace.namespace.to_string()>
            <td>
                <Show when=move || editing.get() fallback=move || view! {
                    <span>{label.clone()}</span>
                    {current.then(|| view! { <span class="badge">"current"</span> })}
                }>
                    <form class="rename" on:submit=save>
                        <input aria-label="Workspace name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                        <button type="submit" class="small primary">"Save"</button>
                        <button type="button" class="small" on:click=move |_| editing.set(false)>"Cancel"</button>
                        <p class="field-error" role="alert">{move || error.get().unwrap_or_default()}</p>
                    </form>
                </Show>
            </td>
            <td><code>{workspace.namespace.to_string()}</code></td>
            <td>{workspace.client_count}</td>
            <td class="actions">
                {manage.then(|| view! { <button type="button" class="small" on:click=move |_| editing.set(true)>"Rename"</button> })}
                {(!current).then(|| view! { <button type="button" class="small" on:click=switch>"Switch to"</button> })}
            </td>
        </tr>
    }
}
