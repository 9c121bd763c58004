//! A message Keygate publishes into the embedded broker on a device's behalf (the HTTP publish
//! endpoint, `http_publish`), routed exactly as the device's own PUBLISH would be: rmqtt's
//! `message_publish` hook, then its router, which hands the message to every matching session
//! (queued for an offline persistent one). rmqtt's http-api plugin publishes the same way.
//!
//! The caller has decided already that the device may publish there: nothing here checks. The
//! message carries the device's MQTT client identifier and username as its sender, so an MQTT 5
//! subscription with No Local by that identifier does not get it back.
//!
//! There is no retain flag: the embedded broker is built without rmqtt's `retain` feature, so it
//! keeps no retained messages (its MQTT 5 CONNACKs say Retain Available 0).

use axum::body::Bytes;
use rmqtt::codec::v5::PublishProperties;
use rmqtt::context::ServerContext;
use rmqtt::session::SessionState;
use rmqtt::types::{CodecPublish, From, Id, Publish};
use std::net::SocketAddr;

pub use rmqtt::types::QoS;

/// The listener id a published message's sender carries: no listener has it (they are 1 to 3).
pub(super) const HTTP_ID: u16 = 0;

/// A message to publish, and who publishes it.
#[derive(Clone, Debug)]
pub struct Message<'a> {
    /// A topic name (no wildcards) the device may publish to.
    pub topic: &'a str,
    pub payload: Bytes,
    pub qos: QoS,
    /// The MQTT client identifier the device publishes as.
    pub identifier: &'a str,
    /// The username it authenticated with.
    pub username: &'a str,
    /// Where the request came from.
    pub source: Option<SocketAddr>,
}

/// Routes `message` to its subscribers; `Err` with rmqtt's reason when it could not be routed.
pub(super) async fn publish(scx: &ServerContext, message: Message<'_>) -> Result<(), String> {
    let sender = From::from_custom(Id::new(
        scx.node.id(),
        HTTP_ID,
        None,
        message.source,
        message.identifier.into(),
        Some(message.username.into()),
    ));
    let publish = Publish::from(CodecPublish {
        dup: false,
        retain: false,
        qos: message.qos,
        topic: message.topic.into(),
        packet_id: None,
        payload: message.payload,
        properties: Some(PublishProperties::default()),
    })
    .create_time(rmqtt::utils::timestamp_millis());
    let publish = scx
        .extends
        .hook_mgr()
        .message_publish(None, sender.clone(), &publish)
        .await
        .unwrap_or(publish);
    // No message store and no retained messages (rmqtt's `msgstore` and `retain` features are
    // off), so no storage and no expiry for them.
    SessionState::forwards(scx, sender, publish, false, None)
        .await
        .map_err(|e| e.to_string())
}
