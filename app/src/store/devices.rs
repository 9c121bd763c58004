//! Devices: what a restricted client's scope selects, by id or by tag. A workspace's devices are
//! its own (`(workspace_id, device_id)` is unique). A device is added in the dashboard, or appears
//! by itself on its first connect through an unrestricted client in connection form 3.
//!
//! A device's tags are written twice, together: as the list the dashboard shows (`devices.tags`)
//! and one per row (`device_tags`), which a scope's query reads.
//!
//! Every read and write names the workspace and is scoped to the caller's organization: another
//! organization's device (or workspace) is [`StoreError::NotFound`], exactly like a missing one.
//! A change that takes a device out of a restricted client's scope (a tag removed, the device
//! deleted) queues that client's revocation in the same transaction.

use super::audit::{self, AuditContext};
use super::{
    Db, StoreError, StoreResult, clients, is_unique_violation, like_pattern, new_id, now_millis,
};
use crate::model::{
    AuditAction, BulkCreated, ClientRef, DeviceId, DeviceName, DeviceQuery, DeviceRow,
    DeviceSortKey, Scope, Tag, parse_tags, tags_text,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeSet;

/// What creating a device needs.
#[derive(Clone, Copy, Debug)]
pub struct NewDevice<'a> {
    pub workspace_id: &'a str,
    pub device_id: &'a DeviceId,
    pub name: &'a DeviceName,
    pub tags: &'a [Tag],
}

/// A device after a change, and how many restricted clients lost it (each got a revocation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceChange {
    pub row: DeviceRow,
    pub revoked: usize,
}

const COLUMNS: &str =
    "id, device_id, name, tags, created_at, updated_at, last_seen_at, last_client_id";

fn from_row(row: &AnyRow) -> StoreResult<DeviceRow> {
    let device_id: String = row.try_get("device_id")?;
    let tags: String = row.try_get("tags")?;
    Ok(DeviceRow {
        device_id: DeviceId::parse(&device_id)?,
        name: row.try_get("name")?,
        tags: parse_tags(&tags)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        last_client_id: row.try_get("last_client_id")?,
    })
}

/// A name as the search compares it: folded in Rust (SQLite's `LOWER()` folds ASCII only), like
/// client names.
fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// Replaces the `device_tags` rows of the device row `row_id` with `tags`, in the caller's
/// transaction; the caller writes the same list to `devices.tags`.
async fn write_tags_in(
    conn: &mut AnyConnection,
    row_id: &str,
    workspace_id: &str,
    tags: &[Tag],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM device_tags WHERE device_row = $1")
        .bind(row_id)
        .execute(&mut *conn)
        .await?;
    for tag in tags {
        sqlx::query("INSERT INTO device_tags (device_row, workspace_id, tag) VALUES ($1, $2, $3)")
            .bind(row_id)
            .bind(workspace_id)
            .bind(tag.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Inserts one device into `workspace_id` if that workspace is `organization_id`'s: the new row's
/// id, or `None` when the workspace is not theirs. A device id the workspace has is
/// [`StoreError::DeviceIdTaken`].
async fn insert_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    new: &NewDevice<'_>,
    now: i64,
) -> StoreResult<Option<String>> {
    let row_id = new_id();
    let inserted = sqlx::query(
        "INSERT INTO devices (id, workspace_id, organization_id, device_id, name, name_folded, tags, created_at, updated_at)
         SELECT $1, w.id, w.organization_id, $2, $3, $4, $5, $6, $6 FROM workspaces w
         WHERE w.id = $7 AND w.organization_id = $8",
    )
    .bind(&row_id)
    .bind(new.device_id.as_str())
    .bind(new.name.as_str())
    .bind(fold(new.name.as_str()))
    .bind(tags_text(new.tags))
    .bind(now)
    .bind(new.workspace_id)
    .bind(organization_id)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::DeviceIdTaken
        } else {
            e.into()
        }
    })?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    write_tags_in(conn, &row_id, new.workspace_id, new.tags).await?;
    Ok(Some(row_id))
}

