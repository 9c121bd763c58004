//! The OpenAPI document against the routes that exist: every operation it lists answers (a
//! request without a token is a 401 problem, not a missing route), and it is the document checked
//! in at docs/openapi.json, so a change of the API is a reviewed change of that file.
//! `KEYGATE_WRITE_OPENAPI=1` rewrites the file instead of comparing.

use super::Script;
use crate::support::{Engine, TestApp, engines};
use reqwest::{Method, StatusCode};

const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");

#[engines]
async fn every_documented_operation_exists_and_the_document_is_checked_in(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let anonymous = Script::new(&app.base, None);
    let served = anonymous.get("/api/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    let document = &served.body;
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));

    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        // A path parameter that names nothing: the route answers before any lookup.
        let concrete = path
            .replace("{workspace_id}", "no-such-workspace")
            .replace("{client_id}", "no-such-client");
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(
                operation_ids.insert(id.to_owned()),
                "operationId {id} twice"
            );
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = anonymous.send(method.clone(), &concrete, None, &[]).await;
            answer.problem(StatusCode::UNAUTHORIZED, None);
            operations += 1;
        }
    }
    assert!(operations >= 11, "only {operations} operations documented");
    // A method or a path that is not documented does not answer.
    anonymous
        .send(Method::PUT, "/api/v1/clients/no-such-client", None, &[])
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED, None);
    anonymous
        .get("/api/v1/tokens")
        .await
        .problem(StatusCode::NOT_FOUND, None);

    let generated = serde_json::to_string_pretty(&server::rest::openapi()).unwrap() + "\n";
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&generated).unwrap(),
        *document,
        "the served document is the generated one"
    );
    if std::env::var_os("KEYGATE_WRITE_OPENAPI").is_some() {
        std::fs::write(CHECKED_IN, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json differs from the API: review the change, then rerun this test with \
         KEYGATE_WRITE_OPENAPI=1 to rewrite it"
    );
}
