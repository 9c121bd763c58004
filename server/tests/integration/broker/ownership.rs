//! Who owns an MQTT session, tried across tenants: a Client ID reused by another organization
//! inherits nothing, a revocation ends offline sessions too, a workspace cannot be named after
//! another tenant's Client ID (or a Client ID after a namespace), a Client ID used as an
//! identifier is reserved for its client, and two CONNECTs racing for one identifier cannot both
//! win it.

use crate::broker::device::{Device, Login, Version};
use crate::broker::webhooks::{SECRET, webhook};
use crate::broker::{Form, Setup, login, topic};
use crate::support::{
    Engine, Tenant, engines, eventually, expect_field_error, outbox_done, unique_suffix,
};
use app::model::{ClientKey, FieldError, RevealedKey, WorkspaceInfo};
use std::time::Duration;

/// A persistent session (clean session off) of `client`'s device, subscribed to its namespace
/// and gone offline: a message published now is queued for it.
async fn offline_session(setup: &Setup, client: &RevealedKey, key: &str) -> Login {
    let mut login = Login::new(
        client.connection.client_id.as_str(),
        client.connection.username_namespace(),
        key,
    );
    login.clean = false;
    let mut device = Device::connect(Version::V311, &setup.tcp(), &login)
        .await
        .expect("connects");
    let filter = format!("{}/#", client.connection.namespace);
    assert_eq!(device.subscribe(&filter).await, 1);
    device.disconnect().await;
    login
}

/// Publishes `payload` in `client`'s namespace from another device of the same workspace.
async fn publish_for(setup: &Setup, client: &RevealedKey, payload: &[u8]) {
    let mut publisher = Device::connect(
        Version::V311,
        &setup.tcp(),
        &login(Form::Namespace, &setup.client, setup.key()),
    )
    .await
    .expect("the publisher connects");
    assert_eq!(
        publisher.publish(&topic(client, "queued"), payload).await,
        0
    );
    publisher.disconnect().await;
}

async fn revoked(setup: &Setup, client_id: &str) {
    assert!(
        eventually(Duration::from_secs(10), || async {
            let done = outbox_done(&setup.app.db, client_id).await;
            !done.is_empty() && !done.contains(&false)
        })
        .await,
        "the revocation reached every broker"
    );
}

