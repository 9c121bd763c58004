//! Devices: what a restricted client's scope selects, by id or by tag. A workspace's devices are
//! its own (`(workspace_id, device_id)` is unique). A device is added in the dashboard, or appears
//! by itself on its first connect through an unrestricted client in connection form 3.
//!
//! A device's tags are written twice, together: as the list the dashboard shows (`devices.tags`)
//! and one per row (`device_tags`), which a scope's query reads.

use super::{Db, StoreResult, new_id};
use crate::model::{ClientRef, DeviceId, Scope};
use sqlx::AnyConnection;
#[cfg(feature = "test-support")]
use sqlx::Row;
use std::collections::BTreeSet;

/// The `WHERE` condition selecting a workspace's devices in `scope`, with its placeholders
/// numbered from `$2` (`$1` is the workspace), and the values to bind, in order.
fn scope_condition(scope: &Scope) -> (String, Vec<String>) {
    let mut values = Vec::with_capacity(scope.len());
    let mut placeholders = |items: Vec<String>| {
        let start = values.len() + 2;
        let list = (start..start + items.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        values.extend(items);
        list
    };
    let ids: Vec<String> = scope.devices().map(|d| d.as_str().to_owned()).collect();
    let tags: Vec<String> = scope.tags().map(|t| t.to_string()).collect();
    let mut any = Vec::new();
    if !ids.is_empty() {
        any.push(format!("d.device_id IN ({})", placeholders(ids)));
    }
    if !tags.is_empty() {
        any.push(format!(
            "EXISTS (SELECT 1 FROM device_tags t WHERE t.device_row = d.id AND t.tag IN ({}))",
            placeholders(tags)
        ));
    }
    (
        format!("d.workspace_id = $1 AND ({})", any.join(" OR ")),
        values,
    )
}

/// The ids of the devices in `scope` now: every device id it lists (whether or not the device
/// was added yet: the list names it), and every device of `workspace_id` carrying a tag it lists.
pub async fn list_ids_in_scope(
    db: &Db,
    workspace_id: &str,
    scope: &Scope,
) -> StoreResult<BTreeSet<String>> {
    let mut ids: BTreeSet<String> = scope.devices().map(|d| d.as_str().to_owned()).collect();
    if scope.tags().next().is_none() {
        return Ok(ids);
    }
    let (condition, values) = scope_condition(scope);
    let sql = format!("SELECT d.device_id FROM devices d WHERE {condition}");
    let mut query = sqlx::query_scalar::<_, String>(&sql).bind(workspace_id);
    for value in &values {
        query = query.bind(value);
    }
    ids.extend(query.fetch_all(db.pool()).await?);
    Ok(ids)
}

/// How many devices of `workspace_id` are in `scope` now (the scope editor's live count): the
/// workspace's devices only, a listed id no device has yet does not count.
pub async fn count_in_scope(db: &Db, workspace_id: &str, scope: &Scope) -> StoreResult<u64> {
    let (condition, values) = scope_condition(scope);
    let sql = format!("SELECT COUNT(*) FROM devices d WHERE {condition}");
    let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(workspace_id);
    for value in &values {
        query = query.bind(value);
    }
    Ok(query.fetch_one(db.pool()).await? as u64)
}

/// A device connected with `client` (connection form 3) at `at`, in the caller's transaction: it
/// is created when the workspace has no device by that id, and its "last seen" and "last client"
/// move forward (never back, whatever order two brokers' news lands in).
pub(super) async fn record_seen_in(
    conn: &mut AnyConnection,
    workspace_id: &str,
    client: &ClientRef,
    device: &DeviceId,
    at: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO devices (id, workspace_id, organization_id, device_id, name, name_folded, tags, created_at, updated_at, last_seen_at, last_client_id)
         SELECT $1, w.id, w.organization_id, $3, '', '', '', $5, $5, $5, $4 FROM workspaces w
         WHERE w.id = $2 AND w.organization_id = $6
         ON CONFLICT (workspace_id, device_id) DO UPDATE SET
             last_seen_at = excluded.last_seen_at, last_client_id = excluded.last_client_id
         WHERE devices.last_seen_at IS NULL OR devices.last_seen_at <= excluded.last_seen_at",
    )
    .bind(new_id())
    .bind(workspace_id)
    .bind(device.as_str())
    .bind(client.client_id.as_str())
    .bind(at)
    .bind(&client.organization_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The device ids of a workspace, for tests: whether a device appeared.
#[cfg(feature = "test-support")]
pub async fn list_ids(db: &Db, workspace_id: &str) -> StoreResult<Vec<String>> {
    let rows =
        sqlx::query("SELECT device_id FROM devices WHERE workspace_id = $1 ORDER BY device_id")
            .bind(workspace_id)
            .fetch_all(db.pool())
            .await?;
    rows.iter()
        .map(|r| r.try_get("device_id").map_err(Into::into))
        .collect()
}
