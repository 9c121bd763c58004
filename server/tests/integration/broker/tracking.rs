//! Connects and disconnects reach the store: last seen, and the live sessions the dashboard shows.

use crate::broker::device::{Device, Version};
use crate::broker::{Form, Setup, login};
use crate::support::{Engine, engines};
use app::model::ClientDetails;
use std::time::Duration;

async fn details(setup: &Setup) -> ClientDetails {
    setup
        .tenant
        .call(
            "clients/get",
            &[("client_id", setup.client.connection.client_id.as_str())],
        )
        .await
        .expect("clients/get")
}

/// Polls until `done` holds for the client's details. The tracker writes in batches, and the
/// count in the row and the list of sessions are two reads, so a poll can fall between a write.
async fn eventually(
    setup: &Setup,
    what: &str,
    done: impl Fn(&ClientDetails) -> bool,
) -> ClientDetails {
    for _ in 0..100 {
        let d = details(setup).await;
        if done(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not seen within 5 s: {:?}", details(setup).await);
}

#[engines]
async fn connects_and_disconnects_update_last_seen_and_live_sessions(engine: Engine) {
    let setup = Setup::new(engine).await;
    assert_eq!(
        details(&setup).await.row.last_seen_at,
        None,
        "never connected"
    );

    let first = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, setup.key()),
    )
    .await
    .unwrap();
    let second_login = login(Form::ClientIdUsername, &setup.client, setup.key());
    let second = Device::connect(Version::V311, &setup.tcp(), &second_login)
        .await
        .unwrap();
    let d = eventually(&setup, "two live sessions", |d| {
        d.sessions.len() == 2 && d.row.live_sessions == 2
    })
    .await;
    assert_eq!(d.row.live_sessions, 2);
    let connected_at = d.row.last_seen_at.expect("last seen is set on connect");
    let identifiers: Vec<_> = d
        .sessions
        .iter()
        .map(|s| s.mqtt_client_id.as_str())
        .collect();
    assert!(
        identifiers.contains(&setup.client.connection.client_id.as_str()),
        "{identifiers:?}"
    );
    assert!(
        identifiers.contains(&second_login.client_identifier.as_str()),
        "{identifiers:?}"
    );
    for s in &d.sessions {
        assert!(s.source.starts_with("127.0.0.1:"), "{}", s.source);
        assert!(s.since <= app::store::now_millis() && s.since >= connected_at - 60_000);
    }

    first.disconnect().await;
    let d = eventually(&setup, "one live session", |d| {
        d.sessions.len() == 1 && d.row.live_sessions == 1
    })
    .await;
    assert_eq!(d.sessions[0].mqtt_client_id, second_login.client_identifier);
    assert!(d.row.last_seen_at.unwrap() >= connected_at);

    second.disconnect().await;
    let d = eventually(&setup, "no live sessions", |d| {
        d.sessions.is_empty() && d.row.live_sessions == 0
    })
    .await;
    assert_eq!(d.row.live_sessions, 0);
    assert!(d.row.last_seen_at.is_some());
    setup.app.stop().await;
}