/// Creates a device in a workspace of `ctx.organization_id`, with its audit event. A device id
/// the workspace has already is [`StoreError::DeviceIdTaken`]; another organization's workspace
/// is [`StoreError::NotFound`]. Tags only widen scopes, so nothing is revoked.
#[tracing::instrument(level = "debug", skip_all, fields(device_id = %new.device_id))]
pub async fn create(db: &Db, ctx: &AuditContext, new: NewDevice<'_>) -> StoreResult<DeviceRow> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    if insert_in(&mut tx, &ctx.organization_id, &new, now)
        .await?
        .is_none()
    {
        return Err(StoreError::NotFound);
    }
    audit::insert_in(
        &mut tx,
        ctx,
        Some(new.workspace_id),
        AuditAction::DeviceCreated,
        new.device_id.as_str(),
        &tags_text(new.tags),
    )
    .await?;
    tx.commit().await?;
    Ok(DeviceRow {
        device_id: new.device_id.clone(),
        name: new.name.as_str().to_owned(),
        tags: new.tags.to_vec(),
        created_at: now,
        updated_at: now,
        last_seen_at: None,
        last_client_id: None,
    })
}

/// Creates many devices (no name, no tags) in a workspace of `ctx.organization_id` in one
/// transaction, each with its audit event; the ids the workspace has already are skipped and
/// reported. Another organization's workspace is [`StoreError::NotFound`].
#[tracing::instrument(level = "debug", skip_all, fields(devices = ids.len()))]
pub async fn create_many(
    db: &Db,
    ctx: &AuditContext,
    workspace_id: &str,
    ids: &[DeviceId],
) -> StoreResult<BulkCreated> {
    // Read before the transaction: one that reads first cannot wait for SQLite's writer lock.
    let owned: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM workspaces WHERE id = $1 AND organization_id = $2",
    )
    .bind(workspace_id)
    .bind(&ctx.organization_id)
    .fetch_one(db.pool())
    .await?;
    if owned == 0 {
        return Err(StoreError::NotFound);
    }
    let now = now_millis();
    let name = DeviceName::parse("").expect("an empty device name is valid");
    let mut result = BulkCreated::default();
    let mut tx = db.begin().await?;
    for device_id in ids {
        let inserted = sqlx::query(
            "INSERT INTO devices (id, workspace_id, organization_id, device_id, name, name_folded, tags, created_at, updated_at)
             SELECT $1, w.id, w.organization_id, $2, $3, $3, '', $4, $4 FROM workspaces w
             WHERE w.id = $5 AND w.organization_id = $6
             ON CONFLICT (workspace_id, device_id) DO NOTHING",
        )
        .bind(new_id())
        .bind(device_id.as_str())
        .bind(name.as_str())
        .bind(now)
        .bind(workspace_id)
        .bind(&ctx.organization_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            result.skipped.push(device_id.clone());
            continue;
        }
        audit::insert_in(
            &mut tx,
            ctx,
            Some(workspace_id),
            AuditAction::DeviceCreated,
            device_id.as_str(),
            "bulk paste",
        )
        .await?;
        result.created.push(device_id.clone());
    }
    tx.commit().await?;
    Ok(result)
}

/// A device of `workspace_id`, a workspace of `organization_id`.
pub async fn get(
    db: &Db,
    organization_id: &str,
    workspace_id: &str,
    device_id: &DeviceId,
) -> StoreResult<DeviceRow> {
    let mut conn = db.pool().acquire().await?;
    get_in(&mut conn, organization_id, workspace_id, device_id).await
}

