//! Revocations reach live sessions: regenerate, deactivate and delete close every connection of
//! the client, whatever identifiers they used, and the old key cannot reconnect.

use crate::broker::device::{Device, VERSIONS, Version};
use crate::broker::{Form, Setup, login, topic};
use crate::support::{Engine, TestApp, engines, eventually, outbox_done};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Both protocol versions connected, in two different forms (two client identifiers).
async fn connected(setup: &Setup, key: &str) -> Vec<Device> {
    let mut devices = Vec::new();
    for (version, form) in VERSIONS
        .into_iter()
        .zip([Form::Namespace, Form::ClientIdUsername])
    {
        devices.push(
            Device::connect(version, &setup.tcp(), &login(form, &setup.client, key))
                .await
                .expect("connects"),
        );
    }
    devices
}

async fn all_closed(devices: &mut [Device]) {
    for device in devices {
        assert!(
            device.closed_within(Duration::from_secs(3)).await,
            "the live session was closed"
        );
    }
}

async fn refused(setup: &Setup, key: &str) -> bool {
    Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, key),
    )
    .await
    .is_err()
}

#[engines]
async fn regenerate_closes_live_sessions_and_the_new_key_connects(engine: Engine) {
    let setup = Setup::new(engine).await;
    let mut devices = connected(&setup, setup.key()).await;
    let (new_key, _) = setup.regenerate().await;
    all_closed(&mut devices).await;
    assert!(
        refused(&setup, setup.key()).await,
        "the old key cannot reconnect"
    );
    assert!(
        !refused(&setup, new_key.expose()).await,
        "the new key connects at once"
    );
    setup.app.stop().await;
}

/// The revocation closes the old sessions twice, the second time half a second later for a CONNECT
/// that was verified with the old key just before the change. A device that reconnects with its
/// new key in that half second must not be closed by it.
#[engines]
async fn a_device_that_takes_up_the_new_key_at_once_stays_connected(engine: Engine) {
    let setup = Setup::new(engine).await;
    let mut devices = connected(&setup, setup.key()).await;
    let (new_key, _) = setup.regenerate().await;
    all_closed(&mut devices).await;
    let mut device = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, new_key.expose()),
    )
    .await
    .expect("the new key connects at once");
    assert!(
        !device.closed_within(Duration::from_secs(2)).await,
        "the session on the new key stays open past the second pass"
    );
    let t = topic(&setup.client, "still-here");
    assert_eq!(device.subscribe(&t).await, 1);
    assert_eq!(device.publish(&t, b"yes").await, 0);
    assert!(device.message(Duration::from_secs(5)).await.is_some());
    device.disconnect().await;
    setup.app.stop().await;
}

/// The moment the dashboard answers, before the revocation worker has closed the old sessions, the
/// device connects with its new key: every time, it gets in (it read the client after the change,
/// so nothing of the revocation concerns it) and stays.
#[engines]
async fn a_device_that_takes_up_the_new_key_at_once_is_never_refused(engine: Engine) {
    let setup = Setup::new(engine).await;
    let broker = setup.app.mqtt.expect("the embedded broker runs");
    let id = setup.client.connection.client_id.to_string();
    let mut refused = Vec::new();
    let mut held = Vec::new();
    for round in 0..30 {
        let (key, _) = setup.regenerate().await;
        let raw = crate::broker::raw::connect_from(
            "127.0.0.1".parse().unwrap(),
            broker,
            &format!("{id}-{round}"),
            &id,
            key.expose(),
        )
        .await;
        if raw.ack.code == 0 {
            held.push(raw);
        } else {
            refused.push((round, raw.ack.code));
        }
    }
    assert!(
        refused.is_empty(),
        "the new key was refused in rounds {refused:?}"
    );
    setup.app.stop().await;
}