#[engines]
async fn a_reused_client_id_does_not_inherit_the_deleted_clients_offline_session(engine: Engine) {
    let setup = Setup::new(engine).await;
    let reused = format!("reused-{}", unique_suffix());
    let key_a = ClientKey::generate();
    let theirs = setup
        .tenant
        .create_client(&reused, key_a.expose(), "Boiler", "")
        .await
        .expect("created");
    offline_session(&setup, &theirs, key_a.expose()).await;
    publish_for(&setup, &theirs, b"for Acme only").await;
    let () = setup
        .tenant
        .call("clients/delete", &[("client_id", &reused)])
        .await
        .unwrap();
    revoked(&setup, &reused).await;

    // Another organization creates the same Client ID and connects with a persistent session.
    let rival = setup.app.sign_up("Rival Corp").await;
    let key_b = ClientKey::generate();
    let mine = rival
        .create_client(&reused, key_b.expose(), "Not the boiler", "")
        .await
        .expect("the Client ID is free again");
    let mut login = Login::new(
        &reused,
        mine.connection.username_namespace(),
        key_b.expose(),
    );
    login.clean = false;
    let mut device = Device::connect(Version::V311, &setup.tcp(), &login)
        .await
        .expect("the new client's device connects");
    assert!(
        !device.accepted.session_present,
        "the deleted client's session is not resumed"
    );
    assert_eq!(
        device.message(Duration::from_millis(800)).await,
        None,
        "none of the first tenant's queued messages arrives"
    );
    device.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn revocation_ends_the_clients_offline_sessions(engine: Engine) {
    let setup = Setup::new(engine).await;
    for change in ["regenerate", "deactivate"] {
        let client = setup.tenant.new_client(change).await;
        let id = client.connection.client_id.to_string();
        offline_session(&setup, &client, client.key.expose()).await;
        publish_for(&setup, &client, b"queued before the change").await;
        let key = match change {
            "regenerate" => {
                let key = ClientKey::generate();
                let _: RevealedKey = setup
                    .tenant
                    .call(
                        "clients/regenerate_key",
                        &[("client_id", &id), ("key", key.expose())],
                    )
                    .await
                    .unwrap();
                key.expose().to_owned()
            }
            _ => {
                for active in ["false", "true"] {
                    let _: app::model::ClientRow = setup
                        .tenant
                        .call(
                            "clients/set_active",
                            &[("client_id", &id), ("active", active)],
                        )
                        .await
                        .unwrap();
                }
                client.key.expose().to_owned()
            }
        };
        revoked(&setup, &id).await;
        let mut login = Login::new(&id, client.connection.username_namespace(), &key);
        login.clean = false;
        let mut device = Device::connect(Version::V311, &setup.tcp(), &login)
            .await
            .expect("connects with the key it has now");
        assert!(
            !device.accepted.session_present,
            "{change}: the session from before the change is gone"
        );
        assert_eq!(
            device.message(Duration::from_millis(800)).await,
            None,
            "{change}: with its queued messages"
        );
        device.disconnect().await;
    }
    setup.app.stop().await;
}

async fn audit_rows(tenant: &Tenant) -> usize {
    let activity = tenant
        .call::<app::model::ActivityPage>("activity/list", &[])
        .await
        .expect("the activity log")
        .entries;
    activity.len()
}

#[engines]
async fn connection_form_3_cannot_be_hijacked_by_another_tenants_namespace(engine: Engine) {
    let setup = Setup::new(engine).await;
    let id = setup.client.connection.client_id.to_string();
    let rival = setup.app.sign_up("Rival Corp").await;
    // A workspace named after our Client ID would make our form-3 username name their namespace.
    let hijack = rival
        .call::<WorkspaceInfo>(
            "workspaces/create",
            &[("name", "Trap"), ("namespace", id.as_str())],
        )
        .await;
    let message = expect_field_error(hijack, FieldError::Namespace);
    assert!(message.contains("taken"), "{message}");
    // And the other way round: a Client ID named after our namespace.
    let clash = rival
        .create_client(
            setup.client.connection.namespace.as_str(),
            ClientKey::generate().expose(),
            "Trap",
            "",
        )
        .await;
    expect_field_error(clash, FieldError::ClientId);
    // Our form-3 device connects, and nothing of it lands in the rival's activity log.
    let rival_rows = audit_rows(&rival).await;
    for version in [Version::V311, Version::V5] {
        let device = Device::connect(
            version,
            &setup.tcp(),
            &login(Form::ClientIdUsername, &setup.client, setup.key()),
        )
        .await
        .expect("our device connects");
        device.disconnect().await;
    }
    assert_eq!(audit_rows(&rival).await, rival_rows);
    setup.app.stop().await;
}

#[engines]
async fn a_client_id_used_as_an_identifier_is_reserved_for_its_client(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.webhook_secret = Some(SECRET.parse().unwrap());
    })
    .await;
    let id = setup.client.connection.client_id.to_string();
    let rival = setup.app.sign_up("Rival Corp").await;
    let squatter = rival.new_client("Squatter").await;
    // The rival's device (forms 2 and 3 choose their identifier) takes our Client ID as its
    // identifier, first.
    for form in [Form::WithOrganization, Form::ClientIdUsername] {
        let mut taken = login(form, &squatter, squatter.key.expose());
        taken.client_identifier = id.clone();
        for version in [Version::V311, Version::V5] {
            let refused = Device::connect(version, &setup.tcp(), &taken).await.err();
            assert_eq!(
                refused.map(|r| r.0),
                Some(if version == Version::V5 { 0x87 } else { 5 }),
                "{form:?} {version:?}: our Client ID is not theirs to use"
            );
        }
    }
    // Through an external broker's webhook too.
    let (status, body) = webhook(
        &setup,
        "/webhooks/emqx/authn",
        &serde_json::json!({
            "clientid": id,
            "username": squatter.connection.client_id.as_str(),
            "password": squatter.key.expose(),
            "peerhost": "10.9.9.9",
        }),
    )
    .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("deny")),
        "{body}"
    );
    // Our form-1 devices get in, one after the other with the same identifier: the second meets
    // rmqtt still tearing down the first's session, as a device reconnecting would.
    for version in [Version::V311, Version::V5] {
        let device = Device::connect(
            version,
            &setup.tcp(),
            &login(Form::Namespace, &setup.client, setup.key()),
        )
        .await
        .expect("our device connects with its own Client ID");
        device.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn racing_connects_for_one_identifier_cannot_both_win(engine: Engine) {
    let setup = Setup::new(engine).await;
    let rival = setup.app.sign_up("Rival Corp").await;
    let theirs = rival.new_client("Rival device").await;
    for round in 0..10 {
        let identifier = format!("shared-{round}-{}", unique_suffix());
        let mut ours = login(Form::ClientIdUsername, &setup.client, setup.key());
        ours.client_identifier = identifier.clone();
        let mut rivals = login(Form::ClientIdUsername, &theirs, theirs.key.expose());
        rivals.client_identifier = identifier;
        let tcp = setup.tcp();
        let (a, b) = tokio::join!(
            Device::connect(Version::V5, &tcp, &ours),
            Device::connect(Version::V5, &tcp, &rivals)
        );
        let winners: Vec<Device> = [a, b].into_iter().filter_map(Result::ok).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one of the two gets the identifier"
        );
        for mut winner in winners {
            assert!(
                !winner.closed_within(Duration::from_millis(300)).await,
                "round {round}: the winner is not kicked by the loser"
            );
            winner.disconnect().await;
        }
    }
    setup.app.stop().await;
}
