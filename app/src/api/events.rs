//! Settings → Events: the organization's event endpoints (add one: its secret is in the answer,
//! and only there; enable, disable, delete) and each endpoint's deliveries (resend one).

use crate::error::AppError;
use crate::model::{EventDeliveryRow, EventEndpointRow, IssuedEventEndpoint};
use leptos::prelude::*;

/// The organization's endpoints, for any member; never a secret.
#[server(prefix = "/api", endpoint = "events/list")]
pub async fn list_event_endpoints() -> Result<Vec<EventEndpointRow>, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::use_cases::events::list(&state.db, &caller.actor()).await?)
}

/// Adds an endpoint. `url` is `https://…` (or `http://` to a loopback address), `event_types`
/// the event type texts separated by commas; each is checked here, as a field error.
#[server(prefix = "/api", endpoint = "events/create")]
pub async fn create_event_endpoint(
    url: String,
    event_types: String,
) -> Result<IssuedEventEndpoint, AppError> {
    use crate::model::{EndpointUrl, EventTypes};
    use crate::use_cases::events::{self, EndpointRequest};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let request = EndpointRequest {
        url: EndpointUrl::parse(&url)?,
        event_types: EventTypes::parse(&event_types)?,
    };
    Ok(events::create(&state.db, &caller.actor(), &request).await?)
}

#[server(prefix = "/api", endpoint = "events/set_enabled")]
pub async fn set_event_endpoint_enabled(
    id: String,
    enabled: bool,
) -> Result<EventEndpointRow, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::events::set_enabled(&state, &caller.actor(), &id, enabled)
        .await
        .map_err(AppError::missing("event endpoint"))
}

#[server(prefix = "/api", endpoint = "events/delete")]
pub async fn delete_event_endpoint(id: String) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::events::delete(&state.db, &caller.actor(), &id)
        .await
        .map_err(AppError::missing("event endpoint"))
}

/// An endpoint's newest deliveries, for any member.
#[server(prefix = "/api", endpoint = "events/deliveries")]
pub async fn list_event_deliveries(id: String) -> Result<Vec<EventDeliveryRow>, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::events::deliveries(&state.db, &caller.actor(), &id)
        .await
        .map_err(AppError::missing("event endpoint"))
}

/// Sends a delivery's event again, after what its endpoint has waiting.
#[server(prefix = "/api", endpoint = "events/resend")]
pub async fn resend_event(id: i64) -> Result<EventDeliveryRow, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::events::resend(&state, &caller.actor(), id)
        .await
        .map_err(AppError::missing("delivery"))
}
