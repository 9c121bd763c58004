//! MQTT client identifiers at the seam with external brokers' admin APIs: the identifiers Keygate
//! lets in can travel in a URL, each is sent as one percent-encoded path segment, a broker's
//! refusal that retrying cannot fix is set aside without holding back other tenants'
//! revocations, and a client holds a bounded number of identifiers per broker.

use crate::broker::crash::let_in_through_the_webhook;
use crate::broker::device::{Device, Version};
use crate::broker::fake_admin_api::FakeAdminApi;
use crate::broker::webhooks::{SECRET, webhook};
use crate::broker::{Form, Setup, login};
use crate::support::{Engine, Tenant, engines, eventually, outbox_done, unique_suffix};
use app::model::{BrokerStatus, ClientRow, RevealedKey, RevocationProgress};
use serde_json::json;
use std::time::Duration;

/// Lets a device of `client` with `identifier` in through the EMQX/rmqtt webhook (form 3); the
/// `result` it got.
async fn webhook_login(setup: &Setup, client: &RevealedKey, identifier: &str) -> String {
    let (status, body) = webhook(
        setup,
        "/webhooks/emqx/authn",
        &json!({
            "clientid": identifier,
            "username": client.connection.client_id.as_str(),
            "password": client.key.expose(),
            "peerhost": "10.0.0.7",
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["result"].as_str().unwrap_or_default().to_owned()
}

async fn deactivate(tenant: &Tenant, client: &RevealedKey) {
    let _: ClientRow = tenant
        .call(
            "clients/set_active",
            &[
                ("client_id", client.connection.client_id.as_str()),
                ("active", "false"),
            ],
        )
        .await
        .expect("deactivated");
}

async fn done(setup: &Setup, client: &RevealedKey) -> bool {
    let done = outbox_done(&setup.app.db, client.connection.client_id.as_str()).await;
    !done.is_empty() && !done.contains(&false)
}

#[engines]
async fn client_identifiers_that_break_admin_api_paths_are_refused(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().unwrap());
        c.mqtt_lockout_after = 1000;
    })
    .await;
    let too_long = "x".repeat(129);
    let bad = [
        ".",
        "..",
        "dev 1",
        "dév-1",
        "tab\there",
        "zero\u{200b}width",
        &too_long,
    ];
    for identifier in bad {
        let mut device = login(Form::ClientIdUsername, &setup.client, setup.key());
        device.client_identifier = identifier.to_owned();
        for (version, code) in [(Version::V311, 5), (Version::V5, 0x87)] {
            assert_eq!(
                Device::connect(version, &setup.tcp(), &device)
                    .await
                    .err()
                    .map(|r| r.0),
                Some(code),
                "{identifier:?} over {version:?}"
            );
        }
        assert_eq!(
            webhook_login(&setup, &setup.client, identifier).await,
            "deny",
            "{identifier:?} through the webhook"
        );
    }
    // The longest identifier allowed, and every printable ASCII character, get in.
    for identifier in [
        "x".repeat(128),
        "!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~".into(),
    ] {
        let mut device = login(Form::ClientIdUsername, &setup.client, setup.key());
        device.client_identifier = identifier.clone();
        let connected = Device::connect(Version::V5, &setup.tcp(), &device)
            .await
            .unwrap_or_else(|e| panic!("{identifier:?} refused: {e:?}"));
        connected.disconnect().await;
        assert_eq!(
            webhook_login(&setup, &setup.client, &identifier).await,
            "allow"
        );
    }
    setup.app.stop().await;
}

#[engines]
async fn identifiers_are_percent_encoded_as_one_path_segment(engine: Engine) {
    let api = FakeAdminApi::start(204).await;
    let setup = Setup::with(engine, |c| {
        c.broker_targets = vec![format!("emqx={}", api.url()).parse().unwrap()];
        c.webhook_secret = Some(SECRET.parse().unwrap());
    })
    .await;
    for identifier in ["dev/1", "a%2Fb", "q?x=1#f", "..."] {
        assert_eq!(
            webhook_login(&setup, &setup.client, identifier).await,
            "allow"
        );
    }
    deactivate(&setup.tenant, &setup.client).await;
    assert!(
        eventually(Duration::from_secs(10), || done(&setup, &setup.client)).await,
        "{:?}",
        api.calls()
    );
    let mut targets: Vec<String> = api.calls().into_iter().map(|c| c.target).collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            "/api/v5/clients/...",
            "/api/v5/clients/a%252Fb",
            "/api/v5/clients/dev%2F1",
            "/api/v5/clients/q%3Fx=1%23f",
        ]
    );
    setup.app.stop().await;
}

async fn status(tenant: &Tenant) -> BrokerStatus {
    tenant
        .call("brokers/status", &[])
        .await
        .expect("brokers/status")
}

