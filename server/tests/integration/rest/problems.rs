//! Bad requests, each answered as problem+json naming what is wrong, and none changing anything:
//! no token, a forged or malformed one, a body that is not JSON or has a typo in a field name,
//! each field's bad values, and paths that do not exist.

use super::{Script, token, workspace_of};
use crate::support::{Engine, TestApp, count_rows, engines};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[engines]
async fn requests_without_a_working_token_are_401_problems(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let real = token(&owner, "ci", "read", "").await;
    // A token of the right shape whose checksum is wrong, and a well-formed one nobody made.
    let mut forged = real.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'a' { 'b' } else { 'a' });
    for token in [None, Some("garbage"), Some(forged.as_str()), Some("kgt_")] {
        let answer = Script::new(&app.base, token)
            .get("/api/v1/workspaces")
            .await;
        answer.problem(StatusCode::UNAUTHORIZED, None);
        assert_eq!(
            answer.headers.get("www-authenticate").unwrap(),
            "Bearer realm=\"keygate\""
        );
    }
    // A session cookie is not a token: the API takes none.
    let with_cookie = owner
        .http
        .get(format!("{}/api/v1/workspaces", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::UNAUTHORIZED);
}

#[engines]
async fn bad_bodies_and_fields_are_problems_that_change_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );
    let path = format!("/api/v1/workspaces/{workspace}/clients");
    api.post(&path, &json!({ "client_id": "taken-01" })).await;
    let audit_before = count_rows(&app.db, "audit_events").await;

    // Not JSON at all, and JSON sent as something else.
    let raw = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(api_token(&api))
        .header("content-type", "application/json")
        .body("{\"client_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        raw.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let as_form = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(api_token(&api))
        .body("client_id=x")
        .send()
        .await
        .unwrap();
    assert_eq!(as_form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A typo in a field name is an error, not a field silently ignored.
    let typo = api
        .post(
            &path,
            &json!({ "client_id": "boiler-01", "descripton": "x" }),
        )
        .await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(typo.body["detail"].as_str().unwrap().contains("descripton"));
    api.post(&path, &json!({ "name": "no id" }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, None);

    let long = "x".repeat(501);
    for (body, field) in [
        (json!({ "client_id": "../etc" }), "client_id"),
        (json!({ "client_id": "boiler 01" }), "client_id"),
        (json!({ "client_id": "taken-01" }), "client_id"),
        (json!({ "client_id": "boiler-01", "name": "" }), "name"),
        (
            json!({ "client_id": "boiler-01", "description": long }),
            "description",
        ),
        (json!({ "client_id": "boiler-01", "key": "short" }), "key"),
        (json!({ "client_id": "boiler-01", "scope": [] }), "scope"),
        (
            json!({ "client_id": "boiler-01", "scope": ["bad device!"] }),
            "scope",
        ),
        (
            json!({ "client_id": "boiler-01", "expiry": "yesterday" }),
            "expiry",
        ),
        (
            json!({ "client_id": "boiler-01", "expiry": "2001-01-01" }),
            "expiry",
        ),
    ] {
        let answer = api.post(&path, &body).await;
        answer.problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "scope": [] }), "scope"),
        (json!({ "name": "Fine", "scope": ["bad device!"] }), "scope"),
    ] {
        api.patch("/api/v1/clients/taken-01", &body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    api.post(
        "/api/v1/clients/taken-01/regenerate-key",
        &json!({ "key": "short" }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("key"));

    assert_eq!(count_rows(&app.db, "clients").await, 1);
    assert_eq!(
        count_rows(&app.db, "audit_events").await,
        audit_before,
        "no refused request was audited as a change"
    );
    let unchanged = api.get("/api/v1/clients/taken-01").await;
    assert_eq!(unchanged.body["client"]["name"], "taken-01");
}

#[engines]
async fn bad_list_parameters_and_unknown_paths_are_problems(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(&app.base, Some(&token(&owner, "ci", "read", "").await));
    let path = format!("/api/v1/workspaces/{workspace}/clients");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("sort=password", "sort"),
        ("order=up", "order"),
        ("access=some", "access"),
        ("expiry=soon", "expiry"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        api.get(&format!("{path}?{query}"))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some(field));
    }
    api.get(&format!("{path}?limit=many"))
        .await
        .problem(StatusCode::BAD_REQUEST, None);
    api.get(&format!("{path}?colour=blue"))
        .await
        .problem(StatusCode::BAD_REQUEST, None);
    api.get(&format!(
        "/api/v1/workspaces/{workspace}/clients/export?format=xml"
    ))
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("format"));
    for unknown in ["/api/v1/nothing", "/api/v1/clients/x/y/z", "/api/v1/"] {
        api.send(Method::GET, unknown, None, &[])
            .await
            .problem(StatusCode::NOT_FOUND, None);
    }
}

/// The token a script sends.
fn api_token(api: &Script) -> String {
    api.token.clone().expect("a token")
}
