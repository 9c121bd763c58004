//! External brokers as revocation targets, against a stand-in admin API on 127.0.0.1: one that is
//! down gets every revocation once it is back, in order and once each; each kind of broker is
//! called in its own API's shape; the dashboard reports progress and health.

use crate::broker::crash::let_in_through_the_webhook;
use crate::broker::device::{Device, Version};
use crate::broker::fake_admin_api::{FakeAdminApi, closed_port};
use crate::broker::webhooks::{SECRET, webhook};
use crate::broker::{Form, Setup, login};
use crate::support::{Engine, Tenant, engines, eventually, outbox_done};
use app::model::{
    BrokerStatus, BrokerTarget, ClientKey, ClientPage, ClientRow, RevealedKey, RevocationProgress,
};
use base64::Engine as _;
use std::time::Duration;

async fn status(tenant: &Tenant) -> BrokerStatus {
    tenant
        .call("brokers/status", &[])
        .await
        .expect("brokers/status")
}

fn target<'a>(status: &'a BrokerStatus, kind: &str) -> &'a BrokerTarget {
    status
        .targets
        .iter()
        .find(|t| t.kind.as_str() == kind)
        .unwrap_or_else(|| panic!("no {kind} target in {status:?}"))
}

/// A client's revocation progress as the Clients page shows it.
async fn progress(tenant: &Tenant, client_id: &str) -> Option<RevocationProgress> {
    let page: ClientPage = tenant
        .call(
            "clients/list",
            &[
                ("search", client_id),
                ("sort", "created"),
                ("descending", "false"),
                ("page", "1"),
            ],
        )
        .await
        .expect("clients/list");
    let row: &ClientRow = page
        .rows
        .iter()
        .find(|r| r.client_id.as_str() == client_id)
        .expect("the client is listed");
    let polled: Option<RevocationProgress> = tenant
        .call("clients/revocation", &[("client_id", client_id)])
        .await
        .expect("clients/revocation");
    assert_eq!(polled, row.revocation, "the poll and the page agree");
    row.revocation.clone()
}

/// Waits until every revocation of `client_ids` is done.
async fn all_done(setup: &Setup, client_ids: &[&str]) -> bool {
    eventually(Duration::from_secs(10), || async {
        for id in client_ids {
            let done = outbox_done(&setup.app.db, id).await;
            if done.is_empty() || done.contains(&false) {
                return false;
            }
        }
        true
    })
    .await
}

