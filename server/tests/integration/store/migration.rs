//! Migrations on a database that has lived before them, on both engines. 0005: names that
//! already collide keep their older owner, the embedded broker's live sessions and the
//! identifiers the webhooks remembered become device sessions, nothing is lost. 0009: every
//! client's key becomes its one key, which still verifies and never expires.

use crate::support::{Engine, TestDatabase, engines};
use app::store::Db;
use app::store::mqtt_usernames::{self, UsernameKind};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};
use std::borrow::Cow;

/// The database as Keygate left it before migration 5.
async fn before_migration_5(database: &TestDatabase) -> AnyPool {
    before_migration(database, 5).await
}

/// The database as Keygate left it before migration `version`.
async fn before_migration(database: &TestDatabase, version: i64) -> AnyPool {
    install_default_drivers();
    let (url, dir) = match database.engine {
        Engine::Sqlite => (format!("{}?mode=rwc", database.url), "sqlite"),
        Engine::Postgres => (database.url.clone(), "postgres"),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(dir);
    let mut migrator = sqlx::migrate::Migrator::new(path).await.unwrap();
    migrator.migrations = Cow::Owned(
        migrator
            .migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect(),
    );
    migrator.run(&pool).await.unwrap();
    pool
}

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::query(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[engines]
async fn migration_5_keeps_what_was_there(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    let pool = before_migration_5(&database).await;
    for sql in [
        "INSERT INTO organizations (id, name, created_at) VALUES ('o1', 'Acme', 1), ('o2', 'Rival', 2)",
        // o1's namespace is older than o2's client of the same name.
        "INSERT INTO workspaces (id, organization_id, name, namespace, created_at) VALUES
            ('w1', 'o1', 'Default', 'shared-name', 1000), ('w2', 'o2', 'Default', 'rival', 500)",
        "INSERT INTO clients (client_id, workspace_id, organization_id, name, name_folded, description, active, key_hash, created_at, updated_at) VALUES
            ('shared-name', 'w2', 'o2', 'Clash', 'clash', '', 1, '$argon2id$x', 2000, 2000),
            ('dev-1', 'w1', 'o1', 'Boiler', 'boiler', '', 1, '$argon2id$y', 3000, 3000)",
        "INSERT INTO live_sessions (id, client_id, node, mqtt_client_id, source, connected_at) VALUES
            ('conn-1', 'dev-1', 'n1', 'sensor-a', '192.0.2.1:5000', 4000)",
        "INSERT INTO broker_targets (name, kind, endpoint, registered_at) VALUES
            ('embedded:n1', 'embedded', 'in-process', 1), ('emqx-eu', 'emqx', 'http://emqx', 1)",
        // A deleted client whose deletion is still on its way: its identifier must survive.
        "INSERT INTO revocation_outbox (client_id, organization_id, reason, created_at) VALUES
            ('gone-1', 'o1', 'deleted', 5500)",
        "INSERT INTO webhook_identifiers (client_id, mqtt_client_id, last_seen_at) VALUES
            ('dev-1', 'gw-7', 5000), ('gone-1', 'gw-9', 6000), ('never-was', 'gw-0', 7000)",
    ] {
        exec(&pool, sql).await;
    }
    pool.close().await;

    // Opening it with the store runs migration 5.
    let db: Db = database.connect().await;
    assert_eq!(
        mqtt_usernames::find(&db, "shared-name").await.unwrap(),
        Some(UsernameKind::Namespace),
        "the older owner of a colliding name keeps it"
    );
    assert_eq!(
        mqtt_usernames::find(&db, "rival").await.unwrap(),
        Some(UsernameKind::Namespace)
    );
    assert_eq!(
        mqtt_usernames::find(&db, "dev-1").await.unwrap(),
        Some(UsernameKind::Client)
    );
    let rows = sqlx::query(
        "SELECT broker, mqtt_client_id, client_id, organization_id, connected_at, disconnected_at
         FROM device_sessions ORDER BY broker, mqtt_client_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let rows: Vec<(String, String, String, String, i64, Option<i64>)> = rows
        .iter()
        .map(|r| {
            (
                r.get("broker"),
                r.get("mqtt_client_id"),
                r.get("client_id"),
                r.get("organization_id"),
                r.get("connected_at"),
                r.get("disconnected_at"),
            )
        })
        .collect();
    let row = |b: &str, m: &str, c: &str, at: i64, off: Option<i64>| {
        (b.into(), m.into(), c.into(), "o1".into(), at, off)
    };
    assert_eq!(
        rows,
        vec![
            row("embedded:n1", "sensor-a", "dev-1", 4000, None),
            row("emqx-eu", "gw-7", "dev-1", 5000, Some(5000)),
            row("emqx-eu", "gw-9", "gone-1", 6000, Some(6000)),
        ],
        "live sessions and remembered identifiers, on the external target only; nothing of a client nobody knows"
    );
    let attention: Option<i64> =
        sqlx::query_scalar("SELECT MAX(needs_attention_at) FROM revocation_deliveries")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(attention, None, "the new column is there, empty");
    for gone in ["live_sessions", "webhook_identifiers"] {
        assert!(
            sqlx::query(&format!("SELECT 1 FROM {gone}"))
                .fetch_all(db.pool())
                .await
                .is_err(),
            "{gone} is dropped"
        );
    }
    db.close().await;
}

#[engines]
async fn migration_9_gives_every_client_its_key_as_its_one_key(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    let pool = before_migration(&database, 9).await;
    let key = app::model::ClientKey::generate();
    let fast = app::secrets::fast_hash(key.expose().as_bytes());
    for sql in [
        "INSERT INTO organizations (id, name, created_at) VALUES ('o1', 'Acme', 1)".to_owned(),
        "INSERT INTO workspaces (id, organization_id, name, namespace, created_at) VALUES ('w1', 'o1', 'Default', 'acme', 1)".to_owned(),
        format!(
            "INSERT INTO clients (client_id, workspace_id, organization_id, name, name_folded, description, active, key_hash, created_at, updated_at) VALUES
                ('dev-1', 'w1', 'o1', 'Boiler', 'boiler', '', 1, '{fast}', 3000, 4000),
                ('dev-2', 'w1', 'o1', 'Pump', 'pump', '', 1, '$argon2id$typed', 3000, 5000)"
        ),
        "INSERT INTO device_sessions (id, broker, mqtt_client_id, client_id, organization_id, source, connected_at) VALUES
            ('s1', 'emqx-eu', 'gw-1', 'dev-1', 'o1', '', 4500)".to_owned(),
    ] {
        exec(&pool, &sql).await;
    }
    pool.close().await;

    let db: Db = database.connect().await;
    let rows = sqlx::query(
        "SELECT client_id, organization_id, key_hash, created_at, ends_at, retiring, ended_at FROM client_keys ORDER BY client_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    type KeyRow = (String, String, String, i64, Option<i64>, i64, Option<i64>);
    let rows: Vec<KeyRow> = rows
        .iter()
        .map(|r| {
            (
                r.get("client_id"),
                r.get("organization_id"),
                r.get("key_hash"),
                r.get("created_at"),
                r.get("ends_at"),
                r.get("retiring"),
                r.get("ended_at"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "dev-1".into(),
                "o1".into(),
                fast.clone(),
                4000,
                None,
                0,
                None
            ),
            (
                "dev-2".into(),
                "o1".into(),
                "$argon2id$typed".into(),
                5000,
                None,
                0,
                None
            ),
        ],
        "each client's key, as it was, never expiring"
    );
    assert!(crate::support::key_verifies(&db, "dev-1", key.expose()).await);
    let credential = app::store::clients::find_credential(&db, "dev-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credential.keys.len(), 1);
    let key_id: Option<String> =
        sqlx::query_scalar("SELECT key_id FROM device_sessions WHERE id = 's1'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        key_id, None,
        "a session from before keys had ids names none"
    );
    assert!(
        sqlx::query("SELECT key_hash FROM clients")
            .fetch_all(db.pool())
            .await
            .is_err(),
        "the client's own key column is gone: one place holds keys"
    );
    db.close().await;
}
