//! Deployment options around the broker.

use crate::support::{Engine, TestApp, engines};
use app::model::RevealedKey;

#[engines]
async fn without_the_broker_the_dashboard_runs_and_shows_the_configured_port(engine: Engine) {
    // A port of ours that nothing listens on once released.
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = TestApp::spawn_with(engine, |c| {
        c.no_broker = true;
        c.mqtt_listen = unused;
        c.broker_host = Some("mqtt.example.com".into());
        c.broker_port = Some(8883);
    })
    .await;
    assert!(app.mqtt.is_none());
    assert!(
        tokio::net::TcpStream::connect(unused).await.is_err(),
        "nothing listens for MQTT"
    );
    let tenant = app.sign_up("External Broker Co").await;
    let revealed: RevealedKey = tenant.new_client("Uses EMQX").await;
    assert_eq!(revealed.connection.broker_host, "mqtt.example.com");
    assert_eq!(revealed.connection.broker_port, 8883);
    app.stop().await;

    // With the embedded broker and no port given, devices are told the port it listens on.
    let app = TestApp::spawn_with(engine, |c| c.broker_port = None).await;
    let tenant = app.sign_up("Embedded Co").await;
    let revealed: RevealedKey = tenant.new_client("Local").await;
    assert_eq!(
        Some(revealed.connection.broker_port),
        app.mqtt.map(|a| a.port())
    );
    app.stop().await;
}
