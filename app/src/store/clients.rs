//! Clients: the credentials devices connect with. Every read and write is scoped to an
//! organization, so one tenant can never see or touch another's clients: a client of another
//! organization is simply [`StoreError::NotFound`].
//!
//! Key changes, deactivation and deletion write a revocation outbox row in the same transaction.

use super::audit::{self, AuditContext};
use super::client_keys::{self, StoredKey};
use super::idempotency_keys::{self, IdempotencyKey};
use super::mqtt_usernames::{self, UsernameKind};
use super::outbox;
use super::{Db, StoreError, StoreResult, is_unique_violation, like_pattern, now_millis};
use crate::model::{
    AccessFilter, AuditAction, ClientId, ClientName, ClientQuery, ClientRef, ClientRow,
    Description, DeviceId, EXPIRING_WITHIN_MS, ExpiryFilter, RevocationReason, Scope, SortKey, Tag,
    TopicRules,
};
use sqlx::{AnyConnection, Row, any::AnyRow};

/// A client's ownership, as the server needs it to authorize and to build connection details.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientRecord {
    pub row: ClientRow,
    pub workspace_id: String,
    pub organization_id: String,
    /// Bumped by every change of the client (see [`DeviceCredential::revision`]).
    pub revision: i64,
}

/// What creating a client needs. The key arrives already hashed: the store never sees it.
#[derive(Clone, Debug)]
pub struct NewClient<'a> {
    pub client_id: &'a ClientId,
    pub workspace_id: &'a str,
    pub name: &'a ClientName,
    pub description: &'a Description,
    pub key_hash: &'a str,
    /// When the key stops verifying; `None`: never.
    pub key_ends_at: Option<i64>,
    /// `None`: any device in the workspace.
    pub scope: Option<&'a Scope>,
    /// The request's `Idempotency-Key`, remembered with the client in its transaction.
    pub idempotency: Option<&'a IdempotencyKey<'a>>,
    /// Whether it may connect from the start (an import keeps an exported client's status).
    pub active: bool,
    /// Checked against the workspace's namespace by the caller.
    pub topic_rules: &'a TopicRules,
}

const COLUMNS: &str = "client_id, workspace_id, organization_id, name, description, active, created_at, updated_at, last_seen_at, revision, scope, topic_rules,
    (SELECT COUNT(*) FROM device_sessions s
      WHERE s.client_id = clients.client_id AND s.organization_id = clients.organization_id
        AND s.disconnected_at IS NULL) AS live_sessions";

fn from_row(row: &AnyRow) -> StoreResult<ClientRecord> {
    let client_id: String = row.try_get("client_id")?;
    Ok(ClientRecord {
        row: ClientRow {
            client_id: ClientId::parse(&client_id)?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            active: row.try_get::<i64, _>("active")? != 0,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            live_sessions: row.try_get::<i64, _>("live_sessions")? as u32,
            revocation: None,
            scope: read_scope(row)?,
            topic_rules: read_rules(row)?,
            keys: Vec::new(),
        },
        workspace_id: row.try_get("workspace_id")?,
        organization_id: row.try_get("organization_id")?,
        revision: row.try_get("revision")?,
    })
}

/// A row's `scope` column: `NULL` for any device.
fn read_scope(row: &AnyRow) -> StoreResult<Option<Scope>> {
    row.try_get::<Option<String>, _>("scope")?
        .map(|text| Scope::parse(&text).map_err(|e| StoreError::Corrupt(format!("scope: {e}"))))
        .transpose()
}

/// A row's `topic_rules` column.
fn read_rules(row: &AnyRow) -> StoreResult<TopicRules> {
    TopicRules::from_json(&row.try_get::<String, _>("topic_rules")?)
        .map_err(|e| StoreError::Corrupt(format!("topic rules: {e}")))
}

/// A name as the search compares it: lower-cased here, in Rust, because SQLite's `LOWER()` folds
/// ASCII only and PostgreSQL's follows the database locale. [`super::like_pattern`] folds the
/// search text the same way.
fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// Creates a client in a workspace of `ctx.organization_id`. A Client ID that exists anywhere, as
/// a Client ID or as a workspace namespace, is [`StoreError::ClientIdTaken`]; a workspace of
/// another organization is [`StoreError::NotFound`].
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %new.client_id))]
pub async fn create(
    db: &Db,
    ctx: &AuditContext,
    new: NewClient<'_>,
    limit: u32,
) -> StoreResult<ClientRow> {
    let mut tx = db.begin().await?;
    let row = create_in(&mut tx, ctx, &new, limit, now_millis()).await?;
    tx.commit().await?;
    Ok(row)
}

