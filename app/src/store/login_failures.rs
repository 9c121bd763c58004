//! Refused logins per client, one row per client and hour (`client_login_failures`): how many,
//! and the latest (when, from which address, why). The device back-off tallies failures in memory
//! and [`record`]s each tally once per audit window, so a flood of failures costs one upsert per
//! client per window; the Edit modal reads a client's [`summary`].
//!
//! A row belongs to its client row: a client deleted takes its rows with it (a foreign key), and a
//! tally for a client that is gone, or whose Client ID another organization holds now, is dropped.

use super::{Db, StoreResult};
use crate::model::{ClientRef, LoginFailure, LoginFailureReason};
use sqlx::Row;

/// An hour in Unix milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// How long the rows are kept: the Edit modal's "last failure" reaches back this far.
pub const KEPT_MS: i64 = 30 * 24 * HOUR_MS;

/// The start of the hour `at` (Unix milliseconds) falls in.
pub fn hour_of(at: i64) -> i64 {
    at - at.rem_euclid(HOUR_MS)
}

/// Refused logins of one client in one hour, as the back-off counted them.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    pub client: ClientRef,
    /// The hour's start ([`hour_of`]).
    pub hour: i64,
    pub failures: u64,
    /// The latest of them.
    pub last: LoginFailure,
}

/// What is known of a client's refused logins.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// The latest one kept.
    pub last: Option<LoginFailure>,
    /// How many in the hours that ended after `since` (see [`summary`]).
    pub failures: u64,
}

/// Adds `tallies` to their clients' hours, in one transaction: counts add up, and an hour's latest
/// failure is the later of the stored one and the tally's.
pub async fn record(db: &Db, tallies: &[Tally]) -> StoreResult<()> {
    if tallies.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for tally in tallies {
        // The SELECT from clients drops a tally whose client row is gone (its Client ID may even
        // be another organization's now); its WHERE also lets SQLite read the ON CONFLICT.
        sqlx::query(
            "INSERT INTO client_login_failures
                 (client_id, organization_id, hour, failures, last_at, last_address, last_reason)
             SELECT client_id, organization_id, $3, $4, $5, $6, $7
             FROM clients WHERE client_id = $1 AND organization_id = $2
             ON CONFLICT (client_id, hour) DO UPDATE SET
                 failures = client_login_failures.failures + excluded.failures,
                 last_address = CASE WHEN excluded.last_at >= client_login_failures.last_at
                     THEN excluded.last_address ELSE client_login_failures.last_address END,
                 last_reason = CASE WHEN excluded.last_at >= client_login_failures.last_at
                     THEN excluded.last_reason ELSE client_login_failures.last_reason END,
                 last_at = CASE WHEN excluded.last_at >= client_login_failures.last_at
                     THEN excluded.last_at ELSE client_login_failures.last_at END",
        )
        .bind(tally.client.client_id.as_str())
        .bind(&tally.client.organization_id)
        .bind(tally.hour)
        .bind(tally.failures as i64)
        .bind(tally.last.at)
        .bind(&tally.last.address)
        .bind(tally.last.reason.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `client`'s latest refused login, and how many it had in the hours that end after `since`
/// (an hour that began before `since` but ends after it counts in full).
pub async fn summary(db: &Db, client: &ClientRef, since: i64) -> StoreResult<Summary> {
    let failures: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(failures), 0) AS BIGINT) FROM client_login_failures
         WHERE client_id = $1 AND organization_id = $2 AND hour > $3",
    )
    .bind(client.client_id.as_str())
    .bind(&client.organization_id)
    .bind(since - HOUR_MS)
    .fetch_one(db.pool())
    .await?;
    let last = sqlx::query(
        "SELECT last_at, last_address, last_reason FROM client_login_failures
         WHERE client_id = $1 AND organization_id = $2 ORDER BY hour DESC LIMIT 1",
    )
    .bind(client.client_id.as_str())
    .bind(&client.organization_id)
    .fetch_optional(db.pool())
    .await?
    .map(|row| -> StoreResult<LoginFailure> {
        Ok(LoginFailure {
            at: row.try_get("last_at")?,
            address: row.try_get("last_address")?,
            reason: LoginFailureReason::parse(&row.try_get::<String, _>("last_reason")?)?,
        })
    })
    .transpose()?;
    Ok(Summary {
        last,
        failures: failures.max(0) as u64,
    })
}

/// Deletes every hour that began before `before`; how many rows went.
pub async fn delete_before(db: &Db, before: i64) -> StoreResult<u64> {
    Ok(
        sqlx::query("DELETE FROM client_login_failures WHERE hour < $1")
            .bind(before)
            .execute(db.pool())
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_starts_on_the_hour() {
        assert_eq!(hour_of(0), 0);
        assert_eq!(hour_of(HOUR_MS - 1), 0);
        assert_eq!(hour_of(HOUR_MS), HOUR_MS);
        assert_eq!(hour_of(5 * HOUR_MS + 1234), 5 * HOUR_MS);
    }
}
