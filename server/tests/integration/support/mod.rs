//! What every integration test starts from, in the zero2prod `spawn_app` style: a fresh database
//! per test (a SQLite file in a temporary folder, or a uniquely named PostgreSQL database), the
//! real server on `127.0.0.1:0`, and a [`Tenant`] that signs up and calls server functions over
//! HTTP like the browser does.
//!
//! Every store, server-function and broker test runs on both engines: it is an
//! `async fn name(engine: Engine)` marked [`engines`], which makes it the tests `name::sqlite`
//! and `name::postgres` (testing/engines). PostgreSQL comes from `KEYGATE_TEST_POSTGRES_URL` (an
//! admin URL such as `postgres://keygate:keygate@127.0.0.1:5432/postgres`); without it the
//! PostgreSQL variants fail, unless `KEYGATE_TEST_SQLITE_ONLY=1` says to skip them.

pub mod event_receiver;
pub mod keygate_process;
pub mod rmqtt;
pub mod scrape;

/// `#[engines]` on an `async fn name(engine: Engine)`: the tests `name::sqlite` and
/// `name::postgres`, each run only where [`engine_available`] says so.
pub use test_engines::engines;

use app::error::AppError;
use app::model::{FieldError, Me, RevealedKey};
use app::store::Db;
use reqwest::cookie::{CookieStore, Jar};
use serde::de::DeserializeOwned;
use sqlx::{Connection, Executor};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the PostgreSQL server the tests create their databases on.
pub const POSTGRES_URL_VAR: &str = "KEYGATE_TEST_POSTGRES_URL";
/// Set to `1` to skip the PostgreSQL variants (for a quick local run without PostgreSQL).
pub const SQLITE_ONLY_VAR: &str = "KEYGATE_TEST_SQLITE_ONLY";

/// The database engine a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Whether tests on `engine` run here. PostgreSQL without `KEYGATE_TEST_POSTGRES_URL` is a
/// failure (CI must not silently test one engine), unless `KEYGATE_TEST_SQLITE_ONLY=1`.
pub fn engine_available(engine: Engine) -> bool {
    match engine {
        Engine::Sqlite => true,
        Engine::Postgres => {
            if std::env::var(SQLITE_ONLY_VAR).is_ok_and(|v| v == "1") {
                eprintln!("skipped: {SQLITE_ONLY_VAR}=1, so the PostgreSQL variant does not run");
                return false;
            }
            if postgres_admin_url().is_none() {
                panic!(
                    "{POSTGRES_URL_VAR} is not set. Point it at a PostgreSQL server the tests may \
                     create databases on, e.g. \
                     {POSTGRES_URL_VAR}=postgres://keygate:keygate@127.0.0.1:5432/postgres, \
                     or set {SQLITE_ONLY_VAR}=1 to skip the PostgreSQL variants."
                );
            }
            true
        }
    }
}

fn postgres_admin_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// An address on 127.0.0.1 nothing listens on: bound and released, so free for a process to take
/// a moment later, or for a test to point at as a broker that is down.
pub fn unused_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
}

/// A name no other test (of this run or an earlier, crashed one) has used.
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `admin_url` with its database name replaced by `database` (query parameters kept).
fn with_database(admin_url: &str, database: &str) -> String {
    let (scheme, rest) = admin_url
        .split_once("://")
        .unwrap_or_else(|| panic!("{POSTGRES_URL_VAR} is not a URL"));
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest.split_once('/').map(|(a, _)| a).unwrap_or(rest);
    format!("{scheme}://{authority}/{database}{query}")
}

/// A fresh, empty database for one test; removed again when dropped.
pub struct TestDatabase {
    pub engine: Engine,
    pub url: String,
    /// The SQLite file (for the secret-leak test, which reads its bytes).
    pub sqlite_path: Option<std::path::PathBuf>,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create(engine: Engine) -> Self {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let path = dir.path().join("keygate.db");
                Self {
                    engine,
                    url: format!("sqlite://{}", path.display()),
                    sqlite_path: Some(path),
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Engine::Postgres => {
                let admin =
                    postgres_admin_url().unwrap_or_else(|| panic!("{POSTGRES_URL_VAR} is not set"));
                let name = format!("keygate_test_{}", unique_suffix());
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("cannot connect to {POSTGRES_URL_VAR} ({admin}): {e}")
                    });
                conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
                    .await
                    .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
                let _ = conn.close().await;
                Self {
                    engine,
                    url: with_database(&admin, &name),
                    sqlite_path: None,
                    _dir: None,
                    postgres: Some((admin, name)),
                }
            }
        }
    }

    /// Opens the database with the store (which runs the migrations).
    pub async fn connect(&self) -> Db {
        Db::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.url))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its own
        // runtime can. FORCE ends connections a panicking test left open.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async move {
                    let mut conn = sqlx::PgConnection::connect(&admin).await?;
                    conn.execute(
                        format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str(),
                    )
                    .await?;
                    conn.close().await
                })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop a test database: {dropped:?}");
        }
    }
}