#[engines]
async fn a_broker_that_is_down_gets_every_revocation_in_order_once_it_is_back(engine: Engine) {
    let down = closed_port();
    let setup = Setup::with(engine, |c| {
        c.broker_targets = vec![format!("rmqtt=http://{down}").parse().unwrap()];
        c.revocation_retry_min_ms = 20;
        c.revocation_retry_max_secs = 1;
        c.webhook_secret = Some(SECRET.parse().unwrap());
    })
    .await;
    let tenant = &setup.tenant;
    let a = setup.client.connection.client_id.to_string();
    let b: RevealedKey = tenant.new_client("B").await;
    let c: RevealedKey = tenant.new_client("C").await;
    // Each has a device on the external broker, let in through the webhook.
    for client in [&setup.client, &b, &c] {
        let_in_through_the_webhook(&setup.app.base, client).await;
    }
    let (b, c) = (
        b.connection.client_id.to_string(),
        c.connection.client_id.to_string(),
    );
    let mut device = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, setup.key()),
    )
    .await
    .expect("connects");

    // Four revocations while the external broker is down.
    let new_key = ClientKey::generate();
    let _: RevealedKey = tenant
        .call(
            "clients/regenerate_key",
            &[("client_id", &a), ("key", new_key.expose())],
        )
        .await
        .unwrap();
    let _: ClientRow = tenant
        .call(
            "clients/set_active",
            &[("client_id", &b), ("active", "false")],
        )
        .await
        .unwrap();
    let () = tenant
        .call("clients/delete", &[("client_id", &c)])
        .await
        .unwrap();
    let _: ClientRow = tenant
        .call(
            "clients/set_active",
            &[("client_id", &a), ("active", "false")],
        )
        .await
        .unwrap();

    // The embedded broker does not wait for the external one.
    assert!(
        device.closed_within(Duration::from_secs(3)).await,
        "closed by the embedded broker"
    );
    let mut failing = None;
    for _ in 0..100 {
        let s = status(tenant).await;
        if target(&s, "rmqtt").failures >= 2 && target(&s, "embedded").queue_depth == 0 {
            failing = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failing = failing.expect("the external target fails and the embedded one is done");
    let external = target(&failing, "rmqtt");
    assert_eq!(external.queue_depth, 4, "{external:?}");
    assert!(external.served_by.is_some(), "{external:?}");
    assert!(external.last_success_at.is_none(), "{external:?}");
    let error = external.last_error.clone().unwrap_or_default();
    assert!(error.contains("cannot connect"), "{error}");
    let embedded = target(&failing, "embedded");
    assert!(
        embedded.last_success_at.is_some() && embedded.failures == 0,
        "{embedded:?}"
    );
    let b_progress = progress(tenant, &b).await.expect("B's revocation is shown");
    assert_eq!(
        (b_progress.confirmed, b_progress.brokers, b_progress.done),
        (1, 2, false),
        "disconnecting… 1 of 2 brokers"
    );
    for id in [&a, &b, &c] {
        let rows = app::store::outbox::list_for_client(&setup.app.db, id)
            .await
            .unwrap();
        assert!(
            rows.iter().all(|(_, done)| done.is_none()),
            "not done while a broker is down"
        );
    }

    // It comes back, failing at first, then healthy.
    let api = FakeAdminApi::start_on(down, 503).await;
    assert!(
        api.wait_for(Duration::from_secs(5), |calls| calls.len() >= 2)
            .await
    );
    let s = status(tenant).await;
    let error = target(&s, "rmqtt").last_error.clone().unwrap_or_default();
    assert!(error.contains("503"), "{error}");
    api.answer(204);
    assert!(
        all_done(&setup, &[&a, &b, &c]).await,
        "every revocation arrives: {:?}",
        api.calls()
    );
    let path = |id: &str| format!("/api/v1/clients/{id}");
    // A's deactivation finds no session of A left there (its regeneration closed it): nothing to
    // send, and it is done all the same.
    assert_eq!(
        api.answered(204),
        vec![path(&a), path(&b), path(&c)],
        "in order, once each"
    );
    assert!(
        api.answered(503).iter().all(|t| *t == path(&a)),
        "nothing overtook the oldest revocation while it failed: {:?}",
        api.calls()
    );
    assert!(
        all_done(&setup, &[&a, &b, &c]).await,
        "every revocation is done"
    );
    let s = status(tenant).await;
    let external = target(&s, "rmqtt");
    assert_eq!(
        (external.queue_depth, external.failures),
        (0, 0),
        "{external:?}"
    );
    assert!(external.last_success_at.is_some());
    let a_progress = progress(tenant, &a).await.expect("A's revocation is shown");
    assert_eq!(
        (a_progress.confirmed, a_progress.brokers, a_progress.done),
        (2, 2, true)
    );
    assert_eq!(a_progress.reason.as_str(), "deactivated");

    // Nothing is sent twice.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(api.calls().iter().filter(|c| c.status == 204).count(), 3);
    setup.app.stop().await;
}

#[engines]
async fn each_admin_api_is_called_in_its_own_shape(engine: Engine) {
    // EMQX answers 404: "no such client" confirms (there was nothing to disconnect).
    let emqx = FakeAdminApi::start(404).await;
    let rmqtt = FakeAdminApi::start(200).await;
    let verne = FakeAdminApi::start(200).await;
    let setup = Setup::with(engine, |c| {
        c.broker_targets = vec![
            format!("emqx=http://key-1:s%3Acret@{}", emqx.addr)
                .parse()
                .unwrap(),
            format!("rmqtt={}/", rmqtt.url()).parse().unwrap(),
            format!("vernemq=http://apikey@{}", verne.addr)
                .parse()
                .unwrap(),
        ];
        c.webhook_secret = Some(SECRET.parse().unwrap());
    })
    .await;
    let id = setup.client.connection.client_id.to_string();
    let namespace = setup.client.connection.namespace.to_string();
    // Two devices on each external broker, let in through the webhook (which names the broker):
    // one with the Client ID as its identifier, one with an identifier of its own.
    for broker in [
        format!("emqx:{}", emqx.addr),
        format!("rmqtt:{}", rmqtt.addr),
        format!("vernemq:{}", verne.addr),
    ] {
        for (identifier, username) in [
            (id.as_str(), namespace.as_str()),
            ("sensor-42", id.as_str()),
        ] {
            let (status_code, body) = webhook(
                &setup,
                &format!("/webhooks/emqx/authn?broker={broker}"),
                &serde_json::json!({ "clientid": identifier, "username": username, "password": setup.key(), "peerhost": "10.0.0.7" }),
            )
            .await;
            assert_eq!(
                (status_code, body["result"].as_str()),
                (200, Some("allow")),
                "{broker}: {body}"
            );
        }
    }

    setup.set_active(false).await;
    for api in [&emqx, &rmqtt, &verne] {
        assert!(
            api.wait_for(Duration::from_secs(5), |calls| calls.len() >= 2)
                .await,
            "{:?}",
            api.calls()
        );
    }
    let basic = |user_pass: &str| {
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        ))
    };
    let calls = emqx.calls();
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.method.as_str(), c.target.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("DELETE", &*format!("/api/v5/clients/{id}")),
            ("DELETE", "/api/v5/clients/sensor-42")
        ]
    );
    assert!(
        calls
            .iter()
            .all(|c| c.authorization == basic("key-1:s:cret")),
        "{calls:?}"
    );
    let calls = rmqtt.calls();
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.method.as_str(), c.target.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("DELETE", &*format!("/api/v1/clients/{id}")),
            ("DELETE", "/api/v1/clients/sensor-42")
        ]
    );
    assert!(calls.iter().all(|c| c.authorization.is_none()));
    let calls = verne.calls();
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.method.as_str(), c.target.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (
                "GET",
                &*format!("/api/v1/session/disconnect?client-id={id}&--cleanup")
            ),
            (
                "GET",
                "/api/v1/session/disconnect?client-id=sensor-42&--cleanup"
            ),
        ]
    );
    assert!(
        calls.iter().all(|c| c.authorization == basic("apikey:")),
        "{calls:?}"
    );

    assert!(
        all_done(&setup, &[&id]).await,
        "confirmed by all four brokers"
    );
    let s = status(&setup.tenant).await;
    assert_eq!(s.targets.len(), 4, "{s:?}");
    assert_eq!(
        s.targets[0].kind.as_str(),
        "embedded",
        "the embedded broker is listed first"
    );
    assert!(s.webhooks);
    for t in &s.targets {
        assert_eq!((t.queue_depth, t.failures), (0, 0), "{t:?}");
        assert!(
            !t.endpoint.contains("s:cret") && !t.endpoint.contains("key-1"),
            "{t:?}"
        );
    }
    let database = setup.app.stop_keeping_database().await;
    let db = database.connect().await;
    let after = app::store::broker_targets::list(&db).await.unwrap();
    assert!(
        after.iter().all(|t| t.served_by.is_none()),
        "a clean stop gives the leases back: {after:?}"
    );
    db.close().await;
}
