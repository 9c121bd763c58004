//! The back-off, tried as an attacker and as a neighbour would: guessing a client's key is bounded
//! across all addresses, guessing names is bounded per address, padding a name or sending a burst
//! in parallel buys no extra guesses, and none of it keeps out a device that has the right key and
//! has not been failing. Refused logins are audited without one row per attempt.

use crate::broker::device::{Device, Login, Refused, Version};
use crate::broker::raw::code_from;
use crate::broker::{Form, Setup, login};
use crate::support::{Engine, count_rows, engines};
use app::model::ClientKey;
use sqlx::Row;
use std::net::SocketAddr;
use std::time::Duration;

async fn refused(setup: &Setup, login: &Login) -> Option<Refused> {
    match Device::connect(Version::V5, &setup.tcp(), login).await {
        Ok(d) => {
            d.disconnect().await;
            None
        }
        Err(r) => Some(r),
    }
}

fn verifications(setup: &Setup) -> u64 {
    setup.app.running().device_auth.verifier().verifications()
}

fn mqtt(setup: &Setup) -> SocketAddr {
    setup.app.mqtt.expect("the embedded broker runs")
}

#[engines]
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
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    let before = verifications(&setup);
    assert_eq!(
        refused(&setup, &right).await,
        Some(Refused(0x87)),
        "locked out: even the right key is refused (it was never proven right before)"
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
        verifications(&setup),
        before,
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
    // The success cleared this address's count for the client: two failures are free again.
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    assert_eq!(refused(&setup, &right).await, None);
    setup.app.stop().await;
}

#[engines]
async fn a_key_proven_right_before_passes_the_lockout_and_guesses_cost_nothing(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_after = 1;
        c.mqtt_lockout_ms = 60_000;
    })
    .await;
    let right = login(Form::Namespace, &setup.client, setup.key());
    let wrong = login(
        Form::Namespace,
        &setup.client,
        ClientKey::generate().expose(),
    );
    assert_eq!(refused(&setup, &right).await, None, "proven right once");
    for _ in 0..2 {
        assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x86)));
    }
    let before = verifications(&setup);
    assert_eq!(refused(&setup, &wrong).await, Some(Refused(0x87)), "locked");
    assert_eq!(
        refused(&setup, &right).await,
        None,
        "a key verified right before is no guess: it costs no argon2id and passes the lock-out"
    );
    assert_eq!(
        verifications(&setup),
        before,
        "neither the guess nor the proven key ran argon2id"
    );
    setup.app.stop().await;
}

#[engines]
async fn the_address_lockout_bounds_guessing_names_and_spares_real_clients(engine: Engine) {
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
    let before = verifications(&setup);
    let guess = Login::new("c-guess9999", &ns, "kgk_guessing-a-key-here");
    assert_eq!(
        refused(&setup, &guess).await,
        Some(Refused(0x87)),
        "the address is locked out for names that do not exist"
    );
    assert_eq!(verifications(&setup), before, "at no argon2id cost");
    let right = login(Form::Namespace, &setup.client, setup.key());
    assert_eq!(
        refused(&setup, &right).await,
        None,
        "a client that exists is not refused for other names' failures"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        refused(&setup, &guess).await,
        Some(Refused(0x86)),
        "released"
    );
    setup.app.stop().await;
}

#[engines]
async fn padded_usernames_share_the_back_off(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_after = 2;
        c.mqtt_address_lockout_after = 1000;
        c.mqtt_lockout_ms = 60_000;
    })
    .await;
    let id = setup.client.connection.client_id.to_string();
    let variants = [
        format!(" {id}"),
        format!("{id}\t"),
        format!("\u{a0}{id}"),
        format!("{id}\u{200b}"),
        format!("\u{feff}{id}"),
        format!("{id} "),
    ];
    // Padding is not the Client ID: even the right key does not get in with it (form 3 takes the
    // username as the Client ID, exactly).
    let padded = Login::new("sensor-1", &variants[0], setup.key());
    assert_eq!(refused(&setup, &padded).await, Some(Refused(0x86)));
    // Guessing through padded variants: one counter for all of them, not one each.
    let before = verifications(&setup);
    for variant in &variants {
        let guess = Login::new("sensor-1", variant, ClientKey::generate().expose());
        let answer = refused(&setup, &guess).await;
        assert!(answer.is_some(), "{variant:?} got in");
    }
    assert!(
        verifications(&setup) - before <= 2,
        "the variants shared one counter: {} verifications for {} attempts",
        verifications(&setup) - before,
        variants.len()
    );
    // And none of it locked the real client out.
    let right = login(Form::ClientIdUsername, &setup.client, setup.key());
    assert_eq!(refused(&setup, &right).await, None);
    setup.app.stop().await;
}

