//! `/signin`: email and password, throttled on the server.

use super::auth_form::{AuthInput, field_error, form_error};
use crate::api::account::{SignIn, signup_open};
use crate::model::FieldError;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/signin`. A plain form post, so it works before the page is interactive too.
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let result: Signal<_> = action.value().into();
    let open = Resource::new(|| (), |_| signup_open());
    // Where to continue: an invitation's page sends people here first (the server checks it).
    let query = leptos_router::hooks::use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text="Sign in · Keygate"/>
        <main class="auth">
            <div class="auth-card">
                <p class="brand big"><span class="logo">"⬢"</span>" Keygate"</p>
                <h1>"Sign in"</h1>
                <ActionForm action=action>
                    <input type="hidden" name="next" value=next/>
                    <AuthInput label="Email" name="email" input_type="email" autocomplete="username" autofocus=true error=field_error(result, FieldError::Email)/>
                    <AuthInput label="Password" name="password" input_type="password" autocomplete="current-password" error=field_error(result, FieldError::Password)/>
                    {move || form_error(result).get().map(|e| view! { <div class="banner error" role="alert">{e}</div> })}
                    <button type="submit" class="primary wide" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        open.await.ok().filter(|open| *open).map(|_| view! {
                            <p class="switch-auth">"New here? " <a href="/signup">"Create an account"</a></p>
                        })
                    })}
                </Suspense>
            </div>
        </main>
    }
}
