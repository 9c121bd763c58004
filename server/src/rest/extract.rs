//! What a REST handler takes from its request: the [`Actor`] its API token stands for, and a JSON
//! body or a query string whose rejections are problems, not axum's plain-text answers.

use super::problem::Problem;
use app::state::AppState;
use app::use_cases::Actor;
use app::use_cases::api_tokens::{self, Unauthorized};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// The API token a request carries, authenticated: who acts in every use case it calls, and the
/// name (`token NAME`) the audit log records.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(Problem::unauthorized)?;
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_string())
            .unwrap_or_default();
        match api_tokens::authenticate(&state.db, authorization, &address).await {
            Ok(actor) => Ok(Caller(actor)),
            Err(Unauthorized::Refused) => Err(Problem::unauthorized()),
            Err(Unauthorized::Store(e)) => Err(super::problem::from_app(e)),
        }
    }
}

/// A JSON body of type `T`; a body that is not one is a problem naming what is wrong.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(Body(value))
    }
}

/// A JSON body of type `T`, or `T::default()` for a request without a body: for requests whose
/// every field is optional, so `curl -X POST` with no body works.
pub struct BodyOrDefault<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for BodyOrDefault<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let has_body = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length != "0")
            || request.headers().contains_key(header::TRANSFER_ENCODING);
        if !has_body {
            return Ok(BodyOrDefault(T::default()));
        }
        let Body(value) = Body::<T>::from_request(request, state).await?;
        Ok(BodyOrDefault(value))
    }
}

/// A query string of type `T`; one that does not parse is a problem naming what is wrong.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Params(value))
    }
}
