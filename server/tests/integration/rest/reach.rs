//! What a token may reach, tried as someone who wants more: a read-only token that writes, a token
//! limited to one workspace reaching into another, another organization's token guessing Client
//! IDs. Each is refused with a problem, and nothing changed.

use super::{Script, token, workspace_of};
use crate::support::{Engine, Tenant, TestApp, count_rows, engines, stored_client};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every change a script can ask of client `id`, with what it sends.
fn changes(id: &str) -> Vec<(reqwest::Method, String, Option<Value>)> {
    use reqwest::Method;
    vec![
        (
            Method::PATCH,
            format!("/api/v1/clients/{id}"),
            Some(json!({ "name": "Pwned" })),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/deactivate"),
            None,
        ),
        (Method::POST, format!("/api/v1/clients/{id}/activate"), None),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/regenerate-key"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/rotate-key"),
            Some(json!({ "retire": "1h" })),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/disconnect"),
            None,
        ),
        (Method::DELETE, format!("/api/v1/clients/{id}"), None),
    ]
}

async fn client_in(tenant: &Tenant, id: &str) -> String {
    let key = app::model::ClientKey::generate();
    tenant
        .create_client(id, key.expose(), id, "")
        .await
        .unwrap();
    key.expose().to_owned()
}

#[engines]
async fn a_read_token_reads_but_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    client_in(&owner, "boiler-01").await;
    let before = stored_client(&app.db, "boiler-01").await.unwrap();
    let api = Script::new(&app.base, Some(&token(&owner, "reader", "read", "").await));

    assert_eq!(
        api.get("/api/v1/clients/boiler-01").await.status,
        StatusCode::OK
    );
    let created = api
        .post(
            &format!("/api/v1/workspaces/{workspace}/clients"),
            &json!({ "client_id": "sneaky-01" }),
        )
        .await;
    let detail = created.problem(StatusCode::FORBIDDEN, None);
    assert!(detail.contains("scope"), "{detail}");
    for (method, path, body) in changes("boiler-01") {
        api.send(method.clone(), &path, body.as_ref(), &[])
            .await
            .problem(StatusCode::FORBIDDEN, None);
    }
    assert_eq!(count_rows(&app.db, "clients").await, 1);
    assert_eq!(stored_client(&app.db, "boiler-01").await.unwrap(), before);
}

#[engines]
async fn a_token_limited_to_one_workspace_cannot_reach_another(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let first = workspace_of(&owner).await;
    let second: app::model::WorkspaceInfo = owner
        .call(
            "workspaces/create",
            &[("name", "Plant 2"), ("namespace", "")],
        )
        .await
        .unwrap();
    client_in(&owner, "in-first").await;
    owner
        .call::<()>("workspaces/switch", &[("id", &second.id)])
        .await
        .unwrap();
    client_in(&owner, "in-second").await;
    let before = stored_client(&app.db, "in-second").await.unwrap();

    let api = Script::new(
        &app.base,
        Some(&token(&owner, "plant1", "manage_clients", &first).await),
    );
    let listed = api.get("/api/v1/workspaces").await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["data"][0]["id"], first.as_str());
    assert_eq!(
        api.get("/api/v1/clients/in-first").await.status,
        StatusCode::OK
    );

    let missing = api.get("/api/v1/clients/no-such-client").await;
    let elsewhere = api.get("/api/v1/clients/in-second").await;
    elsewhere.problem(StatusCode::NOT_FOUND, None);
    assert_eq!(elsewhere.body, missing.body, "as if it did not exist");
    for path in [
        format!("/api/v1/workspaces/{}/clients", second.id),
        format!("/api/v1/workspaces/{}/clients/export", second.id),
        "/api/v1/clients/in-second/sessions".to_owned(),
    ] {
        api.get(&path).await.problem(StatusCode::NOT_FOUND, None);
    }
    api.post(
        &format!("/api/v1/workspaces/{}/clients", second.id),
        &json!({ "client_id": "planted-01" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, None);
    for (method, path, body) in changes("in-second") {
        api.send(method.clone(), &path, body.as_ref(), &[])
            .await
            .problem(StatusCode::NOT_FOUND, None);
    }
    assert_eq!(stored_client(&app.db, "in-second").await.unwrap(), before);
    assert!(stored_client(&app.db, "planted-01").await.is_none());
}

#[engines]
async fn another_organizations_client_is_not_found(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let acme = app.sign_up("Acme").await;
    let acme_workspace = workspace_of(&acme).await;
    client_in(&acme, "acme-boiler").await;
    let before = stored_client(&app.db, "acme-boiler").await.unwrap();
    let other = app.sign_up("Other").await;
    let api = Script::new(
        &app.base,
        Some(&token(&other, "intruder", "manage_clients", "").await),
    );

    let missing = api.get("/api/v1/clients/no-such-client").await;
    let theirs = api.get("/api/v1/clients/acme-boiler").await;
    theirs.problem(StatusCode::NOT_FOUND, None);
    assert_eq!(
        theirs.body, missing.body,
        "another organization's client looks missing"
    );
    api.get(&format!("/api/v1/workspaces/{acme_workspace}/clients"))
        .await
        .problem(StatusCode::NOT_FOUND, None);
    api.post(
        &format!("/api/v1/workspaces/{acme_workspace}/clients"),
        &json!({ "client_id": "planted-01" }),
    )
    .await
    .problem(StatusCode::NOT_FOUND, None);
    for (method, path, body) in changes("acme-boiler") {
        api.send(method.clone(), &path, body.as_ref(), &[])
            .await
            .problem(StatusCode::NOT_FOUND, None);
    }
    assert_eq!(stored_client(&app.db, "acme-boiler").await.unwrap(), before);
    assert_eq!(count_rows(&app.db, "clients").await, 1);
}

#[engines]
async fn a_revoked_token_is_refused_at_once(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let issued: app::model::IssuedApiToken = owner
        .call(
            "api_tokens/create",
            &[
                ("name", "ci"),
                ("scope", "manage_clients"),
                ("workspace_id", ""),
                ("lifetime", "never"),
            ],
        )
        .await
        .unwrap();
    let api = Script::new(&app.base, Some(&issued.token));
    assert_eq!(api.get("/api/v1/workspaces").await.status, StatusCode::OK);
    owner
        .call::<()>("api_tokens/revoke", &[("id", &issued.row.id)])
        .await
        .unwrap();
    api.get("/api/v1/workspaces")
        .await
        .problem(StatusCode::UNAUTHORIZED, None);
}
