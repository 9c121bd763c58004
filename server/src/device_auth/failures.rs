//! Failed device authentications: a back-off that bounds guessing without letting anyone lock a
//! device out, and an audit trail that a flood cannot turn into a flood of rows.
//!
//! Four counters, each with its own lock-out that doubles from `base` up to `max`:
//!
//! - per client (organization and Client ID), across all addresses: wrong keys for that client.
//!   It bounds guessing a client's key from anywhere. It does not stop an address that
//!   authenticated the client before (a "known" address, remembered for `max`): an attacker who
//!   knows a Client ID cannot keep its devices out with one wrong key per window.
//! - per client and address: wrong keys for that client from that address, so a known address
//!   cannot guess without bound either;
//! - per address, for Client IDs that do not exist: guessing names costs argon2id too (a decoy),
//!   so it is bounded per address. It never refuses a client that exists, so devices behind one
//!   NAT address whose clients were deleted cannot lock out their neighbours;
//! - per claimed name that does not exist, normalised (`identity::normalise`), so padded and
//!   invisible-character variants of one name share a counter.
//!
//! An attempt reserves its place on its counters before any argon2id work and settles it after
//! (`Throttle::begin`), so a burst sent in parallel cannot run more verifications than the
//! back-off allows. A key found in the verified-key cache was right before and skips the back-off
//! altogether: it costs no argon2id and guesses nothing.
//!
//! The first failure for a client in a window is written at once (an operator looking at the
//! activity log sees it immediately); later ones in the same window are counted and written as one
//! summary row when the window ends. That is at most two rows per client per window, however many
//! attempts arrive. Failures for Client IDs that do not exist belong to no organization and go to
//! the log only, also summarised per window.
//!
//! Every refusal of an existing client, a lock-out's included, is also tallied per client and hour
//! in memory, and each tally is added to `client_login_failures` once per window
//! (`store::login_failures`): the Edit modal's last failure and 24-hour count, one upsert per
//! client per window however many attempts arrive. The dashboard reads what is not written yet,
//! and the lock-outs, through [`app::back_off::BackOff`].
//!
//! The failure that first locks a client out (its client-wide counter past the free failures)
//! begins a burst, which goes on until the count is forgotten: it queues one
//! `client.auth_failures` credential event, however many failures the burst brings.

use super::identity::Subject;
use app::model::{AuditAction, ClientRef, Lockout, LoginFailure, LoginFailureReason};
use app::state::Bell;
use app::store::audit::{self, AuditContext};
use app::store::clients::DeviceCredential;
use app::store::event_deliveries;
use app::store::login_failures::{self, Tally};
use app::store::{Db, now_millis};
use app::throttle::{Permit, Throttle};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Addresses listed in one summary row, at most.
const MAX_ADDRESSES: usize = 5;

/// How hard the back-off bites; see [`Throttle::new`].
#[derive(Clone, Debug)]
pub struct Limits {
    /// Wrong keys per client (and per client and address) before attempts are refused.
    pub free_per_client: u32,
    /// Failed logins for Client IDs that do not exist, per source address, before such attempts
    /// from it are refused: higher, because many devices can share one address behind NAT.
    pub free_per_address: u32,
    /// The first lock-out; it doubles with each further failure.
    pub base: Duration,
    /// The longest lock-out, and how long a quiet key takes to be forgotten.
    pub max: Duration,
    /// The audit summary window.
    pub audit_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            free_per_client: 5,
            free_per_address: 20,
            base: Duration::from_secs(1),
            max: Duration::from_secs(15 * 60),
            audit_window: Duration::from_secs(60),
        }
    }
}

/// Why an attempt failed, as the audit log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// Wrong key for an existing client.
    WrongKey,
    /// The right key for a deactivated client.
    Inactive,
    /// A Last Will outside the client's namespace.
    WillOutsideNamespace,
    /// An MQTT client identifier that another client holds, or that is another client's Client ID.
    IdentifierHeld,
    /// More sessions at once than a client may hold on one broker.
    TooManySessions,
    /// A restricted client's key from a device outside its scope, or not in connection form 3.
    OutsideScope,
    /// A key of the client whose expiry has passed: refused like a wrong key, told apart here.
    ExpiredKey,
}

