//! The revocation worker: delivers every revocation in the outbox (written by regenerate,
//! deactivate and delete in the transaction of the change) to every broker target, and keeps
//! trying until each target confirms.
//!
//! One task per target, so a broker that is down delays only its own queue. A task holds a lease
//! on its target (see `app::store::broker_targets`), delivers the target's pending revocations oldest
//! first, and retries a failed one with exponential back-off and jitter before it moves on: a
//! broker that comes back gets every revocation, in order. A revocation the broker refuses in a
//! way retrying cannot fix is set aside for an operator instead, so that one bad request cannot
//! hold back every other tenant's revocations. Rows are marked per target only after the target
//! confirmed, so a crash at any point leaves them pending, and the next start delivers them.

pub mod admin_api;
pub mod backoff;
mod embedded;
pub mod error;

use crate::broker::Broker;
use crate::telemetry::metrics::{DeliveryResult, Metrics};
use admin_api::AdminApi;
use app::model::{BrokerKind, ClientId, ClientRef, RevocationReason};
use app::state::RevocationSignal;
use app::store::broker_targets::{self, TargetSpec};
use app::store::deliveries;
use app::store::outbox::OutboxRow;
use app::store::{Db, clients, device_sessions, devices, now_millis};
use backoff::Backoff;
use error::DeliveryError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the queue is read when nobody rang.
const POLL: Duration = Duration::from_millis(500);
/// How long a lease lasts; renewed well before it runs out.
const LEASE: Duration = Duration::from_secs(15);
/// Revocations read at once.
const BATCH: i64 = 100;

/// Where a revocation goes.
pub enum Target {
    /// This process's own broker.
    Embedded(Arc<Broker>),
    /// An external broker's admin API.
    AdminApi(AdminApi),
}

/// What every target's task shares.
struct Worker {
    db: Db,
    /// Lease holder name: the node.
    node: String,
    http: reqwest::Client,
    backoff: Backoff,
    metrics: Metrics,
}

impl Target {
    fn spec(&self, node: &str) -> TargetSpec {
        match self {
            Target::Embedded(broker) => TargetSpec {
                name: embedded_target_name(node),
                kind: BrokerKind::Embedded,
                endpoint: format!("mqtt://{} (node {node})", broker.tcp_addr),
            },
            Target::AdminApi(api) => TargetSpec {
                name: api.name.clone(),
                kind: api.kind.into(),
                endpoint: api.endpoint(),
            },
        }
    }
}

/// The target name of a node's embedded broker.
pub fn embedded_target_name(node: &str) -> String {
    format!("embedded:{node}")
}

/// The running delivery tasks.
pub struct Workers {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    targets: Vec<String>,
    worker: Arc<Worker>,
}

impl Workers {
    /// The names of the targets delivered to.
    pub fn targets(&self) -> &[String] {
        &self.targets
    }

    /// Stops delivering and gives the targets' leases back, so another process (or this one,
    /// restarted under another node name) can take over at once instead of after the lease ran
    /// out. Undelivered rows stay pending.
    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        // An aborted task stops at its next await: one that was renewing its lease could renew it
        // after the release below, and keep the target from the next process until it expired.
        for task in self.tasks {
            let _ = task.await;
        }
        for target in &self.targets {
            if let Err(e) =
                broker_targets::release(&self.worker.db, target, &self.worker.node).await
            {
                tracing::warn!(%target, "could not release the broker target's lease: {e}");
            }
        }
    }
}

