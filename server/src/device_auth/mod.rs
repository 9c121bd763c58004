//! Whether a device may connect, and where it may publish and subscribe: the one place every such
//! decision is made. The embedded broker's hooks and each webhook only translate their protocol to
//! an [`Attempt`] and back ([`outcome`]); they hold no rule of their own.
//!
//! A CONNECT is decided in this order:
//!
//! 1. its MQTT client identifier must pass the identifier rule ([`identifier`]);
//! 2. its username resolves to a client ([`identity`]), exactly as sent;
//! 3. a key found in the cache of recent verifications is right; otherwise the back-off must
//!    admit the attempt ([`failures`]) and the key is verified ([`verifier`]): a generated key
//!    against its SHA-256 at once, any other with argon2id on a bounded pool; an unknown client is
//!    verified against a decoy of the presented key's kind, so it costs what a wrong key costs;
//! 4. a key checked by argon2id is checked against the client as it was read before the wait: the
//!    client is read again, and a changed key (a revocation committed meanwhile) refuses it; a
//!    generated key's fast hash is checked at once, with no wait to cover, like a cached key;
//! 5. the client must be active; a restricted client's device must connect in form 3 with a
//!    device id in its scope ([`app::model::Scope`]); its Last Will must pass the access rule;
//! 6. the MQTT client identifier must be the client's to use: another client's Client ID is
//!    reserved for that client, and an identifier another client row holds on the broker is
//!    theirs ([`sessions`]); the claim is made here, atomically, so racing CONNECTs cannot both
//!    win it.

pub mod attempt;
pub mod failures;
pub mod identifier;
pub mod identity;
pub mod outcome;
pub mod sessions;
pub mod verifier;

pub use app::model::access::Access;
pub use attempt::{Attempt, Protocol, Report, Source};
pub use outcome::Outcome;

use app::model::access::{self, Subject as AccessSubject, Verdict};
use app::model::{ClientKey, ClientRef, DeviceId, TopicRules};
use app::secrets;
use app::store::clients::DeviceCredential;
use app::store::device_sessions::SeenDevice;
use app::store::{Db, StoreError, devices};
use app::store::{client_keys, now_millis};
use app::verified_keys::VerifiedKeys;
use failures::{FailureKind, Failures, Limits};
use identifier::IdentifierError;
use identity::Form;
use identity::{Subject, resolve};
use secrecy::ExposeSecret;
use sessions::{SessionClaim, SessionRegistry};
use std::collections::BTreeSet;
use std::sync::Arc;
use verifier::{KeyVerifier, VerifyError};

/// What an authenticated session may do.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    pub client: ClientRef,
    pub workspace_id: String,
    pub namespace: String,
    /// The client's revision the decision was made against: a revocation of a later revision
    /// revoked what this session was let in with.
    pub revision: i64,
    /// The key it authenticated with: a retirement or an expiry of that key ends the session.
    pub key_id: String,
    /// When that key ends, as it was when the grant was made (Unix ms); `None`: never.
    pub key_ends_at: Option<i64>,
    /// When that key was last used, as it was when the grant was made.
    pub key_last_used_at: Option<i64>,
    /// The session's MQTT client identifier (`{device_id}` in a topic rule).
    pub identifier: String,
    /// The device the session is, when it connected in form 3 with a valid device id.
    pub device: Option<DeviceId>,
    /// A restricted client's devices in scope as the grant was made; `None`: any device.
    pub scope: Option<Arc<BTreeSet<String>>>,
    pub rules: Arc<TopicRules>,
}

impl Grant {
    /// The access rule (`app::model::access`) for this session: whether it may do `access` on
    /// `topic`. The one call every broker path makes.
    pub fn allows(&self, access: Access, topic: &str) -> bool {
        self.decide(access, topic).allowed
    }

    /// [`Grant::allows`] with its reason.
    pub fn decide(&self, access: Access, topic: &str) -> Verdict {
        access::decide(
            &AccessSubject {
                namespace: &self.namespace,
                client_id: self.client.client_id.as_str(),
                identifier: &self.identifier,
                scope: self.scope.as_deref(),
                rules: &self.rules,
            },
            access,
            topic,
        )
    }

    /// Whether the namespace alone decides (no scope, no rules): an external broker may then
    /// enforce it itself, from the ACL its authentication answer carries.
    pub fn is_namespace_only(&self) -> bool {
        self.scope.is_none() && self.rules.is_empty()
    }

    /// The device to record as seen, in its client's workspace.
    pub fn seen_device(&self) -> Option<SeenDevice> {
        self.device.as_ref().map(|device| SeenDevice {
            workspace_id: self.workspace_id.clone(),
            device_id: device.clone(),
        })
    }
}

