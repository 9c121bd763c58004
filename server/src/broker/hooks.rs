//! Keygate's part in the embedded broker's life cycle: rmqtt calls these hooks on CONNECT, after a
//! connection is established, on disconnect, when a session ends, and before every SUBSCRIBE and
//! PUBLISH. Each only translates between rmqtt and `device_auth`, which decides.

use super::sessions::{EmbeddedSessions, ToClose};
use super::tracking::Tracker;
use crate::device_auth::{Access, Attempt, DeviceAuth, Grant, Outcome, Protocol, Report, Source};
use app::model::ClientRef;
use async_trait::async_trait;
use rmqtt::codec::v5::SubscribeAckReason;
use rmqtt::hook::{Handler, HookResult, Parameter, ReturnType};
use rmqtt::types::{AuthResult, ConnectInfo, Id, LastWill, PublishAclResult, SubscribeAclResult};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a connection's grant lives in its rmqtt session.
const GRANT: &str = "keygate.grant";

/// An authenticated connection: what it may do, and the id its device-session row has.
#[derive(Debug)]
struct Connection {
    grant: Grant,
    connection_id: String,
}

/// Grants between CONNECT and "connected", keyed by rmqtt's connection id, with the moment their
/// authentication began. An entry whose handshake failed after authentication is swept once it is
/// older than any handshake can be.
#[derive(Default)]
struct PendingGrants(Mutex<HashMap<Id, (Grant, Instant)>>);

impl PendingGrants {
    fn insert(&self, id: Id, grant: Grant, began: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= 1024 {
            map.retain(|_, (_, began)| began.elapsed() < super::sessions::HANDSHAKE_LIMIT);
        }
        map.insert(id, (grant, began));
    }

    fn take(&self, id: &Id) -> Option<(Grant, Instant)> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id)
    }
}

/// An outcome as the embedded broker's CONNACK says it. rmqtt lets an authentication hook answer
/// only "bad username or password" or "not authorized" (it calls no hook that could change the
/// code of a refused handshake), so busy and unavailable are "not authorized" here too: the
/// device retries either way. MQTT 3.1.1 gets return code 5 for every refusal; MQTT 5 tells a bad
/// key (0x86) from a key that is right but may not connect (0x87), which only the key's holder
/// learns.
fn auth_result(outcome: Outcome, protocol: Protocol) -> AuthResult {
    match (outcome, protocol) {
        (Outcome::Allowed, _) => AuthResult::Allow(false, None),
        (Outcome::BadCredentials | Outcome::UnknownClient, Protocol::V5) => {
            AuthResult::BadUsernameOrPassword
        }
        _ => AuthResult::NotAuthorized,
    }
}

pub struct KeygateHooks {
    auth: Arc<DeviceAuth>,
    tracker: Tracker,
    sessions: Arc<EmbeddedSessions>,
    pending: PendingGrants,
}

impl KeygateHooks {
    pub fn new(auth: Arc<DeviceAuth>, tracker: Tracker, sessions: Arc<EmbeddedSessions>) -> Self {
        Self {
            auth,
            tracker,
            sessions,
            pending: PendingGrants::default(),
        }
    }

