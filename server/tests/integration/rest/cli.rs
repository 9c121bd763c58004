//! `keygate clients …` as a script runs it: the real binary as a child process with
//! `KEYGATE_URL` and `KEYGATE_TOKEN`, against a real `keygate` process, through create → list →
//! get → update → deactivate → regenerate → delete; and each kind of failure with its own exit
//! code and a sentence on stderr.

use super::token;
use crate::support::keygate_process::KeygateProcess;
use crate::support::{Engine, TestDatabase, key_verifies, sign_up_at, unused_address};
use serde_json::Value;
use std::process::{Command, Output};

/// What one run of the CLI printed and how it exited.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

fn cli(url: &str, token: &str, args: &[&str], stdin: Option<&str>) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_keygate"))
        .args(args)
        .env("KEYGATE_URL", url)
        .env("KEYGATE_TOKEN", token)
        .env_remove("KEYGATE_WORKSPACE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("keygate runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

#[tokio::test]
async fn a_script_drives_a_client_from_creation_to_deletion() {
    let database = TestDatabase::create(Engine::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let listen = unused_address();
    let args: Vec<String> = [
        "--mqtt-listen",
        "127.0.0.1:0",
        "--database-url",
        &database.url,
        "--site-root",
        &dir.path().to_string_lossy(),
    ]
    .map(String::from)
    .into();
    let process = KeygateProcess::start(listen, dir.path().join("keygate.log"), &args).await;
    let url = format!("http://{listen}");
    let owner = sign_up_at(&url, "Acme").await;
    let manage = token(&owner, "deploy", "manage_clients", "").await;
    let db = database.connect().await;

    // Create with a generated key (printed once), then with a key from stdin.
    let created = cli(
        &url,
        &manage,
        &[
            "clients",
            "create",
            "boiler-01",
            "--name",
            "Boiler",
            "--json",
        ],
        None,
    )
    .ok()
    .json();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key_verifies(&db, "boiler-01", &key).await);
    let typed = cli(
        &url,
        &manage,
        &[
            "clients",
            "create",
            "boiler-02",
            "--key-stdin",
            "--scope",
            "tag:heating",
        ],
        Some("Zq8vT3pLx9mR2wKc7Yb4Nd\n"),
    )
    .ok();
    assert!(
        typed.stdout.contains("Created boiler-02."),
        "{}",
        typed.stdout
    );
    assert!(key_verifies(&db, "boiler-02", "Zq8vT3pLx9mR2wKc7Yb4Nd").await);

    // List, as a table and as JSON.
    let table = cli(&url, &manage, &["clients", "list"], None).ok();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("CLIENT ID"), "{}", table.stdout);
    assert!(lines[1].starts_with("boiler-01") && lines[2].starts_with("boiler-02"));
    assert_eq!(lines.last(), Some(&"2 clients"));
    let listed = cli(
        &url,
        &manage,
        &["clients", "list", "--json", "--limit", "1"],
        None,
    )
    .ok()
    .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["total"], 2);

    // Update and deactivate.
    let updated = cli(
        &url,
        &manage,
        &[
            "clients",
            "update",
            "boiler-01",
            "--description",
            "Basement",
            "--json",
        ],
        None,
    )
    .ok()
    .json();
    assert_eq!(updated["description"], "Basement");
    let off = cli(
        &url,
        &manage,
        &["clients", "deactivate", "boiler-01", "--json"],
        None,
    )
    .ok()
    .json();
    assert_eq!(off["active"], false);

    // Regenerate: the new key verifies, the old one no longer does.
    let regenerated = cli(&url, &manage, &["clients", "regenerate", "boiler-01"], None).ok();
    let new_key = regenerated
        .stdout
        .lines()
        .find(|l| l.starts_with("kgk_"))
        .expect("the new key is printed")
        .to_owned();
    assert!(key_verifies(&db, "boiler-01", &new_key).await);
    assert!(!key_verifies(&db, "boiler-01", &key).await);

    // Delete; then the client is not found (exit 5).
    let deleted = cli(&url, &manage, &["clients", "delete", "boiler-01"], None).ok();
    assert!(deleted.stdout.contains("Deleted boiler-01"));
    let gone = cli(&url, &manage, &["clients", "get", "boiler-01"], None);
    assert_eq!(gone.code, 5, "{}", gone.stderr);
    assert!(gone.stderr.contains("does not exist"), "{}", gone.stderr);

    // Each failure has its exit code and says why.
    let reader = token(&owner, "reader", "read", "").await;
    let refused = cli(&url, &reader, &["clients", "create", "sneaky-01"], None);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(refused.stderr.contains("scope"), "{}", refused.stderr);
    let forged = cli(&url, "kgt_forged", &["clients", "list"], None);
    assert_eq!(forged.code, 3, "{}", forged.stderr);
    let invalid = cli(&url, &manage, &["clients", "create", "../etc"], None);
    assert_eq!(invalid.code, 6, "{}", invalid.stderr);
    assert!(invalid.stderr.contains("client_id"), "{}", invalid.stderr);
    let taken = cli(&url, &manage, &["clients", "create", "boiler-02"], None);
    assert_eq!(taken.code, 6, "{}", taken.stderr);
    let closed = format!("http://{}", unused_address());
    let unreachable = cli(&closed, &manage, &["workspaces", "list"], None);
    assert_eq!(unreachable.code, 7, "{}", unreachable.stderr);
    let usage = cli(&url, &manage, &["clients", "update", "boiler-02"], None);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    assert_eq!(
        app::store::clients::count(&db, &owner.me().await.current_workspace_id)
            .await
            .unwrap(),
        1,
        "the refused commands changed nothing"
    );

    // Import a file from standard input: a dry run, then the import with its keys as CSV.
    let file = "client_id,name\nimported-01,Imported one\nimported-02,Imported two\n";
    let dry = cli(
        &url,
        &manage,
        &[
            "clients",
            "import",
            "-",
            "--format",
            "keygate-generated",
            "--dry-run",
        ],
        Some(file),
    )
    .ok();
    assert!(
        dry.stdout.contains("importing it creates 2 clients"),
        "{}",
        dry.stdout
    );
    let imported = cli(
        &url,
        &manage,
        &["clients", "import", "-", "--format", "keygate-generated"],
        Some(file),
    )
    .ok();
    assert!(
        imported.stdout.contains("Imported 2 clients."),
        "{}",
        imported.stdout
    );
    let key_line = imported
        .stdout
        .lines()
        .find(|l| l.contains("imported-01"))
        .expect("the key of imported-01");
    let key = key_line.split(',').nth(1).unwrap().trim_matches('"');
    assert!(key_verifies(&db, "imported-01", key).await);
    let bad = cli(
        &url,
        &manage,
        &["clients", "import", "-", "--format", "keygate-generated"],
        Some("client_id\n../etc\n"),
    );
    assert_eq!(bad.code, 6, "{}", bad.stderr);
    assert!(bad.stderr.contains("line 2"), "{}", bad.stderr);

    let workspaces = cli(&url, &reader, &["workspaces", "list"], None).ok();
    assert!(workspaces.stdout.starts_with("ID"), "{}", workspaces.stdout);
    drop(process);
}
