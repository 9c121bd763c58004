//! `client.auth_failures`: a burst of wrong keys that locks a client out raises one credential
//! event, however many wrong keys the burst brings; a burst after the count was forgotten raises
//! another.

use crate::broker::device::{Device, Login, Version};
use crate::broker::{Form, Setup, login};
use crate::support::event_receiver::EventReceiver;
use crate::support::{Engine, engines, eventually};
use app::model::ClientKey;
use std::time::Duration;

async fn try_login(setup: &Setup, login: &Login) {
    if let Ok(device) = Device::connect(Version::V5, &setup.tcp(), login).await {
        device.disconnect().await;
    }
}

#[engines]
async fn a_burst_of_wrong_keys_raises_one_auth_failures_event(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_after = 2;
        c.mqtt_address_lockout_after = 1000;
        c.mqtt_lockout_ms = 100;
        c.mqtt_lockout_max_secs = 2;
        c.event_retry_min_ms = 50;
        c.event_retry_max_secs = 1;
    })
    .await;
    let receiver = EventReceiver::start(&[]).await;
    let _: app::model::IssuedEventEndpoint = setup
        .tenant
        .call(
            "events/create",
            &[
                ("url", &receiver.url()),
                ("event_types", "client.auth_failures"),
            ],
        )
        .await
        .expect("an endpoint");
    let wrong = login(
        Form::Namespace,
        &setup.client,
        ClientKey::generate().expose(),
    );

    // Two free failures, the third locks the client out; the lock grows with each later one.
    for _ in 0..8 {
        try_login(&setup, &wrong).await;
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            receiver.delivered().len() == 1
        })
        .await,
        "the burst raises its event: {:?}",
        receiver.requests()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = receiver.delivered();
    assert_eq!(events.len(), 1, "one event per burst, not per failure");
    let event = events[0].json();
    assert_eq!(event["type"], "client.auth_failures");
    assert_eq!(
        event["data"]["client_id"],
        setup.client.row.client_id.as_str()
    );
    assert_eq!(event["data"]["failures"], 3);
    assert_eq!(event["data"]["locked_for_secs"], 1);
    assert_eq!(event["data"]["name"], "Boiler room sensor");

    // Quiet for longer than the longest lock: the count is forgotten, and a new burst is another.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    for _ in 0..3 {
        try_login(&setup, &wrong).await;
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            receiver.delivered().len() == 2
        })
        .await,
        "{:?}",
        receiver.requests()
    );
    receiver.stop();
    setup.app.stop().await;
}
