//! `keygate forget-broker-target`, run as an operator runs it: the binary against the database of
//! a real `keygate` process whose external broker is gone.

use crate::broker::crash::{free_port, start_with_target};
use crate::broker::fake_admin_api::closed_port;
use crate::support::{self, Engine, TestDatabase, engines, sign_up_at};
use app::model::ClientRow;
use std::process::{Command, Output};
use std::time::Duration;

fn keygate(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keygate"))
        .args(args)
        .args(["--database-url", database_url])
        .output()
        .expect("keygate runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn outbox_done(database: &TestDatabase, client_id: &str) -> Vec<bool> {
    let db = database.connect().await;
    let done = support::outbox_done(&db, client_id).await;
    db.close().await;
    done
}

async fn target_names(database: &TestDatabase) -> Vec<String> {
    let db = database.connect().await;
    let names = app::store::broker_targets::list(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    db.close().await;
    names
}

async fn embedded_confirmed(database: &TestDatabase) -> bool {
    let db = database.connect().await;
    let confirmed = support::eventually(Duration::from_secs(10), || async {
        app::store::broker_targets::list(&db)
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "embedded:keygate" && t.queue_depth == 0)
    })
    .await;
    db.close().await;
    confirmed
}

#[engines]
async fn a_broker_target_that_is_gone_for_good_can_be_forgotten(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let (listen, broker) = (free_port(), closed_port());
    let target = format!("rmqtt:{broker}");

    // An rmqtt that never answers holds the deactivation up; the embedded broker confirms it.
    let process = start_with_target(&database, listen, broker, dir.path(), 1).await;
    let tenant = sign_up_at(&format!("http://{listen}"), "Acme Devices").await;
    // A node that was renamed long ago left its embedded target behind.
    let db = database.connect().await;
    let stale = app::store::broker_targets::TargetSpec {
        name: "embedded:old-node".into(),
        kind: app::model::BrokerKind::Embedded,
        endpoint: "in-process".into(),
    };
    app::store::broker_targets::register(&db, &stale)
        .await
        .unwrap();
    db.close().await;
    let (status, html) = tenant.page("/settings/brokers").await;
    assert!(status.is_success(), "{status}");
    assert!(
        html.contains("Not served")
            && html.contains("keygate forget-broker-target embedded:old-node"),
        "Settings → Brokers says how to forget the stale target: {html}"
    );
    let client = tenant.new_client("Boiler").await;
    let id = client.connection.client_id.to_string();
    crate::broker::crash::let_in_through_the_webhook(&format!("http://{listen}"), &client).await;
    let _: ClientRow = tenant
        .call(
            "clients/set_active",
            &[("client_id", &id), ("active", "false")],
        )
        .await
        .expect("deactivated");
    assert_eq!(outbox_done(&database, &id).await, vec![false]);

    // While a process delivers to it, forgetting it is refused: the process would bring it back.
    let refused = keygate(&database.url, &["forget-broker-target", &target]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains(&format!(
            "broker target \"{target}\" is delivered to by the running node \"keygate\""
        )),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(target_names(&database).await.len(), 3);
    assert_eq!(outbox_done(&database, &id).await, vec![false]);

    // The embedded broker has confirmed; then the process stops (and lets go of its leases), and
    // the rmqtt broker turns out to be gone for good.
    assert!(
        embedded_confirmed(&database).await,
        "the embedded broker confirmed the deactivation"
    );
    process.stop();
    let unknown = keygate(&database.url, &["forget-broker-target", "rmqtt:typo"]);
    assert!(!unknown.status.success());
    assert_eq!(
        text(&unknown.stderr).trim(),
        format!(
            "keygate: there is no broker target named \"rmqtt:typo\"; the registered ones are: \
             embedded:keygate, embedded:old-node, {target}"
        )
    );
    assert_eq!(outbox_done(&database, &id).await, vec![false]);

    // The stale node's target goes; the deactivation still waits for rmqtt.
    let forgotten = keygate(
        &database.url,
        &["forget-broker-target", "embedded:old-node"],
    );
    assert!(forgotten.status.success(), "{}", text(&forgotten.stderr));
    assert_eq!(
        text(&forgotten.stdout).trim(),
        "Forgot broker target \"embedded:old-node\": 1 revocation(s) it had not confirmed will \
         not reach it; 0 of them waited for it alone and are now done."
    );
    assert_eq!(outbox_done(&database, &id).await, vec![false]);

    let forgotten = keygate(&database.url, &["forget-broker-target", &target]);
    assert!(forgotten.status.success(), "{}", text(&forgotten.stderr));
    assert_eq!(
        text(&forgotten.stdout).trim(),
        format!(
            "Forgot broker target \"{target}\": 1 revocation(s) it had not confirmed will not \
             reach it; 1 of them waited for it alone and are now done."
        )
    );
    assert_eq!(target_names(&database).await, ["embedded:keygate"]);
    assert_eq!(outbox_done(&database, &id).await, vec![true]);

    // A mistyped SQLite path is refused before a fresh, empty database is made there.
    let missing = dir.path().join("elsewhere/keygate.db");
    let output = keygate(
        &format!("sqlite://{}", missing.display()),
        &["forget-broker-target", &target],
    );
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("there is no database at"),
        "{}",
        text(&output.stderr)
    );
    assert!(!missing.exists() && !missing.parent().unwrap().exists());
}
