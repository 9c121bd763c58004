//! Secrets never leave the one response that reveals them: after creating clients (generated and
//! chosen keys, through the dashboard and through the REST API with a token), regenerating keys, refused attempts with valid-looking keys, and a failed sign-in,
//! no plain key and no password appears in the database (the SQLite file and its WAL, or every
//! PostgreSQL row, credential events queued for an endpoint included), in any log line at TRACE
//! level, or in the HTML of the dashboard's pages; nor does an event endpoint's signing secret
//! reach a log line or a page (the database keeps it: signing needs it).
//!
//! The logs searched are those of the real `keygate` binary, run as a process of its own with
//! `--log trace` (rmqtt's own records included) and its output in a file. That is why this test
//! can live in the one test binary: it installs no subscriber, so it changes nothing for the tests
//! beside it, and it sees every line the server writes, from whatever thread.
//!
//! A per-thread default subscriber set by the test runtime's `on_thread_start` was the other way;
//! it reaches the runtime's workers and blocking pool but not the threads others start, and those
//! log too: sqlx runs each SQLite connection on a thread of its own (sqlx-sqlite's
//! `ConnectionWorker`, where its statement lines are written), and Keygate verifies MQTT keys on
//! `keygate-verify-N` threads. The assertions on lines that must be there (the start-up line,
//! sqlx's statements, a warning of Keygate's, rmqtt's own lines) prove that the capture works.

use crate::support::keygate_process::KeygateProcess;
use crate::support::{
    Engine, TestDatabase, anonymous_at, engines, sign_up_at, unique_suffix, unused_address,
};
use app::model::{ClientKey, RevealedKey};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The log filter: everything at TRACE. `keygate` keeps rmqtt's own lines to warnings unless the
/// filter names rmqtt (src/main.rs); a later directive for the same target replaces an earlier one.
const LOG_FILTER: &str = "trace,rmqtt=trace,rmqtt_net=trace";

/// The `keygate` binary on `database`, logging at TRACE into `dir/keygate.log`, with the addresses
/// the test talks to.
struct Keygate {
    process: KeygateProcess,
    base: String,
    mqtt: SocketAddr,
}

impl Keygate {
    async fn start(database: &TestDatabase, dir: &Path, args: &[String]) -> Self {
        let (listen, mqtt) = (unused_address(), unused_address());
        let mut all: Vec<String> = [
            "--mqtt-listen",
            &mqtt.to_string(),
            "--database-url",
            &database.url,
            "--site-root",
            &dir.to_string_lossy(),
            "--log",
            LOG_FILTER,
        ]
        .map(String::from)
        .into();
        all.extend_from_slice(args);
        Self {
            process: KeygateProcess::start(listen, dir.join("keygate.log"), &all).await,
            base: format!("http://{listen}"),
            mqtt,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops it as a service manager would and returns everything it logged.
    fn stop(self) -> Vec<u8> {
        self.process.stop()
    }
}

/// Whether `needle` occurs anywhere in `haystack` (bytes: database files are not UTF-8).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The secrets found in the bytes of `what`, by name.
fn leaks<'a>(what: &[u8], secrets: &'a [(String, String)]) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|(_, secret)| contains(what, secret.as_bytes()))
        .map(|(name, _)| name.as_str())
        .collect()
}

/// The SQLite database file and its companions (`-wal`, `-shm`) as they are on disk now.
fn sqlite_files(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())))
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect()
}

/// Every row of every table, as text: a dump of the database to search.
async fn dump_tables(db: &app::store::Db) -> Vec<u8> {
    let mut dump = Vec::new();
    for (table, columns) in [
        ("organizations", "id || ' ' || name"),
        (
            "users",
            "id || ' ' || email || ' ' || password_hash || ' ' || view_mode",
        ),
        ("workspaces", "id || ' ' || name || ' ' || namespace"),
        ("clients", "client_id || ' ' || name || ' ' || description"),
        (
            "client_keys",
            "client_id || ' ' || key_hash || ' ' || COALESCE(last_address, '')",
        ),
        (
            "audit_events",
            "actor || ' ' || action || ' ' || target || ' ' || detail || ' ' || address",
        ),
        ("revocation_outbox", "client_id || ' ' || reason"),
        ("event_deliveries", "event_type || ' ' || payload"),
        ("sessions", "id || ' ' || record"),
    ] {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT {columns} FROM {table}"))
            .fetch_all(db.pool())
            .await
            .unwrap_or_else(|e| panic!("cannot dump {table}: {e}"));
        assert!(!rows.is_empty(), "{table} has rows to search");
        for row in rows {
            dump.extend_from_slice(row.as_bytes());
            dump.push(b'\n');
        }
    }
    dump
}

