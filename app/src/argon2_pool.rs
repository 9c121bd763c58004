//! A bounded pool of threads for argon2id, the one place Keygate runs it: device keys on the
//! broker's pool, passwords and typed keys on the dashboard's. argon2id costs tens of milliseconds
//! of CPU and 19 MiB of memory by design, so a burst of sign-ins or connects queues for a few
//! workers instead of taking every core and a thread's worth of memory per request. Beyond the
//! queue's room a job is turned away at once ([`SecretError::Busy`]) rather than waiting until its
//! caller gives up. Each worker keeps its argon2 memory between jobs: no allocation, no page
//! faults, and a resident size that does not grow with load.

use crate::secrets::{self, Argon2Memory, SecretError, SecretHash};
use secrecy::{ExposeSecret, SecretSlice};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long a job waited for a worker and how long the worker took, for the caller's metrics.
pub type Observer = Arc<dyn Fn(Duration, Duration) + Send + Sync>;

enum Work {
    /// Whether the secret matches the hash; with none, the decoy's cost and `false`.
    Verify {
        hash: Option<String>,
        answer: oneshot::Sender<bool>,
    },
    Hash {
        answer: oneshot::Sender<Result<SecretHash, SecretError>>,
    },
}

struct Job {
    secret: SecretSlice<u8>,
    work: Work,
    queued: Instant,
}

pub struct Argon2Pool {
    jobs: mpsc::Sender<Job>,
    runs: Arc<AtomicU64>,
}

impl std::fmt::Debug for Argon2Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Pool")
            .field("runs", &self.runs())
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}

impl Argon2Pool {
    /// Starts `workers` threads named `NAME-N` (at least one), with room for `waiting_per_worker`
    /// jobs waiting per worker (at least one); `observe` is told of every job. The threads end
    /// when the pool is dropped.
    pub fn new(name: &str, workers: usize, waiting_per_worker: usize, observe: Observer) -> Self {
        let workers = workers.max(1);
        let (jobs, queue) = mpsc::channel(workers * waiting_per_worker.max(1));
        let queue = Arc::new(Mutex::new(queue));
        let runs = Arc::new(AtomicU64::new(0));
        for n in 0..workers {
            let (queue, runs, observe) = (queue.clone(), runs.clone(), observe.clone());
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || work(&queue, &runs, &*observe))
                .expect("an argon2id worker thread");
        }
        Self { jobs, runs }
    }

    /// A pool that tells nobody how its jobs went.
    pub fn unobserved(name: &str, workers: usize, waiting_per_worker: usize) -> Self {
        Self::new(name, workers, waiting_per_worker, Arc::new(|_, _| {}))
    }

    /// Whether `secret` matches the argon2id `hash`; with no hash, costs the same and says no.
    pub async fn verify(&self, secret: &[u8], hash: Option<&str>) -> Result<bool, SecretError> {
        let (answer, answered) = oneshot::channel();
        let hash = hash.map(str::to_owned);
        self.submit(secret, Work::Verify { hash, answer })?;
        answered.await.map_err(|_| SecretError::Stopped)
    }

    /// `secret`'s argon2id hash, with a fresh salt.
    pub async fn hash(&self, secret: &[u8]) -> Result<SecretHash, SecretError> {
        let (answer, answered) = oneshot::channel();
        self.submit(secret, Work::Hash { answer })?;
        answered.await.map_err(|_| SecretError::Stopped)?
    }

    fn submit(&self, secret: &[u8], work: Work) -> Result<(), SecretError> {
        let job = Job {
            secret: SecretSlice::from(secret.to_vec()),
            work,
            queued: Instant::now(),
        };
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SecretError::Busy,
            mpsc::error::TrySendError::Closed(_) => SecretError::Stopped,
        })
    }

    /// How many argon2id computations the workers have started.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// How many jobs wait for a worker now.
    pub fn waiting(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }
}

/// One worker: takes the next job, runs it in its own memory, answers.
fn work(
    queue: &Mutex<mpsc::Receiver<Job>>,
    runs: &AtomicU64,
    observe: &dyn Fn(Duration, Duration),
) {
    let mut memory = Argon2Memory::default();
    loop {
        // Idle workers wait their turn for the queue; a busy one does not hold it.
        let job = queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .blocking_recv();
        let Some(job) = job else { return };
        let started = Instant::now();
        runs.fetch_add(1, Ordering::Relaxed);
        let secret = job.secret.expose_secret();
        // The caller may have given up meanwhile; nothing to do then.
        match job.work {
            Work::Verify { hash, answer } => {
                let matched = secrets::verify_or_decoy_with(&mut memory, secret, hash.as_deref());
                observe(started - job.queued, started.elapsed());
                let _ = answer.send(matched);
            }
            Work::Hash { answer } => {
                let hashed = secrets::hash_with(&mut memory, secret);
                observe(started - job.queued, started.elapsed());
                let _ = answer.send(hashed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies_in_the_workers_memory() {
        let pool = Argon2Pool::unobserved("test-argon2", 1, 4);
        let hash = pool.hash(b"correct horse").await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            pool.verify(b"correct horse", Some(hash.as_str()))
                .await
                .unwrap()
        );
        assert!(
            !pool
                .verify(b"wrong horse", Some(hash.as_str()))
                .await
                .unwrap()
        );
        assert!(!pool.verify(b"correct horse", None).await.unwrap());
        assert_eq!(pool.runs(), 4);
        // A standard PHC string: the argon2 crate's own verifier agrees.
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let parsed = PasswordHash::new(hash.as_str()).unwrap();
        assert!(
            argon2::Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_full_queue_turns_a_job_away_at_once() {
        let pool = Arc::new(Argon2Pool::unobserved("test-argon2", 1, 1));
        // One running, one waiting: the room is one job per worker.
        let running = tokio::spawn({
            let pool = pool.clone();
            async move { pool.hash(b"a").await }
        });
        let started = Instant::now();
        let mut turned_away = 0;
        let mut accepted = Vec::new();
        for _ in 0..8 {
            let pool = pool.clone();
            accepted.push(tokio::spawn(async move { pool.hash(b"b").await }));
        }
        for job in accepted {
            if matches!(job.await.unwrap(), Err(SecretError::Busy)) {
                turned_away += 1;
            }
        }
        running.await.unwrap().unwrap();
        assert!(turned_away >= 6, "{turned_away} of 8 turned away");
        assert!(pool.runs() <= 3, "{} ran", pool.runs());
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
