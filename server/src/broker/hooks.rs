//! Keygate's part in the embedded broker's life cycle: rmqtt calls these hooks on CONNECT, after a
//! connection is established, on disconnect, and before every SUBSCRIBE and PUBLISH.

use super::tracking::Tracker;
use crate::device_auth::{Attempt, DeviceAuth, Grant, Refusal};
use app::model::ClientId;
use async_trait::async_trait;
use rmqtt::codec::v5::SubscribeAckReason;
use rmqtt::hook::{Handler, HookResult, Parameter, ReturnType};
use rmqtt::types::{AuthResult, ConnectInfo, Id, LastWill, PublishAclResult, SubscribeAclResult};
use secrecy::SecretSlice;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a connection's grant lives in its rmqtt session.
const GRANT: &str = "keygate.grant";

/// An authenticated connection: what it may do, and the id its live-session row has.
#[derive(Debug)]
struct Connection {
    grant: Grant,
    connection_id: String,
}

/// Grants between CONNECT and "connected", keyed by rmqtt's connection id. An entry whose
/// handshake failed after authentication is swept once it is older than any handshake can be.
#[derive(Default)]
struct PendingGrants(Mutex<HashMap<Id, (Grant, Instant)>>);

const HANDSHAKE_LIMIT: Duration = Duration::from_secs(120);

impl PendingGrants {
    fn insert(&self, id: Id, grant: Grant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= 1024 {
            map.retain(|_, (_, at)| at.elapsed() < HANDSHAKE_LIMIT);
        }
        map.insert(id, (grant, Instant::now()));
    }

    fn take(&self, id: &Id) -> Option<Grant> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id).map(|(grant, _)| grant)
    }
}

/// Which client holds each MQTT client identifier while its session exists (online, or offline
/// and kept for a persistent session). MQTT lets a CONNECT with a known identifier take over that
/// session, its subscriptions and its queued messages; across clients that would let one tenant
/// kick another's device or read its queue, so only the same client may take a session over.
#[derive(Default)]
struct SessionOwners(Mutex<HashMap<String, (ClientId, Id)>>);

impl SessionOwners {
    fn owner(&self, identifier: &str) -> Option<ClientId> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(identifier).map(|(client, _)| client.clone())
    }

    fn claim(&self, identifier: &str, client: ClientId, session: Id) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(identifier.to_owned(), (client, session));
    }

    /// Forgets the identifier if `session` still holds it (a newer session may have taken over).
    fn release(&self, identifier: &str, session: &Id) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(identifier).is_some_and(|(_, id)| id == session) {
            map.remove(identifier);
        }
    }
}

pub struct KeygateHooks {
    auth: Arc<DeviceAuth>,
    tracker: Tracker,
    pending: PendingGrants,
    owners: SessionOwners,
    /// The connections of each client, so a revocation can close all of them, whatever MQTT
    /// client identifiers they chose.
    connections: Mutex<HashMap<ClientId, Vec<Id>>>,
}

impl KeygateHooks {
    pub fn new(auth: Arc<DeviceAuth>, tracker: Tracker) -> Self {
        Self {
            auth,
            tracker,
            pending: PendingGrants::default(),
            owners: SessionOwners::default(),
            connections: Mutex::new(HashMap::new()),
        }
    }

