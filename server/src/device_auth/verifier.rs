//! Key verification. A generated key stored in the fast form (`app::secrets`) is checked at once,
//! on the caller's task: a SHA-256, microseconds. Every other key is argon2id, on the broker's own
//! [`Argon2Pool`] (the dashboard's passwords have another), so a burst of connects queues for a
//! few workers instead of taking every core from the dashboard.
//!
//! What a verification costs depends on the key presented, never on whether the client exists:
//! a generated-format key costs a SHA-256 (against a decoy for an unknown client), any other key
//! costs argon2id (against a decoy for an unknown client, or for a client whose hash is the fast
//! form, which no typed key can match). Only a client whose generated key still has its old
//! argon2id hash answers a generated-format key slowly, until that key's next successful connect
//! upgrades it.

use crate::telemetry::metrics::VerifierMetrics;
use app::argon2_pool::Argon2Pool;
use app::model::ClientKey;
use app::secrets::{SecretError, is_fast_hash, verify_fast_or_decoy};
use secrecy::{ExposeSecret, SecretSlice};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// By default, more connects than this per worker waiting for verification are turned away at
/// once ("busy") rather than queued until their handshake times out.
pub const DEFAULT_WAITING_PER_WORKER: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("too many connects are waiting for key verification")]
    Busy,
    #[error("the key verification workers have stopped")]
    Stopped,
}

pub struct KeyVerifier {
    pool: Argon2Pool,
    /// Generated keys checked against a fast hash; the argon2id ones are the pool's runs.
    fast_verifications: AtomicU64,
    metrics: VerifierMetrics,
}

impl std::fmt::Debug for KeyVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVerifier")
            .field("verifications", &self.verifications())
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}

impl KeyVerifier {
    /// Starts `workers` verification threads (at least one), with room for `waiting_per_worker`
    /// verifications waiting per worker (at least one), which time their work with `metrics`.
    /// They end when the verifier is dropped.
    pub fn new(workers: usize, waiting_per_worker: usize, metrics: VerifierMetrics) -> Self {
        let observed = metrics.clone();
        let pool = Argon2Pool::new(
            "keygate-verify",
            workers,
            waiting_per_worker,
            Arc::new(move |waited, took| {
                observed.waited.record(waited);
                observed.verified.record(took);
            }),
        );
        Self {
            pool,
            fast_verifications: AtomicU64::new(0),
            metrics,
        }
    }

    /// Whether `presented` matches `hash`; with no hash, costs the same and says no.
    pub async fn verify(
        &self,
        presented: &SecretSlice<u8>,
        hash: Option<&str>,
    ) -> Result<bool, VerifyError> {
        let generated =
            std::str::from_utf8(presented.expose_secret()).is_ok_and(ClientKey::is_generated_text);
        let fast = hash.is_some_and(is_fast_hash);
        let argon2_hash = match (generated, hash) {
            (true, None) => return Ok(self.verify_fast(presented, None)),
            (true, Some(hash)) if fast => return Ok(self.verify_fast(presented, Some(hash))),
            // No typed key matches a fast hash: argon2id against the decoy, as for an unknown
            // client, so that a typed guess costs the same whoever it names.
            (false, Some(_)) if fast => None,
            (_, hash) => hash,
        };
        let matched = match self
            .pool
            .verify(presented.expose_secret(), argon2_hash)
            .await
        {
            Ok(matched) => matched,
            Err(SecretError::Busy) => return Err(VerifyError::Busy),
            Err(_) => return Err(VerifyError::Stopped),
        };
        Ok(matched && !fast)
    }

    /// A generated key against a fast hash (or the decoy), here and now: timed like a pool job
    /// that waited for nothing.
    fn verify_fast(&self, presented: &SecretSlice<u8>, hash: Option<&str>) -> bool {
        self.fast_verifications.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let matched = verify_fast_or_decoy(presented.expose_secret(), hash);
        self.metrics.waited.record(std::time::Duration::ZERO);
        self.metrics.verified.record(started.elapsed());
        matched
    }

    /// How many keys were verified, in either form (the tests check that an unknown client pays
    /// for one).
    pub fn verifications(&self) -> u64 {
        self.fast_verifications.load(Ordering::Relaxed) + self.argon2_verifications()
    }

    /// How many of them were argon2id: the jobs the pool's workers started.
    pub fn argon2_verifications(&self) -> u64 {
        self.pool.runs()
    }

    /// How many verifications wait for a worker now.
    pub fn waiting(&self) -> usize {
        self.pool.waiting()
    }
}
