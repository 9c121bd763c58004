//! Importing clients with the hashes their devices already have, from files the real Mosquitto
//! tools wrote: the device then connects to Keygate's broker with its old password, a wrong one
//! is refused, and after the first login the stored hash is Keygate's own. A bad file imports
//! nothing and says what is wrong where.

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
            "clients/import_hashes",
            &[("format", format), ("text", text), ("commit", commit)],
        )
        .await
        .expect("import_hashes answers")
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
        connects(&setup, &alice, "alice-old-pw").await,
        "the old password"
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