    /// Closes every session, online or offline, of `client` that a revocation known committed by
    /// `committed_by` and making `revision` revoked (see `broker::sessions`), and refuses or
    /// closes the ones still on their way; how many sessions it found to close.
    pub async fn close_sessions(
        &self,
        client: &ClientRef,
        committed_by: Instant,
        revision: i64,
    ) -> usize {
        let found = self.sessions.revoke(client, committed_by, revision);
        for session in &found {
            match self.sessions.end(&session.session).await {
                Ok(()) => self.sessions.closed(session),
                Err(e) => tracing::warn!(%client, "could not close an MQTT session: {e}"),
            }
        }
        found.len()
    }

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
        let refusal = match self.auth.authenticate(&attempt, &*self.sessions).await {
            Ok(grant)
                if self
                    .sessions
                    .revoked(&grant.client, attempt.began, grant.revision) =>
            {
                // Right or wrong, the key was checked against what the client was before: the
                // device's next attempt reads it as it is now.
                tracing::info!(
                    client = %grant.client,
                    "MQTT connect refused: the client was revoked while it was being checked"
                );
                self.sessions.release(info.client_id(), &grant.client);
                return auth_result(Outcome::NotAuthorized, protocol);
            }
            Ok(grant) => {
                self.pending.insert(info.id().clone(), grant, attempt.began);
                return auth_result(Outcome::Allowed, protocol);
            }
            Err(refusal) => refusal,
        };
        let outcome = refusal.outcome();
        if outcome.is_error() {
            tracing::error!(identifier = %info.client_id(), "MQTT connect refused: {refusal}");
        } else {
            tracing::info!(
                identifier = %info.client_id(),
                source = ?info.ipaddress(),
                "MQTT connect refused: {refusal}"
            );
        }
        auth_result(outcome, protocol)
    }

    async fn connected(&self, session: &rmqtt::session::Session) {
        let Some((grant, began)) = self.pending.take(&session.id) else {
            // Cannot happen (every connection passes authentication first); without a grant the
            // session may neither publish nor subscribe.
            tracing::error!(identifier = %session.id.client_id, "MQTT session without a grant");
            return;
        };
        let identifier = &session.id.client_id;
        if self.sessions.connected(
            identifier,
            &grant.client,
            &session.id,
            began,
            grant.revision,
        ) {
            // Revoked between its authentication and now: recorded all the same, so that it is
            // tracked and untracked like any other, and closed from outside this hook.
            tracing::info!(client = %grant.client, "closing an MQTT session revoked while it was being made");
            let (sessions, close) = (
                self.sessions.clone(),
                ToClose {
                    identifier: identifier.to_string(),
                    session: session.id.clone(),
                },
            );
            tokio::spawn(async move { end_once_connected(&sessions, &close).await });
        }
        let connection = Connection {
            connection_id: app::store::new_id(),
            grant,
        };
        self.tracker.connected(
            &connection.connection_id,
            &connection.grant.client,
            identifier,
            session.id.remote_addr,
        );
        session
            .extra_attrs
            .write()
            .await
            .insert(GRANT.into(), Arc::new(connection));
    }

    async fn connection(session: &rmqtt::session::Session) -> Option<Arc<Connection>> {
        session
            .extra_attrs
            .read()
            .await
            .get::<Arc<Connection>>(GRANT)
            .cloned()
    }

    async fn disconnected(&self, session: &rmqtt::session::Session) {
        self.sessions
            .disconnected(&session.id.client_id, &session.id);
        if let Some(connection) = Self::connection(session).await {
            self.tracker
                .disconnected(&connection.connection_id, &connection.grant.client);
        }
    }

    async fn allows(session: &rmqtt::session::Session, access: Access, topic: &str) -> bool {
        let allowed = Self::connection(session)
            .await
            .is_some_and(|c| c.grant.allows(access, topic));
        if !allowed {
            tracing::debug!(identifier = %session.id.client_id, topic, ?access, "refused by the topic rule");
        }
        allowed
    }
}

/// Ends a session from outside its own "connected" hook, retrying while its handshake still holds
/// the session's lock.
async fn end_once_connected(sessions: &EmbeddedSessions, close: &ToClose) {
    let mut last_error = String::new();
    for _ in 0..50 {
        match sessions.end(&close.session).await {
            Ok(()) => {
                sessions.closed(close);
                return;
            }
            Err(e) => last_error = e,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::warn!(identifier = %close.identifier, "could not close a revoked MQTT session: {last_error}");
}

/// The handler rmqtt holds: a thin, cloneable front for the shared hooks.
#[derive(Clone)]
pub struct HookHandler(pub Arc<KeygateHooks>);

#[async_trait]
impl Handler for HookHandler {
    async fn hook(&self, param: &Parameter, acc: Option<HookResult>) -> ReturnType {
        match param {
            Parameter::ClientAuthenticate(info) => {
                let result = self.0.authenticate(info).await;
                (false, Some(HookResult::AuthResult(result)))
            }
            Parameter::ClientConnected(session) => {
                self.0.connected(session).await;
                (true, acc)
            }
            Parameter::ClientDisconnected(session, _reason) => {
                self.0.disconnected(session).await;
                (true, acc)
            }
            Parameter::SessionTerminated(session, _reason) => {
                self.0
                    .sessions
                    .terminated(&session.id.client_id, &session.id);
                (true, acc)
            }
            Parameter::ClientSubscribeCheckAcl(session, subscribe) => {
                let result =
                    if KeygateHooks::allows(session, Access::Subscribe, &subscribe.topic_filter)
                        .await
                    {
                        SubscribeAclResult::new_success(subscribe.opts.qos(), None)
                    } else {
                        SubscribeAclResult::new_failure(SubscribeAckReason::NotAuthorized)
                    };
                (false, Some(HookResult::SubscribeAclResult(result)))
            }
            Parameter::MessagePublishCheckAcl(session, publish) => {
                let result = if KeygateHooks::allows(session, Access::Publish, &publish.topic).await
                {
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
