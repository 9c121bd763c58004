//! CONNECT: every form in both protocol versions, and every reason a key stops working.

use crate::broker::device::{Device, Login, Refused, VERSIONS, Version};
use crate::broker::{FORMS, Setup, login, topic};
use crate::support::{Engine, engines};
use app::model::ClientKey;
use std::time::Duration;

/// The CONNACK code for a bad key: 3.1.1 has only "not authorized" (5) for us, MQTT 5 says 0x86.
fn bad_key(version: Version) -> Refused {
    match version {
        Version::V311 => Refused(5),
        Version::V5 => Refused(0x86),
    }
}

/// The CONNACK code for a right key that may not connect: 5, or MQTT 5's 0x87.
fn not_authorized(version: Version) -> Refused {
    match version {
        Version::V311 => Refused(5),
        Version::V5 => Refused(0x87),
    }
}

/// Lock-outs would turn the many deliberate failures below into "throttled"; they have their own
/// test.
fn no_lockout(config: &mut server::config::Config) {
    config.mqtt_lockout_after = 1000;
    config.mqtt_address_lockout_after = 1000;
}

async fn connects(setup: &Setup, version: Version, login: &Login) -> bool {
    match Device::connect(version, &setup.tcp(), login).await {
        Ok(device) => {
            device.disconnect().await;
            true
        }
        Err(refused) => {
            // Shown with a failing test's output: a refusal code, or 0xFF for a network error.
            eprintln!(
                "{version:?} connect of {} refused: {refused:?}",
                login.client_identifier
            );
            false
        }
    }
}

#[engines]
async fn every_form_connects_and_round_trips(engine: Engine) {
    let setup = Setup::new(engine).await;
    for version in VERSIONS {
        for form in FORMS {
            let login = login(form, &setup.client, setup.key());
            let mut device = Device::connect(version, &setup.tcp(), &login)
                .await
                .unwrap_or_else(|r| panic!("{form:?} {version:?} refused: {r:?}"));
            let t = topic(&setup.client, &format!("{form:?}-{version:?}"));
            assert_eq!(
                device.subscribe(&t).await,
                1,
                "{form:?} {version:?}: granted QoS 1"
            );
            assert_eq!(
                device.publish(&t, b"21.5").await,
                0,
                "{form:?} {version:?}: PUBACK"
            );
            let (got_topic, payload) = device
                .message(Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("{form:?} {version:?}: the message came back"));
            assert_eq!(
                (got_topic.as_str(), payload.as_slice()),
                (t.as_str(), &b"21.5"[..])
            );
            device.disconnect().await;
        }
    }
    setup.app.stop().await;
}

#[engines]
async fn wrong_and_unknown_credentials_are_refused(engine: Engine) {
    let setup = Setup::with(engine, no_lockout).await;
    let other = setup.tenant.new_client("Another sensor").await;
    let wrong = ClientKey::generate();
    for version in VERSIONS {
        for form in FORMS {
            let refused = Device::connect(
                version,
                &setup.tcp(),
                &login(form, &setup.client, wrong.expose()),
            )
            .await
            .err();
            assert_eq!(
                refused,
                Some(bad_key(version)),
                "wrong key, {form:?} {version:?}"
            );
            // Another client's key does not open this one.
            let refused = Device::connect(
                version,
                &setup.tcp(),
                &login(form, &setup.client, other.key.expose()),
            )
            .await
            .err();
            assert_eq!(
                refused,
                Some(bad_key(version)),
                "other client's key, {form:?} {version:?}"
            );
        }
        let c = &setup.client.connection;
        let cases = [
            (
                "unknown Client ID",
                Login::new("c-doesnotexist", c.username_namespace(), setup.key()),
            ),
            (
                "unknown Client ID as username",
                Login::new("dev", "c-doesnotexist", setup.key()),
            ),
            (
                "wrong organization",
                Login::new(
                    "dev",
                    &format!("{}@00000000-0000-0000-0000-000000000000", c.client_id),
                    setup.key(),
                ),
            ),
            (
                "right id, namespace of nobody",
                Login::new(c.client_id.as_str(), "no-such-namespace", setup.key()),
            ),
            (
                "no username",
                Login {
                    username: None,
                    ..Login::new(c.client_id.as_str(), "", setup.key())
                },
            ),
            (
                "no password",
                Login {
                    password: None,
                    ..Login::new(c.client_id.as_str(), c.username_namespace(), "")
                },
            ),
        ];
        for (what, login) in cases {
            let refused = Device::connect(version, &setup.tcp(), &login).await.err();
            assert_eq!(refused, Some(bad_key(version)), "{what}, {version:?}");
        }
    }
    // The client itself is untouched by all of that.
    assert!(
        connects(
            &setup,
            Version::V5,
            &login(crate::broker::Form::Namespace, &setup.client, setup.key())
        )
        .await
    );
    setup.app.stop().await;
}