#[test]
fn the_search_finds_a_secret_it_is_shown() {
    // The routine the real test relies on: it must find a key in a file, in binary data and at
    // the very end, or a clean result would mean nothing.
    let key = ClientKey::generate();
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("scratch.bin");
    let mut bytes = vec![0u8, 159, 146, 150, 0xff];
    bytes.extend_from_slice(key.expose().as_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let secrets = vec![
        ("the key".to_owned(), key.expose().to_owned()),
        (
            "another key".to_owned(),
            ClientKey::generate().expose().to_owned(),
        ),
    ];
    let files = sqlite_files(&path);
    assert_eq!(files.len(), 1);
    assert_eq!(leaks(&files[0].1, &secrets), ["the key"]);
    assert!(leaks(b"nothing here", &secrets).is_empty());
}

const WEBHOOK_SECRET: &str = "webhook-secret-4f1c9a7e2b";
const ADMIN_API_SECRET: &str = "admin-api-secret-8d2e6b";

#[engines]
async fn no_secret_reaches_the_database_the_logs_or_the_html(engine: Engine) {
    // An external broker that is down, so its failures (with its credentials configured) are
    // logged and retried throughout the test; and the webhooks, with their secret.
    let down = unused_address();
    let database = TestDatabase::create(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let app = Keygate::start(
        &database,
        dir.path(),
        &[
            "--webhook-secret".into(),
            WEBHOOK_SECRET.into(),
            "--broker-target".into(),
            format!("emqx=http://admin-key:{ADMIN_API_SECRET}@{down}"),
            "--revocation-retry-max-secs".into(),
            "1".into(),
        ],
    )
    .await;
    let ann = sign_up_at(&app.base, "Acme").await;
    let mut secrets: Vec<(String, String)> = vec![
        ("the password".into(), ann.password.clone()),
        ("the webhook secret".into(), WEBHOOK_SECRET.into()),
        ("the admin API secret".into(), ADMIN_API_SECRET.into()),
    ];
    let mut revealed: Vec<RevealedKey> = Vec::new();
    // A credential event endpoint that is down, made first, so every change below queues an
    // event (searched in the database) and its retries are logged. Its signing secret is kept in
    // the database, since signing needs it; it must reach no log line and no page.
    let endpoint: app::model::IssuedEventEndpoint = ann
        .call(
            "events/create",
            &[
                ("url", &format!("http://{}/hook", unused_address())),
                ("event_types", "client.created,client.updated,client.key_regenerated,client.deactivated,client.activated,client.deleted,client.auth_failures"),
            ],
        )
        .await
        .unwrap();
    let event_secret = (
        "the event endpoint's signing secret".to_owned(),
        endpoint.secret.clone(),
    );

    // A generated key and a chosen one (letters, digits and '-' only, so that no encoding —
    // URL, JSON, HTML — could hide an occurrence from a plain byte search).
    let generated = ann.new_client("Generated").await;
    secrets.push(("generated key".into(), generated.key.expose().to_owned()));
    let own_key = format!("own-secret-key-{}", unique_suffix().replace('_', "-"));
    let own = ann
        .create_client("own-key-client", &own_key, "Own key", "")
        .await
        .unwrap();
    secrets.push(("chosen key".into(), own_key));
    revealed.push(generated.clone());
    revealed.push(own.clone());

    // New keys for both, one generated and one chosen.
    let regenerated = ClientKey::generate();
    let answer: RevealedKey = ann
        .call(
            "clients/regenerate_key",
            &[
                ("client_id", generated.row.client_id.as_str()),
                ("key", regenerated.expose()),
            ],
        )
        .await
        .unwrap();
    secrets.push(("regenerated key".into(), regenerated.expose().to_owned()));
    revealed.push(answer);
    let own_regenerated = format!("own-regenerated-{}", unique_suffix().replace('_', "-"));
    let answer: RevealedKey = ann
        .call(
            "clients/regenerate_key",
            &[("client_id", "own-key-client"), ("key", &own_regenerated)],
        )
        .await
        .unwrap();
    secrets.push(("chosen regenerated key".into(), own_regenerated));
    revealed.push(answer);

    // Refused requests that carried a valid key: a taken id, and a bad name.
    let refused = ClientKey::generate();
    ann.create_client("own-key-client", refused.expose(), "Taken", "")
        .await
        .unwrap_err();
    ann.create_client("fresh-client", refused.expose(), "", "")
        .await
        .unwrap_err();
    secrets.push(("refused key".into(), refused.expose().to_owned()));
    // A key with a bad checksum, and a failed sign-in.
    let mut typo = ClientKey::generate().expose().to_owned();
    typo.replace_range(10..11, if &typo[10..11] == "a" { "b" } else { "a" });
    ann.create_client("typo-client", &typo, "Typo", "")
        .await
        .unwrap_err();
    secrets.push(("mistyped key".into(), typo));
    let wrong_password = format!("wrong-password-{}", unique_suffix());
    anonymous_at(&app.base)
        .sign_in(&ann.email, &wrong_password)
        .await
        .unwrap_err();
    secrets.push(("wrong password".into(), wrong_password));
    // An API token, revealed once and then listed.
    let token: app::model::IssuedApiToken = ann
        .call(
            "api_tokens/create",
            &[
                ("name", "CI"),
                ("scope", "manage_clients"),
                ("workspace_id", ""),
                ("lifetime", "30"),
            ],
        )
        .await
        .unwrap();
    let _: Vec<app::model::ApiTokenRow> = ann.call("api_tokens/list", &[]).await.unwrap();
    // The REST API with that token: a generated key, a chosen one, and a refused create that
    // carried a key.
    let rest = reqwest::Client::new();
    let clients_url = app.url(&format!(
        "/api/v1/workspaces/{}/clients",
        ann.me().await.current_workspace_id
    ));
    let rest_own = format!("rest-own-key-{}", unique_suffix().replace('_', "-"));
    let rest_refused = format!("rest-refused-key-{}", unique_suffix().replace('_', "-"));
    let mut rest_generated = String::new();
    for (body, status) in [
        (serde_json::json!({ "client_id": "rest-generated" }), 201),
        (
            serde_json::json!({ "client_id": "rest-own", "key": rest_own }),
            201,
        ),
        (
            serde_json::json!({ "client_id": "rest-own", "key": rest_refused }),
            422,
        ),
    ] {
        let answer = rest
            .post(&clients_url)
            .bearer_auth(&token.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), status);
        let answer: serde_json::Value = answer.json().await.unwrap();
        if let Some(key) = answer["key"].as_str() {
            rest_generated = key.to_owned();
        }
    }
    assert!(rest_generated.starts_with("kgk_"));
    secrets.push(("key generated through the REST API".into(), rest_generated));
    secrets.push(("key chosen through the REST API".into(), rest_own));
    secrets.push(("key refused by the REST API".into(), rest_refused));
    secrets.push(("API token".into(), token.token));

    // Devices: the current keys connect over MQTT 3.1.1 and 5, the old and refused ones do not.
    let mqtt = app.mqtt;
    let secret = |name: &str| {
        secrets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone())
            .expect("a named secret")
    };
    let current = [
        (generated.connection.clone(), secret("regenerated key")),
        (own.connection.clone(), secret("chosen regenerated key")),
    ];
    for (c, key) in &current {
        for v5 in [false, true] {
            let login = (c.client_id.as_str(), c.username_namespace(), key.as_str());
            if let Err(e) = mqtt_connect(mqtt, login, v5).await {
                panic!("{} does not connect: {e}", c.client_id);
            }
        }
    }
    for (_, old) in secrets
        .iter()
        .filter(|(n, _)| n == "generated key" || n == "refused key")
    {
        let c = &generated.connection;
        let login = (c.client_id.as_str(), c.username_namespace(), old.as_str());
        assert!(mqtt_connect(mqtt, login, true).await.is_err());
    }

    // An external broker's webhook calls: the current key, then a call with a wrong secret.
    let http = reqwest::Client::new();
    let c = &generated.connection;
    let body = serde_json::json!({
        "clientid": c.client_id.as_str(), "username": c.username_namespace(),
        "password": secret("regenerated key"), "peerhost": "10.0.0.1"
    });
    for bearer in [WEBHOOK_SECRET, "not-the-webhook-secret"] {
        let answer = http
            .post(app.url("/webhooks/emqx/authn"))
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status() == 200, bearer == WEBHOOK_SECRET);
    }
    // EMQX may send authentication as a GET, the key in the query string: the request's span
    // names its path, never its query.
    let answer = http
        .get(app.url("/webhooks/emqx/authn"))
        .bearer_auth(WEBHOOK_SECRET)
        .query(&[
            ("clientid", c.client_id.as_str()),
            ("username", c.username_namespace()),
            ("password", &secret("regenerated key")),
            ("peerhost", "10.0.0.1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // HTTP publish with the current key, then with the old one: the key arrives base64-encoded in
    // HTTP Basic, is decoded, and reaches no log line either way.
    for (key, status) in [
        (secret("regenerated key"), 200),
        (secret("generated key"), 401),
    ] {
        let answer = http
            .post(app.url(&format!("/v1/publish/{}", c.example_topic())))
            .basic_auth(c.client_id.as_str(), Some(&key))
            .body("21.5")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status);
    }

    // The pages, signed in, showing the clients.
    let mut pages = Vec::new();
    for path in [
        "/clients",
        "/settings",
        "/clients?q=own",
        "/settings/brokers",
    ] {
        let (status, html) = ann.page(path).await;
        assert!(status.is_success(), "{path}: {status}");
        pages.push((path.to_owned(), html));
    }
    ann.call::<()>("account/set_view", &[("view", "Cards")])
        .await
        .unwrap();
    let (status, html) = ann.page("/clients").await;
    assert!(status.is_success(), "/clients as cards: {status}");
    pages.push(("/clients as cards".to_owned(), html));
    let (status, html) = ann.page("/settings/events").await;
    assert!(status.is_success(), "/settings/events: {status}");
    assert!(
        html.contains(&endpoint.row.url),
        "/settings/events lists the endpoint, so its HTML is worth searching"
    );
    pages.push(("/settings/events".to_owned(), html));
    assert!(
        pages[3].1.contains(&format!("emqx:{down}")),
        "/settings/brokers shows the admin API target, so its HTML is worth searching"
    );
    for (path, html) in [&pages[0], &pages[4]] {
        assert!(
            html.contains(generated.row.client_id.as_str()) && html.contains("own-key-client"),
            "{path} shows the clients, so its HTML is worth searching"
        );
    }

    // The database while the server runs (the WAL holds the recent writes) and after it stops
    // (the WAL is checkpointed into the main file).
    let db = database.connect().await;
    let mut stored: Vec<(String, Vec<u8>)> = vec![("every row".into(), dump_tables(&db).await)];
    let sqlite_path = database.sqlite_path.clone();
    if let Some(path) = &sqlite_path {
        let files = sqlite_files(path);
        assert!(
            files
                .iter()
                .any(|(p, b)| p.to_string_lossy().ends_with("-wal") && !b.is_empty()),
            "a WAL file to search while running"
        );
        stored.extend(files.into_iter().map(|(p, b)| (p.display().to_string(), b)));
    }
    db.close().await;
    let log_bytes = app.stop();
    if let Some(path) = &sqlite_path {
        let files = sqlite_files(path);
        assert!(!files.is_empty(), "the database file is still there");
        stored.extend(
            files
                .into_iter()
                .map(|(p, b)| (format!("{} after stop", p.display()), b)),
        );
    }
    drop(database);

    // A clean result must mean something: the logs hold this run's lines down to sqlx's
    // statements, and the database holds the clients and their key hashes.
    assert!(!log_bytes.is_empty(), "keygate logged nothing");
    let log_text = String::from_utf8_lossy(&log_bytes);
    assert!(
        log_text.contains("Keygate dashboard on http://"),
        "the start-up line is captured"
    );
    assert!(
        log_text.contains("INSERT INTO clients"),
        "sqlx's statement logging is captured (the level is low enough; on SQLite these lines \
         come from sqlx's connection threads)"
    );
    let sign_in = log_text
        .lines()
        .find(|line| line.contains("failed sign-in"))
        .expect("the server's own warnings are captured");
    assert!(
        sign_in.contains("request{id=") && sign_in.contains("path=/api/account/sign_in"),
        "a request's log lines name the request: {sign_in}"
    );
    assert!(
        log_text.contains("path=/webhooks/emqx/authn}"),
        "the webhook requests are logged, their query strings are searched"
    );
    assert!(
        log_text.contains("MQTT connect refused") && log_text.contains(" rmqtt"),
        "the broker's lines, Keygate's and rmqtt's own, are captured"
    );
    assert!(
        contains(&stored[0].1, b"$argon2id$"),
        "the dump holds the key hashes"
    );
    for r in &revealed {
        assert!(
            stored
                .iter()
                .any(|(_, b)| contains(b, r.row.client_id.as_str().as_bytes())),
            "the database holds {}",
            r.row.client_id
        );
    }

    let mut found = Vec::new();
    for (what, bytes) in &stored {
        for name in leaks(bytes, &secrets) {
            found.push(format!("{name} in the database ({what})"));
        }
    }
    let mut shown_once = secrets.clone();
    shown_once.push(event_secret);
    for name in leaks(&log_bytes, &shown_once) {
        found.push(format!("{name} in the logs"));
    }
    for (path, html) in &pages {
        for name in leaks(html.as_bytes(), &shown_once) {
            found.push(format!("{name} in the HTML of {path}"));
        }
    }
    assert!(found.is_empty(), "secrets leaked: {found:#?}");
}

/// Connects a device (client identifier, username, password) over MQTT 3.1.1 or 5; whether the
/// broker accepted it.
/// Connects once, again while the broker answers "server unavailable" (rmqtt still tearing down the
/// previous session of the same client identifier, as a device that reconnects at once can meet).
async fn mqtt_connect(
    addr: std::net::SocketAddr,
    login: (&str, &str, &str),
    v5: bool,
) -> Result<(), String> {
    let mut attempts = 0;
    loop {
        match mqtt_connect_once(addr, login, v5).await {
            Err(e) if e.contains("Unavailable") && attempts < 20 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            answer => return answer,
        }
    }
}

async fn mqtt_connect_once(
    addr: std::net::SocketAddr,
    login: (&str, &str, &str),
    v5: bool,
) -> Result<(), String> {
    let (id, user, pass) = login;
    let host = addr.ip().to_string();
    if v5 {
        let mut o = rumqttc::v5::MqttOptions::new(id, host, addr.port());
        o.set_credentials(user, pass);
        let (_client, mut el) = rumqttc::v5::AsyncClient::new(o, 10);
        loop {
            match el.poll().await {
                Ok(rumqttc::v5::Event::Incoming(rumqttc::v5::mqttbytes::v5::Packet::ConnAck(
                    _,
                ))) => break Ok(()),
                Ok(_) => {}
                Err(e) => break Err(e.to_string()),
            }
        }
    } else {
        let mut o = rumqttc::MqttOptions::new(id, host, addr.port());
        o.set_credentials(user, pass);
        let (_client, mut el) = rumqttc::AsyncClient::new(o, 10);
        loop {
            match el.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => break Ok(()),
                Ok(_) => {}
                Err(e) => break Err(e.to_string()),
            }
        }
    }
}