/// Creates clients in one transaction, all or nothing: an import's (see
/// `use_cases::imports`). The first Client ID in use, or the workspace's limit, fails them all.
pub async fn create_many(
    db: &Db,
    ctx: &AuditContext,
    clients: &[NewClient<'_>],
    limit: u32,
) -> StoreResult<usize> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    for new in clients {
        create_in(&mut tx, ctx, new, limit, now).await?;
    }
    tx.commit().await?;
    Ok(clients.len())
}

/// [`create`] within a transaction.
async fn create_in(
    tx: &mut AnyConnection,
    ctx: &AuditContext,
    new: &NewClient<'_>,
    limit: u32,
    now: i64,
) -> StoreResult<ClientRow> {
    // The workspace's row lock first, then the count: a burst of creations cannot pass the limit
    // together. Another organization's workspace locks nothing and is "not found".
    let locked =
        sqlx::query("UPDATE workspaces SET name = name WHERE id = $1 AND organization_id = $2")
            .bind(new.workspace_id)
            .bind(&ctx.organization_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE workspace_id = $1")
        .bind(new.workspace_id)
        .fetch_one(&mut *tx)
        .await?;
    if existing >= i64::from(limit) {
        return Err(StoreError::LimitReached {
            what: "clients in a workspace",
            limit,
        });
    }
    let inserted = sqlx::query(
        "INSERT INTO clients (client_id, workspace_id, organization_id, name, name_folded, description, active, created_at, updated_at, scope, topic_rules)
         SELECT $1, w.id, w.organization_id, $2, $7, $3, $9, $4, $4, $8, $10 FROM workspaces w
         WHERE w.id = $5 AND w.organization_id = $6",
    )
    .bind(new.client_id.as_str())
    .bind(new.name.as_str())
    .bind(new.description.as_str())
    .bind(now)
    .bind(new.workspace_id)
    .bind(&ctx.organization_id)
    .bind(fold(new.name.as_str()))
    .bind(new.scope.map(Scope::to_text))
    .bind(new.active as i64)
    .bind(new.topic_rules.to_json())
    .execute(&mut *tx)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::ClientIdTaken } else { e.into() })?
    .rows_affected();
    if inserted == 0 {
        return Err(StoreError::NotFound);
    }
    if !mqtt_usernames::reserve_in(&mut *tx, new.client_id.as_str(), UsernameKind::Client).await? {
        return Err(StoreError::ClientIdTaken);
    }
    let owner = ClientRef {
        organization_id: ctx.organization_id.clone(),
        client_id: new.client_id.clone(),
    };
    client_keys::insert_in(&mut *tx, &owner, new.key_hash, new.key_ends_at, now).await?;
    if let Some(key) = new.idempotency {
        idempotency_keys::record_in(&mut *tx, key, new.client_id.as_str(), now).await?;
    }
    audit::insert_in(
        &mut *tx,
        ctx,
        Some(new.workspace_id),
        AuditAction::ClientCreated,
        new.client_id.as_str(),
        new.name.as_str(),
    )
    .await?;
    let keys = get_in(&mut *tx, &ctx.organization_id, new.client_id)
        .await?
        .row
        .keys;
    Ok(ClientRow {
        keys,
        client_id: new.client_id.clone(),
        name: new.name.as_str().to_owned(),
        description: new.description.as_str().to_owned(),
        active: new.active,
        created_at: now,
        updated_at: now,
        last_seen_at: None,
        live_sessions: 0,
        revocation: None,
        scope: new.scope.cloned(),
        topic_rules: new.topic_rules.clone(),
    })
}

/// A client of `organization_id`.
pub async fn get(
    db: &Db,
    organization_id: &str,
    client_id: &ClientId,
) -> StoreResult<ClientRecord> {
    let mut conn = db.pool().acquire().await?;
    get_in(&mut conn, organization_id, client_id).await
}

/// Whether a Client ID is in use by anyone, as a Client ID or as a workspace namespace: both are
/// MQTT usernames, global like MQTT client identifiers.
pub async fn exists(db: &Db, client_id: &ClientId) -> StoreResult<bool> {
    mqtt_usernames::exists(db, client_id.as_str()).await
}

