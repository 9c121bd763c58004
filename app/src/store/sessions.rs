//! Dashboard sessions for tower-sessions, kept in Keygate's own database (SQLite or PostgreSQL)
//! so they survive restarts and need no extra service. Each row also names its user, so that a
//! password change or "sign out everywhere" can end all of a user's sessions, and the account page
//! can list them.
//!
//! A session that was deleted stays deleted: `save` only updates a row that exists, so a request
//! that was in flight when its session signed out cannot write it back.

use super::{Db, StoreResult, now_millis};
use async_trait::async_trait;
use sqlx::Row;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// A tower-sessions store on the `sessions` table.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expires_at(record: &Record) -> i64 {
    record.expiry_date.unix_timestamp() * 1000
}

/// The session data's key that holds the signed-in user's id (written by `auth`).
pub const USER_KEY: &str = "user_id";
/// The session data's keys for what the account page shows of a session.
pub const ADDRESS_KEY: &str = "address";
pub const AGENT_KEY: &str = "agent";

fn user_of(record: &Record) -> Option<String> {
    record
        .data
        .get(USER_KEY)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// One of a user's live dashboard sessions, as the account page lists it.
#[derive(Clone, Debug)]
pub struct SessionEntry {
    pub id: String,
    pub address: String,
    pub agent: String,
    pub last_active_at: i64,
}

/// `user_id`'s live sessions, the most recently active first.
pub async fn list_for_user(db: &Db, user_id: &str) -> StoreResult<Vec<SessionEntry>> {
    let rows = sqlx::query(
        "SELECT id, record, last_active_at FROM sessions
         WHERE user_id = $1 AND expires_at > $2 ORDER BY last_active_at DESC, id",
    )
    .bind(user_id)
    .bind(now_millis())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let encoded: String = r.try_get("record")?;
            let record: Record = serde_json::from_str(&encoded)
                .map_err(|e| super::StoreError::Corrupt(format!("a session record: {e}")))?;
            let text = |key: &str| {
                record
                    .data
                    .get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            Ok(SessionEntry {
                id: r.try_get("id")?,
                address: text(ADDRESS_KEY),
                agent: text(AGENT_KEY),
                last_active_at: r.try_get::<Option<i64>, _>("last_active_at")?.unwrap_or(0),
            })
        })
        .collect()
}

/// Ends every session of `user_id` but `keep` (the caller's own, when it stays); how many ended.
pub async fn delete_for_user(db: &Db, user_id: &str, keep: Option<&str>) -> StoreResult<u64> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(keep.unwrap_or(""))
            .execute(db.pool())
            .await?
            .rows_affected(),
    )
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; a collision is next to impossible, but never reuse a live id.
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, record, expires_at, user_id, last_active_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(encode(record)?)
            .bind(expires_at(record))
            .bind(user_of(record))
            .bind(now_millis())
            .execute(self.db.pool())
            .await
            .map_err(backend)?
            .rows_affected();
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Updates a session that exists; one deleted meanwhile (signed out, ended by a password
    /// change) is not brought back.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query(
            "UPDATE sessions SET record = $2, expires_at = $3, user_id = $4, last_active_at = $5
             WHERE id = $1",
        )
        .bind(record.id.to_string())
        .bind(encode(record)?)
        .bind(expires_at(record))
        .bind(user_of(record))
        .bind(now_millis())
        .execute(self.db.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let row = sqlx::query("SELECT record FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(session_id.to_string())
            .bind(now_millis())
            .fetch_optional(self.db.pool())
            .await
            .map_err(backend)?;
        row.map(|r| {
            let encoded: String = r.try_get("record").map_err(backend)?;
            serde_json::from_str(&encoded).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(session_id.to_string())
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_millis())
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// Ends one session of `user_id`.
pub async fn delete(db: &Db, user_id: &str, id: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}
