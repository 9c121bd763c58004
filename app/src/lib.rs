//! Keygate's Leptos application: pages, components, server functions and the types both sides
//! share. Server-only modules (use_cases, store, secrets, auth, state) compile with the `ssr`
//! feature only.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod argon2_pool;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod back_off;
#[cfg(feature = "ssr")]
pub mod event_signature;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod secrets;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod throttle;
#[cfg(feature = "ssr")]
pub mod use_cases;
#[cfg(feature = "ssr")]
pub mod verified_keys;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="stylesheet" id="leptos" href="/pkg/keygate.css"/>
                <link rel="icon" href="/favicon.ico"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::toast::provide_toasts();
    components::protected::provide_me_version();
    view! {
        <Title text="Keygate"/>
        <Router>
            <Routes fallback=|| view! { <pages::not_found::NotFound/> }>
                // Async: the whole page (and any redirect) is decided before the first byte, so
                // pages are complete without WASM and a redirect is a real HTTP redirect. Each
                // page is a lazy route: the Clients page does not load the Settings page's code.
                <Route path=path!("/") view=|| view! { <Redirect path="/clients"/> } ssr=SsrMode::Async/>
                <Route path=path!("/signin") view={Lazy::<pages::SignInRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/signup") view={Lazy::<pages::SignUpRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/clients") view={Lazy::<pages::ClientsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/devices") view={Lazy::<pages::DevicesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/settings") view={Lazy::<pages::SettingsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/settings/brokers") view={Lazy::<pages::BrokersRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/settings/members") view={Lazy::<pages::MembersRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/settings/activity") view={Lazy::<pages::ActivityRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/settings/api-tokens") view={Lazy::<pages::ApiTokensRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/settings/events") view={Lazy::<pages::EventsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/settings/account") view={Lazy::<pages::AccountRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/invite/:token") view={Lazy::<pages::InviteRoute>::new()} ssr=SsrMode::Async/>
            </Routes>
        </Router>
        <components::toast::Toasts/>
    }
}
