//! The Clients page's server functions: each parses its input, calls `use_cases::clients`, and
//! maps the result. Every one is scoped to the caller's organization: a client of another
//! organization answers "not found", whatever the request says.

use crate::error::AppError;
use crate::model::access::Access;
use crate::model::{
    AccessPreview, Availability, ClientDetails, ClientPage, ClientRow, RevealedKey, ScopeMode,
    SecretInput, TopicRule,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::auth::Caller;
    use crate::error::AppError;
    use crate::model::{
        ClientId, ClientRow, ConnectionInfo, Namespace, RevealedKey, RevocationProgress,
    };
    use crate::use_cases::clients::Issued;

    /// An id that is not even well-formed cannot name an existing client.
    pub fn existing_id(raw: &str) -> Result<ClientId, AppError> {
        ClientId::parse(raw).map_err(|_| AppError::NotFound("client".into()))
    }

    /// `row` as the caller may see it: for a member who does not operate the install, a
    /// revocation a broker refused says so without the broker's name or its answer.
    pub fn shown(caller: &Caller, mut row: ClientRow) -> ClientRow {
        row.revocation = row.revocation.map(|p| shown_progress(caller, p));
        row
    }

    pub fn shown_progress(caller: &Caller, progress: RevocationProgress) -> RevocationProgress {
        if caller.operator {
            progress
        } else {
            progress.without_broker_details()
        }
    }

    /// The one answer that carries a plain key.
    pub fn reveal(caller: &Caller, issued: Issued) -> Result<RevealedKey, AppError> {
        let connection = connection(caller, &issued.row.client_id, &issued.namespace)?;
        Ok(RevealedKey {
            row: shown(caller, issued.row),
            key: issued.key,
            connection,
        })
    }

    /// Where devices connect: the configured broker host, else the host this request came to;
    /// and, with the embedded broker, where they publish over HTTP: the dashboard as this request
    /// reached it.
    pub fn connection(
        caller: &Caller,
        client_id: &ClientId,
        namespace: &Namespace,
    ) -> Result<ConnectionInfo, AppError> {
        let state = crate::auth::state()?;
        let request = leptos::prelude::use_context::<http::request::Parts>();
        let header = |name| {
            request
                .as_ref()
                .and_then(|parts| parts.headers.get(name))
                .and_then(|h| h.to_str().ok())
        };
        let host = state.settings.broker_host.clone().unwrap_or_else(|| {
            header(http::header::HOST)
                .map(|host| strip_port(host).to_owned())
                .unwrap_or_else(|| "localhost".to_owned())
        });
        let publish_url = state.settings.http_publish.then(|| {
            format!(
                "{}/v1/publish",
                dashboard_url(header(http::header::ORIGIN), header(http::header::HOST))
            )
        });
        Ok(ConnectionInfo {
            client_id: client_id.clone(),
            namespace: namespace.clone(),
            organization_id: caller.organization_id().to_owned(),
            broker_host: host,
            broker_port: state.settings.broker_port,
            publish_url,
        })
    }

    /// The dashboard's address as the browser sees it: the request's `Origin` (a reveal comes from
    /// a POST, whose Origin the Origin check has matched to its `Host`, scheme included, so it is
    /// right behind a TLS proxy too), else `http://` and the `Host` it was sent to.
    fn dashboard_url(origin: Option<&str>, host: Option<&str>) -> String {
        match (origin, host) {
            (Some(origin), _) if origin.contains("://") => origin.trim_end_matches('/').to_owned(),
            (_, Some(host)) => format!("http://{host}"),
            _ => "http://localhost".to_owned(),
        }
    }

    /// The host of a `Host` header, without its port (and an IPv6 address without brackets).
    pub fn strip_port(host: &str) -> &str {
        if host.starts_with('[') {
            host.split_once(']').map(|(h, _)| &h[1..]).unwrap_or(host)
        } else {
            host.split_once(':').map(|(h, _)| h).unwrap_or(host)
        }
    }
}

