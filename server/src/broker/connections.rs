//! The embedded broker's connections, from CONNECT to the end of their session, in Keygate's
//! terms: a CONNECT is decided by `device_auth` and its grant waits ([`PendingGrants`]) until the
//! session is established; the session then holds its identifier ([`EmbeddedSessions`]), carries
//! its grant ([`Connection`]) and is tracked in the store; it goes offline, ends, or is closed by
//! a revocation. The hooks only translate rmqtt's calls into these steps.

use super::pending::PendingGrants;
use super::sessions::{EmbeddedSessions, SessionCounts, ToClose};
use super::tracking::Tracker;
use crate::device_auth::Access;
use crate::device_auth::{Attempt, DeviceAuth, Grant, Outcome, Refusal};
use crate::telemetry::metrics::{ConnectPath, Metrics};
use app::model::ClientRef;
use rmqtt::session::Session;
use rmqtt::types::Id;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Where a connection's [`Connection`] lives in its rmqtt session.
const CONNECTION: &str = "keygate.grant";

/// An established connection: what it may do, and the id its device-session row has.
#[derive(Debug)]
pub struct Connection {
    /// Replaced when a revocation narrows what the client may do ([`Connections::refresh_sessions`]).
    grant: RwLock<Arc<Grant>>,
    pub connection_id: String,
}

impl Connection {
    /// What the connection may do now.
    pub fn grant(&self) -> Arc<Grant> {
        self.grant.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace(&self, grant: Grant) {
        *self.grant.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(grant);
    }

    /// Keeps the connection with its rmqtt session.
    pub async fn attach(self, session: &Session) {
        session
            .extra_attrs
            .write()
            .await
            .insert(CONNECTION.into(), Arc::new(self));
    }

    /// The connection kept with an rmqtt session, if it has one.
    pub async fn of(session: &Session) -> Option<Arc<Connection>> {
        session
            .extra_attrs
            .read()
            .await
            .get::<Arc<Connection>>(CONNECTION)
            .cloned()
    }
}

/// What re-deciding a client's sessions did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Sessions that may no longer exist (their device left the scope), closed.
    pub closed: usize,
    /// Subscriptions no longer allowed, removed from the sessions that stay.
    pub unsubscribed: usize,
}

pub struct Connections {
    auth: Arc<DeviceAuth>,
    tracker: Tracker,
    sessions: Arc<EmbeddedSessions>,
    pending: PendingGrants,
    metrics: Metrics,
}

impl Connections {
    pub fn new(
        auth: Arc<DeviceAuth>,
        tracker: Tracker,
        sessions: Arc<EmbeddedSessions>,
        metrics: Metrics,
    ) -> Self {
        Self {
            auth,
            tracker,
            sessions,
            pending: PendingGrants::default(),
            metrics,
        }
    }

    /// Decides the CONNECT of the connection `id`; a grant waits for its session.
    pub async fn authenticate(&self, id: &Id, attempt: &Attempt) -> Outcome {
        let decided = match self.auth.authenticate(attempt, &*self.sessions).await {
            Ok(grant)
                if self.sessions.revoked(
                    &grant.client,
                    &grant.key_id,
                    attempt.began,
                    grant.revision,
                ) =>
            {
                // Right or wrong, the key was checked against what the client was before: the
                // device's next attempt reads it as it is now.
                self.sessions
                    .release(&attempt.client_identifier, &grant.client);
                Err(Refusal::RevokedWhileChecking)
            }
            decided => decided,
        };
        self.metrics.device_connect(ConnectPath::Embedded, &decided);
        let refusal = match decided {
            Ok(grant) => {
                self.pending.insert(id.clone(), grant, attempt.began);
                return Outcome::Allowed;
            }
            Err(refusal) => refusal,
        };
        let outcome = refusal.outcome();
        if outcome.is_error() {
            tracing::error!(identifier = ?attempt.client_identifier, "MQTT connect refused: {refusal}");
        } else {
            tracing::info!(
                identifier = ?attempt.client_identifier,
                source = ?attempt.source,
                "MQTT connect refused: {refusal}"
            );
        }
        outcome
    }

