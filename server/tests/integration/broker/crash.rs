//! Crash safety with a real crash: the `keygate` binary is killed (SIGKILL) after a revocation is
//! committed but before it reached an external broker; started again on the same database, it
//! delivers it.

use crate::broker::fake_admin_api::{FakeAdminApi, closed_port};
use crate::support::keygate_process::KeygateProcess;
use crate::support::{Engine, TestDatabase, engines, eventually, outbox_done, sign_up_at};
use app::model::ClientRow;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

/// The `keygate` binary on `database` with one external broker target, `rmqtt` at `target`,
/// retrying fast; its log is `keygate-RUN.log` in `dir`.
pub(crate) async fn start_with_target(
    database: &TestDatabase,
    listen: SocketAddr,
    target: SocketAddr,
    dir: &std::path::Path,
    run: u32,
) -> KeygateProcess {
    let args: Vec<String> = [
        "--mqtt-listen",
        "127.0.0.1:0",
        "--database-url",
        &database.url,
        "--site-root",
        &dir.to_string_lossy(),
        "--broker-target",
        &format!("rmqtt=http://{target}"),
        "--webhook-secret",
        crate::broker::webhooks::SECRET,
        "--revocation-retry-min-ms",
        "20",
        "--revocation-retry-max-secs",
        "1",
    ]
    .map(String::from)
    .into();
    KeygateProcess::start(listen, dir.join(format!("keygate-{run}.log")), &args).await
}

/// Lets a device of `client` in through the webhook of the Keygate at `base`, as the external
/// broker would (form 1: its identifier is the Client ID): its session there is what a revocation
/// must close.
pub(crate) async fn let_in_through_the_webhook(base: &str, client: &app::model::RevealedKey) {
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks/emqx/authn"))
        .bearer_auth(crate::broker::webhooks::SECRET)
        .json(&serde_json::json!({
            "clientid": client.connection.client_id.as_str(),
            "username": client.connection.namespace.as_str(),
            "password": client.key.expose(),
            "peerhost": "10.0.0.7",
        }))
        .send()
        .await
        .expect("the webhook answers");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["result"], "allow", "{body}");
}

pub(crate) fn free_port() -> SocketAddr {
    // Bound and released: free for the process to take a moment later.
    closed_port()
}

#[engines]
async fn a_revocation_committed_before_a_kill_is_delivered_after_the_restart(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let (listen, broker) = (free_port(), closed_port());

    // First run: the external broker is down, so the revocation cannot be pushed; the process
    // is killed right after the dashboard's change returned.
    let first = start_with_target(&database, listen, broker, dir.path(), 1).await;
    let tenant = sign_up_at(&format!("http://{listen}"), "Acme Devices").await;
    let client = tenant.new_client("Boiler").await;
    let id = client.connection.client_id.to_string();
    let_in_through_the_webhook(&format!("http://{listen}"), &client).await;
    let _: ClientRow = tenant
        .call(
            "clients/set_active",
            &[("client_id", &id), ("active", "false")],
        )
        .await
        .expect("deactivated");
    first.kill();

    let db = database.connect().await;
    let rows = app::store::outbox::list_for_client(&db, &id).await.unwrap();
    assert_eq!(
        rows.len(),
        1,
        "the revocation was committed with the change"
    );
    assert_eq!(rows[0].1, None, "and not delivered before the kill");
    db.close().await;

    // Second run: the broker is back; the revocation left behind is delivered.
    let api = FakeAdminApi::start_on(broker, 204).await;
    let second = start_with_target(&database, listen, broker, dir.path(), 2).await;
    let path = format!("/api/v1/clients/{id}");
    assert!(
        api.wait_for(Duration::from_secs(10), |calls| calls
            .iter()
            .any(|c| c.target == path))
            .await,
        "the broker got the revocation after the restart: {:?}\nlog:\n{}",
        api.calls(),
        second.log_text()
    );
    let db = database.connect().await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            outbox_done(&db, &id).await == [true]
        })
        .await,
        "marked done once every broker confirmed"
    );
    assert_eq!(api.answered(204), vec![path], "delivered once");
    db.close().await;
    second.kill();
}

/// Mistakes in the revocation and webhook settings stop `keygate` before it touches anything, with
/// a message that names the mistake and never echoes a secret.
#[test]
fn bad_broker_settings_stop_keygate_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("keygate.db");
    let config = dir.path().join("keygate.toml");
    std::fs::write(
        &config,
        "[[broker_target]]\nkind = \"emqx\"\nurl = \"http://key:hunter2-secret@\"\n",
    )
    .unwrap();
    for (args, expected) in [
        (
            vec!["--broker-target", "mosquitto=http://10.0.0.5:8080"],
            "unknown broker kind \"mosquitto\"",
        ),
        (vec!["--broker-target", "emqx"], "KIND=URL"),
        (vec!["--webhook-secret", "short"], "at least 16 characters"),
        (
            vec!["--config", "/nonexistent/keygate.toml"],
            "cannot read the configuration file",
        ),
        (vec!["--config", config.to_str().unwrap()], "is not a URL"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_keygate"))
            .args(["--listen", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0"])
            .args([
                "--database-url",
                &format!("sqlite://{}", database.display()),
            ])
            .args(&args)
            .env("KEYGATE_LOG", "info")
            .output()
            .expect("keygate runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "{args:?} echoed a secret: {stderr}"
        );
        assert!(!database.exists(), "{args:?} created the database");
    }
}
