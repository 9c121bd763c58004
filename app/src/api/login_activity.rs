//! The Edit modal's login activity: a client's refused logins and lock-out, and clearing it. Scoped
//! to the caller's organization like every client endpoint: another organization's client answers
//! "not found".

use crate::error::AppError;
use crate::model::LoginActivity;
use leptos::prelude::*;

/// A client's last successful and last refused login, how many refused in the last 24 hours, and
/// whether it is locked out.
#[server(prefix = "/api", endpoint = "clients/login_activity")]
pub async fn get_login_activity(client_id: String) -> Result<LoginActivity, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = crate::api::clients::ssr::existing_id(&client_id)?;
    crate::use_cases::login_activity::get(&state, caller.organization_id(), &id)
        .await
        .map_err(Into::into)
}

/// Ends a client's lock-out, so a device with the right key gets in at once; its activity after.
#[server(prefix = "/api", endpoint = "clients/clear_lockout")]
pub async fn clear_lockout(client_id: String) -> Result<LoginActivity, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = crate::api::clients::ssr::existing_id(&client_id)?;
    crate::use_cases::login_activity::clear_lockout(&state, &caller.actor(), &id)
        .await
        .map_err(Into::into)
}