    /// The connection `session` authenticated is established: its identifier is held and it is
    /// tracked; a session revoked since its authentication began is closed as soon as it can be.
    /// `None` for a session without a grant, which may then neither publish nor subscribe.
    pub fn connected(&self, session: &Id) -> Option<Connection> {
        let identifier = &session.client_id;
        let Some((grant, began)) = self.pending.take(session) else {
            // Cannot happen (every connection passes authentication first).
            tracing::error!(%identifier, "MQTT session without a grant");
            return None;
        };
        if self.sessions.connected(
            identifier,
            &grant.client,
            &grant.key_id,
            session,
            began,
            grant.revision,
        ) {
            // Revoked between its authentication and now: recorded all the same, so that it is
            // tracked and untracked like any other, and closed from outside rmqtt's hook, which
            // holds the session's lock.
            tracing::info!(client = %grant.client, "closing an MQTT session revoked while it was being made");
            let (sessions, close) = (
                self.sessions.clone(),
                ToClose {
                    identifier: identifier.to_string(),
                    session: session.clone(),
                },
            );
            tokio::spawn(async move { end_once_connected(&sessions, &close).await });
        }
        let connection_id = app::store::new_id();
        self.tracker
            .connected(&connection_id, &grant, identifier, session.remote_addr);
        Some(Connection {
            connection_id,
            grant: RwLock::new(Arc::new(grant)),
        })
    }

    /// The device of `session` went offline; a persistent session stays held.
    pub fn disconnected(&self, session: &Id, connection: Option<&Connection>) {
        self.sessions.disconnected(&session.client_id, session);
        if let Some(connection) = connection {
            self.tracker
                .disconnected(&connection.connection_id, &connection.grant().client);
        }
    }

    /// `session` is gone for good: its identifier is free for others.
    pub fn terminated(&self, session: &Id) {
        self.sessions.terminated(&session.client_id, session);
    }

    /// How many sessions the broker holds, online and offline.
    pub fn session_counts(&self) -> SessionCounts {
        self.sessions.counts()
    }

    /// Closes every session, online or offline, of `client` that a revocation known committed by
    /// `committed_by` and making `revision` revoked (see `broker::sessions`), and refuses or
    /// closes the ones still on their way; how many sessions it found to close.
    pub async fn close_sessions(
        &self,
        client: &ClientRef,
        key: Option<&str>,
        committed_by: Instant,
        revision: i64,
    ) -> usize {
        let found = self.sessions.revoke(client, key, committed_by, revision);
        for session in &found {
            match self.sessions.end(&session.session).await {
                Ok(()) => self.sessions.closed(session),
                Err(e) => tracing::warn!(%client, "could not close an MQTT session: {e}"),
            }
        }
        found.len()
    }
}

impl Connections {
    /// Decides every session of `client` again after a revocation that narrowed what it may do
    /// (known committed by `committed_by`, making `revision`): a session whose device left the
    /// client's scope (or whose client is gone) is closed, the others get the client's grant as it
    /// is now and lose each subscription it no longer allows, at once, without a reconnect.
    /// CONNECTs still being made are refused or closed as they arrive, like any revocation's.
    pub async fn refresh_sessions(
        &self,
        client: &ClientRef,
        committed_by: Instant,
        revision: i64,
    ) -> Result<Refreshed, app::store::StoreError> {
        let mut refreshed = Refreshed::default();
        for found in self.sessions.revoke(client, None, committed_by, revision) {
            let Some(session) = self.sessions.session(&found.session).await else {
                continue;
            };
            let next = match Connection::of(&session).await {
                Some(connection) => self
                    .auth
                    .regrant(&connection.grant())
                    .await?
                    .map(|grant| (connection, grant)),
                None => None,
            };
            let Some((connection, grant)) = next else {
                match self.sessions.end(&found.session).await {
                    Ok(()) => {
                        self.sessions.closed(&found);
                        refreshed.closed += 1;
                    }
                    Err(e) => tracing::warn!(%client, "could not close an MQTT session: {e}"),
                }
                continue;
            };
            let refused: Vec<String> = self
                .sessions
                .subscriptions(&found.session)
                .await
                .into_iter()
                .filter(|filter| !grant.allows(Access::Subscribe, filter))
                .collect();
            connection.replace(grant);
            for filter in refused {
                match self.sessions.unsubscribe(&found.session, &filter).await {
                    Ok(()) => refreshed.unsubscribed += 1,
                    Err(e) => {
                        // A subscription that cannot be taken away leaves only one safe answer.
                        tracing::warn!(%client, ?filter, "could not remove a subscription, closing the session: {e}");
                        if self.sessions.end(&found.session).await.is_ok() {
                            self.sessions.closed(&found);
                            refreshed.closed += 1;
                        }
                        break;
                    }
                }
            }
        }
        Ok(refreshed)
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
