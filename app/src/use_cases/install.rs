//! The install as its operators run it: sign-up open or closed, who else operates it, the broker
//! targets in full. Members who do not operate it see only their own organization's revocations.

use crate::model::{BrokerStatus, Email, InstallSettings, OrganizationRevocations};
use crate::state::AppState;
use crate::store::{broker_targets, deliveries, install, now_millis, operators};
use crate::use_cases::{Actor, Failure};

/// Sign-up and the operators.
pub async fn settings(state: &AppState, actor: &Actor) -> Result<InstallSettings, Failure> {
    actor.require_operator()?;
    Ok(InstallSettings {
        signup_open: install::signup_open(&state.db, state.settings.open_signup).await?,
        operators: operators::list(&state.db).await?,
    })
}

/// Opens or closes sign-up for new organizations.
pub async fn set_signup_open(state: &AppState, actor: &Actor, open: bool) -> Result<(), Failure> {
    let by = actor.require_operator()?;
    Ok(install::update_signup_open(&state.db, &by, open).await?)
}

/// Names the user with `email` an operator too.
pub async fn name_operator(state: &AppState, actor: &Actor, email: &Email) -> Result<(), Failure> {
    let by = actor.require_operator()?;
    Ok(operators::create(&state.db, &by, email).await?)
}

/// Removes the operator with `email` (not the last one; an operator may remove themselves).
pub async fn remove_operator(
    state: &AppState,
    actor: &Actor,
    email: &Email,
) -> Result<(), Failure> {
    let by = actor.require_operator()?;
    Ok(operators::delete(&state.db, &by, email).await?)
}

/// Every broker target with its address, node, health, errors and queue.
pub async fn broker_status(state: &AppState, actor: &Actor) -> Result<BrokerStatus, Failure> {
    actor.require_operator()?;
    Ok(BrokerStatus {
        targets: broker_targets::list(&state.db).await?,
        webhooks: state.settings.webhooks,
        now: now_millis(),
    })
}

/// Puts the revocations `target` set aside back in its queue; how many.
pub async fn retry_set_aside(
    state: &AppState,
    actor: &Actor,
    target: &str,
) -> Result<u64, Failure> {
    actor.require_operator()?;
    let retried = deliveries::retry(&state.db, target).await?;
    if retried > 0 {
        tracing::info!(target = %target, by = %actor.email, "{retried} revocation(s) set aside are retried");
        state.revocations.ring();
    }
    Ok(retried)
}

/// The actor's organization's revocations on their way to the brokers, counted.
pub async fn organization_revocations(
    state: &AppState,
    actor: &Actor,
) -> Result<OrganizationRevocations, Failure> {
    Ok(deliveries::summary(&state.db, &actor.organization_id).await?)
}
