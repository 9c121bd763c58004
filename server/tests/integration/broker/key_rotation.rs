//! Rotation and expiry with real MQTT clients: during a rotation both keys connect; when the old
//! key retires (now, or at its time) only its sessions close and it is refused from then on,
//! while the new key's sessions stay; a key's sessions close within a second of its expiry, and an
//! expired key is refused like a wrong one. The same on an external rmqtt broker, through the
//! webhooks and its admin API, and across a restart of Keygate.

use crate::broker::device::{Device, Login, Refused, Version};
use crate::broker::external_rmqtt::External;
use crate::broker::{Form, Setup, login, topic};
use crate::support::{Engine, TestApp, engines, eventually};
use app::model::{ClientKey, ClientRow, KeyInfo, RevealedKey};
use app::store::client_keys;
use std::time::{Duration, Instant};

/// Rotates the client's key through the dashboard's server function: the new key (revealed) and
/// the client's keys after it, oldest first.
async fn rotate(setup: &Setup, retire: &str) -> (ClientKey, Vec<KeyInfo>) {
    let key = ClientKey::generate();
    let revealed: RevealedKey = setup
        .tenant
        .call(
            "clients/rotate_key",
            &[
                ("client_id", setup.client.connection.client_id.as_str()),
                ("key", key.expose()),
                ("retire", retire),
            ],
        )
        .await
        .expect("rotate");
    assert_eq!(
        revealed.key.expose(),
        key.expose(),
        "the new key is revealed"
    );
    (key, revealed.row.keys)
}

async fn retire_now(setup: &Setup, key_id: &str) -> ClientRow {
    setup
        .tenant
        .call(
            "clients/retire_key",
            &[
                ("client_id", setup.client.connection.client_id.as_str()),
                ("key_id", key_id),
            ],
        )
        .await
        .expect("retire now")
}

/// A device of form 2 (its own client identifier) with `key`.
fn device_login(setup: &Setup, key: &str) -> Login {
    login(Form::WithOrganization, &setup.client, key)
}

/// What a wrong key gets from the embedded broker.
fn bad_key(version: Version) -> Refused {
    match version {
        Version::V311 => Refused(5),
        Version::V5 => Refused(0x86),
    }
}

async fn still_works(device: &mut Device, setup: &Setup) {
    let t = topic(&setup.client, "still-here");
    assert_eq!(device.subscribe(&t).await, 1);
    assert_eq!(device.publish(&t, b"yes").await, 0);
    assert!(
        device.message(Duration::from_secs(5)).await.is_some(),
        "the session works"
    );
}

#[engines]
async fn during_a_rotation_both_keys_connect_and_retiring_the_old_closes_only_its_sessions(
    engine: Engine,
) {
    let setup = Setup::new(engine).await;
    let broker = setup.tcp();
    let old_key = setup.key().to_owned();
    let mut on_old = Device::connect(Version::V5, &broker, &device_login(&setup, &old_key))
        .await
        .expect("the key connects");

    let (new_key, keys) = rotate(&setup, "7d").await;
    assert_eq!(keys.len(), 2, "two keys during the rotation: {keys:?}");
    let (old, new) = (&keys[0], &keys[1]);
    assert!(
        old.retiring && old.ends_at.is_some(),
        "the old key retires: {old:?}"
    );
    assert!(
        !new.retiring && new.ends_at.is_none(),
        "the new key does not: {new:?}"
    );
    assert_ne!(old.fingerprint, new.fingerprint);

    // Both keys work during the window, on fresh connects too.
    let mut on_new = Device::connect(
        Version::V311,
        &broker,
        &device_login(&setup, new_key.expose()),
    )
    .await
    .expect("the new key connects at once");
    let fresh_old = Device::connect(Version::V311, &broker, &device_login(&setup, &old_key))
        .await
        .expect("the old key still connects during the window");
    fresh_old.disconnect().await;
    assert!(
        !on_old.closed_within(Duration::from_millis(300)).await,
        "a rotation closes nothing"
    );

    let row = retire_now(&setup, &old.id).await;
    assert_eq!(row.keys.len(), 1, "one key left");
    assert_eq!(row.keys[0].id, new.id);
    assert!(
        on_old.closed_within(Duration::from_secs(3)).await,
        "the old key's session is closed"
    );
    assert!(
        !on_new.closed_within(Duration::from_secs(2)).await,
        "the new key's session stays, past the second pass"
    );
    still_works(&mut on_new, &setup).await;
    for version in [Version::V311, Version::V5] {
        assert_eq!(
            Device::connect(version, &broker, &device_login(&setup, &old_key))
                .await
                .err(),
            Some(bad_key(version)),
            "the retired key is refused like a wrong key ({version:?})"
        );
    }
    Device::connect(
        Version::V5,
        &broker,
        &device_login(&setup, new_key.expose()),
    )
    .await
    .expect("the new key still connects")
    .disconnect()
    .await;
    on_new.disconnect().await;
    setup.app.stop().await;
}

