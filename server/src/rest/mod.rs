//! The REST API, `/api/v1/`: what the Clients page does, for scripts and CI, authenticated by API
//! tokens (`Authorization: Bearer kgt_…`). Handlers are thin: they parse, call the use cases the
//! dashboard calls, and answer with the API's own bodies ([`schema`]) or a problem+json
//! ([`problem`]). The OpenAPI document, `/api/v1/openapi.json`, is generated from the same
//! annotations that register the routes, so it lists exactly the routes that exist.

mod clients;
mod cursor;
mod extract;
mod imports;
pub mod problem;
pub mod schema;
mod workspaces;

use app::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Where the API lives; every route is under it.
pub const PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keygate",
        description = "Manage the credentials (clients) devices use to connect to MQTT. \
                       Authenticate with an API token from Settings → API tokens, sent as \
                       `Authorization: Bearer kgt_…`. Errors are `application/problem+json` \
                       (RFC 9457), with the `field` that was wrong.",
    ),
    modifiers(&BearerToken),
    tags(
        (name = "clients", description = "Clients: the credentials devices connect with"),
        (name = "workspaces", description = "Workspaces: sets of clients sharing a topic namespace"),
    )
)]
struct ApiDoc;

/// The `token` security scheme every operation names.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("kgt_…")
                    .description(Some("An API token (Settings → API tokens)"))
                    .build(),
            ),
        );
    }
}

/// The API's routes and its OpenAPI document, made from the same handlers.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(workspaces::list))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::export))
        .routes(routes!(imports::import))
        .routes(routes!(clients::get, clients::update, clients::delete))
        .routes(routes!(clients::activate))
        .routes(routes!(clients::deactivate))
        .routes(routes!(clients::regenerate_key))
        .routes(routes!(clients::rotate_key))
        .routes(routes!(clients::retire_key))
        .routes(routes!(clients::disconnect))
        .routes(routes!(clients::sessions))
        .split_for_parts()
}

/// The OpenAPI document of the API, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut openapi) = parts();
    openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    openapi
}

/// The API under [`PREFIX`], with `openapi.json`; any other path under it is a problem+json 404
/// (the dashboard keeps the process's one fallback).
/// Answers are never cached: some carry a key.
pub fn router(state: AppState) -> Router {
    let (routes, _) = parts();
    let document = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    routes
        .route(
            &format!("{PREFIX}/openapi.json"),
            axum::routing::get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    document.clone(),
                )
            }),
        )
        .route(PREFIX, axum::routing::any(nothing_here))
        .route(&format!("{PREFIX}/"), axum::routing::any(nothing_here))
        .route(
            &format!("{PREFIX}/{{*rest}}"),
            axum::routing::any(nothing_here),
        )
        .method_not_allowed_fallback(|| async {
            problem::Problem::method_not_allowed().into_response()
        })
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            },
        ))
        .with_state(state)
}

/// What a path under [`PREFIX`] that no route has answers.
async fn nothing_here() -> axum::response::Response {
    problem::Problem::not_found("Nothing answers at this path; see /api/v1/openapi.json.")
        .into_response()
}
