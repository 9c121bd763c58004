//! Audit events: who changed what, when, and from which address. Written in the same
//! transaction as the change they describe, and so is the credential event a change of a client
//! raises ([`EventType::of`]): every change of a client is audited, whichever front door made it.

use super::{Db, StoreResult, event_deliveries, now_millis};
use crate::model::{ActivityFilter, AuditAction, AuditEntry, EventType};
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
/// A change of a client (`target` is its Client ID) also queues its credential event for the
/// organization's endpoints, in the same transaction.
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
    .execute(&mut *conn)
    .await?;
    if let (Some(event), Some(workspace_id)) = (EventType::of(action), workspace_id) {
        event_deliveries::queue_change_in(conn, &ctx.organization_id, workspace_id, event, target)
            .await?;
    }
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

/// The `WHERE` of a filtered query over `organization_id`'s events, with its binds in order
/// (`$1` is the organization).
fn filtered(organization_id: &str, filter: &ActivityFilter) -> (String, Vec<Bind>) {
    let mut sql = String::from("organization_id = $1");
    let mut binds = vec![Bind::Text(organization_id.to_owned())];
    let mut push = |clause: &str, bind: Bind| {
        binds.push(bind);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    };
    for (column, text) in [
        ("actor", &filter.actor),
        ("target", &filter.target),
        ("address", &filter.address),
    ] {
        let text: String = text.trim().chars().take(ActivityFilter::MAX_TEXT).collect();
        if !text.is_empty() {
            push(
                &format!(" AND LOWER({column}) LIKE ? ESCAPE '\\'"),
                Bind::Text(format!("%{}%", escape_like(&text.to_lowercase()))),
            );
        }
    }
    if let Some(action) = filter.action {
        push(" AND action = ?", Bind::Text(action.as_str().to_owned()));
    }
    if let Some(from) = filter.from {
        push(" AND at >= ?", Bind::Int(from));
    }
    if let Some(to) = filter.to {
        push(" AND at < ?", Bind::Int(to));
    }
    (sql, binds)
}

enum Bind {
    Text(String),
    Int(i64),
}

/// `text` with LIKE's wildcards taken literally (escaped with a backslash).
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text.as_str()),
            Bind::Int(n) => query.bind(*n),
        };
    }
    query
}

/// The events of an organization that match `filter`, newest first: at most `limit`, older than
/// the event `before` when given (the next page's cursor: pages stay as fast at the
/// 100,000th event as at the first, and do not shift while new events arrive).
pub async fn list(
    db: &Db,
    organization_id: &str,
    filter: &ActivityFilter,
    before: Option<i64>,
    limit: u32,
) -> StoreResult<Vec<AuditEntry>> {
    let (mut sql, mut binds) = filtered(organization_id, filter);
    if let Some(before) = before {
        binds.push(Bind::Int(before));
        sql.push_str(&format!(" AND id < ${}", binds.len()));
    }
    binds.push(Bind::Int(i64::from(limit)));
    let sql = format!(
        "SELECT id, at, actor, action, target, detail, address FROM audit_events
         WHERE {sql} ORDER BY id DESC LIMIT ${}",
        binds.len()
    );
    let rows = bind_all(sqlx::query(&sql), &binds)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
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

/// How many events of an organization match `filter`.
pub async fn count(db: &Db, organization_id: &str, filter: &ActivityFilter) -> StoreResult<u64> {
    let (sql, binds) = filtered(organization_id, filter);
    let sql = format!("SELECT COUNT(*) FROM audit_events WHERE {sql}");
    let row = bind_all(sqlx::query(&sql), &binds)
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get::<i64, _>(0)? as u64)
}

/// One event as the activity tests seed it.
#[cfg(feature = "test-support")]
pub struct Seeded {
    pub actor: String,
    pub action: AuditAction,
    pub target: String,
    pub address: String,
    pub at: i64,
}

/// Inserts `count` events into `organization_id`'s log, event `i` made by `make(i)`, many rows
/// a statement: the activity tests need 100,000 of them in seconds.
#[cfg(feature = "test-support")]
pub async fn insert_many_for_tests(
    db: &Db,
    organization_id: &str,
    count: usize,
    make: impl Fn(usize) -> Seeded,
) -> StoreResult<()> {
    const ROWS: usize = 500;
    let mut tx = db.begin().await?;
    for start in (0..count).step_by(ROWS) {
        let end = (start + ROWS).min(count);
        let values: Vec<String> = (0..end - start)
            .map(|r| {
                let b = r * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_events (organization_id, actor, action, target, address, at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for i in start..end {
            let e = make(i);
            query = query
                .bind(organization_id.to_owned())
                .bind(e.actor)
                .bind(e.action.as_str())
                .bind(e.target)
                .bind(e.address)
                .bind(e.at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