/// One page of the current workspace's clients; `access` is `restricted`, `unrestricted` or
/// anything else for all of them.
#[server(prefix = "/api", endpoint = "clients/list")]
pub async fn list_clients(
    search: String,
    #[server(default)] access: String,
    #[server(default)] expiry: String,
    sort: String,
    descending: bool,
    page: u32,
) -> Result<ClientPage, AppError> {
    use crate::model::{AccessFilter, ClientQuery, SortKey};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let query = ClientQuery {
        search: search
            .trim()
            .chars()
            .take(ClientQuery::MAX_SEARCH)
            .collect(),
        access: AccessFilter::parse(&access),
        expiry: crate::model::ExpiryFilter::parse(&expiry),
        sort: SortKey::parse(&sort),
        descending,
        page: page.max(1),
    };
    let listed = crate::use_cases::clients::list(&state, &caller.workspace, &query).await?;
    Ok(ClientPage {
        rows: listed
            .rows
            .into_iter()
            .map(|row| ssr::shown(&caller, row))
            .collect(),
        total: listed.total,
        workspace_total: listed.workspace_total,
        page: query.page,
        per_page: ClientQuery::PER_PAGE,
        view: caller.user.view_mode,
        now: crate::store::now_millis(),
    })
}

/// Every client of the current workspace as a file (`Csv` or `Json`): what each is and may do,
/// never a key nor a hash. Any member may export what they may read.
#[server(prefix = "/api", endpoint = "clients/export")]
pub async fn export_clients(
    #[server(default)] format: crate::model::client_export::ExportFormat,
) -> Result<String, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let rows = crate::store::clients::list_all(&state.db, &caller.workspace.id).await?;
    Ok(crate::model::client_export::write(
        &rows,
        format,
        crate::store::now_millis(),
    ))
}

/// How far a client's latest revocation got ("disconnecting… / done on 2 of 2 brokers"); `None`
/// when it has none pending or recent. Polled by the Clients page while one is pending.
#[server(prefix = "/api", endpoint = "clients/revocation")]
pub async fn revocation_progress(
    client_id: String,
) -> Result<Option<crate::model::RevocationProgress>, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    Ok(
        crate::use_cases::clients::revocation(&state, caller.organization_id(), &id)
            .await?
            .map(|p| ssr::shown_progress(&caller, p)),
    )
}

/// Whether a Client ID is free (ids are global). Answers only signed-in users.
#[server(prefix = "/api", endpoint = "clients/available")]
pub async fn client_id_available(client_id: String) -> Result<Availability, AppError> {
    let _caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = crate::model::ClientId::parse(&client_id)?;
    Ok(if crate::store::clients::exists(&state.db, &id).await? {
        Availability::Taken
    } else {
        Availability::Available
    })
}

/// Creates a client in the current workspace and returns its key, this once. `scope_mode` "only"
/// restricts it to the devices `scope` lists (at least one); "any" (the default) lets any device
/// of the workspace use it.
#[server(prefix = "/api", endpoint = "clients/create")]
pub async fn create_client(
    client_id: String,
    key: SecretInput,
    name: String,
    description: String,
    #[server(default)] scope_mode: ScopeMode,
    #[server(default)] scope: String,
    #[server(default)] expiry: String,
) -> Result<RevealedKey, AppError> {
    use crate::model::{ClientId, ClientKey, ClientName, Description};
    use crate::use_cases::clients::{self, NewClient};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let new = NewClient {
        client_id: ClientId::parse(&client_id)?,
        key: ClientKey::parse(key.expose())?,
        name: ClientName::parse(&name)?,
        description: Description::parse(&description)?,
        scope: scope_mode.scope(&scope)?,
        expiry: crate::api::keys::ssr::expiry(&expiry)?,
    };
    let issued = clients::create(&state, &caller.actor(), &caller.workspace, new).await?;
    ssr::reveal(&caller, issued)
}

/// A client with its connection details (never its key).
#[server(prefix = "/api", endpoint = "clients/get")]
pub async fn get_client(client_id: String) -> Result<ClientDetails, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let details = crate::use_cases::clients::get(&state, &caller.actor(), &id).await?;
    Ok(ClientDetails {
        connection: ssr::connection(&caller, &id, &details.namespace)?,
        row: ssr::shown(&caller, details.row),
        sessions: details.sessions,
    })
}

