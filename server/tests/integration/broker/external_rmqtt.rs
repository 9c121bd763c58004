//! Keygate as the credential service of a real external rmqtt broker: `rmqtt-test-broker`
//! (rmqtt 0.24 with its auth-http, http-api and web-hook plugins, configured as
//! docs/external-brokers.md says) in its own process. Devices connect to it with real MQTT
//! clients; it asks Keygate's webhooks; Keygate, running without its embedded broker, closes
//! revoked sessions on it through its admin API.
//!
//! Where rmqtt answers differently from Keygate's embedded broker, the tests assert what rmqtt
//! does and say so.

use crate::broker::device::{Device, Login, Refused, Transport, VERSIONS, Version};
use crate::broker::fake_admin_api::closed_port;
use crate::broker::webhooks::SECRET;
use crate::broker::{FORMS, Form, Setup, login, topic};
use crate::support::rmqtt::ExternalRmqtt;
use crate::support::{Engine, engines, eventually, outbox_done};
use app::model::{ClientKey, RevealedKey};
use server::revocation::admin_api::{AdminApi, Kind};
use std::time::Duration;

/// The broker target name Keygate knows the external broker by (and the broker sends back in
/// every webhook URL).
const NAME: &str = "rmqtt-test";
/// The admin API's bearer token (rmqtt-http-api's `http_bearer_token`).
const API_TOKEN: &str = "admin-api-token-for-tests";

/// Keygate without its embedded broker, with the webhooks on and the external broker as its
/// only revocation target, and the broker itself.
pub(super) struct External {
    pub(super) setup: Setup,
    pub(super) broker: ExternalRmqtt,
}

impl External {
    pub(super) async fn start(engine: Engine) -> Self {
        // The broker needs Keygate's address and Keygate needs the broker's admin API: the API
        // gets a free port first, and the broker is told to listen there.
        let api = closed_port();
        let mut target = AdminApi::new(Some(NAME), Kind::Rmqtt, &format!("http://{api}"))
            .expect("a broker target");
        target.token = Some(API_TOKEN.into());
        let setup = Setup::with(engine, |c| {
            c.no_broker = true;
            c.webhook_secret = Some(SECRET.parse().unwrap());
            c.broker_targets = vec![target];
        })
        .await;
        let broker = ExternalRmqtt::start_with(
            &setup.app.base,
            SECRET,
            NAME,
            &["--api", &api.to_string(), "--api-token", API_TOKEN],
        );
        assert_eq!(broker.api, format!("http://{api}"));
        Self { setup, broker }
    }

    fn tcp(&self) -> Transport {
        Transport::Tcp(self.broker.mqtt)
    }

    /// Connects `login`, retrying while rmqtt still tears down an earlier session of the same
    /// client identifier; fails the test, with the broker's log, if it is refused.
    pub(super) async fn connect(&self, version: Version, login: &Login) -> Device {
        Device::connect(version, &self.tcp(), login)
            .await
            .unwrap_or_else(|refused| {
                panic!(
                    "{login:?} ({version:?}) was refused with {refused:?}; the broker's log:\n{}",
                    self.broker.stderr()
                )
            })
    }

    async fn refused(&self, version: Version, login: &Login) -> Option<Refused> {
        Device::connect(version, &self.tcp(), login).await.err()
    }

    /// Whether every revocation of the client is done, i.e. confirmed by the external broker.
    pub(super) async fn revocations_done(&self) -> bool {
        let id = self.setup.client.connection.client_id.as_str();
        eventually(Duration::from_secs(10), || async {
            let done = outbox_done(&self.setup.app.db, id).await;
            !done.is_empty() && !done.contains(&false)
        })
        .await
    }

    pub(super) async fn stop(self) {
        drop(self.broker);
        self.setup.app.stop().await;
    }
}

/// CONNACK for a wrong key (Keygate answers `deny`): rmqtt's "bad user name or password" in both
/// versions. Keygate's embedded broker answers 3.1.1 with 5, "not authorized", instead.
fn bad_key(version: Version) -> Refused {
    match version {
        Version::V311 => Refused(4),
        Version::V5 => Refused(0x86),
    }
}

/// CONNACK for a Client ID Keygate does not know (it answers `ignore`, so the broker may ask its
/// next authenticator): with none left and anonymous logins off, rmqtt says "not authorized".
fn unknown(version: Version) -> Refused {
    match version {
        Version::V311 => Refused(5),
        Version::V5 => Refused(0x87),
    }
}

