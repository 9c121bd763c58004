//! `Cache-Control: no-store` on every server-function answer (`/api/…`): a reveal response carries
//! a plain key, and no proxy or browser cache may keep it. An error's HTTP status is set where the
//! error becomes a response (`AppError`'s `FromServerFnError::ser`), not here.

use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::Response;

pub async fn no_store(request: Request<Body>, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if api {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
