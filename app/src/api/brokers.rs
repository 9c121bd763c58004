//! Settings → Brokers: where revocations go, and whether they get there. Operators of the install
//! see every broker target in full; other members see their own organization's revocations,
//! counted, and nothing about the brokers themselves.

use crate::error::AppError;
use crate::model::{BrokerStatus, OrganizationRevocations};
use leptos::prelude::*;

/// Every broker target with its health and queue, and whether the webhooks are on: operators only.
#[server(prefix = "/api", endpoint = "brokers/status")]
pub async fn get_broker_status() -> Result<BrokerStatus, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::use_cases::install::broker_status(&state, &caller.actor()).await?)
}

/// The caller's organization's revocations on their way to the brokers, counted: any member.
#[server(prefix = "/api", endpoint = "brokers/revocations")]
pub async fn get_organization_revocations() -> Result<OrganizationRevocations, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::use_cases::install::organization_revocations(&state, &caller.actor()).await?)
}

/// Puts the revocations `target` set aside (it refused them in a way retrying cannot fix) back in
/// its queue, once the broker was fixed; how many. They are delivered first, being the oldest.
/// Operators only, as only they see why a broker refused.
#[server(prefix = "/api", endpoint = "brokers/retry")]
pub async fn retry_set_aside(target: String) -> Result<u64, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::use_cases::install::retry_set_aside(&state, &caller.actor(), &target).await?)
}
