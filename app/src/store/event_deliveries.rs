//! Event deliveries: each credential event queued for each endpoint that receives it, and how far
//! its delivery got.
//!
//! A client change's event is queued by [`queue_change_in`] in the change's own transaction (the
//! audit module calls it beside the change's audit row, so no change can commit without its
//! events, nor queue one without committing). An endpoint's deliveries go out in `id` order, each
//! only after the one before it was delivered ([`head`]): an endpoint that is down gets every
//! event once it is back, in order.

use super::audit::{self, AuditContext};
use super::{Db, StoreError, StoreResult, event_endpoints, new_id, now_millis};
use crate::model::{AuditAction, ClientRef, Event, EventData, EventDeliveryRow, EventType};
use sqlx::{AnyConnection, Row, any::AnyRow};
use std::collections::HashMap;

/// The next delivery of an endpoint, as the worker sends it.
#[derive(Clone, Debug)]
pub struct Queued {
    pub id: i64,
    /// The `webhook-id`.
    pub message_id: String,
    pub event_type: EventType,
    /// The body, byte for byte what is signed.
    pub payload: String,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

/// How an attempt ended, as the worker records it.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub at: i64,
    /// The HTTP status the endpoint answered, if it answered.
    pub response_status: Option<u16>,
}

const COLUMNS: &str = "id, message_id, event_type, created_at, attempts, next_attempt_at, \
     last_attempt_at, response_status, last_error, delivered_at";

fn from_row(row: &AnyRow) -> StoreResult<EventDeliveryRow> {
    let delivered_at: Option<i64> = row.try_get("delivered_at")?;
    Ok(EventDeliveryRow {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        event_type: EventType::parse(&row.try_get::<String, _>("event_type")?)?,
        created_at: row.try_get("created_at")?,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        next_attempt_at: match delivered_at {
            Some(_) => None,
            None => Some(row.try_get("next_attempt_at")?),
        },
        last_attempt_at: row.try_get("last_attempt_at")?,
        response_status: row
            .try_get::<Option<i64>, _>("response_status")?
            .map(|s| s as u16),
        last_error: row.try_get("last_error")?,
        delivered_at,
    })
}

/// Queues the event a change of client `client_id` (in `workspace_id` of `organization_id`)
/// raises, for every enabled endpoint of the organization that receives it, in the caller's
/// transaction. The data is the client as the transaction sees it now; a deleted client's event
/// carries its ids only.
pub(super) async fn queue_change_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    workspace_id: &str,
    event_type: EventType,
    client_id: &str,
) -> StoreResult<()> {
    let endpoints = event_endpoints::subscribed_in(conn, organization_id, event_type).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let data = client_data_in(conn, organization_id, workspace_id, client_id).await?;
    insert_in(conn, organization_id, &endpoints, event_type, data).await
}

