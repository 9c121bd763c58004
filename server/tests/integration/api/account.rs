//! Sign-up, sign-in, sign-out, sessions, and the checks every request passes first (signed in,
//! same origin).

use crate::support::{Counts, Engine, TestApp, engines, expect_field_error, unique_suffix};
use app::error::AppError;
use app::model::{FieldError, Me};

#[engines]
async fn sign_up_creates_an_organization_with_a_default_workspace_and_signs_in(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let before = app.counts().await;
    let visitor = app.anonymous();
    assert_eq!(
        visitor.call::<Option<Me>>("account/me", &[]).await,
        Ok(None)
    );
    let email = format!("Ann-{}@Example.test", unique_suffix());
    let answer = visitor
        .post(
            "account/sign_up",
            &[
                ("email", &email),
                ("password", "correct horse battery"),
                ("organization", "Acme Corp"),
            ],
        )
        .await;
    assert_eq!(answer.decode::<()>(), Ok(()));
    assert!(
        !answer.body.contains("correct horse"),
        "the answer never echoes the password"
    );

    let me = visitor.me().await;
    assert_eq!(me.email, email.to_lowercase());
    assert_eq!(me.organization_name, "Acme Corp");
    assert_eq!(me.workspaces.len(), 1);
    let default = &me.workspaces[0];
    assert_eq!(default.name, "Default");
    assert_eq!(default.namespace.as_str(), "acme-corp");
    assert_eq!(default.client_count, 0);
    assert_eq!(me.current_workspace_id, default.id);

    let after = app.counts().await;
    assert_eq!(after.organizations, before.organizations + 1);
    assert_eq!(after.users, before.users + 1);
    assert_eq!(after.workspaces, before.workspaces + 1);
    assert_eq!(after.audit_events, before.audit_events + 1);
    let activity = visitor
        .call::<app::model::ActivityPage>("activity/list", &[])
        .await
        .unwrap()
        .entries;
    assert_eq!(activity[0].action.as_str(), "organization.created");
    assert_eq!(activity[0].address, "127.0.0.1");
    app.stop().await;
}

#[engines]
async fn sign_up_with_a_taken_email_is_an_email_field_error_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let before = app.counts().await;
    for email in [ann.email.clone(), ann.email.to_uppercase()] {
        let result = app
            .anonymous()
            .call::<()>(
                "account/sign_up",
                &[
                    ("email", &email),
                    ("password", "another long password"),
                    ("organization", "Impostor"),
                ],
            )
            .await;
        expect_field_error(result, FieldError::Email);
    }
    assert_eq!(app.counts().await, before);
    app.stop().await;
}

#[engines]
async fn sign_up_bad_input_is_a_field_error_at_that_field_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let long_email = format!("{}@example.test", "a".repeat(250));
    let long_password = "p".repeat(257);
    let long_org = "o".repeat(81);
    let good = ("ann@example.test", "correct horse battery", "Acme");
    let cases: Vec<((&str, &str, &str), FieldError)> = vec![
        (("", good.1, good.2), FieldError::Email),
        (("ann", good.1, good.2), FieldError::Email),
        (("ann@example", good.1, good.2), FieldError::Email),
        (("a b@example.test", good.1, good.2), FieldError::Email),
        ((&long_email, good.1, good.2), FieldError::Email),
        ((good.0, "", good.2), FieldError::Password),
        ((good.0, "123456789", good.2), FieldError::Password),
        ((good.0, &long_password, good.2), FieldError::Password),
        ((good.0, good.1, ""), FieldError::OrgName),
        ((good.0, good.1, "   "), FieldError::OrgName),
        ((good.0, good.1, &long_org), FieldError::OrgName),
        ((good.0, good.1, "Acme\u{7}"), FieldError::OrgName),
    ];
    let before = app.counts().await;
    for ((email, password, organization), field) in cases {
        let visitor = app.anonymous();
        let result = visitor
            .call::<()>(
                "account/sign_up",
                &[
                    ("email", email),
                    ("password", password),
                    ("organization", organization),
                ],
            )
            .await;
        let message = expect_field_error(result, field);
        assert!(
            !message.contains(password) || password.is_empty(),
            "the message never repeats the password"
        );
        assert_eq!(
            visitor.call::<Option<Me>>("account/me", &[]).await,
            Ok(None),
            "a refused sign-up signs nobody in"
        );
    }
    assert_eq!(app.counts().await, before);
    app.stop().await;
}

#[engines]
async fn sign_in_with_the_right_password_signs_in_whatever_the_email_case(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let before = app.counts().await;
    let laptop = app.anonymous();
    laptop
        .sign_in(&ann.email.to_uppercase(), &ann.password)
        .await
        .unwrap();
    let me = laptop.me().await;
    assert_eq!(me.email, ann.email);
    assert_eq!(me.current_workspace_id, me.workspaces[0].id);
    assert_eq!(app.counts().await.audit_events, before.audit_events + 1);
    let activity = laptop
        .call::<app::model::ActivityPage>("activity/list", &[])
        .await
        .unwrap()
        .entries;
    assert_eq!(activity[0].action.as_str(), "user.signed_in");
    app.stop().await;
}

