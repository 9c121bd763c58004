//! The same refusal gets the same outcome on every broker path: one table of cases (every way a
//! CONNECT is refused, and one that is let in), each sent through the embedded broker over MQTT
//! 3.1.1 and 5, EMQX's authentication webhook, rmqtt's auth-http form, VerneMQ's
//! `auth_on_register`, and an HTTP publish's Basic login. What each path must answer for each
//! outcome is written out here, by hand, not taken from the server's own mapping.
//!
//! Not in the table: a key revoked while it was being checked (it needs a slow hash and a change
//! at the right moment; `revocation.rs` and `webhook_sessions.rs` try it on both kinds of path).

use crate::broker::device::{Device, Login, Version};
use crate::broker::revocation::slow_down;
use crate::broker::webhooks::SECRET;
use crate::broker::{Form, Setup, login, set_access};
use crate::support::{Engine, engines, unique_suffix};
use app::model::{ClientKey, ClientRow, RevealedKey};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// What Keygate decided, as the test expects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Allowed,
    BadCredentials,
    UnknownClient,
    NotAuthorized,
    IdentifierRejected,
    Busy,
    Unavailable,
    /// Not authorized, because the back-off locked the client out: HTTP says when to retry.
    LockedOut,
    /// Not authorized, because the client holds as many sessions as it may: an HTTP publish
    /// holds none, so it is let in.
    SessionsFull,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    MqttV311,
    MqttV5,
    Emqx,
    RmqttForm,
    VerneMq,
    HttpPublish,
}

const PATHS: [Path; 6] = [
    Path::MqttV311,
    Path::MqttV5,
    Path::Emqx,
    Path::RmqttForm,
    Path::VerneMq,
    Path::HttpPublish,
];

/// A path's answer, in its own terms.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    /// The CONNACK's code.
    Connack(u8),
    /// An HTTP status and the `result` word (EMQX, rmqtt) or term (VerneMQ) in the body.
    Http(u16, Option<String>),
}

fn http(status: u16, result: &str) -> Answer {
    Answer::Http(status, Some(result.to_owned()))
}

/// What `path` must answer for `outcome`.
fn expected(path: Path, outcome: Expect) -> Answer {
    use Expect::*;
    match (path, outcome) {
        (Path::HttpPublish, Allowed | SessionsFull) => Answer::Http(200, None),
        (Path::HttpPublish, BadCredentials | UnknownClient) => Answer::Http(401, None),
        (Path::HttpPublish, NotAuthorized | IdentifierRejected) => Answer::Http(403, None),
        (Path::HttpPublish, LockedOut | Busy) => Answer::Http(429, None),
        (Path::HttpPublish, Unavailable) => Answer::Http(503, None),
        (_, LockedOut | SessionsFull) => expected(path, NotAuthorized),
        (Path::MqttV311 | Path::MqttV5, Allowed) => Answer::Connack(0),
        // MQTT 3.1.1 has one code for every refusal.
        (Path::MqttV311, _) => Answer::Connack(5),
        (Path::MqttV5, BadCredentials | UnknownClient) => Answer::Connack(0x86),
        (Path::MqttV5, _) => Answer::Connack(0x87),
        (Path::Emqx | Path::RmqttForm, Allowed) => http(200, "allow"),
        (Path::Emqx | Path::RmqttForm, UnknownClient) => http(200, "ignore"),
        (Path::Emqx | Path::RmqttForm, BadCredentials | NotAuthorized | IdentifierRejected) => {
            http(200, "deny")
        }
        (Path::VerneMq, Allowed) => http(200, "ok"),
        (Path::VerneMq, UnknownClient) => http(200, "next"),
        (Path::VerneMq, BadCredentials | NotAuthorized | IdentifierRejected) => {
            http(200, "not_allowed")
        }
        (_, Busy | Unavailable) => Answer::Http(503, None),
    }
}

/// One CONNECT, as any path carries it.
#[derive(Clone, Debug)]
struct Connect {
    identifier: String,
    username: Option<String>,
    password: Option<String>,
    will_topic: Option<String>,
}

impl Connect {
    fn of(login: Login) -> Self {
        Self {
            identifier: login.client_identifier,
            username: login.username,
            password: login.password,
            will_topic: login.will_topic,
        }
    }

    /// With `identifier` made unique to `path` (no two attempts share a session).
    fn on(&self, path: Path, case: &str) -> Self {
        let mut c = self.clone();
        if c.identifier == "<per-path>" {
            c.identifier = format!("{case}-{path:?}").to_lowercase();
        }
        c
    }
}

