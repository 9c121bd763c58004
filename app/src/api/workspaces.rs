//! Workspaces in Settings and the header's switcher.

use crate::error::AppError;
use crate::model::{AuditEntry, WorkspaceInfo};
use leptos::prelude::*;

/// Creates a workspace with a namespace (typed, or derived from the name when left empty).
#[server(prefix = "/api", endpoint = "workspaces/create")]
pub async fn create_workspace(name: String, namespace: String) -> Result<WorkspaceInfo, AppError> {
    use crate::model::{Namespace, WorkspaceName};
    use crate::store::workspaces;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let name = WorkspaceName::parse(&name)?;
    let workspace = if namespace.trim().is_empty() {
        let organization =
            crate::store::organizations::get(&state.db, caller.organization_id()).await?;
        let base = Namespace::derive(&format!("{} {}", organization.name, name));
        workspaces::create_with_free_namespace(&state.db, &caller.audit(), &name, &base).await?
    } else {
        let namespace = Namespace::parse(&namespace)?;
        workspaces::create(&state.db, &caller.audit(), &name, &namespace).await?
    };
    Ok(WorkspaceInfo {
        id: workspace.id,
        name: workspace.name,
        namespace: workspace.namespace,
        client_count: 0,
    })
}

#[server(prefix = "/api", endpoint = "workspaces/rename")]
pub async fn rename_workspace(id: String, name: String) -> Result<(), AppError> {
    use crate::model::WorkspaceName;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let name = WorkspaceName::parse(&name)?;
    crate::store::workspaces::update_name(&state.db, &caller.audit(), &id, &name)
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
        .map_err(AppError::missing("workspace"))?;
    crate::auth::switch_workspace(&caller.session, &workspace.id).await
}

/// The organization's latest audit events, for Settings.
#[server(prefix = "/api", endpoint = "workspaces/activity")]
pub async fn recent_activity() -> Result<Vec<AuditEntry>, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    Ok(crate::store::audit::list(&state.db, caller.organization_id(), 50).await?)
}
