//! A device as the tests drive it: a real MQTT client (rumqttc) speaking 3.1.1 or 5 over TCP,
//! WebSocket or TLS, with one small API for both protocol versions.

use rumqttc::v5::mqttbytes::v5 as m5;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long any single broker answer may take before the test fails.
const ANSWER: Duration = Duration::from_secs(10);
/// rumqttc's own CONNECT deadline (5 s by default), past [`ANSWER`]: a slow CONNACK fails a test
/// as "no CONNACK in time", not as a refusal that looks like a wrong key.
const CLIENT_GIVES_UP: Duration = Duration::from_secs(20);
/// The largest packet a device sends or accepts (rumqttc's own default is 10 KiB each way): far
/// above anything a test sends (a 1 MiB HTTP publish included), so a test meets the broker's
/// limit, never the client's.
const DEVICE_MAX_PACKET: u32 = 2 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V311,
    V5,
}

pub const VERSIONS: [Version; 2] = [Version::V311, Version::V5];

#[derive(Clone, Debug)]
pub enum Transport {
    Tcp(SocketAddr),
    Ws(SocketAddr),
    /// Address and the CA certificate (PEM) to trust.
    Tls(SocketAddr, Vec<u8>),
}

/// A CONNECT's credentials.
#[derive(Clone, Debug)]
pub struct Login {
    pub client_identifier: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A Last Will topic (payload "gone").
    pub will_topic: Option<String>,
    /// Clean session (3.1.1) / clean start (5); false asks the broker to keep the session.
    pub clean: bool,
    /// MQTT 5's Session Expiry Interval in seconds (3.1.1 has none; the broker decides).
    pub session_expiry: Option<u32>,
    /// Hold back the PUBACK of every QoS 1 message until [`Device::ack_received`], like a device
    /// that is slow or stuck.
    pub manual_acks: bool,
}

impl Login {
    pub fn new(client_identifier: &str, username: &str, password: &str) -> Self {
        Self {
            client_identifier: client_identifier.into(),
            username: Some(username.into()),
            password: Some(password.into()),
            will_topic: None,
            clean: true,
            session_expiry: None,
            manual_acks: false,
        }
    }
}

/// What the broker said in a CONNACK that accepted the device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    pub session_present: bool,
    /// MQTT 5's Receive Maximum: how many QoS 1 and 2 messages the broker sends unacknowledged.
    pub receive_maximum: Option<u16>,
    /// MQTT 5's Maximum Packet Size: the largest packet the broker accepts.
    pub maximum_packet_size: Option<u32>,
    /// MQTT 5's Session Expiry Interval, when the broker changes the one asked for.
    pub session_expiry: Option<u32>,
}

/// What the broker answered to CONNECT when it refused: the raw CONNACK code as the protocol
/// numbers it (3.1.1: 1–5; MQTT 5: 0x80 and up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused(pub u8);

/// Anything the event loop reports, normalised.
#[derive(Debug)]
enum Seen {
    SubAck(Vec<u8>),
    UnsubAck,
    PubAck(u8),
    Message(Delivered),
    Closed(String),
}

/// A message the broker delivered to the device.
#[derive(Debug)]
struct Delivered {
    topic: String,
    payload: Vec<u8>,
    /// The QoS it was delivered with.
    qos: u8,
    /// Its PUBACK, when the device holds it back (boxed: a rumqttc packet is large).
    unacked: Option<Box<Unacked>>,
}

/// A QoS 1 message whose PUBACK a device with manual acks still owes.
#[derive(Debug)]
enum Unacked {
    V4(rumqttc::Publish),
    V5(m5::Publish),
}

pub struct Device {
    client: Client,
    events: mpsc::UnboundedReceiver<Seen>,
    /// What the broker answered to CONNECT.
    pub accepted: Accepted,
    /// Messages that arrived while the device waited for an acknowledgement.
    held: VecDeque<Delivered>,
    unacked: Vec<Unacked>,
}

enum Client {
    V4(rumqttc::AsyncClient),
    V5(rumqttc::v5::AsyncClient),
}

