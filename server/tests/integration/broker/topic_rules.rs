//! Topic rules on the embedded broker, from the outside: first match wins, placeholders take the
//! session's values, nothing opens the way out of the namespace, and a narrowing change reaches
//! live sessions at once: a subscription no longer allowed is removed without a reconnect, and the
//! next publish is refused.

use crate::broker::device::{Device, Version};
use crate::broker::{Form, Setup, login};
use crate::support::{Engine, engines};
use std::time::Duration;

fn refused_suback(code: u8) -> bool {
    code == 0x80 || code == 0x87
}

#[engines]
async fn the_first_matching_rule_decides_with_the_sessions_own_values(engine: Engine) {
    let setup = Setup::new(engine).await;
    let ns = setup.client.connection.namespace.to_string();
    setup
        .set_access(
            None,
            &[
                ("allow", "both", &format!("{ns}/devices/{{device_id}}/#")),
                ("deny", "publish", &format!("{ns}/devices/#")),
                ("deny", "subscribe", &format!("{ns}/secret/#")),
            ],
        )
        .await;
    let mut device = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-1"))
        .await
        .unwrap();
    let own = setup.device_topic("d-1", "t");
    assert!(!refused_suback(device.subscribe(&own).await));
    assert_eq!(
        device.publish(&own, b"1").await,
        0,
        "rule 1 allows its own topics"
    );
    assert_eq!(
        device.publish(&setup.device_topic("d-2", "t"), b"1").await,
        0x87,
        "rule 2 denies another device's"
    );
    assert!(
        refused_suback(device.subscribe(&format!("{ns}/#")).await),
        "it would receive secret/…"
    );
    assert!(refused_suback(
        device.subscribe(&format!("{ns}/secret/a")).await
    ));
    assert!(!refused_suback(
        device.subscribe(&format!("{ns}/public/#")).await
    ));
    assert_eq!(
        device.publish(&format!("{ns}/secret/a"), b"1").await,
        0,
        "rule 3 is about subscribing only"
    );
    // A device whose identifier is not one plain level cannot use {device_id} to widen rule 1
    // (`+` would make it `NAMESPACE/devices/+/#`).
    let mut wildcard = login(Form::WithOrganization, &setup.client, setup.key());
    wildcard.client_identifier = "+".into();
    let mut hostile = Device::connect(Version::V5, &setup.tcp(), &wildcard)
        .await
        .unwrap();
    assert_eq!(
        hostile.publish(&setup.device_topic("d-1", "t"), b"x").await,
        0x87
    );
    setup.app.stop().await;
}

#[engines]
async fn a_narrowed_rule_removes_a_live_subscription_without_a_reconnect(engine: Engine) {
    let setup = Setup::new(engine).await;
    let ns = setup.client.connection.namespace.to_string();
    let mut listener = Device::connect(
        Version::V311,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, setup.key()),
    )
    .await
    .unwrap();
    assert!(!refused_suback(
        listener.subscribe(&format!("{ns}/#")).await
    ));
    let mut talker = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("talker"))
        .await
        .unwrap();
    let secret = format!("{ns}/secret/door");
    assert_eq!(talker.publish(&secret, b"open").await, 0);
    assert_eq!(
        listener.message(Duration::from_secs(3)).await,
        Some((secret.clone(), b"open".to_vec())),
        "before the change it receives everything"
    );

    setup
        .set_access(None, &[("deny", "subscribe", &format!("{ns}/secret/#"))])
        .await;
    // The delivery is asynchronous: wait until a message sent now no longer arrives.
    let mut stopped = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !stopped && tokio::time::Instant::now() < deadline {
        assert_eq!(talker.publish(&secret, b"again").await, 0);
        stopped = listener.message(Duration::from_millis(300)).await.is_none();
    }
    assert!(
        stopped,
        "the subscription that the new rule refuses was removed"
    );
    assert!(
        !listener.closed_within(Duration::from_millis(500)).await,
        "without a reconnect"
    );
    assert!(refused_suback(listener.subscribe(&format!("{ns}/#")).await));
    let open = format!("{ns}/open/x");
    assert!(!refused_suback(listener.subscribe(&open).await));
    assert_eq!(talker.publish(&open, b"1").await, 0);
    assert_eq!(
        listener.message(Duration::from_secs(3)).await,
        Some((open, b"1".to_vec())),
        "what the rules still allow keeps working"
    );
    setup.app.stop().await;
}

#[engines]
async fn a_narrowed_rule_refuses_the_next_publish_of_a_live_session(engine: Engine) {
    let setup = Setup::new(engine).await;
    let ns = setup.client.connection.namespace.to_string();
    let mut device = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-1"))
        .await
        .unwrap();
    let cmd = setup.device_topic("d-1", "cmd");
    assert_eq!(device.publish(&cmd, b"1").await, 0);
    setup
        .set_access(None, &[("deny", "publish", &format!("{ns}/devices/+/cmd"))])
        .await;
    let mut refused = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !refused && tokio::time::Instant::now() < deadline {
        refused = device.publish(&cmd, b"1").await == 0x87;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refused,
        "the live session's publish is refused after the change"
    );
    assert!(!device.closed_within(Duration::from_millis(300)).await);
    setup.app.stop().await;
}

#[engines]
async fn no_rule_reaches_outside_the_namespace(engine: Engine) {
    let setup = Setup::new(engine).await;
    let other = setup
        .app
        .sign_up("Other Org")
        .await
        .new_client("Theirs")
        .await;
    let ns = setup.client.connection.namespace.to_string();
    setup
        .set_access(None, &[("allow", "both", &format!("{ns}/#"))])
        .await;
    let mut device = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-1"))
        .await
        .unwrap();
    for filter in [
        "#".to_owned(),
        format!("{}/#", other.connection.namespace),
        "$SYS/#".to_owned(),
    ] {
        assert!(refused_suback(device.subscribe(&filter).await), "{filter}");
    }
    // A rule outside the namespace cannot even be saved.
    let rules = vec![app::model::TopicRule {
        permission: app::model::Permission::Allow,
        action: app::model::RuleAction::Both,
        filter: "#".into(),
    }];
    assert!(app::model::TopicRules::parse(&ns, rules).is_err());
    setup.app.stop().await;
}
