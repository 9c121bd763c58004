//! Failed device authentications: a growing back-off per Client ID and per source address, and an
//! audit trail that a flood cannot turn into a flood of rows.
//!
//! The first failure for a client in a window is written at once (an operator looking at the
//! activity log sees it immediately); later ones in the same window are counted and written as one
//! summary row when the window ends. That is at most two rows per client per window, however many
//! attempts arrive. Failures for Client IDs that do not exist belong to no organization and go to
//! the log only, also summarised per window.

use app::store::Db;
use app::store::audit::{self, AuditContext};
use app::store::clients::DeviceCredential;
use app::throttle::Throttle;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses listed in one summary row, at most.
const MAX_ADDRESSES: usize = 5;

/// How hard the back-off bites; see [`Throttle::new`].
#[derive(Clone, Debug)]
pub struct Limits {
    /// Failures per Client ID before attempts are refused.
    pub free_per_client: u32,
    /// Failures per source address before attempts are refused: higher, because many devices can
    /// share one address behind NAT.
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
}

impl FailureKind {
    fn action(self) -> &'static str {
        match self {
            FailureKind::WrongKey => "mqtt.auth_failed",
            FailureKind::Inactive => "mqtt.refused_inactive",
            FailureKind::WillOutsideNamespace => "mqtt.refused_will_topic",
        }
    }

    fn what(self) -> &'static str {
        match self {
            FailureKind::WrongKey => "wrong key",
            FailureKind::Inactive => "client is inactive",
            FailureKind::WillOutsideNamespace => "Last Will topic outside the namespace",
        }
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
    by_address: Throttle,
    /// Per (organization, client, kind): failures since the window's first, already written, row.
    pending: Mutex<HashMap<(String, String, FailureKind), Pending>>,
    unknown: Mutex<UnknownIds>,
}

fn client_key(claimed_id: &str) -> String {
    format!("client:{claimed_id}")
}

fn address_key(ip: IpAddr) -> String {
    format!("address:{ip}")
}

impl Failures {
    pub fn new(db: Db, limits: Limits) -> Self {
        Self {
            by_client: Throttle::new(limits.free_per_client, limits.base, limits.max),
            by_address: Throttle::new(limits.free_per_address, limits.base, limits.max),
            db,
            limits,
            pending: Mutex::new(HashMap::new()),
            unknown: Mutex::new(UnknownIds::default()),
        }
    }

    pub fn audit_window(&self) -> Duration {
        self.limits.audit_window
    }

    /// `Err(seconds)` while either the claimed Client ID or the address is locked out.
    pub fn check(&self, claimed_id: &str, ip: Option<IpAddr>) -> Result<(), u64> {
        self.by_client.check(&client_key(claimed_id))?;
        if let Some(ip) = ip {
            self.by_address.check(&address_key(ip))?;
        }
        Ok(())
    }

    /// Counts a failed key for the back-off, and audits it.
    pub async fn wrong_key(
        &self,
        claimed_id: &str,
        ip: Option<IpAddr>,
        credential: Option<&DeviceCredential>,
    ) {
        self.by_client.fail(&client_key(claimed_id));
        if let Some(ip) = ip {
            self.by_address.fail(&address_key(ip));
        }
        match credential {
            Some(credential) => self.audit(credential, ip, FailureKind::WrongKey).await,
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

    /// Clears the Client ID's back-off after a success. The address keeps its count: one device's
    /// success says nothing about the others behind the same address.
    pub fn succeeded(&self, client_id: &str) {
        self.by_client.succeed(&client_key(client_id));
    }

    /// Audits a refusal of an existing client (first at once, the rest summarised).
    pub async fn audit(
        &self,
        credential: &DeviceCredential,
        ip: Option<IpAddr>,
        kind: FailureKind,
    ) {
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
        if let Err(e) = audit::create_standalone(
            &self.db,
            &ctx,
            Some(&credential.workspace_id),
            kind.action(),
            credential.client_id.as_str(),
            kind.what(),
        )
        .await
        {
            tracing::warn!("could not audit a refused MQTT connect: {e}");
        }
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
            if let Err(e) = audit::create_standalone(
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
}
