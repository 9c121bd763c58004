//! Restricted clients on the embedded broker, from the outside: a restricted client's key lets in
//! only devices of its scope, in connection form 3, and each reaches only the topics of the
//! devices in that scope; narrowing the scope closes exactly the sessions it leaves out, at once.

use crate::broker::device::{Device, Refused, VERSIONS, Version};
use crate::broker::{Form, Setup, login};
use crate::support::{Engine, engines, eventually, unique_suffix};
use std::time::Duration;

/// SUBACK codes that refuse a subscription (3.1.1: 0x80; 5: 0x87 "not authorized").
fn refused_suback(code: u8) -> bool {
    code == 0x80 || code == 0x87
}

#[engines]
async fn a_device_in_scope_connects_and_round_trips_in_its_own_topics(engine: Engine) {
    let setup = Setup::new(engine).await;
    setup.set_access(Some("d-1, d-2"), &[]).await;
    for version in VERSIONS {
        let mut device = Device::connect(version, &setup.tcp(), &setup.device_login("d-1"))
            .await
            .expect("a device in scope connects");
        let own = setup.device_topic("d-1", "telemetry");
        assert!(!refused_suback(device.subscribe(&format!("{own}/#")).await));
        assert_eq!(device.publish(&own, b"21.5").await, 0);
        assert_eq!(
            device.message(Duration::from_secs(3)).await,
            Some((own.clone(), b"21.5".to_vec())),
            "{version:?}"
        );
        device.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn a_device_out_of_scope_or_in_another_form_is_refused(engine: Engine) {
    let setup = Setup::new(engine).await;
    setup.set_access(Some("d-1"), &[]).await;
    for version in VERSIONS {
        let code = if version == Version::V5 { 0x87 } else { 5 };
        let refused = |r: Result<Device, _>| r.err().map(|e: crate::broker::device::Refused| e.0);
        assert_eq!(
            refused(Device::connect(version, &setup.tcp(), &setup.device_login("d-9")).await),
            Some(code),
            "a device outside the scope, {version:?}"
        );
        for form in [Form::Namespace, Form::WithOrganization] {
            assert_eq!(
                refused(
                    Device::connect(
                        version,
                        &setup.tcp(),
                        &login(form, &setup.client, setup.key())
                    )
                    .await
                ),
                Some(code),
                "a restricted key in {form:?}, {version:?}"
            );
        }
        let mut padded = setup.device_login("d-1");
        padded.client_identifier = "d-1 ".into();
        assert!(
            Device::connect(version, &setup.tcp(), &padded)
                .await
                .is_err(),
            "a padded device id is not the device"
        );
    }
    setup.app.stop().await;
}

#[engines]
async fn a_device_in_scope_cannot_reach_outside_it(engine: Engine) {
    let setup = Setup::new(engine).await;
    setup.set_access(Some("d-1, d-2"), &[]).await;
    let ns = setup.client.connection.namespace.to_string();
    let mut d1 = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-1"))
        .await
        .unwrap();
    for filter in [
        format!("{ns}/devices/d-9/#"),
        format!("{ns}/#"),
        ns.clone(),
        format!("{ns}/devices/+/telemetry"),
        format!("{ns}/devices/#"),
        "#".to_owned(),
        format!("$share/g/{ns}/devices/+/x"),
    ] {
        assert!(refused_suback(d1.subscribe(&filter).await), "{filter}");
    }
    assert_eq!(
        d1.publish(&setup.device_topic("d-9", "cmd"), b"x").await,
        0x87,
        "no publishing to a device outside the scope"
    );
    // A device sees the other devices of its scope, as Losant's restricted keys promise.
    assert!(!refused_suback(
        d1.subscribe(&setup.device_topic("d-2", "#")).await
    ));
    let mut d2 = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-2"))
        .await
        .unwrap();
    let t = setup.device_topic("d-2", "state");
    assert_eq!(d2.publish(&t, b"on").await, 0);
    assert_eq!(
        d1.message(Duration::from_secs(3)).await,
        Some((t, b"on".to_vec()))
    );
    setup.app.stop().await;
}

#[engines]
async fn a_device_carrying_a_listed_tag_is_in_scope(engine: Engine) {
    let setup = Setup::new(engine).await;
    setup.tag_device("tagged-1", &["env=prod", "zone=eu"]).await;
    setup.tag_device("untagged-1", &["env=dev"]).await;
    setup.set_access(Some("env=prod"), &[]).await;
    let mut device = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("tagged-1"))
        .await
        .expect("a device with a listed tag connects");
    assert_eq!(
        device
            .publish(&setup.device_topic("tagged-1", "t"), b"1")
            .await,
        0
    );
    assert!(
        Device::connect(Version::V5, &setup.tcp(), &setup.device_login("untagged-1"))
            .await
            .is_err(),
        "a device without a listed tag is refused"
    );
    setup.app.stop().await;
}

#[engines]
async fn removing_a_device_id_from_the_scope_closes_exactly_its_session(engine: Engine) {
    let setup = Setup::new(engine).await;
    setup.set_access(Some("d-1, d-2"), &[]).await;
    let mut d1 = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-1"))
        .await
        .unwrap();
    let mut d2 = Device::connect(Version::V311, &setup.tcp(), &setup.device_login("d-2"))
        .await
        .unwrap();
    assert!(!refused_suback(
        d1.subscribe(&setup.device_topic("d-2", "#")).await
    ));

    setup.set_access(Some("d-1"), &[]).await;
    assert!(
        d2.closed_within(Duration::from_secs(5)).await,
        "the device the scope lost is closed"
    );
    assert!(
        !d1.closed_within(Duration::from_secs(1)).await,
        "the device still in scope stays"
    );
    let own = setup.device_topic("d-1", "t");
    assert!(!refused_suback(d1.subscribe(&own).await));
    assert_eq!(d1.publish(&own, b"still here").await, 0);
    assert_eq!(
        d1.message(Duration::from_secs(3)).await,
        Some((own, b"still here".to_vec()))
    );
    assert!(
        refused_suback(d1.subscribe(&setup.device_topic("d-2", "#")).await),
        "the lost device's topics are out of reach"
    );
    assert_eq!(
        Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-2"))
            .await
            .err(),
        Some(Refused(0x87)),
        "and it cannot come back"
    );
    setup.app.stop().await;
}

#[engines]
async fn removing_a_tag_from_the_scope_closes_exactly_the_devices_it_selected(engine: Engine) {
    let setup = Setup::new(engine).await;
    setup.tag_device("eu-1", &["zone=eu"]).await;
    setup.tag_device("us-1", &["zone=us"]).await;
    setup.set_access(Some("zone=eu, zone=us"), &[]).await;
    let mut eu = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("eu-1"))
        .await
        .unwrap();
    let mut us = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("us-1"))
        .await
        .unwrap();
    setup.set_access(Some("zone=eu"), &[]).await;
    assert!(us.closed_within(Duration::from_secs(5)).await);
    assert!(!eu.closed_within(Duration::from_secs(1)).await);
    setup.app.stop().await;
}

