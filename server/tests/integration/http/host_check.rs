//! The Host check against DNS rebinding: with `--public-url` or `--allowed-hosts`, a request whose
//! `Host` is none of those names (a page of `attacker.example`, which the attacker made resolve to
//! Keygate's address) is refused with 421 before a session is loaded or anything runs, on every
//! route of the dashboard's listener: pages, server functions, static files, HTTP publish and the
//! webhooks. Without either flag every host is answered, as before.

use crate::broker::{Setup, topic};
use crate::support::{Engine, TestApp, count_rows, engines};
use reqwest::StatusCode;
use reqwest::header::{HOST, SET_COOKIE};
use serde_json::json;
use std::process::Command;

const PUBLIC_URL: &str = "https://keygate.example.test";
const SECRET: &str = "webhook-secret-for-tests-0123";

/// A status, whether the answer set a cookie, and its body.
struct Answer {
    status: StatusCode,
    sets_cookie: bool,
    body: String,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("an answer");
    Answer {
        status: response.status(),
        sets_cookie: response.headers().contains_key(SET_COOKIE),
        body: response.text().await.expect("a body"),
    }
}

/// Every kind of route on the dashboard's listener, each as a request for `host`: (what it is,
/// the request, its status when the host is one Keygate answers for).
fn every_route(
    setup: &Setup,
    host: &str,
) -> Vec<(&'static str, reqwest::RequestBuilder, StatusCode)> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let ann = &setup.tenant;
    let client = &setup.client;
    let c = &client.connection;
    vec![
        (
            "the sign-in page",
            http.get(setup.app.url("/signin")),
            StatusCode::OK,
        ),
        (
            "the sign-in server function",
            http.post(setup.app.url("/api/account/sign_in"))
                .form(&[("email", &ann.email), ("password", &ann.password)]),
            StatusCode::OK,
        ),
        (
            "the fallback for static files and unknown pages",
            http.get(setup.app.url("/no/such/page")),
            StatusCode::NOT_FOUND,
        ),
        (
            "HTTP publish",
            http.post(format!(
                "{}/{}",
                c.publish_url.as_deref().expect("HTTP publish is on"),
                topic(client, "telemetry")
            ))
            .basic_auth(c.client_id.as_str(), Some(client.key.expose()))
            .body("21.5"),
            StatusCode::OK,
        ),
        (
            "the EMQX authentication webhook",
            http.post(setup.app.url("/webhooks/emqx/authn"))
                .bearer_auth(SECRET)
                .json(&json!({
                    "clientid": c.client_id.as_str(),
                    "username": c.username_namespace(),
                    "password": client.key.expose(),
                })),
            StatusCode::OK,
        ),
    ]
    .into_iter()
    .map(|(what, request, status)| (what, request.header(HOST, host), status))
    .collect()
}

/// A Keygate that answers for `keygate.example.test` and, so the test's own browser gets in, for
/// 127.0.0.1 on any port.
async fn with_a_public_url(engine: Engine) -> Setup {
    Setup::with(engine, |c| {
        c.public_url = Some(PUBLIC_URL.parse().expect("a public URL"));
        c.allowed_hosts = vec!["127.0.0.1".parse().expect("a host")];
        c.webhook_secret = Some(SECRET.parse().expect("a webhook secret"));
    })
    .await
}

#[engines]
async fn a_request_for_another_host_is_refused_with_421_on_every_route(engine: Engine) {
    let setup = with_a_public_url(engine).await;
    let before = setup.app.counts().await;
    let sessions = count_rows(&setup.app.db, "sessions").await;
    for host in [
        "attacker.example",
        "attacker.example:443",
        "keygate.example.test.attacker.example",
        "keygate.example.test:8443",
        "localhost",
    ] {
        for (what, request, _) in every_route(&setup, host) {
            let answer = send(request).await;
            assert_eq!(
                answer.status,
                StatusCode::MISDIRECTED_REQUEST,
                "{what} for {host}: {}",
                answer.body
            );
            assert!(
                answer.body.contains("does not answer for this host name"),
                "{what} for {host}: {}",
                answer.body
            );
            assert!(!answer.sets_cookie, "{what} for {host}: no session");
        }
    }
    // Nothing ran: no sign-in was audited, no session written.
    assert_eq!(setup.app.counts().await, before);
    assert_eq!(count_rows(&setup.app.db, "sessions").await, sessions);
    setup.app.stop().await;
}

