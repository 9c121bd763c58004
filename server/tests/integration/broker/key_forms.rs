//! The two forms a key is stored in, from the outside: a generated key is a SHA-256 and connects
//! without argon2id, a typed key stays argon2id, an old argon2id hash of a generated key still
//! connects and is upgraded, and what a refusal costs depends on the key presented, never on
//! whether its Client ID exists.

use crate::broker::device::{Device, Version};
use crate::broker::{Form, Setup, login};
use crate::support::{Engine, engines, stored_client};
use app::model::ClientKey;
use app::secrets::FAST_PREFIX;
use server::device_auth::sessions::StoreSessions;
use server::device_auth::{Attempt, Protocol, Report, Source};
use std::time::{Duration, Instant};

fn no_lockout(config: &mut server::config::Config) {
    config.mqtt_lockout_after = 100_000;
    config.mqtt_address_lockout_after = 100_000;
}

async fn connects(setup: &Setup, key: &str) -> bool {
    match Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, key),
    )
    .await
    {
        Ok(device) => {
            device.disconnect().await;
            true
        }
        Err(_) => false,
    }
}

/// An argon2id hash of `key` with the default parameters, as Keygate stored every key before the
/// fast form.
fn argon2id(key: &str) -> String {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    argon2::Argon2::default()
        .hash_password(
            key.as_bytes(),
            &SaltString::encode_b64(b"keygate-old-salt").unwrap(),
        )
        .unwrap()
        .to_string()
}

#[engines]
async fn a_generated_key_is_stored_fast_and_connects_without_argon2id(engine: Engine) {
    let setup = Setup::new(engine).await;
    let id = setup.client.connection.client_id.as_str();
    let stored = stored_client(&setup.app.db, id).await.unwrap();
    assert!(stored.keys.starts_with(FAST_PREFIX), "{}", stored.keys);
    let verifier = setup.app.running().device_auth.verifier();
    let (all, argon2) = (verifier.verifications(), verifier.argon2_verifications());
    assert!(connects(&setup, setup.key()).await);
    assert_eq!(verifier.verifications(), all + 1, "the key was checked");
    assert_eq!(verifier.argon2_verifications(), argon2, "without argon2id");
    assert!(!connects(&setup, ClientKey::generate().expose()).await);
    setup.app.stop().await;
}

#[engines]
async fn a_typed_key_is_stored_as_argon2id_and_verified_with_it(engine: Engine) {
    let setup = Setup::new(engine).await;
    let typed = setup
        .tenant
        .create_client("typed-key-01", "my-own-typed-key-0123", "Typed", "")
        .await
        .expect("a client with a typed key");
    let stored = stored_client(&setup.app.db, "typed-key-01").await.unwrap();
    assert!(stored.keys.starts_with("$argon2id$"), "{}", stored.keys);
    let verifier = setup.app.running().device_auth.verifier();
    let argon2 = verifier.argon2_verifications();
    let device = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &typed, "my-own-typed-key-0123"),
    )
    .await
    .expect("the typed key connects");
    device.disconnect().await;
    assert_eq!(verifier.argon2_verifications(), argon2 + 1);
    setup.app.stop().await;
}

#[engines]
async fn an_old_argon2id_hash_of_a_generated_key_verifies_and_is_upgraded(engine: Engine) {
    let setup = Setup::new(engine).await;
    let id = setup.client.connection.client_id.as_str();
    sqlx::query("UPDATE client_keys SET key_hash = $1 WHERE client_id = $2")
        .bind(argon2id(setup.key()))
        .bind(id)
        .execute(setup.app.db.pool())
        .await
        .unwrap();
    let revision = stored_client(&setup.app.db, id).await.unwrap();
    let verifier = setup.app.running().device_auth.verifier();
    let argon2 = verifier.argon2_verifications();
    assert!(
        !connects(&setup, ClientKey::generate().expose()).await,
        "another key"
    );
    assert!(
        stored_client(&setup.app.db, id)
            .await
            .unwrap()
            .keys
            .starts_with("$argon2id$"),
        "a wrong key upgrades nothing"
    );
    assert!(connects(&setup, setup.key()).await, "the old hash verifies");
    assert_eq!(verifier.argon2_verifications(), argon2 + 2);
    let upgraded = stored_client(&setup.app.db, id).await.unwrap();
    assert!(upgraded.keys.starts_with(FAST_PREFIX), "{}", upgraded.keys);
    assert_eq!(
        (upgraded.audit_events, upgraded.outbox_rows),
        (revision.audit_events + 1, revision.outbox_rows),
        "an upgrade is no change of the key: only the wrong key's failure is audited, nothing is revoked"
    );
    assert!(
        connects(&setup, setup.key()).await,
        "and the key still connects"
    );
    setup.app.stop().await;
}

