//! `/api/v1/workspaces`: the workspaces a token reaches.

use super::extract::Caller;
use super::problem::{Problem, from_app};
use super::schema::{Workspace, WorkspaceList};
use app::state::AppState;
use app::use_cases::workspaces;
use axum::Json;
use axum::extract::State;

/// The workspaces of the token's organization that it reaches: all of them, or the one it is
/// limited to.
#[utoipa::path(
    get,
    operation_id = "listWorkspaces",
    path = "/api/v1/workspaces",
    tag = "workspaces",
    responses(
        (status = 200, description = "The workspaces", body = WorkspaceList),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WorkspaceList>, Problem> {
    let all = workspaces::list(&state, &caller.0)
        .await
        .map_err(from_app)?;
    Ok(Json(WorkspaceList {
        data: all.into_iter().map(Workspace::from).collect(),
    }))
}
