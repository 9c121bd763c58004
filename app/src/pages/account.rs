//! `/settings/account`: the signed-in user's own password and dashboard sessions.

use crate::api::account::{SignOutEverywhere, change_password, end_other_session, list_sessions};
use crate::components::protected::{Protected, me_resource, use_me_version, when_signed_in};
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{FieldError, SecretInput, SessionRow, time_format};
use crate::pages::settings::SettingsNav;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let me = me_resource();
    let version = use_me_version();
    let sessions = Resource::new(
        move || version.get(),
        move |_| when_signed_in(me, list_sessions),
    );
    view! {
        <Title text="Account · Settings · Keygate"/>
        <Protected me children=Box::new(move |me| view! {
            <h1>"Settings"</h1>
            <SettingsNav me=me.clone()/>
            <section class="panel">
                <h2>"Your account"</h2>
                <p class="muted" data-testid="account-email">{me.email.clone()}</p>
            </section>
            <ChangePassword/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(Some(rows)) => view! { <Sessions rows/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(e) => view! { <div class="banner error">{e.to_string()}</div> }.into_any(),
                    }
                })}
            </Transition>
        }.into_any())/>
    }
}

#[component]
fn ChangePassword() -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let field =
        move |f: FieldError| Signal::derive(move || error.get().and_then(|e| e.for_field(f)));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = change_password(
            SecretInput::new(current.get_untracked()),
            SecretInput::new(new_password.get_untracked()),
        );
        busy.set(true);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(()) => {
                    toaster.success("Password changed. Your other sessions were signed out.");
                    current.set(String::new());
                    new_password.set(String::new());
                    error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let input = move |label: &'static str,
                      name: &'static str,
                      value: RwSignal<String>,
                      autocomplete: &'static str,
                      error: Signal<Option<String>>| {
        view! {
            <div class="field" class:invalid=move || error.get().is_some()>
                <label for=format!("field-{name}")>{label}</label>
                <input id=format!("field-{name}") name=name type="password" autocomplete=autocomplete required
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                <p class="field-error" data-testid=format!("error-{name}") role="alert">{move || error.get().unwrap_or_default()}</p>
            </div>
        }
    };
    view! {
        <section class="panel">
            <h2>"Change password"</h2>
            <p class="hint">"Every other session of your account ends when you change it."</p>
            <form class="inline-form" on:submit=on_submit data-testid="change-password">
                {input("Current password", "current", current, "current-password", field(FieldError::CurrentPassword))}
                {input("New password", "new_password", new_password, "new-password", field(FieldError::Password))}
                <button type="submit" class="primary" disabled=move || busy.get()>"Change password"</button>
                {move || error.get().filter(|e| !matches!(e, AppError::Invalid { .. })).map(|e| view! {
                    <div class="banner error" role="alert">{e.to_string()}</div>
                })}
            </form>
        </section>
    }
}

#[component]
fn Sessions(rows: Vec<SessionRow>) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let end = move |handle: String| {
        leptos::task::spawn_local(async move {
            match end_other_session(handle).await {
                Ok(()) => toaster.success("Session ended"),
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        <section class="panel">
            <h2>"Where you are signed in"</h2>
            <table class="table compact" data-testid="sessions">
                <thead><tr><th>"Device"</th><th>"Address"</th><th>"Last active"</th><th></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|s| {
                        let handle = s.handle.clone();
                        view! {
                            <tr data-current=s.current.to_string()>
                                <td>{s.device}{s.current.then(|| view! { " " <span class="badge">"this browser"</span> })}</td>
                                <td>{s.address}</td>
                                <td>{time_format::utc_minutes(s.last_active_at)}</td>
                                <td class="actions">
                                    {(!s.current).then(|| view! {
                                        <button type="button" class="small" data-testid="end-session" on:click=move |_| end(handle.clone())>"Sign out"</button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <ActionForm action=everywhere attr:class="inline-form">
                <button type="submit" class="danger" data-testid="sign-out-everywhere">"Sign out everywhere"</button>
            </ActionForm>
        </section>
    }
}
