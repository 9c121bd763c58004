//! Credential events: the endpoints an organization's events go to, and their deliveries.
//!
//! Any member sees the endpoints and their deliveries (never a secret); adding, enabling,
//! disabling and deleting an endpoint and resending a delivery need [`Capability::ManageClients`]
//! (an Admin or an Owner) and a signed-in member: an endpoint receives every client's news, so no
//! API token makes one. Every function is scoped to the acting organization: another
//! organization's endpoint or delivery is [`StoreError::NotFound`], exactly like a missing one.
//!
//! The events themselves are queued by the store, in the transaction of each client change (see
//! `store::event_deliveries`); the server's worker sends them.
//!
//! [`StoreError::NotFound`]: crate::store::StoreError::NotFound

use super::{Actor, Failure};
use crate::event_signature::EventSecret;
use crate::model::{
    Capability, EndpointUrl, EventDeliveryRow, EventEndpointRow, EventTypes, IssuedEventEndpoint,
};
use crate::state::AppState;
use crate::store::event_endpoints::{self, NewEndpoint};
use crate::store::{Db, event_deliveries};

/// Deliveries an endpoint's list shows, newest first.
pub const RECENT_DELIVERIES: u32 = 50;

/// What the add form sends, parsed.
#[derive(Clone, Debug)]
pub struct EndpointRequest {
    pub url: EndpointUrl,
    pub event_types: EventTypes,
}

/// Adds an endpoint with a fresh signing secret, returned this once: Keygate shows it never again.
pub async fn create(
    db: &Db,
    actor: &Actor,
    request: &EndpointRequest,
) -> Result<IssuedEventEndpoint, Failure> {
    let ctx = actor.require_member(Capability::ManageClients)?;
    let secret = EventSecret::generate();
    let row = event_endpoints::create(
        db,
        &ctx,
        &NewEndpoint {
            url: &request.url,
            event_types: &request.event_types,
            secret: &secret,
        },
    )
    .await?;
    Ok(IssuedEventEndpoint {
        row,
        secret: secret.expose().to_owned(),
    })
}

/// The organization's endpoints, for any member.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<EventEndpointRow>, Failure> {
    Ok(event_endpoints::list(db, &actor.organization_id).await?)
}

/// Turns endpoint `id` on or off. Turned on, what waited for it is sent now.
pub async fn set_enabled(
    state: &AppState,
    actor: &Actor,
    id: &str,
    enabled: bool,
) -> Result<EventEndpointRow, Failure> {
    let ctx = actor.require_member(Capability::ManageClients)?;
    let row = event_endpoints::set_enabled(&state.db, &ctx, id, enabled).await?;
    state.events.ring();
    Ok(row)
}

/// Deletes endpoint `id` with every delivery queued for it.
pub async fn delete(db: &Db, actor: &Actor, id: &str) -> Result<(), Failure> {
    let ctx = actor.require_member(Capability::ManageClients)?;
    Ok(event_endpoints::delete(db, &ctx, id).await?)
}

/// The newest deliveries of endpoint `id`, for any member.
pub async fn deliveries(
    db: &Db,
    actor: &Actor,
    id: &str,
) -> Result<Vec<EventDeliveryRow>, Failure> {
    Ok(event_deliveries::list(db, &actor.organization_id, id, RECENT_DELIVERIES).await?)
}

/// Sends delivery `id`'s event again: a new delivery of the same message (the same `webhook-id`,
/// so a receiver that kept it can tell), after whatever its endpoint has waiting.
pub async fn resend(state: &AppState, actor: &Actor, id: i64) -> Result<EventDeliveryRow, Failure> {
    let ctx = actor.require_member(Capability::ManageClients)?;
    let row = event_deliveries::resend(&state.db, &ctx, id).await?;
    state.events.ring();
    Ok(row)
}
