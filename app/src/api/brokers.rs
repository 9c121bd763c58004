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
        targets: crate::store::deliveries::targets(&state.db).await?,
        webhooks: state.settings.webhooks,
        now: crate::store::now_millis(),
    })
}