/// Registers `targets` and starts a delivery task for each, which counts its deliveries in
/// `metrics`.
pub async fn start(
    db: Db,
    node: String,
    targets: Vec<Target>,
    signal: &RevocationSignal,
    backoff: Backoff,
    metrics: Metrics,
) -> Result<Workers, app::store::StoreError> {
    let worker = Arc::new(Worker {
        db,
        node,
        http: admin_api::http_client(),
        backoff,
        metrics,
    });
    let mut tasks = Vec::with_capacity(targets.len());
    let mut names = Vec::with_capacity(targets.len());
    for target in targets {
        let spec = target.spec(&worker.node);
        let backfilled = broker_targets::register(&worker.db, &spec).await?;
        tracing::info!(
            target = %spec.name,
            endpoint = %spec.endpoint,
            "revocations go to this broker{}",
            if backfilled > 0 {
                format!(" ({backfilled} pending revocation(s) queued for it)")
            } else {
                String::new()
            }
        );
        names.push(spec.name.clone());
        tasks.push(tokio::spawn(serve(
            worker.clone(),
            Arc::new(target),
            spec.name,
            signal.subscribe(),
        )));
    }
    Ok(Workers {
        tasks,
        targets: names,
        worker,
    })
}

/// One target's delivery loop; runs until the server stops.
async fn serve(
    worker: Arc<Worker>,
    target: Arc<Target>,
    name: String,
    mut rung: watch::Receiver<u64>,
) {
    loop {
        match worker.take_lease(&name).await {
            Ok(true) => match worker.drain(&target, &name).await {
                Ok(Drained::Empty) => {}
                Ok(Drained::More) => continue,
                Ok(Drained::LostLease) => {
                    tracing::warn!(target = %name, "another process took over this broker target");
                }
                Err(e) => tracing::warn!(target = %name, "cannot read the revocation queue: {e}"),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(target = %name, "cannot take the broker target's lease: {e}"),
        }
        tokio::select! {
            _ = rung.changed() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

enum Drained {
    /// Nothing left for now.
    Empty,
    /// A full batch was delivered; read again at once.
    More,
    /// Another process holds the target now.
    LostLease,
}

impl Worker {
    async fn take_lease(&self, target: &str) -> Result<bool, app::store::StoreError> {
        let until = now_millis() + LEASE.as_millis() as i64;
        broker_targets::lease(&self.db, target, &self.node, until).await
    }

    /// Delivers the target's pending revocations in order; a failed one is retried (with
    /// back-off) until it succeeds, because the ones after it must not overtake it.
    async fn drain(&self, target: &Target, name: &str) -> Result<Drained, app::store::StoreError> {
        let batch = deliveries::list_pending(&self.db, name, BATCH).await?;
        let mut leased_at = tokio::time::Instant::now();
        let mut failures = 0u32;
        for row in &batch {
            let revocation = &row.revocation;
            loop {
                if leased_at.elapsed() > LEASE / 3 {
                    if !self.take_lease(name).await? {
                        return Ok(Drained::LostLease);
                    }
                    leased_at = tokio::time::Instant::now();
                }
                match self.deliver(target, name, revocation).await {
                    Ok(()) => {
                        deliveries::mark_delivered(&self.db, name, revocation.id).await?;
                        let since_commit = now_millis().saturating_sub(revocation.created_at);
                        self.metrics.revocation_delivery(
                            name,
                            DeliveryResult::Delivered,
                            Some(Duration::from_millis(since_commit.max(0) as u64)),
                        );
                        if failures > 0 {
                            tracing::info!(target = %name, "the broker target recovered after {failures} failed attempt(s)");
                        }
                        failures = 0;
                        break;
                    }
                    Err(error) if !error.is_transient() => {
                        tracing::error!(
                            target = %name,
                            client_id = %revocation.client_id,
                            "a revocation needs attention, the queue goes on: {error}"
                        );
                        deliveries::set_aside(&self.db, name, revocation.id, &error.to_string())
                            .await?;
                        self.metrics
                            .revocation_delivery(name, DeliveryResult::SetAside, None);
                        failures = 0;
                        break;
                    }
                    Err(error) => {
                        failures += 1;
                        let wait = self.backoff.delay(failures);
                        tracing::warn!(
                            target = %name,
                            client_id = %revocation.client_id,
                            "could not deliver a revocation (attempt {}): {error}; retrying in {} ms",
                            row.attempts + i64::from(failures),
                            wait.as_millis()
                        );
                        let next = now_millis() + wait.as_millis() as i64;
                        deliveries::mark_failed(
                            &self.db,
                            name,
                            revocation.id,
                            &error.to_string(),
                            next,
                        )
                        .await?;
                        self.metrics
                            .revocation_delivery(name, DeliveryResult::Retry, None);
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        Ok(if batch.len() as i64 == BATCH {
            Drained::More
        } else {
            Drained::Empty
        })
    }

    /// One attempt to close `revocation`'s sessions on the target `name`. Its log lines, and the
    /// admin API's and the embedded broker's, name the target and the revocation.
    #[tracing::instrument(
        name = "revocation",
        skip_all,
        fields(target = %name, client_id = %revocation.client_id, outbox_id = revocation.id)
    )]
    async fn deliver(
        &self,
        target: &Target,
        name: &str,
        revocation: &OutboxRow,
    ) -> Result<(), DeliveryError> {
        let Some(owner) = owner(revocation) else {
            // No such id can have a session; retrying would only block the queue behind it.
            tracing::error!("an outbox row names an invalid Client ID");
            return Ok(());
        };
        match target {
            Target::Embedded(broker) => {
                embedded::deliver(
                    broker,
                    owner,
                    revocation.revision,
                    revocation.reason,
                    revocation.key_id.clone(),
                )
                .await
            }
            Target::AdminApi(api) => {
                // Every identifier the client holds on this broker, connected or not, as its
                // webhook let them in (devices of forms 2 and 3 choose their own).
                // A retirement or an expiry closes that key's sessions only; a row without its
                // key closes none rather than every one.
                let ids = match (revocation.reason.ends_one_key(), &revocation.key_id) {
                    (true, None) => Vec::new(),
                    (_, key) => {
                        device_sessions::list_identifiers(&self.db, name, &owner, key.as_deref())
                            .await?
                    }
                };
                let ids = self.out_of_scope(&owner, revocation, ids).await?;
                api.close_sessions(&self.http, &ids).await?;
                // Closed there: what was known of them goes. (The embedded broker's own tracker
                // removes its rows as its sessions end.)
                device_sessions::delete_identifiers(
                    &self.db,
                    name,
                    &owner,
                    &ids,
                    revocation.created_at,
                )
                .await?;
                Ok(())
            }
        }
    }
}

impl Worker {
    /// Of the identifiers `owner` holds on an external broker, those `revocation` must close
    /// there. An external broker cannot have a subscription taken away through its admin API,
    /// nor a session's rights changed (EMQX keeps the ACL of its authentication answer), so a
    /// change of rules closes every session, and the next CONNECT gets the new rules; a narrowed
    /// scope closes only the sessions of devices now outside it.
    async fn out_of_scope(
        &self,
        owner: &ClientRef,
        revocation: &OutboxRow,
        ids: Vec<String>,
    ) -> Result<Vec<String>, DeliveryError> {
        if revocation.reason != RevocationReason::ScopeNarrowed {
            return Ok(ids);
        }
        let Some(credential) = clients::find_credential(&self.db, owner.client_id.as_str())
            .await?
            .filter(|c| c.organization_id == owner.organization_id && c.active)
        else {
            return Ok(ids);
        };
        let Some(scope) = &credential.scope else {
            // Unrestricted since: nothing is out of scope.
            return Ok(Vec::new());
        };
        let in_scope =
            devices::list_ids_in_scope(&self.db, &credential.workspace_id, scope).await?;
        Ok(ids
            .into_iter()
            .filter(|id| !in_scope.contains(id))
            .collect())
    }
}

/// The client row a revocation concerns.
fn owner(revocation: &OutboxRow) -> Option<ClientRef> {
    Some(ClientRef {
        organization_id: revocation.organization_id.clone(),
        client_id: ClientId::parse(&revocation.client_id).ok()?,
    })
}
