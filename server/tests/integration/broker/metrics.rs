//! The Prometheus endpoint (`--metrics-listen`), scraped over HTTP as Prometheus would: real MQTT
//! connects (accepted and refused), webhook logins, a revocation and dashboard requests move
//! exactly the numbers they should. Each Keygate counts into a recorder of its own, so these exact
//! counts hold while other tests, and this test's other engine, run in the same process.

use crate::broker::device::{Device, Login, Version};
use crate::broker::webhooks::{SECRET, webhook};
use crate::broker::{Form, Setup, login};
use crate::support::scrape::Scrape;
use crate::support::{Engine, TestApp, TestDatabase, engines, eventually, outbox_done};
use app::model::ClientKey;
use clap::Parser;
use serde_json::json;
use std::time::Duration;

const CONNECTS: &str = "keygate_device_connects_total";
const EMBEDDED_TARGET: &str = "embedded:keygate";

#[engines]
async fn connects_sessions_a_revocation_and_requests_are_counted(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        c.webhook_secret = Some(SECRET.parse().unwrap());
    })
    .await;
    let metrics = setup.app.running().metrics_addr().expect("metrics are on");
    assert_ne!(
        format!("http://{metrics}"),
        setup.app.base,
        "a listener of its own"
    );

    let scrape = Scrape::of(metrics).await;
    for name in [
        "keygate_key_verification_queue_depth",
        "keygate_mqtt_sessions",
        "keygate_revocation_queue_depth",
        "keygate_revocation_needs_attention",
        "keygate_http_request_duration_seconds",
    ] {
        assert!(
            scrape.text.contains(&format!("# HELP {name} ")),
            "{name} has its help text:\n{}",
            scrape.text
        );
    }
    assert_eq!(
        scrape.value("keygate_mqtt_sessions", &[("state", "online")]),
        Some(0.0)
    );
    assert_eq!(
        scrape.value(
            "keygate_revocation_queue_depth",
            &[("target", EMBEDDED_TARGET)]
        ),
        Some(0.0)
    );

    // The embedded broker: the right key (held open), a wrong key, a Client ID nobody has.
    let mut device = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, setup.key()),
    )
    .await
    .expect("the right key connects");
    let wrong = ClientKey::generate();
    for login in [
        login(Form::Namespace, &setup.client, wrong.expose()),
        Login::new(
            "c-nobody00",
            setup.client.connection.username_namespace(),
            setup.key(),
        ),
    ] {
        assert!(
            Device::connect(Version::V5, &setup.tcp(), &login)
                .await
                .is_err()
        );
    }
    // The webhooks: the right key (verified before, so no argon2id) and a wrong one.
    let c = &setup.client.connection;
    for key in [setup.key(), wrong.expose()] {
        let body = json!({
            "clientid": "gateway-1", "username": c.username_with_org(),
            "password": key, "peerhost": "10.1.2.3",
        });
        let (status, _) = webhook(&setup, "/webhooks/emqx/authn", &body).await;
        assert_eq!(status, 200);
    }

    let scrape = Scrape::of(metrics).await;
    let connects = |path, outcome, reason: Option<&str>| {
        let mut labels = vec![("path", path), ("outcome", outcome)];
        labels.extend(reason.map(|r| ("reason", r)));
        scrape.count(CONNECTS, &labels)
    };
    assert_eq!(connects("embedded", "allowed", None), 1.0);
    assert_eq!(
        connects("embedded", "bad_credentials", Some("bad_credentials")),
        1.0
    );
    assert_eq!(
        connects("embedded", "unknown_client", Some("unknown_client")),
        1.0
    );
    assert_eq!(connects("webhook", "allowed", None), 1.0);
    assert_eq!(
        connects("webhook", "bad_credentials", Some("bad_credentials")),
        1.0
    );
    // argon2id ran for the first right key, the wrong keys and the unknown client's decoy.
    let verifications = setup.app.running().device_auth.verifier().verifications();
    assert_eq!(verifications, 4);
    for histogram in [
        "keygate_key_verification_seconds_count",
        "keygate_key_verification_wait_seconds_count",
    ] {
        assert_eq!(
            scrape.count(histogram, &[]),
            verifications as f64,
            "{histogram}"
        );
    }
    assert_eq!(
        scrape.value("keygate_key_verification_queue_depth", &[]),
        Some(0.0)
    );
    let online = || async {
        Scrape::of(metrics)
            .await
            .count("keygate_mqtt_sessions", &[("state", "online")])
    };
    assert!(
        eventually(Duration::from_secs(5), || async { online().await == 1.0 }).await,
        "the connected device is a live session"
    );

    // A revocation: delivered to the embedded broker once, which closes the device's session.
    let (_, _) = setup.regenerate().await;
    let id = setup.client.connection.client_id.to_string();
    assert!(
        eventually(Duration::from_secs(10), || async {
            outbox_done(&setup.app.db, &id).await == [true]
        })
        .await,
        "the revocation is delivered"
    );
    assert!(device.closed_within(Duration::from_secs(5)).await);
    let scrape = Scrape::of(metrics).await;
    let target = [("target", EMBEDDED_TARGET)];
    assert_eq!(
        scrape.count(
            "keygate_revocation_deliveries_total",
            &[("target", EMBEDDED_TARGET), ("result", "delivered")]
        ),
        1.0
    );
    assert_eq!(
        scrape.count("keygate_revocation_delivery_seconds_count", &target),
        1.0
    );
    assert_eq!(
        scrape.value("keygate_revocation_queue_depth", &target),
        Some(0.0)
    );
    assert_eq!(
        scrape.value("keygate_revocation_needs_attention", &target),
        Some(0.0)
    );
    assert!(
        eventually(Duration::from_secs(5), || async { online().await == 0.0 }).await,
        "the revoked session is gone"
    );

    // Dashboard requests, by route pattern: a page twice, and a path that matches no route.
    for _ in 0..2 {
        let (status, _) = setup.tenant.page("/clients").await;
        assert!(status.is_success());
    }
    let (status, _) = setup.tenant.page("/no/such/page-7f3a").await;
    assert_eq!(status, 404);
    let scrape = Scrape::of(metrics).await;
    let requests = |route, method, status| {
        scrape.count(
            "keygate_http_request_duration_seconds_count",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(requests("/api/account/sign_up", "POST", "2xx"), 1.0);
    assert_eq!(requests("/api/clients/create", "POST", "2xx"), 1.0);
    assert_eq!(requests("/api/clients/regenerate_key", "POST", "2xx"), 1.0);
    assert_eq!(requests("/clients", "GET", "2xx"), 2.0);
    assert_eq!(requests("/webhooks/emqx/authn", "POST", "2xx"), 2.0);
    assert_eq!(requests("fallback", "GET", "4xx"), 1.0);
    assert!(
        !scrape.text.contains("7f3a") && !scrape.text.contains("/metrics"),
        "a raw path never becomes a label, and scrapes are not dashboard requests"
    );
    setup.app.stop().await;
}

#[engines]
async fn metrics_are_off_unless_asked_for_and_a_taken_address_is_named(engine: Engine) {
    // Off by default: no address, no recorder, and the dashboard serves no metrics of its own.
    assert_eq!(server::config::Config::defaults().metrics_listen, None);
    let app = TestApp::spawn(engine).await;
    assert_eq!(app.running().metrics_addr(), None);
    let response = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(!response.text().await.unwrap().contains("keygate_"));
    app.stop().await;

    // An address that is not one is refused by the flag, saying what it wants.
    let refused =
        server::config::Config::try_parse_from(["keygate", "--metrics-listen", "metrics:9464"])
            .unwrap_err()
            .to_string();
    assert!(
        refused.contains("--metrics-listen") && refused.contains("give an IP address and a port"),
        "{refused}"
    );

    // An address another process holds stops the start, naming the flag and the address.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let database = TestDatabase::create(engine).await;
    let config = server::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        mqtt_listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database.url.clone(),
        metrics_listen: Some(addr),
        ..server::config::Config::defaults()
    };
    let error = match server::start(config).await {
        Ok(_) => panic!("started on a taken metrics address"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.starts_with(&format!(
            "cannot listen for metrics (--metrics-listen) on {addr}: "
        )),
        "{error}"
    );
}