/// Changes a client's name and description.
#[server(prefix = "/api", endpoint = "clients/update")]
pub async fn update_client(
    client_id: String,
    name: String,
    description: String,
) -> Result<ClientRow, AppError> {
    use crate::model::{ClientName, Description};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let name = ClientName::parse(&name)?;
    let description = Description::parse(&description)?;
    let row = crate::use_cases::clients::update(&state, &caller.actor(), &id, &name, &description)
        .await?;
    Ok(ssr::shown(&caller, row))
}

/// Activates or deactivates a client; deactivating revokes its sessions.
#[server(prefix = "/api", endpoint = "clients/set_active")]
pub async fn set_client_active(client_id: String, active: bool) -> Result<ClientRow, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let row = crate::use_cases::clients::set_active(&state, &caller.actor(), &id, active).await?;
    Ok(ssr::shown(&caller, row))
}

/// Closes every live session of a client on every broker; its key, status and access stay, so
/// its devices reconnect with the same key.
#[server(prefix = "/api", endpoint = "clients/disconnect_sessions")]
pub async fn disconnect_sessions(client_id: String) -> Result<ClientRow, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let row = crate::use_cases::clients::disconnect_sessions(&state, &caller.actor(), &id).await?;
    Ok(ssr::shown(&caller, row))
}

/// Replaces a client's keys with one (generated or typed, expiring as `expiry` says: `never`,
/// days, a date, or empty for the organization's default) and returns it, this once. The old keys
/// stop verifying when this returns.
#[server(prefix = "/api", endpoint = "clients/regenerate_key")]
pub async fn regenerate_key(
    client_id: String,
    key: SecretInput,
    #[server(default)] expiry: String,
) -> Result<RevealedKey, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let key = crate::model::ClientKey::parse(key.expose())?;
    let expiry = crate::api::keys::ssr::expiry(&expiry)?;
    let issued =
        crate::use_cases::clients::regenerate(&state, &caller.actor(), &id, key, expiry).await?;
    ssr::reveal(&caller, issued)
}

/// Deletes a client; its sessions are revoked.
#[server(prefix = "/api", endpoint = "clients/delete")]
pub async fn delete_client(client_id: String) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    crate::use_cases::clients::delete(&state, &caller.actor(), &id)
        .await
        .map_err(Into::into)
}

/// Changes which devices may use a client (`scope_mode` "any", or "only" those `scope` lists) and
/// its topic rules, in order. A change that narrows access is a revocation: the sessions it
/// concerns are re-decided on every broker.
#[server(prefix = "/api", endpoint = "clients/update_access")]
pub async fn update_client_access(
    client_id: String,
    scope_mode: ScopeMode,
    #[server(default)] scope: String,
    #[server(default)] rules: Vec<TopicRule>,
) -> Result<ClientRow, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let scope = scope_mode.scope(&scope)?;
    let row = crate::use_cases::clients::update_access(&state, &caller.actor(), &id, scope, rules)
        .await?;
    Ok(ssr::shown(&caller, row))
}

/// How many devices of the current workspace a scope list selects now (the scope editor's live
/// count): listed device ids that exist, and devices carrying a listed tag.
#[server(prefix = "/api", endpoint = "clients/count_in_scope")]
pub async fn count_devices_in_scope(scope: String) -> Result<u64, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let scope = crate::model::Scope::parse(&scope)?;
    crate::store::devices::count_in_scope(&state.db, &caller.workspace.id, &scope)
        .await
        .map_err(Into::into)
}

/// The Edit modal's preview box: may `device` do `action` on `topic`, if the client's access were
/// the draft sent (`scope_mode`, `scope`, `rules`)? Decided by the one access rule the brokers
/// apply.
#[server(prefix = "/api", endpoint = "clients/preview_access")]
pub async fn preview_access(
    client_id: String,
    scope_mode: ScopeMode,
    #[server(default)] scope: String,
    #[server(default)] rules: Vec<TopicRule>,
    device: String,
    topic: String,
    action: Access,
) -> Result<AccessPreview, AppError> {
    use crate::use_cases::clients::AccessDraft;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let draft = AccessDraft {
        scope: scope_mode.scope(&scope)?,
        rules,
    };
    let device = crate::model::DeviceId::parse(&device)?;
    crate::use_cases::clients::preview_access(
        &state,
        caller.organization_id(),
        &id,
        draft,
        &device,
        action,
        &topic,
    )
    .await
    .map_err(Into::into)
}
