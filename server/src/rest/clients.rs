//! `/api/v1/…/clients`: each handler parses its request, calls the same use case the dashboard's
//! server function calls (`app::use_cases::clients`), and answers with the API's own bodies. The
//! use cases hold every rule: the token's scope and workspace, validation, audit and revocations.

use super::cursor;
use super::extract::{Body, BodyOrDefault, Caller, Params};
use super::problem::{Problem, from_app};
use super::schema::{
    Client, ClientChange, ClientDetails, ClientList, Connection, ExportParams, IssuedClient,
    ListParams, NewClient, NewKey, Rotation, Session, SessionList,
};
use app::error::AppError;
use app::model::client_export::{self, ExportFormat};
use app::model::{
    ClientId, ClientKey, ClientName, Description, Expiry, Namespace, Permission, RetireAfter,
    RuleAction, Scope, TopicRule,
};
use app::state::AppState;
use app::store::workspaces::Workspace;
use app::use_cases::clients::{self as use_case, Created};
use app::use_cases::workspaces;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The header that makes a create safe to retry.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A workspace the token reaches; another organization's, or one outside the token's limit, is
/// "not found" like a missing one.
pub(super) async fn workspace(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Workspace, Problem> {
    workspaces::reachable(state, &caller.0, id)
        .await
        .map_err(|e| Problem::from(AppError::missing("workspace")(e)))
}

/// A Client ID from the path: one that is not even well-formed names no client.
fn client_id(raw: &str) -> Result<ClientId, Problem> {
    ClientId::parse(raw).map_err(|_| not_found())
}

fn not_found() -> Problem {
    Problem::from(AppError::NotFound("client".into()))
}

/// A use case's error on a client: missing, another organization's or out of the token's reach
/// is the client "not found".
fn client_problem(e: use_case::ClientError) -> Problem {
    match e {
        use_case::ClientError::Store(app::store::StoreError::NotFound) => not_found(),
        other => from_app(other),
    }
}

/// A key as the request gives it, or a generated one.
fn key(given: Option<&str>) -> Result<ClientKey, Problem> {
    match given {
        Some(text) => Ok(ClientKey::parse(text).map_err(from_app)?),
        None => Ok(ClientKey::generate()),
    }
}

fn expiry(given: Option<&str>) -> Result<Option<Expiry>, Problem> {
    given
        .map(|text| Expiry::parse(text, app::store::now_millis()))
        .transpose()
        .map_err(from_app)
}

fn scope(given: Option<&[String]>) -> Result<Option<Scope>, Problem> {
    match given {
        None => Ok(None),
        Some([]) => Err(Problem::invalid(
            "scope",
            "A scope lists at least one device id or tag; send null for any device.",
        )),
        Some(entries) => Ok(Some(Scope::parse(&entries.join(",")).map_err(from_app)?)),
    }
}

/// Topic rules as the request gives them; whether each filter fits the client's namespace is the
/// use case's to say.
fn rules(given: &[super::schema::TopicRule]) -> Result<Vec<TopicRule>, Problem> {
    given
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let wrong =
                |what: &str| Problem::invalid("topic_rules", format!("Rule {}: {what}.", i + 1));
            Ok(TopicRule {
                permission: Permission::parse(&rule.permission)
                    .ok_or_else(|| wrong("the permission is `allow` or `deny`"))?,
                action: RuleAction::parse(&rule.action)
                    .ok_or_else(|| wrong("the action is `publish`, `subscribe` or `both`"))?,
                filter: rule.filter.clone(),
            })
        })
        .collect()
}

/// Where a client's devices connect: the configured broker host, else the host this request
/// came to.
fn connection(
    state: &AppState,
    headers: &HeaderMap,
    client_id: &ClientId,
    namespace: &Namespace,
    organization_id: &str,
) -> Connection {
    let host = state.settings.broker_host.clone().unwrap_or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|host| app::api::clients::ssr::strip_port(host).to_owned())
            .unwrap_or_else(|| "localhost".to_owned())
    });
    Connection {
        mqtt_host: host,
        mqtt_port: state.settings.broker_port,
        namespace: namespace.to_string(),
        username_with_organization: format!("{client_id}@{organization_id}"),
    }
}

/// What a key just set answers: the client, where it connects, and the key when Keygate generated
/// it (a key the caller sent is not echoed).
fn issued_client(
    state: &AppState,
    headers: &HeaderMap,
    actor: &app::use_cases::Actor,
    issued: use_case::Issued,
    generated: bool,
) -> IssuedClient {
    IssuedClient {
        connection: connection(
            state,
            headers,
            &issued.row.client_id,
            &issued.namespace,
            &actor.organization_id,
        ),
        key: generated.then(|| issued.key.expose().to_owned()),
        client: Client::from_row(issued.row, &issued.workspace_id),
    }
}