/// Why a CONNECT was refused; [`Refusal::outcome`] says what each comes to.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("bad username or password")]
    BadCredentials,
    /// No client by that name: a device learns no more than from a wrong key (same code, same
    /// time); only an external broker's webhook hears it, so that it can ask its next
    /// authenticator.
    #[error("bad username or password (no such client)")]
    UnknownClient,
    #[error("{0}")]
    Identifier(#[from] IdentifierError),
    #[error("the client is inactive")]
    Inactive,
    #[error("the Last Will topic is outside the client's namespace")]
    WillOutsideNamespace,
    #[error("the client is restricted to devices this one is not (or not in connection form 3)")]
    OutsideScope,
    #[error("too many failed attempts; retry in {0} s")]
    Throttled(u64),
    #[error("the MQTT client identifier is another client's Client ID")]
    IdentifierReserved,
    #[error("the MQTT client identifier is in use by another client")]
    IdentifierInUse,
    #[error("the client holds as many sessions on this broker as it may")]
    TooManySessions,
    #[error("the client was revoked while its key was being checked")]
    RevokedWhileChecking,
    /// The right key, expired: a device learns no more than from a wrong key.
    #[error("bad username or password (the key expired)")]
    KeyExpired,
    #[error("too many connects are waiting for key verification")]
    Busy,
    #[error("the credential store failed: {0}")]
    Store(#[from] StoreError),
    #[error("the key verification workers have stopped")]
    VerifierStopped,
}

impl From<VerifyError> for Refusal {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Busy => Refusal::Busy,
            VerifyError::Stopped => Refusal::VerifierStopped,
        }
    }
}

/// The dashboard's view of the back-off (`AppState::back_off`).
impl app::back_off::BackOff for DeviceAuth {
    fn lockout(&self, client: &ClientRef) -> Option<app::model::Lockout> {
        self.failures.lockout(client)
    }

    fn clear_lockout(&self, client: &ClientRef) -> Option<app::model::Lockout> {
        self.failures.clear_lockout(client)
    }

    fn unwritten(&self, client: &ClientRef) -> Vec<app::store::login_failures::Tally> {
        self.failures.unwritten(client)
    }
}

/// How many MQTT client identifiers a client may hold on one broker, by default: each is one
/// admin API call when the client is revoked on an external broker.
pub const DEFAULT_MAX_SESSIONS_PER_CLIENT: u32 = 256;

#[derive(Debug)]
pub struct DeviceAuth {
    db: Db,
    verified: Arc<VerifiedKeys>,
    verifier: KeyVerifier,
    failures: Failures,
    max_sessions_per_client: u32,
}

impl DeviceAuth {
    pub fn new(
        db: Db,
        verified: Arc<VerifiedKeys>,
        verifier: KeyVerifier,
        limits: Limits,
        max_sessions_per_client: u32,
        events: Arc<app::state::Bell>,
    ) -> Self {
        Self {
            failures: Failures::new(db.clone(), limits, events),
            db,
            verified,
            verifier,
            max_sessions_per_client: max_sessions_per_client.max(1),
        }
    }

    pub fn failures(&self) -> &Failures {
        &self.failures
    }

