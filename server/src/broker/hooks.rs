//! rmqtt's hooks, dispatched: rmqtt calls them on CONNECT, after a connection is established, on
//! disconnect, when a session ends, and before every SUBSCRIBE and PUBLISH. Each translates
//! rmqtt's types to a step of [`Connections`] or to the access rule, and the answer back; the
//! decisions are `device_auth`'s.

use super::connack::auth_result;
use super::connections::{Connection, Connections};
use crate::device_auth::{Access, Attempt, Protocol, Report, Source};
use async_trait::async_trait;
use rmqtt::codec::v5::SubscribeAckReason;
use rmqtt::hook::{Handler, HookResult, Parameter, ReturnType, Type};
use rmqtt::session::Session;
use rmqtt::types::{AuthResult, ConnectInfo, LastWill, PublishAclResult, SubscribeAclResult};
use std::sync::Arc;

/// The hooks Keygate registers.
pub const TYPES: [Type; 6] = [
    Type::ClientAuthenticate,
    Type::ClientConnected,
    Type::ClientDisconnected,
    Type::SessionTerminated,
    Type::ClientSubscribeCheckAcl,
    Type::MessagePublishCheckAcl,
];

/// The handler rmqtt holds: a thin, cloneable front for the shared connections.
#[derive(Clone)]
pub struct HookHandler(pub Arc<Connections>);

#[async_trait]
impl Handler for HookHandler {
    async fn hook(&self, param: &Parameter, acc: Option<HookResult>) -> ReturnType {
        match param {
            Parameter::ClientAuthenticate(info) => {
                let result = self.authenticate(info).await;
                (false, Some(HookResult::AuthResult(result)))
            }
            Parameter::ClientConnected(session) => {
                if let Some(connection) = self.0.connected(&session.id) {
                    connection.attach(session).await;
                }
                (true, acc)
            }
            Parameter::ClientDisconnected(session, _reason) => {
                let connection = Connection::of(session).await;
                self.0.disconnected(&session.id, connection.as_deref());
                (true, acc)
            }
            Parameter::SessionTerminated(session, _reason) => {
                self.0.terminated(&session.id);
                (true, acc)
            }
            Parameter::ClientSubscribeCheckAcl(session, subscribe) => {
                let result = if allows(session, Access::Subscribe, &subscribe.topic_filter).await {
                    SubscribeAclResult::new_success(subscribe.opts.qos(), None)
                } else {
                    SubscribeAclResult::new_failure(SubscribeAckReason::NotAuthorized)
                };
                (false, Some(HookResult::SubscribeAclResult(result)))
            }
            Parameter::MessagePublishCheckAcl(session, publish) => {
                let result = if allows(session, Access::Publish, &publish.topic).await {
                    PublishAclResult::allow()
                } else {
                    PublishAclResult::rejected(false, None)
                };
                (false, Some(HookResult::PublishAclResult(result)))
            }
            _ => (true, acc),
        }
    }
}

impl HookHandler {
    async fn authenticate(&self, info: &ConnectInfo) -> AuthResult {
        let will_topic = info.last_will().map(|will| match will {
            LastWill::V3(w) => w.topic.clone(),
            LastWill::V5(w) => w.topic.clone(),
        });
        let protocol = Protocol::from_level(info.proto_ver());
        let attempt = Attempt::new(Report {
            username: info.username().map(|u| &**u),
            client_identifier: info.client_id(),
            password: info.password().map(|p| &p[..]),
            source: Source::Socket(info.ipaddress()),
            protocol,
            will_topic: will_topic.as_deref(),
        });
        auth_result(self.0.authenticate(info.id(), &attempt).await, protocol)
    }
}

/// The topic rule for the session's client; a session without a grant may do nothing.
async fn allows(session: &Session, access: Access, topic: &str) -> bool {
    let allowed = Connection::of(session)
        .await
        .is_some_and(|c| c.grant().allows(access, topic));
    if !allowed {
        tracing::debug!(identifier = %session.id.client_id, ?topic, ?access, "refused by the topic rule");
    }
    allowed
}
