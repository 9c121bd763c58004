//! The same access decision on every broker path: one table of (device, action, topic) cases for a
//! restricted client with a topic rule, each sent through the embedded broker (a real MQTT device
//! subscribing and publishing), EMQX's authorization webhook, rmqtt's auth-http ACL form and
//! VerneMQ's `auth_on_subscribe` / `auth_on_publish`. What each must answer is written out here by
//! hand. The CONNECT side of a restricted client is in `outcomes.rs`'s table.

use crate::broker::Setup;
use crate::broker::device::{Device, Version};
use crate::broker::webhooks::{SECRET, webhook};
use crate::support::{Engine, engines};
use serde_json::{Value, json};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Publish,
    Subscribe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    Mqtt,
    Emqx,
    RmqttForm,
    VerneMq,
}

const PATHS: [Path; 4] = [Path::Mqtt, Path::Emqx, Path::RmqttForm, Path::VerneMq];

/// Whether `path` let `device` do `action` on `topic`.
async fn allowed(
    setup: &Setup,
    devices: &mut HashMap<String, Device>,
    path: Path,
    device: &str,
    action: Action,
    topic: &str,
) -> bool {
    let username = setup.client.connection.client_id.to_string();
    match path {
        Path::Mqtt => {
            if !devices.contains_key(device) {
                let connected =
                    Device::connect(Version::V5, &setup.tcp(), &setup.device_login(device))
                        .await
                        .expect("a device in scope connects");
                devices.insert(device.to_owned(), connected);
            }
            let d = devices.get_mut(device).unwrap();
            match action {
                Action::Publish => d.publish(topic, b"x").await == 0,
                Action::Subscribe => d.subscribe(topic).await < 0x80,
            }
        }
        Path::Emqx => {
            let action = match action {
                Action::Publish => "publish",
                Action::Subscribe => "subscribe",
            };
            let (status, body) = webhook(
                setup,
                "/webhooks/emqx/authz",
                &json!({ "clientid": device, "username": username, "action": action, "topic": topic }),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body["result"] == "allow"
        }
        Path::RmqttForm => {
            let access = match action {
                Action::Publish => "2",
                Action::Subscribe => "1",
            };
            let response = reqwest::Client::new()
                .post(setup.app.url("/webhooks/emqx/authz"))
                .bearer_auth(SECRET)
                .form(&[
                    ("access", access),
                    ("username", username.as_str()),
                    ("clientid", device),
                    ("ipaddr", "127.0.0.1"),
                    ("topic", topic),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap() == "allow"
        }
        Path::VerneMq => {
            let (hook, body) = match action {
                Action::Publish => (
                    "auth_on_publish",
                    json!({ "username": username, "client_id": device, "mountpoint": "", "qos": 1,
                            "topic": topic, "payload": "eA==", "retain": false }),
                ),
                Action::Subscribe => (
                    "auth_on_subscribe",
                    json!({ "username": username, "client_id": device, "mountpoint": "",
                            "topics": [{ "topic": topic, "qos": 1 }] }),
                ),
            };
            let response = reqwest::Client::new()
                .post(setup.app.url("/webhooks/vernemq"))
                .bearer_auth(SECRET)
                .header("vernemq-hook", hook)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let answer: Value = response.json().await.unwrap();
            // A refused subscription comes back "ok" with its QoS changed to 128.
            answer["result"] == "ok"
                && answer["topics"]
                    .as_array()
                    .is_none_or(|t| t.iter().all(|t| t["qos"].as_u64() != Some(128)))
        }
    }
}

#[engines]
async fn a_restricted_clients_access_is_the_same_on_every_path(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().unwrap());
    })
    .await;
    let ns = setup.client.connection.namespace.to_string();
    setup.tag_device("eu-1", &["zone=eu"]).await;
    setup
        .set_access(
            Some("d-1, d-2, zone=eu"),
            &[("deny", "publish", &format!("{ns}/devices/d-2/cmd"))],
        )
        .await;
    let other = setup
        .app
        .sign_up("Other Org")
        .await
        .new_client("Theirs")
        .await;
    let t = |device: &str, leaf: &str| setup.device_topic(device, leaf);
    use Action::*;
    let table: Vec<(&str, Action, String, bool)> = vec![
        ("d-1", Publish, t("d-1", "telemetry"), true),
        ("d-1", Subscribe, t("d-1", "#"), true),
        ("d-1", Subscribe, t("d-2", "#"), true),
        ("d-1", Subscribe, t("eu-1", "state"), true),
        ("eu-1", Publish, t("eu-1", "state"), true),
        ("d-1", Publish, t("d-2", "cmd"), false),
        ("d-1", Subscribe, t("d-3", "#"), false),
        ("d-1", Publish, t("d-3", "x"), false),
        ("d-1", Subscribe, format!("{ns}/#"), false),
        ("d-1", Subscribe, ns.clone(), false),
        ("d-1", Subscribe, format!("{ns}/devices/+/telemetry"), false),
        ("d-1", Subscribe, "#".to_owned(), false),
        (
            "d-1",
            Publish,
            format!("{}/devices/x/y", other.connection.namespace),
            false,
        ),
    ];
    let mut devices = HashMap::new();
    let mut mismatches = Vec::new();
    for (device, action, topic, expected) in &table {
        for path in PATHS {
            let answer = allowed(&setup, &mut devices, path, device, *action, topic).await;
            if answer != *expected {
                mismatches.push(format!(
                    "{device} {action:?} {topic} through {path:?}: {answer}, should be {expected}"
                ));
            }
        }
    }
    // A device outside the scope may do nothing through a webhook (the embedded broker never
    // lets it connect: see `scopes.rs` and `outcomes.rs`).
    for path in [Path::Emqx, Path::RmqttForm, Path::VerneMq] {
        if allowed(&setup, &mut devices, path, "d-9", Publish, &t("d-9", "x")).await {
            mismatches.push(format!("d-9 outside the scope publishes through {path:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    setup.app.stop().await;
}