impl FailureKind {
    fn action(self) -> AuditAction {
        match self {
            FailureKind::WrongKey => AuditAction::MqttAuthFailed,
            FailureKind::Inactive => AuditAction::MqttRefusedInactive,
            FailureKind::WillOutsideNamespace => AuditAction::MqttRefusedWillTopic,
            FailureKind::IdentifierHeld => AuditAction::MqttRefusedIdentifier,
            FailureKind::TooManySessions => AuditAction::MqttRefusedTooManySessions,
            FailureKind::OutsideScope => AuditAction::MqttRefusedScope,
            FailureKind::ExpiredKey => AuditAction::MqttRefusedExpiredKey,
        }
    }

    /// The reason the Edit modal shows for it.
    fn reason(self) -> LoginFailureReason {
        match self {
            FailureKind::WrongKey => LoginFailureReason::WrongKey,
            FailureKind::Inactive => LoginFailureReason::Inactive,
            FailureKind::WillOutsideNamespace => LoginFailureReason::WillOutsideNamespace,
            FailureKind::IdentifierHeld => LoginFailureReason::IdentifierHeld,
            FailureKind::TooManySessions => LoginFailureReason::TooManySessions,
            FailureKind::OutsideScope => LoginFailureReason::OutsideScope,
            FailureKind::ExpiredKey => LoginFailureReason::ExpiredKey,
        }
    }

    fn what(self) -> &'static str {
        self.reason().words()
    }
}

#[derive(Debug)]
struct Pending {
    workspace_id: String,
    /// When the window of this entry began (its last row was written).
    since: Instant,
    count: u64,
    addresses: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct UnknownIds {
    count: u64,
    addresses: BTreeSet<String>,
}

#[derive(Debug)]
pub struct Failures {
    db: Db,
    limits: Limits,
    by_client: Throttle,
    by_client_address: Throttle,
    by_address: Throttle,
    by_claim: Throttle,
    /// Addresses that authenticated a client lately, and when.
    known: Mutex<HashMap<(ClientRef, IpAddr), Instant>>,
    /// Per (organization, client, kind): failures since the window's first, already written, row.
    pending: Mutex<HashMap<(String, String, FailureKind), Pending>>,
    unknown: Mutex<UnknownIds>,
    /// Per client and hour: refusals not written to `client_login_failures` yet.
    tallies: Mutex<HashMap<(ClientRef, i64), Tally>>,
    /// Rung when a burst queued its credential event.
    events: Arc<Bell>,
}

/// Known addresses remembered at most; beyond, the oldest half is forgotten.
const MAX_KNOWN: usize = 100_000;

fn client_key(client: &ClientRef) -> String {
    format!("{}/{}", client.organization_id, client.client_id)
}

fn client_address_key(client: &ClientRef, ip: IpAddr) -> String {
    format!("{}{ip}", client_address_prefix(client))
}

/// What every client + address key of `client` begins with (a Client ID holds no `@`).
fn client_address_prefix(client: &ClientRef) -> String {
    format!("{}/{}@", client.organization_id, client.client_id)
}

/// An attempt's reserved places on the counters it is subject to, settled once its key was
/// checked. Dropped unsettled (the verifier was busy), it counts for nothing.
#[derive(Debug)]
pub struct Admission<'a> {
    permits: Vec<Permit<'a>>,
    /// Counters the attempt was let past without a reservation (a known address passes the
    /// client-wide lock-out) that a failure still counts on.
    unreserved: Vec<(&'a Throttle, String)>,
}

impl Failures {
    pub fn new(db: Db, limits: Limits, events: Arc<Bell>) -> Self {
        let throttle = |free| Throttle::new(free, limits.base, limits.max);
        Self {
            by_client: throttle(limits.free_per_client),
            by_client_address: throttle(limits.free_per_client),
            by_address: throttle(limits.free_per_address),
            by_claim: throttle(limits.free_per_client),
            known: Mutex::new(HashMap::new()),
            db,
            limits,
            pending: Mutex::new(HashMap::new()),
            unknown: Mutex::new(UnknownIds::default()),
            tallies: Mutex::new(HashMap::new()),
            events,
        }
    }

