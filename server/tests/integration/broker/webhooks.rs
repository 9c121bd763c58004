//! Contract tests for the broker webhooks: requests shaped exactly as EMQX 5, rmqtt's auth-http
//! plugin and VerneMQ send them, the answers those brokers expect, and what must be refused.

use crate::broker::{Setup, topic};
use crate::support::{Engine, count_rows, engines};
use app::model::RevealedKey;
use serde_json::{Value, json};
use std::time::Duration;

pub const SECRET: &str = "webhook-secret-for-tests-0123";

/// POSTs `body` as JSON to `path` with the right secret; the status and the JSON answer.
pub async fn webhook(setup: &Setup, path: &str, body: &Value) -> (u16, Value) {
    send(setup, path, |r| r.bearer_auth(SECRET).json(body)).await
}

async fn send(
    setup: &Setup,
    path: &str,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> (u16, Value) {
    let response = build(reqwest::Client::new().post(setup.app.url(path)))
        .send()
        .await
        .expect("the webhook answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

async fn with_webhooks(engine: Engine) -> Setup {
    Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().unwrap());
        c.webhook_session_max_secs = Some(3600);
    })
    .await
}

fn authn(client_id: &str, username: &str, password: &str) -> Value {
    // EMQX 5's HTTP authenticator body, as its documentation configures it.
    json!({ "clientid": client_id, "username": username, "password": password, "peerhost": "10.1.2.3" })
}

fn id(client: &RevealedKey) -> String {
    client.connection.client_id.to_string()
}

/// The client row `client` is.
pub fn owner(client: &RevealedKey) -> app::model::ClientRef {
    app::model::ClientRef {
        organization_id: client.connection.organization_id.to_string(),
        client_id: client.connection.client_id.clone(),
    }
}

#[engines]
async fn emqx_authentication(engine: Engine) {
    let setup = with_webhooks(engine).await;
    let c = &setup.client.connection;
    let id = id(&setup.client);
    // Each of the three connection forms is allowed, with the namespace as the ACL.
    for (client_identifier, username) in [
        (id.clone(), c.username_namespace().to_owned()),
        ("gateway-7".to_owned(), c.username_with_org()),
        ("sensor-7".to_owned(), id.clone()),
    ] {
        let (status, body) = webhook(
            &setup,
            "/webhooks/emqx/authn",
            &authn(&client_identifier, &username, setup.key()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["result"], "allow", "{body}");
        assert_eq!(body["is_superuser"], false);
        assert_eq!(
            body["acl"],
            json!([
                { "permission": "allow", "action": "all", "topic": format!("{}/#", c.namespace) },
                { "permission": "deny", "action": "all", "topic": "#" },
                { "permission": "deny", "action": "all", "topic": "$SYS/#" },
            ])
        );
        let expire_at = body["expire_at"].as_u64().expect("expire_at");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            (now + 3590..=now + 3610).contains(&expire_at),
            "{expire_at}"
        );
    }
    // The identifiers are held by the client on that broker (no target is configured: the
    // unnamed one), for revocations and the Clients page.
    let mut remembered = app::store::device_sessions::list_identifiers(
        &setup.app.db,
        server::webhooks::UNNAMED_BROKER,
        &owner(&setup.client),
        None,
    )
    .await
    .unwrap();
    remembered.sort();
    assert_eq!(
        remembered,
        vec![id.clone(), "gateway-7".to_owned(), "sensor-7".to_owned()]
    );

    // A wrong key is denied, and audited like a refused MQTT login.
    let audit_before = count_rows(&setup.app.db, "audit_events").await;
    let (status, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn("s", &id, "kgk_wrong"),
    )
    .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("deny")),
        "{body}"
    );
    // Written beside the refusal (see `Failures::audit`): it lands a moment later.
    let db = setup.app.db.clone();
    assert!(
        crate::support::eventually(Duration::from_secs(2), || {
            let db = db.clone();
            async move { count_rows(&db, "audit_events").await == audit_before + 1 }
        })
        .await,
        "the wrong key is audited once"
    );
    // Another client's key is denied.
    let other = setup.tenant.new_client("Other").await;
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn("s", &id, other.key.expose()),
    )
    .await;
    assert_eq!(body["result"], "deny");
    // An unknown client is left to the broker's next authenticator.
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn("s", "no-such-client", setup.key()),
    )
    .await;
    assert_eq!(body["result"], "ignore", "{body}");
    // No password: denied.
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &json!({ "clientid": id, "username": id }),
    )
    .await;
    assert_eq!(body["result"], "deny");
    // An inactive client is denied with the right key, and allowed again once activated.
    setup.set_active(false).await;
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn("s", &id, setup.key()),
    )
    .await;
    assert_eq!(body["result"], "deny");
    setup.set_active(true).await;
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn("s", &id, setup.key()),
    )
    .await;
    assert_eq!(body["result"], "allow");
    // A deleted client is unknown.
    let () = setup
        .tenant
        .call("clients/delete", &[("client_id", &id)])
        .await
        .unwrap();
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn("s", &id, setup.key()),
    )
    .await;
    assert_eq!(body["result"], "ignore");
    // Malformed bodies are a 400 that says why.
    let (status, body) = send(&setup, "/webhooks/emqx/authn", |r| {
        r.bearer_auth(SECRET)
            .header("content-type", "application/json")
            .body("{not json")
    })
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    setup.app.stop().await;
}

