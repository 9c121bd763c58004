//! What crosses the wire between the dashboard and its server functions.

use super::{
    AuditAction, BrokerKind, Capability, ClientId, ClientKey, ExpiryFilter, KeyInfo, Namespace,
    RevocationReason, Role, Scope, TopicRules,
};
use serde::{Deserialize, Serialize};

/// One client as the Clients page shows it. Never carries a key or its hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientRow {
    pub client_id: ClientId,
    pub name: String,
    pub description: String,
    pub active: bool,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// The last connect or disconnect of any of its devices.
    pub last_seen_at: Option<i64>,
    /// MQTT connections open right now.
    pub live_sessions: u32,
    /// Its latest revocation, while brokers are still being told and for a while after.
    pub revocation: Option<RevocationProgress>,
    /// The devices a restricted client serves; `None`: any device in the workspace.
    pub scope: Option<Scope>,
    /// Its topic rules, in order; empty: everything inside the namespace.
    pub topic_rules: TopicRules,
    /// Its keys, oldest first: one, or two while a rotation runs.
    pub keys: Vec<KeyInfo>,
}

/// How far a revocation (regenerate, deactivate, delete) got on its way to the brokers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationProgress {
    pub reason: RevocationReason,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Brokers that confirmed they closed the client's sessions.
    pub confirmed: u32,
    /// Brokers that must confirm.
    pub brokers: u32,
    /// Every broker confirmed.
    pub done: bool,
    /// A broker refused it in a way retrying cannot fix: `TARGET: ERROR`. It waits in Settings →
    /// Brokers for someone to fix the broker and retry; the revocations behind it went on.
    pub needs_attention: Option<String>,
}

impl RevocationProgress {
    /// The same progress without the broker's name or answer, for members who do not operate
    /// the install: they learn that a broker refused, and that an operator sees why.
    pub fn without_broker_details(mut self) -> Self {
        if self.needs_attention.is_some() {
            self.needs_attention =
                Some("a broker refused it; the operators of this Keygate see why".into());
        }
        self
    }
}

/// Settings → Brokers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerStatus {
    pub targets: Vec<BrokerTarget>,
    /// Whether external brokers can authenticate devices through the webhooks.
    pub webhooks: bool,
    /// The server's clock (Unix ms), so ages are measured against it, not the browser's.
    pub now: i64,
}

/// One broker that revocations are delivered to, as Settings → Brokers lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerTarget {
    pub name: String,
    pub kind: BrokerKind,
    /// Where it is (no credentials).
    pub endpoint: String,
    /// The Keygate process delivering to it now; `None` when no running process serves it.
    pub served_by: Option<String>,
    /// Failed attempts since the last success.
    pub failures: u32,
    pub last_success_at: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    /// Revocations it has not confirmed yet.
    pub queue_depth: u64,
    /// When the oldest of those was made.
    pub oldest_pending_at: Option<i64>,
    /// When the next attempt is due, after a failure.
    pub next_attempt_at: Option<i64>,
    /// Revocations it refused in a way retrying cannot fix, set aside so the queue goes on.
    pub needs_attention: u64,
    /// The latest of their errors.
    pub attention_error: Option<String>,
}

/// One MQTT connection of a client, as the Edit modal lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveSession {
    /// The broker holding it: `embedded:NODE` or an external broker target's name.
    pub broker: String,
    /// The client identifier the device connected with.
    pub mqtt_client_id: String,
    /// `ip:port`.
    pub source: String,
    /// Unix milliseconds.
    pub since: i64,
    /// The fingerprint of the key it authenticated with, while that key exists.
    pub key_fingerprint: Option<String>,
}

/// How the Clients page lays clients out; remembered per user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewMode {
    #[default]
    List,
    Cards,
}

impl ViewMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ViewMode::List => "list",
            ViewMode::Cards => "cards",
        }
    }

    pub fn parse(raw: &str) -> Self {
        if raw == "cards" {
            ViewMode::Cards
        } else {
            ViewMode::List
        }
    }
}

/// The column the Clients page is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    ClientId,
    Name,
    #[default]
    Created,
    LastSeen,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::ClientId,
        SortKey::Name,
        SortKey::Created,
        SortKey::LastSeen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::ClientId => "client_id",
            SortKey::Name => "name",
            SortKey::Created => "created",
            SortKey::LastSeen => "last_seen",
        }
    }

    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::ClientId => "Client ID",
            SortKey::Name => "Name",
            SortKey::Created => "Created",
            SortKey::LastSeen => "Last seen",
        }
    }
}