/// The workspace of a client the token reaches: the answer of a change names it.
async fn workspace_of(state: &AppState, caller: &Caller, id: &ClientId) -> Result<String, Problem> {
    Ok(use_case::get(state, &caller.0, id)
        .await
        .map_err(client_problem)?
        .workspace_id)
}

/// Lists a workspace's clients, a page at a time.
#[utoipa::path(
    get,
    operation_id = "listClients",
    path = "/api/v1/workspaces/{workspace_id}/clients",
    tag = "clients",
    params(("workspace_id" = String, Path, description = "The workspace's id"), ListParams),
    responses(
        (status = 200, description = "A page of clients", body = ClientList),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace within the token's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is out of range", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
    Params(params): Params<ListParams>,
) -> Result<Json<ClientList>, Problem> {
    let page = cursor::page(&params)?;
    let workspace = workspace(&state, &caller, &workspace_id).await?;
    // One more than the page holds: whether there is a next page, without a second query.
    let (mut rows, total) = use_case::list_after(
        &state,
        &workspace,
        &page.query,
        page.after.as_ref(),
        page.limit + 1,
    )
    .await
    .map_err(from_app)?;
    let next_cursor = if rows.len() > page.limit as usize {
        rows.truncate(page.limit as usize);
        rows.last().map(|last| cursor::next(&page, last))
    } else {
        None
    };
    Ok(Json(ClientList {
        data: rows
            .into_iter()
            .map(|row| Client::from_row(row, &workspace.id))
            .collect(),
        next_cursor,
        total,
    }))
}

