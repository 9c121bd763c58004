//! `Idempotency-Key`s of creates: each is written in the transaction of the client it made
//! ([`record_in`]), so a retry finds that client ([`find`]) whether the first answer was sent, lost,
//! or never written because the process died after the commit.

use super::{Db, StoreError, StoreResult, is_unique_violation};
use sqlx::{AnyConnection, Row};

/// How long a key is remembered: a retry after a day is a new request.
pub const KEEP_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// Longest key accepted (the IETF draft sets none; UUIDs are 36).
pub const MAX_KEY_LEN: usize = 255;

/// Who sent a key and what for: keys are per organization and per caller, so two scripts choosing
/// the same key never see each other's clients.
#[derive(Clone, Debug)]
pub struct IdempotencyKey<'a> {
    pub organization_id: &'a str,
    /// The token (or member) that sent it.
    pub caller: &'a str,
    pub key: &'a str,
    /// A digest of what was asked, to tell a retry from another request reusing the key.
    pub request_hash: &'a str,
}

/// What an earlier request with the same key made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remembered {
    pub request_hash: String,
    pub client_id: String,
}

/// The request remembered under `key`, if any within [`KEEP_FOR_MS`] of `now`.
pub async fn find(db: &Db, key: &IdempotencyKey<'_>, now: i64) -> StoreResult<Option<Remembered>> {
    let row = sqlx::query(
        "SELECT request_hash, client_id FROM idempotency_keys
         WHERE organization_id = $1 AND caller = $2 AND idempotency_key = $3 AND created_at > $4",
    )
    .bind(key.organization_id)
    .bind(key.caller)
    .bind(key.key)
    .bind(now - KEEP_FOR_MS)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(Remembered {
            request_hash: row.try_get("request_hash")?,
            client_id: row.try_get("client_id")?,
        })
    })
    .transpose()
}

/// Remembers that `key` made `client_id`, inside the creating transaction. A key remembered
/// already (a concurrent retry that committed first) is [`StoreError::IdempotencyKeyUsed`], which
/// rolls the creation back; expired keys are forgotten first.
pub(crate) async fn record_in(
    tx: &mut AnyConnection,
    key: &IdempotencyKey<'_>,
    client_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
        .bind(now - KEEP_FOR_MS)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO idempotency_keys (organization_id, caller, idempotency_key, request_hash, client_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key.organization_id)
    .bind(key.caller)
    .bind(key.key)
    .bind(key.request_hash)
    .bind(client_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::IdempotencyKeyUsed
        } else {
            e.into()
        }
    })?;
    Ok(())
}
