//! The optional listeners: MQTT over WebSocket and over TLS, with the same rules as plain TCP.

use crate::broker::device::{Device, Refused, Transport, VERSIONS, Version};
use crate::broker::{Form, Setup, login, topic};
use crate::support::{Engine, engines};
use app::model::ClientKey;
use std::time::Duration;

/// A CA and a certificate for 127.0.0.1 signed by it, written to `dir`: (cert path, key path,
/// CA PEM).
pub(crate) fn certificates(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let (cert, key) = (dir.join("broker.pem"), dir.join("broker.key"));
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    (cert, key, ca.pem().into_bytes())
}

#[engines]
async fn websocket_and_tls_listeners_authenticate_like_tcp(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, ca) = certificates(dir.path());
    let setup = Setup::with(engine, |c| {
        c.mqtt_ws_listen = Some("127.0.0.1:0".parse().unwrap());
        c.mqtt_tls_listen = Some("127.0.0.1:0".parse().unwrap());
        c.mqtt_tls_cert = Some(cert);
        c.mqtt_tls_key = Some(key);
        c.mqtt_lockout_after = 1000;
    })
    .await;
    let broker = setup.app.running().broker.as_ref().unwrap();
    let transports = [
        Transport::Ws(broker.ws_addr.expect("a WebSocket listener")),
        Transport::Tls(broker.tls_addr.expect("a TLS listener"), ca),
    ];
    for transport in &transports {
        for version in VERSIONS {
            let mut device = Device::connect(
                version,
                transport,
                &login(Form::WithOrganization, &setup.client, setup.key()),
            )
            .await
            .unwrap_or_else(|r| panic!("{transport:?} {version:?}: {r:?}"));
            let t = topic(&setup.client, "over-the-wire");
            assert_eq!(device.subscribe(&t).await, 1);
            assert_eq!(
                device.subscribe("elsewhere/#").await,
                if version == Version::V5 { 0x87 } else { 0x80 }
            );
            assert_eq!(device.publish(&t, b"hello").await, 0);
            let (got, payload) = device
                .message(Duration::from_secs(5))
                .await
                .expect("round trip");
            assert_eq!(
                (got.as_str(), payload.as_slice()),
                (t.as_str(), &b"hello"[..])
            );
            device.disconnect().await;

            let wrong = login(
                Form::WithOrganization,
                &setup.client,
                ClientKey::generate().expose(),
            );
            let expected = if version == Version::V5 {
                Refused(0x86)
            } else {
                Refused(5)
            };
            assert_eq!(
                Device::connect(version, transport, &wrong).await.err(),
                Some(expected)
            );
        }
    }
    setup.app.stop().await;
}
