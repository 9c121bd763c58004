//! Importing clients with the hashes their devices already have, from files the real Mosquitto
//! tools wrote and EMQX user exports as EMQX's built-in database hashes them: the device then
//! connects to Keygate's broker with its old password (with Debian's `mosquitto_pub` for the
//! password file), a wrong one is refused, and after the
//! first login the stored hash is Keygate's own. A bad file imports nothing and says what is
//! wrong where.

use crate::broker::Setup;
use crate::broker::device::{Device, Login, Version};
use crate::support::{Engine, engines};
use app::api::imports::ImportReport;
use app::model::ClientId;
use std::process::Command;

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (apt install mosquitto): {e}"));
    assert!(status.status.success(), "{program} {args:?}: {status:?}");
}

async fn import(setup: &Setup, format: &str, text: &str, commit: bool) -> ImportReport {
    let commit = if commit { "true" } else { "false" };
    setup
        .tenant
        .call(
            "clients/import",
            &[("format", format), ("text", text), ("commit", commit)],
        )
        .await
        .expect("clients/import answers")
}

/// Connects as a device of `client_id` (username = Client ID) with `password`.
async fn connects(setup: &Setup, client_id: &str, password: &str) -> bool {
    let login = Login::new(
        &format!("dev-{}", crate::support::unique_suffix()),
        client_id,
        password,
    );
    match Device::connect(Version::V5, &setup.tcp(), &login).await {
        Ok(device) => {
            device.disconnect().await;
            true
        }
        Err(_) => false,
    }
}

/// Publishes one message with Debian's `mosquitto_pub` as a device of `client_id` (username =
/// Client ID, MQTT 5, QoS 1) with `password`: whether the broker took it.
async fn mosquitto_pub(setup: &Setup, client_id: &str, password: &str) -> bool {
    let broker = setup.app.mqtt.expect("the embedded broker runs");
    let topic = format!(
        "{}/devices/{client_id}/telemetry",
        setup.client.connection.namespace
    );
    let args: Vec<String> = [
        "-h",
        &broker.ip().to_string(),
        "-p",
        &broker.port().to_string(),
        "-V",
        "mqttv5",
        "-q",
        "1",
        "-u",
        client_id,
        "-P",
        password,
        "-i",
        &format!("dev-{}", crate::support::unique_suffix()),
        "-t",
        &topic,
        "-m",
        "hello from before the move",
    ]
    .map(String::from)
    .into();
    tokio::task::spawn_blocking(move || {
        Command::new("mosquitto_pub")
            .args(&args)
            .output()
            .expect("mosquitto_pub runs (apt install mosquitto-clients)")
            .status
            .success()
    })
    .await
    .unwrap()
}

async fn hashes(setup: &Setup, client_id: &str) -> Vec<String> {
    app::store::client_keys::list_hashes(&setup.app.db, &ClientId::parse(client_id).unwrap())
        .await
        .unwrap()
}