#[engines]
async fn sign_in_with_a_wrong_password_is_a_password_error_and_stays_signed_out(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let before = app.counts().await;
    let laptop = app.anonymous();
    let message = expect_field_error(
        laptop.sign_in(&ann.email, "not the password").await,
        FieldError::Password,
    );
    assert!(!message.contains("not the password"));
    assert_eq!(laptop.call::<Option<Me>>("account/me", &[]).await, Ok(None));
    // Nothing changes but the audit log, which shows the organization the failed attempt.
    let after = app.counts().await;
    assert_eq!(after.audit_events, before.audit_events + 1);
    assert_eq!(
        Counts {
            audit_events: before.audit_events,
            ..after
        },
        before
    );
    let activity = ann
        .call::<app::model::ActivityPage>("activity/list", &[])
        .await
        .unwrap()
        .entries;
    assert_eq!(activity[0].action.as_str(), "user.sign_in_failed");
    assert!(!activity[0].target.contains("not the password"));
    expect_field_error(laptop.sign_in("", "whatever").await, FieldError::Email);
    app.stop().await;
}

#[engines]
async fn sign_in_with_an_unknown_email_answers_like_a_wrong_password(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let wrong_password = app
        .anonymous()
        .sign_in(&ann.email, "not the password")
        .await;
    let unknown_email = app
        .anonymous()
        .sign_in("nobody@example.test", &ann.password)
        .await;
    expect_field_error(unknown_email.clone(), FieldError::Password);
    assert_eq!(
        unknown_email, wrong_password,
        "the answer does not reveal which emails have accounts"
    );
    app.stop().await;
}

#[engines]
async fn repeated_failed_sign_ins_are_throttled_even_with_the_right_password(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let laptop = app.anonymous();
    for _ in 0..5 {
        expect_field_error(
            laptop.sign_in(&ann.email, "not the password").await,
            FieldError::Password,
        );
    }
    let _sixth = laptop.sign_in(&ann.email, "not the password").await;
    match laptop.sign_in(&ann.email, &ann.password).await {
        Err(AppError::TooManyAttempts(seconds)) => assert!(seconds >= 1),
        other => panic!("expected TooManyAttempts, got {other:?}"),
    }
    assert_eq!(laptop.call::<Option<Me>>("account/me", &[]).await, Ok(None));
    app.stop().await;
}

#[engines]
async fn sign_in_issues_a_new_session_id_and_retires_the_old_one(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let first = ann.cookie_header().expect("a session cookie after sign-up");
    ann.sign_in(&ann.email, &ann.password).await.unwrap();
    let second = ann.cookie_header().expect("a session cookie after sign-in");
    assert_ne!(first, second, "the session id is cycled at sign-in");
    assert_eq!(ann.me().await.email, ann.email);

    let replay = replay_with_cookie(&app, &first, "account/me").await;
    assert_eq!(replay.decode::<Option<Me>>(), Ok(None));
    app.stop().await;
}

async fn replay_with_cookie(
    app: &TestApp,
    cookie: &str,
    endpoint: &str,
) -> crate::support::RawResponse {
    app.anonymous()
        .post_with(endpoint, &[], |r| r.header(reqwest::header::COOKIE, cookie))
        .await
}

#[engines]
async fn sign_out_ends_the_session_on_the_server(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let cookie = ann.cookie_header().expect("a session cookie");
    ann.call::<()>("account/sign_out", &[]).await.unwrap();
    assert_eq!(ann.call::<Option<Me>>("account/me", &[]).await, Ok(None));
    assert_eq!(
        ann.call::<app::model::ClientPage>(
            "clients/list",
            &[
                ("search", ""),
                ("sort", "created"),
                ("descending", "false"),
                ("page", "1")
            ]
        )
        .await,
        Err(AppError::Unauthorized)
    );
    // A copy of the old cookie (a stolen one) is worth nothing either.
    let replay = replay_with_cookie(&app, &cookie, "account/me").await;
    assert_eq!(replay.decode::<Option<Me>>(), Ok(None));
    app.stop().await;
}