/// SUBACK failure codes: 0x80 in 3.1.1, "not authorized" 0x87 in MQTT 5.
fn refused_sub(version: Version) -> u8 {
    match version {
        Version::V311 => 0x80,
        Version::V5 => 0x87,
    }
}

/// One device of each connection form, both protocol versions among them: three client
/// identifiers, two of which only the webhooks told Keygate about.
async fn connected(external: &External, key: &str) -> Vec<Device> {
    let client = &external.setup.client;
    let mut devices = Vec::new();
    for (form, version) in FORMS
        .into_iter()
        .zip([Version::V311, Version::V5, Version::V311])
    {
        devices.push(external.connect(version, &login(form, client, key)).await);
    }
    devices
}

async fn all_closed(external: &External, devices: &mut [Device]) {
    for (i, device) in devices.iter_mut().enumerate() {
        assert!(
            device.closed_within(Duration::from_secs(5)).await,
            "device {i}'s live session on the external broker was not closed; the broker's log:\n{}",
            external.broker.stderr()
        );
    }
}

#[engines]
async fn each_connection_form_connects_through_the_webhooks_and_stays_in_its_namespace(
    engine: Engine,
) {
    let external = External::start(engine).await;
    let client = &external.setup.client;
    for version in VERSIONS {
        for form in FORMS {
            let mut device = external
                .connect(version, &login(form, client, external.setup.key()))
                .await;
            let t = topic(client, &format!("{form:?}-{version:?}"));
            assert_eq!(device.subscribe(&t).await, 1, "{form:?} {version:?}");
            assert_eq!(device.publish(&t, b"21.5").await, 0, "{form:?} {version:?}");
            let (got, payload) = device
                .message(Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("{form:?} {version:?}: its own message comes back"));
            assert_eq!(
                (got.as_str(), payload.as_slice()),
                (t.as_str(), &b"21.5"[..])
            );
            device.disconnect().await;
        }
    }
    external.stop().await;
}

#[engines]
async fn wrong_keys_and_unknown_client_ids_are_refused(engine: Engine) {
    let external = External::start(engine).await;
    let client = &external.setup.client;
    let other = external.setup.tenant.new_client("Another sensor").await;
    let wrong = ClientKey::generate();
    let c = &client.connection;
    // Four failures for the client (the back-off starts after five) and six from 127.0.0.1.
    for version in VERSIONS {
        assert_eq!(
            external
                .refused(version, &login(Form::Namespace, client, wrong.expose()))
                .await,
            Some(bad_key(version)),
            "wrong key, {version:?}"
        );
        assert_eq!(
            external
                .refused(
                    version,
                    &login(Form::WithOrganization, client, other.key.expose())
                )
                .await,
            Some(bad_key(version)),
            "another client's key, {version:?}"
        );
        assert_eq!(
            external
                .refused(
                    version,
                    &Login::new(
                        "c-doesnotexist",
                        c.username_namespace(),
                        external.setup.key()
                    )
                )
                .await,
            Some(unknown(version)),
            "unknown Client ID, {version:?}"
        );
    }
    // The right key still gets in: nothing above locked the client out.
    external
        .connect(
            Version::V5,
            &login(Form::ClientIdUsername, client, external.setup.key()),
        )
        .await
        .disconnect()
        .await;
    external.stop().await;
}

#[engines]
async fn subscriptions_outside_the_namespace_fail_in_the_suback(engine: Engine) {
    let external = External::start(engine).await;
    let client = &external.setup.client;
    let ns = client.connection.namespace.to_string();
    let rival = external.setup.app.sign_up("Rival Corp").await;
    let theirs: RevealedKey = rival.new_client("Rival sensor").await;
    let their_ns = theirs.connection.namespace.to_string();
    for version in VERSIONS {
        let mut device = external
            .connect(
                version,
                &login(Form::Namespace, client, external.setup.key()),
            )
            .await;
        for filter in [
            "#".to_string(),
            "+/#".into(),
            "$SYS/#".into(),
            format!("{their_ns}/#"),
            format!("{ns}-other/#"),
            format!("other/{ns}/#"),
            "+/devices/#".into(),
            // The ACL Keygate sent at CONNECT settles everything above. No rule of it matches a
            // `$` filter other than `$SYS/…` (`#` does not match them), shared subscriptions
            // included: for these rmqtt asks the authorization webhook, with the filter as sent.
            format!("$share/group/{their_ns}/#"),
            "$keygate-test/#".into(),
        ] {
            assert_eq!(
                device.subscribe(&filter).await,
                refused_sub(version),
                "{filter} {version:?}"
            );
        }
        // A refused SUBSCRIBE leaves the connection up, and the namespace (itself included:
        // `NAMESPACE/#` matches `NAMESPACE`) is open.
        for filter in [
            format!("{ns}/#"),
            ns.clone(),
            format!("{ns}/+/x"),
            format!("$share/group/{ns}/#"),
        ] {
            assert_eq!(device.subscribe(&filter).await, 1, "{filter} {version:?}");
        }
        device.disconnect().await;
    }
    external.stop().await;
}

