//! Clients: list and read them, create one, change its name or its access (and preview an access
//! before it is saved), activate or deactivate it, disconnect its sessions, regenerate its key,
//! delete it. Every function is scoped to the acting organization: another organization's client
//! is [`StoreError::NotFound`], exactly like a missing one.

use crate::model::access::{Access, Subject, decide};
use crate::model::{
    AccessFilter, AccessPreview, Capability, ClientId, ClientKey, ClientName, ClientQuery,
    ClientRef, ClientRow, Description, DeviceId, EXPIRING_WITHIN_MS, Expiry, LiveSession, MAX_KEYS,
    Namespace, RetireAfter, RevocationProgress, Scope, TopicRule, TopicRules,
};
use crate::secrets::{self, SecretError};
use crate::state::AppState;
use crate::store::idempotency_keys::{self, IdempotencyKey};
use crate::store::workspaces::Workspace;
use crate::store::{
    self, Db, StoreError, StoreResult, client_keys, clients, deliveries, device_sessions, devices,
};
use crate::use_cases::{Actor, Denied};
use std::collections::HashMap;

/// Why a use case on clients failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// What the store said: [`StoreError::NotFound`] for a client that is missing or another
    /// organization's, [`StoreError::ClientIdTaken`] for a Client ID in use, or a failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hashing(#[from] SecretError),
    /// A topic rule that is not valid for the client's workspace.
    #[error(transparent)]
    Rule(#[from] crate::model::RuleError),
    /// The actor's role does not allow the change; nothing was read or changed.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// An `Idempotency-Key` that is empty, too long, or not visible ASCII.
    #[error(
        "an Idempotency-Key is 1 to {} visible ASCII characters",
        idempotency_keys::MAX_KEY_LEN
    )]
    BadIdempotencyKey,
    /// An `Idempotency-Key` the caller sent before with another request; nothing was created.
    #[error("this Idempotency-Key was sent before with a different request")]
    IdempotencyKeyReused,
    /// A retry whose first request's client has been deleted since; nothing was created.
    #[error("the client this Idempotency-Key created has been deleted since")]
    ReplayedClientGone,
}

/// A new client, its fields parsed.
#[derive(Debug)]
pub struct NewClient {
    pub client_id: ClientId,
    pub key: ClientKey,
    pub name: ClientName,
    pub description: Description,
    /// `None`: any device in the workspace.
    pub scope: Option<Scope>,
    /// When its key expires; `None`: the organization's default.
    pub expiry: Option<Expiry>,
}

/// A key just set (a new client's, or a regenerated one), with what the reveal shows beside it.
/// The only value that carries a plain key out of this layer, once.
#[derive(Debug)]
pub struct Issued {
    pub row: ClientRow,
    pub key: ClientKey,
    pub workspace_id: String,
    /// The namespace of the client's workspace, where its devices' topics live.
    pub namespace: Namespace,
}

/// A client as the Edit modal shows it: its row with its latest revocation, where it lives, and
/// its connected sessions on every broker.
#[derive(Debug)]
pub struct Details {
    pub row: ClientRow,
    pub workspace_id: String,
    pub namespace: Namespace,
    pub sessions: Vec<LiveSession>,
}

/// One page of a workspace's clients.
#[derive(Debug)]
pub struct Listed {
    /// With their latest revocations.
    pub rows: Vec<ClientRow>,
    /// Clients matching the search.
    pub total: u64,
    /// Clients in the workspace, whatever the search.
    pub workspace_total: u64,
}

/// How long a finished revocation stays on its client's row ("done on 2 of 2 brokers").
const SHOW_DONE_FOR_MS: i64 = 5 * 60 * 1000;

