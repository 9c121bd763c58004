//! Settings → Events from the outside, with a real HTTP endpoint on 127.0.0.1: every event's
//! signature verifies with the Standard Webhooks reference implementation (the PyPI package
//! `standardwebhooks`, from `KEYGATE_TEST_PYTHON`); an endpoint that is down gets every event once
//! it is back, in order, each delivered once; a delivery can be resent; another organization can
//! neither see nor touch an endpoint or its deliveries; bad input is a field error that changes
//! nothing.

use crate::support::event_receiver::{EventReceiver, refusing_address};
use crate::support::{
    Engine, Tenant, TestApp, count_rows, engines, eventually, expect_field_error, expect_not_found,
};
use app::error::AppError;
use app::model::{
    DeliveryState, EventDeliveryRow, EventEndpointRow, FieldError, IssuedEventEndpoint,
};
use std::time::Duration;

const ALL_EVENTS: &str = "client.created,client.updated,client.key_regenerated,client.deactivated,client.activated,client.deleted,client.auth_failures";

/// Keygate with retries a test can wait for: 50 ms, doubling up to 1 s.
async fn app(engine: Engine) -> TestApp {
    TestApp::spawn_with(engine, |c| {
        c.event_retry_min_ms = 50;
        c.event_retry_max_secs = 1;
    })
    .await
}

async fn add_endpoint(
    tenant: &Tenant,
    url: &str,
    event_types: &str,
) -> Result<IssuedEventEndpoint, AppError> {
    tenant
        .call(
            "events/create",
            &[("url", url), ("event_types", event_types)],
        )
        .await
}

async fn deliveries(tenant: &Tenant, endpoint: &str) -> Result<Vec<EventDeliveryRow>, AppError> {
    tenant.call("events/deliveries", &[("id", endpoint)]).await
}

/// Verifies one received event with the reference implementation: `Webhook(secret).verify(body,
/// headers)`. The verified payload's JSON, or the library's refusal.
async fn reference_verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &str,
) -> Result<serde_json::Value, String> {
    const SCRIPT: &str = "import json, sys\n\
        from standardwebhooks.webhooks import Webhook\n\
        secret, msg_id, timestamp, signature = sys.argv[1:5]\n\
        body = sys.stdin.read()\n\
        headers = {'webhook-id': msg_id, 'webhook-timestamp': timestamp, 'webhook-signature': signature}\n\
        print(json.dumps(Webhook(secret).verify(body, headers)))\n";
    let python = std::env::var("KEYGATE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let args = [secret, id, timestamp, signature].map(str::to_owned);
    let body = body.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new(&python)
            .arg("-c")
            .arg(SCRIPT)
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} (KEYGATE_TEST_PYTHON): {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("No module named 'standardwebhooks'"),
            "{python} lacks standardwebhooks: run scripts/install.sh"
        );
        if out.status.success() {
            Ok(serde_json::from_slice(&out.stdout).expect("the verified payload"))
        } else {
            Err(stderr)
        }
    })
    .await
    .unwrap()
}

