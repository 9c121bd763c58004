//! Importing clients with the hashes their devices already have (a Mosquitto `password_file` or
//! `dynamic-security.json`, read by [`crate::import`]): a preview of every entry and problem, or
//! the clients created in the actor's workspace in one transaction, all or nothing. Each username
//! becomes the client's Client ID and its name; the hash is stored as it is and verified as its
//! broker does until the device's first successful login re-hashes it (`secrets::HashKind`).

use crate::import::{self, ImportError, ImportFormat, ImportProblem, ImportedEntry};
use crate::model::{Capability, ClientName, Description};
use crate::state::AppState;
use crate::store::workspaces::Workspace;
use crate::store::{self, StoreError, clients};
use crate::use_cases::Actor;
use crate::use_cases::clients::ClientError;

/// Why an import created nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// Problems in the file (or Client IDs already in use), each at its line or client.
    #[error("the file has {} problems", .0.len())]
    Invalid(Vec<ImportError>),
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl From<StoreError> for ImportFailure {
    fn from(e: StoreError) -> Self {
        Self::Client(e.into())
    }
}

/// The entries `text` holds, or every problem in it, with Client IDs already in use among them:
/// what the import would do, changing nothing.
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    format: ImportFormat,
    text: &str,
) -> Result<Vec<ImportedEntry>, ImportFailure> {
    actor
        .require(Capability::ManageClients)
        .map_err(ClientError::from)?;
    let entries = import::parse(format, text).map_err(ImportFailure::Invalid)?;
    let mut taken = Vec::new();
    for entry in &entries {
        if clients::exists(&state.db, &entry.client_id).await? {
            taken.push(ImportError {
                position: entry.position,
                problem: ImportProblem::InvalidClientId(format!(
                    "{} is taken by another client or workspace",
                    entry.client_id
                )),
            });
        }
    }
    if taken.is_empty() {
        Ok(entries)
    } else {
        Err(ImportFailure::Invalid(taken))
    }
}

/// Creates a client for every entry of `text` in `workspace`, each audited as created, with the
/// organization's default key lifetime; nothing when any entry is wrong or its Client ID taken.
/// How many were created.
#[tracing::instrument(skip_all, fields(workspace = %workspace.id, ?format))]
pub async fn import(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    format: ImportFormat,
    text: &str,
) -> Result<usize, ImportFailure> {
    let by = &actor
        .require(Capability::ManageClients)
        .map_err(ClientError::from)?;
    let entries = preview(state, actor, format, text).await?;
    let mut names = Vec::with_capacity(entries.len());
    for entry in &entries {
        let name = ClientName::parse(entry.client_id.as_str()).map_err(|e| {
            ImportFailure::Invalid(vec![ImportError {
                position: entry.position,
                problem: ImportProblem::InvalidClientId(e.to_string()),
            }])
        })?;
        names.push((name, entry.hash.to_stored()));
    }
    let description = Description::parse(match format {
        ImportFormat::MosquittoPasswordFile => "Imported from a Mosquitto password file",
        ImportFormat::MosquittoDynsec => "Imported from Mosquitto dynamic security",
    })
    .map_err(StoreError::from)?;
    let ends_at = crate::use_cases::clients::chosen_or_default(state, &by.organization_id, None)
        .await?
        .ends_at(store::now_millis());
    let new: Vec<clients::NewClient<'_>> = entries
        .iter()
        .zip(&names)
        .map(|(entry, (name, hash))| clients::NewClient {
            client_id: &entry.client_id,
            workspace_id: &workspace.id,
            name,
            description: &description,
            key_hash: hash.as_str(),
            key_ends_at: ends_at,
            scope: None,
            idempotency: None,
        })
        .collect();
    let created = clients::create_many(
        &state.db,
        by,
        &new,
        state.settings.max_clients_per_workspace,
    )
    .await?;
    // Each client's `client.created` was queued in the import's transaction.
    state.events.ring();
    Ok(created)
}