/// One page of `workspace`'s clients (a workspace of the caller's organization).
#[tracing::instrument(level = "debug", skip_all, fields(workspace = %workspace.id))]
pub async fn list(
    state: &AppState,
    workspace: &Workspace,
    query: &ClientQuery,
) -> Result<Listed, ClientError> {
    let (mut rows, total) = clients::list(&state.db, &workspace.id, query).await?;
    attach_progress(&state.db, &workspace.organization_id, &mut rows).await?;
    let workspace_total = if query.search.is_empty()
        && query.access == AccessFilter::All
        && query.expiry == crate::model::ExpiryFilter::All
    {
        total
    } else {
        clients::count(&state.db, &workspace.id).await?
    };
    Ok(Listed {
        rows,
        total,
        workspace_total,
    })
}

/// Up to `limit` of `workspace`'s clients after `after` (a workspace the actor reaches), as
/// `query` searches, filters and sorts them, with their latest revocations; and how many match.
#[tracing::instrument(level = "debug", skip_all, fields(workspace = %workspace.id))]
pub async fn list_after(
    state: &AppState,
    workspace: &Workspace,
    query: &ClientQuery,
    after: Option<&clients::After>,
    limit: u32,
) -> Result<(Vec<ClientRow>, u64), ClientError> {
    let (mut rows, total) =
        clients::list_after(&state.db, &workspace.id, query, after, limit).await?;
    attach_progress(&state.db, &workspace.organization_id, &mut rows).await?;
    Ok((rows, total))
}

/// A client the actor reaches, with its namespace and live sessions.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %id))]
pub async fn get(state: &AppState, actor: &Actor, id: &ClientId) -> Result<Details, ClientError> {
    let organization_id = actor.organization_id.as_str();
    let record = reached(state, actor, id).await?;
    let workspace =
        store::workspaces::get(&state.db, organization_id, &record.workspace_id).await?;
    let owner = ClientRef {
        organization_id: organization_id.to_owned(),
        client_id: id.clone(),
    };
    let sessions = device_sessions::list(&state.db, &owner).await?;
    Ok(Details {
        row: with_progress(&state.db, organization_id, record.row).await?,
        workspace_id: record.workspace_id,
        namespace: workspace.namespace,
        sessions,
    })
}

/// How far the latest revocation of a client of `organization_id` got; `None` when it has none
/// pending or recent.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %id))]
pub async fn revocation(
    state: &AppState,
    organization_id: &str,
    id: &ClientId,
) -> Result<Option<RevocationProgress>, ClientError> {
    Ok(progress(&state.db, organization_id, &[id.as_str()])
        .await?
        .remove(id.as_str()))
}

/// Creates a client in `workspace` (of `by.organization_id`) with its key hashed. A Client ID in
/// use as a Client ID or a namespace is [`StoreError::ClientIdTaken`], found before the hashing
/// when it is taken already; the store's unique keys decide a race.
#[tracing::instrument(skip_all, fields(client_id = %new.client_id, workspace = %workspace.id))]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    new: NewClient,
) -> Result<Issued, ClientError> {
    create_remembering(state, actor, workspace, new, None).await
}

/// What [`create_once`] did.
#[derive(Debug)]
pub enum Created {
    /// It created the client: its key, this once.
    New(Issued),
    /// An earlier request with the same `Idempotency-Key` created it: the client as it is now,
    /// without a key (only the first answer carries one).
    Replayed(Details),
}

