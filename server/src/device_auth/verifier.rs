//! Key verification. A generated key stored in the fast form (`app::secrets`) is checked at once,
//! on the caller's task: a SHA-256, microseconds. Every other key is argon2id (or a hash imported
//! from another broker, PBKDF2 as slow as its iterations, until its first login), on the broker's own
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

    /// Which of a client's stored `hashes` `presented` matches, if any. With none (an unknown
    /// client) it costs what a wrong key costs, and says no. A generated-format key is checked
    /// against the fast hashes at once and against any argon2id one on the pool; any other key
    /// only against the argon2id ones (no typed key matches a fast hash), or the decoy when the
    /// client has none, so that a typed guess costs the same whoever it names.
    pub async fn verify_any(
        &self,
        presented: &SecretSlice<u8>,
        hashes: &[&str],
    ) -> Result<Option<usize>, VerifyError> {
        let generated =
            std::str::from_utf8(presented.expose_secret()).is_ok_and(ClientKey::is_generated_text);
        let slow: Vec<usize> = (0..hashes.len())
            .filter(|&i| !is_fast_hash(hashes[i]))
            .collect();
        if generated {
            let fast: Vec<usize> = (0..hashes.len())
                .filter(|&i| is_fast_hash(hashes[i]))
                .collect();
            if fast.is_empty() && slow.is_empty() {
                self.verify_fast(presented, None);
                return Ok(None);
            }
            for i in fast {
                if self.verify_fast(presented, Some(hashes[i])) {
                    return Ok(Some(i));
                }
            }
        } else if slow.is_empty() {
            self.verify_slow(presented, None).await?;
            return Ok(None);
        }
        for i in slow {
            if self.verify_slow(presented, Some(hashes[i])).await? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// A new argon2id hash of `presented`, on the pool: an imported hash's replacement.
    pub async fn hash(&self, presented: &[u8]) -> Result<String, VerifyError> {
        match self.pool.hash(presented).await {
            Ok(hash) => Ok(hash.as_str().to_owned()),
            Err(SecretError::Busy) => Err(VerifyError::Busy),
            Err(_) => Err(VerifyError::Stopped),
        }
    }

    /// argon2id, or an imported hash, on the pool: `presented` against `hash`, or the decoy.
    async fn verify_slow(
        &self,
        presented: &SecretSlice<u8>,
        hash: Option<&str>,
    ) -> Result<bool, VerifyError> {
        match self.pool.verify(presented.expose_secret(), hash).await {
            Ok(matched) => Ok(matched && hash.is_some()),
            Err(SecretError::Busy) => Err(VerifyError::Busy),
            Err(_) => Err(VerifyError::Stopped),
        }
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