    pub fn audit_window(&self) -> Duration {
        self.limits.audit_window
    }

    fn is_known(&self, client: &ClientRef, ip: IpAddr) -> bool {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known
            .get(&(client.clone(), ip))
            .is_some_and(|at| at.elapsed() < self.limits.max)
    }

    /// Reserves an attempt on every counter `subject` from `ip` is subject to, or `Err(seconds)`
    /// while one of them refuses it.
    pub fn admit(&self, subject: &Subject, ip: Option<IpAddr>) -> Result<Admission<'_>, u64> {
        let mut admission = Admission {
            permits: Vec::with_capacity(2),
            unreserved: Vec::new(),
        };
        match subject {
            Subject::Client(client) => {
                if let Some(ip) = ip {
                    admission.permits.push(
                        self.by_client_address
                            .begin(&client_address_key(client, ip))?,
                    );
                }
                let key = client_key(client);
                if ip.is_some_and(|ip| self.is_known(client, ip)) {
                    admission.unreserved.push((&self.by_client, key));
                } else {
                    admission.permits.push(self.by_client.begin(&key)?);
                }
            }
            Subject::Unknown(claim) => {
                if let Some(ip) = ip {
                    admission
                        .permits
                        .push(self.by_address.begin(&ip.to_string())?);
                }
                // No name at all (no credentials) is no name to guess: the address bounds it.
                if !claim.is_empty() {
                    admission.permits.push(self.by_claim.begin(claim)?);
                }
            }
        }
        Ok(admission)
    }

    /// Counts a failed key on every counter the attempt was admitted on, and audits it.
    pub async fn wrong_key(
        &self,
        admission: Admission<'_>,
        ip: Option<IpAddr>,
        credential: Option<&DeviceCredential>,
    ) {
        let burst = self.count(admission);
        match credential {
            Some(credential) => {
                if let Some(lock) = burst {
                    self.burst_began(credential, lock);
                }
                self.audit(credential, ip, FailureKind::WrongKey).await
            }
            None => {
                let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
                unknown.count += 1;
                if let Some(ip) = ip
                    && unknown.addresses.len() < MAX_ADDRESSES
                {
                    unknown.addresses.insert(ip.to_string());
                }
            }
        }
    }

    /// Counts a key that expired like a wrong key (a device cannot tell them apart), and audits it
    /// as what it is.
    pub async fn expired_key(
        &self,
        admission: Admission<'_>,
        ip: Option<IpAddr>,
        credential: &DeviceCredential,
    ) {
        if let Some(lock) = self.count(admission) {
            self.burst_began(credential, lock);
        }
        self.audit(credential, ip, FailureKind::ExpiredKey).await;
    }

    /// Counts a failure on every counter the attempt was admitted on. The client-wide lock it
    /// began, when it is the failure that begins a burst.
    fn count(&self, admission: Admission<'_>) -> Option<Duration> {
        let mut began = None;
        for permit in admission.permits {
            let of_client = permit.belongs_to(&self.by_client);
            let lock = permit.failed();
            if of_client {
                began = began.or(lock);
            }
        }
        for (throttle, key) in admission.unreserved {
            let lock = throttle.fail(&key);
            if std::ptr::eq(throttle, &self.by_client) {
                began = began.or(lock);
            }
        }
        began
    }