/// Creates a client in a workspace; with an `Idempotency-Key`, a retry answers with the client the
/// first request created instead of making another.
#[utoipa::path(
    post,
    operation_id = "createClient",
    path = "/api/v1/workspaces/{workspace_id}/clients",
    tag = "clients",
    params(
        ("workspace_id" = String, Path, description = "The workspace's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry for a day: a retry with the same key and body answers with the same client (`Idempotent-Replayed: true`, without the key)"),
    ),
    request_body = NewClient,
    responses(
        (status = 201, description = "Created; a generated key is in the answer, this once", body = IssuedClient),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace within the token's reach", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A retry whose client was deleted since", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, the Client ID is taken, or the Idempotency-Key was used with another request", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(workspace_id): Path<String>,
    Body(body): Body<NewClient>,
) -> Result<Response, Problem> {
    let workspace = workspace(&state, &caller, &workspace_id).await?;
    let client_id = ClientId::parse(&body.client_id).map_err(from_app)?;
    let new = use_case::NewClient {
        name: ClientName::parse(body.name.as_deref().unwrap_or(client_id.as_str()))
            .map_err(from_app)?,
        client_id,
        key: key(body.key.as_deref())?,
        description: Description::parse(&body.description).map_err(from_app)?,
        scope: scope(body.scope.as_deref())?,
        expiry: expiry(body.expiry.as_deref())?,
    };
    let generated = body.key.is_none();
    let idempotency_key = match headers.get(IDEMPOTENCY_KEY) {
        // A value that is not even text is refused with the use case's own rule and sentence.
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| from_app(use_case::ClientError::BadIdempotencyKey))?,
        ),
        None => None,
    };
    let actor = &caller.0;
    let created = match idempotency_key {
        Some(key) => use_case::create_once(&state, actor, &workspace, new, key).await,
        None => use_case::create(&state, actor, &workspace, new)
            .await
            .map(Created::New),
    }
    .map_err(from_app)?;
    let (body, replayed) = match created {
        Created::New(issued) => (
            issued_client(&state, &headers, actor, issued, generated),
            false,
        ),
        Created::Replayed(details) => (
            IssuedClient {
                connection: connection(
                    &state,
                    &headers,
                    &details.row.client_id,
                    &details.namespace,
                    &actor.organization_id,
                ),
                key: None,
                client: Client::from_row(details.row, &details.workspace_id),
            },
            true,
        ),
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A client, with where its devices connect.
#[utoipa::path(
    get,
    operation_id = "getClient",
    path = "/api/v1/clients/{client_id}",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    responses(
        (status = 200, description = "The client", body = ClientDetails),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Json<ClientDetails>, Problem> {
    let id = client_id(&raw)?;
    let details = use_case::get(&state, &caller.0, &id)
        .await
        .map_err(client_problem)?;
    Ok(Json(ClientDetails {
        connection: connection(
            &state,
            &headers,
            &id,
            &details.namespace,
            &caller.0.organization_id,
        ),
        client: Client::from_row(details.row, &details.workspace_id),
    }))
}

/// Changes a client's name, description or scope: only the fields sent change, all or none.
#[utoipa::path(
    patch,
    operation_id = "updateClient",
    path = "/api/v1/clients/{client_id}",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    request_body = ClientChange,
    responses(
        (status = 200, description = "The client as it is now", body = Client),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid; nothing changed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    Body(change): Body<ClientChange>,
) -> Result<Json<Client>, Problem> {
    let id = client_id(&raw)?;
    let actor = &caller.0;
    let current = use_case::get(&state, actor, &id)
        .await
        .map_err(client_problem)?;
    // Every field is parsed before anything is written: a bad one changes nothing.
    let name = change
        .name
        .as_deref()
        .map(ClientName::parse)
        .transpose()
        .map_err(from_app)?;
    let description = change
        .description
        .as_deref()
        .map(Description::parse)
        .transpose()
        .map_err(from_app)?;
    let new_scope = change
        .scope
        .as_ref()
        .map(|entries| scope(entries.as_deref()))
        .transpose()?;
    let new_rules = change.topic_rules.as_deref().map(rules).transpose()?;
    let mut row = current.row;
    if name.is_some() || description.is_some() {
        let name = match name {
            Some(name) => name,
            None => ClientName::parse(&row.name).map_err(from_app)?,
        };
        let description = match description {
            Some(description) => description,
            None => Description::parse(&row.description).map_err(from_app)?,
        };
        row = use_case::update(&state, actor, &id, &name, &description)
            .await
            .map_err(client_problem)?;
    }
    if new_scope.is_some() || new_rules.is_some() {
        let scope = match new_scope {
            Some(scope) => scope,
            None => row.scope.clone(),
        };
        let rules = match new_rules {
            Some(rules) => rules,
            None => row.topic_rules.iter().cloned().collect(),
        };
        row = use_case::update_access(&state, actor, &id, scope, rules)
            .await
            .map_err(client_problem)?;
    }
    Ok(Json(Client::from_row(row, &current.workspace_id)))
}

/// Lets a client's devices connect again.
#[utoipa::path(
    post,
    operation_id = "activateClient",
    path = "/api/v1/clients/{client_id}/activate",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    responses(
        (status = 200, description = "The client as it is now", body = Client),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn activate(
    state: State<AppState>,
    caller: Caller,
    path: Path<String>,
) -> Result<Json<Client>, Problem> {
    set_active(state, caller, path, true).await
}

/// Stops a client's devices from connecting, and disconnects its sessions on every broker.
#[utoipa::path(
    post,
    operation_id = "deactivateClient",
    path = "/api/v1/clients/{client_id}/deactivate",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    responses(
        (status = 200, description = "The client as it is now; its sessions are being disconnected", body = Client),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn deactivate(
    state: State<AppState>,
    caller: Caller,
    path: Path<String>,
) -> Result<Json<Client>, Problem> {
    set_active(state, caller, path, false).await
}

async fn set_active(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    active: bool,
) -> Result<Json<Client>, Problem> {
    let id = client_id(&raw)?;
    let workspace_id = workspace_of(&state, &caller, &id).await?;
    let row = use_case::set_active(&state, &caller.0, &id, active)
        .await
        .map_err(client_problem)?;
    Ok(Json(Client::from_row(row, &workspace_id)))
}

/// Replaces every key of a client with a new one: the old keys stop working at once, and every
/// session closes on every broker.
#[utoipa::path(
    post,
    operation_id = "regenerateClientKey",
    path = "/api/v1/clients/{client_id}/regenerate-key",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    request_body(content = Option<NewKey>, description = "Optional: the key to set, and its expiry"),
    responses(
        (status = 200, description = "The new key works; a generated one is in the answer, this once", body = IssuedClient),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The key or the expiry is not valid; nothing changed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn regenerate_key(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(raw): Path<String>,
    BodyOrDefault(request): BodyOrDefault<NewKey>,
) -> Result<Json<IssuedClient>, Problem> {
    let id = client_id(&raw)?;
    let new_key = key(request.key.as_deref())?;
    let expiry = expiry(request.expiry.as_deref())?;
    let issued = use_case::regenerate(&state, &caller.0, &id, new_key, expiry)
        .await
        .map_err(client_problem)?;
    let generated = request.key.is_none();
    Ok(Json(issued_client(
        &state, &headers, &caller.0, issued, generated,
    )))
}

/// Gives a client a second key that works at once; the current key keeps working until `retire`,
/// then stops, and the sessions that used it close on every broker while the new key's stay.
#[utoipa::path(
    post,
    operation_id = "rotateClientKey",
    path = "/api/v1/clients/{client_id}/rotate-key",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    request_body = Rotation,
    responses(
        (status = 200, description = "Both keys work until the retirement; a generated new key is in the answer, this once", body = IssuedClient),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only, or the client has two keys already", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The key, the expiry or the retirement is not valid; nothing changed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Body(request): Body<Rotation>,
) -> Result<Json<IssuedClient>, Problem> {
    let id = client_id(&raw)?;
    let rotation = use_case::Rotation {
        key: key(request.key.as_deref())?,
        expiry: expiry(request.expiry.as_deref())?,
        retire: RetireAfter::parse(&request.retire, app::store::now_millis()).map_err(from_app)?,
    };
    let issued = use_case::rotate(&state, &caller.0, &id, rotation)
        .await
        .map_err(client_problem)?;
    let generated = request.key.is_none();
    Ok(Json(issued_client(
        &state, &headers, &caller.0, issued, generated,
    )))
}

/// Retires one of a client's keys now: it stops working, and the sessions that used it close on
/// every broker. The client's only working key cannot be retired (regenerate instead).
#[utoipa::path(
    post,
    operation_id = "retireClientKey",
    path = "/api/v1/clients/{client_id}/keys/{key_id}/retire",
    tag = "clients",
    params(
        ("client_id" = String, Path, description = "The Client ID"),
        ("key_id" = String, Path, description = "The key's id (`keys[].id` of the client)"),
    ),
    responses(
        (status = 200, description = "The client as it is now", body = Client),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only, or it is the client's only working key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach, or no such working key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn retire_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, key_id)): Path<(String, String)>,
) -> Result<Json<Client>, Problem> {
    let id = client_id(&raw)?;
    let workspace_id = workspace_of(&state, &caller, &id).await?;
    let row = use_case::retire_key(&state, &caller.0, &id, &key_id)
        .await
        .map_err(|e| Problem::from(AppError::missing_key(e)))?;
    Ok(Json(Client::from_row(row, &workspace_id)))
}

/// Closes every session of a client on every broker; its key, status and access stay, so its
/// devices reconnect with the key they have.
#[utoipa::path(
    post,
    operation_id = "disconnectClient",
    path = "/api/v1/clients/{client_id}/disconnect",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    responses(
        (status = 200, description = "The client; its sessions are being closed", body = Client),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn disconnect(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<Client>, Problem> {
    let id = client_id(&raw)?;
    let workspace_id = workspace_of(&state, &caller, &id).await?;
    let row = use_case::disconnect_sessions(&state, &caller.0, &id)
        .await
        .map_err(client_problem)?;
    Ok(Json(Client::from_row(row, &workspace_id)))
}

/// Deletes a client: its key stops working at once, and every session closes on every broker.
#[utoipa::path(
    delete,
    operation_id = "deleteClient",
    path = "/api/v1/clients/{client_id}",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's scope is read-only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<StatusCode, Problem> {
    let id = client_id(&raw)?;
    use_case::delete(&state, &caller.0, &id)
        .await
        .map_err(client_problem)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The sessions connected with a client now, on every broker.
#[utoipa::path(
    get,
    operation_id = "listClientSessions",
    path = "/api/v1/clients/{client_id}/sessions",
    tag = "clients",
    params(("client_id" = String, Path, description = "The Client ID")),
    responses(
        (status = 200, description = "Its live sessions", body = SessionList),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client within the token's reach", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn sessions(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<SessionList>, Problem> {
    let id = client_id(&raw)?;
    let details = use_case::get(&state, &caller.0, &id)
        .await
        .map_err(client_problem)?;
    Ok(Json(SessionList {
        data: details.sessions.into_iter().map(Session::from).collect(),
    }))
}

/// Every client of a workspace as a CSV or JSON file: what each is and may do, never a key or a
/// hash (the dashboard's Export).
#[utoipa::path(
    get,
    operation_id = "exportClients",
    path = "/api/v1/workspaces/{workspace_id}/clients/export",
    tag = "clients",
    params(("workspace_id" = String, Path, description = "The workspace's id"), ExportParams),
    responses(
        (status = 200, description = "The file: CSV (`text/csv`), or JSON with `format=json`", content_type = "text/csv", body = String),
        (status = 401, description = "No working API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace within the token's reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(workspace_id): Path<String>,
    Params(params): Params<ExportParams>,
) -> Result<Response, Problem> {
    let format = match params.format.as_deref().unwrap_or("csv") {
        "csv" => ExportFormat::Csv,
        "json" => ExportFormat::Json,
        _ => return Err(Problem::invalid("format", "The format is `csv` or `json`.")),
    };
    let workspace = workspace(&state, &caller, &workspace_id).await?;
    let rows = app::store::clients::list_all(&state.db, &workspace.id)
        .await
        .map_err(from_app)?;
    let file = client_export::write(&rows, format, app::store::now_millis());
    let content_type = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Json => "application/json",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], file).into_response())
}