#[engines]
async fn emqx_authentication_applies_the_same_back_off(engine: Engine) {
    let setup = with_webhooks(engine).await;
    let id = id(&setup.client);
    // Five failures are free (--mqtt-lockout-after), the sixth locks.
    for _ in 0..6 {
        let (_, body) = webhook(
            &setup,
            "/webhooks/emqx/authn",
            &authn("s", &id, "kgk_wrong"),
        )
        .await;
        assert_eq!(body["result"], "deny");
    }
    // Locked out: even the right key is denied for now, without a key check.
    let verified = setup.app.running().device_auth.verifier().verifications();
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn("s", &id, setup.key()),
    )
    .await;
    assert_eq!(body["result"], "deny", "{body}");
    assert_eq!(
        setup.app.running().device_auth.verifier().verifications(),
        verified
    );
    // The lock-out ends (1 s by default).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn("s", &id, setup.key()),
    )
    .await;
    assert_eq!(body["result"], "allow", "{body}");
    setup.app.stop().await;
}

#[engines]
async fn emqx_authorization(engine: Engine) {
    let setup = with_webhooks(engine).await;
    let c = &setup.client.connection;
    let id = id(&setup.client);
    let mine = topic(&setup.client, "telemetry");
    let other = setup
        .app
        .sign_up("Other Org")
        .await
        .new_client("Theirs")
        .await;
    let theirs = topic(&other, "telemetry");
    let authz = |action: &str, t: &str| json!({ "clientid": id, "username": c.username_namespace(), "peerhost": "10.1.2.3", "action": action, "topic": t });
    for (action, t, expected) in [
        ("publish", mine.as_str(), "allow"),
        ("subscribe", mine.as_str(), "allow"),
        ("subscribe", &*format!("{}/#", c.namespace), "allow"),
        (
            "subscribe",
            &*format!("$share/g1/{}/#", c.namespace),
            "allow",
        ),
        ("publish", theirs.as_str(), "deny"),
        ("subscribe", theirs.as_str(), "deny"),
        ("subscribe", "#", "deny"),
        ("subscribe", "$SYS/#", "deny"),
        ("publish", &*format!("{}/+/x", c.namespace), "deny"),
    ] {
        let (status, body) = webhook(&setup, "/webhooks/emqx/authz", &authz(action, t)).await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({ "result": expected }), "{action} {t}");
    }
    // An unknown client may do nothing.
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authz",
        &json!({ "clientid": "x", "username": "nobody", "action": "publish", "topic": mine }),
    )
    .await;
    assert_eq!(body["result"], "deny");
    // A deactivated client may do nothing, even inside its namespace.
    setup.set_active(false).await;
    let (_, body) = webhook(&setup, "/webhooks/emqx/authz", &authz("publish", &mine)).await;
    assert_eq!(body["result"], "deny");
    // Without an action there is nothing to decide.
    let (status, body) = webhook(
        &setup,
        "/webhooks/emqx/authz",
        &json!({ "clientid": id, "username": id, "topic": mine }),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("publish or subscribe"),
        "{body}"
    );
    setup.app.stop().await;
}