/// rmqtt's auth-http plugin closes the connection of a device that publishes where it may not
/// (`disconnect_if_pub_rejected`, on by default), where Keygate's embedded broker keeps it and
/// answers PUBACK 0x87 (MQTT 5). Either way the message goes nowhere.
#[engines]
async fn a_publish_outside_the_namespace_closes_the_connection_and_reaches_nobody(engine: Engine) {
    let external = External::start(engine).await;
    let client = &external.setup.client;
    let rival = external.setup.app.sign_up("Rival Corp").await;
    let theirs: RevealedKey = rival.new_client("Rival sensor").await;
    let their_ns = theirs.connection.namespace.to_string();
    let mut listener = external
        .connect(
            Version::V5,
            &login(Form::Namespace, &theirs, theirs.key.expose()),
        )
        .await;
    assert_eq!(listener.subscribe(&format!("{their_ns}/#")).await, 1);

    for version in VERSIONS {
        let mut device = external
            .connect(
                version,
                &login(Form::Namespace, client, external.setup.key()),
            )
            .await;
        let inside = topic(client, "echo");
        assert_eq!(device.subscribe(&inside).await, 1);
        device
            .send_publish(&format!("{their_ns}/devices/x/cmd"), b"hostile")
            .await;
        assert!(
            device.closed_within(Duration::from_secs(5)).await,
            "{version:?}: rmqtt closes the connection of a refused publish"
        );
        assert!(
            listener.message(Duration::from_millis(500)).await.is_none(),
            "{version:?}: the refused message reached the other namespace's subscriber"
        );
    }
    // The rival's own traffic still flows, and only it.
    let own = format!("{their_ns}/devices/y/state");
    assert_eq!(listener.publish(&own, b"mine").await, 0);
    let (got, payload) = listener
        .message(Duration::from_secs(5))
        .await
        .expect("the rival's own message");
    assert_eq!(
        (got.as_str(), payload.as_slice()),
        (own.as_str(), &b"mine"[..])
    );
    listener.disconnect().await;
    external.stop().await;
}

#[engines]
async fn regenerate_closes_live_sessions_and_the_new_key_connects_at_once(engine: Engine) {
    let external = External::start(engine).await;
    let mut devices = connected(&external, external.setup.key()).await;
    let (new_key, _) = external.setup.regenerate().await;
    all_closed(&external, &mut devices).await;
    let client = &external.setup.client;
    for version in VERSIONS {
        assert_eq!(
            external
                .refused(
                    version,
                    &login(Form::Namespace, client, external.setup.key())
                )
                .await,
            Some(bad_key(version)),
            "the old key cannot reconnect, {version:?}"
        );
    }
    let mut device = external
        .connect(
            Version::V5,
            &login(Form::Namespace, client, new_key.expose()),
        )
        .await;
    let t = topic(client, "new-key");
    assert_eq!(device.subscribe(&t).await, 1);
    assert_eq!(device.publish(&t, b"yes").await, 0);
    assert!(device.message(Duration::from_secs(5)).await.is_some());
    assert!(
        external.revocations_done().await,
        "the external broker never confirmed the revocation"
    );
    device.disconnect().await;
    external.stop().await;
}