    async fn authenticate(&self, info: &ConnectInfo) -> AuthResult {
        let password = info.password().map(|p| SecretSlice::from(p.to_vec()));
        let will_topic = info.last_will().map(|will| match will {
            LastWill::V3(w) => w.topic.clone(),
            LastWill::V5(w) => w.topic.clone(),
        });
        let attempt = Attempt {
            username: info.username().map(|u| &**u),
            client_identifier: info.client_id(),
            password: password.as_ref(),
            source: info.ipaddress().map(|a| a.ip()),
            will_topic: will_topic.as_deref(),
        };
        let refusal = match self.auth.authenticate(&attempt).await {
            Ok(grant) => match self.owners.owner(info.client_id()) {
                Some(owner) if owner != grant.client_id => {
                    tracing::info!(
                        client = %grant.client_id,
                        identifier = %info.client_id(),
                        "MQTT connect refused: the client identifier is in use by another client"
                    );
                    return AuthResult::NotAuthorized;
                }
                _ => {
                    self.pending.insert(info.id().clone(), grant);
                    return AuthResult::Allow(false, None);
                }
            },
            Err(refusal) => refusal,
        };
        match &refusal {
            Refusal::Store(_) | Refusal::VerifierStopped => {
                tracing::error!(client = %info.client_id(), "MQTT connect refused: {refusal}")
            }
            _ => tracing::info!(
                client = %info.client_id(),
                source = ?info.ipaddress(),
                "MQTT connect refused: {refusal}"
            ),
        }
        // MQTT 3.1.1 gets return code 5 for every refusal; MQTT 5 tells a bad key (0x86) from
        // a key that is right but may not connect (0x87). Only the key's holder learns the latter.
        match (info.proto_ver(), refusal) {
            (
                rmqtt::codec::types::MQTT_LEVEL_5,
                Refusal::BadCredentials | Refusal::UnknownClient,
            ) => AuthResult::BadUsernameOrPassword,
            _ => AuthResult::NotAuthorized,
        }
    }

    async fn connected(&self, session: &rmqtt::session::Session) {
        let Some(grant) = self.pending.take(&session.id) else {
            // Cannot happen (every connection passes authentication first); without a grant the
            // session may neither publish nor subscribe.
            tracing::error!(client = %session.id.client_id, "MQTT session without a grant");
            return;
        };
        self.owners.claim(
            &session.id.client_id,
            grant.client_id.clone(),
            session.id.clone(),
        );
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(grant.client_id.clone())
            .or_default()
            .push(session.id.clone());
        let connection = Connection {
            connection_id: app::store::new_id(),
            grant,
        };
        self.tracker.connected(
            &connection.connection_id,
            &connection.grant.client_id,
            &session.id.client_id,
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

    /// The rmqtt connection ids of `client`'s live connections.
    pub fn connections_of(&self, client: &ClientId) -> Vec<Id> {
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(client)
            .cloned()
            .unwrap_or_default()
    }

    async fn disconnected(&self, session: &rmqtt::session::Session) {
        if let Some(connection) = Self::connection(session).await {
            let mut map = self.connections.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(ids) = map.get_mut(&connection.grant.client_id) {
                ids.retain(|id| id != &session.id);
                if ids.is_empty() {
                    map.remove(&connection.grant.client_id);
                }
            }
            drop(map);
            self.tracker
                .disconnected(&connection.connection_id, &connection.grant.client_id);
        }
    }
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
                self.0.owners.release(&session.id.client_id, &session.id);
                (true, acc)
            }
            Parameter::ClientSubscribeCheckAcl(session, subscribe) => {
                let allowed = KeygateHooks::connection(session)
                    .await
                    .is_some_and(|c| c.grant.may_subscribe(&subscribe.topic_filter));
                let result = if allowed {
                    SubscribeAclResult::new_success(subscribe.opts.qos(), None)
                } else {
                    tracing::debug!(client = %session.id.client_id, filter = %subscribe.topic_filter, "subscription refused");
                    SubscribeAclResult::new_failure(SubscribeAckReason::NotAuthorized)
                };
                (false, Some(HookResult::SubscribeAclResult(result)))
            }
            Parameter::MessagePublishCheckAcl(session, publish) => {
                let allowed = KeygateHooks::connection(session)
                    .await
                    .is_some_and(|c| c.grant.may_publish(&publish.topic));
                let result = if allowed {
                    PublishAclResult::allow()
                } else {
                    tracing::debug!(client = %session.id.client_id, topic = %publish.topic, "publish refused");
                    PublishAclResult::rejected(false, None)
                };
                (false, Some(HookResult::PublishAclResult(result)))
            }
            _ => (true, acc),
        }
    }
}
