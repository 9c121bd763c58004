//! Whether a device may connect, and where it may publish and subscribe: the connection contract
//! every broker path implements (the embedded broker now; the webhooks for external brokers use the
//! same decisions).
//!
//! A CONNECT is resolved to a client ([`identity`]), checked against the back-off ([`failures`]),
//! then its key is verified: from the cache of recent verifications when the same key was verified
//! against the same stored hash before, otherwise with argon2id on a bounded pool ([`verifier`]).
//! An unknown client is verified against a decoy hash, so it costs what a wrong key costs.

pub mod failures;
pub mod identity;
pub mod topics;
pub mod verifier;

use app::model::ClientId;
use app::store::{Db, StoreError};
use app::verified_keys::VerifiedKeys;
use failures::{FailureKind, Failures, Limits};
use identity::{Claim, resolve};
use secrecy::{ExposeSecret, SecretSlice};
use std::net::IpAddr;
use std::sync::Arc;
use verifier::{KeyVerifier, VerifyError};

/// A CONNECT's credentials.
pub struct Attempt<'a> {
    pub username: Option<&'a str>,
    pub client_identifier: &'a str,
    pub password: Option<&'a SecretSlice<u8>>,
    pub source: Option<IpAddr>,
    /// The Last Will's topic, if the CONNECT carries one: it is published on the client's behalf
    /// later, so it must obey the topic rule now.
    pub will_topic: Option<&'a str>,
}

/// What an authenticated client may do.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    pub client_id: ClientId,
    pub organization_id: String,
    pub workspace_id: String,
    pub namespace: String,
}

impl Grant {
    pub fn may_publish(&self, topic: &str) -> bool {
        topics::may_publish(&self.namespace, topic)
    }

    pub fn may_subscribe(&self, filter: &str) -> bool {
        topics::may_subscribe(&self.namespace, filter)
    }
}

/// Why a CONNECT was refused. The first is all a device without the right key ever learns.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("bad username or password")]
    BadCredentials,
    /// No client by that name: a device learns no more than from a wrong key (same code, same
    /// time); only an external broker's webhook hears it, so that it can ask its next
    /// authenticator.
    #[error("bad username or password (no such client)")]
    UnknownClient,
    #[error("the client is inactive")]
    Inactive,
    #[error("the Last Will topic is outside the client's namespace")]
    WillOutsideNamespace,
    #[error("too many failed attempts; retry in {0} s")]
    Throttled(u64),
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

#[derive(Debug)]
pub struct DeviceAuth {
    db: Db,
    verified: Arc<VerifiedKeys>,
    verifier: KeyVerifier,
    failures: Failures,
}

impl DeviceAuth {
    pub fn new(db: Db, verified: Arc<VerifiedKeys>, workers: usize, limits: Limits) -> Self {
        Self {
            failures: Failures::new(db.clone(), limits),
            db,
            verified,
            verifier: KeyVerifier::new(workers),
        }
    }

    pub fn failures(&self) -> &Failures {
        &self.failures
    }

    pub fn verifier(&self) -> &KeyVerifier {
        &self.verifier
    }

    /// Decides a CONNECT.
    pub async fn authenticate(&self, attempt: &Attempt<'_>) -> Result<Grant, Refusal> {
        let (Some(username), Some(password)) = (attempt.username, attempt.password) else {
            // Nothing to look up; still counts against the address.
            self.failures
                .check("", attempt.source)
                .map_err(Refusal::Throttled)?;
            self.failures.wrong_key("", attempt.source, None).await;
            return Err(Refusal::BadCredentials);
        };
        let resolved = resolve(
            &self.db,
            Claim {
                username,
                client_identifier: attempt.client_identifier,
            },
        )
        .await?;
        self.failures
            .check(&resolved.claimed_id, attempt.source)
            .map_err(Refusal::Throttled)?;

        let presented = password.expose_secret();
        let matched = match &resolved.credential {
            Some(c)
                if self
                    .verified
                    .contains(c.client_id.as_str(), &c.key_hash, presented) =>
            {
                true
            }
            Some(c) => {
                let ok = self.verifier.verify(password, Some(&c.key_hash)).await?;
                if ok {
                    self.verified
                        .remember(c.client_id.as_str(), &c.key_hash, presented);
                }
                ok
            }
            None => self.verifier.verify(password, None).await?,
        };
        let credential = match resolved.credential {
            Some(c) if matched => c,
            credential => {
                self.failures
                    .wrong_key(&resolved.claimed_id, attempt.source, credential.as_ref())
                    .await;
                return Err(if credential.is_some() {
                    Refusal::BadCredentials
                } else {
                    Refusal::UnknownClient
                });
            }
        };
        self.failures.succeeded(&resolved.claimed_id);
        if !credential.active {
            self.failures
                .audit(&credential, attempt.source, FailureKind::Inactive)
                .await;
            return Err(Refusal::Inactive);
        }
        let grant = Grant {
            client_id: credential.client_id.clone(),
            organization_id: credential.organization_id.clone(),
            workspace_id: credential.workspace_id.clone(),
            namespace: credential.namespace.clone(),
        };
        if let Some(topic) = attempt.will_topic
            && !grant.may_publish(topic)
        {
            self.failures
                .audit(
                    &credential,
                    attempt.source,
                    FailureKind::WillOutsideNamespace,
                )
                .await;
            return Err(Refusal::WillOutsideNamespace);
        }
        Ok(grant)
    }
}
