//! Workspaces in Settings and the header's switcher.

use crate::error::AppError;
use crate::model::WorkspaceInfo;
use leptos::prelude::*;

/// Creates a workspace with a namespace (typed, or derived from the name when left empty).
#[server(prefix = "/api", endpoint = "workspaces/create")]
pub async fn create_workspace(name: String, namespace: String) -> Result<WorkspaceInfo, AppError> {
    use crate::model::{Namespace, WorkspaceName};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let name = WorkspaceName::parse(&name)?;
    let namespace = match namespace.trim() {
        "" => None,
        typed => Some(Namespace::parse(typed)?),
    };
    Ok(
        crate::use_cases::workspaces::create(&state, &caller.actor(), &name, namespace.as_ref())
            .await?,
    )
}

#[server(prefix = "/api", endpoint = "workspaces/rename")]
pub async fn rename_workspace(id: String, name: String) -> Result<(), AppError> {
    use crate::model::WorkspaceName;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let name = WorkspaceName::parse(&name)?;
    crate::use_cases::workspaces::rename(&state, &caller.actor(), &id, &name)
        .await
        .map_err(AppError::missing("workspace"))
}

/// Makes another workspace of the caller's organization the current one.
#[server(prefix = "/api", endpoint = "workspaces/switch")]
pub async fn switch_workspace(id: String) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let workspace = crate::store::workspaces::get(&state.db, caller.organization_id(), &id)
        .await
        .map_err(AppError::missing::<crate::store::StoreError>("workspace"))?;
    crate::auth::switch_workspace(&caller.session, &workspace.id).await
}
