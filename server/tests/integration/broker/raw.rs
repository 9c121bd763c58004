//! A bare MQTT 3.1.1 CONNECT written byte by byte, from a loopback source address of the test's
//! choosing: several "different" devices (a NAT site, an attacker, a neighbour) on one machine.
//! rumqttc cannot bind its socket to a source address; this needs nothing else.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A CONNACK's session-present flag and return code (0 accepted, 5 not authorized, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub code: u8,
}

/// An open connection (closed when dropped).
pub struct Raw {
    pub ack: ConnAck,
    _stream: TcpStream,
}

fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
}

/// The CONNECT packet: clean session, keep-alive 30 s, with the username and password given.
pub fn connect_packet(identifier: &str, username: Option<&str>, password: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    string(&mut body, b"MQTT");
    body.push(4);
    let mut flags = 0x02;
    if username.is_some() {
        flags |= 0x80;
    }
    if password.is_some() {
        flags |= 0x40;
    }
    body.push(flags);
    body.extend_from_slice(&30u16.to_be_bytes());
    string(&mut body, identifier.as_bytes());
    if let Some(u) = username {
        string(&mut body, u.as_bytes());
    }
    if let Some(p) = password {
        string(&mut body, p.as_bytes());
    }
    let mut packet = vec![0x10];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        packet.push(byte);
        if len == 0 {
            break;
        }
    }
    packet.extend(body);
    packet
}

/// Connects from `source` (a 127.x.y.z address) and waits for the CONNACK.
pub async fn connect_from(
    source: IpAddr,
    broker: SocketAddr,
    identifier: &str,
    username: &str,
    password: &str,
) -> Raw {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .bind(SocketAddr::new(source, 0))
        .unwrap_or_else(|e| panic!("cannot bind {source}: {e}"));
    let mut stream = socket.connect(broker).await.expect("the broker accepts");
    stream
        .write_all(&connect_packet(identifier, Some(username), Some(password)))
        .await
        .expect("CONNECT sent");
    let mut ack = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(20), stream.read_exact(&mut ack))
        .await
        .expect("a CONNACK in time")
        .expect("a CONNACK");
    assert_eq!(ack[..2], [0x20, 0x02], "a CONNACK: {ack:?}");
    Raw {
        ack: ConnAck {
            session_present: ack[2] & 1 == 1,
            code: ack[3],
        },
        _stream: stream,
    }
}

/// [`connect_from`]'s return code only; the connection is closed at once.
pub async fn code_from(
    source: &str,
    broker: SocketAddr,
    identifier: &str,
    username: &str,
    password: &str,
) -> u8 {
    connect_from(
        source.parse().unwrap(),
        broker,
        identifier,
        username,
        password,
    )
    .await
    .ack
    .code
}