/// The real server on a random port with its own fresh database.
pub struct TestApp {
    /// The embedded broker's MQTT address (unless started with `--no-broker`).
    pub mqtt: Option<SocketAddr>,
    pub base: String,
    pub db: Db,
    pub database: TestDatabase,
    running: Option<server::Running>,
}

impl TestApp {
    /// Starts the server with open sign-up on a fresh database of `engine`.
    pub async fn spawn(engine: Engine) -> Self {
        Self::spawn_with(engine, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with `configure` changing the configuration first.
    pub async fn spawn_with(
        engine: Engine,
        configure: impl FnOnce(&mut server::config::Config),
    ) -> Self {
        Self::spawn_on(TestDatabase::create(engine).await, configure).await
    }

    /// Starts the server on an existing database (a restart: see [`TestApp::stop_keeping_database`]).
    pub async fn spawn_on(
        database: TestDatabase,
        configure: impl FnOnce(&mut server::config::Config),
    ) -> Self {
        let mut config = server::config::Config {
            listen: "127.0.0.1:0".parse().expect("an address"),
            mqtt_listen: "127.0.0.1:0".parse().expect("an address"),
            database_url: database.url.clone(),
            broker_host: None,
            broker_port: Some(1883),
            open_signup: true,
            site_root: std::env::temp_dir(),
            ..server::config::Config::defaults()
        };
        configure(&mut config);
        let running = server::start(config)
            .await
            .unwrap_or_else(|e| panic!("the server did not start: {e}"));
        Self {
            mqtt: running.mqtt_addr(),
            base: format!("http://{}", running.addr),
            db: running.db.clone(),
            database,
            running: Some(running),
        }
    }

    /// The running server (its broker addresses, its device authentication counters).
    pub fn running(&self) -> &server::Running {
        self.running.as_ref().expect("the server is running")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server, closes its connections, and removes the database.
    pub async fn stop(self) {
        drop(self.stop_keeping_database().await);
    }

    /// Stops the server and closes its connections, handing back the database so its files can
    /// be read whole before it is removed.
    pub async fn stop_keeping_database(self) -> TestDatabase {
        if let Some(running) = self.running {
            running.stop().await;
        }
        self.database
    }

    /// A browser-like client that has not signed in.
    pub fn anonymous(&self) -> Tenant {
        anonymous_at(&self.base)
    }

    /// Signs up a new organization named `organization` with a unique email.
    pub async fn sign_up(&self, organization: &str) -> Tenant {
        sign_up_at(&self.base, organization).await
    }

    /// Row counts of every table a refused request must leave alone.
    pub async fn counts(&self) -> Counts {
        counts(&self.db).await
    }
}

/// How many rows each table has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub organizations: i64,
    pub users: i64,
    pub workspaces: i64,
    pub clients: i64,
    pub audit_events: i64,
    pub outbox: i64,
}

pub async fn count_rows(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("cannot count {table}: {e}"))
}

/// Whether each of `client_id`'s revocations is done (delivered to every broker), oldest first.
pub async fn outbox_done(db: &Db, client_id: &str) -> Vec<bool> {
    app::store::outbox::list_for_client(db, client_id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, done)| done.is_some())
        .collect()
}

/// Checks `condition` every 50 ms until it holds or `within` has passed; whether it held. For what
/// the server does in the background (deliveries, tracking), which a test can only watch.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    within: std::time::Duration,
    mut condition: impl FnMut() -> F,
) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub async fn counts(db: &Db) -> Counts {
    Counts {
        organizations: count_rows(db, "organizations").await,
        users: count_rows(db, "users").await,
        workspaces: count_rows(db, "workspaces").await,
        clients: count_rows(db, "clients").await,
        audit_events: count_rows(db, "audit_events").await,
        outbox: count_rows(db, "revocation_outbox").await,
    }
}

/// Everything stored about one client, hash included: to prove a refused request changed nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredClient {
    pub client_id: String,
    pub workspace_id: String,
    pub organization_id: String,
    pub name: String,
    pub description: String,
    pub active: i64,
    /// Its keys' hashes and ends, oldest first.
    pub keys: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub audit_events: i64,
    pub outbox_rows: i64,
}