#[engines]
async fn the_public_url_host_with_or_without_its_port_is_answered(engine: Engine) {
    let setup = with_a_public_url(engine).await;
    for host in [
        "keygate.example.test",
        "keygate.example.test:443",
        "Keygate.Example.TEST",
    ] {
        for (what, request, answered) in every_route(&setup, host) {
            let answer = send(request).await;
            assert_eq!(
                answer.status, answered,
                "{what} for {host}: {}",
                answer.body
            );
        }
    }
    setup.app.stop().await;
}

#[engines]
async fn an_allowed_host_with_a_port_matches_that_port_only(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| {
        c.allowed_hosts = ["localhost:3000", "10.0.0.5", "[::1]:3000"]
            .into_iter()
            .map(|h| h.parse().expect("a host"))
            .collect();
    })
    .await;
    let http = reqwest::Client::new();
    let status = |host: String| {
        let request = http.get(app.url("/signin")).header(HOST, host);
        async move { request.send().await.expect("an answer").status() }
    };
    for host in [
        "localhost:3000",
        "LOCALHOST:3000",
        "10.0.0.5",
        "10.0.0.5:8080",
        "[::1]:3000",
    ] {
        assert_eq!(status(host.into()).await, StatusCode::OK, "{host}");
    }
    let listening = app.base.trim_start_matches("http://").to_owned();
    for host in [
        "localhost",
        "localhost:3001",
        "[::1]",
        "10.0.0.50",
        "attacker.example",
        listening.as_str(),
    ] {
        assert_eq!(
            status(host.into()).await,
            StatusCode::MISDIRECTED_REQUEST,
            "{host}"
        );
    }
    app.stop().await;
}

#[engines]
async fn without_either_flag_every_host_is_answered(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().expect("a webhook secret"));
    })
    .await;
    for host in ["attacker.example", "keygate.example.test"] {
        for (what, request, answered) in every_route(&setup, host) {
            let answer = send(request).await;
            assert_eq!(
                answer.status, answered,
                "{what} for {host}: {}",
                answer.body
            );
        }
    }
    setup.app.stop().await;
}

/// `keygate ARGS` with a database nobody else uses; its exit status and what it wrote to stderr.
fn keygate(args: &[&str]) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_keygate"))
        .args(["--listen", "127.0.0.1:0", "--no-broker"])
        .args(args)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("k.db").display()),
        )
        .env("NO_COLOR", "1")
        .output()
        .expect("keygate runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_malformed_public_url_or_allowed_host_stops_the_binary_with_a_readable_message() {
    for (args, says) in [
        (
            ["--public-url", "keygate.example.com"],
            "give the address users open, e.g. https://keygate.example.com",
        ),
        (
            ["--public-url", "ftp://keygate.example.com"],
            "http or https",
        ),
        (["--public-url", "https://"], "no host"),
        (
            ["--public-url", "https://keygate.example.com/dashboard"],
            "no path",
        ),
        (
            ["--public-url", "https://user@keygate.example.com"],
            "no user name",
        ),
        (
            ["--allowed-hosts", "https://keygate.example.com"],
            "a host name",
        ),
        (["--allowed-hosts", "keygate.example.com/x"], "a host name"),
        (
            ["--allowed-hosts", "keygate.example.com:99999"],
            "a host name",
        ),
    ] {
        let (status, stderr) = keygate(&args);
        assert!(!status.success(), "{args:?} was accepted");
        assert!(
            stderr.contains(&format!("invalid value '{}' for '{}", args[1], args[0]))
                && stderr.contains(says),
            "{args:?}: {stderr}"
        );
    }
}
