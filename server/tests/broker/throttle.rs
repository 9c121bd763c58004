//! Failed logins are rate limited per Client ID and per source address, with a back-off that
//! grows, and audited without one row per attempt.

use crate::device::{Device, Login, Refused, Version};
use crate::support::{Engine, count_rows};
use crate::{Form, Setup, login};
use app::model::ClientKey;
use sqlx::Row;
use std::time::Duration;

crate::engines!(
    the_client_lockout_engages_grows_and_releases,
    the_address_lockout_covers_every_client_id,
    failures_are_audited_in_aggregate,
);

async fn refused(setup: &Setup, login: &Login) -> Option<Refused> {
    match Device::connect(Version::V5, &setup.tcp(), login).await {
        Ok(d) => {
            d.disconnect().await;
            None
        }
        Err(r) => Some(r),
    }
}

async fn the_client_lockout_engages_grows_and_releases(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_after = 2;
        c.mqtt_address_lockout_after = 1000;
        c.mqtt_lockout_ms = 1000;
        c.mqtt_lockout_max_secs = 60;
    })
    .await;
    let right = login(Form::Namespace, &setup.client, setup.key());
    let wrong = login(
        Form::Namespace,
        &setup.client,
        ClientKey::generate().expose(),
    );

    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    assert_eq!(refused(&setup, &right).await, None, "two failures are free");
    // The success reset the count: two more are free, the third locks.
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    let verifications = setup.app.running().device_auth.verifier().verifications();
    assert_eq!(
        refused(&setup, &right).await,
        Some(Refused(0x87)),
        "locked out: even the right key is refused"
    );
    // Every form names the same client, so every form is locked.
    assert_eq!(
        refused(
            &setup,
            &login(Form::ClientIdUsername, &setup.client, setup.key())
        )
        .await,
        Some(Refused(0x87))
    );
    assert_eq!(
        setup.app.running().device_auth.verifier().verifications(),
        verifications,
        "a locked-out attempt costs no argon2id"
    );
    // 3.1.1 gets its one refusal code.
    assert_eq!(
        Device::connect(Version::V311, &setup.tcp(), &right)
            .await
            .err(),
        Some(Refused(5))
    );
    // Another client is not affected.
    let other = setup.tenant.new_client("Unaffected").await;
    assert_eq!(
        refused(&setup, &login(Form::Namespace, &other, other.key.expose())).await,
        None
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        refused(&setup, &wrong).await,
        Some(Refused(0x86)),
        "released, but wrong"
    );
    // The fourth failure locks for twice as long: still locked after the first window's length.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        refused(&setup, &right).await,
        Some(Refused(0x87)),
        "the back-off grew"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(refused(&setup, &right).await, None, "released");
    setup.app.stop().await;
}

async fn the_address_lockout_covers_every_client_id(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_after = 1000;
        c.mqtt_address_lockout_after = 3;
        c.mqtt_lockout_ms = 1000;
    })
    .await;
    let ns = setup.client.connection.username_namespace().to_owned();
    // Guessing many different Client IDs from one address.
    for i in 0..4 {
        let guess = Login::new(&format!("c-guess{i:04}"), &ns, "kgk_guessing-a-key-here");
        assert_eq!(
            refused(&setup, &guess).await,
            Some(Refused(0x86)),
            "guess {i}"
        );
    }
    let right = login(Form::Namespace, &setup.client, setup.key());
    assert_eq!(
        refused(&setup, &right).await,
        Some(Refused(0x87)),
        "the address is locked out"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(refused(&setup, &right).await, None, "released");
    setup.app.stop().await;
}

async fn failures_are_audited_in_aggregate(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_after = 1000;
        c.mqtt_address_lockout_after = 1000;
        c.mqtt_audit_window_secs = 1;
    })
    .await;
    let db = setup.app.db.clone();
    let before = count_rows(&db, "audit_events").await;
    let wrong = login(
        Form::Namespace,
        &setup.client,
        ClientKey::generate().expose(),
    );
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));

    let rows = |db: sqlx::AnyPool| async move {
        sqlx::query("SELECT action, target, detail, address FROM audit_events WHERE action = 'mqtt.auth_failed' ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("target"),
                    r.get::<String, _>("detail"),
                    r.get::<String, _>("address"),
                )
            })
            .collect::<Vec<_>>()
    };
    let first = rows(db.pool().clone()).await;
    let id = setup.client.connection.client_id.to_string();
    assert_eq!(
        first,
        vec![(id.clone(), "wrong key".to_string(), "127.0.0.1".to_string())],
        "the first failure is audited at once"
    );

    for _ in 0..8 {
        assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    }
    assert_eq!(
        rows(db.pool().clone()).await.len(),
        1,
        "later failures wait for the summary"
    );
    let mut summary = Vec::new();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        summary = rows(db.pool().clone()).await;
        if summary.len() > 1 {
            break;
        }
    }
    assert_eq!(
        summary.len(),
        2,
        "one summary row for the window: {summary:?}"
    );
    assert_eq!(summary[1].0, id);
    assert!(
        summary[1].1.starts_with("8 more (wrong key)"),
        "{}",
        summary[1].1
    );
    assert!(summary[1].1.contains("127.0.0.1"), "{}", summary[1].1);
    // Unknown Client IDs have no organization to audit to: no rows at all.
    let unknown = Login::new(
        "c-unknown0",
        setup.client.connection.username_namespace(),
        "kgk_whatever-whatever",
    );
    assert_eq!(refused(&setup, &unknown).await, Some(Refused(0x86)));
    assert_eq!(count_rows(&db, "audit_events").await, before + 2);
    setup.app.stop().await;
}
