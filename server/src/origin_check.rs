//! Refuses cross-site state-changing requests (any method but GET, HEAD and OPTIONS): a request
//! whose `Origin` names another host than the one it was sent to, and one without `Origin` whose
//! `Sec-Fetch-Site` says a page of another site (`cross-site`) or of a sibling subdomain
//! (`same-site`) made it. Session cookies are SameSite=Lax already; this closes the gaps Lax
//! leaves (same-site subdomains, older browsers). It guards the HTTP publish endpoint too, whose
//! Basic credentials a browser may have remembered. A request with neither header (curl, a
//! device) is not a browser's cross-site request and passes, and so do `same-origin` and `none`
//! (the user typed the address).

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The header browsers send to say which site made a request.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

pub async fn check_origin(request: Request<Body>, next: Next) -> Response {
    if changes_state(request.method()) && is_cross_site(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({ "error": "Cross-origin request refused." })),
        )
            .into_response();
    }
    next.run(request).await
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a browser says another site made this request: by its `Origin`, or, where it sent
/// none, by its `Sec-Fetch-Site`.
fn is_cross_site(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|h| h.to_str().ok());
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some(origin), Some(host)) => {
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(origin);
            let foreign = origin == "null" || !origin_host.eq_ignore_ascii_case(host);
            if foreign {
                tracing::warn!(?origin, ?host, "refused a cross-origin request");
            }
            foreign
        }
        // An Origin without a Host to compare it with cannot be judged; the Host check refuses
        // such requests where it is on.
        (Some(_), None) => false,
        (None, _) => {
            let site = text(SEC_FETCH_SITE).unwrap_or_default();
            let foreign =
                site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site");
            if foreign {
                tracing::warn!(sec_fetch_site = ?site, "refused a cross-site request without Origin");
            }
            foreign
        }
    }
}