#[engines]
async fn deactivate_closes_live_sessions_until_activated(engine: Engine) {
    let external = External::start(engine).await;
    let mut devices = connected(&external, external.setup.key()).await;
    external.setup.set_active(false).await;
    all_closed(&external, &mut devices).await;
    let client = &external.setup.client;
    // Keygate answers an inactive client's right key with `deny`, which rmqtt also reports as
    // "bad user name or password" (the embedded broker: "not authorized").
    for version in VERSIONS {
        assert_eq!(
            external
                .refused(
                    version,
                    &login(Form::Namespace, client, external.setup.key())
                )
                .await,
            Some(bad_key(version)),
            "an inactive client cannot reconnect, {version:?}"
        );
    }
    assert!(
        external.revocations_done().await,
        "the external broker never confirmed the revocation"
    );
    external.setup.set_active(true).await;
    for device in connected(&external, external.setup.key()).await {
        device.disconnect().await;
    }
    external.stop().await;
}

#[engines]
async fn delete_closes_live_sessions(engine: Engine) {
    let external = External::start(engine).await;
    let mut devices = connected(&external, external.setup.key()).await;
    let client = &external.setup.client;
    let () = external
        .setup
        .tenant
        .call(
            "clients/delete",
            &[("client_id", client.connection.client_id.as_str())],
        )
        .await
        .unwrap();
    all_closed(&external, &mut devices).await;
    // A deleted client is unknown to Keygate (`ignore`): "not authorized".
    for version in VERSIONS {
        assert_eq!(
            external
                .refused(
                    version,
                    &login(Form::Namespace, client, external.setup.key())
                )
                .await,
            Some(unknown(version)),
            "a deleted client cannot reconnect, {version:?}"
        );
    }
    assert!(
        external.revocations_done().await,
        "the external broker never confirmed the revocation"
    );
    external.stop().await;
}

/// Devices of connection forms 2 and 3 choose their own client identifiers, and MQTT allows any
/// UTF-8 in them: the admin call must name each one exactly (percent-encoded in the path).
#[engines]
async fn revocation_closes_sessions_whatever_their_client_identifiers_and_bad_ones_never_get_in(
    engine: Engine,
) {
    let external = External::start(engine).await;
    let client = &external.setup.client;
    let username = client.connection.username_client_id();
    // Identifiers no admin API path could carry, or that hide characters, are refused there
    // (the webhook denies them, which rmqtt answers as a bad username or password).
    for identifier in ["..", ".", "sensor 7", "sensör-7", "sensor\u{200b}7"] {
        assert_eq!(
            external
                .refused(
                    Version::V5,
                    &Login::new(identifier, username, external.setup.key()),
                )
                .await,
            Some(Refused(0x86)),
            "{identifier:?}"
        );
    }
    let mut devices = Vec::new();
    for identifier in ["sensor/7", "sensor%7", "sensor?7#", "sensor+7", "..."] {
        devices.push(
            external
                .connect(
                    Version::V5,
                    &Login::new(identifier, username, external.setup.key()),
                )
                .await,
        );
    }
    external.setup.set_active(false).await;
    all_closed(&external, &mut devices).await;
    assert!(
        external.revocations_done().await,
        "the external broker never confirmed the revocation"
    );
    external.stop().await;
}

/// The client's "Connected" count as the Clients page shows it, and the brokers its Edit modal
/// lists sessions on.
async fn presence(external: &External) -> (u32, Vec<String>) {
    let client = &external.setup.client;
    let details: app::model::ClientDetails = external
        .setup
        .tenant
        .call(
            "clients/get",
            &[("client_id", client.connection.client_id.as_str())],
        )
        .await
        .expect("clients/get");
    (
        details.row.live_sessions,
        details.sessions.into_iter().map(|s| s.broker).collect(),
    )
}

#[engines]
async fn devices_on_the_external_broker_show_as_connected_while_they_are(engine: Engine) {
    let external = External::start(engine).await;
    assert_eq!(presence(&external).await.0, 0);
    let device = external
        .connect(
            Version::V5,
            &login(
                Form::ClientIdUsername,
                &external.setup.client,
                external.setup.key(),
            ),
        )
        .await;
    assert_eq!(
        presence(&external).await,
        (1, vec![NAME.to_owned()]),
        "Connected, on the broker that asked"
    );
    device.disconnect().await;
    // rmqtt's web-hook plugin reports the disconnect to /webhooks/events.
    assert!(
        eventually(Duration::from_secs(10), || async {
            presence(&external).await.0 == 0
        })
        .await,
        "no longer Connected once the broker said so; its log:\n{}",
        external.broker.stderr()
    );
    external.stop().await;
}

