//! The broker's limits (`--mqtt-max-*`, `--mqtt-handshake-timeout-secs`), each met from the
//! outside by a real client: what a device may hold in the shared process is bounded, and each
//! limit does what its flag says.

use crate::broker::device::{Device, Login, Transport, VERSIONS, Version};
use crate::broker::{Form, Setup, login, topic};
use crate::support::{Engine, engines, eventually};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits to be sure a message is not coming.
const NOTHING: Duration = Duration::from_millis(700);

/// Every message `device` receives until none comes for [`NOTHING`], as text.
async fn drain(device: &mut Device) -> Vec<String> {
    let mut payloads = Vec::new();
    while let Some((_, payload)) = device.message(NOTHING).await {
        payloads.push(String::from_utf8(payload).expect("a text payload"));
    }
    payloads
}

/// Disconnects `device`, then waits until the broker has seen its connection end (the tracker
/// removed its live session): a message published sooner may still go down the closing socket,
/// which loses a QoS 0 message instead of queueing it for the session.
async fn go_offline(setup: &Setup, device: Device, identifier: &str) {
    let live = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM device_sessions WHERE mqtt_client_id = $1 AND disconnected_at IS NULL")
            .bind(identifier)
            .fetch_one(setup.app.db.pool())
            .await
            .expect("a live session count")
    };
    let within = Duration::from_secs(5);
    // The tracker writes in batches: first see the connection, then see it go.
    assert!(
        eventually(within, || async { live().await == 1 }).await,
        "{identifier} tracked"
    );
    device.disconnect().await;
    assert!(
        eventually(within, || async { live().await == 0 }).await,
        "{identifier} offline"
    );
}

/// A device of the same client with an identifier of its own (to publish to the one under test).
async fn another_device(setup: &Setup, version: Version) -> Device {
    Device::connect(
        version,
        &setup.tcp(),
        &login(Form::WithOrganization, &setup.client, setup.key()),
    )
    .await
    .expect("another device connects")
}