/// [`create`], at most once per `idempotency_key` of the actor within a day: a retry of a request
/// that created a client, whether or not its answer arrived, answers with that client and creates
/// nothing; the same key with a different request is [`ClientError::IdempotencyKeyReused`]. The
/// key is remembered in the creating transaction, so a crash cannot separate the two, and a retry
/// racing the first request waits for it and replays its client.
#[tracing::instrument(skip_all, fields(client_id = %new.client_id, workspace = %workspace.id))]
pub async fn create_once(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    new: NewClient,
    idempotency_key: &str,
) -> Result<Created, ClientError> {
    actor.require(Capability::ManageClients)?;
    if idempotency_key.is_empty()
        || idempotency_key.len() > idempotency_keys::MAX_KEY_LEN
        || !idempotency_key
            .bytes()
            .all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err(ClientError::BadIdempotencyKey);
    }
    // What was asked, the key aside: a generated key differs on every retry, and a typed one is
    // not kept even as a fast hash.
    let request_hash = secrets::fast_hash(
        format!(
            "{}\n{}\n{}\n{}\n{:?}\n{:?}",
            workspace.id,
            new.client_id,
            new.name.as_str(),
            new.description.as_str(),
            new.scope.as_ref().map(Scope::to_text),
            new.expiry,
        )
        .as_bytes(),
    );
    let remember = IdempotencyKey {
        organization_id: &actor.organization_id,
        caller: &actor.user_id,
        key: idempotency_key,
        request_hash: &request_hash,
    };
    if let Some(created) = replay(state, actor, &remember).await? {
        return Ok(created);
    }
    match create_remembering(state, actor, workspace, new, Some(&remember)).await {
        Ok(issued) => Ok(Created::New(issued)),
        // A concurrent request with the key committed first (with the same Client ID, the
        // unique key on Client IDs is what stopped this one).
        Err(ClientError::Store(StoreError::ClientIdTaken | StoreError::IdempotencyKeyUsed))
            if let Some(created) = replay(state, actor, &remember).await? =>
        {
            Ok(created)
        }
        Err(ClientError::Store(StoreError::IdempotencyKeyUsed)) => {
            Err(ClientError::IdempotencyKeyReused)
        }
        Err(e) => Err(e),
    }
}

/// The client an earlier request with `key` created, if there was one and it asked the same.
async fn replay(
    state: &AppState,
    actor: &Actor,
    key: &IdempotencyKey<'_>,
) -> Result<Option<Created>, ClientError> {
    let Some(remembered) = idempotency_keys::find(&state.db, key, store::now_millis()).await?
    else {
        return Ok(None);
    };
    if remembered.request_hash != key.request_hash {
        return Err(ClientError::IdempotencyKeyReused);
    }
    let id = ClientId::parse(&remembered.client_id).map_err(StoreError::from)?;
    match get(state, actor, &id).await {
        Ok(details) => Ok(Some(Created::Replayed(details))),
        Err(ClientError::Store(StoreError::NotFound)) => Err(ClientError::ReplayedClientGone),
        Err(e) => Err(e),
    }
}

/// [`create`], remembering `idempotency` with the client when given.
async fn create_remembering(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    new: NewClient,
    idempotency: Option<&IdempotencyKey<'_>>,
) -> Result<Issued, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    if clients::exists(&state.db, &new.client_id).await? {
        return Err(StoreError::ClientIdTaken.into());
    }
    let hash = secrets::hash_key(&state.passwords, &new.key).await?;
    let expiry = chosen_or_default(state, &by.organization_id, new.expiry).await?;
    let row = clients::create(
        &state.db,
        by,
        clients::NewClient {
            client_id: &new.client_id,
            workspace_id: &workspace.id,
            name: &new.name,
            description: &new.description,
            key_hash: hash.as_str(),
            key_ends_at: expiry.ends_at(store::now_millis()),
            scope: new.scope.as_ref(),
            idempotency,
            active: true,
            topic_rules: &TopicRules::default(),
        },
        state.settings.max_clients_per_workspace,
    )
    .await?;
    state.events.ring();
    Ok(Issued {
        row,
        key: new.key,
        workspace_id: workspace.id.clone(),
        namespace: workspace.namespace.clone(),
    })
}

/// Changes a client's name and description.
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
    name: &ClientName,
    description: &Description,
) -> Result<ClientRow, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    let row = clients::update(&state.db, by, id, name, description).await?;
    changed(state, id, Revokes::No);
    Ok(with_progress(&state.db, &by.organization_id, row).await?)
}