/// Which clients the Clients page shows by their access: all, only restricted ones (a scope of
/// devices) or only unrestricted ones (any device in the workspace).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccessFilter {
    #[default]
    All,
    Restricted,
    Unrestricted,
}

impl AccessFilter {
    pub const ALL: [AccessFilter; 3] = [
        AccessFilter::All,
        AccessFilter::Restricted,
        AccessFilter::Unrestricted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessFilter::All => "all",
            AccessFilter::Restricted => "restricted",
            AccessFilter::Unrestricted => "unrestricted",
        }
    }

    /// The filter a URL names; anything else is all clients.
    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == raw)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            AccessFilter::All => "All",
            AccessFilter::Restricted => "Restricted",
            AccessFilter::Unrestricted => "Unrestricted",
        }
    }
}

/// What the Clients page asks for: a search, an access filter, a sort and a page. Comes from the
/// URL query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientQuery {
    pub search: String,
    pub access: AccessFilter,
    pub expiry: ExpiryFilter,
    pub sort: SortKey,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
}

impl ClientQuery {
    pub const PER_PAGE: u32 = 25;
    pub const MAX_SEARCH: usize = 64;
}

/// One page of clients plus what the page needs around them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientPage {
    pub rows: Vec<ClientRow>,
    /// Clients matching the search and the access filter.
    pub total: u64,
    /// Clients in the workspace, whatever the search and filter: tells "empty workspace" from
    /// "no match".
    pub workspace_total: u64,
    pub page: u32,
    pub per_page: u32,
    pub view: ViewMode,
    /// The server's clock when it read the page (Unix ms): the expiry badges count from it, so
    /// the page hydrates with the text it was rendered with.
    pub now: i64,
}

impl ClientPage {
    pub fn page_count(&self) -> u32 {
        (self.total.div_ceil(self.per_page as u64) as u32).max(1)
    }
}

/// Where and how a device connects with a client's credentials (everything but the key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    pub client_id: ClientId,
    pub namespace: Namespace,
    pub organization_id: String,
    pub broker_host: String,
    pub broker_port: u16,
    /// Where a device publishes over HTTP with the same key (`POST {publish_url}/TOPIC`): the
    /// dashboard's own address, as the browser reached it. `None` when Keygate runs without its
    /// embedded broker, which is what HTTP publishes go into.
    pub publish_url: Option<String>,
}

impl ConnectionInfo {
    /// Form 1 (STS MQTT style): client identifier = Client ID, username = namespace.
    pub fn username_namespace(&self) -> &str {
        self.namespace.as_str()
    }

    /// Form 2 (CloudSignal style): username = `CLIENT_ID@ORGANIZATION_ID`, any client identifier.
    pub fn username_with_org(&self) -> String {
        format!("{}@{}", self.client_id, self.organization_id)
    }

    /// Form 3 (Losant style): username = Client ID, client identifier = a device id.
    pub fn username_client_id(&self) -> &str {
        self.client_id.as_str()
    }

    /// A topic inside the namespace, for the snippets.
    pub fn example_topic(&self) -> String {
        format!("{}/devices/{}/telemetry", self.namespace, self.client_id)
    }
}

/// A client as the Edit modal shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientDetails {
    pub row: ClientRow,
    pub connection: ConnectionInfo,
    pub sessions: Vec<LiveSession>,
}

/// The one response that carries a plain key: after create and after regenerate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevealedKey {
    pub row: ClientRow,
    pub key: ClientKey,
    pub connection: ConnectionInfo,
}

/// Whether a Client ID can still be had (as-you-type feedback in the Add Client modal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    Available,
    Taken,
}

/// A workspace in the switcher and in Settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceInfo {
    pub id: String,
    pub name: String,
    pub namespace: Namespace,
    pub client_count: u64,
}