#[engines]
async fn a_kgk_key_whose_bytes_are_not_random_is_refused_as_a_key(engine: Engine) {
    let setup = Setup::new(engine).await;
    // 32 zero bytes with a correct checksum: the shape of a generated key, and guessable.
    let mut bytes = vec![0u8; 32];
    bytes.extend_from_slice(&crc32fast::hash(&[0u8; 32]).to_be_bytes());
    let zeros = format!("kgk_{}", bs58::encode(bytes).into_string());
    assert!(ClientKey::checksum_ok(&zeros));
    let before = crate::support::counts(&setup.app.db).await;
    let created: Result<app::model::RevealedKey, _> = setup
        .tenant
        .call(
            "clients/create",
            &[
                ("client_id", "zeros-01"),
                ("key", &zeros),
                ("name", "Zeros"),
                ("description", ""),
            ],
        )
        .await;
    let message = crate::support::expect_field_error(created, app::model::FieldError::Key);
    assert!(message.contains("not random"), "{message}");
    let regenerated: Result<app::model::RevealedKey, _> = setup
        .tenant
        .call(
            "clients/regenerate_key",
            &[
                ("client_id", setup.client.connection.client_id.as_str()),
                ("key", &zeros),
            ],
        )
        .await;
    crate::support::expect_field_error(regenerated, app::model::FieldError::Key);
    assert_eq!(
        crate::support::counts(&setup.app.db).await,
        before,
        "nothing changed"
    );
    assert!(
        connects(&setup, setup.key()).await,
        "the old key still works"
    );
    setup.app.stop().await;
}

/// How long `device_auth` takes to refuse `key` for each username of `usernames`, `rounds` times
/// each, taking turns (so that whatever else the machine does weighs on every one alike), from one
/// address with the lock-outs off; each username's times, sorted.
async fn refusal_times(
    setup: &Setup,
    usernames: &[&str],
    key: &str,
    rounds: usize,
) -> Vec<Vec<Duration>> {
    let auth = &setup.app.running().device_auth;
    let sessions = StoreSessions {
        db: setup.app.db.clone(),
        broker: "timing".into(),
    };
    let mut times = vec![Vec::with_capacity(rounds); usernames.len()];
    for _ in 0..rounds {
        for (username, times) in usernames.iter().zip(&mut times) {
            let attempt = Attempt::new(Report {
                username: Some(username),
                client_identifier: setup.client.connection.client_id.as_str(),
                password: Some(key.as_bytes()),
                source: Source::Reported(Some("10.9.9.9")),
                protocol: Protocol::V5,
                will_topic: None,
            });
            let started = Instant::now();
            let refused = auth.authenticate(&attempt, &sessions).await;
            times.push(started.elapsed());
            assert!(refused.is_err(), "a wrong key is refused");
        }
    }
    for t in &mut times {
        t.sort();
    }
    times
}

fn median(times: &[Duration]) -> Duration {
    times[times.len() / 2]
}

/// Whether two sets of times have medians within a quarter of each other (plus a millisecond of
/// scheduling noise): what a device measuring refusals could tell apart, and could not.
fn alike(a: &[Duration], b: &[Duration]) -> bool {
    let (a, b) = (median(a), median(b));
    let (low, high) = (a.min(b), a.max(b));
    high - low <= high / 4 + Duration::from_millis(1)
}

#[engines]
async fn an_unknown_client_id_costs_what_a_wrong_key_of_the_same_kind_costs(engine: Engine) {
    let setup = Setup::with(engine, no_lockout).await;
    let client = setup.client.connection.client_id.as_str();
    // A client with a typed key, for the slow kind.
    setup
        .tenant
        .create_client("typed-key-01", "my-own-typed-key-0123", "Typed", "")
        .await
        .expect("a client with a typed key");
    // The first failure of each is audited at once, the rest in a summary: out of the way first.
    refusal_times(
        &setup,
        &[client, "typed-key-01", "c-nobody00"],
        "warm-up-wrong-key-0",
        1,
    )
    .await;

    let generated = ClientKey::generate();
    let times = refusal_times(&setup, &[client, "c-nobody00"], generated.expose(), 60).await;
    let (wrong, unknown) = (&times[0], &times[1]);
    assert!(
        alike(wrong, unknown),
        "a generated-format key: wrong key {wrong:?}, unknown Client ID {unknown:?}"
    );
    assert!(
        median(wrong) < Duration::from_millis(10),
        "no argon2id for a generated key: {wrong:?}"
    );

    // A typed guess costs argon2id whoever it names: a typed-key client, an unknown Client ID, or
    // a client whose key is generated (so what a guess costs never says what kind of key it is).
    let times = refusal_times(
        &setup,
        &["typed-key-01", "c-nobody00", client],
        "someone-typed-this-0",
        12,
    )
    .await;
    let (wrong, unknown, against_generated) = (&times[0], &times[1], &times[2]);
    assert!(
        alike(wrong, unknown) && alike(wrong, against_generated),
        "a typed key: wrong key {wrong:?}, unknown Client ID {unknown:?}, a generated key's client {against_generated:?}"
    );
    assert!(
        median(wrong) > median(&refusal_times(&setup, &[client], generated.expose(), 12).await[0]),
        "argon2id is slower than a SHA-256"
    );
    setup.app.stop().await;
}