async fn get_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    workspace_id: &str,
    device_id: &DeviceId,
) -> StoreResult<DeviceRow> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM devices WHERE workspace_id = $1 AND organization_id = $2 AND device_id = $3"
    ))
    .bind(workspace_id)
    .bind(organization_id)
    .bind(device_id.as_str())
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// One page of a workspace's devices, searched by device id, name or tag and sorted, plus the
/// number of matches. The workspace must already be known to belong to the caller's organization.
pub async fn list(
    db: &Db,
    workspace_id: &str,
    query: &DeviceQuery,
) -> StoreResult<(Vec<DeviceRow>, u64)> {
    let search = query.search.trim();
    let filter = if search.is_empty() {
        "workspace_id = $1"
    } else {
        // Device ids and tags are ASCII, which LOWER() folds alike on both engines; names are
        // folded by `fold` when written.
        "workspace_id = $1 AND (LOWER(device_id) LIKE $2 ESCAPE '\\' OR name_folded LIKE $2 ESCAPE '\\' OR LOWER(tags) LIKE $2 ESCAPE '\\')"
    };
    let direction = if query.descending { "DESC" } else { "ASC" };
    // The device id breaks ties so pages never overlap or skip rows.
    let order = match query.sort {
        DeviceSortKey::DeviceId => format!("device_id {direction}"),
        DeviceSortKey::Name => format!("name {direction}, device_id {direction}"),
        DeviceSortKey::Created => format!("created_at {direction}, device_id {direction}"),
        DeviceSortKey::LastSeen => {
            format!("last_seen_at {direction} NULLS LAST, device_id {direction}")
        }
    };
    let per_page = DeviceQuery::PER_PAGE as i64;
    let offset = (query.page.max(1) as i64 - 1).saturating_mul(per_page);
    let pattern = like_pattern(search);
    let (limit_at, offset_at) = if search.is_empty() { (2, 3) } else { (3, 4) };

    let sql = format!(
        "SELECT {COLUMNS} FROM devices WHERE {filter} ORDER BY {order} LIMIT ${limit_at} OFFSET ${offset_at}"
    );
    let mut rows = sqlx::query(&sql).bind(workspace_id);
    if !search.is_empty() {
        rows = rows.bind(&pattern);
    }
    let rows = rows
        .bind(per_page)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;

    let count_sql = format!("SELECT COUNT(*) FROM devices WHERE {filter}");
    let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(workspace_id);
    if !search.is_empty() {
        count = count.bind(&pattern);
    }
    let total = count.fetch_one(db.pool()).await?;
    let rows = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok((rows, total as u64))
}

/// Which of `ids` the workspace has already (a bulk paste's "will be skipped"), in `ids`' order.
pub async fn existing(db: &Db, workspace_id: &str, ids: &[DeviceId]) -> StoreResult<Vec<DeviceId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (2..ids.len() + 2)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT device_id FROM devices WHERE workspace_id = $1 AND device_id IN ({placeholders})"
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql).bind(workspace_id);
    for id in ids {
        query = query.bind(id.as_str());
    }
    let found: BTreeSet<String> = query.fetch_all(db.pool()).await?.into_iter().collect();
    Ok(ids
        .iter()
        .filter(|id| found.contains(id.as_str()))
        .cloned()
        .collect())
}

/// How many devices a workspace has.
pub async fn count(db: &Db, workspace_id: &str) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(db.pool())
        .await?;
    Ok(n as u64)
}

/// Changes a device's name and tags, with its audit event. Every restricted client whose scope
/// held the device by a tag it no longer carries gets a revocation in the same transaction.
#[tracing::instrument(level = "debug", skip_all, fields(device_id = %device_id))]
pub async fn update(
    db: &Db,
    ctx: &AuditContext,
    workspace_id: &str,
    device_id: &DeviceId,
    name: &DeviceName,
    tags: &[Tag],
) -> StoreResult<DeviceChange> {
    let mut tx = db.begin().await?;
    // The write comes first (see `clients::delete`); `tags` is not set yet, so it returns the
    // tags as they were.
    let before = sqlx::query(
        "UPDATE devices SET name = $1, name_folded = $2, updated_at = $3
         WHERE workspace_id = $4 AND organization_id = $5 AND device_id = $6 RETURNING id, tags",
    )
    .bind(name.as_str())
    .bind(fold(name.as_str()))
    .bind(now_millis())
    .bind(workspace_id)
    .bind(&ctx.organization_id)
    .bind(device_id.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let row_id: String = before.try_get("id")?;
    let before_tags = parse_tags(&before.try_get::<String, _>("tags")?)?;
    sqlx::query("UPDATE devices SET tags = $1 WHERE id = $2")
        .bind(tags_text(tags))
        .bind(&row_id)
        .execute(&mut *tx)
        .await?;
    write_tags_in(&mut tx, &row_id, workspace_id, tags).await?;
    let revoked = clients::revoke_device_left_scopes_in(
        &mut tx,
        workspace_id,
        device_id,
        &before_tags,
        Some(tags),
    )
    .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        Some(workspace_id),
        AuditAction::DeviceUpdated,
        device_id.as_str(),
        &tags_text(tags),
    )
    .await?;
    let row = get_in(&mut tx, &ctx.organization_id, workspace_id, device_id).await?;
    tx.commit().await?;
    Ok(DeviceChange { row, revoked })
}

