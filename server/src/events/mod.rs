//! The event worker: sends every credential event queued in `event_deliveries` (written in the
//! transaction of the change it describes) to its endpoint, and keeps trying until the endpoint
//! answers 2xx.
//!
//! Each endpoint is drained by a task of its own, so an endpoint that is down or slow delays only
//! its own events. A task takes a lease on its endpoint (see `app::store::event_endpoints`), sends
//! its oldest undelivered event, and goes on to the next only once that one is delivered: a failed
//! one is tried again after an exponential back-off with jitter, and the ones after it wait, so an
//! endpoint that comes back gets every event in order, each delivered once. A delivery is marked
//! only after the endpoint answered, so a crash leaves it queued for the next start; the receiver
//! tells a repeat by its `webhook-id`.

mod send;

use crate::revocation::backoff::Backoff;
use app::state::Bell;
use app::store::{Db, StoreError, event_deliveries, event_endpoints, now_millis};
use event_deliveries::Attempt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How often the queue is read when nobody rang: what a retry that came due waits for at most.
const POLL: Duration = Duration::from_millis(250);
/// How long a lease lasts; renewed while a task sends, and left to run out rather than given
/// back: a release would be one more write per attempt, which SQLite's single writer pays for.
const LEASE: Duration = Duration::from_secs(30);

/// What every endpoint's task shares.
struct Worker {
    db: Db,
    /// Lease holder name: the node.
    node: String,
    http: reqwest::Client,
    backoff: Backoff,
}

/// Runs the event worker until the returned task is aborted (which aborts every endpoint's task
/// with it).
pub fn start(db: Db, node: String, bell: &Bell, backoff: Backoff) -> tokio::task::JoinHandle<()> {
    let worker = Arc::new(Worker {
        db,
        node,
        http: send::http_client(),
        backoff,
    });
    tokio::spawn(serve(worker, bell.subscribe()))
}

/// Starts a task for each endpoint with an event due that has none running; runs until aborted.
async fn serve(worker: Arc<Worker>, mut rung: watch::Receiver<u64>) {
    let mut running = HashSet::new();
    // Dropped with this future when the worker is aborted, which aborts every task in it.
    let mut tasks = JoinSet::new();
    loop {
        while let Some(done) = tasks.try_join_next() {
            if let Ok(endpoint) = done {
                running.remove(&endpoint);
            }
        }
        match event_deliveries::due(&worker.db, now_millis()).await {
            Ok(due) => {
                for endpoint in due {
                    if running.insert(endpoint.clone()) {
                        let worker = worker.clone();
                        tasks.spawn(async move {
                            if let Err(e) = worker.drain(&endpoint).await {
                                tracing::warn!(%endpoint, "cannot deliver events: {e}");
                            }
                            endpoint
                        });
                    }
                }
            }
            Err(e) => tracing::warn!("cannot read the event queue: {e}"),
        }
        tokio::select! {
            _ = rung.changed() => {}
            _ = tokio::time::sleep(POLL) => {}
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok(endpoint) = done {
                    running.remove(&endpoint);
                }
            }
        }
    }
}

impl Worker {
    /// Sends endpoint `id`'s events in order while they are due; stops at the first failure (its
    /// retry comes due later), when the queue is empty, or when another process holds the lease.
    async fn drain(&self, id: &str) -> Result<(), StoreError> {
        let mut leased_at: Option<tokio::time::Instant> = None;
        loop {
            if leased_at.is_none_or(|at| at.elapsed() > LEASE / 3) {
                let until = now_millis() + LEASE.as_millis() as i64;
                if !event_endpoints::lease(&self.db, id, &self.node, until).await? {
                    return Ok(());
                }
                leased_at = Some(tokio::time::Instant::now());
            }
            let (Some(target), Some(event)) = (
                event_endpoints::target(&self.db, id).await?,
                event_deliveries::head(&self.db, id).await?,
            ) else {
                return Ok(());
            };
            if event.next_attempt_at > now_millis() {
                return Ok(());
            }
            let now = now_millis();
            let sent =
                send::send(&self.http, &target.url, &target.secret, &event, now / 1000).await;
            let attempt = Attempt {
                at: now_millis(),
                response_status: sent.as_ref().map_or_else(|e| e.status(), |s| Some(*s)),
            };
            match sent {
                Ok(_) => event_deliveries::mark_delivered(&self.db, event.id, &attempt).await?,
                Err(error) => {
                    let wait = self.backoff.delay(event.attempts + 1);
                    tracing::warn!(
                        endpoint = %id,
                        delivery = event.id,
                        event_type = %event.event_type,
                        attempts = event.attempts + 1,
                        "an event was not delivered, retrying in {} ms: {error}",
                        wait.as_millis()
                    );
                    event_deliveries::record_failure(
                        &self.db,
                        event.id,
                        &attempt,
                        &error.to_string(),
                        attempt.at + wait.as_millis() as i64,
                    )
                    .await?;
                    return Ok(());
                }
            }
        }
    }
}
