//! What each client is doing, from the outside: devices fail to log in over MQTT, the webhooks and
//! HTTP publish, and the dashboard's server function reports the last failure (when, from where,
//! why), how many there were in 24 hours and whether the back-off locks the client out; "Clear
//! lock-out" lets the right key in at once; "Disconnect all sessions" closes every live session on
//! the embedded broker and on a real external rmqtt, and the devices reconnect with the same key.
//! Another organization can neither read, clear nor disconnect.

use crate::broker::device::{Device, Login, Refused, VERSIONS, Version};
use crate::broker::external_rmqtt::External;
use crate::broker::webhooks::{SECRET, webhook};
use crate::broker::{Form, Setup, login, topic};
use crate::support::{Engine, count_rows, engines, eventually, outbox_done, stored_client};
use app::error::AppError;
use app::model::{
    ClientKey, ClientRow, LoginActivity, LoginFailureReason, RevealedKey, RevocationReason,
};
use serde_json::json;
use std::time::Duration;

/// The Edit modal's login activity of `client`, as `tenant` asks for it.
async fn activity(tenant: &crate::support::Tenant, client: &RevealedKey) -> LoginActivity {
    tenant
        .call(
            "clients/login_activity",
            &[("client_id", client.connection.client_id.as_str())],
        )
        .await
        .expect("clients/login_activity")
}

async fn refused(setup: &Setup, login: &Login) -> Option<Refused> {
    match Device::connect(Version::V5, &setup.tcp(), login).await {
        Ok(d) => {
            d.disconnect().await;
            None
        }
        Err(r) => Some(r),
    }
}

fn wrong(setup: &Setup) -> Login {
    login(
        Form::Namespace,
        &setup.client,
        ClientKey::generate().expose(),
    )
}

fn right(setup: &Setup) -> Login {
    login(Form::Namespace, &setup.client, setup.key())
}

/// A back-off that locks after two wrong keys, for two minutes (long enough that only Clear
/// lock-out can be what lets a device in).
fn two_free_then_locked(c: &mut server::config::Config) {
    c.mqtt_lockout_after = 2;
    c.mqtt_address_lockout_after = 1000;
    c.mqtt_lockout_ms = 120_000;
    c.mqtt_lockout_max_secs = 600;
}

fn now_ms() -> i64 {
    app::store::now_millis()
}

#[engines]
async fn wrong_keys_show_as_the_last_failure_with_its_address_the_count_and_the_lockout(
    engine: Engine,
) {
    let setup = Setup::with(engine, two_free_then_locked).await;
    let quiet = activity(&setup.tenant, &setup.client).await;
    assert_eq!(
        quiet,
        LoginActivity {
            last_success: None,
            last_failure: None,
            failures_24h: 0,
            lockout: None
        },
        "a client nobody failed for"
    );

    let before = now_ms();
    for _ in 0..3 {
        assert_eq!(refused(&setup, &wrong(&setup)).await, Some(Refused(0x86)));
    }
    let after = now_ms();
    let seen = activity(&setup.tenant, &setup.client).await;
    let last = seen.last_failure.clone().expect("a last failure");
    assert_eq!(last.reason, LoginFailureReason::WrongKey);
    assert_eq!(last.address, "127.0.0.1");
    assert!((before..=after).contains(&last.at), "{last:?}");
    assert_eq!(seen.failures_24h, 3);
    let lockout = seen.lockout.expect("two free failures, the third locks");
    let client_secs = lockout.client_secs.expect("the client itself is locked");
    assert!((100..=120).contains(&client_secs), "{client_secs} s left");
    assert_eq!(lockout.addresses, 1, "127.0.0.1 is locked for it too");

    // The right key from an address that never authenticated the client: refused by the lock.
    assert_eq!(refused(&setup, &right(&setup)).await, Some(Refused(0x87)));
    let seen = activity(&setup.tenant, &setup.client).await;
    assert_eq!(seen.failures_24h, 4);
    assert_eq!(
        seen.last_failure.map(|f| f.reason),
        Some(LoginFailureReason::LockedOut)
    );

    // Another client of the tenant is no part of it.
    let other = setup.tenant.new_client("Unaffected").await;
    assert_eq!(
        activity(&setup.tenant, &other).await.failures_24h,
        0,
        "another client's failures are its own"
    );
    setup.app.stop().await;
}

