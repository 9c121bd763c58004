//! Settings → Brokers: where revocations go, and whether they get there.

use crate::error::AppError;
use crate::model::BrokerStatus;
use leptos::prelude::*;

/// Every broker target with its health and queue, and whether the webhooks are on. Brokers are
/// shared by the whole installation, so every signed-in user sees the same list; it holds no
/// client data and no credentials.
#[server(prefix = "/api", endpoint = "brokers/status")]
pub async fn get_broker_status() -> Result<BrokerStatus, AppError> {
    let _caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(BrokerStatus {
        targets: crate::store::broker_targets::list(&state.db).await?,
        webhooks: state.settings.webhooks,
        now: crate::store::now_millis(),
    })
}

/// Puts the revocations `target` set aside (it refused them in a way retrying cannot fix) back in
/// its queue, once the broker was fixed; how many. They are delivered first, being the oldest.
/// Any signed-in user may ask, as any may see the list: it changes no client and repeats only
/// closing sessions that were revoked already.
#[server(prefix = "/api", endpoint = "brokers/retry")]
pub async fn retry_set_aside(target: String) -> Result<u64, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let retried = crate::store::deliveries::retry(&state.db, &target).await?;
    if retried > 0 {
        tracing::info!(target = %target, by = %caller.user.email, "{retried} revocation(s) set aside are retried");
        state.revocations.ring();
    }
    Ok(retried)
}