/// One page of a workspace's clients, searched by id or name, filtered by access (restricted or
/// not) and sorted, plus the number of matches. The workspace must already be known to belong to
/// the caller's organization.
pub async fn list(
    db: &Db,
    workspace_id: &str,
    query: &ClientQuery,
) -> StoreResult<(Vec<ClientRow>, u64)> {
    let mut select = Selection::new(workspace_id, query);
    let order = select.order(query.sort, query.descending);
    let per_page = i64::from(ClientQuery::PER_PAGE);
    let offset = (i64::from(query.page.max(1)) - 1) * per_page;
    let limit_at = select.push(Bind::Int(per_page));
    let offset_at = select.push(Bind::Int(offset));
    let rows = select
        .fetch(
            db,
            &format!(
                "SELECT {COLUMNS} FROM clients WHERE {} ORDER BY {order} LIMIT ${limit_at} OFFSET ${offset_at}",
                select.filter
            ),
        )
        .await?;
    let total = Selection::new(workspace_id, query).count(db).await?;
    Ok((with_keys(db, rows).await?, total))
}

/// Where a page of [`list_after`] starts: after the row with this sort value and Client ID.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct After {
    /// The last row's name (sorting by name) or time (by creation or last seen; `None` for a
    /// client never seen, which sorts last either way).
    pub text: Option<String>,
    pub time: Option<i64>,
    pub client_id: String,
}

impl After {
    /// Where the page after `row` starts, sorting by `sort`.
    pub fn row(row: &ClientRow, sort: SortKey) -> Self {
        let (text, time) = match sort {
            SortKey::ClientId => (None, None),
            SortKey::Name => (Some(row.name.clone()), None),
            SortKey::Created => (None, Some(row.created_at)),
            SortKey::LastSeen => (None, row.last_seen_at),
        };
        After {
            text,
            time,
            client_id: row.client_id.to_string(),
        }
    }
}

/// Up to `limit` of a workspace's clients after `after` (from the first when `None`), searched,
/// filtered and sorted as `query` says (its page is ignored), plus the number of matches: a
/// keyset page, which neither skips nor repeats a client when others are created or deleted
/// between pages. The workspace must already be known to belong to the caller's organization.
pub async fn list_after(
    db: &Db,
    workspace_id: &str,
    query: &ClientQuery,
    after: Option<&After>,
    limit: u32,
) -> StoreResult<(Vec<ClientRow>, u64)> {
    let mut select = Selection::new(workspace_id, query);
    let order = select.order(query.sort, query.descending);
    if let Some(after) = after {
        select.after(query.sort, query.descending, after);
    }
    let limit_at = select.push(Bind::Int(i64::from(limit)));
    let rows = select
        .fetch(
            db,
            &format!(
                "SELECT {COLUMNS} FROM clients WHERE {} ORDER BY {order} LIMIT ${limit_at}",
                select.filter
            ),
        )
        .await?;
    let total = Selection::new(workspace_id, query).count(db).await?;
    Ok((with_keys(db, rows).await?, total))
}

/// Rows read by [`list`] or [`list_after`], with their keys.
async fn with_keys(db: &Db, rows: Vec<AnyRow>) -> StoreResult<Vec<ClientRow>> {
    let records = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    let organization_id = records.first().map(|r| r.organization_id.clone());
    let mut rows: Vec<ClientRow> = records.into_iter().map(|r| r.row).collect();
    if let Some(organization_id) = organization_id {
        attach_keys(db, &organization_id, &mut rows).await?;
    }
    Ok(rows)
}

/// A value bound to a listing's statement.
enum Bind {
    Text(String),
    Int(i64),
}

/// The `WHERE` clause of a listing of one workspace's clients, with the values it binds: the one
/// place that says what a search and the filters match, for pages and for counts alike.
struct Selection {
    filter: String,
    binds: Vec<Bind>,
}