#[engines]
async fn a_mosquitto_password_file_imports_and_devices_keep_their_passwords(engine: Engine) {
    let setup = Setup::new(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwords");
    let file = file.to_str().unwrap();
    let suffix = crate::support::unique_suffix();
    let (alice, bob) = (format!("alice-{suffix}"), format!("bob-{suffix}"));
    run(
        "mosquitto_passwd",
        &["-c", "-b", file, &alice, "alice-old-pw"],
    );
    run("mosquitto_passwd", &["-b", file, &bob, "bob-old-pw"]);
    let text = std::fs::read_to_string(file).unwrap();

    let preview = import(&setup, "mosquitto-password-file", &text, false).await;
    assert_eq!(preview.errors, vec![]);
    assert_eq!(preview.entries.len(), 2);
    assert_eq!(preview.created, 0);
    assert!(
        hashes(&setup, &alice).await.is_empty(),
        "a preview imports nothing"
    );

    let report = import(&setup, "mosquitto-password-file", &text, true).await;
    assert_eq!((report.created, report.errors), (2, vec![]));
    assert!(hashes(&setup, &alice).await[0].starts_with("$pbkdf2-sha512$"));

    assert!(
        !connects(&setup, &alice, "alice-wrong-pw").await,
        "a wrong password"
    );
    assert!(hashes(&setup, &alice).await[0].starts_with("$pbkdf2-sha512$"));
    assert!(
        !mosquitto_pub(&setup, &alice, "alice-wrong-pw").await,
        "mosquitto_pub with a wrong password"
    );
    assert!(
        mosquitto_pub(&setup, &alice, "alice-old-pw").await,
        "mosquitto_pub with the old password"
    );
    let upgraded = hashes(&setup, &alice).await;
    assert!(upgraded[0].starts_with("$argon2id$"), "{upgraded:?}");
    assert!(connects(&setup, &alice, "alice-old-pw").await, "and again");
    assert!(!connects(&setup, &alice, "bob-old-pw").await);
    assert!(connects(&setup, &bob, "bob-old-pw").await);
    setup.app.stop().await;
}

#[engines]
async fn a_dynamic_security_file_imports_and_its_client_connects(engine: Engine) {
    let setup = Setup::new(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dynamic-security.json");
    let file = file.to_str().unwrap();
    let admin = format!("dynsec-{}", crate::support::unique_suffix());
    run(
        "mosquitto_ctrl",
        &["dynsec", "init", file, &admin, "dynsec-old-pw"],
    );
    let text = std::fs::read_to_string(file).unwrap();

    let report = import(&setup, "mosquitto-dynsec", &text, true).await;
    assert_eq!((report.created, report.errors), (1, vec![]));
    assert!(!connects(&setup, &admin, "dynsec-wrong").await);
    assert!(connects(&setup, &admin, "dynsec-old-pw").await);
    assert!(hashes(&setup, &admin).await[0].starts_with("$argon2id$"));
    setup.app.stop().await;
}

#[engines]
async fn a_bad_file_imports_nothing_and_says_what_is_wrong_by_line(engine: Engine) {
    let setup = Setup::new(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwords");
    let file = file.to_str().unwrap();
    let good = format!("good-{}", crate::support::unique_suffix());
    run("mosquitto_passwd", &["-c", "-b", file, &good, "good-pw"]);
    let line = std::fs::read_to_string(file).unwrap();
    let taken = setup.client.connection.client_id.to_string();
    let text = format!(
        "{line}garbage\nx y:$6$AAAA$AAAA\nbad:$7$101$***$AAAA\n{line}{taken}:$6$AAAA$AAAA\n"
    );
    let report = import(&setup, "mosquitto-password-file", &text, true).await;
    let positions: Vec<&str> = report.errors.iter().map(|e| e.position.as_str()).collect();
    assert_eq!(
        positions,
        ["line 2", "line 3", "line 4", "line 6", "line 5"],
        "{:?}",
        report.errors
    );
    assert!(
        report.errors[4].text.contains("also at line 1"),
        "{:?}",
        report.errors
    );
    assert_eq!(report.created, 0);
    assert!(
        hashes(&setup, &good).await.is_empty(),
        "nothing is imported"
    );

    // A Client ID in use elsewhere is found before anything is created.
    let zeros = format!("{}==", "A".repeat(86));
    let text = format!("{line}{taken}:$6$AAAA${zeros}\n");
    let report = import(&setup, "mosquitto-password-file", &text, true).await;
    assert_eq!(report.created, 0);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].position, "line 2");
    assert!(
        report.errors[0].text.contains("taken"),
        "{:?}",
        report.errors
    );
    assert!(
        hashes(&setup, &good).await.is_empty(),
        "nothing is imported"
    );

    let huge = "a".repeat(app::import::MAX_IMPORT_BYTES + 1);
    let report = import(&setup, "mosquitto-dynsec", &huge, true).await;
    assert!(
        report.errors[0].text.contains("larger than"),
        "{:?}",
        report.errors
    );
    setup.app.stop().await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Imports `text` as an EMQX export hashed with `format`, then: a wrong password is refused and
/// leaves the imported hash, the old one connects, and the stored hash is Keygate's own after.
async fn emqx_devices_keep_their_passwords(
    setup: &Setup,
    format: &str,
    text: &str,
    users: &[(&str, &str)],
) {
    let preview = import(setup, format, text, false).await;
    assert_eq!(preview.errors, vec![], "{format}");
    assert_eq!(preview.entries.len(), users.len());
    let report = import(setup, format, text, true).await;
    assert_eq!(
        (report.created, report.errors),
        (users.len(), vec![]),
        "{format}"
    );
    assert!(
        report.keys.is_empty(),
        "devices keep their passwords: no keys"
    );
    for (user, password) in users {
        let before = hashes(setup, user).await;
        assert!(
            !connects(setup, user, "not-the-password").await,
            "{format}: a wrong password"
        );
        assert_eq!(
            hashes(setup, user).await,
            before,
            "a failure changes nothing"
        );
        assert!(
            connects(setup, user, password).await,
            "{format}: {user}'s old password"
        );
        let upgraded = hashes(setup, user).await;
        assert!(
            upgraded[0].starts_with("$argon2id$"),
            "{format}: {upgraded:?}"
        );
        assert!(connects(setup, user, password).await, "{format}: and again");
    }
}

#[engines]
async fn an_emqx_export_with_the_default_hashing_imports_and_devices_keep_their_passwords(
    engine: Engine,
) {
    use app::model::{HashDigest, SaltPosition};
    let setup = Setup::new(engine).await;
    let suffix = crate::support::unique_suffix();
    let (one, two) = (format!("emqx-one-{suffix}"), format!("emqx-two-{suffix}"));
    let hash = |salt: &str, password: &str| {
        hex(&app::secrets::salted_digest(
            HashDigest::Sha256,
            SaltPosition::Suffix,
            salt.as_bytes(),
            password.as_bytes(),
        ))
    };
    // As EMQX's dashboard exports users: a header, hex hashes, salts used as the text they are.
    let csv = format!(
        "user_id,password_hash,salt,is_superuser\n{one},{},de1024f462fb83910fd13151bd4bd235,true\n{two},{},ad773b5be9dd0613fe6c2f4d8c403139,false\n",
        hash("de1024f462fb83910fd13151bd4bd235", "one-old-pw").to_uppercase(),
        hash("ad773b5be9dd0613fe6c2f4d8c403139", "two-old-pw"),
    );
    emqx_devices_keep_their_passwords(
        &setup,
        "emqx:sha256:suffix",
        &csv,
        &[(&one, "one-old-pw"), (&two, "two-old-pw")],
    )
    .await;
    setup.app.stop().await;
}

#[engines]
async fn emqx_exports_hashed_with_pbkdf2_bcrypt_or_kept_plain_import_and_connect(engine: Engine) {
    use app::model::HashDigest;
    let setup = Setup::new(engine).await;
    let suffix = crate::support::unique_suffix();

    let user = format!("emqx-pbkdf2-{suffix}");
    let hash = app::secrets::pbkdf2_digest(HashDigest::Sha512, 4096, b"salt-1", b"pbkdf2-pw", 64);
    let json = format!(
        r#"[{{"user_id": "{user}", "password_hash": "{}", "salt": "salt-1", "is_superuser": false}}]"#,
        hex(&hash)
    );
    emqx_devices_keep_their_passwords(
        &setup,
        "emqx:pbkdf2:sha512:4096",
        &json,
        &[(&user, "pbkdf2-pw")],
    )
    .await;

    let user = format!("emqx-bcrypt-{suffix}");
    let hash = bcrypt_hash("bcrypt-pw");
    let json = format!(
        r#"[{{"user_id": "{user}", "password_hash": "{hash}", "salt": "{}"}}]"#,
        &hash[..29]
    );
    emqx_devices_keep_their_passwords(&setup, "emqx:bcrypt", &json, &[(&user, "bcrypt-pw")]).await;

    // A plain password is hashed on import: no plain text is ever stored.
    let user = format!("emqx-plain-{suffix}");
    let csv = format!("user_id,password_hash\n{user},plain-pw-1\n");
    let report = import(&setup, "emqx:plain", &csv, true).await;
    assert_eq!((report.created, report.errors), (1, vec![]));
    let stored = hashes(&setup, &user).await;
    assert!(stored[0].starts_with("$argon2id$") && !stored[0].contains("plain-pw-1"));
    assert!(connects(&setup, &user, "plain-pw-1").await);
    setup.app.stop().await;
}

/// A bcrypt hash at EMQX's lowest cost (5), as EMQX writes it (`$2b$`).
fn bcrypt_hash(password: &str) -> String {
    bcrypt::hash_with_salt(password, 5, *b"keygate-tst-salt")
        .unwrap()
        .format_for_version(bcrypt::Version::TwoB)
}

#[engines]
async fn a_bad_emqx_export_imports_nothing_and_names_each_line(engine: Engine) {
    let setup = Setup::new(engine).await;
    let suffix = crate::support::unique_suffix();
    let good = format!("emqx-good-{suffix}");
    let taken = setup.client.connection.client_id.to_string();
    let sha = "ab".repeat(32);
    let csv = format!(
        "user_id,password_hash,salt\n{good},{sha},s\nbad id,{sha},s\n{good}-2,abcd,s\n{taken},{sha},s\n"
    );
    let report = import(&setup, "emqx:sha256:suffix", &csv, true).await;
    let positions: Vec<&str> = report.errors.iter().map(|e| e.position.as_str()).collect();
    assert_eq!(positions, ["line 3", "line 4"], "{:?}", report.errors);
    assert!(
        hashes(&setup, &good).await.is_empty(),
        "nothing is imported"
    );
    let csv = format!("user_id,password_hash,salt\n{good},{sha},s\n{taken},{sha},s\n");
    let report = import(&setup, "emqx:sha256:suffix", &csv, true).await;
    assert_eq!(report.created, 0);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].position, "line 3");
    assert!(
        report.errors[0].text.contains("taken"),
        "{:?}",
        report.errors
    );
    assert!(
        hashes(&setup, &good).await.is_empty(),
        "nothing is imported"
    );
    setup.app.stop().await;
}