#[engines]
async fn inactive_clients_are_refused_until_activated(engine: Engine) {
    let setup = Setup::with(engine, no_lockout).await;
    setup.set_active(false).await;
    for version in VERSIONS {
        for form in FORMS {
            let refused = Device::connect(
                version,
                &setup.tcp(),
                &login(form, &setup.client, setup.key()),
            )
            .await
            .err();
            assert_eq!(
                refused,
                Some(not_authorized(version)),
                "inactive, {form:?} {version:?}"
            );
            // A wrong key for an inactive client says "bad key", as for any client: only the key's
            // holder learns that the client is inactive.
            let refused = Device::connect(
                version,
                &setup.tcp(),
                &login(form, &setup.client, ClientKey::generate().expose()),
            )
            .await
            .err();
            assert_eq!(
                refused,
                Some(bad_key(version)),
                "inactive, wrong key, {form:?} {version:?}"
            );
        }
    }
    setup.set_active(true).await;
    for version in VERSIONS {
        for form in FORMS {
            assert!(
                connects(&setup, version, &login(form, &setup.client, setup.key())).await,
                "activated again, {form:?} {version:?}"
            );
        }
    }
    setup.app.stop().await;
}

#[engines]
async fn the_old_key_stops_and_the_new_one_works_after_regenerate(engine: Engine) {
    let setup = Setup::with(engine, no_lockout).await;
    // Connect first, so the old key is in the verification cache.
    assert!(
        connects(
            &setup,
            Version::V311,
            &login(crate::broker::Form::Namespace, &setup.client, setup.key())
        )
        .await
    );
    let (new_key, revealed) = setup.regenerate().await;
    for version in VERSIONS {
        for form in FORMS {
            let refused = Device::connect(
                version,
                &setup.tcp(),
                &login(form, &setup.client, setup.key()),
            )
            .await
            .err();
            assert_eq!(
                refused,
                Some(bad_key(version)),
                "old key, {form:?} {version:?}"
            );
            assert!(
                connects(&setup, version, &login(form, &revealed, new_key.expose())).await,
                "new key, {form:?} {version:?}"
            );
        }
    }
    setup.app.stop().await;
}

#[engines]
async fn deleted_clients_are_refused(engine: Engine) {
    let setup = Setup::with(engine, no_lockout).await;
    assert!(
        connects(
            &setup,
            Version::V5,
            &login(crate::broker::Form::Namespace, &setup.client, setup.key())
        )
        .await
    );
    let () = setup
        .tenant
        .call(
            "clients/delete",
            &[("client_id", setup.client.connection.client_id.as_str())],
        )
        .await
        .expect("delete");
    for version in VERSIONS {
        for form in FORMS {
            let refused = Device::connect(
                version,
                &setup.tcp(),
                &login(form, &setup.client, setup.key()),
            )
            .await
            .err();
            assert_eq!(
                refused,
                Some(bad_key(version)),
                "deleted, {form:?} {version:?}"
            );
        }
    }
    setup.app.stop().await;
}

#[engines]
async fn verifications_are_cached_and_unknown_ids_cost_as_much(engine: Engine) {
    let setup = Setup::with(engine, no_lockout).await;
    let verifier = || setup.app.running().device_auth.verifier().verifications();
    let right = login(crate::broker::Form::Namespace, &setup.client, setup.key());

    let before = verifier();
    assert!(connects(&setup, Version::V5, &right).await);
    assert_eq!(verifier(), before + 1, "the first connect runs argon2id");
    assert!(connects(&setup, Version::V311, &right).await);
    assert!(
        connects(
            &setup,
            Version::V5,
            &login(
                crate::broker::Form::WithOrganization,
                &setup.client,
                setup.key()
            )
        )
        .await
    );
    assert_eq!(
        verifier(),
        before + 1,
        "reconnects with the same key come from the cache"
    );

    let wrong = login(
        crate::broker::Form::Namespace,
        &setup.client,
        ClientKey::generate().expose(),
    );
    assert!(
        Device::connect(Version::V5, &setup.tcp(), &wrong)
            .await
            .is_err()
    );
    assert_eq!(
        verifier(),
        before + 2,
        "a wrong key is verified, never cached"
    );
    assert!(
        Device::connect(Version::V5, &setup.tcp(), &wrong)
            .await
            .is_err()
    );
    assert_eq!(verifier(), before + 3, "and verified again");

    let unknown = Login::new(
        "c-nobody00",
        setup.client.connection.username_namespace(),
        setup.key(),
    );
    assert!(
        Device::connect(Version::V5, &setup.tcp(), &unknown)
            .await
            .is_err()
    );
    assert_eq!(
        verifier(),
        before + 4,
        "an unknown Client ID pays for a verification too"
    );

    // Any change of the client forgets its cache entry.
    setup.set_active(true).await;
    assert!(connects(&setup, Version::V5, &right).await);
    assert_eq!(
        verifier(),
        before + 5,
        "after a change the key is verified again"
    );
    setup.app.stop().await;
}