#[engines]
async fn a_parallel_burst_runs_no_more_verifications_than_the_back_off_allows(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_after = 3;
        c.mqtt_address_lockout_after = 1000;
        c.mqtt_lockout_ms = 60_000;
    })
    .await;
    let before = verifications(&setup);
    let broker = mqtt(&setup);
    let ns = setup.client.connection.username_namespace().to_owned();
    let id = setup.client.connection.client_id.to_string();
    let burst: Vec<_> = (0..30)
        .map(|_| {
            let (ns, id) = (ns.clone(), id.clone());
            tokio::spawn(async move {
                code_from(
                    "127.0.0.1",
                    broker,
                    &id,
                    &ns,
                    ClientKey::generate().expose(),
                )
                .await
            })
        })
        .collect();
    let mut codes = Vec::new();
    for attempt in burst {
        codes.push(attempt.await.unwrap());
    }
    assert!(codes.iter().all(|c| *c == 5), "all refused: {codes:?}");
    let ran = verifications(&setup) - before;
    assert!(
        ran <= 4,
        "three failures are free and the fourth locks: {ran} argon2id verifications for a burst of 30"
    );
    setup.app.stop().await;
}

#[engines]
async fn a_nat_neighbour_is_not_refused_for_deleted_clients_retrying(engine: Engine) {
    let setup = Setup::new(engine).await;
    let broker = mqtt(&setup);
    let ns = setup.client.connection.username_namespace().to_owned();
    // 25 devices of one site, whose clients were deleted, keep retrying from the site's one NAT
    // address with their old keys, each naming its own client (form 3).
    let mut gone = Vec::new();
    for i in 0..25 {
        let client = setup.tenant.new_client(&format!("Retired {i}")).await;
        gone.push(client);
    }
    for client in &gone {
        let () = setup
            .tenant
            .call(
                "clients/delete",
                &[("client_id", client.connection.client_id.as_str())],
            )
            .await
            .unwrap();
    }
    for round in 0..2 {
        for client in &gone {
            let code = code_from(
                "127.0.0.3",
                broker,
                &format!("device-of-{}", client.connection.client_id),
                client.connection.client_id.as_str(),
                client.key.expose(),
            )
            .await;
            assert_eq!(code, 5, "round {round}");
        }
    }
    // A neighbour behind the same address, with the right key of a client that never failed.
    let id = setup.client.connection.client_id.to_string();
    assert_eq!(
        code_from("127.0.0.3", broker, &id, &ns, setup.key()).await,
        0,
        "the neighbour is let in"
    );
    setup.app.stop().await;
}

#[engines]
async fn knowing_a_client_id_is_not_enough_to_keep_its_device_out(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_ms = 60_000;
    })
    .await;
    let broker = mqtt(&setup);
    let ns = setup.client.connection.username_namespace().to_owned();
    let id = setup.client.connection.client_id.to_string();
    // The device has connected from its address before.
    assert_eq!(
        code_from("127.0.0.4", broker, &id, &ns, setup.key()).await,
        0
    );
    // Someone who knows the Client ID guesses from elsewhere until the client is locked.
    for _ in 0..8 {
        let code = code_from(
            "127.0.0.5",
            broker,
            &id,
            &ns,
            ClientKey::generate().expose(),
        )
        .await;
        assert_eq!(code, 5);
    }
    let before = verifications(&setup);
    assert_eq!(
        code_from("127.0.0.6", broker, &id, &ns, "kgk_still-guessing-here").await,
        5
    );
    assert_eq!(
        verifications(&setup),
        before,
        "guessing from a new address is locked out, at no argon2id cost"
    );
    // The owner regenerates the key (no verified key is cached any more); the device, from its
    // own address, with the new key, gets in.
    let (key, _) = setup.regenerate().await;
    assert_eq!(
        code_from("127.0.0.4", broker, &id, &ns, key.expose()).await,
        0,
        "the device with the right key is not kept out by someone else's guesses"
    );
    setup.app.stop().await;
}

#[engines]
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
    // Written beside the refusal (see `Failures::audit`): it lands a moment later.
    let mut first = Vec::new();
    for _ in 0..50 {
        first = rows(db.pool().clone()).await;
        if !first.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