/// A CONNECT reads its client, then verifies the key (argon2id: behind a queue of others in a
/// connect storm, or slow on its own). The key is regenerated meanwhile, and the revocation is
/// delivered before this device is connected: however long after that its (old) key is found right,
/// it must not get a session.
#[engines]
async fn a_connect_checked_against_the_old_key_is_refused_however_late_it_finishes(engine: Engine) {
    let setup = Arc::new(Setup::new(engine).await);
    // The stored hash of the current key costs about four seconds to verify: the connect is still
    // being checked well after both passes of the revocation below, even on a loaded machine.
    slow_down(
        &setup.app.db,
        setup.client.connection.client_id.as_str(),
        setup.key(),
        Duration::from_secs(4),
    )
    .await;
    let late = {
        let setup = setup.clone();
        tokio::spawn(async move {
            let result = Device::connect(
                Version::V5,
                &setup.tcp(),
                &login(Form::Namespace, &setup.client, setup.key()),
            )
            .await;
            (result, Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (new_key, _) = setup.regenerate().await;
    let regenerated = Instant::now();

    let (result, answered) = late.await.unwrap();
    let after = answered.saturating_duration_since(regenerated);
    assert!(
        after > Duration::from_millis(700),
        "the connect was answered {after:?} after the change, before the second pass was over"
    );
    match result {
        Err(refused) => assert_eq!(refused.0, 0x87, "refused as not authorized"),
        Ok(mut device) => assert!(
            device.closed_within(Duration::from_secs(3)).await,
            "a session checked against the revoked key stayed open"
        ),
    }
    // The device, told no, tries again: with the old key it stays out; with the new one it is in.
    assert!(refused(&setup, setup.key()).await);
    assert!(!refused(&setup, new_key.expose()).await);
    Arc::into_inner(setup)
        .expect("no other owners")
        .app
        .stop()
        .await;
}

/// Stores, for `client_id`, a hash of its `key` that takes about `target` to verify (a connect
/// storm ahead of it, say).
pub(crate) async fn slow_down(db: &app::store::Db, client_id: &str, key: &str, target: Duration) {
    sqlx::query("UPDATE client_keys SET key_hash = $1 WHERE client_id = $2")
        .bind(slow_hash(key, target))
        .bind(client_id)
        .execute(db.pool())
        .await
        .unwrap();
}

/// An argon2id hash of `key` that takes about `target` to verify on this machine: the usual
/// memory, more passes, timed against a hash with the usual two.
fn slow_hash(key: &str, target: Duration) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    let salt = SaltString::encode_b64(b"keygate-slow-salt").unwrap();
    let hash = |passes: u32| {
        let params = Params::new(19 * 1024, passes, 1, None).unwrap();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(key.as_bytes(), &salt)
            .unwrap()
            .to_string()
    };
    // The fastest of three: tests running alongside can only make a pass look dearer, and then
    // the hash would verify sooner than `target`.
    let per_pass = (0..3)
        .map(|_| {
            let started = Instant::now();
            hash(2);
            started.elapsed() / 2
        })
        .min()
        .unwrap();
    let passes = (target.as_secs_f64() / per_pass.as_secs_f64()).ceil() as u32;
    hash(passes.max(2))
}

#[engines]
async fn deactivate_closes_live_sessions_until_activated(engine: Engine) {
    let setup = Setup::new(engine).await;
    let mut devices = connected(&setup, setup.key()).await;
    setup.set_active(false).await;
    all_closed(&mut devices).await;
    assert!(refused(&setup, setup.key()).await);
    setup.set_active(true).await;
    connected(&setup, setup.key()).await;
    setup.app.stop().await;
}

#[engines]
async fn delete_closes_live_sessions(engine: Engine) {
    let setup = Setup::new(engine).await;
    let mut devices = connected(&setup, setup.key()).await;
    let () = setup
        .tenant
        .call(
            "clients/delete",
            &[("client_id", setup.client.connection.client_id.as_str())],
        )
        .await
        .unwrap();
    all_closed(&mut devices).await;
    assert!(refused(&setup, setup.key()).await);
    // Delivered: the outbox row is done.
    let id = setup.client.connection.client_id.as_str();
    assert!(
        eventually(Duration::from_secs(5), || async {
            outbox_done(&setup.app.db, id).await.last() == Some(&true)
        })
        .await,
        "the revocation was never marked delivered"
    );
    setup.app.stop().await;
}

#[engines]
async fn revocations_committed_before_a_crash_are_delivered_after_the_restart(engine: Engine) {
    // A server whose worker never delivers (no embedded broker): the state a crash between the
    // commit and the push leaves behind.
    let app = TestApp::spawn_with(engine, |c| c.no_broker = true).await;
    let tenant = app.sign_up("Acme Devices").await;
    let client = tenant.new_client("Boiler").await;
    let id = client.connection.client_id.to_string();
    let () = tenant
        .call("clients/delete", &[("client_id", &id)])
        .await
        .unwrap();
    let rows = app::store::outbox::list_for_client(&app.db, &id)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, None, "committed, not delivered");
    let database = app.stop_keeping_database().await;

    // Restarted with its broker, the server delivers what was left.
    let app = TestApp::spawn_on(database, |_| {}).await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            outbox_done(&app.db, &id).await == [true]
        })
        .await,
        "the revocation left by the first run was never delivered"
    );
    app.stop().await;
}
