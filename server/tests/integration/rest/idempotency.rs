//! `Idempotency-Key` on create, tried the way a flaky network and a careless script do: a retry
//! after a lost answer, a burst of the same request in parallel, the key reused for another
//! client, another token using the same key, and a key that is not one.

use super::{Script, token, workspace_of};
use crate::support::{Engine, TestApp, count_rows, engines, join_all};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn create(api: &Script, workspace: &str, body: &Value, key: &str) -> super::Answer {
    api.send(
        Method::POST,
        &format!("/api/v1/workspaces/{workspace}/clients"),
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

#[engines]
async fn a_retried_create_answers_with_the_first_client_and_creates_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );
    let body = json!({ "client_id": "boiler-01", "name": "Boiler" });

    let first = create(&api, &workspace, &body, "deploy-42").await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    assert!(first.body["key"].is_string());

    let retry = create(&api, &workspace, &body, "deploy-42").await;
    assert_eq!(retry.status, StatusCode::CREATED, "{:?}", retry.body);
    assert_eq!(retry.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(retry.body["client"]["client_id"], "boiler-01");
    assert!(
        retry.body["key"].is_null(),
        "only the first answer carries the key"
    );
    assert_eq!(count_rows(&app.db, "clients").await, 1);

    // Without the key, the same request is a taken Client ID.
    api.post(&format!("/api/v1/workspaces/{workspace}/clients"), &body)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("client_id"));

    // The key reused for another client is refused, and creates nothing.
    let other = create(
        &api,
        &workspace,
        &json!({ "client_id": "boiler-02" }),
        "deploy-42",
    )
    .await;
    other.problem(StatusCode::UNPROCESSABLE_ENTITY, Some("Idempotency-Key"));
    assert_eq!(count_rows(&app.db, "clients").await, 1);

    // Another token's keys are its own.
    let second = Script::new(
        &app.base,
        Some(&token(&owner, "ci-2", "manage_clients", "").await),
    );
    let theirs = create(
        &second,
        &workspace,
        &json!({ "client_id": "boiler-03" }),
        "deploy-42",
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{:?}", theirs.body);
    assert!(theirs.headers.get("idempotent-replayed").is_none());

    // A retry after the client was deleted says so, and does not bring it back.
    owner
        .call::<()>("clients/delete", &[("client_id", "boiler-01")])
        .await
        .unwrap();
    create(&api, &workspace, &body, "deploy-42")
        .await
        .problem(StatusCode::CONFLICT, None);
    assert_eq!(count_rows(&app.db, "clients").await, 1);
}

#[engines]
async fn a_burst_of_the_same_create_makes_one_client(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );
    let answers = join_all((0..8).map(|_| {
        let api = api.clone();
        let workspace = workspace.clone();
        async move {
            create(
                &api,
                &workspace,
                &json!({ "client_id": "burst-01" }),
                "burst-key",
            )
            .await
        }
    }))
    .await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        assert_eq!(answer.body["client"]["client_id"], "burst-01");
    }
    let with_key = answers.iter().filter(|a| a.body["key"].is_string()).count();
    assert_eq!(with_key, 1, "exactly one answer carries the key");
    assert_eq!(count_rows(&app.db, "clients").await, 1);
    assert_eq!(count_rows(&app.db, "idempotency_keys").await, 1);
}

#[engines]
async fn a_key_that_is_not_one_is_refused_and_creates_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );
    let long = "k".repeat(256);
    for key in ["", long.as_str(), "tab\there"] {
        create(&api, &workspace, &json!({ "client_id": "boiler-01" }), key)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("Idempotency-Key"));
    }
    assert_eq!(count_rows(&app.db, "clients").await, 0);
}
