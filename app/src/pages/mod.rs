//! The dashboard's pages, one module per route.

pub mod account;
pub mod activity;
pub mod api_tokens;
mod auth_form;
pub mod brokers;
pub mod clients;
pub mod devices;
pub mod events;
pub mod invite;
pub mod members;
pub mod not_found;
pub mod query_string;
pub mod settings;
pub mod sign_in;
pub mod sign_up;

use leptos::prelude::{AnyView, IntoAny};
use leptos_router::{LazyRoute, lazy_route};

/// Declares a route whose page is a WASM chunk of its own: the browser fetches it the first time
/// the route is shown, and a page the server rendered has its chunk preloaded beside the main
/// module. The page makes its own resources, so `data` has nothing to load ahead of it.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(
    /// `/signin`
    SignInRoute => sign_in::SignInPage
);
lazy_page!(
    /// `/signup`
    SignUpRoute => sign_up::SignUpPage
);
lazy_page!(
    /// `/clients`
    ClientsRoute => clients::ClientsPage
);
lazy_page!(
    /// `/devices`
    DevicesRoute => devices::DevicesPage
);
lazy_page!(
    /// `/settings`
    SettingsRoute => settings::SettingsPage
);
lazy_page!(
    /// `/settings/brokers`
    BrokersRoute => brokers::BrokersPage
);
lazy_page!(
    /// `/settings/members`
    MembersRoute => members::MembersPage
);
lazy_page!(
    /// `/settings/api-tokens`
    ApiTokensRoute => api_tokens::ApiTokensPage
);
lazy_page!(
    /// `/settings/events`
    EventsRoute => events::EventsPage
);
lazy_page!(
    /// `/settings/account`
    AccountRoute => account::AccountPage
);
lazy_page!(
    /// `/invite/TOKEN`
    InviteRoute => invite::InvitePage
);
lazy_page!(
    /// `/settings/activity`
    ActivityRoute => activity::ActivityPage
);