#[engines]
async fn restricting_a_client_closes_its_sessions_outside_the_new_scope(engine: Engine) {
    let setup = Setup::new(engine).await;
    let mut namespace_form = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, setup.key()),
    )
    .await
    .unwrap();
    let mut kept = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-1"))
        .await
        .unwrap();
    let mut left = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-7"))
        .await
        .unwrap();
    let ns = setup.client.connection.namespace.to_string();
    assert!(!refused_suback(kept.subscribe(&format!("{ns}/#")).await));

    setup.set_access(Some("d-1"), &[]).await;
    assert!(namespace_form.closed_within(Duration::from_secs(5)).await);
    assert!(left.closed_within(Duration::from_secs(5)).await);
    assert!(!kept.closed_within(Duration::from_secs(1)).await);
    // Its subscription to the whole namespace went with the change: a message of its own topics
    // now arrives only through a subscription the scope allows.
    assert_eq!(
        Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-7"))
            .await
            .err(),
        Some(Refused(0x87)),
        "a device outside the new scope cannot come back"
    );
    let own = setup.device_topic("d-1", "x");
    assert_eq!(kept.publish(&own, b"1").await, 0);
    assert_eq!(
        kept.message(Duration::from_millis(800)).await,
        None,
        "the namespace-wide subscription was removed"
    );
    setup.app.stop().await;
}

#[engines]
async fn an_unrestricted_client_in_form_3_fills_the_devices_page(engine: Engine) {
    let setup = Setup::new(engine).await;
    let device = format!("sensor-{}", unique_suffix());
    let _connected = Device::connect(Version::V5, &setup.tcp(), &setup.device_login(&device))
        .await
        .unwrap();
    let _form_1 = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, setup.key()),
    )
    .await
    .unwrap();
    let workspace = setup.tenant.me().await.current_workspace_id;
    let db = setup.app.db.clone();
    let expected = vec![device.clone()];
    assert!(
        eventually(Duration::from_secs(5), || {
            let (db, workspace, expected) = (db.clone(), workspace.clone(), expected.clone());
            async move {
                app::store::devices::list_ids(&db, &workspace)
                    .await
                    .unwrap()
                    == expected
            }
        })
        .await,
        "the form-3 device appears, the form-1 client identifier does not"
    );
    setup.app.stop().await;
}

#[engines]
async fn untagging_a_device_closes_exactly_its_session(engine: Engine) {
    let setup = Setup::new(engine).await;
    setup.tag_device("eu-1", &["zone=eu"]).await;
    setup.tag_device("eu-2", &["zone=eu"]).await;
    setup.set_access(Some("zone=eu"), &[]).await;
    let mut eu1 = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("eu-1"))
        .await
        .unwrap();
    let mut eu2 = Device::connect(Version::V311, &setup.tcp(), &setup.device_login("eu-2"))
        .await
        .unwrap();
    assert!(!refused_suback(
        eu1.subscribe(&setup.device_topic("eu-2", "#")).await
    ));

    setup.retag_device("eu-2", &["zone=us"]).await;
    assert!(
        eu2.closed_within(Duration::from_secs(5)).await,
        "the untagged device left the scope"
    );
    assert!(!eu1.closed_within(Duration::from_secs(1)).await);
    assert!(
        refused_suback(eu1.subscribe(&setup.device_topic("eu-2", "#")).await),
        "its topics left the others' reach"
    );
    setup.retag_device("eu-2", &["zone=us", "zone=eu"]).await;
    assert!(
        Device::connect(Version::V5, &setup.tcp(), &setup.device_login("eu-2"))
            .await
            .is_ok(),
        "tagging it again puts it in scope at its next connect"
    );
    setup.app.stop().await;
}

#[engines]
async fn deleting_a_device_closes_its_session(engine: Engine) {
    let setup = Setup::new(engine).await;
    setup.tag_device("eu-1", &["zone=eu"]).await;
    setup.set_access(Some("zone=eu"), &[]).await;
    let mut device = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("eu-1"))
        .await
        .unwrap();
    setup.delete_device("eu-1").await;
    assert!(device.closed_within(Duration::from_secs(5)).await);
    assert_eq!(
        Device::connect(Version::V5, &setup.tcp(), &setup.device_login("eu-1"))
            .await
            .err(),
        Some(Refused(0x87))
    );
    setup.app.stop().await;
}
