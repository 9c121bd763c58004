//! The whole HTTP application: the dashboard (the Leptos app with its server functions, behind the
//! session layer and the Origin check, its redirects made 303 See Other), HTTP publish
//! (`/v1/publish`, behind the Origin check without sessions), the REST API (`/api/v1/`, API
//! tokens, no sessions) and, when configured, the broker
//! webhooks; all of them behind the Host check when it is on, each request with its id and span
//! (`telemetry::requests`).

use crate::host_check::{self, AllowedHosts};
use crate::telemetry::{self, Metrics};
use crate::{api_responses, http_publish, origin_check, rest, see_other, webhooks};
use app::state::AppState;
use app::store::sessions::DbSessionStore;
use axum::Router;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// The dashboard's routes, listed once per process. Listing them renders the app with resource
/// loading switched off by a process-wide flag (leptos_server's `SuppressResourceLoad`): a page
/// whose resource first polled meanwhile, in another router of the same process, would wait
/// forever. Listing once, before any router exists, leaves no such page.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// The whole HTTP application for `state`, with HTTP publish and with the broker webhooks when
/// they are configured, answering only for `hosts` when given, its requests timed in `metrics`.
pub fn router(
    state: AppState,
    secure_cookies: bool,
    publish: Arc<http_publish::HttpPublish>,
    webhooks: Option<Arc<webhooks::Webhooks>>,
    hosts: Option<AllowedHosts>,
    metrics: &Metrics,
) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("keygate_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::milliseconds(state.settings.session_idle_ms),
        ));
    let rest_state = state.clone();
    let routes = route_list();
    let options = state.leptos_options.clone();
    let dashboard = Router::new()
        .leptos_routes(&state, routes, move || app::shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(api_responses::no_store))
        .layer(axum::middleware::from_fn(see_other::see_other))
        .layer(axum::middleware::from_fn(origin_check::check_origin))
        .with_state(state);
    // Devices and brokers are not browsers: HTTP publish and the webhooks take no session and
    // no cookie, only a key or their secret.
    // The REST API takes no session either: an API token in each request, which a browser never
    // sends by itself, so it needs no Origin check.
    let app = http_publish::router(publish)
        .merge(rest::router(rest_state))
        .merge(dashboard);
    let app = match webhooks {
        Some(hooks) => webhooks::router(hooks).merge(app),
        None => app,
    };
    // Outside every route's own layers, so a request for another host reaches no session and no
    // handler; inside the request ids and metrics, so it is still logged and counted.
    let app = match hosts {
        Some(hosts) => app.layer(axum::middleware::from_fn_with_state(
            Arc::new(hosts),
            host_check::check_host,
        )),
        None => app,
    };
    telemetry::requests::observe(app, metrics)
}
