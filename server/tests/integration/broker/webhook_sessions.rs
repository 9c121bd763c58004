//! Sessions authenticated through the webhooks, like the embedded broker's: a login checked against
//! a key revoked meanwhile is refused, the device shows as Connected and its broker's events keep
//! that true, and each broker says which it is.

use crate::broker::Setup;
use crate::broker::fake_admin_api::FakeAdminApi;
use crate::broker::revocation::slow_down;
use crate::broker::webhooks::{SECRET, owner, webhook};
use crate::support::{Engine, Tenant, engines, eventually, outbox_done};
use app::model::{ClientDetails, ClientPage, LiveSession, RevealedKey};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn authn(client: &RevealedKey, identifier: &str, key: &str) -> Value {
    json!({
        "clientid": identifier,
        "username": client.connection.client_id.as_str(),
        "password": key,
        "peerhost": "10.0.0.7",
    })
}

#[engines]
async fn a_webhook_login_checked_against_a_revoked_key_is_refused(engine: Engine) {
    let api = FakeAdminApi::start(204).await;
    let setup = Arc::new(
        Setup::with(engine, |c| {
            c.broker_targets = vec![format!("rmqtt={}", api.url()).parse().unwrap()];
            c.webhook_secret = Some(SECRET.parse().unwrap());
        })
        .await,
    );
    let id = setup.client.connection.client_id.to_string();
    // Checking the current key takes about four seconds (a connect storm ahead of it, say).
    slow_down(&setup.app.db, &id, setup.key(), Duration::from_secs(4)).await;
    let late = {
        let setup = setup.clone();
        tokio::spawn(async move {
            webhook(
                &setup,
                "/webhooks/emqx/authn",
                &authn(&setup.client, "sensor-late", setup.key()),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The key is regenerated while the login is being checked, and the revocation reaches every
    // broker before the check is over.
    let (new_key, _) = setup.regenerate().await;
    assert!(
        eventually(Duration::from_secs(3), || async {
            outbox_done(&setup.app.db, &id).await == [true]
        })
        .await,
        "delivered and confirmed"
    );
    let (status, body) = late.await.unwrap();
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("deny")),
        "a login checked against the revoked key is refused: {body}"
    );
    assert!(
        app::store::device_sessions::list_identifiers(
            &setup.app.db,
            &format!("rmqtt:{}", api.addr),
            &owner(&setup.client),
            None
        )
        .await
        .unwrap()
        .is_empty(),
        "and holds no session"
    );
    // The device asks again: with the new key it gets in.
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn(&setup.client, "sensor-late", new_key.expose()),
    )
    .await;
    assert_eq!(body["result"], "allow", "{body}");
    Arc::into_inner(setup)
        .expect("no other owners")
        .app
        .stop()
        .await;
}

/// The client's Connected count on the Clients page, and the sessions its Edit modal lists.
async fn presence(tenant: &Tenant, client: &RevealedKey) -> (u32, Vec<LiveSession>) {
    let id = client.connection.client_id.as_str();
    let page: ClientPage = tenant
        .call(
            "clients/list",
            &[
                ("search", id),
                ("sort", "created"),
                ("descending", "false"),
                ("page", "1"),
            ],
        )
        .await
        .expect("clients/list");
    let row = page
        .rows
        .iter()
        .find(|r| r.client_id.as_str() == id)
        .expect("listed");
    let details: ClientDetails = tenant
        .call("clients/get", &[("client_id", id)])
        .await
        .expect("clients/get");
    (row.live_sessions, details.sessions)
}

async fn event(setup: &Setup, body: Value) -> (u16, Value) {
    webhook(setup, "/webhooks/events", &body).await
}

#[engines]
async fn webhook_authenticated_devices_show_as_connected_and_follow_broker_events(engine: Engine) {
    let api = FakeAdminApi::start(204).await;
    let setup = Setup::with(engine, |c| {
        c.broker_targets = vec![format!("rmqtt={}", api.url()).parse().unwrap()];
        c.webhook_secret = Some(SECRET.parse().unwrap());
    })
    .await;
    let broker = format!("rmqtt:{}", api.addr);
    let tenant = &setup.tenant;
    assert_eq!(presence(tenant, &setup.client).await.0, 0);
    let (_, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn(&setup.client, "gw-7", setup.key()),
    )
    .await;
    assert_eq!(body["result"], "allow", "{body}");
    let (count, sessions) = presence(tenant, &setup.client).await;
    assert_eq!(count, 1, "Connected");
    assert_eq!(
        sessions
            .iter()
            .map(|s| (
                s.broker.as_str(),
                s.mqtt_client_id.as_str(),
                s.source.as_str()
            ))
            .collect::<Vec<_>>(),
        vec![(broker.as_str(), "gw-7", "10.0.0.7")]
    );

    // rmqtt's web-hook plugin and EMQX's webhook rules say when it comes and goes.
    for (body, connected) in [
        (
            json!({ "action": "client_disconnected", "clientid": "gw-7", "reason": "normal" }),
            0,
        ),
        (
            json!({ "action": "client_connected", "clientid": "gw-7" }),
            1,
        ),
        (
            json!({ "event": "client.disconnected", "clientid": "gw-7" }),
            0,
        ),
        (
            json!({ "event": "client.connected", "clientid": "gw-7" }),
            1,
        ),
        (
            json!({ "action": "client_disconnected", "clientid": "gw-7" }),
            0,
        ),
    ] {
        let (status, answer) = event(&setup, body.clone()).await;
        assert_eq!(status, 200, "{body}: {answer}");
        assert_eq!(presence(tenant, &setup.client).await.0, connected, "{body}");
    }
    // Offline, its session may persist: a revocation would still close it. Once it ends, it is
    // forgotten.
    let client = owner(&setup.client);
    let held =
        || app::store::device_sessions::list_identifiers(&setup.app.db, &broker, &client, None);
    assert_eq!(held().await.unwrap(), ["gw-7"]);
    let (status, _) = event(
        &setup,
        json!({ "action": "session_terminated", "clientid": "gw-7" }),
    )
    .await;
    assert_eq!(status, 200);
    assert!(held().await.unwrap().is_empty());

    // Events it does not care about are acknowledged; malformed ones are refused with a reason.
    let (status, answer) =
        event(&setup, json!({ "action": "message_publish", "topic": "x" })).await;
    assert_eq!((status, answer["result"].as_str()), (200, Some("ignored")));
    let (status, answer) = event(&setup, json!({ "action": "client_connected" })).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("clientid"),
        "{answer}"
    );
    let (status, answer) = event(&setup, json!({ "clientid": "gw-7" })).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("action"),
        "{answer}"
    );

    // A revocation closes what is connected there, and forgets it.
    webhook(
        &setup,
        "/webhooks/emqx/authn",
        &authn(&setup.client, "gw-8", setup.key()),
    )
    .await;
    assert_eq!(presence(tenant, &setup.client).await.0, 1);
    setup.set_active(false).await;
    assert!(
        api.wait_for(Duration::from_secs(5), |calls| calls
            .iter()
            .any(|c| c.target == "/api/v1/clients/gw-8"))
            .await,
        "{:?}",
        api.calls()
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            held().await.unwrap().is_empty()
        })
        .await
    );
    setup.app.stop().await;
}