/// Deletes a device and its tags, with its audit event; every restricted client whose scope held
/// it gets a revocation in the same transaction. How many did.
#[tracing::instrument(level = "debug", skip_all, fields(device_id = %device_id))]
pub async fn delete(
    db: &Db,
    ctx: &AuditContext,
    workspace_id: &str,
    device_id: &DeviceId,
) -> StoreResult<usize> {
    let mut tx = db.begin().await?;
    let deleted = sqlx::query(
        "DELETE FROM devices WHERE workspace_id = $1 AND organization_id = $2 AND device_id = $3
         RETURNING id, name, tags",
    )
    .bind(workspace_id)
    .bind(&ctx.organization_id)
    .bind(device_id.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let row_id: String = deleted.try_get("id")?;
    let name: String = deleted.try_get("name")?;
    let before_tags = parse_tags(&deleted.try_get::<String, _>("tags")?)?;
    // The foreign key cascades too; saying so keeps the two places together without relying on it.
    write_tags_in(&mut tx, &row_id, workspace_id, &[]).await?;
    let revoked =
        clients::revoke_device_left_scopes_in(&mut tx, workspace_id, device_id, &before_tags, None)
            .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        Some(workspace_id),
        AuditAction::DeviceDeleted,
        device_id.as_str(),
        &name,
    )
    .await?;
    tx.commit().await?;
    Ok(revoked)
}

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

/// Inserts `count` devices `dev-00000`, `dev-00001`, … (one tag each, `n=0` to `n=9`) into a
/// workspace at once, without audit events: for benchmarks and tests of large workspaces only.
#[cfg(feature = "test-support")]
pub async fn insert_many_for_bench(
    db: &Db,
    workspace_id: &str,
    organization_id: &str,
    count: usize,
) -> StoreResult<()> {
    const CHUNK: usize = 200;
    let now = now_millis();
    let mut tx = db.begin().await?;
    for start in (0..count).step_by(CHUNK) {
        let chunk = start..(start + CHUNK).min(count);
        let ids: Vec<String> = chunk.clone().map(|_| new_id()).collect();
        let devices = chunk
            .clone()
            .map(|i| {
                let n = 7 * (i - start);
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 5,
                    n + 6,
                    n + 7,
                    n + 7
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO devices (id, workspace_id, organization_id, device_id, name, name_folded, tags, created_at, updated_at) VALUES {devices}"
        );
        let mut insert = sqlx::query(&sql);
        for (i, row_id) in chunk.clone().zip(&ids) {
            insert = insert
                .bind(row_id.clone())
                .bind(workspace_id)
                .bind(organization_id)
                .bind(format!("dev-{i:05}"))
                .bind(format!("device {i:05}"))
                .bind(format!("n={}", i % 10))
                .bind(now - i as i64);
        }
        insert.execute(&mut *tx).await?;
        let tags = (0..ids.len())
            .map(|k| format!("(${}, ${}, ${})", 3 * k + 1, 3 * k + 2, 3 * k + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO device_tags (device_row, workspace_id, tag) VALUES {tags}");
        let mut insert = sqlx::query(&sql);
        for (i, row_id) in chunk.zip(&ids) {
            insert = insert
                .bind(row_id.clone())
                .bind(workspace_id)
                .bind(format!("n={}", i % 10));
        }
        insert.execute(&mut *tx).await?;
    }
    tx.commit().await?;
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
