//! Every redirect the dashboard answers to a page request or a plain HTML form is a real one:
//! 303 See Other with its `Location`.
//!
//! Leptos decides the code by the request's `Accept`: with `text/html` it answers 302, without it
//! 200 with the `Location` and a `serverfnredirect` header, which only the app's own
//! server-function client follows. A page (a signed-out visitor asking for `/clients`, `/`
//! sending everyone to `/clients`) is never fetched by that client, so a 200 there leaves whoever
//! asked (curl, a monitor, a browser that sent another `Accept`) on an empty page. A form posted
//! without JavaScript (sign-in, sign-up, sign-out) is answered 302, which HTTP leaves free to
//! repeat the POST; 303 says to fetch the next page with GET. Server functions called by the
//! running app (`Accept` without `text/html`) keep their 200 and `serverfnredirect`.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The header leptos_axum sets instead of a redirect status for its server-function client.
const SERVER_FN_REDIRECT: &str = "serverfnredirect";

pub async fn see_other(request: Request<Body>, next: Next) -> Response {
    let server_function = request.uri().path().starts_with("/api/");
    let page = !server_function && matches!(*request.method(), Method::GET | Method::HEAD);
    let form = server_function && accepts_html(request.headers());
    let mut response = next.run(request).await;
    let redirects = response.headers().contains_key(header::LOCATION)
        && (response.status().is_success() || response.status() == StatusCode::FOUND);
    if redirects && (page || form) {
        *response.status_mut() = StatusCode::SEE_OTHER;
        response.headers_mut().remove(SERVER_FN_REDIRECT);
    }
    response
}

/// What leptos_axum takes for a browser's own request (a navigation or a plain form post).
fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}
