//! Which request a log line belongs to. Every HTTP request (dashboard
//! and webhooks) gets an id in `x-request-id`, kept from the proxy in front when it sent a usable
//! one and made up otherwise, and answered in the response's `x-request-id`; it runs inside a
//! `request` span naming its id, method and path, so every line logged while it is handled says
//! which request it was. With metrics on, its duration is counted per route pattern.

use super::metrics::Metrics;
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use std::time::Instant;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::{Level, Span};

/// The header a request's id travels in, both ways.
const REQUEST_ID: &str = "x-request-id";

/// The longest request id taken from a client; longer ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// `app` with request ids, request spans and, with metrics on, request durations.
pub fn observe(app: Router, metrics: &Metrics) -> Router {
    let app = if metrics.is_on() {
        // Innermost, inside the router's routing: the route pattern is known there.
        app.layer(axum::middleware::from_fn_with_state(
            metrics.clone(),
            count_request,
        ))
    } else {
        app
    };
    app.layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span)
                // An error is logged where it is made, with its cause, inside this span; a line
                // with the status alone would only repeat it.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_unusable_request_id))
}

/// The span a request is handled in. Never the query string: a webhook's GET carries a device's
/// key in it.
fn span(request: &Request<Body>) -> Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// Removes an `x-request-id` no log line should carry (too long, or with spaces, quotes or
/// characters outside ASCII), so that a fresh one is made instead.
async fn drop_unusable_request_id(mut request: Request) -> Request {
    if request
        .headers()
        .get(REQUEST_ID)
        .is_some_and(|id| !usable(id))
    {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

fn usable(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    (1..=MAX_REQUEST_ID).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'))
}

async fn count_request(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let method = request.method().clone();
    let response = next.run(request).await;
    metrics.http_request(
        route.as_deref(),
        &method,
        response.status(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_from_outside_is_kept_only_when_it_is_plain_and_short() {
        let ok = |s: &str| usable(&HeaderValue::from_str(s).unwrap());
        assert!(ok("3f2c9a1e-7b4d-4e0a-9c55-0d1e2f3a4b5c"));
        assert!(ok("Root=1-67891233-abcdef012345678912345678"));
        assert!(!ok(""));
        assert!(!ok("two words"));
        assert!(!ok("say \"hi\""));
        assert!(!ok(&"x".repeat(MAX_REQUEST_ID + 1)));
        assert!(ok(&"x".repeat(MAX_REQUEST_ID)));
    }
}