/// The stored row of `client_id` and its audit and outbox rows, or `None` if there is no row.
pub async fn stored_client(db: &Db, client_id: &str) -> Option<StoredClient> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT client_id, workspace_id, organization_id, name, description, active, created_at, updated_at
         FROM clients WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(db.pool())
    .await
    .expect("a client query")?;
    let audit_events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE target = $1")
            .bind(client_id)
            .fetch_one(db.pool())
            .await
            .expect("an audit count");
    let keys: Vec<String> = sqlx::query(
        "SELECT key_hash, ends_at, retiring, ended_at FROM client_keys WHERE client_id = $1 ORDER BY created_at, id",
    )
    .bind(client_id)
    .fetch_all(db.pool())
    .await
    .expect("a key query")
    .iter()
    .map(|k| {
        format!(
            "{} {:?} {} {:?}",
            k.get::<String, _>("key_hash"),
            k.get::<Option<i64>, _>("ends_at"),
            k.get::<i64, _>("retiring"),
            k.get::<Option<i64>, _>("ended_at")
        )
    })
    .collect();
    let outbox_rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM revocation_outbox WHERE client_id = $1")
            .bind(client_id)
            .fetch_one(db.pool())
            .await
            .expect("an outbox count");
    Some(StoredClient {
        client_id: row.get("client_id"),
        workspace_id: row.get("workspace_id"),
        organization_id: row.get("organization_id"),
        name: row.get("name"),
        description: row.get("description"),
        active: row.get("active"),
        keys: keys.join("; "),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        audit_events,
        outbox_rows,
    })
}

/// Signs up a new organization named `organization` with a unique email at the Keygate at `base`
/// (`http://127.0.0.1:PORT`), in-process or a separate `keygate` process.
pub async fn sign_up_at(base: &str, organization: &str) -> Tenant {
    let email = format!("owner-{}@example.test", unique_suffix());
    let tenant = Tenant::at(base, &email, "correct horse battery");
    tenant
        .call::<()>(
            "account/sign_up",
            &[
                ("email", &email),
                ("password", "correct horse battery"),
                ("organization", organization),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("sign-up of {organization} failed: {e:?}"));
    tenant
}

/// Invites a new person into `owner`'s organization as `role` and accepts the link in a browser
/// of their own, as they would: signed up with the invited address, signed in.
pub async fn invited(owner: &Tenant, role: app::model::Role) -> Tenant {
    let email = format!("{}-{}@example.test", role.as_str(), unique_suffix());
    let issued: app::model::IssuedInvitation = owner
        .call(
            "members/invite",
            &[("email", &email), ("role", role.as_str())],
        )
        .await
        .unwrap_or_else(|e| panic!("inviting {email} failed: {e:?}"));
    let token = issued
        .path
        .strip_prefix("/invite/")
        .expect("an invitation path");
    let member = Tenant::at(&owner.base, &email, "a long enough password");
    member
        .call::<()>(
            "members/accept",
            &[("token", token), ("password", &member.password)],
        )
        .await
        .unwrap_or_else(|e| panic!("accepting the invitation of {email} failed: {e:?}"));
    member
}

/// A browser-like client of the Keygate at `base` that has not signed in (for a separate
/// `keygate` process; [`TestApp::anonymous`] for one started in the test).
pub fn anonymous_at(base: &str) -> Tenant {
    Tenant::at(base, "", "")
}

/// One user's browser: its own cookie jar, so tenants never share a session.
pub struct Tenant {
    pub http: reqwest::Client,
    pub jar: Arc<Jar>,
    pub base: String,
    pub email: String,
    pub password: String,
}

/// A raw server-function answer: status, headers and body text.
pub struct RawResponse {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl RawResponse {
    /// The typed result: the value on success, the [`AppError`] a server function sent otherwise.
    /// Anything else (a 404 from a wrong path, a 403 from the origin check) fails the test.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        if self.status.is_success() {
            return Ok(serde_json::from_str(&self.body)
                .unwrap_or_else(|e| panic!("cannot decode the answer {:?}: {e}", self.body)));
        }
        // server_fn 0.8 answers an error with 500, a `serverfnerror` header naming the function,
        // and the error encoded with the error type's encoder (JSON here). The server may give the
        // error a status that says what it is (422, 401, 404, …); the body decides either way.
        assert!(
            self.status.is_client_error() || self.status.is_server_error(),
            "unexpected status {}; body: {}",
            self.status,
            self.body
        );
        assert!(
            self.headers.contains_key("serverfnerror"),
            "an error that did not come from a server function ({}): {}",
            self.status,
            self.body
        );
        Err(serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("cannot decode the error {:?}: {e}", self.body)))
    }
}

