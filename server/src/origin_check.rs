//! Refuses cross-site state-changing requests: a POST whose `Origin` names another host than the
//! one it was sent to. Session cookies are SameSite=Lax already; this closes the gaps Lax leaves
//! (same-site subdomains, older browsers). It guards the HTTP publish endpoint too, whose Basic
//! credentials a browser may have remembered. A request without `Origin` (curl, a device, a
//! same-origin GET) is not a browser's cross-site request and passes.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn check_origin(request: Request<Body>, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|h| h.to_str().ok());
        if let (Some(host), Some(origin)) = (host, origin) {
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(origin);
            if origin == "null" || !origin_host.eq_ignore_ascii_case(host) {
                tracing::warn!(%origin, %host, "refused a cross-origin request");
                return (
                    StatusCode::FORBIDDEN,
                    axum::Json(serde_json::json!({ "error": "Cross-origin request refused." })),
                )
                    .into_response();
            }
        }
    }
    next.run(request).await
}
