//! Cursor pagination: every client once, in order, whatever the sort, even when clients are
//! created and deleted between pages; and a cursor keeps its own query.

use super::{Script, token, workspace_of};
use crate::support::{Engine, TestApp, engines};
use reqwest::StatusCode;
use serde_json::Value;

/// Every page of `path?query` at `limit` per page: the Client IDs in the order answered, and a
/// hook run between the first and second page.
async fn walk(
    api: &Script,
    path: &str,
    query: &str,
    limit: u32,
    between: impl AsyncFnOnce(),
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = format!("{path}?limit={limit}&{query}");
    let mut between = Some(between);
    loop {
        let page = api.get(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= limit as usize);
        ids.extend(
            data.iter()
                .map(|c| c["client_id"].as_str().unwrap().to_owned()),
        );
        match &page.body["next_cursor"] {
            Value::String(cursor) => url = format!("{path}?limit={limit}&cursor={cursor}"),
            _ => return ids,
        }
        if let Some(hook) = between.take() {
            hook().await;
        }
    }
}

#[engines]
async fn pages_hold_every_client_once_in_order(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    // Names out of Client ID order, with two alike: the Client ID breaks the tie.
    let names = [
        "delta", "alpha", "echo", "alpha", "charlie", "bravo", "golf",
    ];
    for (i, name) in names.iter().enumerate() {
        let key = app::model::ClientKey::generate();
        owner
            .create_client(&format!("dev-{i}"), key.expose(), name, "")
            .await
            .unwrap();
    }
    let api = Script::new(&app.base, Some(&token(&owner, "ci", "read", "").await));
    let path = format!("/api/v1/workspaces/{workspace}/clients");

    let by_id = walk(&api, &path, "", 3, async || {}).await;
    assert_eq!(
        by_id,
        (0..7).map(|i| format!("dev-{i}")).collect::<Vec<_>>()
    );

    let by_name_desc = walk(&api, &path, "sort=name&order=desc", 2, async || {}).await;
    assert_eq!(
        by_name_desc,
        [
            "dev-6", "dev-2", "dev-0", "dev-4", "dev-5", "dev-3", "dev-1"
        ]
    );

    let by_created = walk(&api, &path, "sort=created_at", 4, async || {}).await;
    assert_eq!(by_created.len(), 7);
    let mut sorted = by_created.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "no client twice: {by_created:?}");

    // Never-seen clients (all of them) sort last, and the Client ID orders them.
    let by_seen = walk(&api, &path, "sort=last_seen_at&order=desc", 3, async || {}).await;
    assert_eq!(
        by_seen,
        [
            "dev-6", "dev-5", "dev-4", "dev-3", "dev-2", "dev-1", "dev-0"
        ]
    );

    // A search narrows every page alike.
    let searched = walk(&api, &path, "search=ALPHA", 1, async || {}).await;
    assert_eq!(searched, ["dev-1", "dev-3"]);
}

#[engines]
async fn changes_between_pages_neither_repeat_nor_skip_a_client(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let owner = app.sign_up("Acme").await;
    let workspace = workspace_of(&owner).await;
    for i in 0..6 {
        let key = app::model::ClientKey::generate();
        owner
            .create_client(&format!("dev-{i}"), key.expose(), "d", "")
            .await
            .unwrap();
    }
    let api = Script::new(&app.base, Some(&token(&owner, "ci", "read", "").await));
    let path = format!("/api/v1/workspaces/{workspace}/clients");
    // After the first page (dev-0..dev-2) one already listed goes (an offset would now skip
    // dev-3) and one arrives after the cursor (it is listed once).
    let seen = walk(&api, &path, "", 3, async || {
        owner
            .call::<()>("clients/delete", &[("client_id", "dev-1")])
            .await
            .unwrap();
        let key = app::model::ClientKey::generate();
        owner
            .create_client("dev-9", key.expose(), "d", "")
            .await
            .unwrap();
    })
    .await;
    assert_eq!(
        seen,
        [
            "dev-0", "dev-1", "dev-2", "dev-3", "dev-4", "dev-5", "dev-9"
        ]
    );

    // A cursor with another query's parameters is refused; with the same ones it is fine.
    let first = api.get(&format!("{path}?limit=2&sort=name")).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    api.get(&format!("{path}?cursor={cursor}&sort=client_id"))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, Some("cursor"));
    let same = api.get(&format!("{path}?cursor={cursor}&sort=name")).await;
    assert_eq!(same.status, StatusCode::OK);
}