/// The old key's retirement at its time (the moment chosen at rotation), not only "Retire now".
#[engines]
async fn a_retirement_at_its_time_closes_the_old_keys_sessions_within_a_second(engine: Engine) {
    let setup = Setup::new(engine).await;
    let broker = setup.tcp();
    let old_key = setup.key().to_owned();
    let mut on_old = Device::connect(Version::V5, &broker, &device_login(&setup, &old_key))
        .await
        .expect("the key connects");
    let (new_key, keys) = rotate(&setup, "1h").await;
    let mut on_new = Device::connect(
        Version::V5,
        &broker,
        &device_login(&setup, new_key.expose()),
    )
    .await
    .expect("the new key connects");
    let due = app::store::now_millis() + 1500;
    client_keys::set_end_for_test(&setup.app.db, &keys[0].id, due)
        .await
        .unwrap();
    assert!(
        on_old.closed_within(Duration::from_secs(5)).await,
        "the old key's session is closed at its retirement"
    );
    let late = app::store::now_millis() - due;
    assert!(
        (0..=1000).contains(&late),
        "closed {late} ms after the retirement was due"
    );
    assert!(!on_new.closed_within(Duration::from_secs(1)).await);
    still_works(&mut on_new, &setup).await;
    let client = ClientRow::clone(
        &setup
            .tenant
            .call::<app::model::ClientDetails>(
                "clients/get",
                &[("client_id", setup.client.connection.client_id.as_str())],
            )
            .await
            .unwrap()
            .row,
    );
    assert_eq!(
        client.keys.len(),
        1,
        "the retired key is gone: {:?}",
        client.keys
    );
    setup.app.stop().await;
}

#[engines]
async fn an_expiring_keys_session_closes_within_a_second_of_its_expiry(engine: Engine) {
    let setup = Setup::new(engine).await;
    let broker = setup.tcp();
    let mut devices = Vec::new();
    for version in [Version::V311, Version::V5] {
        devices.push(
            Device::connect(version, &broker, &device_login(&setup, setup.key()))
                .await
                .expect("the key connects"),
        );
    }
    let key_id = setup.client.row.keys[0].id.clone();
    let expires = app::store::now_millis() + 2000;
    client_keys::set_end_for_test(&setup.app.db, &key_id, expires)
        .await
        .unwrap();
    let started = Instant::now();
    for device in &mut devices {
        assert!(
            device.closed_within(Duration::from_secs(6)).await,
            "the session is closed at the key's expiry"
        );
        let late = app::store::now_millis() - expires;
        assert!(
            (0..=1000).contains(&late),
            "closed {late} ms after the expiry ({:?} after it was set)",
            started.elapsed()
        );
    }
    for version in [Version::V311, Version::V5] {
        assert_eq!(
            Device::connect(version, &broker, &device_login(&setup, setup.key()))
                .await
                .err(),
            Some(bad_key(version)),
            "an expired key is refused like a wrong one ({version:?})"
        );
    }
    // The dashboard says so, and the activity log tells the refusal apart.
    let details: app::model::ClientDetails = setup
        .tenant
        .call(
            "clients/get",
            &[("client_id", setup.client.connection.client_id.as_str())],
        )
        .await
        .unwrap();
    assert_eq!(
        app::model::ClientExpiry::of(&details.row.keys, app::store::now_millis()),
        app::model::ClientExpiry::Expired
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            crate::support::count_rows(
                &setup.app.db,
                "audit_events WHERE action = 'mqtt.refused_expired_key'",
            )
            .await
                > 0
                && crate::support::count_rows(
                    &setup.app.db,
                    "audit_events WHERE action = 'client.key_expired'",
                )
                .await
                    == 1
        })
        .await,
        "the expiry and the refusal are in the activity log"
    );
    setup.app.stop().await;
}