fn v4_code(code: rumqttc::ConnectReturnCode) -> u8 {
    use rumqttc::ConnectReturnCode as C;
    match code {
        C::Success => 0,
        C::RefusedProtocolVersion => 1,
        C::BadClientId => 2,
        C::ServiceUnavailable => 3,
        C::BadUserNamePassword => 4,
        C::NotAuthorized => 5,
    }
}

fn v5_code(code: m5::ConnectReturnCode) -> u8 {
    use m5::ConnectReturnCode as C;
    match code {
        C::Success => 0,
        C::UnspecifiedError => 0x80,
        C::MalformedPacket => 0x81,
        C::ProtocolError => 0x82,
        C::ImplementationSpecificError => 0x83,
        C::UnsupportedProtocolVersion => 0x84,
        C::ClientIdentifierNotValid => 0x85,
        C::BadUserNamePassword => 0x86,
        C::NotAuthorized => 0x87,
        C::ServerUnavailable => 0x88,
        C::ServerBusy => 0x89,
        C::Banned => 0x8A,
        C::BadAuthenticationMethod => 0x8C,
        C::ConnectionRateExceeded => 0x9F,
        other => panic!("unexpected MQTT 5 CONNACK {other:?}"),
    }
}

fn v5_suback(code: &m5::SubscribeReasonCode) -> u8 {
    use m5::SubscribeReasonCode as C;
    match code {
        C::Success(q) => *q as u8,
        C::NotAuthorized => 0x87,
        C::Failure | C::Unspecified => 0x80,
        other => panic!("unexpected MQTT 5 SUBACK {other:?}"),
    }
}

fn v5_puback(reason: &m5::PubAckReason) -> u8 {
    use m5::PubAckReason as R;
    match reason {
        R::Success => 0,
        R::NoMatchingSubscribers => 0x10,
        R::NotAuthorized => 0x87,
        other => panic!("unexpected MQTT 5 PUBACK {other:?}"),
    }
}

fn tls(ca: &[u8]) -> rumqttc::TlsConfiguration {
    rumqttc::TlsConfiguration::Simple {
        ca: ca.to_vec(),
        alpn: None,
        client_auth: None,
    }
}

impl Device {
    /// Connects and waits for the CONNACK; again while the broker answers "server unavailable".
    /// Keygate never gives that answer itself (`broker::connack`); rmqtt does when a CONNECT's
    /// client identifier has a session it is still tearing down, which any test that reuses an
    /// identifier (each protocol version in turn, a reconnect) can meet on a loaded machine. Real
    /// devices retry; so does every test.
    pub async fn connect(
        version: Version,
        transport: &Transport,
        login: &Login,
    ) -> Result<Device, Refused> {
        let mut attempts = 0;
        loop {
            match Self::connect_once(version, transport, login).await {
                Err(Refused(3 | 0x88)) if attempts < 20 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                answer => return answer,
            }
        }
    }

