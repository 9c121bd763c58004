//! Redirects a browser without JavaScript follows: a signed-out visitor asking for a signed-in
//! page, and the sign-in, sign-up and sign-out forms posted as plain HTML forms, are answered
//! 303 See Other with the page to go to. A browser ignores `Location` on a 200, so anything else
//! leaves such a visitor on an empty page. Server functions called by the running app keep
//! answering 200 with the `serverfnredirect` header, which the app follows itself.

use crate::support::{Engine, Tenant, TestApp, engines, unique_suffix};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, LOCATION, REFERER, SET_COOKIE};

/// What Chromium sends when it navigates to a page or submits a form.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// The pages only a signed-in user sees.
const PROTECTED: [&str; 7] = [
    "/clients",
    "/devices",
    "/settings",
    "/settings/brokers",
    "/settings/members",
    "/settings/account",
    "/settings/activity",
];

/// An answer's status, `Location` and body.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    sets_cookie: bool,
    body: String,
}

async fn answer(response: reqwest::Response) -> Answer {
    let location = response
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().expect("an ASCII Location").to_owned());
    Answer {
        status: response.status(),
        location,
        sets_cookie: response.headers().contains_key(SET_COOKIE),
        body: response.text().await.expect("a body"),
    }
}

/// GETs `path` as `tenant`'s browser, with `accept` as its `Accept` header when given.
async fn get(tenant: &Tenant, path: &str, accept: Option<&str>) -> Answer {
    let mut request = tenant.http.get(format!("{}{path}", tenant.base));
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    answer(request.send().await.expect("the page answers")).await
}

/// POSTs `form` to the server function `endpoint` as a browser without JavaScript submits a form
/// on `from` (a page path).
async fn submit(tenant: &Tenant, endpoint: &str, from: &str, form: &[(&str, &str)]) -> Answer {
    let request = tenant
        .http
        .post(format!("{}/api/{endpoint}", tenant.base))
        .header(ACCEPT, BROWSER_ACCEPT)
        .header(REFERER, format!("{}{from}", tenant.base))
        .form(form);
    answer(request.send().await.expect("the form is answered")).await
}

#[track_caller]
fn assert_see_other(answer: &Answer, to: &str, what: &str) {
    assert_eq!(
        (answer.status, answer.location.as_deref()),
        (StatusCode::SEE_OTHER, Some(to)),
        "{what}: {}",
        answer.body
    );
}

#[engines]
async fn a_signed_out_visitor_is_redirected_to_sign_in_with_303(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let stranger = app.anonymous();
    for path in PROTECTED {
        // A client that does not say what it accepts (curl), and a browser navigating.
        for accept in [None, Some(BROWSER_ACCEPT)] {
            let answer = get(&stranger, path, accept).await;
            assert_see_other(&answer, "/signin", &format!("GET {path} ({accept:?})"));
            assert!(
                !answer.body.contains("<main"),
                "GET {path}: {}",
                answer.body
            );
        }
    }
    // The root sends everyone to the Clients page, signed in or not.
    assert_see_other(
        &get(&stranger, "/", Some(BROWSER_ACCEPT)).await,
        "/clients",
        "GET /",
    );
    // The sign-in page itself is a page, not a redirect.
    let answer = get(&stranger, "/signin", Some(BROWSER_ACCEPT)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.location.is_none());
    app.stop().await;
}

#[engines]
async fn a_signed_in_visitor_gets_the_page(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    for path in PROTECTED {
        let answer = get(&ann, path, Some(BROWSER_ACCEPT)).await;
        assert_eq!(answer.status, StatusCode::OK, "GET {path}");
        assert!(
            answer.location.is_none(),
            "GET {path}: {:?}",
            answer.location
        );
        assert!(answer.body.contains("<main"), "GET {path}: {}", answer.body);
        assert!(
            answer.body.contains(&ann.email),
            "GET {path}: the header names the user"
        );
    }
    assert_see_other(
        &get(&ann, "/", Some(BROWSER_ACCEPT)).await,
        "/clients",
        "GET /",
    );
    app.stop().await;
}

#[engines]
async fn the_sign_up_sign_out_and_sign_in_forms_without_javascript_redirect_with_303(
    engine: Engine,
) {
    let app = TestApp::spawn(engine).await;
    let email = format!("nojs-{}@example.test", unique_suffix());
    let password = "correct horse battery";
    let browser = app.anonymous();

    let answer = submit(
        &browser,
        "account/sign_up",
        "/signup",
        &[
            ("email", &email),
            ("password", password),
            ("organization", "No Script Ltd"),
        ],
    )
    .await;
    assert_see_other(&answer, "/clients", "sign-up");
    assert!(answer.sets_cookie, "sign-up starts a session");
    assert_eq!(
        get(&browser, "/clients", Some(BROWSER_ACCEPT)).await.status,
        StatusCode::OK
    );

    let answer = submit(&browser, "account/sign_out", "/clients", &[]).await;
    assert_see_other(&answer, "/signin", "sign-out");
    assert_see_other(
        &get(&browser, "/clients", Some(BROWSER_ACCEPT)).await,
        "/signin",
        "GET /clients after signing out",
    );

    let answer = submit(
        &browser,
        "account/sign_in",
        "/signin",
        &[("email", &email), ("password", password)],
    )
    .await;
    assert_see_other(&answer, "/clients", "sign-in");
    assert!(answer.sets_cookie, "sign-in starts a session");
    assert_eq!(
        get(&browser, "/clients", Some(BROWSER_ACCEPT)).await.status,
        StatusCode::OK
    );
    app.stop().await;
}

#[engines]
async fn the_running_app_still_gets_its_redirects_as_a_header(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let browser = app.anonymous();
    // The hydrated app's server-function client asks for JSON and follows `serverfnredirect`.
    let answer = browser
        .post_with(
            "account/sign_in",
            &[("email", &ann.email), ("password", &ann.password)],
            |r| r.header(ACCEPT, "application/json"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.headers.contains_key("serverfnredirect"));
    assert_eq!(answer.decode::<()>(), Ok(()));
    assert_eq!(
        get(&browser, "/clients", Some(BROWSER_ACCEPT)).await.status,
        StatusCode::OK
    );
    app.stop().await;
}

/// Sign-in continues at an invitation's page when asked to, and nowhere else: a `next` that names
/// another site, or anything but `/invite/TOKEN`, is the Clients page.
#[engines]
async fn sign_in_continues_only_to_an_invitation_page(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let ann = app.sign_up("Acme").await;
    let token = "/invite/kgi_9iCBEPAbDV4e3n24VfJeaps2emsiLWyTi4o8ZRvxKWyE";
    for (next, expected) in [
        (token, token),
        ("https://evil.example/", "/clients"),
        ("//evil.example/invite/x", "/clients"),
        ("/\\evil.example", "/clients"),
        ("/invite/../clients", "/clients"),
        ("/invite/x?then=https://evil.example", "/clients"),
        ("/invite/", "/clients"),
        ("", "/clients"),
    ] {
        let browser = app.anonymous();
        let answer = submit(
            &browser,
            "account/sign_in",
            "/signin",
            &[
                ("email", &ann.email),
                ("password", &ann.password),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(
            (answer.status, answer.location.as_deref()),
            (StatusCode::SEE_OTHER, Some(expected)),
            "next = {next:?}"
        );
    }
    app.stop().await;
}