/// Changes which devices a client serves (`None`: any in the workspace) and its topic rules,
/// checked against its workspace's namespace ([`TopicRules::parse`]). A change that narrows
/// access re-decides its sessions on every broker (see `store::clients::update_access`).
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn update_access(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
    scope: Option<Scope>,
    rules: Vec<TopicRule>,
) -> Result<ClientRow, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    let record = clients::get(&state.db, &by.organization_id, id).await?;
    let workspace =
        store::workspaces::get(&state.db, &by.organization_id, &record.workspace_id).await?;
    let rules = TopicRules::parse(workspace.namespace.as_str(), rules)?;
    let record = clients::update_access(&state.db, by, id, scope.as_ref(), &rules).await?;
    changed(state, id, Revokes::Yes);
    Ok(with_progress(&state.db, &by.organization_id, record.row).await?)
}

/// A client's access as the Edit modal holds it before it is saved.
#[derive(Debug)]
pub struct AccessDraft {
    /// `None`: any device in the workspace.
    pub scope: Option<Scope>,
    pub rules: Vec<TopicRule>,
}

/// What a client of `organization_id` with `draft` for its access would let `device` do on
/// `topic`: the preview box's answer. The one access rule decides ([`decide`]), with the devices
/// in the draft scope now; a restricted client's device outside its scope cannot even connect.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %id))]
pub async fn preview_access(
    state: &AppState,
    organization_id: &str,
    id: &ClientId,
    draft: AccessDraft,
    device: &DeviceId,
    access: Access,
    topic: &str,
) -> Result<AccessPreview, ClientError> {
    let record = clients::get(&state.db, organization_id, id).await?;
    let workspace =
        store::workspaces::get(&state.db, organization_id, &record.workspace_id).await?;
    let rules = TopicRules::parse(workspace.namespace.as_str(), draft.rules)?;
    let in_scope = match &draft.scope {
        Some(scope) => Some(devices::list_ids_in_scope(&state.db, &workspace.id, scope).await?),
        None => None,
    };
    if in_scope
        .as_ref()
        .is_some_and(|ids| !ids.contains(device.as_str()))
    {
        return Ok(AccessPreview::not_in_scope(device.as_str()));
    }
    let subject = Subject {
        namespace: workspace.namespace.as_str(),
        client_id: id.as_str(),
        identifier: device.as_str(),
        scope: in_scope.as_ref(),
        rules: &rules,
    };
    let verdict = decide(&subject, access, topic);
    Ok(AccessPreview::decided(
        device.as_str(),
        access,
        topic,
        verdict,
    ))
}

/// Activates or deactivates a client; deactivating revokes its sessions on every broker.
#[tracing::instrument(skip_all, fields(client_id = %id, active))]
pub async fn set_active(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
    active: bool,
) -> Result<ClientRow, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    let row = clients::update_active(&state.db, by, id, active).await?;
    changed(state, id, if active { Revokes::No } else { Revokes::Yes });
    Ok(with_progress(&state.db, &by.organization_id, row).await?)
}

/// Closes every live session of a client on every broker, its key, status and access unchanged:
/// a device with the key reconnects at once.
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn disconnect_sessions(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
) -> Result<ClientRow, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    let record = clients::disconnect_sessions(&state.db, by, id).await?;
    // Not `changed`: the key is the same, so the verified-key cache keeps it and a fleet that
    // reconnects costs no argon2id.
    state.revocations.ring();
    Ok(with_progress(&state.db, &by.organization_id, record.row).await?)
}

/// Replaces a client's keys with `key` (expiring as `expiry` says) and revokes the old ones: they
/// stop verifying when this returns, and every session ends.
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn regenerate(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
    key: ClientKey,
    expiry: Option<Expiry>,
) -> Result<Issued, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    // Ownership first, so another organization's client costs no hashing and reveals nothing.
    clients::get(&state.db, &by.organization_id, id).await?;
    let hash = secrets::hash_key(&state.passwords, &key).await?;
    let expiry = chosen_or_default(state, &by.organization_id, expiry).await?;
    let ends_at = expiry.ends_at(store::now_millis());
    let record = clients::update_key(&state.db, by, id, hash.as_str(), ends_at).await?;
    changed(state, id, Revokes::Yes);
    issued(state, &by.organization_id, record, key).await
}

