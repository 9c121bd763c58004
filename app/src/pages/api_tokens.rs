//! `/settings/api-tokens`: the organization's API tokens. Owners and admins make one (name, scope,
//! one workspace or all, expiry), see it once with a copy button, and revoke tokens after a
//! confirmation; viewers read the list.

use crate::api::api_tokens::{create_api_token, list_api_tokens, revoke_api_token};
use crate::components::browser::now_millis;
use crate::components::copy_button::CopyField;
use crate::components::field::TextField;
use crate::components::protected::{Protected, me_resource, use_me_version, when_signed_in};
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{
    ApiTokenRow, Capability, FieldError, Me, TokenLifetime, TokenName, TokenScope, time_format,
};
use crate::pages::settings::SettingsNav;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let me = me_resource();
    let version = use_me_version();
    let tokens = Resource::new(
        move || version.get(),
        move |_| when_signed_in(me, list_api_tokens),
    );
    // Held above the list a creation refetches, so the token stays shown while the list renders anew.
    let issued = RwSignal::new(None::<(String, String)>);
    view! {
        <Title text="API tokens · Settings · Keygate"/>
        <Protected me children=Box::new(move |me| view! {
            <h1>"Settings"</h1>
            <SettingsNav me=me.clone()/>
            {me.can(Capability::ManageClients).then(|| view! { <CreateForm me=me.clone() issued/> })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let me = me.clone();
                    Suspend::new(async move {
                        match tokens.await {
                            Ok(Some(rows)) => view! { <TokenList me rows/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(e) => view! { <div class="banner error">{e.to_string()}</div> }.into_any(),
                        }
                    })
                }}
            </Transition>
        }.into_any())/>
    }
}

#[component]
fn CreateForm(me: Me, issued: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let version = use_me_version();
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new(TokenScope::Read);
    let workspace = RwSignal::new(String::new());
    let lifetime = RwSignal::new(TokenLifetime::Days90);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let name_error =
        Signal::derive(move || error.get().and_then(|e| e.for_field(FieldError::Name)));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Err(e) = TokenName::parse(&name.get_untracked()) {
            error.set(Some(e.into()));
            return;
        }
        let request = create_api_token(
            name.get_untracked(),
            scope.get_untracked().as_str().to_owned(),
            workspace.get_untracked(),
            lifetime.get_untracked().as_str().to_owned(),
        );
        busy.set(true);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(made) => {
                    issued.set(Some((made.row.name, made.token)));
                    name.set(String::new());
                    error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="panel">
            <h2>"New API token"</h2>
            <p class="hint">"Scripts and CI send it as " <code>"Authorization: Bearer kgt_…"</code> ". Every change made with it is in the activity log under the token's name."</p>
            <form class="inline-form" on:submit=on_submit data-testid="new-api-token">
                <TextField label="Name" name="token_name" value=name error=name_error/>
                <div class="field">
                    <label for="field-token_scope">"Scope"</label>
                    <select id="field-token_scope" name="token_scope" data-testid="token-scope" on:change=move |ev| {
                        if let Ok(s) = TokenScope::parse(&event_target_value(&ev)) { scope.set(s) }
                    }>
                        {TokenScope::ALL.iter().map(|s| view! {
                            <option value=s.as_str() selected=*s == TokenScope::Read>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="field-token_workspace">"Workspace"</label>
                    <select id="field-token_workspace" name="token_workspace" data-testid="token-workspace" on:change=move |ev| workspace.set(event_target_value(&ev))>
                        <option value="" selected=true>"All workspaces"</option>
                        {me.workspaces.iter().map(|w| view! { <option value=w.id.clone()>{w.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="field-token_lifetime">"Expires"</label>
                    <select id="field-token_lifetime" name="token_lifetime" data-testid="token-lifetime" on:change=move |ev| {
                        if let Ok(l) = TokenLifetime::parse(&event_target_value(&ev)) { lifetime.set(l) }
                    }>
                        {TokenLifetime::ALL.iter().map(|l| view! {
                            <option value=l.as_str() selected=*l == TokenLifetime::Days90>{l.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=move || busy.get()>"Create token"</button>
                {move || error.get().filter(|e| e.for_field(FieldError::Name).is_none()).map(|e| view! {
                    <div class="banner error" role="alert">{e.to_string()}</div>
                })}
            </form>
            {move || issued.get().map(|(name, token)| view! {
                <div class="banner success" data-testid="api-token-revealed">
                    <p>"The token " <strong>{name}</strong> " is shown only now: copy it into your script's secrets. Keygate keeps only its hash and cannot show it again."</p>
                    <CopyField label="API token" value=Signal::stored(token) testid="api-token" secret=true/>
                </div>
            })}
        </section>
    }
}

#[component]
fn TokenList(me: Me, rows: Vec<ApiTokenRow>) -> impl IntoView {
    let manage = me.can(Capability::ManageClients);
    let now = now_millis();
    let workspace_name = move |id: &Option<String>| match id {
        None => "All".to_owned(),
        Some(id) => me
            .workspaces
            .iter()
            .find(|w| &w.id == id)
            .map_or_else(|| id.clone(), |w| w.name.clone()),
    };
    view! {
        <section class="panel">
            <h2>"API tokens"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"No API tokens yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table compact" data-testid="api-tokens">
                        <thead><tr><th>"Name"</th><th>"Scope"</th><th>"Workspace"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|t| {
                                let state = if t.revoked_at.is_some() {
                                    "revoked".to_owned()
                                } else if !t.usable(now) {
                                    "expired".to_owned()
                                } else {
                                    t.expires_at.map_or_else(|| "never".to_owned(), time_format::utc_minutes)
                                };
                                let usable = t.usable(now);
                                view! {
                                    <tr data-api-token=t.name.clone()>
                                        <td>{t.name.clone()}</td>
                                        <td>{t.scope.label()}</td>
                                        <td>{workspace_name(&t.workspace_id)}</td>
                                        <td>{time_format::utc_minutes(t.created_at)}" by "{t.created_by.clone()}</td>
                                        <td>{state}</td>
                                        <td>{t.last_used_at.map_or_else(|| "never".to_owned(), time_format::utc_minutes)}</td>
                                        <td class="actions">{(manage && usable).then(|| view! { <RevokeButton id=t.id.clone() name=t.name.clone()/> })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// Revoke, then a confirmation in place: a revoked token stops working at once, for good.
#[component]
fn RevokeButton(id: String, name: String) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let confirming = RwSignal::new(false);
    let id = StoredValue::new(id);
    let revoke = move |_| {
        leptos::task::spawn_local(async move {
            match revoke_api_token(id.get_value()).await {
                Ok(()) => toaster.success("API token revoked"),
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        {move || if confirming.get() {
            view! {
                <span class="confirm">
                    {format!("Revoke {name}? Scripts using it stop working. ")}
                    <button type="button" class="small danger" data-testid="confirm-revoke-token" on:click=revoke>"Revoke"</button>
                    <button type="button" class="small" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </span>
            }.into_any()
        } else {
            view! { <button type="button" class="small" data-testid="revoke-token" on:click=move |_| confirming.set(true)>"Revoke…"</button> }.into_any()
        }}
    }
}