impl Selection {
    fn new(workspace_id: &str, query: &ClientQuery) -> Self {
        let mut select = Selection {
            filter: "workspace_id = $1".to_owned(),
            binds: vec![Bind::Text(workspace_id.to_owned())],
        };
        let search = query.search.trim();
        if !search.is_empty() {
            // Client IDs are ASCII, which LOWER() folds alike on both engines; names are folded
            // by `fold` when written.
            let at = select.push(Bind::Text(like_pattern(search)));
            select.filter.push_str(&format!(
                " AND (LOWER(client_id) LIKE ${at} ESCAPE '\\' OR name_folded LIKE ${at} ESCAPE '\\')"
            ));
        }
        match query.access {
            AccessFilter::All => {}
            AccessFilter::Restricted => select.filter.push_str(" AND scope IS NOT NULL"),
            AccessFilter::Unrestricted => select.filter.push_str(" AND scope IS NULL"),
        }
        // Times are the server's own numbers, written into the statement.
        let now = now_millis();
        let works = |at: i64| {
            format!(
                "EXISTS (SELECT 1 FROM client_keys k WHERE k.client_id = clients.client_id
                         AND k.organization_id = clients.organization_id
                         AND (k.ends_at IS NULL OR k.ends_at > {at}))"
            )
        };
        match query.expiry {
            ExpiryFilter::All => {}
            ExpiryFilter::Expired => select.filter.push_str(&format!(" AND NOT {}", works(now))),
            ExpiryFilter::Expiring => select.filter.push_str(&format!(
                " AND {} AND NOT {}",
                works(now),
                works(now + EXPIRING_WITHIN_MS)
            )),
        }
        select
    }

    /// Binds `value`; its placeholder's number.
    fn push(&mut self, value: Bind) -> usize {
        self.binds.push(value);
        self.binds.len()
    }

    /// The `ORDER BY` for `sort`. The Client ID breaks ties, so pages never overlap or skip rows,
    /// and clients never seen sort last in both directions.
    fn order(&self, sort: SortKey, descending: bool) -> String {
        let direction = if descending { "DESC" } else { "ASC" };
        match sort {
            SortKey::ClientId => format!("client_id {direction}"),
            SortKey::Name => format!("name {direction}, client_id {direction}"),
            SortKey::Created => format!("created_at {direction}, client_id {direction}"),
            SortKey::LastSeen => {
                format!("last_seen_at {direction} NULLS LAST, client_id {direction}")
            }
        }
    }

    /// Keeps the rows that [`Self::order`] puts after `after`.
    fn after(&mut self, sort: SortKey, descending: bool, after: &After) {
        let op = if descending { "<" } else { ">" };
        let id = self.push(Bind::Text(after.client_id.clone()));
        let condition = match (sort, &after.text, after.time) {
            (SortKey::Name, Some(name), _) => {
                let v = self.push(Bind::Text(name.clone()));
                format!("(name {op} ${v} OR (name = ${v} AND client_id {op} ${id}))")
            }
            (SortKey::Created, _, Some(time)) => {
                let v = self.push(Bind::Int(time));
                format!("(created_at {op} ${v} OR (created_at = ${v} AND client_id {op} ${id}))")
            }
            (SortKey::LastSeen, _, Some(time)) => {
                let v = self.push(Bind::Int(time));
                format!(
                    "(last_seen_at {op} ${v} OR (last_seen_at = ${v} AND client_id {op} ${id}) OR last_seen_at IS NULL)"
                )
            }
            (SortKey::LastSeen, _, None) => {
                format!("(last_seen_at IS NULL AND client_id {op} ${id})")
            }
            // By Client ID, or a cursor without the value its sort needs: the Client ID alone.
            _ => format!("client_id {op} ${id}"),
        };
        self.filter.push_str(" AND ");
        self.filter.push_str(&condition);
    }

    async fn fetch(&self, db: &Db, sql: &str) -> StoreResult<Vec<AnyRow>> {
        let mut query = sqlx::query(sql);
        for value in &self.binds {
            query = match value {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Int(n) => query.bind(*n),
            };
        }
        Ok(query.fetch_all(db.pool()).await?)
    }

    async fn count(&self, db: &Db) -> StoreResult<u64> {
        let sql = format!("SELECT COUNT(*) FROM clients WHERE {}", self.filter);
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for value in &self.binds {
            query = match value {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Int(n) => query.bind(*n),
            };
        }
        Ok(query.fetch_one(db.pool()).await? as u64)
    }
}

/// Every client of a workspace with its keys, by Client ID: what an export writes. The workspace
/// must already be known to belong to the caller's organization.
pub async fn list_all(db: &Db, workspace_id: &str) -> StoreResult<Vec<ClientRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM clients WHERE workspace_id = $1 ORDER BY client_id"
    ))
    .bind(workspace_id)
    .fetch_all(db.pool())
    .await?;
    let mut keys = client_keys::list_for_workspace(db, workspace_id).await?;
    rows.iter()
        .map(|r| {
            let mut row = from_row(r)?.row;
            row.keys = keys.remove(row.client_id.as_str()).unwrap_or_default();
            Ok(row)
        })
        .collect()
}

/// How many clients a workspace has.
pub async fn count(db: &Db, workspace_id: &str) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(db.pool())
        .await?;
    Ok(n as u64)
}