#[engines]
async fn a_key_whose_expiry_has_passed_is_refused_at_once(engine: Engine) {
    let setup = Setup::new(engine).await;
    let broker = setup.tcp();
    let key_id = setup.client.row.keys[0].id.clone();
    client_keys::set_end_for_test(&setup.app.db, &key_id, app::store::now_millis() - 1)
        .await
        .unwrap();
    for version in [Version::V311, Version::V5] {
        assert_eq!(
            Device::connect(version, &broker, &device_login(&setup, setup.key()))
                .await
                .err(),
            Some(bad_key(version)),
            "{version:?}"
        );
    }
    // Over HTTP too: the same core.
    let response = reqwest::Client::new()
        .post(
            setup
                .app
                .url(&format!("/v1/publish/{}", topic(&setup.client, "t"))),
        )
        .basic_auth(
            setup.client.connection.client_id.as_str(),
            Some(setup.key()),
        )
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    setup.app.stop().await;
}

/// A key that was proven right (and cached) is refused once it expired: the cache skips the
/// hash, never the key's end.
#[engines]
async fn a_cached_key_is_refused_once_it_expired(engine: Engine) {
    let setup = Setup::new(engine).await;
    let broker = setup.tcp();
    Device::connect(Version::V5, &broker, &device_login(&setup, setup.key()))
        .await
        .expect("connects, and the key is cached")
        .disconnect()
        .await;
    let key_id = setup.client.row.keys[0].id.clone();
    client_keys::set_end_for_test(&setup.app.db, &key_id, app::store::now_millis() - 1)
        .await
        .unwrap();
    assert_eq!(
        Device::connect(Version::V5, &broker, &device_login(&setup, setup.key()))
            .await
            .err(),
        Some(bad_key(Version::V5))
    );
    setup.app.stop().await;
}

/// On an external broker: the webhook records which key each session used, and the retirement
/// closes the old key's session there through its admin API while the new key's stays.
#[engines]
async fn on_an_external_broker_retiring_the_old_key_closes_only_its_sessions(engine: Engine) {
    let external = External::start(engine).await;
    let setup = &external.setup;
    let old_key = setup.key().to_owned();
    let mut on_old = external
        .connect(Version::V5, &device_login(setup, &old_key))
        .await;
    let (new_key, keys) = rotate(setup, "24h").await;
    let mut on_new = external
        .connect(Version::V311, &device_login(setup, new_key.expose()))
        .await;
    retire_now(setup, &keys[0].id).await;
    assert!(
        on_old.closed_within(Duration::from_secs(5)).await,
        "the old key's session on the external broker is closed; its log:\n{}",
        external.broker.stderr()
    );
    assert!(external.revocations_done().await);
    assert!(
        !on_new.closed_within(Duration::from_secs(1)).await,
        "the new key's session stays"
    );
    assert!(
        external
            .refused(Version::V5, &device_login(setup, &old_key))
            .await
            .is_some(),
        "the retired key is refused"
    );
    external.stop().await;
}

/// Keygate stops during a rotation; the old key's retirement comes while it is down. At start it
/// applies the retirement and closes the old key's session on the external broker; the new key's
/// stays.
#[engines]
async fn a_retirement_due_while_keygate_was_down_is_applied_at_start(engine: Engine) {
    let external = External::start(engine).await;
    let old_key = external.setup.key().to_owned();
    let mut on_old = external
        .connect(Version::V5, &device_login(&external.setup, &old_key))
        .await;
    let (new_key, keys) = rotate(&external.setup, "1h").await;
    let mut on_new = external
        .connect(
            Version::V311,
            &device_login(&external.setup, new_key.expose()),
        )
        .await;
    let (external, database) = external.stop_keygate().await;
    {
        // While it is down, the retirement's moment passes.
        let db = database.connect().await;
        client_keys::set_end_for_test(&db, &keys[0].id, app::store::now_millis() - 60_000)
            .await
            .unwrap();
        db.close().await;
    }
    assert!(
        !on_old.closed_within(Duration::from_millis(500)).await,
        "nothing closes it while Keygate is down"
    );
    let app = external.start_keygate(database).await;
    assert!(
        on_old.closed_within(Duration::from_secs(5)).await,
        "the old key's session is closed once Keygate is back"
    );
    assert!(!on_new.closed_within(Duration::from_secs(1)).await);
    let remaining = client_keys::list_hashes(&app.db, &external.client_id())
        .await
        .unwrap();
    assert_eq!(remaining.len(), 1, "the retired key is gone");
    app.stop().await;
}