#[engines]
async fn refusals_from_every_path_count_with_their_reason_and_address(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().unwrap());
        c.mqtt_lockout_after = 1000;
    })
    .await;
    let id = setup.client.connection.client_id.to_string();

    // The embedded broker.
    assert_eq!(refused(&setup, &wrong(&setup)).await, Some(Refused(0x86)));
    assert_eq!(activity(&setup.tenant, &setup.client).await.failures_24h, 1);

    // An external broker's webhook, with the device's address as the broker reports it.
    let (status, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &json!({ "clientid": id, "username": setup.client.connection.username_namespace(),
                 "password": "kgk_wrong", "peerhost": "10.1.2.3" }),
    )
    .await;
    assert_eq!((status, body["result"].as_str()), (200, Some("deny")));
    let seen = activity(&setup.tenant, &setup.client).await;
    assert_eq!(seen.failures_24h, 2);
    let last = seen.last_failure.expect("the webhook's failure");
    assert_eq!(
        (last.address.as_str(), last.reason),
        ("10.1.2.3", LoginFailureReason::WrongKey)
    );

    // HTTP publish.
    let url = format!(
        "{}/{}",
        setup.client.connection.publish_url.clone().unwrap(),
        topic(&setup.client, "telemetry")
    );
    let answer = reqwest::Client::new()
        .post(url)
        .basic_auth(&id, Some("kgk_wrong-over-http"))
        .body("21.5")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let seen = activity(&setup.tenant, &setup.client).await;
    assert_eq!(seen.failures_24h, 3);
    assert_eq!(seen.last_failure.unwrap().address, "127.0.0.1");

    // The right key of a deactivated client, in words.
    setup.set_active(false).await;
    assert_eq!(refused(&setup, &right(&setup)).await, Some(Refused(0x87)));
    let seen = activity(&setup.tenant, &setup.client).await;
    assert_eq!(seen.failures_24h, 4);
    let last = seen.last_failure.unwrap();
    assert_eq!(last.reason, LoginFailureReason::Inactive);
    assert_eq!(last.reason.words(), "client is inactive");
    setup.app.stop().await;
}

#[engines]
async fn a_flood_of_failures_is_counted_in_memory_and_written_as_one_row(engine: Engine) {
    // A window longer than the test: nothing may be written while it runs.
    let setup = Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().unwrap());
        c.mqtt_lockout_after = 5;
        c.mqtt_lockout_ms = 60_000;
        c.mqtt_audit_window_secs = 3600;
    })
    .await;
    let id = setup.client.connection.client_id.to_string();
    const FLOOD: u64 = 60;
    for i in 0..FLOOD {
        let (status, _) = webhook(
            &setup,
            "/webhooks/emqx/authn",
            &json!({ "clientid": id, "username": setup.client.connection.username_namespace(),
                     "password": format!("kgk_wrong-{i}"), "peerhost": format!("10.9.0.{}", i % 7) }),
        )
        .await;
        assert_eq!(status, 200);
    }
    let seen = activity(&setup.tenant, &setup.client).await;
    assert_eq!(seen.failures_24h, FLOOD, "every failure counts");
    assert_eq!(
        seen.last_failure.map(|f| f.reason),
        Some(LoginFailureReason::LockedOut),
        "past the free failures, the lock refuses"
    );
    assert_eq!(
        count_rows(&setup.app.db, "client_login_failures").await,
        0,
        "a flood writes nothing per attempt: the window's tally waits in memory"
    );
    // Stopping writes what is held, as one row for the hour.
    let database = setup.app.stop_keeping_database().await;
    let db = database.connect().await;
    assert_eq!(count_rows(&db, "client_login_failures").await, 1);
    let written: i64 = sqlx::query_scalar("SELECT failures FROM client_login_failures")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(written, FLOOD as i64);
    db.close().await;
}