/// A fleet that shares one username and password, as Mosquitto set-ups often do, reconnecting all
/// at once right after the move: every device verifies against the imported hash while the first
/// to finish replaces it with Keygate's own (a new salt, so a new hash). None of them is refused
/// for that: only an upgrade rewrites a key's hash, so the key is the same key.
#[engines]
async fn a_fleet_sharing_an_imported_password_connects_at_once(engine: Engine) {
    let setup = Setup::new(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwords");
    let file = file.to_str().unwrap();
    let fleet = format!("fleet-{}", crate::support::unique_suffix());
    run(
        "mosquitto_passwd",
        &["-c", "-b", file, &fleet, "shared-fleet-pw"],
    );
    let text = std::fs::read_to_string(file).unwrap();
    let report = import(&setup, "mosquitto-password-file", &text, true).await;
    assert_eq!((report.created, report.errors), (1, vec![]));

    let attempts = (0..6).map(|_| {
        let tcp = setup.tcp();
        let fleet = fleet.clone();
        async move {
            let login = Login::new(
                &format!("dev-{}", crate::support::unique_suffix()),
                &fleet,
                "shared-fleet-pw",
            );
            match Device::connect(Version::V5, &tcp, &login).await {
                Ok(device) => {
                    device.disconnect().await;
                    Ok(())
                }
                Err(e) => Err(format!("{e:?}")),
            }
        }
    });
    let results = crate::support::join_all(attempts).await;
    let refused: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(refused.is_empty(), "refused: {refused:?}");
    assert!(hashes(&setup, &fleet).await[0].starts_with("$argon2id$"));
    setup.app.stop().await;
}
