//! Importing through the REST API: Keygate's own export round-trips with keys generated for it
//! (handed back once), a Mosquitto password file keeps its devices' passwords, and a bad file, an
//! unknown format, a read-only token or a workspace out of reach creates nothing.

use super::{Script, token, workspace_of};
use crate::support::{Engine, TestApp, count_rows, engines, key_verifies};
use reqwest::StatusCode;
use serde_json::json;

#[engines]
async fn an_export_imported_again_gets_keys_handed_back_once(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );
    let clients = format!("/api/v1/workspaces/{workspace}/clients");
    for (id, name) in [("boiler-01", "Boiler 1"), ("boiler-02", "Boiler 2")] {
        api.post(
            &clients,
            &json!({ "client_id": id, "name": name, "description": "Basement" }),
        )
        .await;
    }
    let file = api.get(&format!("{clients}/export")).await;
    let csv = file.body.as_str().unwrap().to_owned();
    for id in ["boiler-01", "boiler-02"] {
        api.delete(&format!("/api/v1/clients/{id}")).await;
    }

    let import = format!("{clients}/import");
    let dry = api
        .post(
            &import,
            &json!({ "format": "keygate-generated", "content": csv, "dry_run": true }),
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.body);
    assert_eq!(dry.body["created"], 0);
    assert_eq!(dry.body["clients"].as_array().unwrap().len(), 2);
    assert_eq!(
        count_rows(&app.db, "clients").await,
        0,
        "a dry run creates nothing"
    );

    let done = api
        .post(
            &import,
            &json!({ "format": "keygate-generated", "content": csv }),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["created"], 2);
    let keys = done.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for key in keys {
        let id = key["client_id"].as_str().unwrap();
        assert!(key_verifies(&app.db, id, key["key"].as_str().unwrap()).await);
    }
    let back = api.get("/api/v1/clients/boiler-02").await;
    assert_eq!(back.body["client"]["name"], "Boiler 2");
    assert_eq!(back.body["client"]["description"], "Basement");
}

#[engines]
async fn a_mosquitto_password_file_keeps_its_passwords(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("passwords");
    let status = std::process::Command::new("mosquitto_passwd")
        .args([
            "-c",
            "-b",
            path.to_str().unwrap(),
            "sensor-01",
            "old-sensor-password",
        ])
        .status()
        .expect("mosquitto_passwd runs (apt install mosquitto)");
    assert!(status.success());
    let content = std::fs::read_to_string(&path).unwrap();
    let done = api
        .post(
            &format!("/api/v1/workspaces/{workspace}/clients/import"),
            &json!({ "format": "mosquitto-password-file", "content": content }),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["created"], 1);
    assert_eq!(done.body["keys"], json!([]), "no key is generated or shown");
    assert!(key_verifies(&app.db, "sensor-01", "old-sensor-password").await);
}

#[engines]
async fn a_bad_file_or_a_refused_caller_imports_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let import = format!("/api/v1/workspaces/{workspace}/clients/import");
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );

    let bad = api
        .post(
            &import,
            &json!({
                "format": "mosquitto-password-file",
                "content": "good-01:$7$101$c2FsdA==$aGFzaA==\nno separator here\n../etc:$7$1$a$b\n",
            }),
        )
        .await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY, Some("content"));
    let errors = bad.body["errors"].as_array().unwrap();
    assert!(errors.len() >= 2, "{errors:?}");
    assert!(
        errors.iter().any(|e| e["position"] == "line 2"),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e["position"] == "line 3"),
        "{errors:?}"
    );

    api.post(&import, &json!({ "format": "passwd", "content": "a:b" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("format"));

    let reader = Script::new(&app.base, Some(&token(&owner, "reader", "read", "").await));
    reader
        .post(
            &import,
            &json!({ "format": "keygate-generated", "content": "client_id\nboiler-01\n" }),
        )
        .await
        .problem(StatusCode::FORBIDDEN, None);

    let other = app.sign_up("Other").await;
    let intruder = Script::new(
        &app.base,
        Some(&token(&other, "x", "manage_clients", "").await),
    );
    intruder
        .post(
            &import,
            &json!({ "format": "keygate-generated", "content": "client_id\nboiler-01\n" }),
        )
        .await
        .problem(StatusCode::NOT_FOUND, None);
    assert_eq!(count_rows(&app.db, "clients").await, 0);
}