#[engines]
async fn rmqtt_auth_http_forms(engine: Engine) {
    let setup = with_webhooks(engine).await;
    let id = id(&setup.client);
    // rmqtt's default: a form-encoded POST with clientid, username, password (and ipaddr).
    let (status, body) = send(&setup, "/webhooks/emqx/authn", |r| {
        r.bearer_auth(SECRET).form(&[
            ("clientid", "dev-1"),
            ("username", id.as_str()),
            ("password", setup.key()),
            ("ipaddr", "10.9.8.7"),
        ])
    })
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["result"].as_str(), body["superuser"].as_bool()),
        (Some("allow"), Some(false)),
        "{body}"
    );
    // GET with a query string also works (rmqtt and EMQX allow it, though it puts the key in URLs).
    let client = reqwest::Client::new();
    let response = client
        .get(setup.app.url("/webhooks/emqx/authn"))
        .bearer_auth(SECRET)
        .query(&[
            ("clientid", "dev-1"),
            ("username", id.as_str()),
            ("password", "kgk_wrong"),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"], "deny");
    // rmqtt's ACL request: access 1 = subscribe, 2 = publish; the answer is the bare word.
    let mine = topic(&setup.client, "cmd");
    for (access, t, expected) in [("2", mine.as_str(), "allow"), ("1", "#", "deny")] {
        let (status, body) = send(&setup, "/webhooks/emqx/authz", |r| {
            r.bearer_auth(SECRET).form(&[
                ("access", access),
                ("username", id.as_str()),
                ("clientid", "dev-1"),
                ("ipaddr", "10.9.8.7"),
                ("topic", t),
            ])
        })
        .await;
        assert_eq!((status, body), (200, Value::String(expected.into())));
    }
    setup.app.stop().await;
}

#[engines]
async fn vernemq_hooks(engine: Engine) {
    let setup = with_webhooks(engine).await;
    let c = &setup.client.connection;
    let id = id(&setup.client);
    let hook = |name: &'static str, body: Value| {
        let setup = &setup;
        async move {
            send(setup, "/webhooks/vernemq", |r| {
                r.basic_auth("vernemq", Some(SECRET))
                    .header("vernemq-hook", name)
                    .json(&body)
            })
            .await
        }
    };
    let register = |password: &str, username: &str| {
        json!({
            "peer_addr": "10.1.2.3", "peer_port": 51234, "username": username, "password": password,
            "mountpoint": "", "client_id": "sensor-9", "clean_session": false
        })
    };
    assert_eq!(
        hook("auth_on_register", register(setup.key(), &id)).await,
        (200, json!({ "result": "ok" }))
    );
    let m5 = json!({
        "peer_addr": "10.1.2.3", "peer_port": 51234, "mountpoint": "", "client_id": "sensor-9",
        "username": id, "password": setup.key(), "clean_start": true, "properties": {}
    });
    assert_eq!(
        hook("auth_on_register_m5", m5).await,
        (200, json!({ "result": "ok" }))
    );
    assert_eq!(
        hook("auth_on_register", register("kgk_wrong", &id)).await,
        (200, json!({ "result": { "error": "not_allowed" } }))
    );
    assert_eq!(
        hook("auth_on_register", register(setup.key(), "no-such-client")).await,
        (200, json!({ "result": "next" }))
    );

    let mine = topic(&setup.client, "a");
    let other = setup
        .app
        .sign_up("Other Org")
        .await
        .new_client("Theirs")
        .await;
    let theirs = topic(&other, "a");
    let subscribe = |topics: Value| json!({ "client_id": "sensor-9", "mountpoint": "", "username": id, "topics": topics });
    assert_eq!(
        hook(
            "auth_on_subscribe",
            subscribe(json!([{ "topic": mine, "qos": 1 }]))
        )
        .await,
        (200, json!({ "result": "ok" }))
    );
    assert_eq!(
        hook(
            "auth_on_subscribe",
            subscribe(json!([{ "topic": mine, "qos": 1 }, { "topic": theirs, "qos": 2 }]))
        )
        .await,
        (
            200,
            json!({ "result": "ok", "topics": [{ "topic": mine, "qos": 1 }, { "topic": theirs, "qos": 128 }] })
        )
    );
    let mut m5 = subscribe(json!([{ "topic": "#", "qos": 0 }]));
    m5["properties"] = json!({});
    assert_eq!(
        hook("auth_on_subscribe_m5", m5).await,
        (
            200,
            json!({ "result": "ok", "modifiers": { "topics": [{ "topic": "#", "qos": 135 }] } })
        )
    );
    let publish = |t: &str| json!({ "username": c.username_namespace(), "client_id": id, "mountpoint": "", "qos": 1, "topic": t, "payload": "aGVsbG8=", "retain": false });
    assert_eq!(
        hook("auth_on_publish", publish(&mine)).await,
        (200, json!({ "result": "ok" }))
    );
    assert_eq!(
        hook("auth_on_publish", publish(&theirs)).await,
        (200, json!({ "result": { "error": "not_allowed" } }))
    );
    setup.set_active(false).await;
    assert_eq!(
        hook("auth_on_publish", publish(&mine)).await,
        (200, json!({ "result": { "error": "not_allowed" } }))
    );
    assert_eq!(
        hook("auth_on_register", register(setup.key(), &id)).await,
        (200, json!({ "result": { "error": "not_allowed" } }))
    );
    // Hooks Keygate does not answer, and bodies VerneMQ would not send, are a 400 that says why.
    let (status, body) = hook("on_deliver", json!({})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("on_deliver"),
        "{body}"
    );
    let (status, body) = hook("auth_on_publish", json!({ "topic": mine })).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("client_id"),
        "{body}"
    );
    setup.app.stop().await;
}