    async fn connect_once(
        version: Version,
        transport: &Transport,
        login: &Login,
    ) -> Result<Device, Refused> {
        let (host, port) = match transport {
            Transport::Tcp(a) | Transport::Tls(a, _) => (a.ip().to_string(), a.port()),
            Transport::Ws(a) => (format!("ws://{a}/mqtt"), a.port()),
        };
        let (tx, events) = mpsc::unbounded_channel();
        let (connack_tx, mut connack) = mpsc::unbounded_channel::<Result<Accepted, Refused>>();
        let manual_acks = login.manual_acks;
        let client = match version {
            Version::V311 => {
                let mut opts = rumqttc::MqttOptions::new(&login.client_identifier, host, port);
                opts.set_keep_alive(Duration::from_secs(30));
                opts.set_clean_session(login.clean);
                opts.set_manual_acks(login.manual_acks);
                let max = DEVICE_MAX_PACKET as usize;
                opts.set_max_packet_size(max, max);
                if let (Some(u), Some(p)) = (&login.username, &login.password) {
                    opts.set_credentials(u, p);
                }
                if let Some(topic) = &login.will_topic {
                    opts.set_last_will(rumqttc::LastWill::new(
                        topic,
                        "gone",
                        rumqttc::QoS::AtMostOnce,
                        false,
                    ));
                }
                match transport {
                    Transport::Tcp(_) => {}
                    Transport::Ws(_) => {
                        opts.set_transport(rumqttc::Transport::Ws);
                    }
                    Transport::Tls(_, ca) => {
                        opts.set_transport(rumqttc::Transport::Tls(tls(ca)));
                    }
                }
                let (client, mut el) = rumqttc::AsyncClient::new(opts, 64);
                el.network_options
                    .set_connection_timeout(CLIENT_GIVES_UP.as_secs());
                tokio::spawn(async move {
                    loop {
                        use rumqttc::{Event, Packet};
                        let seen = match el.poll().await {
                            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                                let _ = connack_tx.send(Ok(Accepted {
                                    session_present: ack.session_present,
                                    ..Accepted::default()
                                }));
                                continue;
                            }
                            Ok(Event::Incoming(Packet::SubAck(ack))) => Seen::SubAck(
                                ack.return_codes
                                    .iter()
                                    .map(|c| match c {
                                        rumqttc::SubscribeReasonCode::Success(q) => *q as u8,
                                        rumqttc::SubscribeReasonCode::Failure => 0x80,
                                    })
                                    .collect(),
                            ),
                            Ok(Event::Incoming(Packet::PubAck(_))) => Seen::PubAck(0),
                            Ok(Event::Incoming(Packet::UnsubAck(_))) => Seen::UnsubAck,
                            // A client closes the connection after DISCONNECT (the broker
                            // waits for it to): ending this task drops the socket.
                            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => {
                                let _ = tx.send(Seen::Closed("disconnected".into()));
                                return;
                            }
                            Ok(Event::Incoming(Packet::Publish(p))) => Seen::Message(Delivered {
                                topic: p.topic.clone(),
                                payload: p.payload.to_vec(),
                                qos: p.qos as u8,
                                unacked: manual_acks.then(|| Box::new(Unacked::V4(p))),
                            }),
                            Ok(_) => continue,
                            Err(rumqttc::ConnectionError::ConnectionRefused(code)) => {
                                let _ = connack_tx.send(Err(Refused(v4_code(code))));
                                return;
                            }
                            Err(e) => {
                                let _ = tx.send(Seen::Closed(e.to_string()));
                                let _ = connack_tx.send(Err(Refused(0xFF)));
                                return;
                            }
                        };
                        if tx.send(seen).is_err() {
                            return;
                        }
                    }
                });
                Client::V4(client)
            }
            Version::V5 => {
                let mut opts = rumqttc::v5::MqttOptions::new(&login.client_identifier, host, port);
                opts.set_keep_alive(Duration::from_secs(30));
                opts.set_clean_start(login.clean);
                opts.set_session_expiry_interval(login.session_expiry);
                opts.set_manual_acks(login.manual_acks);
                opts.set_max_packet_size(Some(DEVICE_MAX_PACKET));
                if let (Some(u), Some(p)) = (&login.username, &login.password) {
                    opts.set_credentials(u, p);
                }
                if let Some(topic) = &login.will_topic {
                    opts.set_last_will(m5::LastWill::new(
                        topic,
                        "gone",
                        rumqttc::v5::mqttbytes::QoS::AtMostOnce,
                        false,
                        None,
                    ));
                }
                match transport {
                    Transport::Tcp(_) => {}
                    Transport::Ws(_) => {
                        opts.set_transport(rumqttc::Transport::Ws);
                    }
                    Transport::Tls(_, ca) => {
                        opts.set_transport(rumqttc::Transport::Tls(tls(ca)));
                    }
                }
                opts.set_connection_timeout(CLIENT_GIVES_UP.as_secs());
                let (client, mut el) = rumqttc::v5::AsyncClient::new(opts, 64);
                tokio::spawn(async move {
                    loop {
                        use m5::Packet;
                        use rumqttc::v5::Event;
                        let seen = match el.poll().await {
                            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                                let properties = ack.properties.as_ref();
                                let _ = connack_tx.send(Ok(Accepted {
                                    session_present: ack.session_present,
                                    receive_maximum: properties.and_then(|p| p.receive_max),
                                    maximum_packet_size: properties.and_then(|p| p.max_packet_size),
                                    session_expiry: properties
                                        .and_then(|p| p.session_expiry_interval),
                                }));
                                continue;
                            }
                            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                                Seen::SubAck(ack.return_codes.iter().map(v5_suback).collect())
                            }
                            Ok(Event::Incoming(Packet::UnsubAck(_))) => Seen::UnsubAck,
                            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                                Seen::PubAck(v5_puback(&ack.reason))
                            }
                            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => {
                                let _ = tx.send(Seen::Closed("disconnected".into()));
                                return;
                            }
                            Ok(Event::Incoming(Packet::Publish(p))) => Seen::Message(Delivered {
                                topic: String::from_utf8_lossy(&p.topic).into_owned(),
                                payload: p.payload.to_vec(),
                                qos: p.qos as u8,
                                unacked: manual_acks.then(|| Box::new(Unacked::V5(p))),
                            }),
                            Ok(_) => continue,
                            Err(rumqttc::v5::ConnectionError::ConnectionRefused(code)) => {
                                let _ = connack_tx.send(Err(Refused(v5_code(code))));
                                return;
                            }
                            Err(e) => {
                                let _ = tx.send(Seen::Closed(e.to_string()));
                                let _ = connack_tx.send(Err(Refused(0xFF)));
                                return;
                            }
                        };
                        if tx.send(seen).is_err() {
                            return;
                        }
                    }
                });
                Client::V5(client)
            }
        };
        let answer = tokio::time::timeout(ANSWER, connack.recv())
            .await
            .expect("a CONNACK in time")
            .expect("the event loop answers");
        answer.map(|accepted| Device {
            client,
            events,
            accepted,
            held: VecDeque::new(),
            unacked: Vec::new(),
        })
    }

    /// Subscribes at QoS 1 and returns the SUBACK code (granted QoS, or 0x80 / 0x87 refused).
    pub async fn subscribe(&mut self, filter: &str) -> u8 {
        match &self.client {
            Client::V4(c) => c
                .subscribe(filter, rumqttc::QoS::AtLeastOnce)
                .await
                .unwrap(),
            Client::V5(c) => c
                .subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
                .await
                .unwrap(),
        }
        loop {
            match self.next().await {
                Some(Seen::SubAck(codes)) => return codes[0],
                Some(Seen::Closed(e)) => panic!("connection closed while subscribing: {e}"),
                None => panic!("no SUBACK"),
                Some(_) => {}
            }
        }
    }

    /// Unsubscribes and waits for the UNSUBACK.
    pub async fn unsubscribe(&mut self, filter: &str) {
        match &self.client {
            Client::V4(c) => c.unsubscribe(filter).await.unwrap(),
            Client::V5(c) => c.unsubscribe(filter).await.unwrap(),
        }
        loop {
            match self.next().await {
                Some(Seen::UnsubAck) => return,
                Some(Seen::Closed(e)) => panic!("connection closed while unsubscribing: {e}"),
                None => panic!("no UNSUBACK"),
                Some(_) => {}
            }
        }
    }

    /// Publishes at QoS 1 and returns the PUBACK reason (always 0 for 3.1.1, which has none).
    pub async fn publish(&mut self, topic: &str, payload: &[u8]) -> u8 {
        self.try_publish(topic, payload)
            .await
            .unwrap_or_else(|e| panic!("connection closed while publishing: {e}"))
    }

    /// [`Device::publish`], or why the connection closed instead of a PUBACK.
    pub async fn try_publish(&mut self, topic: &str, payload: &[u8]) -> Result<u8, String> {
        self.send_publish(topic, payload).await;
        loop {
            match self.next().await {
                Some(Seen::PubAck(code)) => return Ok(code),
                Some(Seen::Closed(e)) => return Err(e),
                None => return Err("the event loop ended".into()),
                Some(_) => {}
            }
        }
    }

    /// Sends a PUBLISH at QoS 1 without waiting for its PUBACK: for a publish the broker may
    /// answer by closing the connection (rmqtt's auth-http plugin does, for a topic it refuses).
    pub async fn send_publish(&self, topic: &str, payload: &[u8]) {
        match &self.client {
            Client::V4(c) => c
                .publish(topic, rumqttc::QoS::AtLeastOnce, false, payload.to_vec())
                .await
                .unwrap(),
            Client::V5(c) => c
                .publish(
                    topic,
                    rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                    false,
                    payload.to_vec(),
                )
                .await
                .unwrap(),
        }
    }

    /// Publishes at QoS 0: nothing answers, so it returns once the client has sent it on.
    pub async fn publish_qos0(&mut self, topic: &str, payload: &[u8]) {
        match &self.client {
            Client::V4(c) => c
                .publish(topic, rumqttc::QoS::AtMostOnce, false, payload.to_vec())
                .await
                .unwrap(),
            Client::V5(c) => c
                .publish(
                    topic,
                    rumqttc::v5::mqttbytes::QoS::AtMostOnce,
                    false,
                    payload.to_vec(),
                )
                .await
                .unwrap(),
        }
    }

    /// Sends the PUBACKs a device with [`Login::manual_acks`] held back for the messages it has
    /// received so far.
    pub async fn ack_received(&mut self) {
        for message in self.unacked.drain(..) {
            match (&self.client, message) {
                (Client::V4(c), Unacked::V4(p)) => c.ack(&p).await.unwrap(),
                (Client::V5(c), Unacked::V5(p)) => c.ack(&p).await.unwrap(),
                _ => unreachable!("a message of the other protocol version"),
            }
        }
    }

    /// The next message delivered within `wait`, if any.
    pub async fn message(&mut self, wait: Duration) -> Option<(String, Vec<u8>)> {
        self.message_with_qos(wait)
            .await
            .map(|(topic, payload, _)| (topic, payload))
    }

    /// [`Device::message`] with the QoS the broker delivered it with.
    pub async fn message_with_qos(&mut self, wait: Duration) -> Option<(String, Vec<u8>, u8)> {
        if let Some(delivered) = self.held.pop_front() {
            return Some(self.take(delivered));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Seen::Message(delivered))) => return Some(self.take(delivered)),
                Ok(Some(Seen::Closed(_))) | Ok(None) | Err(_) => return None,
                Ok(Some(_)) => {}
            }
        }
    }

    /// Waits until the broker closes the connection; true if it did within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(Seen::Closed(_))) | Ok(None) => return true,
                Ok(Some(_)) => {}
                Err(_) => return false,
            }
        }
    }

    /// Sends DISCONNECT and waits until the connection is closed.
    pub async fn disconnect(mut self) {
        match &self.client {
            Client::V4(c) => c.disconnect().await.unwrap(),
            Client::V5(c) => c.disconnect().await.unwrap(),
        }
        let closed = tokio::time::timeout(ANSWER, async {
            loop {
                match self.events.recv().await {
                    Some(Seen::Closed(_)) | None => return,
                    Some(_) => {}
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "the connection did not close after DISCONNECT"
        );
    }

    fn take(&mut self, delivered: Delivered) -> (String, Vec<u8>, u8) {
        self.unacked
            .extend(delivered.unacked.map(|unacked| *unacked));
        (delivered.topic, delivered.payload, delivered.qos)
    }

    /// The next answer to a request; messages that arrive meanwhile are kept for
    /// [`Device::message`].
    async fn next(&mut self) -> Option<Seen> {
        loop {
            let seen = tokio::time::timeout(ANSWER, self.events.recv())
                .await
                .expect("the broker answers in time");
            match seen {
                Some(Seen::Message(delivered)) => self.held.push_back(delivered),
                other => return other,
            }
        }
    }
}