    /// A burst of wrong keys locked `credential`'s client out for `lock`: its one
    /// `client.auth_failures` event is queued beside the refusal, not before it (see
    /// [`Failures::audit`]).
    fn burst_began(&self, credential: &DeviceCredential, lock: Duration) {
        let (db, events) = (self.db.clone(), self.events.clone());
        let client = credential.client_ref();
        let workspace_id = credential.workspace_id.clone();
        let failures = self.limits.free_per_client + 1;
        tokio::spawn(async move {
            let locked_for_secs = lock.as_secs() + u64::from(lock.subsec_nanos() > 0);
            match event_deliveries::queue_auth_failures(
                &db,
                &client,
                &workspace_id,
                failures,
                locked_for_secs,
            )
            .await
            {
                Ok(true) => events.ring(),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(%client, "could not queue a client.auth_failures event: {e}")
                }
            }
        });
    }

    /// The right key for `client` from `ip`: the address becomes known for the client, and its
    /// count for the client is cleared. The client-wide count is not: its devices' successes say
    /// nothing about who is guessing elsewhere, and a known address passes it anyway.
    pub fn succeeded(
        &self,
        admission: Option<Admission<'_>>,
        client: &ClientRef,
        ip: Option<IpAddr>,
    ) {
        // Each reservation ends without counting; only the address's count for the client is
        // cleared, below.
        drop(admission);
        let Some(ip) = ip else { return };
        self.by_client_address
            .succeed(&client_address_key(client, ip));
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= MAX_KNOWN {
            let max = self.limits.max;
            known.retain(|_, at| at.elapsed() < max / 2);
        }
        known.insert((client.clone(), ip), Instant::now());
    }

    /// Audits a refusal of an existing client (first at once, the rest summarised).
    pub async fn audit(
        &self,
        credential: &DeviceCredential,
        ip: Option<IpAddr>,
        kind: FailureKind,
    ) {
        self.tally(credential.client_ref(), ip, kind.reason());
        let address = ip.map(|ip| ip.to_string()).unwrap_or_default();
        let key = (
            credential.organization_id.clone(),
            credential.client_id.as_str().to_owned(),
            kind,
        );
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = pending.get_mut(&key) {
                entry.count += 1;
                if entry.addresses.len() < MAX_ADDRESSES {
                    entry.addresses.insert(address);
                }
                return;
            }
            pending.insert(
                key,
                Pending {
                    workspace_id: credential.workspace_id.clone(),
                    since: Instant::now(),
                    count: 0,
                    addresses: BTreeSet::new(),
                },
            );
        }
        let ctx = AuditContext {
            organization_id: credential.organization_id.clone(),
            actor: "MQTT broker".into(),
            address,
        };
        // Written beside the refusal, not before it: a refusal that waited for a database write
        // only when the Client ID exists would tell a guesser which ones do, now that a wrong
        // generated key costs microseconds instead of argon2id's tens of milliseconds.
        let (db, workspace_id, client_id) = (
            self.db.clone(),
            credential.workspace_id.clone(),
            credential.client_id.as_str().to_owned(),
        );
        tokio::spawn(async move {
            if let Err(e) = audit::create(
                &db,
                &ctx,
                Some(&workspace_id),
                kind.action(),
                &client_id,
                kind.what(),
            )
            .await
            {
                tracing::warn!("could not audit a refused MQTT connect: {e}");
            }
        });
    }

    /// An attempt for `credential` the back-off refused before its key was checked: tallied for
    /// the Edit modal, not audited (a flood of them would say nothing the first refusal did not).
    pub fn locked_out(&self, credential: &DeviceCredential, ip: Option<IpAddr>) {
        self.tally(credential.client_ref(), ip, LoginFailureReason::LockedOut);
    }

    /// Counts a refusal of `client` in its hour's tally, in memory: no write, so a refusal takes
    /// as long whether or not its Client ID exists.
    fn tally(&self, client: ClientRef, ip: Option<IpAddr>, reason: LoginFailureReason) {
        let at = now_millis();
        let hour = login_failures::hour_of(at);
        let last = LoginFailure {
            at,
            address: ip.map(|ip| ip.to_string()).unwrap_or_default(),
            reason,
        };
        let mut tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        let tally = tallies
            .entry((client.clone(), hour))
            .or_insert_with(|| Tally {
                client,
                hour,
                failures: 0,
                last: last.clone(),
            });
        tally.failures += 1;
        tally.last = last;
    }

    /// `client`'s refusals tallied since the last write.
    pub fn unwritten(&self, client: &ClientRef) -> Vec<Tally> {
        let tallies = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
        tallies
            .values()
            .filter(|t| &t.client == client)
            .cloned()
            .collect()
    }

    /// What the back-off holds against `client` now: the client's own lock and its addresses'.
    pub fn lockout(&self, client: &ClientRef) -> Option<Lockout> {
        let own = client_key(client);
        let prefix = client_address_prefix(client);
        let client_lock = self.by_client.locks_matching(|key| key == own).pop();
        let addresses = self
            .by_client_address
            .locks_matching(|key| key.starts_with(&prefix));
        if client_lock.is_none() && addresses.is_empty() {
            return None;
        }
        // A lock's last partial second counts as one, as the refusal's Retry-After says.
        let secs = |d: Duration| d.as_secs() + u64::from(d.subsec_nanos() > 0);
        Some(Lockout {
            client_secs: client_lock.map(secs),
            addresses: addresses.len() as u32,
            address_secs: addresses.into_iter().map(secs).max().unwrap_or(0),
        })
    }

    /// Ends `client`'s lock-out now: its own count and every address's count for it are
    /// forgotten, as if their last attempts had succeeded. What was locked before.
    pub fn clear_lockout(&self, client: &ClientRef) -> Option<Lockout> {
        let before = self.lockout(client);
        let own = client_key(client);
        let prefix = client_address_prefix(client);
        self.by_client.clear_matching(|key| key == own);
        self.by_client_address
            .clear_matching(|key| key.starts_with(&prefix));
        before
    }

    /// Writes the summaries of windows that have ended. Runs every window.
    pub async fn flush(&self) {
        self.write_summaries(false).await;
    }

    /// Writes every summary, ended or not (at shutdown).
    pub async fn flush_all(&self) {
        self.write_summaries(true).await;
    }

    async fn write_summaries(&self, ended: bool) {
        self.write_tallies().await;
        let window = self.limits.audit_window.as_secs().max(1);
        let summaries: Vec<_> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let mut summaries = Vec::new();
            // Only windows that have run their full length end: an entry begun just before this
            // flush keeps collecting, so one window never writes more than one summary.
            pending.retain(|key, p| {
                if !ended && p.since.elapsed() < self.limits.audit_window {
                    return true;
                }
                if p.count == 0 {
                    return false;
                }
                summaries.push((
                    key.clone(),
                    p.workspace_id.clone(),
                    p.count,
                    std::mem::take(&mut p.addresses),
                ));
                p.count = 0;
                p.since = Instant::now();
                !ended
            });
            summaries
        };
        for ((organization_id, client_id, kind), workspace_id, count, addresses) in summaries {
            let addresses: Vec<_> = addresses.into_iter().filter(|a| !a.is_empty()).collect();
            let ctx = AuditContext {
                organization_id,
                actor: "MQTT broker".into(),
                address: addresses.first().cloned().unwrap_or_default(),
            };
            let detail = format!(
                "{} more ({}) in {window} s from {}",
                count,
                kind.what(),
                if addresses.is_empty() {
                    "unknown addresses".into()
                } else {
                    addresses.join(", ")
                }
            );
            if let Err(e) = audit::create(
                &self.db,
                &ctx,
                Some(&workspace_id),
                kind.action(),
                &client_id,
                &detail,
            )
            .await
            {
                tracing::warn!("could not audit refused MQTT connects: {e}");
            }
        }
        let unknown = std::mem::take(&mut *self.unknown.lock().unwrap_or_else(|e| e.into_inner()));
        if unknown.count > 0 {
            tracing::warn!(
                attempts = unknown.count,
                addresses = ?unknown.addresses,
                "failed MQTT logins for Client IDs that do not exist in the last {window} s"
            );
        }
    }

    /// Adds every tally held to the store, one upsert per client and hour, and forgets it. A
    /// write that fails puts its tallies back, to be tried with the next window's.
    async fn write_tallies(&self) {
        let tallies: Vec<Tally> = {
            let mut held = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
            held.drain().map(|(_, tally)| tally).collect()
        };
        if tallies.is_empty() {
            return;
        }
        if let Err(e) = login_failures::record(&self.db, &tallies).await {
            tracing::warn!(
                "could not write the refused logins of {} client(s): {e}",
                tallies.len()
            );
            let mut held = self.tallies.lock().unwrap_or_else(|e| e.into_inner());
            for tally in tallies {
                match held.entry((tally.client.clone(), tally.hour)) {
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(tally);
                    }
                    std::collections::hash_map::Entry::Occupied(mut slot) => {
                        // Refusals counted meanwhile are later than the ones put back.
                        slot.get_mut().failures += tally.failures;
                    }
                }
            }
        }
    }
}