#[engines]
async fn clear_lockout_lets_the_right_key_in_at_once(engine: Engine) {
    let setup = Setup::with(engine, two_free_then_locked).await;
    for _ in 0..3 {
        assert_eq!(refused(&setup, &wrong(&setup)).await, Some(Refused(0x86)));
    }
    assert_eq!(
        refused(&setup, &right(&setup)).await,
        Some(Refused(0x87)),
        "locked out: the right key is refused before"
    );
    let id = setup.client.connection.client_id.to_string();
    let cleared: LoginActivity = setup
        .tenant
        .call("clients/clear_lockout", &[("client_id", &id)])
        .await
        .expect("clear_lockout");
    assert_eq!(cleared.lockout, None, "nothing is locked any more");
    assert_eq!(
        cleared.failures_24h, 4,
        "the history stays: only the lock goes"
    );
    assert_eq!(
        refused(&setup, &right(&setup)).await,
        None,
        "the right key gets in at once"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'client.lockout_cleared' AND target = $1 AND actor = $2",
    )
    .bind(&id)
    .bind(&setup.tenant.email)
    .fetch_one(setup.app.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1, "clearing is audited with who did it");
    setup.app.stop().await;
}

/// Both protocol versions connected, in two forms (two client identifiers).
async fn connected(setup: &Setup) -> Vec<Device> {
    let mut devices = Vec::new();
    for (version, form) in VERSIONS
        .into_iter()
        .zip([Form::Namespace, Form::ClientIdUsername])
    {
        devices.push(
            Device::connect(
                version,
                &setup.tcp(),
                &login(form, &setup.client, setup.key()),
            )
            .await
            .expect("connects"),
        );
    }
    devices
}

async fn disconnect_all(tenant: &crate::support::Tenant, client: &RevealedKey) -> ClientRow {
    tenant
        .call(
            "clients/disconnect_sessions",
            &[("client_id", client.connection.client_id.as_str())],
        )
        .await
        .expect("clients/disconnect_sessions")
}

