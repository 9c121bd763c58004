//! `POST /v1/publish/{topic}`: the same key over HTTP, as curl sends it. A device authenticates
//! with HTTP Basic (an MQTT username of any connection form, its key as the password), the one
//! device-authentication core decides exactly as for a CONNECT (back-off shared with MQTT), the
//! topic rule decides as for a PUBLISH, and the message reaches the embedded broker's MQTT
//! subscribers. Every refusal has its status and a JSON `{"error": …}` body, and delivers nothing.

use crate::broker::device::{Device, Refused, Version};
use crate::broker::{Form, Setup, login, topic};
use crate::support::{Engine, TestApp, engines};
use app::model::{ClientKey, RevealedKey};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, ORIGIN, RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::Value;
use std::time::Duration;

/// The largest body the endpoint takes, whatever the broker's packet size.
const MIB: usize = 1024 * 1024;

/// How long a test waits to be sure a refused message was not delivered.
const QUIET: Duration = Duration::from_millis(300);

/// An answer of the publish endpoint.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    /// The `error` of a refusal's JSON body.
    #[track_caller]
    fn error(&self) -> &str {
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no JSON error in {:?}", self.body))
    }
}

/// The endpoint's URL for `client`, as the reveal's curl snippet names it.
fn publish_url(client: &RevealedKey) -> String {
    client
        .connection
        .publish_url
        .clone()
        .expect("the embedded broker runs, so HTTP publish is offered")
}

/// POSTs `body` to `{publish_url}/{path}` (a topic and its query), with HTTP Basic `user:key` when
/// given, and `customize` for anything else.
async fn post_with(
    url: &str,
    path: &str,
    credentials: Option<(&str, &str)>,
    body: Vec<u8>,
    customize: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Answer {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    let mut request = http.post(format!("{url}/{path}")).body(body);
    if let Some((user, key)) = credentials {
        request = request.basic_auth(user, Some(key));
    }
    let response = customize(request)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path} failed: {}", crate::support::chain(&e)));
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| {
        let start: String = text.chars().take(200).collect();
        panic!("a {status} answer that is not JSON ({e}): {start:?}")
    });
    Answer {
        status,
        headers,
        body,
    }
}

/// POSTs as curl does: `curl -u USER:KEY --data-binary BODY URL/PATH`.
async fn post(
    client: &RevealedKey,
    path: &str,
    credentials: Option<(&str, &str)>,
    body: impl Into<Vec<u8>>,
) -> Answer {
    post_with(&publish_url(client), path, credentials, body.into(), |r| r).await
}

/// The client's Client ID and key, as `curl -u` takes them (connection form 3's username).
fn client_id_and_key(client: &RevealedKey) -> (&str, &str) {
    (client.connection.client_id.as_str(), client.key.expose())
}

/// A device of `client` subscribed to the whole namespace at QoS 1, over MQTT 5.
async fn subscriber(setup: &Setup, client: &RevealedKey) -> Device {
    let mut device = Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::ClientIdUsername, client, client.key.expose()),
    )
    .await
    .expect("the subscriber connects");
    let filter = format!("{}/#", client.connection.namespace);
    assert_eq!(device.subscribe(&filter).await, 1);
    device
}

/// Asserts that `device` receives nothing for a moment.
async fn assert_nothing_delivered(device: &mut Device, what: &str) {
    if let Some((t, payload)) = device.message(QUIET).await {
        panic!(
            "{what}: delivered {t} ({} bytes) all the same",
            payload.len()
        );
    }
}

#[track_caller]
fn assert_refused(answer: &Answer, status: StatusCode, what: &str) {
    assert_eq!(answer.status, status, "{what}: {:?}", answer.body);
    assert!(!answer.error().is_empty(), "{what}: an empty error");
}