/// A rotation, as the Rotate step asks for it.
#[derive(Debug)]
pub struct Rotation {
    /// The new key, which works when this returns.
    pub key: ClientKey,
    /// When the new key expires; `None`: the organization's default.
    pub expiry: Option<Expiry>,
    /// When the current key retires.
    pub retire: RetireAfter,
}

/// Gives a client a second key that works at once, and retires its current key when
/// `rotation.retire` says: until then both verify, and at that moment the current key's sessions
/// close on every broker while the new key's stay. A client with two keys already is
/// [`StoreError::KeysFull`] (retire one first).
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn rotate(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
    rotation: Rotation,
) -> Result<Issued, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    let record = clients::get(&state.db, &by.organization_id, id).await?;
    let now = store::now_millis();
    if record.row.keys.iter().filter(|k| k.works_at(now)).count() >= MAX_KEYS {
        // Before the hashing: a full client costs nothing.
        return Err(StoreError::KeysFull.into());
    }
    let hash = secrets::hash_key(&state.passwords, &rotation.key).await?;
    let expiry = chosen_or_default(state, &by.organization_id, rotation.expiry).await?;
    client_keys::rotate(
        &state.db,
        by,
        id,
        client_keys::Rotation {
            hash: hash.as_str(),
            ends_at: expiry.ends_at(now),
            retire_at: rotation.retire.at(now),
        },
    )
    .await?;
    // An expired key dropped by the rotation had its end applied in the same transaction.
    changed(state, id, Revokes::Yes);
    let record = clients::get(&state.db, &by.organization_id, id).await?;
    issued(state, &by.organization_id, record, rotation.key).await
}

/// Retires key `key_id` of a client now: it stops verifying when this returns, and its sessions
/// close on every broker; the client's other key's stay. The client's only working key is
/// [`StoreError::OnlyKey`].
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn retire_key(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
    key_id: &str,
) -> Result<ClientRow, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    client_keys::retire(&state.db, by, id, key_id).await?;
    changed(state, id, Revokes::Yes);
    let record = clients::get(&state.db, &by.organization_id, id).await?;
    Ok(with_progress(&state.db, &by.organization_id, record.row).await?)
}

/// Sets when key `key_id` of a client expires. A key that is retiring or has ended is
/// [`StoreError::NotFound`].
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn set_key_expiry(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
    key_id: &str,
    expiry: Expiry,
) -> Result<ClientRow, ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    let ends_at = expiry.ends_at(store::now_millis());
    client_keys::update_expiry(&state.db, by, id, key_id, ends_at).await?;
    changed(state, id, Revokes::No);
    let record = clients::get(&state.db, &by.organization_id, id).await?;
    Ok(with_progress(&state.db, &by.organization_id, record.row).await?)
}

/// How long new keys of the actor's organization work by default, in days; `None`: never expire.
pub async fn default_key_days(state: &AppState, actor: &Actor) -> Result<Option<u32>, ClientError> {
    Ok(
        store::organizations::get_default_key_days(&state.db, &actor.audit().organization_id)
            .await?,
    )
}

/// Sets how long new keys of the actor's organization work by default.
#[tracing::instrument(skip_all)]
pub async fn set_default_key_days(
    state: &AppState,
    actor: &Actor,
    days: Option<u32>,
) -> Result<(), ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    Ok(store::organizations::update_default_key_days(&state.db, by, days).await?)
}

/// The keys of `workspace`'s clients that expire within 7 days: the header's count.
pub async fn count_expiring(state: &AppState, workspace: &Workspace) -> Result<u64, ClientError> {
    Ok(client_keys::count_expiring(
        &state.db,
        &workspace.id,
        store::now_millis(),
        EXPIRING_WITHIN_MS,
    )
    .await?)
}

/// The expiry chosen for a new key, or the organization's default when none was.
pub(crate) async fn chosen_or_default(
    state: &AppState,
    organization_id: &str,
    chosen: Option<Expiry>,
) -> StoreResult<Expiry> {
    Ok(match chosen {
        Some(expiry) => expiry,
        None => match store::organizations::get_default_key_days(&state.db, organization_id).await?
        {
            Some(days) => Expiry::Days(days),
            None => Expiry::Never,
        },
    })
}

