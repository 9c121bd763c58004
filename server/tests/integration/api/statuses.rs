//! What the API's HTTP layer adds to server-function answers: a status that names the error
//! (hand-made clients and access logs can tell bad input from a missing client from a crash), and
//! `Cache-Control: no-store` on every answer, above all the one that reveals a key.

use crate::support::{Engine, TestApp, engines};
use app::error::AppError;
use reqwest::StatusCode;

#[engines]
async fn errors_carry_a_status_that_says_what_they_are(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;

    let invalid = ann
        .post(
            "clients/create",
            &[
                ("client_id", "a/b"),
                ("key", "long-enough-key-123"),
                ("name", "X"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.body
    );
    assert!(matches!(
        invalid.decode::<()>(),
        Err(AppError::Invalid { .. })
    ));

    let missing = ann
        .post("clients/get", &[("client_id", "nobody-has-this")])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert!(matches!(missing.decode::<()>(), Err(AppError::NotFound(_))));

    let anonymous = app
        .anonymous()
        .post("clients/get", &[("client_id", "nobody-has-this")])
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
    assert!(matches!(
        anonymous.decode::<()>(),
        Err(AppError::Unauthorized)
    ));

    let malformed = ann
        .post(
            "clients/set_active",
            &[("client_id", "x"), ("active", "maybe")],
        )
        .await;
    assert_eq!(
        malformed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        malformed.body
    );
    assert!(matches!(
        malformed.decode::<()>(),
        Err(AppError::BadRequest(_))
    ));
    app.stop().await;
}

#[engines]
async fn api_answers_are_never_cached(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let created = ann
        .post(
            "clients/create",
            &[
                ("client_id", "boiler-01"),
                ("key", "first-own-key-0000"),
                ("name", "Boiler"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(
        created.body.contains("first-own-key-0000"),
        "the reveal carries the key"
    );
    assert_eq!(
        created
            .headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let refused = ann
        .post("clients/get", &[("client_id", "nobody-has-this")])
        .await;
    assert_eq!(
        refused
            .headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    app.stop().await;
}