#[engines]
async fn disconnect_all_closes_every_live_session_and_the_devices_reconnect_with_the_same_key(
    engine: Engine,
) {
    let setup = Setup::new(engine).await;
    let id = setup.client.connection.client_id.to_string();
    let mut devices = connected(&setup).await;
    let stored = stored_client(&setup.app.db, &id).await.unwrap();

    let row = disconnect_all(&setup.tenant, &setup.client).await;
    assert!(row.active, "the client stays active");
    assert_eq!(
        row.revocation.map(|r| r.reason),
        Some(RevocationReason::SessionsDisconnected),
        "the Clients page shows its progress"
    );
    for device in &mut devices {
        assert!(
            device.closed_within(Duration::from_secs(3)).await,
            "every live session is closed"
        );
    }
    assert!(
        eventually(Duration::from_secs(5), || async {
            outbox_done(&setup.app.db, &id).await == [true]
        })
        .await,
        "the embedded broker confirmed"
    );
    let after = stored_client(&setup.app.db, &id).await.unwrap();
    assert_eq!(
        (after.keys.as_str(), after.active),
        (stored.keys.as_str(), stored.active),
        "neither its key nor its status changed"
    );
    assert_eq!(after.audit_events, stored.audit_events + 1, "audited");

    // The same key connects again, and stays connected past the revocation's second pass.
    let mut again = Device::connect(Version::V5, &setup.tcp(), &right(&setup))
        .await
        .expect("the same key reconnects");
    assert!(
        !again.closed_within(Duration::from_secs(2)).await,
        "a session opened after the disconnect stays open"
    );
    let t = topic(&setup.client, "back");
    assert_eq!(again.subscribe(&t).await, 1);
    again.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn disconnect_all_closes_a_session_on_the_external_rmqtt_broker(engine: Engine) {
    let external = External::start(engine).await;
    let client = &external.setup.client;
    let key = external.setup.key();
    let mut device = external
        .connect(Version::V5, &login(Form::Namespace, client, key))
        .await;
    let row = disconnect_all(&external.setup.tenant, client).await;
    assert_eq!(
        row.revocation.map(|r| r.reason),
        Some(RevocationReason::SessionsDisconnected)
    );
    assert!(
        device.closed_within(Duration::from_secs(5)).await,
        "the session on the external broker was not closed; the broker's log:\n{}",
        external.broker.stderr()
    );
    assert!(external.revocations_done().await, "rmqtt confirmed");
    let mut again = external
        .connect(Version::V5, &login(Form::Namespace, client, key))
        .await;
    let t = topic(client, "back");
    assert_eq!(again.subscribe(&t).await, 1, "the same key works there too");
    again.disconnect().await;
    external.stop().await;
}

#[engines]
async fn another_organization_can_neither_read_clear_nor_disconnect(engine: Engine) {
    let setup = Setup::with(engine, two_free_then_locked).await;
    let intruder = setup.app.sign_up("Globex").await;
    let id = setup.client.connection.client_id.to_string();
    // A live session, then wrong keys from the same address: the address is locked for the client.
    let mut device = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::ClientIdUsername, &setup.client, setup.key()),
    )
    .await
    .expect("connects");
    for _ in 0..3 {
        assert_eq!(refused(&setup, &wrong(&setup)).await, Some(Refused(0x86)));
    }
    // The first wrong key's audit row is written beside the refusal, not before it: wait for it,
    // so that the count below is the one the intruder must leave alone.
    assert!(
        crate::support::eventually(Duration::from_secs(5), || async {
            count_rows(
                &setup.app.db,
                "audit_events WHERE action = 'mqtt.auth_failed'",
            )
            .await
                >= 1
        })
        .await
    );
    let outbox = count_rows(&setup.app.db, "revocation_outbox").await;
    let audit = count_rows(&setup.app.db, "audit_events").await;
    for endpoint in [
        "clients/login_activity",
        "clients/clear_lockout",
        "clients/disconnect_sessions",
    ] {
        let mut answers = Vec::new();
        for target in [id.as_str(), "nobody-has-this-id"] {
            let answer = intruder.post(endpoint, &[("client_id", target)]).await;
            assert_eq!(answer.status, 404, "{endpoint} {target}: {}", answer.body);
            let decoded = answer.decode::<serde_json::Value>();
            assert!(
                matches!(decoded, Err(AppError::NotFound(_))),
                "{endpoint}: {decoded:?}"
            );
            answers.push(format!("{decoded:?}"));
        }
        assert_eq!(
            answers[0], answers[1],
            "{endpoint} tells another organization's client from a missing one"
        );
    }
    assert_eq!(
        count_rows(&setup.app.db, "revocation_outbox").await,
        outbox,
        "no revocation"
    );
    assert_eq!(
        count_rows(&setup.app.db, "audit_events").await,
        audit,
        "no audit event"
    );
    assert!(
        !device.closed_within(Duration::from_secs(1)).await,
        "the owner's device stays connected"
    );
    assert!(
        activity(&setup.tenant, &setup.client)
            .await
            .lockout
            .is_some(),
        "the owner's client is still locked out"
    );
    assert_eq!(
        refused(&setup, &wrong(&setup)).await,
        Some(Refused(0x87)),
        "and guesses from the locked address are still refused unchecked"
    );
    device.disconnect().await;
    setup.app.stop().await;
}