#[engines]
async fn an_event_verifies_with_the_standard_webhooks_reference_and_carries_no_key(engine: Engine) {
    let app = app(engine).await;
    let owner = app.sign_up("Acme").await;
    let receiver = EventReceiver::start(&[]).await;
    let issued = add_endpoint(&owner, &receiver.url(), "client.created,client.deleted")
        .await
        .expect("an endpoint");
    assert!(issued.secret.starts_with("whsec_"));
    let listed: Vec<EventEndpointRow> = owner.call("events/list", &[]).await.unwrap();
    assert_eq!(listed, vec![issued.row.clone()]);
    let raw = owner.post("events/list", &[]).await;
    assert!(
        !raw.body.contains(&issued.secret),
        "the list never shows a secret"
    );

    let client = owner.new_client("Boiler").await;
    assert!(
        eventually(Duration::from_secs(10), || async {
            receiver.delivered().len() == 1
        })
        .await,
        "the event arrives: {:?}",
        receiver.requests()
    );
    let event = &receiver.delivered()[0];
    assert!(event.id.starts_with("msg_"), "{}", event.id);
    assert!(event.signature.starts_with("v1,"), "{}", event.signature);
    let payload = reference_verify(
        &issued.secret,
        &event.id,
        &event.timestamp,
        &event.signature,
        &event.body,
    )
    .await
    .expect("the reference implementation verifies the signature");
    let me = owner.me().await;
    assert_eq!(payload["type"], "client.created");
    assert_eq!(payload["data"]["client_id"], client.row.client_id.as_str());
    assert_eq!(payload["data"]["name"], "Boiler");
    assert_eq!(payload["data"]["active"], true);
    assert_eq!(payload["data"]["organization_id"], me.organization_id);
    assert_eq!(payload["data"]["workspace_id"], me.current_workspace_id);
    let timestamp = payload["timestamp"].as_str().unwrap();
    assert!(
        timestamp.len() == 24 && timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b'T',
        "ISO 8601: {timestamp}"
    );
    assert!(!event.body.contains(client.key.expose()), "never the key");
    assert!(!event.body.contains("$keygate") && !event.body.contains("hash"));
    // A body or a secret that differs does not verify: the check is real.
    let tampered = event.body.replace("Boiler", "Boilor");
    assert!(
        reference_verify(
            &issued.secret,
            &event.id,
            &event.timestamp,
            &event.signature,
            &tampered
        )
        .await
        .is_err()
    );
    let other = add_endpoint(&owner, &receiver.url(), "client.created")
        .await
        .unwrap();
    assert!(
        reference_verify(
            &other.secret,
            &event.id,
            &event.timestamp,
            &event.signature,
            &event.body
        )
        .await
        .is_err()
    );
    // Updates are not among the endpoint's events; a deletion is, without name or status.
    owner
        .call::<serde_json::Value>(
            "clients/update",
            &[
                ("client_id", client.row.client_id.as_str()),
                ("name", "Renamed"),
                ("description", ""),
            ],
        )
        .await
        .unwrap();
    owner
        .call::<()>(
            "clients/delete",
            &[("client_id", client.row.client_id.as_str())],
        )
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            receiver.delivered().len() == 2
        })
        .await
    );
    let deleted = receiver.delivered()[1].json();
    assert_eq!(deleted["type"], "client.deleted");
    assert_eq!(deleted["data"]["client_id"], client.row.client_id.as_str());
    assert!(deleted["data"].get("name").is_none(), "{deleted}");
    receiver.stop();
    app.stop().await;
}

