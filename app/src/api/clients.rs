//! The Clients page's server functions. Every one is scoped to the caller's organization: a
//! client of another organization answers "not found", whatever the request says.

use crate::error::AppError;
use crate::model::{Availability, ClientDetails, ClientPage, ClientRow, RevealedKey, SecretInput};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::auth::Caller;
    use crate::error::AppError;
    use crate::model::{ClientId, ConnectionInfo};

    /// An id that is not even well-formed cannot name an existing client.
    pub fn existing_id(raw: &str) -> Result<ClientId, AppError> {
        ClientId::parse(raw).map_err(|_| not_found())
    }

    pub fn not_found() -> AppError {
        AppError::NotFound("client".into())
    }

    /// Where devices connect: the configured broker host, else the host this request came to.
    pub fn connection(
        caller: &Caller,
        client_id: &ClientId,
        namespace: &crate::model::Namespace,
    ) -> Result<ConnectionInfo, AppError> {
        let state = crate::auth::state()?;
        let host = state.settings.broker_host.clone().unwrap_or_else(|| {
            leptos::prelude::use_context::<http::request::Parts>()
                .and_then(|parts| {
                    parts
                        .headers
                        .get(http::header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .map(str::to_owned)
                })
                .map(|host| strip_port(&host).to_owned())
                .unwrap_or_else(|| "localhost".to_owned())
        });
        Ok(ConnectionInfo {
            client_id: client_id.clone(),
            namespace: namespace.clone(),
            organization_id: caller.organization_id().to_owned(),
            broker_host: host,
            broker_port: state.settings.broker_port,
        })
    }

    /// How long a finished revocation stays on the page ("done on 2 of 2 brokers").
    const SHOW_DONE_FOR_MS: i64 = 5 * 60 * 1000;

    /// Fills in each row's latest revocation (one query for the whole page).
    pub async fn attach_progress(
        db: &crate::store::Db,
        organization_id: &str,
        rows: &mut [crate::model::ClientRow],
    ) -> Result<(), AppError> {
        let ids: Vec<&str> = rows.iter().map(|r| r.client_id.as_str()).collect();
        let mut progress = progress(db, organization_id, &ids).await?;
        for row in rows {
            row.revocation = progress.remove(row.client_id.as_str());
        }
        Ok(())
    }

    /// One row with its latest revocation.
    pub async fn with_progress(
        db: &crate::store::Db,
        organization_id: &str,
        row: crate::model::ClientRow,
    ) -> Result<crate::model::ClientRow, AppError> {
        let mut rows = [row];
        attach_progress(db, organization_id, &mut rows).await?;
        let [row] = rows;
        Ok(row)
    }

    pub async fn progress(
        db: &crate::store::Db,
        organization_id: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, crate::model::RevocationProgress>, AppError> {
        let since = crate::store::now_millis() - SHOW_DONE_FOR_MS;
        Ok(crate::store::deliveries::progress(db, organization_id, ids, since).await?)
    }

    fn strip_port(host: &str) -> &str {
        if host.starts_with('[') {
            host.split_once(']').map(|(h, _)| &h[1..]).unwrap_or(host)
        } else {
            host.split_once(':').map(|(h, _)| h).unwrap_or(host)
        }
    }
}

/// One page of the current workspace's clients.
#[server(prefix = "/api", endpoint = "clients/list")]
pub async fn list_clients(
    search: String,
    sort: String,
    descending: bool,
    page: u32,
) -> Result<ClientPage, AppError> {
    use crate::model::{ClientQuery, SortKey};
    use crate::store::clients;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let query = ClientQuery {
        search: search
            .trim()
            .chars()
            .take(ClientQuery::MAX_SEARCH)
            .collect(),
        sort: SortKey::parse(&sort),
        descending,
        page: page.max(1),
    };
    let (mut rows, total) = clients::list(&state.db, &caller.workspace.id, &query).await?;
    ssr::attach_progress(&state.db, caller.organization_id(), &mut rows).await?;
    let workspace_total = if query.search.is_empty() {
        total
    } else {
        clients::count(&state.db, &caller.workspace.id).await?
    };
    Ok(ClientPage {
        rows,
        total,
        workspace_total,
        page: query.page,
        per_page: ClientQuery::PER_PAGE,
        view: caller.user.view_mode,
    })
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
    let mut found = ssr::progress(&state.db, caller.organization_id(), &[id.as_str()]).await?;
    Ok(found.remove(id.as_str()))
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

/// Creates a client in the current workspace and returns its key, this once.
#[server(prefix = "/api", endpoint = "clients/create")]
pub async fn create_client(
    client_id: String,
    key: SecretInput,
    name: String,
    description: String,
) -> Result<RevealedKey, AppError> {
    use crate::model::{ClientName, Description};
    use crate::store::clients;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = crate::model::ClientId::parse(&client_id)?;
    let key = crate::model::ClientKey::parse(key.expose())?;
    let name = ClientName::parse(&name)?;
    let description = Description::parse(&description)?;
    if clients::exists(&state.db, &id).await? {
        return Err(crate::store::StoreError::ClientIdTaken.into());
    }
    let hash = crate::secrets::hash_key(&key).await?;
    let new = clients::NewClient {
        client_id: &id,
        workspace_id: &caller.workspace.id,
        name: &name,
        description: &description,
        key_hash: hash.as_str(),
    };
    let row = clients::create(&state.db, &caller.audit(), new).await?;
    let connection = ssr::connection(&caller, &id, &caller.workspace.namespace)?;
    Ok(RevealedKey {
        row,
        key,
        connection,
    })
}

/// A client with its connection details (never its key).
#[server(prefix = "/api", endpoint = "clients/get")]
pub async fn get_client(client_id: String) -> Result<ClientDetails, AppError> {
    use crate::store::{clients, workspaces};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let record = clients::get(&state.db, caller.organization_id(), &id)
        .await
        .map_err(AppError::missing("client"))?;
    let workspace =
        workspaces::get(&state.db, caller.organization_id(), &record.workspace_id).await?;
    let connection = ssr::connection(&caller, &id, &workspace.namespace)?;
    let owner = crate::model::ClientRef {
        organization_id: caller.organization_id().to_owned(),
        client_id: id.clone(),
    };
    let sessions = crate::store::device_sessions::list(&state.db, &owner).await?;
    let row = ssr::with_progress(&state.db, caller.organization_id(), record.row).await?;
    Ok(ClientDetails {
        row,
        connection,
        sessions,
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
    let row = crate::store::clients::update(&state.db, &caller.audit(), &id, &name, &description)
        .await
        .map_err(AppError::missing("client"))?;
    state.verified_keys.forget(id.as_str());
    Ok(row)
}

/// Activates or deactivates a client; deactivating revokes its sessions.
#[server(prefix = "/api", endpoint = "clients/set_active")]
pub async fn set_client_active(client_id: String, active: bool) -> Result<ClientRow, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let row = crate::store::clients::update_active(&state.db, &caller.audit(), &id, active)
        .await
        .map_err(AppError::missing("client"))?;
    state.verified_keys.forget(id.as_str());
    if !active {
        state.revocations.ring();
    }
    let row = ssr::with_progress(&state.db, caller.organization_id(), row).await?;
    Ok(row)
}

/// Replaces a client's key (generated or typed) and returns the new one, this once. The old key
/// stops verifying when this returns.
#[server(prefix = "/api", endpoint = "clients/regenerate_key")]
pub async fn regenerate_key(client_id: String, key: SecretInput) -> Result<RevealedKey, AppError> {
    use crate::store::{clients, workspaces};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    let key = crate::model::ClientKey::parse(key.expose())?;
    // Ownership first, so another organization's client costs no hashing and reveals nothing.
    clients::get(&state.db, caller.organization_id(), &id)
        .await
        .map_err(AppError::missing("client"))?;
    let hash = crate::secrets::hash_key(&key).await?;
    let record = clients::update_key(&state.db, &caller.audit(), &id, hash.as_str())
        .await
        .map_err(AppError::missing("client"))?;
    state.verified_keys.forget(id.as_str());
    state.revocations.ring();
    let workspace =
        workspaces::get(&state.db, caller.organization_id(), &record.workspace_id).await?;
    let connection = ssr::connection(&caller, &id, &workspace.namespace)?;
    let row = ssr::with_progress(&state.db, caller.organization_id(), record.row).await?;
    Ok(RevealedKey {
        row,
        key,
        connection,
    })
}

/// Deletes a client; its sessions are revoked.
#[server(prefix = "/api", endpoint = "clients/delete")]
pub async fn delete_client(client_id: String) -> Result<(), AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = ssr::existing_id(&client_id)?;
    crate::store::clients::delete(&state.db, &caller.audit(), &id)
        .await
        .map_err(AppError::missing("client"))?;
    state.verified_keys.forget(id.as_str());
    state.revocations.ring();
    Ok(())
}