/// The signed-in user and where they are: drives the header and every page guard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub organization_id: String,
    pub organization_name: String,
    /// The caller's role in the current organization.
    pub role: Role,
    /// Every organization the caller belongs to, for the header's switcher.
    pub organizations: Vec<OrganizationChoice>,
    /// Whether the caller operates the install (sees the broker targets, opens sign-up).
    pub operator: bool,
    pub workspaces: Vec<WorkspaceInfo>,
    pub current_workspace_id: String,
    pub view: ViewMode,
}

impl Me {
    pub fn current_workspace(&self) -> Option<&WorkspaceInfo> {
        self.workspaces
            .iter()
            .find(|w| w.id == self.current_workspace_id)
    }

    /// Whether the caller may do what `capability` covers in the current organization (the
    /// server decides for real; the dashboard leaves out what would be refused).
    pub fn can(&self, capability: Capability) -> bool {
        self.role.allows(capability)
    }
}

/// An organization the caller belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationChoice {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// A member of an organization, as Settings → Members lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub joined_at: i64,
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

/// An invitation as Settings → Members lists it (never its link: that is shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub state: InvitationState,
}

/// A new invitation and its one-time link, shown once to the inviter to pass on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedInvitation {
    pub invitation: InvitationRow,
    /// The path of the link (`/invite/…`); the browser puts its own origin in front.
    pub path: String,
}

/// What an invitation link's page shows before it is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub organization_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub expires_at: i64,
    pub state: InvitationState,
    /// Whether an account with the invited email exists (then accepting asks for its password).
    pub account_exists: bool,
    /// The signed-in user's email, when someone is signed in in this browser.
    pub signed_in_as: Option<String>,
}

/// Settings → Members: who is in the organization and who is invited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub members: Vec<MemberRow>,
    pub invitations: Vec<InvitationRow>,
    /// The caller's own user id, to mark "you" and offer "Leave".
    pub you: String,
    pub now: i64,
}

/// One of the signed-in user's dashboard sessions, as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// A short handle to end this one session with; never the session's id.
    pub handle: String,
    pub address: String,
    /// The browser and system, read from its User-Agent.
    pub device: String,
    pub last_active_at: i64,
    pub current: bool,
}

/// An operator of the install.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRow {
    pub email: String,
    /// The operator who named them, or `install` for whoever set the install up.
    pub named_by: String,
    pub since: i64,
}

/// Settings → Install, for operators: sign-up and who operates the install.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSettings {
    pub signup_open: bool,
    pub operators: Vec<OperatorRow>,
}

/// What a member who does not operate the install sees of revocations: their own
/// organization's, counted, without any broker's address, node or error text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationRevocations {
    /// Broker deliveries of this organization's revocations not confirmed yet.
    pub waiting: u64,
    /// When the oldest of those was made.
    pub oldest_waiting_at: Option<i64>,
    /// Deliveries a broker refused in a way retrying cannot fix; the operators see why.
    pub set_aside: u64,
    /// How many brokers revocations go to.
    pub brokers: u64,
    pub now: i64,
}

/// An entry of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the log: later events have larger ids (the Activity page's cursor).
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: AuditAction,
    pub target: String,
    /// More about the event, e.g. why an MQTT login was refused and how often; often empty.
    pub detail: String,
    pub address: String,
}

/// Settings → Activity's filters: every one that is set must match. Text filters match anywhere
/// in the field, ignoring case; times are Unix ms, `from` inclusive and `to` exclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFilter {
    /// Who: the acting user's email, or the client of an MQTT event.
    #[serde(default)]
    pub actor: String,
    /// What.
    #[serde(default)]
    pub action: Option<AuditAction>,
    /// Which client (or member, workspace…): the event's target.
    #[serde(default)]
    pub target: String,
    /// From which address.
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub from: Option<i64>,
    #[serde(default)]
    pub to: Option<i64>,
}

impl ActivityFilter {
    /// The longest text a filter field takes; longer input is cut.
    pub const MAX_TEXT: usize = 200;
    /// Events per page.
    pub const PER_PAGE: u32 = 50;
    /// The most events one CSV export holds (newest first).
    pub const MAX_EXPORT: u32 = 100_000;

    pub fn is_empty(&self) -> bool {
        *self == ActivityFilter::default()
    }
}

/// One page of the activity log, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub entries: Vec<AuditEntry>,
    /// Events matching the filters, on every page.
    pub total: u64,
    /// The cursor of the next (older) page, when there is one.
    pub older: Option<i64>,
}