    pub fn verifier(&self) -> &KeyVerifier {
        &self.verifier
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Decides a CONNECT, and on success claims its MQTT client identifier in `sessions`. Every
    /// line logged on the way names the identifier and the source address; the identifier is
    /// quoted and escaped, since the span begins before the identifier rule is checked.
    #[tracing::instrument(
        name = "authenticate",
        skip_all,
        fields(identifier = ?attempt.client_identifier, source = ?attempt.source)
    )]
    pub async fn authenticate(
        &self,
        attempt: &Attempt,
        sessions: &dyn SessionRegistry,
    ) -> Result<Grant, Refusal> {
        identifier::check(&attempt.client_identifier)?;
        let (Some(username), Some(password)) = (&attempt.username, &attempt.password) else {
            // Nothing to look up; it still counts against the address.
            let admission = self
                .failures
                .admit(&Subject::Unknown(String::new()), attempt.source)
                .map_err(Refusal::Throttled)?;
            self.failures
                .wrong_key(admission, attempt.source, None)
                .await;
            return Err(Refusal::BadCredentials);
        };
        let resolved = resolve(&self.db, username, &attempt.client_identifier).await?;
        let presented = password.expose_secret();
        // A key proven right before, and still working, needs no verification.
        let cached = resolved.credential.as_ref().and_then(|c| {
            let now = now_millis();
            c.keys
                .iter()
                .find(|k| {
                    k.works_at(now)
                        && self
                            .verified
                            .contains(c.client_id.as_str(), &k.hash, presented)
                })
                .map(|k| k.id.clone())
        });
        let (credential, key_id) = match (resolved.credential, cached) {
            (Some(credential), Some(key_id)) => {
                self.failures
                    .succeeded(None, &credential.client_ref(), attempt.source);
                (credential, key_id)
            }
            (credential, _) => {
                let admission = match self.failures.admit(&resolved.subject, attempt.source) {
                    Ok(admission) => admission,
                    Err(secs) => {
                        if let Some(credential) = &credential {
                            self.failures.locked_out(credential, attempt.source);
                        }
                        return Err(Refusal::Throttled(secs));
                    }
                };
                // Every key, ended ones too: an expired key is refused like a wrong one, at the
                // same cost, and told apart in the activity log.
                let hashes: Vec<&str> = credential
                    .as_ref()
                    .map(|c| c.keys.iter().map(|k| k.hash.as_str()).collect())
                    .unwrap_or_default();
                let matched = self
                    .verifier
                    .verify_any(password, &hashes)
                    .await?
                    .and_then(|i| credential.as_ref().map(|c| c.keys[i].clone()));
                match (credential, matched) {
                    // Its end is judged after the verification, which may have waited.
                    (Some(credential), Some(key)) if key.works_at(now_millis()) => {
                        // The wait for argon2id can be long: the key was right for the client
                        // as it was read before it. A fast hash was checked at once, against the
                        // row just read, like a key found in the cache.
                        let current = if secrets::is_fast_hash(&key.hash) {
                            credential
                        } else {
                            let current = identity::reread(&self.db, &credential, &key, presented)
                                .await?
                                .ok_or(Refusal::RevokedWhileChecking)?;
                            self.upgrade(current, &key.id, presented).await
                        };
                        self.failures.succeeded(
                            Some(admission),
                            &current.client_ref(),
                            attempt.source,
                        );
                        if let Some(stored) = current.key(&key.id) {
                            self.verified.remember(
                                current.client_id.as_str(),
                                &stored.hash,
                                presented,
                            );
                        }
                        (current, key.id)
                    }
                    (Some(credential), Some(_)) => {
                        self.failures
                            .expired_key(admission, attempt.source, &credential)
                            .await;
                        return Err(Refusal::KeyExpired);
                    }
                    (credential, _) => {
                        self.failures
                            .wrong_key(admission, attempt.source, credential.as_ref())
                            .await;
                        return Err(if credential.is_some() {
                            Refusal::BadCredentials
                        } else {
                            Refusal::UnknownClient
                        });
                    }
                }
            }
        };
        let audited = &credential;
        let refuse = |kind: FailureKind, refusal: Refusal| async move {
            self.failures.audit(audited, attempt.source, kind).await;
            Err(refusal)
        };
        if !credential.active {
            return refuse(FailureKind::Inactive, Refusal::Inactive).await;
        }
        let grant = match self
            .grant_for(
                &credential,
                &key_id,
                resolved.form,
                &attempt.client_identifier,
            )
            .await
        {
            Ok(grant) => grant,
            Err(Refusal::OutsideScope) => {
                return refuse(FailureKind::OutsideScope, Refusal::OutsideScope).await;
            }
            Err(refusal) => return Err(refusal),
        };
        if let Some(topic) = &attempt.will_topic
            && !grant.allows(Access::Publish, topic)
        {
            return refuse(
                FailureKind::WillOutsideNamespace,
                Refusal::WillOutsideNamespace,
            )
            .await;
        }
        if attempt.client_identifier != grant.client.client_id.as_str()
            && identity::reserved_for(&self.db, &attempt.client_identifier)
                .await?
                .is_some_and(|holder| holder != grant.client)
        {
            return refuse(FailureKind::IdentifierHeld, Refusal::IdentifierReserved).await;
        }
        let device = grant.seen_device();
        let claim = SessionClaim {
            identifier: &attempt.client_identifier,
            owner: &grant.client,
            key_id: &grant.key_id,
            source: attempt.source,
            began: attempt.began,
            max_per_client: self.max_sessions_per_client,
            device: device.as_ref(),
        };
        match sessions.claim(&claim).await {
            Ok(()) => Ok(grant),
            Err(refusal @ Refusal::IdentifierInUse) => {
                refuse(FailureKind::IdentifierHeld, refusal).await
            }
            Err(refusal @ Refusal::TooManySessions) => {
                refuse(FailureKind::TooManySessions, refusal).await
            }
            Err(refusal) => Err(refusal),
        }
    }

    /// A key whose stored hash is not Keygate's own form for it gets that form now that it
    /// verified ([`secrets::rehash_after_login`] decides): a generated key still stored as
    /// argon2id (made before the fast form existed) its fast form, so its next cold connect costs
    /// a SHA-256; a hash imported from another broker the fast form or argon2id (on the
    /// verifier's pool). Failing to store it costs nothing but speed: the next connect tries
    /// again.
    async fn upgrade(
        &self,
        mut credential: DeviceCredential,
        key_id: &str,
        presented: &[u8],
    ) -> DeviceCredential {
        let generated = std::str::from_utf8(presented).is_ok_and(ClientKey::is_generated_text);
        let client = credential.client_ref();
        let Some(stored) = credential.keys.iter_mut().find(|k| k.id == key_id) else {
            return credential;
        };
        let rehashed = match secrets::rehash_after_login(&stored.hash, generated) {
            None => return credential,
            Some(secrets::Rehash::Fast) => secrets::fast_hash(presented),
            Some(secrets::Rehash::Argon2) => match self.verifier.hash(presented).await {
                Ok(hash) => hash,
                Err(e) => {
                    tracing::warn!(%client, "could not re-hash a key: {e}");
                    return credential;
                }
            },
        };
        match client_keys::upgrade_hash(&self.db, key_id, &stored.hash, &rehashed).await {
            Ok(true) => {
                tracing::info!(%client, "a key's hash was upgraded to Keygate's own form");
                stored.hash = rehashed;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%client, "could not upgrade a key's hash: {e}")
            }
        }
        credential
    }

    /// What an active client may do, for an authorization request (which carries no password:
    /// the broker authenticated the session before), resolved like a CONNECT; `None` for a client
    /// that is gone or inactive, or a device now outside its client's scope, so a revoked session
    /// loses its rights at its next message.
    pub async fn grant(
        &self,
        username: Option<&str>,
        client_identifier: &str,
    ) -> Result<Option<Grant>, StoreError> {
        let resolved = resolve(&self.db, username.unwrap_or_default(), client_identifier).await?;
        let now = now_millis();
        let Some(credential) = resolved.credential.filter(|c| c.active) else {
            return Ok(None);
        };
        // An authorization request names no key. A client none of whose keys works any more
        // loses its rights at its next message; a session of one retired key among two keeps
        // them until the retirement's revocation closes it, moments later.
        let Some(key_id) = credential
            .keys
            .iter()
            .find(|k| k.works_at(now))
            .map(|k| k.id.clone())
        else {
            return Ok(None);
        };
        match self
            .grant_for(&credential, &key_id, resolved.form, client_identifier)
            .await
        {
            Ok(grant) => Ok(Some(grant)),
            Err(Refusal::Store(e)) => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// What a session of `client` let in as `grant` was may do now: the client read again, its
    /// scope and rules as they are. `None` when the client is gone, inactive, has another key, or
    /// no longer serves the session's device: the session must end.
    pub async fn regrant(&self, grant: &Grant) -> Result<Option<Grant>, StoreError> {
        let Some(credential) =
            app::store::clients::find_credential(&self.db, grant.client.client_id.as_str())
                .await?
                .filter(|c| c.organization_id == grant.client.organization_id && c.active)
        else {
            return Ok(None);
        };
        // The session's key must still work: a key that retired or expired ends it.
        if !credential
            .key(&grant.key_id)
            .is_some_and(|k| k.works_at(now_millis()))
        {
            return Ok(None);
        }
        let form = grant.device.as_ref().map(|_| Form::ClientId);
        match self
            .grant_for(&credential, &grant.key_id, form, &grant.identifier)
            .await
        {
            Ok(next) => Ok(Some(next)),
            Err(Refusal::Store(e)) => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// The grant of an active client's session with `identifier`, connected in `form`: a
    /// restricted client's device must connect in form 3 with a device id in its scope (listed,
    /// or carrying a listed tag now).
    async fn grant_for(
        &self,
        credential: &DeviceCredential,
        key_id: &str,
        form: Option<Form>,
        identifier: &str,
    ) -> Result<Grant, Refusal> {
        let device = (form == Some(Form::ClientId))
            .then(|| DeviceId::parse_exact(identifier))
            .flatten();
        let scope = match &credential.scope {
            None => None,
            Some(scope) => {
                let device = device.as_ref().ok_or(Refusal::OutsideScope)?;
                let mut ids =
                    devices::list_ids_in_scope(&self.db, &credential.workspace_id, scope).await?;
                ids.extend(scope.devices().map(|d| d.as_str().to_owned()));
                if !ids.contains(device.as_str()) {
                    return Err(Refusal::OutsideScope);
                }
                Some(Arc::new(ids))
            }
        };
        Ok(Grant {
            client: credential.client_ref(),
            workspace_id: credential.workspace_id.clone(),
            namespace: credential.namespace.clone(),
            revision: credential.revision,
            key_id: key_id.to_owned(),
            key_ends_at: credential.key(key_id).and_then(|k| k.ends_at),
            key_last_used_at: credential.key(key_id).and_then(|k| k.last_used_at),
            identifier: identifier.to_owned(),
            device,
            scope,
            rules: Arc::new(credential.topic_rules.clone()),
        })
    }
}
