//! Revocations reach live sessions: regenerate, deactivate and delete close every connection of
//! the client, whatever identifiers they used, and the old key cannot reconnect.

use crate::device::{Device, VERSIONS, Version};
use crate::support::{Engine, TestApp};
use crate::{Form, Setup, login};
use app::model::{ClientKey, RevealedKey};
use std::time::Duration;

crate::engines!(
    regenerate_closes_live_sessions_and_the_new_key_connects,
    deactivate_closes_live_sessions_until_activated,
    delete_closes_live_sessions,
    revocations_committed_before_a_crash_are_delivered_after_the_restart,
);

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

async fn regenerate_closes_live_sessions_and_the_new_key_connects(engine: Engine) {
    let setup = Setup::new(engine).await;
    let mut devices = connected(&setup, setup.key()).await;
    let new_key = ClientKey::generate();
    let _: RevealedKey = setup
        .tenant
        .call(
            "clients/regenerate_key",
            &[
                ("client_id", setup.client.connection.client_id.as_str()),
                ("key", new_key.expose()),
            ],
        )
        .await
        .unwrap();
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
    for _ in 0..50 {
        let rows = app::store::outbox::list_for_client(
            &setup.app.db,
            setup.client.connection.client_id.as_str(),
        )
        .await
        .unwrap();
        if rows.last().is_some_and(|(_, done)| done.is_some()) {
            setup.app.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the revocation was never marked delivered");
}

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
    for _ in 0..50 {
        let rows = app::store::outbox::list_for_client(&app.db, &id)
            .await
            .unwrap();
        if rows[0].1.is_some() {
            app.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the revocation left by the first run was never delivered");
}
