//! The embedded broker's record of sessions, in memory: which client row holds each MQTT client
//! identifier (online, offline and kept for a persistent session, or claimed by a CONNECT still
//! being made), and which clients were revoked lately. `device_auth` claims identifiers from it
//! ([`SessionRegistry`]); the hooks report sessions beginning and ending; a revocation closes a
//! client's sessions through it, online and offline alike.
//!
//! Ownership belongs to the client row (organization and Client ID), never to the bare Client ID:
//! a Client ID deleted in one organization and created in another is another owner, and cannot
//! take the first one's session over.
//!
//! A CONNECT reads its client, then may wait for argon2id; a revocation committed in between
//! finds no session to close, and the CONNECT may hold the key just revoked. So each session
//! carries the moment its authentication began and the client's revision it was let in with; each
//! revocation leaves the moment it was known committed and the revision it made. A session that
//! began before a revocation and was let in with an earlier revision is closed, whenever it
//! arrives; one that read the client after the change (a device taking up its regenerated key at
//! once) has the new revision and stays. One lock for both, so a session is either recorded before
//! a revocation looks, or sees it.

use crate::device_auth::Refusal;
use crate::device_auth::sessions::{SessionClaim, SessionRegistry};
use app::model::ClientRef;
use async_trait::async_trait;
use rmqtt::context::ServerContext;
use rmqtt::types::Id;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// No handshake outlives this: a claim that never became a session is forgotten after it, and so
/// is a revocation, which no CONNECT still to come can predate.
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(120);

/// Entries kept before stale ones are swept.
const SWEEP_AT: usize = 1024;

#[derive(Debug)]
struct Holder {
    owner: ClientRef,
    /// `None` while the CONNECT that claimed it is being made.
    session: Option<Id>,
    /// When the authentication of its latest CONNECT began.
    began: Instant,
    /// The client's revision that CONNECT was let in with.
    revision: i64,
    /// The key it authenticated with; `None` while the claim is being made.
    key: Option<String>,
    online: bool,
}

impl Holder {
    /// A claim whose CONNECT never became a session (its handshake failed after authentication).
    fn abandoned(&self) -> bool {
        self.session.is_none() && self.began.elapsed() > HANDSHAKE_LIMIT
    }
}

/// The latest revocation of a client: when it was known committed, and the revision it made.
#[derive(Clone, Copy, Debug)]
struct Revoked {
    at: Instant,
    revision: i64,
}

impl Revoked {
    /// Whether a session that began at `began`, let in with `revision`, predates this revocation.
    fn predates(&self, began: Instant, revision: i64) -> bool {
        began < self.at && revision < self.revision
    }
}

#[derive(Debug, Default)]
struct State {
    identifiers: HashMap<String, Holder>,
    by_owner: HashMap<ClientRef, BTreeSet<String>>,
    revoked: HashMap<ClientRef, Revoked>,
    /// Revocations of one key (retired, expired), by key id: they concern that key's sessions.
    revoked_keys: HashMap<String, Revoked>,
}

impl State {
    fn insert(&mut self, identifier: &str, holder: Holder) {
        self.by_owner
            .entry(holder.owner.clone())
            .or_default()
            .insert(identifier.to_owned());
        if let Some(old) = self.identifiers.insert(identifier.to_owned(), holder) {
            self.unindex(identifier, &old.owner, false);
        }
    }

    fn remove(&mut self, identifier: &str) -> Option<Holder> {
        let holder = self.identifiers.remove(identifier)?;
        self.unindex(identifier, &holder.owner, true);
        Some(holder)
    }

    /// Drops `identifier` from `owner`'s set unless `owner` still holds it.
    fn unindex(&mut self, identifier: &str, owner: &ClientRef, removed: bool) {
        let still_held = !removed
            && self
                .identifiers
                .get(identifier)
                .is_some_and(|h| &h.owner == owner);
        if still_held {
            return;
        }
        if let Some(set) = self.by_owner.get_mut(owner) {
            set.remove(identifier);
            if set.is_empty() {
                self.by_owner.remove(owner);
            }
        }
    }