#[engines]
async fn a_revocation_a_broker_refuses_for_good_needs_attention_and_the_queue_goes_on(
    engine: Engine,
) {
    let api = FakeAdminApi::start(204).await;
    let setup = Setup::with(engine, |c| {
        c.broker_targets = vec![format!("rmqtt={}", api.url()).parse().unwrap()];
        c.webhook_secret = Some(SECRET.parse().unwrap());
        c.revocation_retry_min_ms = 20;
        c.revocation_retry_max_secs = 1;
    })
    .await;
    // Our device is on the external broker with an identifier its admin API refuses to take
    // (405: the request itself is wrong, and sending it again will not change that).
    let stuck = format!("stuck-{}", unique_suffix());
    api.answer_to(&stuck, Some(405));
    assert_eq!(webhook_login(&setup, &setup.client, &stuck).await, "allow");
    // Another tenant's device is on the same broker.
    let rival = setup.app.sign_up("Rival Corp").await;
    let theirs = rival.new_client("Theirs").await;
    let_in_through_the_webhook(&setup.app.base, &theirs).await;

    deactivate(&setup.tenant, &setup.client).await;
    deactivate(&rival, &theirs).await;
    assert!(
        eventually(Duration::from_secs(10), || done(&setup, &theirs)).await,
        "the other tenant's revocation is not held back: {:?}",
        api.calls()
    );
    assert!(!done(&setup, &setup.client).await, "ours is not done");
    let s = status(&setup.tenant).await;
    let target = s
        .targets
        .iter()
        .find(|t| t.kind.as_str() == "rmqtt")
        .unwrap();
    assert_eq!(
        (target.needs_attention, target.queue_depth, target.failures),
        (1, 0, 0),
        "{target:?}"
    );
    let error = target.attention_error.clone().unwrap_or_default();
    assert!(error.contains("405"), "{error}");
    let ours: Option<RevocationProgress> = setup
        .tenant
        .call(
            "clients/revocation",
            &[("client_id", setup.client.connection.client_id.as_str())],
        )
        .await
        .unwrap();
    let ours = ours.expect("our revocation is shown");
    assert!(!ours.done);
    assert!(
        ours.needs_attention
            .as_deref()
            .is_some_and(|e| e.contains("405") && e.contains(&target.name)),
        "{ours:?}"
    );
    // A viewer of the same organization learns that a broker refused, not which or what it said.
    let viewer = crate::support::invited(&setup.tenant, app::model::Role::Viewer).await;
    let seen: Option<RevocationProgress> = viewer
        .call(
            "clients/revocation",
            &[("client_id", setup.client.connection.client_id.as_str())],
        )
        .await
        .unwrap();
    let seen = seen
        .expect("the viewer sees the revocation")
        .needs_attention;
    assert!(
        seen.as_deref()
            .is_some_and(|e| !e.contains("405") && !e.contains(&target.name)),
        "{seen:?}"
    );
    // Set aside, it is not retried on its own.
    let calls = api.calls().len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(api.calls().len(), calls, "nothing is sent again by itself");

    // The operator fixes the broker and retries from Settings → Brokers.
    api.answer_to(&stuck, None);
    let retried: u64 = setup
        .tenant
        .call("brokers/retry", &[("target", target.name.as_str())])
        .await
        .unwrap();
    assert_eq!(retried, 1);
    assert!(
        eventually(Duration::from_secs(10), || done(&setup, &setup.client)).await,
        "delivered once the broker takes it"
    );
    let s = status(&setup.tenant).await;
    let target = s
        .targets
        .iter()
        .find(|t| t.kind.as_str() == "rmqtt")
        .unwrap();
    assert_eq!(target.needs_attention, 0, "{target:?}");
    setup.app.stop().await;
}

#[engines]
async fn a_client_holds_at_most_its_limit_of_sessions_per_broker(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().unwrap());
        c.mqtt_max_sessions_per_client = 2;
    })
    .await;
    // The embedded broker: two devices connected, a third identifier is refused.
    let device = |identifier: &str| {
        let mut l = login(Form::ClientIdUsername, &setup.client, setup.key());
        l.client_identifier = identifier.to_owned();
        l
    };
    let one = Device::connect(Version::V5, &setup.tcp(), &device("one"))
        .await
        .expect("one");
    let two = Device::connect(Version::V5, &setup.tcp(), &device("two"))
        .await
        .expect("two");
    assert_eq!(
        Device::connect(Version::V5, &setup.tcp(), &device("three"))
            .await
            .err()
            .map(|r| r.0),
        Some(0x87)
    );
    // A clean session ends with its connection: its place is free again, once the broker has
    // seen it go (its device session is gone then).
    one.disconnect().await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            crate::support::count_rows(&setup.app.db, "device_sessions").await == 1
        })
        .await,
        "the broker saw one leave"
    );
    let three = Device::connect(Version::V5, &setup.tcp(), &device("three"))
        .await
        .expect("three, once one left");
    two.disconnect().await;
    three.disconnect().await;

    // The webhooks: the same limit per external broker, all connected.
    assert_eq!(webhook_login(&setup, &setup.client, "gw-1").await, "allow");
    assert_eq!(webhook_login(&setup, &setup.client, "gw-2").await, "allow");
    assert_eq!(webhook_login(&setup, &setup.client, "gw-3").await, "deny");
    assert_eq!(
        webhook_login(&setup, &setup.client, "gw-1").await,
        "allow",
        "a held identifier reconnects"
    );
    // The broker reports gw-1 offline: it makes room.
    let (status, body) = webhook(
        &setup,
        "/webhooks/events",
        &json!({ "action": "client_disconnected", "clientid": "gw-1" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(webhook_login(&setup, &setup.client, "gw-3").await, "allow");
    setup.app.stop().await;
}