#[engines]
async fn a_client_id_is_reserved_there_too(engine: Engine) {
    let external = External::start(engine).await;
    let ours = external.setup.client.connection.client_id.to_string();
    let rival = external.setup.app.sign_up("Rival Corp").await;
    let theirs = rival.new_client("Squatter").await;
    let mut squatting = login(Form::ClientIdUsername, &theirs, theirs.key.expose());
    squatting.client_identifier = ours.clone();
    assert_eq!(
        external.refused(Version::V5, &squatting).await,
        Some(Refused(0x86)),
        "another tenant's device cannot take our Client ID as its identifier there"
    );
    let device = external
        .connect(
            Version::V5,
            &login(
                Form::Namespace,
                &external.setup.client,
                external.setup.key(),
            ),
        )
        .await;
    device.disconnect().await;
    external.stop().await;
}

/// The CONNECT of device `device` of the client in connection form 3.
fn device_login(external: &External, device: &str) -> Login {
    external.setup.device_login(device)
}

#[engines]
async fn a_restricted_client_keeps_to_its_scope_there(engine: Engine) {
    let external = External::start(engine).await;
    let setup = &external.setup;
    setup.set_access(Some("d-1, d-2"), &[]).await;
    for version in VERSIONS {
        assert!(
            external
                .refused(version, &device_login(&external, "d-9"))
                .await
                .is_some(),
            "a device outside the scope is refused, {version:?}"
        );
        assert!(
            external
                .refused(version, &login(Form::Namespace, &setup.client, setup.key()))
                .await
                .is_some(),
            "the key in connection form 1 is refused, {version:?}"
        );
    }
    let mut d1 = external
        .connect(Version::V5, &device_login(&external, "d-1"))
        .await;
    let ns = setup.client.connection.namespace.to_string();
    assert_eq!(d1.subscribe(&setup.device_topic("d-3", "#")).await, 0x87);
    assert_eq!(d1.subscribe(&format!("{ns}/#")).await, 0x87);
    assert_eq!(d1.subscribe(&setup.device_topic("d-2", "#")).await, 1);
    let own = setup.device_topic("d-1", "t");
    assert_eq!(d1.subscribe(&own).await, 1);
    assert_eq!(d1.publish(&own, b"hi").await, 0);
    assert_eq!(
        d1.message(Duration::from_secs(5)).await,
        Some((own, b"hi".to_vec()))
    );
    external.stop().await;
}

#[engines]
async fn narrowing_the_scope_closes_exactly_the_sessions_it_leaves_out_there(engine: Engine) {
    let external = External::start(engine).await;
    let setup = &external.setup;
    setup.set_access(Some("d-1, d-2"), &[]).await;
    let mut d1 = external
        .connect(Version::V5, &device_login(&external, "d-1"))
        .await;
    let mut d2 = external
        .connect(Version::V311, &device_login(&external, "d-2"))
        .await;
    setup.set_access(Some("d-1"), &[]).await;
    assert!(
        d2.closed_within(Duration::from_secs(5)).await,
        "the device the scope lost was not closed; the broker's log:\n{}",
        external.broker.stderr()
    );
    assert!(
        !d1.closed_within(Duration::from_secs(1)).await,
        "the device still in scope stays connected"
    );
    assert!(external.revocations_done().await);
    assert!(
        external
            .refused(Version::V5, &device_login(&external, "d-2"))
            .await
            .is_some()
    );
    external.stop().await;
}

#[engines]
async fn a_changed_topic_rule_closes_the_clients_sessions_there_and_applies_on_reconnect(
    engine: Engine,
) {
    let external = External::start(engine).await;
    let setup = &external.setup;
    let ns = setup.client.connection.namespace.to_string();
    let mut device = external
        .connect(Version::V5, &device_login(&external, "d-1"))
        .await;
    assert_eq!(device.subscribe(&format!("{ns}/#")).await, 1);
    setup
        .set_access(None, &[("deny", "subscribe", &format!("{ns}/secret/#"))])
        .await;
    assert!(
        device.closed_within(Duration::from_secs(5)).await,
        "rmqtt cannot have a subscription taken away through its API: the session is closed"
    );
    let mut again = external
        .connect(Version::V5, &device_login(&external, "d-1"))
        .await;
    assert_eq!(again.subscribe(&format!("{ns}/#")).await, 0x87);
    assert_eq!(again.subscribe(&format!("{ns}/open/#")).await, 1);
    external.stop().await;
}