#[engines]
async fn each_broker_says_which_it_is(engine: Engine) {
    let (emqx, rmqtt) = (
        FakeAdminApi::start(204).await,
        FakeAdminApi::start(204).await,
    );
    let setup = Setup::with(engine, |c| {
        c.broker_targets = vec![
            format!("emqx={}", emqx.url()).parse().unwrap(),
            format!("rmqtt={}", rmqtt.url()).parse().unwrap(),
        ];
        c.webhook_secret = Some(SECRET.parse().unwrap());
    })
    .await;
    let login = authn(&setup.client, "gw-1", setup.key());
    let before = crate::support::count_rows(&setup.app.db, "device_sessions").await;
    let (status, body) = webhook(&setup, "/webhooks/emqx/authn", &login).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("?broker=NAME"), "{error}");
    let (status, body) = webhook(&setup, "/webhooks/emqx/authn?broker=mosquitto", &login).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("mosquitto") && error.contains(&format!("rmqtt:{}", rmqtt.addr)),
        "{error}"
    );
    assert_eq!(
        crate::support::count_rows(&setup.app.db, "device_sessions").await,
        before,
        "nothing was recorded"
    );
    let named = format!("rmqtt:{}", rmqtt.addr);
    let (status, body) = webhook(
        &setup,
        &format!("/webhooks/emqx/authn?broker={named}"),
        &login,
    )
    .await;
    assert_eq!((status, body["result"].as_str()), (200, Some("allow")));
    let (_, sessions) = presence(&setup.tenant, &setup.client).await;
    assert_eq!(sessions[0].broker, named);
    // A revocation closes it on that broker only.
    setup.set_active(false).await;
    assert!(
        rmqtt
            .wait_for(Duration::from_secs(5), |calls| !calls.is_empty())
            .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(emqx.calls().is_empty(), "{:?}", emqx.calls());
    setup.app.stop().await;
}
