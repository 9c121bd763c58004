//! Workspaces: the ones an actor reaches, create one (with a typed namespace, or one derived from
//! its name) and rename it. Creating and renaming need [`Capability::ManageWorkspaces`].

use crate::model::{Capability, Namespace, WorkspaceInfo, WorkspaceName};
use crate::state::AppState;
use crate::store::workspaces::{self, Workspace};
use crate::store::{StoreError, organizations};
use crate::use_cases::{Actor, Failure};

/// Creates a workspace in the actor's organization. `namespace: None` derives one from the
/// organization's and the workspace's names, with a suffix when taken.
#[tracing::instrument(skip_all)]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    name: &WorkspaceName,
    namespace: Option<&Namespace>,
) -> Result<WorkspaceInfo, Failure> {
    let by = actor.require(Capability::ManageWorkspaces)?;
    let workspace = match namespace {
        Some(namespace) => {
            workspaces::create(
                &state.db,
                &by,
                name,
                namespace,
                state.settings.max_workspaces_per_organization,
            )
            .await?
        }
        None => {
            let organization = organizations::get(&state.db, &actor.organization_id).await?;
            let base = Namespace::derive(&format!("{} {}", organization.name, name));
            workspaces::create_with_free_namespace(
                &state.db,
                &by,
                name,
                &base,
                state.settings.max_workspaces_per_organization,
            )
            .await?
        }
    };
    Ok(WorkspaceInfo {
        id: workspace.id,
        name: workspace.name,
        namespace: workspace.namespace,
        client_count: 0,
    })
}

/// A workspace of the actor's organization that the actor reaches: another organization's, or
/// one outside a token's workspace limit, is [`StoreError::NotFound`], like a missing one.
pub async fn reachable(state: &AppState, actor: &Actor, id: &str) -> Result<Workspace, Failure> {
    if !actor.reaches(id) {
        return Err(StoreError::NotFound.into());
    }
    Ok(workspaces::get(&state.db, &actor.organization_id, id).await?)
}

/// The workspaces of the actor's organization that the actor reaches, with their client counts.
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<WorkspaceInfo>, Failure> {
    let mut all = workspaces::list(&state.db, &actor.organization_id).await?;
    all.retain(|w| actor.reaches(&w.id));
    Ok(all)
}

/// Renames a workspace of the actor's organization.
#[tracing::instrument(skip_all)]
pub async fn rename(
    state: &AppState,
    actor: &Actor,
    id: &str,
    name: &WorkspaceName,
) -> Result<(), Failure> {
    let by = actor.require(Capability::ManageWorkspaces)?;
    Ok(workspaces::update_name(&state.db, &by, id, name).await?)
}
