//! `/signup`: an organization, its first user and its Default workspace, in one form.

use super::auth_form::{AuthInput, field_error, form_error};
use crate::api::account::{SignUp, signup_open};
use crate::model::FieldError;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/signup`: creates a user, an organization and its default workspace.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let result: Signal<_> = action.value().into();
    let open = Resource::new(|| (), |_| signup_open());
    let form = move || {
        view! {
            <ActionForm action=action>
                <AuthInput label="Email" name="email" input_type="email" autocomplete="username" autofocus=true error=field_error(result, FieldError::Email)/>
                <AuthInput label="Password" name="password" input_type="password" autocomplete="new-password" error=field_error(result, FieldError::Password)/>
                <AuthInput label="Organization name" name="organization" input_type="text" autocomplete="organization" error=field_error(result, FieldError::OrgName)/>
                <p class="hint">"Your organization gets a default workspace whose namespace is derived from this name. Devices publish under it."</p>
                {move || form_error(result).get().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
                <button type="submit" class="primary wide" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create account" }}
                </button>
            </ActionForm>
        }
    };
    view! {
        <Title text="Create an account · Keygate"/>
        <main class="auth">
            <div class="auth-card">
                <p class="brand big"><span class="logo">"⬢"</span>" Keygate"</p>
                <h1>"Create an account"</h1>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match open.await {
                            Ok(true) => form().into_any(),
                            Ok(false) => view! {
                                <div class="banner">"Sign-up is closed on this Keygate. Ask an administrator for an account."</div>
                            }.into_any(),
                            Err(e) => view! { <div class="banner error">{e.to_string()}</div> }.into_any(),
                        }
                    })}
                </Suspense>
                <p class="switch-auth">"Already have an account? " <a href="/signin">"Sign in"</a></p>
            </div>
        </main>
    }
}
