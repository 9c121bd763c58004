//! Key verification on a bounded pool: argon2id costs tens of milliseconds of CPU by design, so a
//! burst of connects must queue for a few workers instead of taking every core from the dashboard.

use secrecy::{ExposeSecret, SecretSlice};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// More connects than this waiting for a worker are turned away at once ("server busy") rather
/// than queued until their handshake times out.
const MAX_WAITING_PER_WORKER: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("too many connects are waiting for key verification")]
    Busy,
    #[error("the verification task stopped: {0}")]
    Join(#[from] tokio::task::JoinError),
}

#[derive(Debug)]
pub struct KeyVerifier {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    verifications: AtomicU64,
}

impl KeyVerifier {
    /// A pool of `workers` concurrent verifications (at least one).
    pub fn new(workers: usize) -> Self {
        let workers = workers.max(1);
        Self {
            permits: Arc::new(Semaphore::new(workers)),
            waiting: AtomicUsize::new(0),
            max_waiting: workers * MAX_WAITING_PER_WORKER,
            verifications: AtomicU64::new(0),
        }
    }

    /// Whether `presented` matches `hash`; with no hash, costs the same and says no.
    pub async fn verify(
        &self,
        presented: &SecretSlice<u8>,
        hash: Option<&str>,
    ) -> Result<bool, VerifyError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(VerifyError::Busy);
        }
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let permit = permit.expect("the semaphore is never closed");
        let presented = SecretSlice::from(presented.expose_secret().to_vec());
        let hash = hash.map(str::to_owned);
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matched = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            app::secrets::verify_or_decoy_blocking(presented.expose_secret(), hash.as_deref())
        })
        .await?;
        Ok(matched)
    }

    /// How many argon2id verifications ran (the tests check that an unknown client pays for one).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}
