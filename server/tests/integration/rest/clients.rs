//! Every client endpoint with a manage token: what it answers, what it changes (the key that
//! verifies, the revocation queued, the audit event under the token's name), and that the
//! dashboard sees the same client.

use super::{Script, token, workspace_of};
use crate::support::{
    Engine, TestApp, count_rows, engines, key_verifies, outbox_done, stored_client,
};
use reqwest::StatusCode;
use serde_json::json;

async fn audited_as(app: &TestApp, actor: &str, action: &str, target: &str) -> i64 {
    let pool = app.db.pool();
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_events WHERE actor = $1 AND action = $2 AND target = $3",
    )
    .bind(actor)
    .bind(action)
    .bind(target)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[engines]
async fn a_manage_token_drives_a_client_through_every_endpoint(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );

    // Create, with a generated key: it is answered once and verifies.
    let created = api
        .post(
            &format!("/api/v1/workspaces/{workspace}/clients"),
            &json!({ "client_id": "boiler-01", "description": "Basement", "scope": ["tag:heating"] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let key = created.body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("kgk_"));
    assert!(key_verifies(&app.db, "boiler-01", &key).await);
    let client = &created.body["client"];
    assert_eq!(
        client["name"], "boiler-01",
        "the name defaults to the Client ID"
    );
    assert_eq!(client["workspace_id"], workspace.as_str());
    assert_eq!(client["scope"], json!(["tag:heating"]));
    assert_eq!(client["active"], true);
    assert_eq!(client["keys"].as_array().unwrap().len(), 1);
    assert!(created.body["connection"]["namespace"].is_string());
    assert_eq!(
        created.headers.get("cache-control").unwrap(),
        "no-store",
        "an answer with a key is never cached"
    );
    assert_eq!(
        audited_as(&app, "token ci", "client.created", "boiler-01").await,
        1
    );

    // A typed key is not echoed.
    let typed = api
        .post(
            &format!("/api/v1/workspaces/{workspace}/clients"),
            &json!({ "client_id": "boiler-02", "name": "Boiler 2", "key": "Zq8vT3pLx9mR2wKc7Yb4Nd" }),
        )
        .await;
    assert_eq!(typed.status, StatusCode::CREATED, "{:?}", typed.body);
    assert!(typed.body["key"].is_null());
    assert!(key_verifies(&app.db, "boiler-02", "Zq8vT3pLx9mR2wKc7Yb4Nd").await);

    // Get and list see them; so does the dashboard.
    let got = api.get("/api/v1/clients/boiler-01").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["client"]["description"], "Basement");
    assert!(
        !got.body.to_string().contains(&key),
        "a read never shows the key"
    );
    let listed = api
        .get(&format!("/api/v1/workspaces/{workspace}/clients"))
        .await;
    assert_eq!(listed.body["total"], 2);
    assert_eq!(listed.body["data"][0]["client_id"], "boiler-01");
    assert!(listed.body["next_cursor"].is_null());

    // Update: only the fields sent change; scope null is any device.
    let updated = api
        .patch(
            "/api/v1/clients/boiler-01",
            &json!({ "name": "Boiler one", "scope": null }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["name"], "Boiler one");
    assert_eq!(updated.body["description"], "Basement");
    assert!(updated.body["scope"].is_null());
    let stored = stored_client(&app.db, "boiler-01").await.unwrap();
    assert_eq!(stored.name, "Boiler one");

    // Deactivate queues a revocation; activate lets it in again.
    let outbox_before = outbox_done(&app.db, "boiler-01").await.len();
    let off = api
        .post("/api/v1/clients/boiler-01/deactivate", &json!({}))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    assert_eq!(off.body["active"], false);
    assert_eq!(
        outbox_done(&app.db, "boiler-01").await.len(),
        outbox_before + 1
    );
    let on = api
        .post("/api/v1/clients/boiler-01/activate", &json!({}))
        .await;
    assert_eq!(on.body["active"], true);

    // Regenerate: the new key verifies, the old one no longer does.
    let regenerated = api
        .post(
            "/api/v1/clients/boiler-01/regenerate-key",
            &json!({ "expiry": "30" }),
        )
        .await;
    assert_eq!(regenerated.status, StatusCode::OK, "{:?}", regenerated.body);
    let new_key = regenerated.body["key"].as_str().unwrap();
    assert!(key_verifies(&app.db, "boiler-01", new_key).await);
    assert!(!key_verifies(&app.db, "boiler-01", &key).await);
    assert!(regenerated.body["client"]["keys"][0]["ends_at"].is_string());
    // Without a body at all, too.
    let bare = api
        .send(
            reqwest::Method::POST,
            "/api/v1/clients/boiler-02/regenerate-key",
            None,
            &[],
        )
        .await;
    assert_eq!(bare.status, StatusCode::OK, "{:?}", bare.body);
    assert!(!key_verifies(&app.db, "boiler-02", "Zq8vT3pLx9mR2wKc7Yb4Nd").await);

    // Sessions and export.
    let sessions = api.get("/api/v1/clients/boiler-01/sessions").await;
    assert_eq!(sessions.body, json!({ "data": [] }));
    let csv = api
        .get(&format!("/api/v1/workspaces/{workspace}/clients/export"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type().starts_with("text/csv"));
    let text = csv.body.as_str().unwrap();
    assert!(text.contains("boiler-01") && !text.contains(new_key));
    let json_file = api
        .get(&format!(
            "/api/v1/workspaces/{workspace}/clients/export?format=json"
        ))
        .await;
    assert!(json_file.body.to_string().contains("boiler-02"));

    // Delete: gone, its key no longer verifies, and a revocation is queued.
    let deleted = api.delete("/api/v1/clients/boiler-01").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(stored_client(&app.db, "boiler-01").await.is_none());
    api.get("/api/v1/clients/boiler-01")
        .await
        .problem(StatusCode::NOT_FOUND, None);
    assert_eq!(
        audited_as(&app, "token ci", "client.deleted", "boiler-01").await,
        1
    );
    assert_eq!(count_rows(&app.db, "clients").await, 1);
}

#[engines]
async fn workspaces_lists_the_organizations_workspaces(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let _: app::model::WorkspaceInfo = owner
        .call(
            "workspaces/create",
            &[("name", "Plant 2"), ("namespace", "")],
        )
        .await
        .unwrap();
    let other = app.sign_up("Other").await;
    let api = Script::new(&app.base, Some(&token(&owner, "reader", "read", "").await));
    let answer = api.get("/api/v1/workspaces").await;
    assert_eq!(answer.status, StatusCode::OK);
    let names: Vec<&str> = answer.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Plant 2"));
    let others = workspace_of(&other).await;
    assert!(!answer.body.to_string().contains(&others));
}

#[engines]
async fn rotation_topic_rules_and_disconnect_through_the_api(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    let api = Script::new(
        &app.base,
        Some(&token(&owner, "ci", "manage_clients", "").await),
    );
    let created = api
        .post(
            &format!("/api/v1/workspaces/{workspace}/clients"),
            &json!({ "client_id": "boiler-01" }),
        )
        .await;
    let old_key = created.body["key"].as_str().unwrap().to_owned();
    let namespace = created.body["connection"]["namespace"]
        .as_str()
        .unwrap()
        .to_owned();

    // Rotate: both keys work until the old one retires.
    let rotated = api
        .post(
            "/api/v1/clients/boiler-01/rotate-key",
            &json!({ "retire": "24h" }),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    let new_key = rotated.body["key"].as_str().unwrap();
    assert!(key_verifies(&app.db, "boiler-01", &old_key).await);
    assert!(key_verifies(&app.db, "boiler-01", new_key).await);
    let keys = rotated.body["client"]["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2);
    let retiring = keys.iter().find(|k| k["retiring"] == true).unwrap();
    // A third key is refused while two work, and a bad retirement changes nothing.
    api.post(
        "/api/v1/clients/boiler-01/rotate-key",
        &json!({ "retire": "24h" }),
    )
    .await
    .problem(StatusCode::FORBIDDEN, None);
    api.post(
        "/api/v1/clients/boiler-01/rotate-key",
        &json!({ "retire": "2001-01-01" }),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("retire"));

    // Retire the old key now; the only key left cannot be retired.
    let retired = api
        .post(
            &format!(
                "/api/v1/clients/boiler-01/keys/{}/retire",
                retiring["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await;
    assert_eq!(retired.status, StatusCode::OK, "{:?}", retired.body);
    assert!(!key_verifies(&app.db, "boiler-01", &old_key).await);
    let only = retired.body["keys"][0]["id"].as_str().unwrap().to_owned();
    api.post(
        &format!("/api/v1/clients/boiler-01/keys/{only}/retire"),
        &json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, None);
    api.post(
        "/api/v1/clients/boiler-01/keys/no-such-key/retire",
        &json!({}),
    )
    .await
    .problem(StatusCode::NOT_FOUND, None);

    // Topic rules: set in order, checked against the namespace, each bad one named.
    let rules = json!([
        { "permission": "deny", "action": "publish", "filter": format!("{namespace}/config/#") },
        { "permission": "allow", "action": "both", "filter": format!("{namespace}/devices/{{device_id}}/#") },
    ]);
    let with_rules = api
        .patch(
            "/api/v1/clients/boiler-01",
            &json!({ "topic_rules": rules }),
        )
        .await;
    assert_eq!(with_rules.status, StatusCode::OK, "{:?}", with_rules.body);
    assert_eq!(with_rules.body["topic_rules"], rules);
    for bad in [
        json!([{ "permission": "maybe", "action": "both", "filter": format!("{namespace}/#") }]),
        json!([{ "permission": "allow", "action": "read", "filter": format!("{namespace}/#") }]),
        json!([{ "permission": "allow", "action": "both", "filter": "other-namespace/#" }]),
        json!([{ "permission": "allow", "action": "both", "filter": format!("{namespace}/a#") }]),
    ] {
        api.patch("/api/v1/clients/boiler-01", &json!({ "topic_rules": bad }))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("topic_rules"));
    }
    let still = api.get("/api/v1/clients/boiler-01").await;
    assert_eq!(
        still.body["client"]["topic_rules"], rules,
        "nothing changed"
    );

    // Disconnect: a revocation of its sessions, the key untouched.
    let before = outbox_done(&app.db, "boiler-01").await.len();
    let disconnected = api
        .post("/api/v1/clients/boiler-01/disconnect", &json!({}))
        .await;
    assert_eq!(
        disconnected.status,
        StatusCode::OK,
        "{:?}",
        disconnected.body
    );
    assert_eq!(outbox_done(&app.db, "boiler-01").await.len(), before + 1);
    assert!(key_verifies(&app.db, "boiler-01", new_key).await);
}
