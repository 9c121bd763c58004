//! Key verification on a bounded pool of its own threads: argon2id costs tens of milliseconds of
//! CPU and 19 MiB of memory by design, so a burst of connects queues for a few workers instead of
//! taking every core from the dashboard. Each worker keeps its argon2 memory between
//! verifications: no allocation, no page faults, and a resident size that does not grow with load.

use crate::telemetry::metrics::VerifierMetrics;
use app::secrets::{VerifierMemory, verify_or_decoy_with};
use secrecy::{ExposeSecret, SecretSlice};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

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

struct Job {
    presented: SecretSlice<u8>,
    hash: Option<String>,
    answer: oneshot::Sender<bool>,
    queued: Instant,
}

#[derive(Debug)]
pub struct KeyVerifier {
    jobs: mpsc::Sender<Job>,
    verifications: AtomicU64,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job(<redacted>)")
    }
}

impl KeyVerifier {
    /// Starts `workers` verification threads (at least one), with room for `waiting_per_worker`
    /// verifications waiting per worker (at least one), which time their work with `metrics`.
    /// They end when the verifier is dropped.
    pub fn new(workers: usize, waiting_per_worker: usize, metrics: VerifierMetrics) -> Self {
        let workers = workers.max(1);
        let (jobs, queue) = mpsc::channel(workers * waiting_per_worker.max(1));
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..workers {
            let (queue, metrics) = (queue.clone(), metrics.clone());
            std::thread::Builder::new()
                .name(format!("keygate-verify-{n}"))
                .spawn(move || work(&queue, &metrics))
                .expect("a key verification thread");
        }
        Self {
            jobs,
            verifications: AtomicU64::new(0),
        }
    }

    /// Whether `presented` matches `hash`; with no hash, costs the same and says no.
    pub async fn verify(
        &self,
        presented: &SecretSlice<u8>,
        hash: Option<&str>,
    ) -> Result<bool, VerifyError> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            presented: SecretSlice::from(presented.expose_secret().to_vec()),
            hash: hash.map(str::to_owned),
            answer,
            queued: Instant::now(),
        };
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => VerifyError::Busy,
            mpsc::error::TrySendError::Closed(_) => VerifyError::Stopped,
        })?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        answered.await.map_err(|_| VerifyError::Stopped)
    }

    /// How many argon2id verifications ran (the tests check that an unknown client pays for one).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// How many verifications wait for a worker now.
    pub fn waiting(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }
}

/// One worker: takes the next job, verifies it in its own memory, answers.
fn work(queue: &Mutex<mpsc::Receiver<Job>>, metrics: &VerifierMetrics) {
    let mut memory = VerifierMemory::default();
    loop {
        // Idle workers wait their turn for the queue; a busy one does not hold it.
        let job = queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .blocking_recv();
        let Some(job) = job else { return };
        let started = Instant::now();
        metrics.waited.record(started - job.queued);
        let matched = verify_or_decoy_with(
            &mut memory,
            job.presented.expose_secret(),
            job.hash.as_deref(),
        );
        metrics.verified.record(started.elapsed());
        // The connect may have given up meanwhile; nothing to do then.
        let _ = job.answer.send(matched);
    }
}