    fn revoked(&self, owner: &ClientRef, key: Option<&str>, began: Instant, revision: i64) -> bool {
        self.revoked
            .get(owner)
            .is_some_and(|r| r.predates(began, revision))
            || key
                .and_then(|key| self.revoked_keys.get(key))
                .is_some_and(|r| r.predates(began, revision))
    }

    /// Sessions by whether their device is connected; a claim still being made is none yet.
    fn counts(&self) -> SessionCounts {
        let mut counts = SessionCounts::default();
        for holder in self.identifiers.values() {
            match (&holder.session, holder.online) {
                (None, _) => {}
                (Some(_), true) => counts.online += 1,
                (Some(_), false) => counts.offline += 1,
            }
        }
        counts
    }

    fn sweep(&mut self) {
        if self.identifiers.len() >= SWEEP_AT {
            let stale: Vec<String> = self
                .identifiers
                .iter()
                .filter(|(_, h)| h.abandoned())
                .map(|(id, _)| id.clone())
                .collect();
            for identifier in stale {
                self.remove(&identifier);
            }
        }
        if self.revoked.len() >= SWEEP_AT {
            self.revoked.retain(|_, r| r.at.elapsed() < HANDSHAKE_LIMIT);
        }
        if self.revoked_keys.len() >= SWEEP_AT {
            self.revoked_keys
                .retain(|_, r| r.at.elapsed() < HANDSHAKE_LIMIT);
        }
    }
}

/// Sessions held, as [`EmbeddedSessions::counts`] counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionCounts {
    pub online: usize,
    pub offline: usize,
}

/// A session to close, as [`EmbeddedSessions::revoke`] hands it out.
#[derive(Debug)]
pub struct ToClose {
    pub identifier: String,
    pub session: Id,
}

pub struct EmbeddedSessions {
    scx: ServerContext,
    state: Mutex<State>,
}