#[engines]
async fn an_endpoint_that_was_down_gets_every_event_in_order_exactly_once(engine: Engine) {
    let app = app(engine).await;
    let owner = app.sign_up("Acme").await;
    let addr = refusing_address();
    let url = format!("http://{addr}/hooks/keygate");
    let endpoint = add_endpoint(&owner, &url, ALL_EVENTS).await.unwrap().row;

    // Six changes while nothing listens.
    let client = owner.new_client("Sensor").await;
    let id = client.row.client_id.as_str();
    owner
        .call::<serde_json::Value>(
            "clients/update",
            &[("client_id", id), ("name", "Sensor 2"), ("description", "")],
        )
        .await
        .unwrap();
    for active in ["false", "true"] {
        owner
            .call::<serde_json::Value>(
                "clients/set_active",
                &[("client_id", id), ("active", active)],
            )
            .await
            .unwrap();
    }
    owner
        .call::<serde_json::Value>(
            "clients/regenerate_key",
            &[
                ("client_id", id),
                ("key", app::model::ClientKey::generate().expose()),
            ],
        )
        .await
        .unwrap();
    owner
        .call::<()>("clients/delete", &[("client_id", id)])
        .await
        .unwrap();
    let expected = [
        "client.created",
        "client.updated",
        "client.deactivated",
        "client.activated",
        "client.key_regenerated",
        "client.deleted",
    ];

    // The first is tried and fails while the endpoint is down; the others wait behind it.
    assert!(
        eventually(Duration::from_secs(10), || async {
            let rows = deliveries(&owner, &endpoint.id).await.unwrap();
            rows.last().is_some_and(|first| first.attempts >= 2)
        })
        .await,
        "the first event is retried"
    );
    let waiting = deliveries(&owner, &endpoint.id).await.unwrap();
    assert_eq!(waiting.len(), expected.len());
    let first = waiting.last().unwrap();
    assert_eq!(first.state(), DeliveryState::Failing);
    assert!(
        first.last_error.as_deref().unwrap().contains("connect"),
        "{first:?}"
    );
    assert!(first.next_attempt_at.is_some());
    for later in &waiting[..waiting.len() - 1] {
        assert_eq!(
            later.attempts, 0,
            "a later event waits for the first: {later:?}"
        );
    }

    // Back, but failing twice more before it takes events.
    let receiver = EventReceiver::start_on(addr, &[500, 503]).await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            receiver.delivered().len() == expected.len()
        })
        .await,
        "every event arrives: {:?}",
        receiver.requests()
    );
    // Nothing more comes: each was delivered once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let delivered = receiver.delivered();
    let types: Vec<String> = delivered.iter().map(|r| r.event_type()).collect();
    assert_eq!(types, expected, "in the order the changes were made");
    let mut ids: Vec<&str> = delivered.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    assert_eq!(
        ids.len(),
        expected.len(),
        "each event delivered exactly once"
    );
    // The two refused requests were the first event's: nothing overtook it.
    let requests = receiver.requests();
    assert_eq!(requests.len(), expected.len() + 2, "{requests:?}");
    assert!(requests[..3].iter().all(|r| r.id == requests[0].id));
    assert_eq!(requests[2].status, 200);

    let rows = deliveries(&owner, &endpoint.id).await.unwrap();
    assert!(rows.iter().all(|d| d.state() == DeliveryState::Delivered));
    assert!(rows.iter().all(|d| d.response_status == Some(200)));
    assert!(rows.last().unwrap().attempts >= 4, "{:?}", rows.last());
    let listed: Vec<EventEndpointRow> = owner.call("events/list", &[]).await.unwrap();
    let last = listed[0]
        .last_delivery
        .as_ref()
        .expect("its newest delivery");
    assert_eq!(last.event_type.as_str(), "client.deleted");
    assert_eq!(last.state(), DeliveryState::Delivered);

    // Resend: the same message once more, at the end of the queue.
    let resent: EventDeliveryRow = owner
        .call("events/resend", &[("id", &rows[0].id.to_string())])
        .await
        .unwrap();
    assert_eq!(resent.message_id, rows[0].message_id);
    assert!(
        eventually(Duration::from_secs(10), || async {
            receiver.delivered().len() == expected.len() + 1
        })
        .await
    );
    assert_eq!(receiver.delivered().last().unwrap().id, rows[0].message_id);
    receiver.stop();
    app.stop().await;
}

#[engines]
async fn a_disabled_endpoint_queues_nothing_and_gets_what_waited_once_enabled(engine: Engine) {
    let app = app(engine).await;
    let owner = app.sign_up("Acme").await;
    let receiver = EventReceiver::start(&[]).await;
    let endpoint = add_endpoint(&owner, &receiver.url(), ALL_EVENTS)
        .await
        .unwrap()
        .row;
    let disabled: EventEndpointRow = owner
        .call(
            "events/set_enabled",
            &[("id", &endpoint.id), ("enabled", "false")],
        )
        .await
        .unwrap();
    assert!(!disabled.enabled);
    owner.new_client("Quiet").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(deliveries(&owner, &endpoint.id).await.unwrap().is_empty());
    assert!(receiver.requests().is_empty());

    owner
        .call::<EventEndpointRow>(
            "events/set_enabled",
            &[("id", &endpoint.id), ("enabled", "true")],
        )
        .await
        .unwrap();
    owner.new_client("Loud").await;
    assert!(
        eventually(Duration::from_secs(10), || async {
            receiver.delivered().len() == 1
        })
        .await
    );
    assert_eq!(receiver.delivered()[0].json()["data"]["name"], "Loud");

    owner
        .call::<()>("events/delete", &[("id", &endpoint.id)])
        .await
        .unwrap();
    assert_eq!(count_rows(&app.db, "event_endpoints").await, 0);
    assert_eq!(count_rows(&app.db, "event_deliveries").await, 0);
    receiver.stop();
    app.stop().await;
}

