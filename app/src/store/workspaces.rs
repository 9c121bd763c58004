//! Workspaces: an organization's environments (dev, staging, prod), each with its own namespace.

use super::mqtt_usernames::{self, UsernameKind};
use super::{Db, StoreError, StoreResult, audit, is_unique_violation, new_id, now_millis};
use crate::model::{AuditAction, Namespace, WorkspaceInfo, WorkspaceName};
use sqlx::{AnyConnection, Row, any::AnyRow};

/// A workspace as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub namespace: Namespace,
}

fn from_row(row: &AnyRow) -> StoreResult<Workspace> {
    let namespace: String = row.try_get("namespace")?;
    Ok(Workspace {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        name: row.try_get("name")?,
        namespace: Namespace::parse(&namespace)?,
    })
}

/// Inserts a workspace inside the caller's transaction (sign-up's, or [`create`]'s); a namespace
/// taken by another workspace or by a Client ID (both are MQTT usernames) is
/// [`StoreError::NamespaceTaken`].
pub(super) async fn insert_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    name: &str,
    namespace: &Namespace,
) -> StoreResult<String> {
    let id = new_id();
    sqlx::query("INSERT INTO workspaces (id, organization_id, name, namespace, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(organization_id)
        .bind(name)
        .bind(namespace.as_str())
        .bind(now_millis())
        .execute(&mut *conn)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::NamespaceTaken } else { e.into() })?;
    if !mqtt_usernames::reserve_in(conn, namespace.as_str(), UsernameKind::Namespace).await? {
        return Err(StoreError::NamespaceTaken);
    }
    Ok(id)
}

/// Creates a workspace of `ctx.organization_id`, with its audit event.
pub async fn create(
    db: &Db,
    ctx: &audit::AuditContext,
    name: &WorkspaceName,
    namespace: &Namespace,
    limit: u32,
) -> StoreResult<Workspace> {
    let mut tx = db.begin().await?;
    // Counted under the organization's lock: a burst of creations cannot pass the limit together.
    super::organizations::lock_in(&mut tx, &ctx.organization_id).await?;
    let existing: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM workspaces WHERE organization_id = $1")
            .bind(&ctx.organization_id)
            .fetch_one(&mut *tx)
            .await?;
    if existing >= i64::from(limit) {
        return Err(StoreError::LimitReached {
            what: "workspaces in an organization",
            limit,
        });
    }
    let id = insert_in(&mut tx, &ctx.organization_id, name.as_str(), namespace).await?;
    audit::insert_in(
        &mut tx,
        ctx,
        Some(&id),
        AuditAction::WorkspaceCreated,
        namespace.as_str(),
        name.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(Workspace {
        id,
        organization_id: ctx.organization_id.clone(),
        name: name.as_str().to_owned(),
        namespace: namespace.clone(),
    })
}

/// How often a namespace derived by Keygate is chosen again when a concurrent request took it
/// between the look-up and the insert.
pub(crate) const NAMESPACE_ATTEMPTS: u32 = 10;

/// Creates a workspace under the first free namespace derived from `base` (`base`, `base-2`, …),
/// choosing again when a concurrent request takes it first: for a namespace the user left empty.
pub async fn create_with_free_namespace(
    db: &Db,
    ctx: &audit::AuditContext,
    name: &WorkspaceName,
    base: &Namespace,
    limit: u32,
) -> StoreResult<Workspace> {
    let mut attempt = 1;
    loop {
        let namespace = free_namespace(db, base).await?;
        match create(db, ctx, name, &namespace, limit).await {
            Err(StoreError::NamespaceTaken) if attempt < NAMESPACE_ATTEMPTS => attempt += 1,
            result => return result,
        }
    }
}

/// `base` if nobody has it, else `base-2`, `base-3`, …
pub async fn free_namespace(db: &Db, base: &Namespace) -> StoreResult<Namespace> {
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            base.with_suffix(n)
        };
        // A Client ID takes a namespace as surely as another workspace: both are MQTT usernames.
        if !mqtt_usernames::exists(db, candidate.as_str()).await? {
            return Ok(candidate);
        }
    }
    Err(StoreError::NamespaceTaken)
}

/// A workspace of `organization_id`; another organization's workspace is [`StoreError::NotFound`].
pub async fn get(db: &Db, organization_id: &str, id: &str) -> StoreResult<Workspace> {
    let row = sqlx::query("SELECT * FROM workspaces WHERE id = $1 AND organization_id = $2")
        .bind(id)
        .bind(organization_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// The organization's oldest workspace: where a session starts when it has no choice (or its
/// choice is gone). An organization always has one; none is [`StoreError::NotFound`].
pub async fn first(db: &Db, organization_id: &str) -> StoreResult<Workspace> {
    let row = sqlx::query(
        "SELECT * FROM workspaces WHERE organization_id = $1 ORDER BY created_at, name LIMIT 1",
    )
    .bind(organization_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// The organization's workspaces, oldest first, with how many clients each has.
pub async fn list(db: &Db, organization_id: &str) -> StoreResult<Vec<WorkspaceInfo>> {
    let rows = sqlx::query(
        "SELECT w.id, w.name, w.namespace,
                (SELECT COUNT(*) FROM clients c WHERE c.workspace_id = w.id) AS client_count
         FROM workspaces w WHERE w.organization_id = $1 ORDER BY w.created_at, w.name",
    )
    .bind(organization_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let namespace: String = r.try_get("namespace")?;
            Ok(WorkspaceInfo {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                namespace: Namespace::parse(&namespace)?,
                client_count: r.try_get::<i64, _>("client_count")? as u64,
            })
        })
        .collect()
}

/// Renames a workspace. The namespace stays: devices have it in their configuration.
pub async fn update_name(
    db: &Db,
    ctx: &audit::AuditContext,
    id: &str,
    name: &WorkspaceName,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let changed =
        sqlx::query("UPDATE workspaces SET name = $1 WHERE id = $2 AND organization_id = $3")
            .bind(name.as_str())
            .bind(id)
            .bind(&ctx.organization_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    audit::insert_in(
        &mut tx,
        ctx,
        Some(id),
        AuditAction::WorkspaceRenamed,
        id,
        name.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
