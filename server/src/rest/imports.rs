//! `/api/v1/workspaces/{id}/clients/import`: a file of clients (Keygate's export with keys
//! generated or given, a Mosquitto password file or dynamic-security.json, an EMQX user export)
//! previewed or imported all or nothing, through the use case the dashboard's Import calls.

use super::clients::workspace;
use super::extract::{Body, Caller};
use super::problem::{Problem, from_app};
use super::schema::{ImportRequest, ImportResult, ImportedClient, IssuedKey};
use app::model::ImportFormat;
use app::state::AppState;
use app::use_cases::imports::{self, ImportFailure};
use axum::Json;
use axum::extract::{Path, State};

/// Previews or imports a file of clients into a workspace.
#[utoipa::path(
    post,
    operation_id = "importClients",
    path = "/api/v1/workspaces/{workspace_id}/clients/import",
    tag = "clients",
    params(("workspace_id" = String, Path, description = "The workspace's id")),
    request_body = ImportRequest,
    responses(
        (status = 200, description = "What the file holds (`dry_run`), or what was created, with the keys generated for them, this once", body = ImportResult),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace within the token's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown format, or problems in the file, each in `errors` with where it is; nothing was created", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
    Body(request): Body<ImportRequest>,
) -> Result<Json<ImportResult>, Problem> {
    let format: ImportFormat = request.format.parse().map_err(|_| {
        Problem::invalid(
            "format",
            "The format is keygate-generated, keygate-given, mosquitto-password-file, \
             mosquitto-dynsec, or emqx:HASHING (emqx:plain, emqx:bcrypt, \
             emqx:sha256:suffix, emqx:pbkdf2:sha256:4096, …).",
        )
    })?;
    let workspace = workspace(&state, &caller, &workspace_id).await?;
    let actor = &caller.0;
    let outcome = if request.dry_run {
        imports::preview(&state, actor, &workspace, format, &request.content)
            .await
            .map(|entries| ImportResult {
                dry_run: true,
                created: 0,
                clients: entries
                    .into_iter()
                    .map(|e| ImportedClient {
                        position: e.position.to_string(),
                        client_id: e.client_id.to_string(),
                    })
                    .collect(),
                keys: Vec::new(),
            })
    } else {
        imports::import(&state, actor, &workspace, format, &request.content)
            .await
            .map(|imported| ImportResult {
                dry_run: false,
                created: imported.created,
                clients: Vec::new(),
                keys: imported
                    .keys
                    .into_iter()
                    .map(|k| IssuedKey {
                        client_id: k.client_id.to_string(),
                        key: k.key.expose().to_owned(),
                    })
                    .collect(),
            })
    };
    match outcome {
        Ok(result) => Ok(Json(result)),
        Err(ImportFailure::Invalid(errors)) => Err(Problem::file(
            errors
                .into_iter()
                .map(|e| (e.position.to_string(), e.problem.to_string()))
                .collect(),
        )),
        Err(ImportFailure::Client(e)) => Err(from_app(e)),
    }
}
