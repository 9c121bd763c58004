//! The credential store: every SQL statement of Keygate lives in this module's files, one file per
//! table, and only that file writes its table.
//!
//! Every module uses the same verbs, with the same meaning:
//!
//! - `get`: one row by its key, or [`StoreError::NotFound`] (also for another organization's row).
//! - `find`: one row by what a request names, or `None` when there is none: an ordinary answer,
//!   not an error (an email at sign-in, a device's username).
//! - `list`, `count`, `exists`: many rows in a stated order, how many, whether there is one.
//! - `create`, `update…`, `delete`: a complete change in a transaction of its own, with its audit
//!   event, and for a revocation its outbox row: all of it commits or none of it does.
//! - `…_in(conn, …)`: one step of a change inside the caller's transaction (`insert_in`,
//!   `reserve_in`, `record_success_in`); the caller audits and commits. Only the store calls them.
//! - What is not one of those is named for what it does (`register`, `lease`, `claim`, `report`,
//!   `mark_delivered`, `set_aside`) and is a complete change too; a read that computes rather than
//!   fetches is named for its result (`progress`, `free_namespace`).
//!
//! Functions only tests and benchmarks need (seeding many rows, reading a key hash) compile with the
//! `test-support` feature, outside the production API.
//!
//! One set of queries serves SQLite and PostgreSQL through sqlx's `Any` driver: ids are TEXT, times
//! are Unix milliseconds in BIGINT columns, booleans are 0/1 BIGINTs, and placeholders are `$N`
//! (which SQLite accepts too).

pub mod api_tokens;
pub mod audit;
pub mod broker_targets;
pub mod client_keys;
pub mod clients;
pub mod deliveries;
pub mod device_sessions;
pub mod devices;
pub mod event_deliveries;
pub mod event_endpoints;
pub mod idempotency_keys;
pub mod install;
pub mod invitations;
pub mod login_failures;
pub mod memberships;
pub mod mqtt_usernames;
pub mod operators;
pub mod organizations;
pub mod outbox;
pub mod sessions;
pub mod users;
pub mod workspaces;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// Which engine a [`Db`] talks to; a few statements differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database: cheap to clone, shared by the dashboard, the broker and the workers.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// What can go wrong in the store. Constraint violations have their own variants so the dashboard
/// can say "this Client ID is taken" instead of a server error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("this Client ID is taken")]
    ClientIdTaken,
    #[error("this device id is already in this workspace")]
    DeviceIdTaken,
    #[error("an account with this email exists")]
    EmailTaken,
    #[error("this namespace is taken")]
    NamespaceTaken,
    #[error("not found")]
    NotFound,
    /// A rotation of a client that has two keys already.
    #[error("the client has two keys already")]
    KeysFull,
    /// An `Idempotency-Key` remembered already: a concurrent request with it committed first.
    #[error("this Idempotency-Key was used already")]
    IdempotencyKeyUsed,
    /// Retiring a key that is the client's only working one.
    #[error("the client's only working key cannot be retired")]
    OnlyKey,
    #[error("this person is a member already")]
    AlreadyMember,
    #[error("the organization's last owner cannot leave or be demoted")]
    LastOwner,
    #[error("the install's last operator cannot be removed")]
    LastOperator,
    #[error("a user cannot leave their only organization")]
    OnlyOrganization,
    #[error("sign-up is closed")]
    SignupClosed,
    #[error("this invitation was used, revoked, or has expired")]
    InvitationUnusable,
    #[error("this invitation is for another email address")]
    InvitationForSomeoneElse,
    /// A configured limit (`--max-…`): `what` is plural ("workspaces in an organization").
    #[error("the limit of {limit} {what} is reached")]
    LimitReached { what: &'static str, limit: u32 },
    #[error("a running Keygate process (node {holder}) delivers to this broker target")]
    TargetServed { holder: String },
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored name, id or fixed text that no longer parses: the row was not written by this store.
impl From<crate::model::ParseError> for StoreError {
    fn from(e: crate::model::ParseError) -> Self {
        StoreError::Corrupt(format!("{:?}: {e}", e.field))
    }
}

impl From<crate::model::UnknownText> for StoreError {
    fn from(e: crate::model::UnknownText) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The file a `sqlite://PATH` (or `sqlite:PATH`) URL names, without its query; `None` for any
/// other URL.
pub fn sqlite_file(url: &str) -> Option<&str> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(path.split_once('?').map_or(path, |(path, _query)| path))
}

impl Db {
    /// Connects to `url` (`sqlite://data/keygate.db`, `postgres://…`) and runs the migrations.
    /// A SQLite file and its folder are created when missing.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        install_default_drivers();
        let (backend, url) = if let Some(path) = sqlite_file(url) {
            if let Some(dir) = std::path::Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            (Backend::Sqlite, format!("sqlite://{path}?mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let max_connections = match backend {
            // One writer at a time anyway; a few readers keep pages fast under load.
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets the dashboard read while a write is in flight; foreign keys are
                        // off by default in SQLite.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let db = Self { pool, backend };
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&db.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&db.pool).await?,
        }
        Ok(db)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction, holding the database's write lock from its first statement on
    /// SQLite (`BEGIN IMMEDIATE`). A deferred SQLite transaction that reads before it writes
    /// cannot wait for another writer: once one commits after its read, its write fails at once
    /// with "database is locked", whatever busy_timeout says. Taking the lock at `BEGIN` makes it
    /// wait its turn (busy_timeout) instead. PostgreSQL's row locks need nothing of the kind.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (tests close before deleting the file).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, in Unix milliseconds: the one clock of the store.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A new random id (UUID v4) for organizations, users and workspaces.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether `error` is a unique-constraint violation (mapped to a "taken" message by callers).
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// `%text%` for a LIKE with `\` as the escape character, so `%` and `_` in a search match literally.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards_and_the_escape_character() {
        assert_eq!(like_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
        assert_eq!(like_pattern(""), "%%");
    }

    #[test]
    fn like_pattern_folds_case_beyond_ascii() {
        assert_eq!(like_pattern("Boiler ÜBER Δ"), "%boiler über δ%");
    }

    #[tokio::test]
    async fn connect_refuses_other_databases_by_name() {
        for url in ["mysql://localhost/keygate", "keygate.db", ""] {
            assert!(
                matches!(Db::connect(url).await, Err(StoreError::UnsupportedUrl(_))),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn connect_creates_a_missing_sqlite_file_and_folder_and_migrates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/data/keygate.db");
        for url in [
            format!("sqlite://{}", path.display()),
            // Opening again runs no migration twice.
            format!("sqlite:{}?mode=rwc", path.display()),
        ] {
            let db = Db::connect(&url).await.unwrap();
            assert_eq!(db.backend(), Backend::Sqlite);
            assert_eq!(organizations::count(&db).await.unwrap(), 0);
            db.close().await;
        }
        assert!(path.exists());
    }
}
