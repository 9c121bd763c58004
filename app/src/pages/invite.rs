//! `/invite/TOKEN`: an invitation link. It says who invites whom into which organization as what,
//! and accepts it: signed in as the invited address, with one click; with no account yet, by
//! choosing a password; with an account but signed out, by signing in first (which comes back
//! here).

use super::auth_form::{AuthInput, field_error, form_error};
use crate::api::account::SignOut;
use crate::api::members::{AcceptInvitation, invitation};
use crate::model::{FieldError, InvitationState, InvitationView, time_format};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let view_resource = Resource::new(token, invitation);
    view! {
        <Title text="Invitation · Keygate"/>
        <main class="auth">
            <div class="auth-card">
                <p class="brand big"><span class="logo">"⬢"</span>" Keygate"</p>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match view_resource.await {
                            Ok(found) => view! { <Invitation found token=token()/> }.into_any(),
                            Err(e) => view! {
                                <h1>"Invitation"</h1>
                                <div class="banner error" role="alert" data-testid="invitation-error">{e.to_string()}</div>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </main>
    }
}

#[component]
fn Invitation(found: InvitationView, token: String) -> impl IntoView {
    let accept = ServerAction::<AcceptInvitation>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let result: Signal<_> = accept.value().into();
    let heading = format!("Join {}", found.organization_name);
    let summary = format!(
        "{} invites {} as {}.",
        found.invited_by,
        found.email,
        found.role.label().to_lowercase()
    );
    let body = match found.state {
        InvitationState::Pending => {
            let expires = format!("The link works until {}.", time_format::utc_minutes(found.expires_at));
            let action = match (&found.signed_in_as, found.account_exists) {
                (Some(me), _) if *me == found.email => view! {
                    <ActionForm action=accept>
                        <input type="hidden" name="token" value=token.clone()/>
                        <button type="submit" class="primary wide" data-testid="accept">"Join"</button>
                    </ActionForm>
                }.into_any(),
                (Some(me), _) => view! {
                    <div class="banner warning">"You are signed in as " <strong>{me.clone()}</strong> ". This invitation is for another address: sign out, then open the link again."</div>
                    <ActionForm action=sign_out attr:class="inline">
                        <button type="submit" class="wide">"Sign out"</button>
                    </ActionForm>
                }.into_any(),
                (None, true) => view! {
                    <p>"You have an account with this address."</p>
                    <a class="button primary wide" href=format!("/signin?next=/invite/{token}") data-testid="sign-in-to-accept">"Sign in to accept"</a>
                }.into_any(),
                (None, false) => view! {
                    <ActionForm action=accept>
                        <input type="hidden" name="token" value=token.clone()/>
                        <p>"Choose a password for " <strong>{found.email.clone()}</strong> "."</p>
                        <AuthInput label="Password" name="password" input_type="password" autocomplete="new-password" autofocus=true error=field_error(result, FieldError::Password)/>
                        <button type="submit" class="primary wide" data-testid="accept" disabled=move || accept.pending().get()>"Create account and join"</button>
                    </ActionForm>
                }.into_any(),
            };
            view! { <p class="muted">{expires}</p> {action} }.into_any()
        }
        InvitationState::Accepted => view! { <div class="banner warning" role="alert">"This invitation was used already."</div> }.into_any(),
        InvitationState::Revoked => view! { <div class="banner warning" role="alert">"This invitation was revoked. Ask for a new one."</div> }.into_any(),
        InvitationState::Expired => view! { <div class="banner warning" role="alert">"This invitation has expired. Ask for a new one."</div> }.into_any(),
    };
    view! {
        <h1>{heading}</h1>
        <p data-testid="invitation-summary">{summary}</p>
        {body}
        {move || form_error(result).get().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
    }
}
