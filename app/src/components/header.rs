//! The top bar of every signed-in page: navigation, the organization and workspace switchers,
//! the keys about to expire, the caller's role, and sign-out.

use crate::api::account::{SignOut, switch_organization};
use crate::api::workspaces::switch_workspace;
use crate::components::key_policy::use_key_policy;
use crate::components::protected::use_me_version;
use crate::components::toast::use_toaster;
use crate::model::Me;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// The top bar: product name, navigation, workspace switcher, account.
#[component]
pub fn Header(me: Me) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let sign_out = ServerAction::<SignOut>::new();
    let location = use_location();
    let current = me.current_workspace_id.clone();
    let on_switch = move |ev| {
        let id = event_target_value(&ev);
        leptos::task::spawn_local(async move {
            match switch_workspace(id).await {
                Ok(()) => {
                    version.update(|v| *v += 1);
                    toaster.success("Switched workspace");
                }
                Err(e) => toaster.error(e.to_string()),
            }
        });
    };
    let on_organization = move |ev| {
        let id = event_target_value(&ev);
        leptos::task::spawn_local(async move {
            match switch_organization(id).await {
                Ok(()) => {
                    version.update(|v| *v += 1);
                    toaster.success("Switched organization");
                }
                Err(e) => toaster.error(e.to_string()),
            }
        });
    };
    let current_organization = me.organization_id.clone();
    let organizations = (me.organizations.len() > 1).then(|| {
        view! {
            <label class="workspace-switcher">
                <span class="sr-only">"Organization"</span>
                <select data-testid="organization-switcher" aria-label="Organization" on:change=on_organization>
                    {me.organizations.iter().map(|o| {
                        let selected = o.id == current_organization;
                        view! { <option value=o.id.clone() selected=selected>{format!("{} ({})", o.name, o.role.label())}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    });
    let is = move |path: &'static str| move || location.pathname.get().starts_with(path);
    view! {
        <header class="topbar">
            <a class="brand" href="/clients"><span class="logo">"⬢"</span>" Keygate"</a>
            <nav>
                <A href="/clients" attr:class=move || if is("/clients")() { "active" } else { "" }>"Clients"</A>
                <A href="/devices" attr:class=move || if is("/devices")() { "active" } else { "" }>"Devices"</A>
                <A href="/settings" attr:class=move || if is("/settings")() { "active" } else { "" }>"Settings"</A>
            </nav>
            {organizations}
            <label class="workspace-switcher">
                <span class="sr-only">"Workspace"</span>
                <select data-testid="workspace-switcher" aria-label="Workspace" on:change=on_switch>
                    {me.workspaces.iter().map(|w| {
                        let selected = w.id == current;
                        view! { <option value=w.id.clone() selected=selected>{format!("{} ({})", w.name, w.namespace)}</option> }
                    }).collect_view()}
                </select>
            </label>
            <div class="account">
                <ExpiringKeys/>
                <span class="org" title="Organization">{me.organization_name.clone()}</span>
                <span class="badge" data-testid="role" title="Your role in this organization">{me.role.label()}</span>
                <a class="email" href="/settings/account" title="Your account">{me.email.clone()}</a>
                <ActionForm action=sign_out attr:class="inline">
                    <button type="submit" class="link" data-testid="sign-out">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
    }
}

/// "2 keys expiring": the organization's keys that expire within 7 days, a link to the Clients
/// page filtered to them; nothing when there are none. Read with the page (one request), and again
/// after a change on the Clients page.
#[component]
fn ExpiringKeys() -> impl IntoView {
    let policy = use_key_policy()?;
    let resource = policy.resource();
    Some(view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let count = resource.await.map_or(0, |p| p.expiring);
                (count > 0).then(|| {
                    let keys = if count == 1 { "key" } else { "keys" };
                    let title = format!("{count} {keys} of this organization expire within 7 days: show the clients");
                    view! {
                        <a class="expiring-keys" href="/clients?expiry=expiring" data-testid="expiring-keys" title=title>
                            {format!("{count} {keys} expiring")}
                        </a>
                    }
                })
            })}
        </Transition>
    })
}
