//! Devices: list and read them, create one or many, change a device's name and tags, delete it.
//! Every function works in a workspace of the acting organization (the caller's current one);
//! another organization's device is [`StoreError::NotFound`], exactly like a missing one. A
//! change that takes a device out of a restricted client's scope wakes the revocation workers.

use crate::model::{BulkCreated, Capability, DeviceId, DeviceName, DeviceQuery, DeviceRow, Tag};
use crate::state::AppState;
use crate::store::workspaces::Workspace;
use crate::store::{StoreResult, devices};
use crate::use_cases::{Actor, Failure};

/// A new device, its fields parsed.
#[derive(Debug)]
pub struct NewDevice {
    pub device_id: DeviceId,
    pub name: DeviceName,
    pub tags: Vec<Tag>,
}

/// One page of a workspace's devices.
#[derive(Debug)]
pub struct Listed {
    pub rows: Vec<DeviceRow>,
    /// Devices matching the search.
    pub total: u64,
    /// Devices in the workspace, whatever the search.
    pub workspace_total: u64,
}

/// One page of `workspace`'s devices (a workspace of the caller's organization).
#[tracing::instrument(level = "debug", skip_all, fields(workspace = %workspace.id))]
pub async fn list(
    state: &AppState,
    workspace: &Workspace,
    query: &DeviceQuery,
) -> StoreResult<Listed> {
    let (rows, total) = devices::list(&state.db, &workspace.id, query).await?;
    let workspace_total = if query.search.trim().is_empty() {
        total
    } else {
        devices::count(&state.db, &workspace.id).await?
    };
    Ok(Listed {
        rows,
        total,
        workspace_total,
    })
}

/// A device of `workspace`.
#[tracing::instrument(level = "debug", skip_all, fields(device_id = %id))]
pub async fn get(state: &AppState, workspace: &Workspace, id: &DeviceId) -> StoreResult<DeviceRow> {
    devices::get(&state.db, &workspace.organization_id, &workspace.id, id).await
}

/// Creates a device in `workspace`; a device id it has is [`crate::store::StoreError::DeviceIdTaken`].
#[tracing::instrument(skip_all, fields(device_id = %new.device_id, workspace = %workspace.id))]
pub async fn create(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    new: NewDevice,
) -> Result<DeviceRow, Failure> {
    let by = &actor.require(Capability::ManageClients)?;
    Ok(devices::create(
        &state.db,
        by,
        devices::NewDevice {
            workspace_id: &workspace.id,
            device_id: &new.device_id,
            name: &new.name,
            tags: &new.tags,
        },
    )
    .await?)
}

/// Creates the devices of a paste in `workspace` at once; ids it has already are skipped.
#[tracing::instrument(skip_all, fields(devices = ids.len(), workspace = %workspace.id))]
pub async fn create_many(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    ids: &[DeviceId],
) -> Result<BulkCreated, Failure> {
    let by = &actor.require(Capability::ManageClients)?;
    Ok(devices::create_many(&state.db, by, &workspace.id, ids).await?)
}

/// Which of `ids` `workspace` has already.
pub async fn existing(
    state: &AppState,
    workspace: &Workspace,
    ids: &[DeviceId],
) -> StoreResult<Vec<DeviceId>> {
    devices::existing(&state.db, &workspace.id, ids).await
}

/// Changes a device's name and tags. A tag removed takes the device out of the scopes that
/// selected it by that tag: those clients' sessions are re-decided on every broker.
#[tracing::instrument(skip_all, fields(device_id = %id))]
pub async fn update(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    id: &DeviceId,
    name: &DeviceName,
    tags: &[Tag],
) -> Result<DeviceRow, Failure> {
    let by = &actor.require(Capability::ManageClients)?;
    let change = devices::update(&state.db, by, &workspace.id, id, name, tags).await?;
    revoked(state, change.revoked);
    Ok(change.row)
}

/// Deletes a device; the restricted clients that held it lose it on every broker.
#[tracing::instrument(skip_all, fields(device_id = %id))]
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    workspace: &Workspace,
    id: &DeviceId,
) -> Result<(), Failure> {
    let by = &actor.require(Capability::ManageClients)?;
    let revoked_count = devices::delete(&state.db, by, &workspace.id, id).await?;
    revoked(state, revoked_count);
    Ok(())
}

/// A committed change queued `count` revocations: the workers deliver them now rather than at
/// their next poll.
fn revoked(state: &AppState, count: usize) {
    if count > 0 {
        tracing::debug!(clients = count, "device left restricted scopes");
        state.revocations.ring();
    }
}
