//! Settings → API tokens: make one (its token is in the answer, and only there), list, revoke.

use crate::error::AppError;
use crate::model::{ApiTokenRow, IssuedApiToken};
use leptos::prelude::*;

/// The organization's tokens, for any member; never a token itself.
#[server(prefix = "/api", endpoint = "api_tokens/list")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenRow>, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::use_cases::api_tokens::list(&state.db, &caller.actor()).await?)
}

/// Makes a token. `scope` is `read` or `manage_clients`, `workspace_id` empty for all workspaces,
/// `lifetime` `never`, `30`, `90` or `365` (days). Each is checked here, as a field error.
#[server(prefix = "/api", endpoint = "api_tokens/create")]
pub async fn create_api_token(
    name: String,
    scope: String,
    workspace_id: String,
    lifetime: String,
) -> Result<IssuedApiToken, AppError> {
    use crate::model::{TokenLifetime, TokenName, TokenScope};
    use crate::use_cases::api_tokens::{self, TokenRequest};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let request = TokenRequest {
        name: TokenName::parse(&name)?,
        scope: TokenScope::parse_field(&scope)?,
        workspace_id: Some(workspace_id.trim().to_owned()).filter(|w| !w.is_empty()),
        lifetime: TokenLifetime::parse_field(&lifetime)?,
    };
    api_tokens::create(&state.db, &caller.actor(), &request)
        .await
        .map_err(AppError::missing("workspace"))
}

#[server(prefix = "/api", endpoint = "api_tokens/revoke")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    crate::use_cases::api_tokens::revoke(&state.db, &caller.actor(), &id)
        .await
        .map_err(AppError::missing("API token"))
}