#[engines]
async fn a_publish_in_every_username_form_reaches_mqtt_subscribers(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let c = &client.connection;
    let key = setup.key();
    let mut sub = subscriber(&setup, client).await;
    let telemetry = topic(client, "telemetry");
    let sensor = format!("sensor-{}", crate::support::unique_suffix());

    // (user, query): form 3 with its default identifier (the Client ID) and with a device id,
    // form 2, and form 1 (the namespace, which needs the Client ID as the device).
    let with_org = c.username_with_org();
    let cases = [
        (c.username_client_id(), String::new()),
        (c.username_client_id(), format!("?device={sensor}")),
        (with_org.as_str(), String::new()),
        (with_org.as_str(), "?device=gateway-7".to_owned()),
        (c.username_namespace(), format!("?device={}", c.client_id)),
    ];
    for (user, query) in &cases {
        for qos in [0u8, 1] {
            let payload = format!("{{\"from\": \"{user}{query}\", \"qos\": {qos}}}");
            let separator = if query.is_empty() { '?' } else { '&' };
            let answer = post(
                client,
                &format!("{telemetry}{query}{separator}qos={qos}"),
                Some((user, key)),
                payload.clone(),
            )
            .await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{user}{query}: {:?}",
                answer.body
            );
            assert_eq!(answer.body["topic"], telemetry.as_str());
            assert_eq!(answer.body["qos"], qos);
            let (t, got, delivered_qos) = sub
                .message_with_qos(Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("{user}{query} qos {qos}: nothing delivered"));
            assert_eq!(t, telemetry);
            assert_eq!(got, payload.as_bytes());
            assert_eq!(
                delivered_qos, qos,
                "{user}{query}: the QoS is the publish's"
            );
        }
    }

    // No `qos`: QoS 0. A binary payload arrives byte for byte; an empty one too.
    let binary: Vec<u8> = (0..=255u8).collect();
    let answer = post(
        client,
        &telemetry,
        Some(client_id_and_key(client)),
        binary.clone(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let (_, got, qos) = sub.message_with_qos(Duration::from_secs(5)).await.unwrap();
    assert_eq!((got, qos), (binary, 0));
    let answer = post(client, &telemetry, Some(client_id_and_key(client)), "").await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let (_, got) = sub.message(Duration::from_secs(5)).await.unwrap();
    assert!(got.is_empty());

    // QoS 2 is delivered at the subscription's QoS 1.
    let answer = post(
        client,
        &format!("{telemetry}?qos=2"),
        Some(client_id_and_key(client)),
        "two",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let (_, got, qos) = sub.message_with_qos(Duration::from_secs(5)).await.unwrap();
    assert_eq!((got.as_slice(), qos), (&b"two"[..], 1));

    // An MQTT 3.1.1 subscriber of another client in the workspace receives it too.
    let other = setup.tenant.new_client("Dashboard screen").await;
    let mut v3 = Device::connect(
        Version::V311,
        &setup.tcp(),
        &login(Form::Namespace, &other, other.key.expose()),
    )
    .await
    .expect("connects");
    assert_eq!(v3.subscribe(&telemetry).await, 1);
    let answer = post(client, &telemetry, Some(client_id_and_key(client)), "both").await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(v3.message(Duration::from_secs(5)).await.unwrap().1, b"both");
    assert_eq!(
        sub.message(Duration::from_secs(5)).await.unwrap().1,
        b"both"
    );
    v3.disconnect().await;
    sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn retain_is_refused_since_the_embedded_broker_keeps_no_retained_messages(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let mut sub = subscriber(&setup, client).await;
    let telemetry = topic(client, "telemetry");

    let answer = post(
        client,
        &format!("{telemetry}?retain=true"),
        Some(client_id_and_key(client)),
        "kept?",
    )
    .await;
    assert_refused(&answer, StatusCode::BAD_REQUEST, "retain=true");
    assert!(answer.error().contains("retain"), "{}", answer.error());
    assert_nothing_delivered(&mut sub, "retain=true").await;

    let answer = post(
        client,
        &format!("{telemetry}?retain=false&qos=1"),
        Some(client_id_and_key(client)),
        "not kept",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(
        sub.message(Duration::from_secs(5)).await.unwrap().1,
        b"not kept"
    );
    sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn a_bad_qos_or_retain_or_an_unknown_parameter_is_400(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let mut sub = subscriber(&setup, client).await;
    let telemetry = topic(client, "telemetry");
    for query in [
        "qos=7",
        "qos=-1",
        "qos=one",
        "qos=",
        "retain=yes",
        "retain=1",
        "Qos=1",
        "qos=1&qos=0",
    ] {
        let answer = post(
            client,
            &format!("{telemetry}?{query}"),
            Some(client_id_and_key(client)),
            "x",
        )
        .await;
        assert_refused(&answer, StatusCode::BAD_REQUEST, query);
    }
    assert_nothing_delivered(&mut sub, "bad parameters").await;
    sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn wrong_missing_and_unknown_credentials_get_the_same_401(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let c = &client.connection;
    let mut sub = subscriber(&setup, client).await;
    let telemetry = topic(client, "telemetry");
    let wrong = ClientKey::generate();

    let answers = [
        (
            "wrong key",
            post(
                client,
                &telemetry,
                Some((c.client_id.as_str(), wrong.expose())),
                "x",
            )
            .await,
        ),
        (
            "wrong key, form 2",
            post(
                client,
                &telemetry,
                Some((&c.username_with_org(), wrong.expose())),
                "x",
            )
            .await,
        ),
        (
            "unknown client",
            post(client, &telemetry, Some(("c-nobody42", setup.key())), "x").await,
        ),
        (
            "another organization's id",
            post(
                client,
                &telemetry,
                Some((&format!("{}@not-the-org", c.client_id), setup.key())),
                "x",
            )
            .await,
        ),
        (
            "the namespace without the Client ID as device",
            post(
                client,
                &telemetry,
                Some((c.username_namespace(), setup.key())),
                "x",
            )
            .await,
        ),
        (
            "no Authorization",
            post(client, &telemetry, None, "x").await,
        ),
        (
            "not Basic",
            post_with(&publish_url(client), &telemetry, None, b"x".to_vec(), |r| {
                r.bearer_auth(setup.key())
            })
            .await,
        ),
    ];
    let first_error = answers[0].1.error().to_owned();
    for (what, answer) in &answers {
        assert_refused(answer, StatusCode::UNAUTHORIZED, what);
        assert_eq!(
            answer
                .headers
                .get(WWW_AUTHENTICATE)
                .map(|v| v.to_str().unwrap()),
            Some(r#"Basic realm="keygate""#),
            "{what}"
        );
        assert_eq!(
            answer.error(),
            first_error,
            "{what}: every 401 says the same, so no answer tells a name that exists"
        );
    }
    assert_nothing_delivered(&mut sub, "bad credentials").await;
    sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn topics_outside_the_namespace_are_403_and_malformed_topics_400(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let ns = client.connection.namespace.to_string();
    let mut sub = subscriber(&setup, client).await;
    let creds = Some(client_id_and_key(client));

    // A tenant subscribed to everything it may see: the other workspace's namespace.
    let neighbour = setup.app.sign_up("Neighbour Labs").await;
    let theirs = neighbour.new_client("Their sensor").await;
    let mut their_sub = subscriber(&setup, &theirs).await;

    for outside in [
        format!("{}/devices/x", theirs.connection.namespace),
        "elsewhere/x".to_owned(),
        "%24SYS/broker/x".to_owned(),
        format!("{ns}-other/x"),
        format!("other/{ns}/x"),
    ] {
        let answer = post(client, &outside, creds, "leak").await;
        assert_refused(&answer, StatusCode::FORBIDDEN, &outside);
    }
    for malformed in [
        format!("{ns}/%2B/x"),
        format!("{ns}/+"),
        format!("{ns}/%23"),
        format!("{ns}/a%00b"),
        format!("{ns}/%FF"),
        String::new(),
    ] {
        let answer = post(client, &malformed, creds, "bad").await;
        assert_refused(&answer, StatusCode::BAD_REQUEST, &malformed);
    }
    let answer = post_with(
        &setup.app.url("/v1"),
        "publish",
        creds,
        b"bad".to_vec(),
        |r| r,
    )
    .await;
    assert_refused(&answer, StatusCode::BAD_REQUEST, "no topic at all");
    let get = reqwest::get(format!("{}/{}", publish_url(client), topic(client, "x")))
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get.headers()["allow"], "POST");
    assert_nothing_delivered(&mut sub, "refused topics").await;
    assert_nothing_delivered(&mut their_sub, "another tenant's topic").await;

    // Percent-encoded characters are the topic's own: a space, and an encoded slash.
    let spaced = format!("{ns}/room%201%2Fa");
    let answer = post(client, &spaced, creds, "ok").await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let (t, _) = sub.message(Duration::from_secs(5)).await.unwrap();
    assert_eq!(t, format!("{ns}/room 1/a"));
    sub.disconnect().await;
    their_sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn a_body_over_the_packet_size_is_413_and_one_that_fits_exactly_passes(engine: Engine) {
    // The default --mqtt-max-packet-size (256 KiB) is below 1 MiB: it is the limit, counted as
    // the PUBLISH packet a device would send (topic and packet id included).
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let mut sub = subscriber(&setup, client).await;
    let creds = Some(client_id_and_key(client));
    let telemetry = topic(client, "blob");
    let max_packet = server::config::Config::defaults().mqtt_max_packet_size as usize;
    // Remaining length of a QoS 1 PUBLISH: topic length (2) + topic + packet id (2) + payload.
    let fits = max_packet - 2 - telemetry.len() - 2;

    for (what, len) in [("1 MiB + 1", MIB + 1), ("one byte too many", fits + 1)] {
        let answer = post(
            client,
            &format!("{telemetry}?qos=1"),
            creds,
            vec![b'x'; len],
        )
        .await;
        assert_refused(&answer, StatusCode::PAYLOAD_TOO_LARGE, what);
    }
    assert_nothing_delivered(&mut sub, "too large").await;

    let answer = post(
        client,
        &format!("{telemetry}?qos=1"),
        creds,
        vec![b'y'; fits],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let (_, got) = sub
        .message(Duration::from_secs(10))
        .await
        .expect("delivered");
    assert_eq!(got.len(), fits);
    sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn a_body_over_one_mib_is_413_even_when_the_packet_size_allows_more(engine: Engine) {
    let setup = Setup::with(engine, |c| c.mqtt_max_packet_size = 4 * MIB as u32).await;
    let client = &setup.client;
    let mut sub = subscriber(&setup, client).await;
    let creds = Some(client_id_and_key(client));
    let telemetry = topic(client, "blob");

    let answer = post(client, &telemetry, creds, vec![b'x'; MIB + 1]).await;
    assert_refused(&answer, StatusCode::PAYLOAD_TOO_LARGE, "1 MiB + 1");
    assert_nothing_delivered(&mut sub, "1 MiB + 1").await;

    let answer = post(client, &telemetry, creds, vec![b'y'; MIB]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let (_, got) = sub
        .message(Duration::from_secs(10))
        .await
        .expect("delivered");
    assert_eq!(got.len(), MIB);
    sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn a_deactivated_client_is_403_and_a_regenerated_key_retires_the_old_one(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    // The subscriber is another client's: deactivating this one closes its sessions.
    let listener = setup.tenant.new_client("Listener").await;
    let mut sub = subscriber(&setup, &listener).await;
    let telemetry = topic(client, "telemetry");
    let old = client_id_and_key(client);

    assert_eq!(
        post(client, &telemetry, Some(old), "1").await.status,
        StatusCode::OK
    );
    assert_eq!(sub.message(Duration::from_secs(5)).await.unwrap().1, b"1");

    setup.set_active(false).await;
    let answer = post(client, &telemetry, Some(old), "inactive").await;
    assert_refused(&answer, StatusCode::FORBIDDEN, "inactive");
    assert_nothing_delivered(&mut sub, "inactive").await;
    setup.set_active(true).await;

    let (new_key, _) = setup.regenerate().await;
    let answer = post(client, &telemetry, Some(old), "old key").await;
    assert_refused(&answer, StatusCode::UNAUTHORIZED, "the old key");
    assert_nothing_delivered(&mut sub, "the old key").await;
    let new = (old.0, new_key.expose());
    assert_eq!(
        post(client, &telemetry, Some(new), "2").await.status,
        StatusCode::OK
    );
    assert_eq!(sub.message(Duration::from_secs(5)).await.unwrap().1, b"2");
    sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn the_device_must_be_an_identifier_the_client_may_use(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let other = setup.tenant.new_client("Other").await;
    let mut sub = subscriber(&setup, &other).await;
    let telemetry = topic(client, "telemetry");
    let creds = Some(client_id_and_key(client));

    // Another client's device holds an identifier on the broker: it is theirs.
    let held = format!("sensor-{}", crate::support::unique_suffix());
    let holder = Device::connect(
        Version::V5,
        &setup.tcp(),
        &crate::broker::device::Login::new(
            &held,
            other.connection.client_id.as_str(),
            other.key.expose(),
        ),
    )
    .await
    .expect("the other client's device connects");
    for device in [
        held.clone(),
        // Another client's Client ID is reserved for it.
        other.connection.client_id.to_string(),
        // The identifier rule: no spaces, not `..`.
        "a%20b".to_owned(),
        "..".to_owned(),
    ] {
        let answer = post(client, &format!("{telemetry}?device={device}"), creds, "x").await;
        assert_refused(&answer, StatusCode::FORBIDDEN, &device);
    }
    assert_nothing_delivered(&mut sub, "refused identifiers").await;

    // Once that device's session is gone, the identifier is free to publish as (and stays free:
    // an HTTP publish holds no session).
    holder.disconnect().await;
    let free = crate::support::eventually(Duration::from_secs(5), || async {
        post(client, &format!("{telemetry}?device={held}"), creds, "free")
            .await
            .status
            == StatusCode::OK
    })
    .await;
    assert!(free, "a released identifier can be published as");
    assert_eq!(
        sub.message(Duration::from_secs(5)).await.unwrap().1,
        b"free"
    );
    sub.disconnect().await;
    setup.app.stop().await;
}

async fn mqtt_refused(setup: &Setup, client: &RevealedKey) -> Option<Refused> {
    match Device::connect(
        Version::V5,
        &setup.tcp(),
        &login(Form::ClientIdUsername, client, client.key.expose()),
    )
    .await
    {
        Ok(device) => {
            device.disconnect().await;
            None
        }
        Err(refused) => Some(refused),
    }
}

#[engines]
async fn the_back_off_is_shared_with_mqtt_and_answers_429_with_retry_after(engine: Engine) {
    let setup = Setup::with(engine, |c| {
        c.mqtt_lockout_after = 2;
        c.mqtt_lockout_ms = 60_000;
    })
    .await;
    let client = &setup.client;
    let telemetry = topic(client, "telemetry");
    let id = client.connection.client_id.as_str();
    let wrong = ClientKey::generate();

    // Wrong keys over HTTP lock the client out, over HTTP and over MQTT.
    let mut throttled = None;
    for _ in 0..5 {
        let answer = post(client, &telemetry, Some((id, wrong.expose())), "x").await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(answer);
            break;
        }
        assert_refused(&answer, StatusCode::UNAUTHORIZED, "a wrong key");
    }
    let throttled = throttled.expect("the back-off engages within five wrong keys");
    assert!(!throttled.error().is_empty());
    let retry_after: u64 = throttled.headers[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let right = post(client, &telemetry, Some(client_id_and_key(client)), "x").await;
    assert_refused(
        &right,
        StatusCode::TOO_MANY_REQUESTS,
        "the right key, locked out",
    );
    assert!(right.headers.contains_key(RETRY_AFTER));
    assert_eq!(
        mqtt_refused(&setup, client).await,
        Some(Refused(0x87)),
        "an MQTT connect of the locked client is refused too"
    );

    // And the other way: wrong keys over MQTT lock HTTP publishes out.
    let other = setup.tenant.new_client("Other").await;
    let wrong_login = login(Form::ClientIdUsername, &other, wrong.expose());
    let mut locked = false;
    for _ in 0..5 {
        match Device::connect(Version::V5, &setup.tcp(), &wrong_login).await {
            Err(Refused(0x86)) => {}
            Err(Refused(0x87)) => {
                locked = true;
                break;
            }
            other => panic!("a wrong key over MQTT: {:?}", other.map(|_| "connected")),
        }
    }
    assert!(locked, "the back-off engages over MQTT");
    let answer = post(
        &other,
        &topic(&other, "telemetry"),
        Some(client_id_and_key(&other)),
        "x",
    )
    .await;
    assert_refused(
        &answer,
        StatusCode::TOO_MANY_REQUESTS,
        "locked out by MQTT failures",
    );
    setup.app.stop().await;
}

#[engines]
async fn a_cross_site_browser_post_is_refused_and_delivers_nothing(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let mut sub = subscriber(&setup, client).await;
    let telemetry = topic(client, "telemetry");
    let creds = Some(client_id_and_key(client));

    let answer = post_with(
        &publish_url(client),
        &telemetry,
        creds,
        b"csrf".to_vec(),
        |r| r.header(ORIGIN, "https://evil.example"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{:?}", answer.body);
    assert_nothing_delivered(&mut sub, "a cross-site POST").await;

    // The dashboard's own origin, and no Origin at all (curl), are fine.
    let own = setup.app.base.clone();
    let answer = post_with(
        &publish_url(client),
        &telemetry,
        creds,
        b"same".to_vec(),
        |r| r.header(ORIGIN, own),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(
        sub.message(Duration::from_secs(5)).await.unwrap().1,
        b"same"
    );
    sub.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn without_the_embedded_broker_there_is_nothing_to_publish_to(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| c.no_broker = true).await;
    let tenant = app.sign_up("Acme").await;
    let client = tenant.new_client("Sensor").await;
    assert_eq!(
        client.connection.publish_url, None,
        "no curl snippet URL without the embedded broker"
    );
    let answer = post_with(
        &app.url("/v1/publish"),
        &topic(&client, "telemetry"),
        Some(client_id_and_key(&client)),
        b"x".to_vec(),
        |r| r,
    )
    .await;
    assert_refused(&answer, StatusCode::NOT_FOUND, "no broker");
    app.stop().await;
}

#[engines]
async fn a_restricted_key_publishes_only_as_a_device_in_its_scope_and_only_to_the_scope(
    engine: Engine,
) {
    let setup = Setup::new(engine).await;
    setup.set_access(Some("d-1, d-2"), &[]).await;
    let client = &setup.client;
    // A device of the scope listens to both devices' topics.
    let mut sub = Device::connect(Version::V5, &setup.tcp(), &setup.device_login("d-2"))
        .await
        .expect("a device in scope connects");
    for own in ["d-1", "d-2"] {
        assert_eq!(sub.subscribe(&setup.device_topic(own, "#")).await, 1);
    }
    let creds = Some(client_id_and_key(client));
    let d1 = setup.device_topic("d-1", "http");

    let answer = post(client, &format!("{d1}?device=d-1"), creds, "in scope").await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(
        sub.message(Duration::from_secs(5)).await,
        Some((d1.clone(), b"in scope".to_vec()))
    );
    let d2 = setup.device_topic("d-2", "http");
    let answer = post(
        client,
        &format!("{d2}?device=d-1"),
        creds,
        "to another of the scope",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert!(sub.message(Duration::from_secs(5)).await.is_some());

    let outside = setup.device_topic("d-9", "http");
    let answer = post(client, &format!("{outside}?device=d-1"), creds, "leak").await;
    assert_refused(&answer, StatusCode::FORBIDDEN, "a topic outside the scope");
    let answer = post(client, &format!("{d1}?device=d-9"), creds, "leak").await;
    assert_refused(&answer, StatusCode::FORBIDDEN, "a device outside the scope");
    let answer = post(client, &d1, creds, "leak").await;
    assert_refused(
        &answer,
        StatusCode::FORBIDDEN,
        "no device: the Client ID is no device in scope",
    );
    let ns = client.connection.namespace.to_string();
    let answer = post(client, &format!("{ns}/x?device=d-1"), creds, "leak").await;
    assert_refused(&answer, StatusCode::FORBIDDEN, "the workspace root");
    assert_nothing_delivered(&mut sub, "refused publishes").await;
    sub.disconnect().await;
    setup.app.stop().await;
}

/// An HTTP publish records its key's use, as a connect does, but at most once a minute per key:
/// a device publishing many times a minute is one write, not one per request.
#[engines]
async fn a_publish_records_its_keys_use_at_most_once_a_minute(engine: Engine) {
    let setup = Setup::new(engine).await;
    let client = &setup.client;
    let topic = format!(
        "{}/devices/{}/t",
        client.connection.namespace, client.connection.client_id
    );
    let last_used = || async {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT last_used_at FROM client_keys WHERE client_id = $1",
        )
        .bind(client.connection.client_id.as_str())
        .fetch_one(setup.app.db.pool())
        .await
        .unwrap()
    };
    assert_eq!(last_used().await, None);
    let answer = post(client, &topic, Some(client_id_and_key(client)), "1").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let first = last_used().await.expect("the key's use is recorded");
    for i in 0..5 {
        let answer = post(
            client,
            &topic,
            Some(client_id_and_key(client)),
            i.to_string(),
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    assert_eq!(
        last_used().await,
        Some(first),
        "not written again within the minute"
    );
    setup.app.stop().await;
}