async fn send(setup: &Setup, path: Path, c: &Connect) -> Answer {
    let http = reqwest::Client::new();
    let peer = "127.0.0.1";
    match path {
        Path::MqttV311 | Path::MqttV5 => {
            let version = if path == Path::MqttV5 {
                Version::V5
            } else {
                Version::V311
            };
            let mut login = Login::new(&c.identifier, "", "");
            login.username = c.username.clone();
            login.password = c.password.clone();
            login.will_topic = c.will_topic.clone();
            match Device::connect(version, &setup.tcp(), &login).await {
                Ok(device) => {
                    device.disconnect().await;
                    Answer::Connack(0)
                }
                Err(refused) => Answer::Connack(refused.0),
            }
        }
        Path::Emqx => {
            let mut body = json!({ "clientid": c.identifier, "peerhost": peer });
            if let Some(u) = &c.username {
                body["username"] = json!(u);
            }
            if let Some(p) = &c.password {
                body["password"] = json!(p);
            }
            authn(setup, |r| r.json(&body)).await
        }
        Path::RmqttForm => {
            // What rmqtt's auth-http plugin sends with its default parameters.
            let form = [
                ("clientid", c.identifier.clone()),
                ("ipaddr", peer.to_owned()),
                ("protocol", "4".to_owned()),
                ("username", c.username.clone().unwrap_or_default()),
                ("password", c.password.clone().unwrap_or_default()),
            ];
            authn(setup, |r| r.form(&form)).await
        }
        Path::VerneMq => {
            let response = http
                .post(setup.app.url("/webhooks/vernemq"))
                .bearer_auth(SECRET)
                .header("vernemq-hook", "auth_on_register")
                .json(&json!({
                    "peer_addr": peer,
                    "peer_port": 52_000,
                    "mountpoint": "",
                    "client_id": c.identifier,
                    "username": c.username,
                    "password": c.password,
                    "clean_session": true,
                }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let term = match &body["result"] {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("error").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            };
            Answer::Http(status, if status == 200 { term } else { None })
        }
        Path::HttpPublish => {
            // curl -u USERNAME:PASSWORD --data-binary x '.../v1/publish/TOPIC?device=IDENTIFIER'
            // The device's own topics: inside a restricted client's scope too.
            let topic = format!(
                "{}/devices/{}/outcomes",
                setup.client.connection.namespace, c.identifier
            );
            let mut request = http
                .post(setup.app.url(&format!("/v1/publish/{topic}")))
                .query(&[("device", &c.identifier)])
                .body("x");
            if c.username.is_some() || c.password.is_some() {
                request =
                    request.basic_auth(c.username.clone().unwrap_or_default(), c.password.clone());
            }
            Answer::Http(request.send().await.unwrap().status().as_u16(), None)
        }
    }
}

/// POSTs the EMQX/rmqtt authentication webhook with the body `build` adds; its answer.
async fn authn(
    setup: &Setup,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Answer {
    let request = reqwest::Client::new()
        .post(setup.app.url("/webhooks/emqx/authn"))
        .bearer_auth(SECRET);
    let response = build(request).send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Answer::Http(status, result(status, &body["result"]))
}

fn result(status: u16, value: &Value) -> Option<String> {
    (status == 200).then(|| value.as_str().unwrap_or_default().to_owned())
}

/// Every answer that differs from the table, so that one run shows them all.
#[derive(Default)]
struct Mismatches(std::sync::Mutex<Vec<String>>);

impl Mismatches {
    fn assert_none(&self) {
        let found = self.0.lock().unwrap();
        assert!(
            found.is_empty(),
            "answers that differ from the table:\n{}",
            found.join("\n")
        );
    }
}

/// Sends `connect` through every path (each with its own identifier where the case says so) and
/// records each answer that differs from the table.
async fn check(
    setup: &Setup,
    mismatches: &Mismatches,
    case: &str,
    connect: &Connect,
    outcome: Expect,
) {
    for path in PATHS {
        if connect.will_topic.is_some() && !matches!(path, Path::MqttV311 | Path::MqttV5) {
            // Only an MQTT CONNECT carries a Last Will; brokers do not pass it to webhooks, and an
            // HTTP publish has none.
            continue;
        }
        let answer = send(setup, path, &connect.on(path, case)).await;
        let expected = expected(path, outcome);
        if answer != expected {
            mismatches.0.lock().unwrap().push(format!(
                "{case} through {path:?}: {answer:?}, should be {expected:?} ({outcome:?})"
            ));
        }
    }
}

fn with_identifier(mut login: Login, identifier: &str) -> Login {
    login.client_identifier = identifier.to_owned();
    login
}

#[engines]
async fn the_same_refusal_gets_the_same_outcome_on_every_path(engine: Engine) {
    let setup = Arc::new(
        Setup::with(engine, |c| {
            c.webhook_secret = Some(SECRET.parse().unwrap());
            // The victim's wrong keys (two cases through six paths) stay below the lock-out.
            c.mqtt_lockout_after = 12;
            c.mqtt_address_lockout_after = 1000;
            c.mqtt_lockout_ms = 600_000;
            // The three webhook paths share one broker (no target is configured): three each.
            c.mqtt_max_sessions_per_client = 3;
            c.mqtt_auth_workers = Some(1);
            c.mqtt_auth_queue = 1;
        })
        .await,
    );
    let tenant = &setup.tenant;
    let ours = &setup.client;
    let mismatches = Mismatches::default();
    let per_path = |client: &RevealedKey, key: &str| {
        Connect::of(with_identifier(
            login(Form::ClientIdUsername, client, key),
            "<per-path>",
        ))
    };

    // Let in.
    check(
        &setup,
        &mismatches,
        "right-key",
        &per_path(ours, setup.key()),
        Expect::Allowed,
    )
    .await;

    // Refused for the key.
    let victim = tenant.new_client("Victim").await;
    let wrong = ClientKey::generate();
    check(
        &setup,
        &mismatches,
        "wrong-key",
        &per_path(&victim, wrong.expose()),
        Expect::BadCredentials,
    )
    .await;
    let other = tenant.new_client("Other").await;
    check(
        &setup,
        &mismatches,
        "another-clients-key",
        &per_path(&victim, other.key.expose()),
        Expect::BadCredentials,
    )
    .await;
    let mut no_password = per_path(&victim, "");
    no_password.password = None;
    no_password.username = None;
    check(
        &setup,
        &mismatches,
        "no-credentials",
        &no_password,
        Expect::BadCredentials,
    )
    .await;
    let mut nobody = per_path(ours, setup.key());
    nobody.username = Some(format!("nobody-{}", unique_suffix()));
    check(
        &setup,
        &mismatches,
        "unknown-client",
        &nobody,
        Expect::UnknownClient,
    )
    .await;

    // The right key, but the client may not connect.
    let inactive = tenant.new_client("Inactive").await;
    let _: ClientRow = tenant
        .call(
            "clients/set_active",
            &[
                ("client_id", inactive.connection.client_id.as_str()),
                ("active", "false"),
            ],
        )
        .await
        .unwrap();
    check(
        &setup,
        &mismatches,
        "inactive",
        &per_path(&inactive, inactive.key.expose()),
        Expect::NotAuthorized,
    )
    .await;

    let locked = tenant.new_client("Locked").await;
    for _ in 0..13 {
        let guess = per_path(&locked, ClientKey::generate().expose());
        send(&setup, Path::Emqx, &guess.on(Path::Emqx, "guess")).await;
    }
    check(
        &setup,
        &mismatches,
        "locked-out",
        &per_path(&locked, locked.key.expose()),
        Expect::LockedOut,
    )
    .await;

    check(
        &setup,
        &mismatches,
        "another-clients-client-id",
        &Connect::of(with_identifier(
            login(Form::ClientIdUsername, ours, setup.key()),
            other.connection.client_id.as_str(),
        )),
        Expect::NotAuthorized,
    )
    .await;

    // An identifier another client's session holds: on the embedded broker, a device of that
    // client connected with it; on the webhooks' broker, a login of that client with it.
    let holder = tenant.new_client("Holder").await;
    let held = format!("held-{}", unique_suffix());
    let _holding = Device::connect(
        Version::V5,
        &setup.tcp(),
        &with_identifier(
            login(Form::ClientIdUsername, &holder, holder.key.expose()),
            &held,
        ),
    )
    .await
    .expect("the holder connects");
    let holding = Connect::of(with_identifier(
        login(Form::ClientIdUsername, &holder, holder.key.expose()),
        &held,
    ));
    assert_eq!(send(&setup, Path::Emqx, &holding).await, http(200, "allow"));
    check(
        &setup,
        &mismatches,
        "identifier-in-use",
        &Connect::of(with_identifier(
            login(Form::ClientIdUsername, ours, setup.key()),
            &held,
        )),
        Expect::NotAuthorized,
    )
    .await;

    // A client holding as many sessions as it may, connected, on each broker.
    let crowded = tenant.new_client("Crowded").await;
    let mut crowd = Vec::new();
    for n in 0..3 {
        let identifier = format!("crowd-{n}-{}", unique_suffix());
        let login = with_identifier(
            login(Form::ClientIdUsername, &crowded, crowded.key.expose()),
            &identifier,
        );
        crowd.push(
            Device::connect(Version::V5, &setup.tcp(), &login)
                .await
                .expect("one of the crowd connects"),
        );
        assert_eq!(
            send(&setup, Path::Emqx, &Connect::of(login)).await,
            http(200, "allow")
        );
    }
    check(
        &setup,
        &mismatches,
        "too-many-sessions",
        &per_path(&crowded, crowded.key.expose()),
        Expect::SessionsFull,
    )
    .await;

    // A restricted client: its devices in scope, in connection form 3, and nothing else.
    let restricted = tenant.new_client("Restricted").await;
    let in_scope: Vec<String> = PATHS
        .iter()
        .map(|path| format!("restricted-in-scope-{path:?}").to_lowercase())
        .collect();
    set_access(tenant, &restricted, Some(&in_scope.join(", ")), &[]).await;
    let restricted_key = restricted.key.expose();
    check(
        &setup,
        &mismatches,
        "restricted-in-scope",
        &per_path(&restricted, restricted_key),
        Expect::Allowed,
    )
    .await;
    check(
        &setup,
        &mismatches,
        "restricted-out-of-scope",
        &per_path(&restricted, restricted_key),
        Expect::NotAuthorized,
    )
    .await;
    check(
        &setup,
        &mismatches,
        "restricted-in-form-1",
        &Connect::of(login(Form::Namespace, &restricted, restricted_key)),
        Expect::NotAuthorized,
    )
    .await;
    let mut form_2 = Connect::of(login(Form::WithOrganization, &restricted, restricted_key));
    form_2.identifier = "<per-path>".into();
    check(
        &setup,
        &mismatches,
        "restricted-in-form-2",
        &form_2,
        Expect::NotAuthorized,
    )
    .await;

    let mut will = Connect::of(login(Form::Namespace, ours, setup.key()));
    will.will_topic = Some("elsewhere/gone".into());
    check(
        &setup,
        &mismatches,
        "will-outside-namespace",
        &will,
        Expect::NotAuthorized,
    )
    .await;

    check(
        &setup,
        &mismatches,
        "identifier-rejected",
        &Connect::of(with_identifier(
            login(Form::ClientIdUsername, ours, setup.key()),
            "..",
        )),
        Expect::IdentifierRejected,
    )
    .await;

    // Busy: the one verification worker is checking a slow key and one more waits for it.
    let slow = tenant.new_client("Slow").await;
    slow_down(
        &setup.app.db,
        slow.connection.client_id.as_str(),
        slow.key.expose(),
        Duration::from_secs(6),
    )
    .await;
    let mut waiting = Vec::new();
    for n in 0..2 {
        let (setup, login) = (
            setup.clone(),
            with_identifier(
                login(Form::ClientIdUsername, &slow, slow.key.expose()),
                &format!("slow-{n}"),
            ),
        );
        waiting.push(tokio::spawn(async move {
            send(&setup, Path::Emqx, &Connect::of(login)).await
        }));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // A typed key: a generated one is a SHA-256 and never waits for the argon2id pool.
    let busy = tenant
        .create_client("busy-typed-01", "busy-typed-key-0123", "Busy", "")
        .await
        .expect("a client with a typed key");
    check(
        &setup,
        &mismatches,
        "busy",
        &per_path(&busy, busy.key.expose()),
        Expect::Busy,
    )
    .await;
    for slow in waiting {
        assert_eq!(
            slow.await.unwrap(),
            http(200, "allow"),
            "the slow ones got in"
        );
    }

    // Unavailable: the database is gone.
    drop(crowd);
    setup.app.db.close().await;
    check(
        &setup,
        &mismatches,
        "unavailable",
        &per_path(ours, setup.key()),
        Expect::Unavailable,
    )
    .await;
    mismatches.assert_none();

    Arc::into_inner(setup)
        .expect("no other owners")
        .app
        .stop()
        .await;
}