/// Runs `change` on a client of `ctx.organization_id` inside a transaction, then re-reads it,
/// writes the audit event and, for revocations, the outbox row; all or nothing.
async fn change<'q>(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
    action: AuditAction,
    detail: &str,
    revocation: Option<RevocationReason>,
    statement: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> StoreResult<ClientRecord> {
    let mut tx = db.begin().await?;
    if statement.execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let record = get_in(&mut tx, &ctx.organization_id, client_id).await?;
    audit::insert_in(
        &mut tx,
        ctx,
        Some(&record.workspace_id),
        action,
        client_id.as_str(),
        detail,
    )
    .await?;
    if let Some(reason) = revocation {
        outbox::insert_in(
            &mut tx,
            client_id.as_str(),
            &ctx.organization_id,
            reason,
            record.revision,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(record)
}

/// Moves the client's "last seen" to `at`, in the caller's transaction; never back, whatever order
/// two brokers' news lands in.
pub(super) async fn update_last_seen_in(
    conn: &mut AnyConnection,
    owner: &ClientRef,
    at: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE clients SET last_seen_at = $1
         WHERE client_id = $2 AND organization_id = $3 AND (last_seen_at IS NULL OR last_seen_at < $1)",
    )
    .bind(at)
    .bind(owner.client_id.as_str())
    .bind(&owner.organization_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves "last seen" to `at` for the client whose session on `broker` has `mqtt_client_id`, in
/// the caller's transaction; never back.
pub(super) async fn update_last_seen_by_session_in(
    conn: &mut AnyConnection,
    broker: &str,
    mqtt_client_id: &str,
    at: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE clients SET last_seen_at = $3
         WHERE (last_seen_at IS NULL OR last_seen_at < $3)
           AND EXISTS (SELECT 1 FROM device_sessions s
                       WHERE s.broker = $1 AND s.mqtt_client_id = $2
                         AND s.client_id = clients.client_id
                         AND s.organization_id = clients.organization_id)",
    )
    .bind(broker)
    .bind(mqtt_client_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// [`get`] on a given connection (inside a transaction), with its keys.
async fn get_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    client_id: &ClientId,
) -> StoreResult<ClientRecord> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM clients WHERE client_id = $1 AND organization_id = $2"
    ))
    .bind(client_id.as_str())
    .bind(organization_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut record = from_row(&row)?;
    record.row.keys = client_keys::list_of_in(
        conn,
        &ClientRef {
            organization_id: organization_id.to_owned(),
            client_id: client_id.clone(),
        },
    )
    .await?;
    Ok(record)
}

/// Fills in the keys of every row (clients of `organization_id`), in one query.
async fn attach_keys(db: &Db, organization_id: &str, rows: &mut [ClientRow]) -> StoreResult<()> {
    let ids: Vec<&str> = rows.iter().map(|r| r.client_id.as_str()).collect();
    let mut keys = client_keys::list_for(db, organization_id, &ids).await?;
    for row in rows {
        row.keys = keys.remove(row.client_id.as_str()).unwrap_or_default();
    }
    Ok(())
}

/// Changes a client's name and description.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %client_id))]
pub async fn update(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
    name: &ClientName,
    description: &Description,
) -> StoreResult<ClientRow> {
    let statement = sqlx::query(
        "UPDATE clients SET name = $1, name_folded = $6, description = $2, updated_at = $3, revision = revision + 1 WHERE client_id = $4 AND organization_id = $5",
    )
    .bind(name.as_str())
    .bind(description.as_str())
    .bind(now_millis())
    .bind(client_id.as_str())
    .bind(&ctx.organization_id)
    .bind(fold(name.as_str()));
    Ok(change(
        db,
        ctx,
        client_id,
        AuditAction::ClientUpdated,
        name.as_str(),
        None,
        statement,
    )
    .await?
    .row)
}

/// Activates or deactivates a client. Deactivating queues a revocation.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %client_id))]
pub async fn update_active(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
    active: bool,
) -> StoreResult<ClientRow> {
    let statement = sqlx::query(
        "UPDATE clients SET active = $1, updated_at = $2, revision = revision + 1 WHERE client_id = $3 AND organization_id = $4",
    )
    .bind(active as i64)
    .bind(now_millis())
    .bind(client_id.as_str())
    .bind(&ctx.organization_id);
    let (action, revocation) = if active {
        (AuditAction::ClientActivated, None)
    } else {
        (
            AuditAction::ClientDeactivated,
            Some(RevocationReason::Deactivated),
        )
    };
    Ok(
        change(db, ctx, client_id, action, "", revocation, statement)
            .await?
            .row,
    )
}

/// Queues the closing of every session of a client on every broker (Disconnect all sessions),
/// its key, status and access unchanged. The revision moves on, so a session let in before this
/// is told from a device that reconnects after it with the same key.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %client_id))]
pub async fn disconnect_sessions(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
) -> StoreResult<ClientRecord> {
    let statement = sqlx::query(
        "UPDATE clients SET revision = revision + 1 WHERE client_id = $1 AND organization_id = $2",
    )
    .bind(client_id.as_str())
    .bind(&ctx.organization_id);
    change(
        db,
        ctx,
        client_id,
        AuditAction::ClientSessionsDisconnected,
        "",
        Some(RevocationReason::SessionsDisconnected),
        statement,
    )
    .await
}

/// Replaces every key of a client with one whose hash is `key_hash` (ending at `ends_at`) and
/// queues a revocation that ends every session: the old keys stop when this returns.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %client_id))]
pub async fn update_key(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
    key_hash: &str,
    ends_at: Option<i64>,
) -> StoreResult<ClientRecord> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    let bumped = sqlx::query(
        "UPDATE clients SET updated_at = $1, revision = revision + 1 WHERE client_id = $2 AND organization_id = $3",
    )
    .bind(now)
    .bind(client_id.as_str())
    .bind(&ctx.organization_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if bumped == 0 {
        return Err(StoreError::NotFound);
    }
    let owner = ClientRef {
        organization_id: ctx.organization_id.clone(),
        client_id: client_id.clone(),
    };
    client_keys::replace_in(&mut tx, &owner, key_hash, ends_at, now).await?;
    let record = get_in(&mut tx, &ctx.organization_id, client_id).await?;
    audit::insert_in(
        &mut tx,
        ctx,
        Some(&record.workspace_id),
        AuditAction::ClientKeyRegenerated,
        client_id.as_str(),
        "",
    )
    .await?;
    outbox::insert_in(
        &mut tx,
        client_id.as_str(),
        &ctx.organization_id,
        RevocationReason::KeyRegenerated,
        record.revision,
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

/// Changes which devices a client serves and its topic rules. A change that can take access away
/// (a scope entry dropped, a client restricted, its rules changed) queues a revocation that
/// re-decides the client's sessions ([`RevocationReason::ends_every_session`] is false for it):
/// the ones now out of scope are closed, and the others keep only what is still allowed.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %client_id))]
pub async fn update_access(
    db: &Db,
    ctx: &AuditContext,
    client_id: &ClientId,
    scope: Option<&Scope>,
    rules: &TopicRules,
) -> StoreResult<ClientRecord> {
    let mut tx = db.begin().await?;
    // The write comes first (see `delete`); the row read next is the client as it was.
    let bumped = sqlx::query(
        "UPDATE clients SET revision = revision + 1, updated_at = $3 WHERE client_id = $1 AND organization_id = $2",
    )
    .bind(client_id.as_str())
    .bind(&ctx.organization_id)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if bumped == 0 {
        return Err(StoreError::NotFound);
    }
    let before = get_in(&mut tx, &ctx.organization_id, client_id).await?;
    sqlx::query(
        "UPDATE clients SET scope = $1, topic_rules = $2 WHERE client_id = $3 AND organization_id = $4",
    )
    .bind(scope.map(Scope::to_text))
    .bind(rules.to_json())
    .bind(client_id.as_str())
    .bind(&ctx.organization_id)
    .execute(&mut *tx)
    .await?;
    let scope_changed = before.row.scope.as_ref() != scope;
    let rules_changed = &before.row.topic_rules != rules;
    let workspace = Some(before.workspace_id.as_str());
    if scope_changed {
        let detail = scope.map_or_else(|| "any device".to_owned(), Scope::to_text);
        audit::insert_in(
            &mut tx,
            ctx,
            workspace,
            AuditAction::ClientScopeChanged,
            client_id.as_str(),
            &detail,
        )
        .await?;
    }
    if rules_changed {
        let detail = format!("{} rule(s)", rules.len());
        audit::insert_in(
            &mut tx,
            ctx,
            workspace,
            AuditAction::ClientRulesChanged,
            client_id.as_str(),
            &detail,
        )
        .await?;
    }
    // Rules changed: every session is re-checked (and on an external broker closed); a narrowed
    // scope alone: only sessions out of scope go.
    let reason = if rules_changed {
        Some(RevocationReason::RulesChanged)
    } else if crate::model::narrows(before.row.scope.as_ref(), scope) {
        Some(RevocationReason::ScopeNarrowed)
    } else {
        None
    };
    if let Some(reason) = reason {
        outbox::insert_in(
            &mut tx,
            client_id.as_str(),
            &ctx.organization_id,
            reason,
            before.revision,
        )
        .await?;
    }
    let record = get_in(&mut tx, &ctx.organization_id, client_id).await?;
    tx.commit().await?;
    Ok(record)
}

/// Revokes, in the caller's transaction, the access of every restricted client of `workspace_id`
/// whose scope held the device `device` with tags `before` and does not hold it with `after`
/// (`None`: the device is deleted): each gets a [`RevocationReason::ScopeNarrowed`] revocation,
/// which closes exactly that device's sessions and takes its topics from the others. How many
/// clients lost it.
pub(super) async fn revoke_device_left_scopes_in(
    conn: &mut AnyConnection,
    workspace_id: &str,
    device: &DeviceId,
    before: &[Tag],
    after: Option<&[Tag]>,
) -> StoreResult<usize> {
    let rows = sqlx::query(
        "SELECT client_id, organization_id, scope FROM clients WHERE workspace_id = $1 AND scope IS NOT NULL",
    )
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut revoked = 0;
    for row in &rows {
        let Some(scope) = read_scope(row)? else {
            continue;
        };
        let left = scope.contains(device, before)
            && !after.is_some_and(|after| scope.contains(device, after));
        if !left {
            continue;
        }
        let client_id: String = row.try_get("client_id")?;
        let organization_id: String = row.try_get("organization_id")?;
        let revision: i64 = sqlx::query_scalar(
            "UPDATE clients SET revision = revision + 1 WHERE client_id = $1 AND organization_id = $2 RETURNING revision",
        )
        .bind(&client_id)
        .bind(&organization_id)
        .fetch_one(&mut *conn)
        .await?;
        outbox::insert_in(
            conn,
            &client_id,
            &organization_id,
            RevocationReason::ScopeNarrowed,
            revision,
        )
        .await?;
        revoked += 1;
    }
    Ok(revoked)
}

/// Deletes a client and queues a revocation.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %client_id))]
pub async fn delete(db: &Db, ctx: &AuditContext, client_id: &ClientId) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    // The write comes first, returning what the audit event needs: one statement fewer.
    let deleted = sqlx::query(
        "DELETE FROM clients WHERE client_id = $1 AND organization_id = $2 RETURNING workspace_id, name",
    )
    .bind(client_id.as_str())
    .bind(&ctx.organization_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let workspace_id: String = deleted.try_get("workspace_id")?;
    let name: String = deleted.try_get("name")?;
    sqlx::query("DELETE FROM client_keys WHERE client_id = $1 AND organization_id = $2")
        .bind(client_id.as_str())
        .bind(&ctx.organization_id)
        .execute(&mut *tx)
        .await?;
    mqtt_usernames::release_in(&mut tx, client_id.as_str(), UsernameKind::Client).await?;
    audit::insert_in(
        &mut tx,
        ctx,
        Some(&workspace_id),
        AuditAction::ClientDeleted,
        client_id.as_str(),
        &name,
    )
    .await?;
    outbox::insert_in(
        &mut tx,
        client_id.as_str(),
        &ctx.organization_id,
        RevocationReason::Deleted,
        outbox::DELETED,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The stored hash of a client's newest key, whoever owns it: tests check what the broker will
/// verify against.
#[cfg(feature = "test-support")]
pub async fn get_key_hash(db: &Db, client_id: &ClientId) -> StoreResult<String> {
    sqlx::query("SELECT key_hash FROM client_keys WHERE client_id = $1 ORDER BY created_at DESC, id LIMIT 1")
        .bind(client_id.as_str())
        .fetch_optional(db.pool())
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get("key_hash")
        .map_err(Into::into)
}

/// What the broker needs to decide a device's CONNECT: whose client it is, where its topics live,
/// whether it is active and the keys it may present.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceCredential {
    pub client_id: ClientId,
    pub organization_id: String,
    pub workspace_id: String,
    pub namespace: String,
    pub active: bool,
    /// Its keys, oldest first, ended ones included (an expired key is refused, and told apart).
    pub keys: Vec<StoredKey>,
    /// The client's revision as read: every change bumps it, so a session authenticated against
    /// an earlier revision than a revocation's was authenticated against what it revoked.
    pub revision: i64,
    /// A restricted client's scope; `None`: any device.
    pub scope: Option<Scope>,
    pub topic_rules: TopicRules,
}

impl DeviceCredential {
    /// The client row this credential belongs to.
    pub fn client_ref(&self) -> ClientRef {
        ClientRef {
            organization_id: self.organization_id.clone(),
            client_id: self.client_id.clone(),
        }
    }

    /// Its key `id`, if it still has it.
    pub fn key(&self, id: &str) -> Option<&StoredKey> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// The columns of a credential, one row per key (a client has one or two), joined to its client.
const CREDENTIAL_COLUMNS: &str =
    "c.client_id, c.organization_id, c.workspace_id, w.namespace, c.active, c.revision,
    c.scope, c.topic_rules, k.id AS key_id, k.key_hash, k.ends_at, k.last_used_at";

/// The credential the rows of one client make (see [`CREDENTIAL_COLUMNS`]).
fn credential_from_rows(rows: &[AnyRow]) -> StoreResult<Option<DeviceCredential>> {
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(id) = row.try_get::<Option<String>, _>("key_id")? {
            keys.push(StoredKey {
                id,
                hash: row.try_get("key_hash")?,
                ends_at: row.try_get("ends_at")?,
                last_used_at: row.try_get("last_used_at")?,
            });
        }
    }
    Ok(Some(DeviceCredential {
        client_id: ClientId::parse(&r.try_get::<String, _>("client_id")?)?,
        organization_id: r.try_get("organization_id")?,
        workspace_id: r.try_get("workspace_id")?,
        namespace: r.try_get("namespace")?,
        active: r.try_get::<i64, _>("active")? != 0,
        keys,
        revision: r.try_get("revision")?,
        scope: read_scope(r)?,
        topic_rules: read_rules(r)?,
    }))
}

/// The credential of `client_id`, whoever owns it (the broker has no signed-in user), or `None`.
/// `client_id` is raw text from a device, taken exactly ([`ClientId::parse_exact`]): anything that
/// is not a valid Client ID as it stands finds nothing.
pub async fn find_credential(db: &Db, client_id: &str) -> StoreResult<Option<DeviceCredential>> {
    let Some(client_id) = ClientId::parse_exact(client_id) else {
        return Ok(None);
    };
    let rows = sqlx::query(&format!(
        "SELECT {CREDENTIAL_COLUMNS}
         FROM clients c JOIN workspaces w ON w.id = c.workspace_id
         LEFT JOIN client_keys k ON k.client_id = c.client_id AND k.organization_id = c.organization_id
         WHERE c.client_id = $1 ORDER BY k.created_at, k.id"
    ))
    .bind(client_id.as_str())
    .fetch_all(db.pool())
    .await?;
    credential_from_rows(&rows)
}

/// What a bare MQTT username names, and the credential it leads to: the client whose Client ID
/// it is (connection form 3), or, when it is a workspace namespace (form 1), the client
/// `client_identifier` names in that namespace. `None` when the username names nothing. One
/// query, so a CONNECT pays one round trip to the database whatever its shape. Both strings are
/// compared exactly as a device sent them.
pub async fn find_credential_by_username(
    db: &Db,
    username: &str,
    client_identifier: &str,
) -> StoreResult<Option<(UsernameKind, Option<DeviceCredential>)>> {
    let rows = sqlx::query(&format!(
        "SELECT u.kind, {CREDENTIAL_COLUMNS}
         FROM mqtt_usernames u
         LEFT JOIN clients c
           ON c.client_id = (CASE WHEN u.kind = $3 THEN $2 ELSE u.name END)
         LEFT JOIN workspaces w ON w.id = c.workspace_id
         LEFT JOIN client_keys k ON k.client_id = c.client_id AND k.organization_id = c.organization_id
         WHERE u.name = $1 ORDER BY k.created_at, k.id"
    ))
    .bind(username)
    .bind(client_identifier)
    .bind(UsernameKind::Namespace.as_str())
    .fetch_all(db.pool())
    .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let kind = UsernameKind::parse(&r.try_get::<String, _>("kind")?)?;
    if r.try_get::<Option<String>, _>("client_id")?.is_none() {
        return Ok(Some((kind, None)));
    }
    let namespace: String = r.try_get("namespace")?;
    if kind == UsernameKind::Namespace && namespace != username {
        // The identifier names a client of another workspace.
        return Ok(Some((kind, None)));
    }
    Ok(Some((kind, credential_from_rows(&rows)?)))
}

/// Inserts many clients at once with one shared key hash, without audit events: for benchmarks
/// and load tests only.
#[cfg(feature = "test-support")]
pub async fn insert_many_for_bench(
    db: &Db,
    workspace_id: &str,
    organization_id: &str,
    count: usize,
    key_hash: &str,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let now = now_millis();
    for i in 0..count {
        sqlx::query(
            "INSERT INTO clients (client_id, workspace_id, organization_id, name, name_folded, description, active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $6, '', 1, $5, $5)",
        )
        .bind(format!("bench-{workspace_id:.8}-{i:06}"))
        .bind(workspace_id)
        .bind(organization_id)
        .bind(format!("Sensor {i:06}"))
        .bind(now - i as i64)
        .bind(format!("sensor {i:06}"))
        .execute(&mut *tx)
        .await?;
        let owner = ClientRef {
            organization_id: organization_id.to_owned(),
            client_id: ClientId::parse(&format!("bench-{workspace_id:.8}-{i:06}"))?,
        };
        client_keys::insert_in(&mut tx, &owner, key_hash, None, now).await?;
        mqtt_usernames::reserve_in(
            &mut tx,
            &format!("bench-{workspace_id:.8}-{i:06}"),
            UsernameKind::Client,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