#[engines]
async fn webhooks_refuse_a_wrong_or_missing_secret(engine: Engine) {
    let setup = with_webhooks(engine).await;
    let id = id(&setup.client);
    let before = crate::support::counts(&setup.app.db).await;
    let audit_before = count_rows(&setup.app.db, "audit_events").await;
    let verified = setup.app.running().device_auth.verifier().verifications();
    let body = authn("s", &id, setup.key());
    for (path, build) in [
        ("/webhooks/emqx/authn", None),
        ("/webhooks/emqx/authn", Some("Bearer not-the-secret-at-all")),
        ("/webhooks/emqx/authz", Some("Basic dXNlcjp3cm9uZw==")),
        ("/webhooks/vernemq", Some("Bearer")),
    ] {
        let (status, answer) = send(&setup, path, |r| {
            let r = r.header("vernemq-hook", "auth_on_register").json(&body);
            match build {
                Some(value) => r.header("authorization", value),
                None => r,
            }
        })
        .await;
        assert_eq!(status, 401, "{path} {build:?}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("webhook secret"),
            "{answer}"
        );
    }
    // Nothing was checked, remembered or audited.
    assert_eq!(
        setup.app.running().device_auth.verifier().verifications(),
        verified
    );
    assert_eq!(crate::support::counts(&setup.app.db).await, before);
    assert_eq!(
        count_rows(&setup.app.db, "audit_events").await,
        audit_before
    );
    assert_eq!(count_rows(&setup.app.db, "device_sessions").await, 0);
    setup.app.stop().await;

    // Without a configured secret there are no webhooks at all.
    let plain = Setup::new(engine).await;
    let response = reqwest::Client::new()
        .post(plain.app.url("/webhooks/emqx/authn"))
        .bearer_auth(SECRET)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    plain.app.stop().await;
}