/// The same for an expiry due while Keygate was down, on its embedded broker's own restart: the
/// key is refused at start and stays expired (not deleted: the dashboard says "Expired").
#[engines]
async fn an_expiry_survives_a_restart(engine: Engine) {
    let setup = Setup::new(engine).await;
    let key_id = setup.client.row.keys[0].id.clone();
    client_keys::set_end_for_test(&setup.app.db, &key_id, app::store::now_millis() + 600_000)
        .await
        .unwrap();
    let key = setup.key().to_owned();
    let client = setup.client.clone();
    let database = setup.app.stop_keeping_database().await;
    {
        let db = database.connect().await;
        client_keys::set_end_for_test(&db, &key_id, app::store::now_millis() - 1)
            .await
            .unwrap();
        db.close().await;
    }
    let app = TestApp::spawn_on(database, |_| {}).await;
    let broker = crate::broker::device::Transport::Tcp(app.mqtt.unwrap());
    assert_eq!(
        Device::connect(
            Version::V5,
            &broker,
            &login(Form::WithOrganization, &client, &key)
        )
        .await
        .err(),
        Some(bad_key(Version::V5))
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            crate::support::count_rows(&app.db, "audit_events WHERE action = 'client.key_expired'")
                .await
                == 1
        })
        .await,
        "the expiry was applied at start, once"
    );
    app.stop().await;
}

/// EMQX and rmqtt end a webhook-authenticated session at the answer's `expire_at`: for a key that
/// ends before the session limit, that is the key's end, so the broker closes the session itself
/// at that moment too.
#[engines]
async fn the_webhook_login_of_an_expiring_key_expires_with_the_key(engine: Engine) {
    use crate::broker::webhooks::{SECRET, webhook};
    let setup = Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().unwrap());
        c.webhook_session_max_secs = Some(3600);
    })
    .await;
    let key_id = setup.client.row.keys[0].id.clone();
    let ends = app::store::now_millis() + 600_000;
    client_keys::set_end_for_test(&setup.app.db, &key_id, ends)
        .await
        .unwrap();
    let id = setup.client.connection.client_id.to_string();
    let body = serde_json::json!({
        "clientid": id, "username": setup.client.connection.username_namespace(),
        "password": setup.key(), "peerhost": "10.1.2.3",
    });
    let (status, answer) = webhook(&setup, "/webhooks/emqx/authn", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], "allow", "{answer}");
    assert_eq!(
        answer["expire_at"].as_u64(),
        Some((ends / 1000) as u64),
        "the key's end, before the hour's limit: {answer}"
    );
    // The session records the key it used.
    let key: Option<String> =
        sqlx::query_scalar("SELECT key_id FROM device_sessions WHERE mqtt_client_id = $1")
            .bind(&id)
            .fetch_one(setup.app.db.pool())
            .await
            .unwrap();
    assert_eq!(key.as_deref(), Some(key_id.as_str()));
    setup.app.stop().await;
}

/// Each key says when and from where it was last used and how many live sessions it has, and the
/// client's last successful login is its keys' latest use.
#[engines]
async fn each_key_says_its_last_use_and_live_sessions(engine: Engine) {
    let setup = Setup::new(engine).await;
    let broker = setup.tcp();
    let (new_key, _) = rotate(&setup, "7d").await;
    let device = Device::connect(
        Version::V5,
        &broker,
        &device_login(&setup, new_key.expose()),
    )
    .await
    .expect("the new key connects");
    let id = setup.client.connection.client_id.to_string();
    let keys = || async {
        setup
            .tenant
            .call::<app::model::ClientDetails>("clients/get", &[("client_id", &id)])
            .await
            .unwrap()
            .row
            .keys
    };
    assert!(
        eventually(Duration::from_secs(5), || async {
            let keys = keys().await;
            keys[1].live_sessions == 1 && keys[1].last_used_at.is_some()
        })
        .await,
        "the new key's use is recorded: {:?}",
        keys().await
    );
    let keys = keys().await;
    assert_eq!(keys[0].live_sessions, 0, "the old key has none");
    assert_eq!(keys[0].last_used_at, None);
    assert!(
        keys[1]
            .last_address
            .as_deref()
            .is_some_and(|a| a.starts_with("127.0.0.1:")),
        "{keys:?}"
    );
    let activity: app::model::LoginActivity = setup
        .tenant
        .call("clients/login_activity", &[("client_id", &id)])
        .await
        .unwrap();
    assert_eq!(
        activity.last_success,
        Some((
            keys[1].last_used_at.unwrap(),
            keys[1].last_address.clone().unwrap()
        ))
    );
    device.disconnect().await;
    setup.app.stop().await;
}