/// Queues `client.auth_failures` for `client`: a burst of `failures` wrong keys locked it out for
/// `locked_for_secs`. A transaction of its own: no change of the client goes with it. Whether
/// anything was queued.
pub async fn queue_auth_failures(
    db: &Db,
    client: &ClientRef,
    workspace_id: &str,
    failures: u32,
    locked_for_secs: u64,
) -> StoreResult<bool> {
    let event_type = EventType::ClientAuthFailures;
    // Read first, then one transaction that starts with its writes: a SQLite transaction that
    // reads before it writes cannot wait for a concurrent writer.
    let mut conn = db.pool().acquire().await?;
    let endpoints =
        event_endpoints::subscribed_in(&mut conn, &client.organization_id, event_type).await?;
    if endpoints.is_empty() {
        return Ok(false);
    }
    let mut data = client_data_in(
        &mut conn,
        &client.organization_id,
        workspace_id,
        client.client_id.as_str(),
    )
    .await?;
    drop(conn);
    data.failures = Some(failures);
    data.locked_for_secs = Some(locked_for_secs);
    let mut tx = db.begin().await?;
    insert_in(
        &mut tx,
        &client.organization_id,
        &endpoints,
        event_type,
        data,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// What an event says about a client: its ids, and its name and status while it exists.
async fn client_data_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    workspace_id: &str,
    client_id: &str,
) -> StoreResult<EventData> {
    let row = sqlx::query(
        "SELECT name, active FROM clients WHERE client_id = $1 AND organization_id = $2",
    )
    .bind(client_id)
    .bind(organization_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (name, active) = match row {
        Some(row) => (
            Some(row.try_get::<String, _>("name")?),
            Some(row.try_get::<i64, _>("active")? != 0),
        ),
        None => (None, None),
    };
    Ok(EventData {
        organization_id: organization_id.to_owned(),
        workspace_id: workspace_id.to_owned(),
        client_id: client_id.to_owned(),
        name,
        active,
        failures: None,
        locked_for_secs: None,
    })
}

/// One delivery of the event per endpoint, each with the same message id and body.
async fn insert_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    endpoints: &[String],
    event_type: EventType,
    data: EventData,
) -> StoreResult<()> {
    let now = now_millis();
    let payload = Event::new(event_type, now, data).to_json();
    let message_id = format!("msg_{}", new_id().replace('-', ""));
    for endpoint in endpoints {
        sqlx::query(
            "INSERT INTO event_deliveries (endpoint_id, organization_id, message_id, event_type, payload, created_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(endpoint)
        .bind(organization_id)
        .bind(&message_id)
        .bind(event_type.as_str())
        .bind(&payload)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The newest deliveries of endpoint `endpoint_id` of `organization_id`, newest first, at most
/// `limit`; another organization's endpoint is [`StoreError::NotFound`].
pub async fn list(
    db: &Db,
    organization_id: &str,
    endpoint_id: &str,
    limit: u32,
) -> StoreResult<Vec<EventDeliveryRow>> {
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM event_endpoints WHERE id = $1 AND organization_id = $2",
    )
    .bind(endpoint_id)
    .bind(organization_id)
    .fetch_one(db.pool())
    .await?;
    if found == 0 {
        return Err(StoreError::NotFound);
    }
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM event_deliveries WHERE endpoint_id = $1 AND organization_id = $2
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(endpoint_id)
    .bind(organization_id)
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The newest delivery of each endpoint of `organization_id`, by endpoint id.
pub(super) async fn latest_per_endpoint(
    db: &Db,
    organization_id: &str,
) -> StoreResult<HashMap<String, EventDeliveryRow>> {
    let rows = sqlx::query(&format!(
        "SELECT endpoint_id, {COLUMNS} FROM event_deliveries d
         WHERE organization_id = $1
           AND id = (SELECT MAX(l.id) FROM event_deliveries l WHERE l.endpoint_id = d.endpoint_id)"
    ))
    .bind(organization_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("endpoint_id")?, from_row(row)?)))
        .collect()
}

/// Queues delivery `id` of `ctx`'s organization again, as a new delivery of the same message at
/// the end of its endpoint's queue, with its audit event. Another organization's is
/// [`StoreError::NotFound`].
pub async fn resend(db: &Db, ctx: &AuditContext, id: i64) -> StoreResult<EventDeliveryRow> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    // The write comes first (see `store::clients::delete`): the copy, made from the original.
    let new_id: i64 = sqlx::query_scalar(
        "INSERT INTO event_deliveries (endpoint_id, organization_id, message_id, event_type, payload, created_at, next_attempt_at)
         SELECT endpoint_id, organization_id, message_id, event_type, payload, $3, $3
         FROM event_deliveries WHERE id = $1 AND organization_id = $2
         RETURNING id",
    )
    .bind(id)
    .bind(&ctx.organization_id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let row = sqlx::query(&format!(
        "SELECT endpoint_id, {COLUMNS} FROM event_deliveries WHERE id = $1"
    ))
    .bind(new_id)
    .fetch_one(&mut *tx)
    .await?;
    let endpoint_id: String = row.try_get("endpoint_id")?;
    let delivery = from_row(&row)?;
    audit::insert_in(
        &mut tx,
        ctx,
        None,
        AuditAction::EventResent,
        &endpoint_id,
        &format!("{} {}", delivery.event_type, delivery.message_id),
    )
    .await?;
    tx.commit().await?;
    Ok(delivery)
}

/// The enabled endpoints whose next delivery is due at `now`.
pub async fn due(db: &Db, now: i64) -> StoreResult<Vec<String>> {
    let ids = sqlx::query_scalar(
        "SELECT d.endpoint_id FROM event_deliveries d
         JOIN event_endpoints e ON e.id = d.endpoint_id
         WHERE e.enabled = 1 AND d.delivered_at IS NULL AND d.next_attempt_at <= $1
           AND d.id = (SELECT MIN(h.id) FROM event_deliveries h
                       WHERE h.endpoint_id = d.endpoint_id AND h.delivered_at IS NULL)
         ORDER BY d.id",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    Ok(ids)
}

/// Endpoint `endpoint_id`'s oldest undelivered delivery: the only one that may be sent.
pub async fn head(db: &Db, endpoint_id: &str) -> StoreResult<Option<Queued>> {
    let row = sqlx::query(
        "SELECT id, message_id, event_type, payload, attempts, next_attempt_at, created_at
         FROM event_deliveries WHERE endpoint_id = $1 AND delivered_at IS NULL
         ORDER BY id LIMIT 1",
    )
    .bind(endpoint_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(Queued {
            id: row.try_get("id")?,
            message_id: row.try_get("message_id")?,
            event_type: EventType::parse(&row.try_get::<String, _>("event_type")?)?,
            payload: row.try_get("payload")?,
            attempts: row.try_get::<i64, _>("attempts")? as u32,
            next_attempt_at: row.try_get("next_attempt_at")?,
            created_at: row.try_get("created_at")?,
        })
    })
    .transpose()
}

/// Records that the endpoint took delivery `id` (it answered 2xx).
pub async fn mark_delivered(db: &Db, id: i64, attempt: &Attempt) -> StoreResult<()> {
    sqlx::query(
        "UPDATE event_deliveries SET delivered_at = $2, last_attempt_at = $2, response_status = $3,
             attempts = attempts + 1, last_error = NULL
         WHERE id = $1 AND delivered_at IS NULL",
    )
    .bind(id)
    .bind(attempt.at)
    .bind(attempt.response_status.map(i64::from))
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed attempt at delivery `id`, and when to try it again.
pub async fn record_failure(
    db: &Db,
    id: i64,
    attempt: &Attempt,
    error: &str,
    next_attempt_at: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE event_deliveries SET attempts = attempts + 1, last_attempt_at = $2,
             response_status = $3, last_error = $4, next_attempt_at = $5
         WHERE id = $1 AND delivered_at IS NULL",
    )
    .bind(id)
    .bind(attempt.at)
    .bind(attempt.response_status.map(i64::from))
    .bind(error)
    .bind(next_attempt_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Deletes every delivery of endpoint `endpoint_id` of `organization_id`, in the caller's
/// transaction (the endpoint is being deleted).
pub(super) async fn delete_for_endpoint_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    endpoint_id: &str,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM event_deliveries WHERE endpoint_id = $1 AND organization_id = $2")
        .bind(endpoint_id)
        .bind(organization_id)
        .execute(conn)
        .await?;
    Ok(())
}
