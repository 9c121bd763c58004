//! Settings → Install, for the install's operators: open or close sign-up, name other operators.

use crate::error::AppError;
use crate::model::InstallSettings;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "install/settings")]
pub async fn get_install_settings() -> Result<InstallSettings, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::use_cases::install::settings(&state, &caller.actor()).await?)
}

#[server(prefix = "/api", endpoint = "install/set_signup_open")]
pub async fn set_signup_open(open: bool) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::use_cases::install::set_signup_open(&state, &caller.actor(), open).await?)
}

/// Names an existing account an operator of the install too.
#[server(prefix = "/api", endpoint = "install/name_operator")]
pub async fn name_operator(email: String) -> Result<(), AppError> {
    use crate::model::Email;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let email = Email::parse(&email)?;
    crate::use_cases::install::name_operator(&state, &caller.actor(), &email)
        .await
        .map_err(AppError::missing("account with this email"))
}

/// Removes an operator of the install (not the last one).
#[server(prefix = "/api", endpoint = "install/remove_operator")]
pub async fn remove_operator(email: String) -> Result<(), AppError> {
    use crate::model::Email;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let email = Email::parse(&email)?;
    crate::use_cases::install::remove_operator(&state, &caller.actor(), &email)
        .await
        .map_err(AppError::missing("operator with this email"))
}