#[engines]
async fn unauthenticated_calls_are_unauthorized_and_change_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let revealed = ann.new_client("Boiler").await;
    let client_id = revealed.row.client_id.as_str();
    let workspace_id = ann.me().await.current_workspace_id;
    let before = app.counts().await;
    let stored = crate::support::stored_client(&app.db, client_id).await;

    let key = app::model::ClientKey::generate();
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "clients/list",
            vec![
                ("search", ""),
                ("sort", "created"),
                ("descending", "false"),
                ("page", "1"),
            ],
        ),
        ("clients/available", vec![("client_id", "free-id")]),
        (
            "clients/create",
            vec![
                ("client_id", "new-one"),
                ("key", key.expose()),
                ("name", "New"),
                ("description", ""),
            ],
        ),
        ("clients/get", vec![("client_id", client_id)]),
        (
            "clients/update",
            vec![
                ("client_id", client_id),
                ("name", "Renamed"),
                ("description", ""),
            ],
        ),
        (
            "clients/set_active",
            vec![("client_id", client_id), ("active", "false")],
        ),
        (
            "clients/regenerate_key",
            vec![("client_id", client_id), ("key", key.expose())],
        ),
        ("clients/delete", vec![("client_id", client_id)]),
        (
            "workspaces/create",
            vec![("name", "Staging"), ("namespace", "stolen-staging")],
        ),
        (
            "workspaces/rename",
            vec![("id", &workspace_id), ("name", "Renamed")],
        ),
        ("workspaces/switch", vec![("id", &workspace_id)]),
        ("activity/list", vec![]),
        ("account/set_view", vec![("view", "Cards")]),
    ];
    let stranger = app.anonymous();
    for (endpoint, form) in calls {
        let answer = stranger.post(endpoint, &form).await;
        assert_eq!(
            answer.decode::<serde_json::Value>(),
            Err(AppError::Unauthorized),
            "{endpoint}"
        );
    }
    assert_eq!(
        stranger.call::<Option<Me>>("account/me", &[]).await,
        Ok(None)
    );
    assert_eq!(app.counts().await, before);
    assert_eq!(
        crate::support::stored_client(&app.db, client_id).await,
        stored
    );
    app.stop().await;
}

#[engines]
async fn cross_origin_post_is_refused_with_403_and_changes_nothing(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let before = app.counts().await;
    let key = app::model::ClientKey::generate();
    let form = [
        ("client_id", "from-evil"),
        ("key", key.expose()),
        ("name", "Evil"),
        ("description", ""),
    ];
    for origin in ["http://evil.example", "null", "https://evil.example:443"] {
        let answer = ann
            .post_with("clients/create", &form, |r| {
                r.header(reqwest::header::ORIGIN, origin)
            })
            .await;
        assert_eq!(answer.status, reqwest::StatusCode::FORBIDDEN, "{origin}");
        let answer = app
            .anonymous()
            .post_with(
                "account/sign_in",
                &[("email", &ann.email), ("password", &ann.password)],
                |r| r.header(reqwest::header::ORIGIN, origin),
            )
            .await;
        assert_eq!(answer.status, reqwest::StatusCode::FORBIDDEN, "{origin}");
        assert!(answer.headers.get(reqwest::header::SET_COOKIE).is_none());
    }
    assert_eq!(app.counts().await, before);

    // The same request from the dashboard's own origin goes through.
    let answer = ann
        .post_with("clients/create", &form, |r| {
            r.header(reqwest::header::ORIGIN, app.base.as_str())
        })
        .await;
    let revealed: app::model::RevealedKey = answer.decode().unwrap();
    assert_eq!(revealed.row.client_id.as_str(), "from-evil");
    app.stop().await;
}

#[engines]
async fn a_request_missing_an_argument_is_refused_as_malformed(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let before = app.counts().await;
    let result = ann
        .call::<serde_json::Value>("clients/create", &[("client_id", "half-a-form")])
        .await;
    assert!(matches!(result, Err(AppError::BadRequest(_))), "{result:?}");
    let result = ann
        .call::<serde_json::Value>(
            "clients/set_active",
            &[("client_id", "whatever"), ("active", "maybe")],
        )
        .await;
    assert!(matches!(result, Err(AppError::BadRequest(_))), "{result:?}");
    assert_eq!(app.counts().await, before);
    app.stop().await;
}

#[engines]
async fn closed_sign_up_admits_only_the_first_organization(engine: Engine) {
    let app = TestApp::spawn_with(engine, |config| config.open_signup = false).await;
    assert_eq!(
        app.anonymous()
            .call::<bool>("account/signup_open", &[])
            .await,
        Ok(true)
    );
    let first = app.sign_up("First").await;
    assert_eq!(first.me().await.organization_name, "First");
    assert_eq!(
        app.anonymous()
            .call::<bool>("account/signup_open", &[])
            .await,
        Ok(false)
    );

    let before = app.counts().await;
    let result = app
        .anonymous()
        .call::<()>(
            "account/sign_up",
            &[
                ("email", "second@example.test"),
                ("password", "correct horse battery"),
                ("organization", "Second"),
            ],
        )
        .await;
    assert!(matches!(result, Err(AppError::Forbidden(_))), "{result:?}");
    assert_eq!(app.counts().await, before);
    app.stop().await;
}

#[engines]
async fn the_session_cookie_is_http_only_and_same_site_lax(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let answer = app
        .anonymous()
        .post(
            "account/sign_up",
            &[
                ("email", "ann@example.test"),
                ("password", "correct horse battery"),
                ("organization", "Acme"),
            ],
        )
        .await;
    answer.decode::<()>().unwrap();
    let cookie = answer
        .headers
        .get(reqwest::header::SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("keygate_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    app.stop().await;

    let app = TestApp::spawn_with(engine, |config| config.secure_cookies = true).await;
    let answer = app
        .anonymous()
        .post(
            "account/sign_up",
            &[
                ("email", "ann@example.test"),
                ("password", "correct horse battery"),
                ("organization", "Acme"),
            ],
        )
        .await;
    answer.decode::<()>().unwrap();
    let cookie = answer.headers[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    app.stop().await;
}