#[engines]
async fn another_organization_cannot_see_or_touch_an_endpoint_or_its_deliveries(engine: Engine) {
    let app = app(engine).await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let url = format!("http://{}/hook", refusing_address());
    let endpoint = add_endpoint(&acme, &url, ALL_EVENTS).await.unwrap().row;
    acme.new_client("Acme's").await;
    let delivery = deliveries(&acme, &endpoint.id).await.unwrap()[0].clone();

    let theirs: Vec<EventEndpointRow> = globex.call("events/list", &[]).await.unwrap();
    assert!(theirs.is_empty());
    let counts = (
        count_rows(&app.db, "event_endpoints").await,
        count_rows(&app.db, "event_deliveries").await,
        count_rows(&app.db, "audit_events").await,
    );
    expect_not_found(deliveries(&globex, &endpoint.id).await);
    for (endpoint_fn, form) in [
        ("events/resend", vec![("id", delivery.id.to_string())]),
        (
            "events/set_enabled",
            vec![("id", endpoint.id.clone()), ("enabled", "false".into())],
        ),
        ("events/delete", vec![("id", endpoint.id.clone())]),
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = globex.post(endpoint_fn, &form).await;
        assert_eq!(answer.status, 404, "{endpoint_fn}: {}", answer.body);
    }
    assert_eq!(
        (
            count_rows(&app.db, "event_endpoints").await,
            count_rows(&app.db, "event_deliveries").await,
            count_rows(&app.db, "audit_events").await,
        ),
        counts
    );
    let mine: Vec<EventEndpointRow> = acme.call("events/list", &[]).await.unwrap();
    assert!(mine[0].enabled);
    // Globex's own client raises nothing at Acme's endpoint.
    globex.new_client("Globex's").await;
    assert_eq!(deliveries(&acme, &endpoint.id).await.unwrap().len(), 1);
    app.stop().await;
}

#[engines]
async fn bad_input_is_a_field_error_that_changes_nothing(engine: Engine) {
    let app = app(engine).await;
    let owner = app.sign_up("Acme").await;
    let audit = count_rows(&app.db, "audit_events").await;
    for (url, types, field) in [
        (
            "http://hooks.example.com/keygate",
            "client.created",
            FieldError::EndpointUrl,
        ),
        (
            "ftp://hooks.example.com/",
            "client.created",
            FieldError::EndpointUrl,
        ),
        ("", "client.created", FieldError::EndpointUrl),
        ("https://hooks.example.com/", "", FieldError::EventTypes),
        (
            "https://hooks.example.com/",
            "client.created,client.exploded",
            FieldError::EventTypes,
        ),
    ] {
        let message = expect_field_error(add_endpoint(&owner, url, types).await, field);
        if field == FieldError::EndpointUrl && !url.is_empty() {
            assert!(
                message.contains("https://") && message.contains("loopback"),
                "{message}"
            );
        }
    }
    assert_eq!(count_rows(&app.db, "event_endpoints").await, 0);
    assert_eq!(count_rows(&app.db, "audit_events").await, audit);
    // An unknown endpoint or delivery is "not found".
    expect_not_found(deliveries(&owner, "no-such-endpoint").await);
    expect_not_found(
        owner
            .call::<EventDeliveryRow>("events/resend", &[("id", "999999")])
            .await,
    );
    app.stop().await;
}