#[engines]
async fn a_persistent_session_ends_at_the_session_expiry_cap(engine: Engine) {
    const CAP: u32 = 3;
    let setup = Setup::with(engine, |c| c.mqtt_max_session_expiry_secs = CAP).await;
    let t = topic(&setup.client, "while-away");
    for version in VERSIONS {
        // 3.1.1: clean session off, so the broker keeps the session for its own lifetime.
        // MQTT 5: clean start off and the longest expiry the protocol can ask for (136 years).
        let persistent = Login {
            clean: false,
            session_expiry: Some(u32::MAX),
            ..login(Form::WithOrganization, &setup.client, setup.key())
        };
        let mut device = Device::connect(version, &setup.tcp(), &persistent)
            .await
            .expect("connects");
        assert!(
            !device.accepted.session_present,
            "{version:?}: a new session"
        );
        if version == Version::V5 {
            assert_eq!(
                device.accepted.session_expiry,
                Some(CAP),
                "the CONNACK tells an MQTT 5 device the capped expiry"
            );
        }
        assert_eq!(device.subscribe(&t).await, 1);
        go_offline(&setup, device, &persistent.client_identifier).await;
        let mut publisher = another_device(&setup, version).await;

        // Within the cap the session is kept, with what was queued for it.
        assert_eq!(publisher.publish(&t, b"soon").await, 0);
        let mut device = Device::connect(version, &setup.tcp(), &persistent)
            .await
            .expect("reconnects");
        assert!(
            device.accepted.session_present,
            "{version:?}: kept within the cap"
        );
        assert_eq!(drain(&mut device).await, ["soon"], "{version:?}");
        go_offline(&setup, device, &persistent.client_identifier).await;

        // Past it the session is gone: no session present, nothing queued, no subscription.
        assert_eq!(publisher.publish(&t, b"too late").await, 0);
        tokio::time::sleep(Duration::from_secs(CAP.into()) + Duration::from_secs(2)).await;
        let mut device = Device::connect(version, &setup.tcp(), &persistent)
            .await
            .expect("reconnects");
        assert!(
            !device.accepted.session_present,
            "{version:?}: the session outlived the cap"
        );
        assert_eq!(publisher.publish(&t, b"after").await, 0);
        assert_eq!(
            drain(&mut device).await,
            Vec::<String>::new(),
            "{version:?}: neither the queued message nor the subscription survived"
        );
        device.disconnect().await;
        publisher.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn subscriptions_beyond_the_cap_fail_in_the_suback(engine: Engine) {
    let setup = Setup::with(engine, |c| c.mqtt_max_subscriptions = 3).await;
    for version in VERSIONS {
        let mut device = Device::connect(
            version,
            &setup.tcp(),
            &login(Form::Namespace, &setup.client, setup.key()),
        )
        .await
        .expect("connects");
        let filters: Vec<String> = (0..4)
            .map(|i| topic(&setup.client, &format!("sub-{i}")))
            .collect();
        for filter in &filters[..3] {
            assert_eq!(device.subscribe(filter).await, 1, "{version:?} {filter}");
        }
        // rmqtt answers "too many subscriptions" as a failure for that filter: 0x80 in 3.1.1,
        // "unspecified error" 0x80 in MQTT 5. The connection stays up.
        assert_eq!(device.subscribe(&filters[3]).await, 0x80, "{version:?}");
        // It counts before looking at the filter, so even one already held fails at the cap.
        assert_eq!(device.subscribe(&filters[0]).await, 0x80, "{version:?}");

        // The three before the cap work, the refused one delivers nothing.
        for (i, filter) in filters.iter().enumerate() {
            assert_eq!(device.publish(filter, format!("{i}").as_bytes()).await, 0);
        }
        assert_eq!(drain(&mut device).await, ["0", "1", "2"], "{version:?}");

        // It bounds the subscriptions held, not those ever made.
        device.unsubscribe(&filters[0]).await;
        assert_eq!(device.subscribe(&filters[3]).await, 1, "{version:?}");
        assert_eq!(device.publish(&filters[3], b"3").await, 0);
        assert_eq!(drain(&mut device).await, ["3"], "{version:?}");
        device.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn a_packet_over_the_maximum_size_closes_the_connection_and_is_never_delivered(
    engine: Engine,
) {
    const MAX: u32 = 1024;
    let setup = Setup::with(engine, |c| c.mqtt_max_packet_size = MAX).await;
    let t = topic(&setup.client, "sizes");
    let mut subscriber = another_device(&setup, Version::V5).await;
    assert_eq!(subscriber.subscribe(&t).await, 1);
    let fits = vec![b'a'; 900];
    let too_large = vec![b'b'; 2000];

    // MQTT 3.1.1 has no way to tell a device the limit: the broker reads the fixed header of a
    // larger packet and closes the connection without reading on, so no PUBACK comes.
    let mut device = another_device(&setup, Version::V311).await;
    assert_eq!(device.publish(&t, &fits).await, 0);
    assert_eq!(
        subscriber.message(NOTHING).await.map(|(_, p)| p),
        Some(fits.clone())
    );
    let outcome = device.try_publish(&t, &too_large).await;
    assert!(outcome.is_err(), "3.1.1: the broker answered {outcome:?}");

    // MQTT 5 devices are told the limit in the CONNACK, and rumqttc keeps to it, so a
    // hand-written client sends what a careless device might.
    let device = another_device(&setup, Version::V5).await;
    assert_eq!(device.accepted.maximum_packet_size, Some(MAX));
    device.disconnect().await;
    let login = login(Form::WithOrganization, &setup.client, setup.key());
    let mut raw = raw::V5::connect(setup.app.mqtt.unwrap(), &login).await;
    raw.publish_qos0(&t, &fits).await;
    assert_eq!(
        subscriber.message(NOTHING).await.map(|(_, p)| p),
        Some(fits)
    );
    raw.publish_qos0(&t, &too_large).await;
    let before_closing = raw
        .closed_within(Duration::from_secs(5))
        .await
        .expect("MQTT 5: the connection closed");
    // rmqtt closes the socket before it would send its DISCONNECT 0x95 (packet too large), so
    // the device sees the connection end and nothing else.
    assert_eq!(before_closing, Vec::<(u8, Vec<u8>)>::new(), "MQTT 5");

    assert!(
        subscriber.message(NOTHING).await.is_none(),
        "an oversized message reached the subscriber"
    );
    subscriber.disconnect().await;
    setup.app.stop().await;
}

#[engines]
async fn an_offline_session_keeps_only_the_configured_number_of_messages(engine: Engine) {
    let setup = Setup::with(engine, |c| c.mqtt_max_queued_messages = 3).await;
    let t = topic(&setup.client, "queue");
    let elsewhere = topic(&setup.client, "nobody-listens");
    for version in VERSIONS {
        let persistent = Login {
            clean: false,
            session_expiry: Some(600),
            ..login(Form::WithOrganization, &setup.client, setup.key())
        };
        let mut device = Device::connect(version, &setup.tcp(), &persistent)
            .await
            .expect("connects");
        assert_eq!(device.subscribe(&t).await, 1);
        go_offline(&setup, device, &persistent.client_identifier).await;
        let mut publisher = another_device(&setup, version).await;

        // QoS 1: a full queue lets the oldest go, so the device comes back to the newest three.
        for i in 1..=6 {
            assert_eq!(publisher.publish(&t, format!("q1-{i}").as_bytes()).await, 0);
        }
        let mut device = Device::connect(version, &setup.tcp(), &persistent)
            .await
            .expect("reconnects");
        assert!(device.accepted.session_present);
        assert_eq!(
            drain(&mut device).await,
            ["q1-4", "q1-5", "q1-6"],
            "{version:?}: QoS 1"
        );
        go_offline(&setup, device, &persistent.client_identifier).await;

        // QoS 0: a full queue turns the newcomer away, so the first three stay.
        for i in 1..=6 {
            publisher
                .publish_qos0(&t, format!("q0-{i}").as_bytes())
                .await;
        }
        // Packets of one connection are handled in order: this PUBACK follows the six above.
        assert_eq!(publisher.publish(&elsewhere, b"barrier").await, 0);
        let mut device = Device::connect(version, &setup.tcp(), &persistent)
            .await
            .expect("reconnects");
        assert_eq!(
            drain(&mut device).await,
            ["q0-1", "q0-2", "q0-3"],
            "{version:?}: QoS 0"
        );
        device.disconnect().await;
        publisher.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn a_device_gets_no_more_unacknowledged_messages_than_the_inflight_window(engine: Engine) {
    let setup = Setup::with(engine, |c| c.mqtt_max_inflight = 2).await;
    let t = topic(&setup.client, "window");
    for version in VERSIONS {
        let slow = Login {
            manual_acks: true,
            ..login(Form::WithOrganization, &setup.client, setup.key())
        };
        let mut device = Device::connect(version, &setup.tcp(), &slow)
            .await
            .expect("connects");
        if version == Version::V5 {
            assert_eq!(
                device.accepted.receive_maximum,
                Some(2),
                "the CONNACK's Receive Maximum"
            );
        }
        assert_eq!(device.subscribe(&t).await, 1);
        let mut publisher = another_device(&setup, version).await;
        for i in 1..=5 {
            assert_eq!(publisher.publish(&t, format!("m{i}").as_bytes()).await, 0);
        }
        // Two at a time: the rest wait in the session's queue until a PUBACK makes room.
        assert_eq!(drain(&mut device).await, ["m1", "m2"], "{version:?}");
        device.ack_received().await;
        assert_eq!(drain(&mut device).await, ["m3", "m4"], "{version:?}");
        device.ack_received().await;
        assert_eq!(drain(&mut device).await, ["m5"], "{version:?}");
        device.ack_received().await;
        device.disconnect().await;
        publisher.disconnect().await;
    }
    setup.app.stop().await;
}

#[engines]
async fn a_connect_that_stalls_is_closed_after_the_handshake_timeout(engine: Engine) {
    const TIMEOUT: Duration = Duration::from_secs(2);
    let setup = Setup::with(engine, |c| {
        c.mqtt_handshake_timeout_secs = TIMEOUT.as_secs() as u32
    })
    .await;
    let addr = setup.app.mqtt.unwrap();
    // (protocol level, the CONNACK code the broker sends before closing: "server unavailable")
    for (level, refusal) in [(4u8, 0x03), (5, 0x88)] {
        let began = Instant::now();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // The start of a CONNECT, announcing 32 bytes and sending 7 of them: enough for the
        // broker to know the protocol version, never enough to be complete.
        stream
            .write_all(&[0x10, 32, 0x00, 0x04, b'M', b'Q', b'T', b'T', level])
            .await
            .unwrap();
        let mut early = [0u8; 1];
        assert!(
            tokio::time::timeout(TIMEOUT / 2, stream.read(&mut early))
                .await
                .is_err(),
            "level {level}: the broker gave up before its timeout"
        );
        let mut answer = Vec::new();
        tokio::time::timeout(
            TIMEOUT + Duration::from_secs(3),
            stream.read_to_end(&mut answer),
        )
        .await
        .unwrap_or_else(|_| panic!("level {level}: still open after the timeout"))
        .expect("a clean close");
        assert!(began.elapsed() >= TIMEOUT, "level {level}");
        assert!(
            answer.len() >= 4 && answer[0] == 0x20 && answer[3] == refusal,
            "level {level}: not a CONNACK {refusal:#x}: {answer:x?}"
        );
    }
    setup.app.stop().await;
}

#[engines]
async fn every_listener_applies_the_limits(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, ca) = crate::broker::transports::certificates(dir.path());
    let setup = Setup::with(engine, |c| {
        c.mqtt_ws_listen = Some("127.0.0.1:0".parse().unwrap());
        c.mqtt_tls_listen = Some("127.0.0.1:0".parse().unwrap());
        c.mqtt_tls_cert = Some(cert);
        c.mqtt_tls_key = Some(key);
        c.mqtt_max_session_expiry_secs = 60;
        c.mqtt_max_subscriptions = 2;
        c.mqtt_max_packet_size = 2048;
        c.mqtt_max_inflight = 3;
        c.mqtt_handshake_timeout_secs = 2;
    })
    .await;
    let broker = setup.app.running().broker.as_ref().unwrap();
    let (ws, tls) = (broker.ws_addr.unwrap(), broker.tls_addr.unwrap());
    for transport in [setup.tcp(), Transport::Ws(ws), Transport::Tls(tls, ca)] {
        let asks_for_an_hour = Login {
            session_expiry: Some(3600),
            ..login(Form::WithOrganization, &setup.client, setup.key())
        };
        let mut device = Device::connect(Version::V5, &transport, &asks_for_an_hour)
            .await
            .expect("connects");
        let told = device.accepted;
        assert_eq!(
            (
                told.session_expiry,
                told.maximum_packet_size,
                told.receive_maximum
            ),
            (Some(60), Some(2048), Some(3)),
            "{transport:?}"
        );
        assert_eq!(device.subscribe(&topic(&setup.client, "a")).await, 1);
        assert_eq!(device.subscribe(&topic(&setup.client, "b")).await, 1);
        assert_eq!(
            device.subscribe(&topic(&setup.client, "c")).await,
            0x80,
            "{transport:?}"
        );
        device.disconnect().await;
    }
    // A connection that never starts its TLS handshake or WebSocket upgrade is closed too.
    for addr in [ws, tls] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer));
        assert!(read.await.is_ok(), "{addr}: still open after the timeout");
    }
    setup.app.stop().await;
}

/// A hand-written MQTT 5 client over plain TCP: for what rumqttc will not do, sending a packet
/// larger than the broker's Maximum Packet Size.
mod raw {
    use super::*;

    pub struct V5(TcpStream);

    /// MQTT's variable byte integer.
    fn varint(out: &mut Vec<u8>, mut n: usize) {
        loop {
            let byte = (n % 128) as u8;
            n /= 128;
            out.push(if n > 0 { byte | 0x80 } else { byte });
            if n == 0 {
                return;
            }
        }
    }

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u16).to_be_bytes());
        out.extend(s.as_bytes());
    }

    fn packet(first_byte: u8, body: &[u8]) -> Vec<u8> {
        let mut packet = vec![first_byte];
        varint(&mut packet, body.len());
        packet.extend(body);
        packet
    }

    /// The next packet: its first byte and its body; `None` once the connection is closed.
    async fn read_packet(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
        let first = stream.read_u8().await.ok()?;
        let (mut length, mut shift) = (0usize, 0);
        loop {
            let byte = stream.read_u8().await.ok()?;
            length |= usize::from(byte & 0x7F) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.ok()?;
        Some((first, body))
    }

    impl V5 {
        /// Connects with `login`'s credentials (clean start) and waits for a CONNACK "success".
        pub async fn connect(addr: SocketAddr, login: &Login) -> Self {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut body = Vec::new();
            string(&mut body, "MQTT");
            // Level 5; flags: username, password, clean start; keep alive 30 s; no properties.
            body.extend([5, 0b1100_0010, 0, 30, 0]);
            string(&mut body, &login.client_identifier);
            string(&mut body, login.username.as_deref().unwrap());
            string(&mut body, login.password.as_deref().unwrap());
            stream.write_all(&packet(0x10, &body)).await.unwrap();
            let connack = tokio::time::timeout(Duration::from_secs(10), read_packet(&mut stream))
                .await
                .expect("a CONNACK in time");
            match connack {
                Some((0x20, body)) if body.get(1) == Some(&0) => Self(stream),
                other => panic!("not a CONNACK success: {other:x?}"),
            }
        }

        pub async fn publish_qos0(&mut self, topic: &str, payload: &[u8]) {
            let mut body = Vec::new();
            string(&mut body, topic);
            body.push(0); // no properties
            body.extend(payload);
            self.0.write_all(&packet(0x30, &body)).await.unwrap();
        }

        /// The packets the broker sent before closing the connection within `wait`, or `None`
        /// if it is still open.
        pub async fn closed_within(&mut self, wait: Duration) -> Option<Vec<(u8, Vec<u8>)>> {
            let mut seen = Vec::new();
            tokio::time::timeout(wait, async {
                while let Some(packet) = read_packet(&mut self.0).await {
                    seen.push(packet);
                }
            })
            .await
            .ok()?;
            Some(seen)
        }
    }
}