/// What a key just set reveals: the client's row with its progress, its namespace, the key.
async fn issued(
    state: &AppState,
    organization_id: &str,
    record: clients::ClientRecord,
    key: ClientKey,
) -> Result<Issued, ClientError> {
    let workspace =
        store::workspaces::get(&state.db, organization_id, &record.workspace_id).await?;
    Ok(Issued {
        row: with_progress(&state.db, organization_id, record.row).await?,
        key,
        workspace_id: record.workspace_id,
        namespace: workspace.namespace,
    })
}

/// Deletes a client; its sessions are revoked on every broker.
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn delete(state: &AppState, actor: &Actor, id: &ClientId) -> Result<(), ClientError> {
    let by = &actor.require(Capability::ManageClients)?;
    within_reach(state, actor, id).await?;
    clients::delete(&state.db, by, id).await?;
    changed(state, id, Revokes::Yes);
    Ok(())
}

/// A client of the actor's organization that the actor reaches: one outside a token's workspace
/// limit is [`StoreError::NotFound`], exactly like another organization's.
async fn reached(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
) -> Result<clients::ClientRecord, ClientError> {
    let record = clients::get(&state.db, &actor.organization_id, id).await?;
    if actor.reaches(&record.workspace_id) {
        Ok(record)
    } else {
        Err(StoreError::NotFound.into())
    }
}

/// [`reached`] for a change, which reads nothing more unless the actor is limited to a workspace:
/// the store's own writes already keep it to the actor's organization.
async fn within_reach(state: &AppState, actor: &Actor, id: &ClientId) -> Result<(), ClientError> {
    if actor.workspace_limit().is_some() {
        reached(state, actor, id).await?;
    }
    Ok(())
}

/// Whether a change revoked the client's credential (and queued an outbox row for it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Revokes {
    Yes,
    No,
}

/// What follows every committed change of client `id`, in this process.
///
/// The verified-key cache forgets the client. This is not what keeps a changed credential out:
/// an entry is a MAC over the client's stored hash, so a regenerated key never matches an old
/// entry, and every CONNECT reads the client's row, so deactivation and deletion apply whatever
/// the cache holds (other processes, which keep their entries, are as safe for the same reasons).
/// Forgetting drops entries that can no longer match instead of keeping them until the cache
/// starts over, and it keeps the rule whole: after any change, the next CONNECT proves its key
/// against the row as it is now.
///
/// A revoking change also wakes the revocation workers, so its outbox row is delivered now
/// rather than at their next poll; and every change wakes the event worker, for the credential
/// event its transaction queued.
fn changed(state: &AppState, id: &ClientId, revokes: Revokes) {
    state.verified_keys.forget(id.as_str());
    if revokes == Revokes::Yes {
        state.revocations.ring();
    }
    state.events.ring();
}

/// `row` with its latest revocation.
async fn with_progress(db: &Db, organization_id: &str, row: ClientRow) -> StoreResult<ClientRow> {
    let mut rows = [row];
    attach_progress(db, organization_id, &mut rows).await?;
    let [row] = rows;
    Ok(row)
}

/// Fills in each row's latest revocation, in one query for all of them.
async fn attach_progress(
    db: &Db,
    organization_id: &str,
    rows: &mut [ClientRow],
) -> StoreResult<()> {
    let ids: Vec<&str> = rows.iter().map(|r| r.client_id.as_str()).collect();
    let mut progress = progress(db, organization_id, &ids).await?;
    for row in rows {
        row.revocation = progress.remove(row.client_id.as_str());
    }
    Ok(())
}

/// The latest revocation of each of `ids` that is pending or finished a short while ago.
async fn progress(
    db: &Db,
    organization_id: &str,
    ids: &[&str],
) -> StoreResult<HashMap<String, RevocationProgress>> {
    let since = store::now_millis() - SHOW_DONE_FOR_MS;
    deliveries::progress(db, organization_id, ids, since).await
}
