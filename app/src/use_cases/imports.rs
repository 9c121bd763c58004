//! Importing clients from a file (read by [`crate::import`]): Keygate's own export with keys
//! generated or given, or another broker's users with the hashes their devices already have. A
//! preview of every entry and problem, or the clients created in a workspace in one
//! transaction, all or nothing, each audited as created. A key generated here is handed back
//! once, in what the import returns, and only its hash is kept; another broker's hash is stored
//! as it is and verified as that broker does until the device's first successful login
//! re-hashes it (`secrets::HashKind`). Any front door calls this with the file's format and
//! text and shows the report its own way.

use crate::import::{self, ClientFields, Credential, ImportError, ImportProblem, ImportedEntry};
use crate::model::{
    Capability, ClientId, ClientKey, ClientName, Description, ImportFormat, TopicRules,
};
use crate::secrets::{self, SecretHash};
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

/// A key an import generated, with the client it belongs to: the one time it is seen.
#[derive(Debug)]
pub struct IssuedKey {
    pub client_id: ClientId,
    pub key: ClientKey,
}

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// How many clients were created.
    pub created: usize,
    /// The keys generated for them, in the file's order; empty when the file brought its own
    /// keys or hashes.
    pub keys: Vec<IssuedKey>,
}

/// An entry that passed every check, with its topic rules parsed for the workspace.
struct Checked {
    entry: ImportedEntry,
    rules: TopicRules,
}

/// The entries `text` holds, or every problem in it, Client IDs already in use and topic rules
/// outside `workspace`'s namespace among them: what the import would do, changing nothing.
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    format: ImportFormat,
    text: &str,
) -> Result<Vec<ImportedEntry>, ImportFailure> {
    Ok(check(state, actor, workspace, format, text)
        .await?
        .into_iter()
        .map(|c| c.entry)
        .collect())
}

async fn check(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    format: ImportFormat,
    text: &str,
) -> Result<Vec<Checked>, ImportFailure> {
    actor
        .require(Capability::ManageClients)
        .map_err(ClientError::from)?;
    reachable(actor, workspace)?;
    let entries = import::parse(format, text).map_err(ImportFailure::Invalid)?;
    let mut problems = Vec::new();
    let mut checked = Vec::with_capacity(entries.len());
    for entry in entries {
        let rules = entry
            .fields
            .as_ref()
            .map_or(Ok(TopicRules::default()), |f| {
                TopicRules::parse(workspace.namespace.as_str(), f.topic_rules.clone())
            });
        let rules = match rules {
            Ok(rules) => rules,
            Err(e) => {
                problems.push(problem(&entry, "topic_rules", e.to_string()));
                TopicRules::default()
            }
        };
        if clients::exists(&state.db, &entry.client_id).await? {
            problems.push(ImportError {
                position: entry.position,
                problem: ImportProblem::Taken(entry.client_id.to_string()),
            });
        }
        checked.push(Checked { entry, rules });
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(ImportFailure::Invalid(problems))
    }
}

fn problem(entry: &ImportedEntry, column: &'static str, why: String) -> ImportError {
    ImportError {
        position: entry.position,
        problem: ImportProblem::Invalid { column, why },
    }
}

/// Whether `workspace` is one the actor may reach: their organization's, and the one their
/// API token is limited to, if any. Another's is "not found", as everywhere.
fn reachable(actor: &Actor, workspace: &Workspace) -> Result<(), ImportFailure> {
    let reaches = workspace.organization_id == actor.organization_id
        && actor
            .token
            .as_ref()
            .is_none_or(|token| token.reaches(&workspace.id));
    if reaches {
        Ok(())
    } else {
        Err(StoreError::NotFound.into())
    }
}

/// Creates a client for every entry of `text` in `workspace`, each audited as created, with the
/// organization's default key lifetime; nothing when any entry is wrong or its Client ID taken.
#[tracing::instrument(skip_all, fields(workspace = %workspace.id, %format))]
pub async fn import(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    format: ImportFormat,
    text: &str,
) -> Result<Imported, ImportFailure> {
    let by = &actor
        .require(Capability::ManageClients)
        .map_err(ClientError::from)?;
    let checked = check(state, actor, workspace, format, text).await?;
    let imported_description =
        Description::parse(format.description()).map_err(StoreError::from)?;
    let ends_at = crate::use_cases::clients::chosen_or_default(state, &by.organization_id, None)
        .await?
        .ends_at(store::now_millis());
    let mut keys = Vec::new();
    let mut prepared = Vec::with_capacity(checked.len());
    for Checked { entry, rules } in &checked {
        let hash = stored_hash(state, entry, &mut keys).await?;
        let fields = match &entry.fields {
            Some(fields) => fields.clone(),
            None => ClientFields {
                name: ClientName::parse(entry.client_id.as_str()).map_err(|e| {
                    ImportFailure::Invalid(vec![problem(entry, "name", e.to_string())])
                })?,
                description: imported_description.clone(),
                active: true,
                scope: None,
                topic_rules: Vec::new(),
            },
        };
        prepared.push((entry, fields, rules, hash));
    }
    let new: Vec<clients::NewClient<'_>> = prepared
        .iter()
        .map(|(entry, fields, rules, hash)| clients::NewClient {
            client_id: &entry.client_id,
            workspace_id: &workspace.id,
            name: &fields.name,
            description: &fields.description,
            key_hash: hash.as_str(),
            key_ends_at: ends_at,
            scope: fields.scope.as_ref(),
            active: fields.active,
            topic_rules: rules,
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
    Ok(Imported { created, keys })
}

/// What is stored for an entry's credential: a generated key's fast hash (the key kept in
/// `keys` to be shown once), a given key's Keygate hash, another broker's hash as it is, or a
/// plain password's argon2id.
async fn stored_hash(
    state: &AppState,
    entry: &ImportedEntry,
    keys: &mut Vec<IssuedKey>,
) -> Result<SecretHash, ImportFailure> {
    let hashed = match &entry.credential {
        Credential::Generate => {
            let key = ClientKey::generate();
            let hash = secrets::hash_key(&state.passwords, &key).await;
            keys.push(IssuedKey {
                client_id: entry.client_id.clone(),
                key,
            });
            hash
        }
        Credential::Key(key) => secrets::hash_key(&state.passwords, key).await,
        Credential::Hash(hash) => Ok(hash.to_stored()),
        Credential::Plain(password) => {
            use secrecy::ExposeSecret;
            state
                .passwords
                .hash(password.expose_secret().as_bytes())
                .await
        }
    };
    Ok(hashed.map_err(ClientError::from)?)
}