impl Tenant {
    fn at(base: &str, email: &str, password: &str) -> Self {
        // reqwest is built with rustls and no provider of its own; the server installs one, and
        // so must a test that talks to a separate `keygate` process. Already installed is fine.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            // Pages answer redirects themselves; tests look at them instead of following.
            .redirect(reqwest::redirect::Policy::none())
            // A stalled server fails the test instead of hanging the suite.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        Self {
            http,
            jar,
            base: base.to_owned(),
            email: email.into(),
            password: password.into(),
        }
    }

    /// The `Cookie` header this browser would send.
    pub fn cookie_header(&self) -> Option<String> {
        let url = self.base.parse().expect("the base URL");
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().expect("an ASCII cookie").to_owned())
    }

    /// POSTs `form` to the server function at `/api/{endpoint}`.
    pub async fn post(&self, endpoint: &str, form: &[(&str, &str)]) -> RawResponse {
        self.post_with(endpoint, form, |r| r).await
    }

    /// Like [`Tenant::post`], letting `customize` change the request (headers).
    pub async fn post_with(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        customize: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> RawResponse {
        let request = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .form(form);
        let response = customize(request)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /api/{endpoint} failed: {}", chain(&e)));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a body");
        RawResponse {
            status,
            headers,
            body,
        }
    }

    /// Calls a server function and decodes its result.
    pub async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<T, AppError> {
        self.post(endpoint, form).await.decode()
    }

    /// GETs a page and returns its status and HTML.
    pub async fn page(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {}", chain(&e)));
        let status = response.status();
        (status, response.text().await.expect("a page"))
    }

    pub async fn me(&self) -> Me {
        self.call::<Option<Me>>("account/me", &[])
            .await
            .expect("account/me")
            .expect("signed in")
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Result<(), AppError> {
        self.call(
            "account/sign_in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    pub async fn create_client(
        &self,
        client_id: &str,
        key: &str,
        name: &str,
        description: &str,
    ) -> Result<RevealedKey, AppError> {
        self.call(
            "clients/create",
            &[
                ("client_id", client_id),
                ("key", key),
                ("name", name),
                ("description", description),
            ],
        )
        .await
    }

    /// Creates a client with a generated id and key, as the New Client modal does by default.
    pub async fn new_client(&self, name: &str) -> RevealedKey {
        let id = app::model::ClientId::generate();
        let key = app::model::ClientKey::generate();
        self.create_client(id.as_str(), key.expose(), name, "")
            .await
            .unwrap_or_else(|e| panic!("creating client {name} failed: {e:?}"))
    }
}

/// Asserts that `result` is a field error at `field` and returns its message.
#[track_caller]
pub fn expect_field_error<T: std::fmt::Debug>(
    result: Result<T, AppError>,
    field: FieldError,
) -> String {
    match result {
        Err(AppError::Invalid { field: f, message }) if f == field => {
            assert!(
                !message.trim().is_empty(),
                "a field error without a message"
            );
            message
        }
        other => panic!("expected a field error at {field:?}, got {other:?}"),
    }
}

/// Asserts that `result` is [`AppError::NotFound`].
#[track_caller]
pub fn expect_not_found<T: std::fmt::Debug>(result: Result<T, AppError>) {
    match result {
        Err(AppError::NotFound(_)) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Whether `key` verifies against one of the hashes stored for `client_id`'s keys (what the
/// broker will check).
pub async fn key_verifies(db: &Db, client_id: &str, key: &str) -> bool {
    let id = app::model::ClientId::parse(client_id).expect("a valid Client ID");
    let stored = app::store::client_keys::list_hashes(db, &id)
        .await
        .expect("the stored key hashes");
    let key = app::model::ClientKey::parse(key).expect("a valid key");
    // A pool of its own per call: a typed key's argon2id is the one cost, and tests run at once.
    let pool = app::argon2_pool::Argon2Pool::unobserved("test-verify", 1, 1);
    for hash in stored {
        if app::secrets::verify_key(&pool, &key, &app::secrets::SecretHash::from_stored(hash))
            .await
            .expect("verification runs")
        {
            return true;
        }
    }
    false
}

/// How many times `needle` occurs in `haystack`.
pub fn occurrences(haystack: &str, needle: &str) -> usize {
    assert!(!needle.is_empty());
    haystack.matches(needle).count()
}

/// An error with every cause under it: reqwest's own message ("error sending request") hides
/// whether the connection was refused, reset or timed out.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Runs every future of `futures` at once, each on a task of its own, and returns their outputs in
/// order: a parallel burst, as many browsers or devices would send it.
pub async fn join_all<F: std::future::Future<Output = T> + Send + 'static, T: Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("a task of the burst panicked"));
    }
    out
}
