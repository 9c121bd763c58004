//! Audit events: who changed what, when, and from which address. Written in the same
//! transaction as the change they describe.

use super::{Db, StoreResult, now_millis};
use crate::model::{AuditAction, AuditEntry};
use sqlx::{AnyConnection, Row};

/// Who is acting, for the audit log: taken from the signed-in session and the request.
#[derive(Clone, Debug)]
pub struct AuditContext {
    pub organization_id: String,
    /// The acting user's email (or a system name).
    pub actor: String,
    /// The request's source address.
    pub address: String,
}

/// Records one event inside the caller's transaction: the change it describes commits with it.
pub(super) async fn insert_in(
    conn: &mut AnyConnection,
    ctx: &AuditContext,
    workspace_id: Option<&str>,
    action: AuditAction,
    target: &str,
    detail: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (organization_id, workspace_id, actor, action, target, detail, address, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&ctx.organization_id)
    .bind(workspace_id)
    .bind(&ctx.actor)
    .bind(action.as_str())
    .bind(target)
    .bind(detail)
    .bind(&ctx.address)
    .bind(now_millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records one event on its own, for events that change nothing else (a sign-in, a refused MQTT
/// login).
pub async fn create(
    db: &Db,
    ctx: &AuditContext,
    workspace_id: Option<&str>,
    action: AuditAction,
    target: &str,
    detail: &str,
) -> StoreResult<()> {
    let mut conn = db.pool().acquire().await?;
    insert_in(&mut conn, ctx, workspace_id, action, target, detail).await
}

/// The newest events of an organization, newest first.
pub async fn list(db: &Db, organization_id: &str, limit: i64) -> StoreResult<Vec<AuditEntry>> {
    let rows = sqlx::query(
        "SELECT at, actor, action, target, detail, address FROM audit_events
         WHERE organization_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(organization_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: AuditAction::parse(&r.try_get::<String, _>("action")?)?,
                target: r.try_get("target")?,
                detail: r.try_get("detail")?,
                address: r.try_get("address")?,
            })
        })
        .collect()
}

/// How many events an organization has (tests check that a refused change wrote none).
#[cfg(feature = "test-support")]
pub async fn count(db: &Db, organization_id: &str) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE organization_id = $1")
        .bind(organization_id)
        .fetch_one(db.pool())
        .await?;
    Ok(n as u64)
}
