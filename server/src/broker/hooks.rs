//! Keygate's part in the embedded broker's life cycle: rmqtt calls these hooks on CONNECT, after a
//! connection is established, on disconnect, and before every SUBSCRIBE and PUBLISH.

use super::tracking::Tracker;
use crate::device_auth::{Attempt, DeviceAuth, Grant, Refusal};
use app::model::ClientId;
use async_trait::async_trait;
use rmqtt::codec::v5::SubscribeAckReason;
use rmqtt::context::ServerContext;
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

/// Grants between CONNECT and "connected", keyed by rmqtt's connection id, with the moment their
/// authentication began. An entry whose handshake failed after authentication is swept once it is
/// older than any handshake can be.
#[derive(Default)]
struct PendingGrants(Mutex<HashMap<Id, (Grant, Instant)>>);

const HANDSHAKE_LIMIT: Duration = Duration::from_secs(120);

impl PendingGrants {
    fn insert(&self, id: Id, grant: Grant, began: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= 1024 {
            map.retain(|_, (_, began)| began.elapsed() < HANDSHAKE_LIMIT);
        }
        map.insert(id, (grant, began));
    }

    fn take(&self, id: &Id) -> Option<(Grant, Instant)> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id)
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

/// The live connections of each client, and the clients revoked lately.
///
/// A CONNECT reads its client, then waits for argon2id (behind others, in a connect storm). A
/// revocation committed in between closes the client's connections, but not this one: it is not
/// connected yet, and it may hold the key just revoked. So each connection carries the moment its
/// authentication began, each revocation leaves the moment it was known to be committed, and a
/// connection that began before a revocation of its client is refused, or closed, when it arrives.
/// One lock for both, so a connection is either registered before a revocation looks, or sees it.
#[derive(Default)]
struct Live {
    connections: HashMap<ClientId, Vec<(Id, Instant)>>,
    revoked: HashMap<ClientId, Instant>,
}

impl Live {
    fn revoked_since(&self, client: &ClientId, began: Instant) -> bool {
        self.revoked.get(client).is_some_and(|at| *at > began)
    }

    /// Records a revocation of `client` known committed by `at`, and takes the connections whose
    /// authentication began before it.
    fn revoke(&mut self, client: &ClientId, at: Instant) -> Vec<Id> {
        if self.revoked.len() >= 1024 {
            // No handshake outlives this: older revocations cannot concern a connection to come.
            self.revoked.retain(|_, at| at.elapsed() < HANDSHAKE_LIMIT);
        }
        let latest = self.revoked.entry(client.clone()).or_insert(at);
        *latest = (*latest).max(at);
        self.connections
            .get(client)
            .map(|connections| {
                connections
                    .iter()
                    .filter(|(_, began)| *began < at)
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub struct KeygateHooks {
    auth: Arc<DeviceAuth>,
    tracker: Tracker,
    scx: ServerContext,
    pending: PendingGrants,
    owners: SessionOwners,
    live: Mutex<Live>,
}

impl KeygateHooks {
    pub fn new(auth: Arc<DeviceAuth>, tracker: Tracker, scx: ServerContext) -> Self {
        Self {
            auth,
            tracker,
            scx,
            pending: PendingGrants::default(),
            owners: SessionOwners::default(),
            live: Mutex::new(Live::default()),
        }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes every connection of `client` whose authentication began before `committed_by`, a
    /// moment by which its revocation was committed, and refuses or closes the ones still on
    /// their way; how many connections it found to close.
    pub async fn revoke(&self, client: &ClientId, committed_by: Instant) -> usize {
        let ids = self.live().revoke(client, committed_by);
        for id in &ids {
            if let Err(e) = close(&self.scx, id).await {
                tracing::warn!(%client, "could not close an MQTT connection: {e}");
            }
        }
        ids.len()
    }

    async fn authenticate(&self, info: &ConnectInfo) -> AuthResult {
        // Before the client's row is read: a revocation picked up later than this may have been
        // committed after that read, so this connection may hold the old key.
        let began = Instant::now();
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
            Ok(grant) if self.live().revoked_since(&grant.client_id, began) => {
                // Right or wrong, the key was checked against what the client was before: the
                // device's next attempt reads it as it is now.
                tracing::info!(
                    client = %grant.client_id,
                    "MQTT connect refused: the client was revoked while its key was being checked"
                );
                return AuthResult::NotAuthorized;
            }
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
                    self.pending.insert(info.id().clone(), grant, began);
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
        let Some((grant, began)) = self.pending.take(&session.id) else {
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
        let revoked = {
            let mut live = self.live();
            live.connections
                .entry(grant.client_id.clone())
                .or_default()
                .push((session.id.clone(), began));
            live.revoked_since(&grant.client_id, began)
        };
        if revoked {
            // Revoked between its authentication and now: registered all the same, so that it is
            // tracked and untracked like any other, and closed from outside this hook.
            tracing::info!(client = %grant.client_id, "closing an MQTT connection revoked while it was being made");
            let (scx, id) = (self.scx.clone(), session.id.clone());
            tokio::spawn(async move { close_once_connected(&scx, &id).await });
        }
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

    async fn disconnected(&self, session: &rmqtt::session::Session) {
        if let Some(connection) = Self::connection(session).await {
            let mut live = self.live();
            if let Some(ids) = live.connections.get_mut(&connection.grant.client_id) {
                ids.retain(|(id, _)| id != &session.id);
                if ids.is_empty() {
                    live.connections.remove(&connection.grant.client_id);
                }
            }
            drop(live);
            self.tracker
                .disconnected(&connection.connection_id, &connection.grant.client_id);
        }
    }
}

/// Closes one connection and ends its session, so nothing queued for it is kept.
async fn close(scx: &ServerContext, id: &Id) -> Result<(), String> {
    let entry = scx.extends.shared().await.entry(id.clone());
    let mut entry = entry.try_lock().await.map_err(|e| e.to_string())?;
    entry
        .kick(true, true, true)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Closes a connection from outside its own "connected" hook, retrying while its handshake still
/// holds the session.
async fn close_once_connected(scx: &ServerContext, id: &Id) {
    let mut last_error = String::new();
    for _ in 0..50 {
        match close(scx, id).await {
            Ok(()) => return,
            Err(e) => last_error = e,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::warn!(client = %id.client_id, "could not close a revoked MQTT connection: {last_error}");
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
