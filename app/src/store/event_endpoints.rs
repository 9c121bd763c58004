//! Event endpoints: the HTTPS URLs an organization's credential events are POSTed to, which
//! events each receives, its signing secret, and the lease that lets exactly one Keygate process
//! deliver to it at a time. Every read and change is scoped to the caller's organization; the
//! delivery worker alone reads an endpoint by id ([`target`]).

use super::audit::{self, AuditContext};
use super::{Db, StoreError, StoreResult, event_deliveries, new_id, now_millis};
use crate::event_signature::EventSecret;
use crate::model::{AuditAction, EndpointUrl, EventEndpointRow, EventType, EventTypes};
use sqlx::{AnyConnection, Row, any::AnyRow};

/// What a new endpoint is.
#[derive(Debug)]
pub struct NewEndpoint<'a> {
    pub url: &'a EndpointUrl,
    pub event_types: &'a EventTypes,
    pub secret: &'a EventSecret,
}

/// Where the worker sends an endpoint's events, and what it signs them with.
#[derive(Debug)]
pub struct Target {
    pub id: String,
    pub url: String,
    pub secret: EventSecret,
}

const COLUMNS: &str = "id, url, event_types, enabled, created_by, created_at";

fn from_row(row: &AnyRow) -> StoreResult<EventEndpointRow> {
    Ok(EventEndpointRow {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        event_types: EventTypes::parse(&row.try_get::<String, _>("event_types")?)?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_delivery: None,
    })
}

/// Adds an endpoint to `ctx`'s organization, enabled, with its audit event.
pub async fn create(
    db: &Db,
    ctx: &AuditContext,
    new: &NewEndpoint<'_>,
) -> StoreResult<EventEndpointRow> {
    let row = EventEndpointRow {
        id: new_id(),
        url: new.url.as_str().to_owned(),
        event_types: new.event_types.clone(),
        enabled: true,
        created_by: ctx.actor.clone(),
        created_at: now_millis(),
        last_delivery: None,
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO event_endpoints (id, organization_id, url, event_types, secret, enabled, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7)",
    )
    .bind(&row.id)
    .bind(&ctx.organization_id)
    .bind(&row.url)
    .bind(row.event_types.to_text())
    .bind(new.secret.expose())
    .bind(&row.created_by)
    .bind(row.created_at)
    .execute(&mut *tx)
    .await?;
    audit::insert_in(
        &mut tx,
        ctx,
        None,
        AuditAction::EventEndpointCreated,
        &row.url,
        &row.event_types.to_text(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The organization's endpoints, oldest first, each with its newest delivery.
pub async fn list(db: &Db, organization_id: &str) -> StoreResult<Vec<EventEndpointRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM event_endpoints WHERE organization_id = $1
         ORDER BY created_at, id LIMIT 100"
    ))
    .bind(organization_id)
    .fetch_all(db.pool())
    .await?;
    let mut endpoints = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    let mut latest = event_deliveries::latest_per_endpoint(db, organization_id).await?;
    for endpoint in &mut endpoints {
        endpoint.last_delivery = latest.remove(&endpoint.id);
    }
    Ok(endpoints)
}

/// An endpoint of `organization_id`, or [`StoreError::NotFound`].
pub async fn get(db: &Db, organization_id: &str, id: &str) -> StoreResult<EventEndpointRow> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM event_endpoints WHERE id = $1 AND organization_id = $2"
    ))
    .bind(id)
    .bind(organization_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut endpoint = from_row(&row)?;
    endpoint.last_delivery = event_deliveries::latest_per_endpoint(db, organization_id)
        .await?
        .remove(id);
    Ok(endpoint)
}

/// Turns an endpoint on or off: off, it is sent nothing and queues no new events; what was
/// queued waits for it to be on again.
pub async fn set_enabled(
    db: &Db,
    ctx: &AuditContext,
    id: &str,
    enabled: bool,
) -> StoreResult<EventEndpointRow> {
    let mut tx = db.begin().await?;
    let url: String = sqlx::query_scalar(
        "UPDATE event_endpoints SET enabled = $1 WHERE id = $2 AND organization_id = $3 RETURNING url",
    )
    .bind(i64::from(enabled))
    .bind(id)
    .bind(&ctx.organization_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let action = if enabled {
        AuditAction::EventEndpointEnabled
    } else {
        AuditAction::EventEndpointDisabled
    };
    audit::insert_in(&mut tx, ctx, None, action, &url, "").await?;
    tx.commit().await?;
    get(db, &ctx.organization_id, id).await
}

/// Deletes an endpoint and every delivery queued for it.
pub async fn delete(db: &Db, ctx: &AuditContext, id: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    // The write comes first (see `store::clients::delete`): the deliveries, then the endpoint.
    event_deliveries::delete_for_endpoint_in(&mut tx, &ctx.organization_id, id).await?;
    let url: String = sqlx::query_scalar(
        "DELETE FROM event_endpoints WHERE id = $1 AND organization_id = $2 RETURNING url",
    )
    .bind(id)
    .bind(&ctx.organization_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    audit::insert_in(
        &mut tx,
        ctx,
        None,
        AuditAction::EventEndpointDeleted,
        &url,
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The enabled endpoints of `organization_id` that receive `event`, in the caller's transaction.
pub(super) async fn subscribed_in(
    conn: &mut AnyConnection,
    organization_id: &str,
    event: EventType,
) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id, event_types FROM event_endpoints WHERE organization_id = $1 AND enabled = 1 ORDER BY id",
    )
    .bind(organization_id)
    .fetch_all(conn)
    .await?;
    let mut ids = Vec::new();
    for row in &rows {
        if EventTypes::parse(&row.try_get::<String, _>("event_types")?)?.contains(event) {
            ids.push(row.try_get("id")?);
        }
    }
    Ok(ids)
}

/// Where endpoint `id` is and its secret, while it is enabled; `None` otherwise. For the delivery
/// worker, which serves every organization.
pub async fn target(db: &Db, id: &str) -> StoreResult<Option<Target>> {
    let Some(row) =
        sqlx::query("SELECT id, url, secret FROM event_endpoints WHERE id = $1 AND enabled = 1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?
    else {
        return Ok(None);
    };
    Ok(Some(Target {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        secret: EventSecret::from_stored(row.try_get("secret")?),
    }))
}

/// Takes or renews the lease on endpoint `id` for `holder` until `until` (Unix ms). True when
/// `holder` has it: nobody held it, the last holder's lease ran out, or `holder` held it already.
/// One conditional UPDATE, so two processes racing for it cannot both win.
pub async fn lease(db: &Db, id: &str, holder: &str, until: i64) -> StoreResult<bool> {
    let taken = sqlx::query(
        "UPDATE event_endpoints SET lease_holder = $2, lease_until = $3
         WHERE id = $1 AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until < $4)",
    )
    .bind(id)
    .bind(holder)
    .bind(until)
    .bind(now_millis())
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(taken == 1)
}