impl EmbeddedSessions {
    pub fn new(scx: ServerContext) -> Self {
        Self {
            scx,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many sessions are held: online (a device is connected) and offline (kept for a device
    /// that left). Counted when asked, under the lock, so it cannot drift from the record.
    pub fn counts(&self) -> SessionCounts {
        self.state().counts()
    }

    /// Whether a revocation of `owner`, or of its key `key`, came after a CONNECT that began at
    /// `began` and was let in with `revision`.
    pub fn revoked(&self, owner: &ClientRef, key: &str, began: Instant, revision: i64) -> bool {
        self.state().revoked(owner, Some(key), began, revision)
    }

    /// A session of `owner` is established: it holds `identifier` now. True when the client was
    /// revoked after the session's authentication (see [`EmbeddedSessions::revoked`]): the caller
    /// closes it.
    pub fn connected(
        &self,
        identifier: &str,
        owner: &ClientRef,
        key: &str,
        session: &Id,
        began: Instant,
        revision: i64,
    ) -> bool {
        let mut state = self.state();
        state.insert(
            identifier,
            Holder {
                owner: owner.clone(),
                session: Some(session.clone()),
                began,
                revision,
                key: Some(key.to_owned()),
                online: true,
            },
        );
        state.revoked(owner, Some(key), began, revision)
    }

    /// The device of `session` went offline; a persistent session stays held.
    pub fn disconnected(&self, identifier: &str, session: &Id) {
        if let Some(holder) = self.state().identifiers.get_mut(identifier)
            && holder.session.as_ref() == Some(session)
        {
            holder.online = false;
        }
    }

    /// `session` is gone for good: its identifier is free, unless a newer session holds it.
    pub fn terminated(&self, identifier: &str, session: &Id) {
        let mut state = self.state();
        if state
            .identifiers
            .get(identifier)
            .is_some_and(|h| h.session.as_ref() == Some(session))
        {
            state.remove(identifier);
        }
    }

    /// Records a revocation of `owner` (with `key`, of that key only) known committed by `at`
    /// that made `revision`, and hands out the sessions, online and offline, it revoked (see
    /// [`EmbeddedSessions::revoked`]). A CONNECT still being made is refused or closed when it
    /// arrives (see [`EmbeddedSessions::connected`]).
    pub fn revoke(
        &self,
        owner: &ClientRef,
        key: Option<&str>,
        at: Instant,
        revision: i64,
    ) -> Vec<ToClose> {
        let mut state = self.state();
        state.sweep();
        let state = &mut *state;
        let revoked = match key {
            Some(key) => state
                .revoked_keys
                .entry(key.to_owned())
                .or_insert(Revoked { at, revision }),
            None => state
                .revoked
                .entry(owner.clone())
                .or_insert(Revoked { at, revision }),
        };
        revoked.at = revoked.at.max(at);
        revoked.revision = revoked.revision.max(revision);
        let revoked = Revoked { at, revision };
        let Some(identifiers) = state.by_owner.get(owner) else {
            return Vec::new();
        };
        identifiers
            .iter()
            .filter_map(|identifier| {
                let holder = state.identifiers.get(identifier)?;
                if key.is_some() && holder.key.as_deref() != key {
                    return None;
                }
                let session = holder
                    .session
                    .as_ref()
                    .filter(|_| revoked.predates(holder.began, holder.revision))?;
                Some(ToClose {
                    identifier: identifier.clone(),
                    session: session.clone(),
                })
            })
            .collect()
    }

    /// Gives back `owner`'s claim on `identifier` when its CONNECT is refused after the claim was
    /// made; a session that holds the identifier already is left alone.
    pub fn release(&self, identifier: &str, owner: &ClientRef) {
        let mut state = self.state();
        if state
            .identifiers
            .get(identifier)
            .is_some_and(|h| h.session.is_none() && &h.owner == owner)
        {
            state.remove(identifier);
        }
    }

    /// `closed` was closed and its session ended: forgets it, unless a newer session holds its
    /// identifier already.
    pub fn closed(&self, closed: &ToClose) {
        self.terminated(&closed.identifier, &closed.session);
    }

    /// The rmqtt session `session` names, if it still holds its identifier.
    pub async fn session(&self, session: &Id) -> Option<rmqtt::session::Session> {
        let entry = self.scx.extends.shared().await.entry(session.clone());
        if entry.id_same() != Some(true) {
            return None;
        }
        entry.session()
    }

    /// The topic filters `session` is subscribed with (a shared subscription with its
    /// `$share/GROUP/` prefix), online or offline.
    pub async fn subscriptions(&self, session: &Id) -> Vec<String> {
        let entry = self.scx.extends.shared().await.entry(session.clone());
        entry
            .subscriptions()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.topic.to_string())
            .collect()
    }

    /// Removes `session`'s subscription with `filter`, as an UNSUBSCRIBE would: the broker stops
    /// routing to it at once.
    pub async fn unsubscribe(&self, session: &Id, filter: &str) -> Result<(), String> {
        let entry = self.scx.extends.shared().await.entry(session.clone());
        let (shared, limit) = match entry.session() {
            Some(s) => (
                self.scx.extends.shared_subscription().await.is_supported(),
                s.listen_cfg().limit_subscription,
            ),
            None => return Ok(()),
        };
        let unsubscribe = rmqtt::types::Unsubscribe::from(
            &rmqtt::types::TopicFilter::from(filter),
            shared,
            limit,
        )
        .map_err(|e| e.to_string())?;
        entry
            .unsubscribe(&unsubscribe)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Ends a session, online or offline, with its subscriptions and queued messages, if it still
    /// holds its identifier (a newer session of the same identifier is left alone).
    pub async fn end(&self, session: &Id) -> Result<(), String> {
        let entry = self.scx.extends.shared().await.entry(session.clone());
        let mut entry = entry.try_lock().await.map_err(|e| e.to_string())?;
        if entry.id_same() != Some(true) {
            return Ok(());
        }
        entry
            .kick(true, true, true)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[async_trait]
impl SessionRegistry for EmbeddedSessions {
    async fn claim(&self, claim: &SessionClaim<'_>) -> Result<(), Refusal> {
        let evicted = self.state().claim(claim)?;
        if let Some(session) = evicted
            && let Err(e) = self.end(&session).await
        {
            tracing::warn!(client = %claim.owner, "could not end an offline session to make room: {e}");
        }
        Ok(())
    }
}

/// The record as a publish that holds no session sees it (`POST /v1/publish`): it claims nothing,
/// so it counts against no client's sessions and keeps no identifier from anyone, but an
/// identifier another client row holds here stays theirs: a device cannot publish as another
/// tenant's device.
pub struct Sessionless<'a>(pub &'a EmbeddedSessions);

#[async_trait]
impl SessionRegistry for Sessionless<'_> {
    async fn claim(&self, claim: &SessionClaim<'_>) -> Result<(), Refusal> {
        if self
            .0
            .state()
            .held_by_another(claim.identifier, claim.owner)
        {
            return Err(Refusal::IdentifierInUse);
        }
        Ok(())
    }
}

impl State {
    /// Whether a client row other than `owner` holds `identifier` (a claim whose handshake
    /// failed long ago holds nothing).
    fn held_by_another(&self, identifier: &str, owner: &ClientRef) -> bool {
        self.identifiers
            .get(identifier)
            .is_some_and(|h| &h.owner != owner && !h.abandoned())
    }

    /// Makes `claim.identifier` the owner's, pending until its session is established; the
    /// owner's offline session to end to make room, if one had to go.
    fn claim(&mut self, claim: &SessionClaim<'_>) -> Result<Option<Id>, Refusal> {
        self.sweep();
        if self
            .identifiers
            .get(claim.identifier)
            .is_some_and(Holder::abandoned)
        {
            self.remove(claim.identifier);
        }
        match self.identifiers.get(claim.identifier) {
            Some(holder) if &holder.owner != claim.owner => return Err(Refusal::IdentifierInUse),
            Some(_) => return Ok(None),
            None => {}
        }
        let held = self.by_owner.get(claim.owner).map_or(0, |s| s.len());
        let evicted = if held >= claim.max_per_client as usize {
            // Make room by ending the owner's oldest offline session, if it has one.
            let oldest_offline = self.by_owner.get(claim.owner).and_then(|set| {
                set.iter()
                    .filter_map(|id| {
                        let h = self.identifiers.get(id)?;
                        (!h.online && h.session.is_some()).then_some((h.began, id.clone()))
                    })
                    .min()
                    .map(|(_, id)| id)
            });
            match oldest_offline {
                Some(identifier) => self.remove(&identifier).and_then(|h| h.session),
                None => return Err(Refusal::TooManySessions),
            }
        } else {
            None
        };
        self.insert(
            claim.identifier,
            Holder {
                owner: claim.owner.clone(),
                session: None,
                began: claim.began,
                revision: 0,
                key: None,
                online: false,
            },
        );
        Ok(evicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(org: &str, id: &str) -> ClientRef {
        ClientRef {
            organization_id: org.into(),
            client_id: app::model::ClientId::parse(id).unwrap(),
        }
    }

    #[test]
    fn a_sessionless_publish_claims_nothing_and_respects_other_holders() {
        let mut state = State::default();
        let a = owner("org-a", "c-1");
        let b = owner("org-b", "c-2");
        state.insert(
            "sensor-1",
            Holder {
                owner: a.clone(),
                session: None,
                began: Instant::now(),
                revision: 0,
                key: None,
                online: true,
            },
        );
        assert!(!state.held_by_another("sensor-1", &a), "its own identifier");
        assert!(
            state.held_by_another("sensor-1", &b),
            "another's identifier"
        );
        assert!(
            !state.held_by_another("sensor-2", &b),
            "nobody's identifier"
        );
        assert_eq!(state.identifiers.len(), 1, "asking claims nothing");
    }

    #[test]
    fn ownership_is_the_client_row_not_the_client_id() {
        let mut state = State::default();
        let a = owner("org-a", "c-1");
        let b = owner("org-b", "c-1");
        state.insert(
            "c-1",
            Holder {
                owner: a.clone(),
                session: None,
                began: Instant::now(),
                revision: 0,
                key: None,
                online: false,
            },
        );
        assert_ne!(state.identifiers["c-1"].owner, b);
        assert_eq!(state.by_owner[&a].len(), 1);
        assert!(!state.by_owner.contains_key(&b));
        state.remove("c-1");
        assert!(state.by_owner.is_empty());
    }

    fn claim<'a>(identifier: &'a str, owner: &'a ClientRef, began: Instant) -> SessionClaim<'a> {
        SessionClaim {
            identifier,
            owner,
            key_id: "key-1",
            source: None,
            began,
            max_per_client: 2,
            device: None,
        }
    }

    #[test]
    fn another_owners_identifier_is_refused_until_its_claim_is_abandoned() {
        let mut state = State::default();
        let (a, b) = (owner("org-a", "c-1"), owner("org-b", "c-1"));
        let long_ago = Instant::now() - HANDSHAKE_LIMIT - Duration::from_secs(1);
        assert!(matches!(state.claim(&claim("gw", &a, long_ago)), Ok(None)));
        // A CONNECT whose handshake failed after authentication never became a session: once no
        // handshake can still be going on, its claim is no one's.
        assert!(matches!(
            state.claim(&claim("gw", &b, Instant::now())),
            Ok(None)
        ));
        assert_eq!(state.identifiers["gw"].owner, b);
        assert!(matches!(
            state.claim(&claim("gw", &a, Instant::now())),
            Err(Refusal::IdentifierInUse)
        ));
        assert!(
            matches!(state.claim(&claim("gw", &b, Instant::now())), Ok(None)),
            "its owner again"
        );
    }

    #[test]
    fn past_the_limit_an_offline_session_makes_room_and_connected_ones_do_not() {
        let mut state = State::default();
        let a = owner("org-a", "c-1");
        let session = |n: u16| {
            Id::new(
                1,
                1,
                None,
                Some(std::net::SocketAddr::from(([127, 0, 0, 1], n))),
                format!("s{n}").into(),
                None,
            )
        };
        // An Id carries its creation time in milliseconds: each is made once and compared as made.
        let sessions = [session(1), session(2)];
        for (n, id) in (1..).zip(&sessions) {
            assert!(matches!(
                state.claim(&claim(&format!("s{n}"), &a, Instant::now())),
                Ok(None)
            ));
            state.insert(
                &format!("s{n}"),
                Holder {
                    owner: a.clone(),
                    session: Some(id.clone()),
                    began: Instant::now(),
                    revision: 1,
                    key: None,
                    online: true,
                },
            );
        }
        assert!(matches!(
            state.claim(&claim("s3", &a, Instant::now())),
            Err(Refusal::TooManySessions)
        ));
        state.identifiers.get_mut("s1").unwrap().online = false;
        let evicted = state.claim(&claim("s3", &a, Instant::now())).unwrap();
        assert_eq!(
            evicted.as_ref(),
            Some(&sessions[0]),
            "the offline one is ended"
        );
        assert!(!state.identifiers.contains_key("s1"));
        assert_eq!(state.by_owner[&a].len(), 2);
    }

    #[test]
    fn sessions_count_once_established_and_by_whether_their_device_is_there() {
        let mut state = State::default();
        let a = owner("org-a", "c-1");
        let counts = |online, offline| SessionCounts { online, offline };
        assert!(matches!(
            state.claim(&claim("gw", &a, Instant::now())),
            Ok(None)
        ));
        assert_eq!(state.counts(), counts(0, 0), "a claim is no session yet");
        let session = Id::new(1, 1, None, None, "gw".into(), None);
        state.insert(
            "gw",
            Holder {
                owner: a.clone(),
                session: Some(session),
                began: Instant::now(),
                revision: 1,
                key: None,
                online: true,
            },
        );
        assert_eq!(state.counts(), counts(1, 0));
        state.identifiers.get_mut("gw").unwrap().online = false;
        assert_eq!(state.counts(), counts(0, 1), "kept for a device that left");
        state.remove("gw");
        assert_eq!(state.counts(), counts(0, 0));
    }
}
