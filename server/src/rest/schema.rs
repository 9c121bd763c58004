//! The REST API's bodies: what it answers with and what it accepts. They are the API's contract,
//! versioned with it, so they are their own types rather than the dashboard's: the dashboard may
//! change its views without breaking a script. Times are RFC 3339 in UTC.

use app::model::time_format::iso8601;
use app::model::{ClientRow, KeyInfo, LiveSession, WorkspaceInfo};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A client: a credential devices connect with. Never its key or its hash.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Client {
    pub client_id: String,
    pub workspace_id: String,
    pub name: String,
    pub description: String,
    /// Whether its devices may connect.
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// When a device last connected with it.
    pub last_seen_at: Option<String>,
    /// Sessions connected with it now, on every broker.
    pub live_sessions: u32,
    /// The devices it is limited to (device ids and `tag:` entries); `null`: any device of its
    /// workspace.
    pub scope: Option<Vec<String>>,
    /// What its devices may publish and subscribe to, in order: the first rule that matches
    /// decides; without one, anything inside the namespace is allowed.
    pub topic_rules: Vec<TopicRule>,
    /// Its keys (at most two while one rotates).
    pub keys: Vec<Key>,
}

impl Client {
    pub fn from_row(row: ClientRow, workspace_id: &str) -> Self {
        Client {
            client_id: row.client_id.to_string(),
            workspace_id: workspace_id.to_owned(),
            name: row.name,
            description: row.description,
            active: row.active,
            created_at: iso8601(row.created_at),
            updated_at: iso8601(row.updated_at),
            last_seen_at: row.last_seen_at.map(iso8601),
            live_sessions: row.live_sessions,
            scope: row
                .scope
                .map(|scope| scope.entries().map(|e| e.to_string()).collect()),
            topic_rules: row.topic_rules.iter().map(TopicRule::from).collect(),
            keys: row.keys.into_iter().map(Key::from).collect(),
        }
    }
}

/// One topic rule.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicRule {
    /// `allow` or `deny`.
    pub permission: String,
    /// `publish`, `subscribe` or `both`.
    pub action: String,
    /// A topic filter inside the namespace; `{client_id}` and `{device_id}` stand for the
    /// Client ID and the device's MQTT client identifier.
    pub filter: String,
}

impl From<&app::model::TopicRule> for TopicRule {
    fn from(rule: &app::model::TopicRule) -> Self {
        TopicRule {
            permission: rule.permission.as_str().to_owned(),
            action: rule.action.as_str().to_owned(),
            filter: rule.filter.clone(),
        }
    }
}

/// One of a client's keys, without the key.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Key {
    pub id: String,
    /// Eight hex digits that tell keys apart (for a generated key, the start of its SHA-256).
    pub fingerprint: String,
    pub created_at: String,
    /// When it stops working; `null`: never.
    pub ends_at: Option<String>,
    /// Whether that end is a rotation's rather than an expiry.
    pub retiring: bool,
    pub last_used_at: Option<String>,
    pub last_address: Option<String>,
}

impl From<KeyInfo> for Key {
    fn from(key: KeyInfo) -> Self {
        Key {
            id: key.id,
            fingerprint: key.fingerprint,
            created_at: iso8601(key.created_at),
            ends_at: key.ends_at.map(iso8601),
            retiring: key.retiring,
            last_used_at: key.last_used_at.map(iso8601),
            last_address: key.last_address,
        }
    }
}

/// A page of a workspace's clients.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientList {
    pub data: Vec<Client>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many clients match the search and filters.
    pub total: u64,
}

/// How a list of clients is searched, filtered, sorted and paged.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Matches Client IDs and names containing it, case-insensitively.
    pub search: Option<String>,
    /// `client_id` (the default), `name`, `created_at` or `last_seen_at`.
    pub sort: Option<String>,
    /// `asc` (the default) or `desc`.
    pub order: Option<String>,
    /// `all` (the default), `restricted` (limited to some devices) or `unrestricted`.
    pub access: Option<String>,
    /// `all` (the default), `expiring` (every working key ends within 7 days) or `expired`.
    pub expiry: Option<String>,
    /// Clients per page, 1 to 200; 50 by default.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page. The search, filters and sort are the cursor's;
    /// repeating them is allowed, changing them is an error.
    pub cursor: Option<String>,
}

/// A new client.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// Its Client ID: unique across Keygate, and its devices' MQTT username or client identifier.
    pub client_id: String,
    /// A name for people; the Client ID when left out.
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Its key (`kgk_…`, or 16 to 256 characters of your own); a key is generated when left out
    /// and answered this once.
    pub key: Option<String>,
    /// The devices it is limited to (device ids and `tag:` entries); any device of the workspace
    /// when left out or `null`.
    pub scope: Option<Vec<String>>,
    /// When its key expires: `never`, a number of days, or a date (`YYYY-MM-DD`, UTC); the
    /// organization's default when left out.
    pub expiry: Option<String>,
}

/// A change of a client: only the fields sent change.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientChange {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The devices it is limited to; `null`: any device of its workspace. A narrower scope
    /// disconnects the sessions it no longer allows, on every broker.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub scope: Option<Option<Vec<String>>>,
    /// Its topic rules, all of them, in order (`[]`: none). A change that narrows access
    /// re-decides its sessions on every broker.
    pub topic_rules: Option<Vec<TopicRule>>,
}

/// A field that is present, `null` included: `Some(None)` for `null`, and (with `default`) `None`
/// for a field left out.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A new key for a client, replacing every key it has.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// The key; generated when left out, and answered this once.
    pub key: Option<String>,
    /// When it expires: `never`, a number of days, or a date; the organization's default when
    /// left out.
    pub expiry: Option<String>,
}

/// A rotation: a second key that works at once, while the current one works until `retire`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// The new key; generated when left out, and answered this once.
    pub key: Option<String>,
    /// When the new key expires: `never`, a number of days, or a date; the organization's
    /// default when left out.
    pub expiry: Option<String>,
    /// When the current key stops working: `1h`, `24h`, `7d`, or a date (`YYYY-MM-DD`, UTC).
    pub retire: String,
}

/// A client with a key just set.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedClient {
    pub client: Client,
    /// The generated key, this once: Keygate keeps only its hash. `null` when the key was sent
    /// in the request, and on an idempotent replay (only the first answer carries it).
    pub key: Option<String>,
    /// Where its devices connect.
    pub connection: Connection,
}

/// Where a client's devices connect, and the usernames they may use.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Connection {
    pub mqtt_host: String,
    pub mqtt_port: u16,
    /// Its workspace's namespace: the username with the Client ID as MQTT client identifier,
    /// and the first level of its topics.
    pub namespace: String,
    /// The username `CLIENT_ID@ORGANIZATION_ID`, with any MQTT client identifier.
    pub username_with_organization: String,
}

/// A client and where its devices connect.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientDetails {
    pub client: Client,
    pub connection: Connection,
}

/// A session connected with a client now.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Session {
    /// The broker it is connected to.
    pub broker: String,
    pub mqtt_client_id: String,
    /// The device's address as the broker saw it.
    pub source: String,
    pub since: String,
    /// The fingerprint of the key it authenticated with.
    pub key_fingerprint: Option<String>,
}

impl From<LiveSession> for Session {
    fn from(session: LiveSession) -> Self {
        Session {
            broker: session.broker,
            mqtt_client_id: session.mqtt_client_id,
            source: session.source,
            since: iso8601(session.since),
            key_fingerprint: session.key_fingerprint,
        }
    }
}

/// A list of sessions.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    pub data: Vec<Session>,
}

/// A workspace: a set of clients whose devices share a topic namespace.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub namespace: String,
    pub client_count: u64,
}

impl From<WorkspaceInfo> for Workspace {
    fn from(workspace: WorkspaceInfo) -> Self {
        Workspace {
            id: workspace.id,
            name: workspace.name,
            namespace: workspace.namespace.to_string(),
            client_count: workspace.client_count,
        }
    }
}

/// The workspaces a token reaches.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceList {
    pub data: Vec<Workspace>,
}

/// The file an export writes.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (the default) or `json`.
    pub format: Option<String>,
}

/// A file of clients to preview or import into a workspace.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// What the file is: `keygate-generated` (Keygate's export, a key generated for each
    /// client), `keygate-given` (the same with a `key` column), `mosquitto-password-file`,
    /// `mosquitto-dynsec`, or an EMQX user export with how EMQX hashed it: `emqx:plain`,
    /// `emqx:bcrypt`, `emqx:sha256:suffix` (EMQX's default; also `md5`, `sha`, `sha512`, and
    /// `prefix` or `disable` for the salt), `emqx:pbkdf2:sha256:4096`.
    pub format: String,
    /// The file's text (at most 1 MiB).
    pub content: String,
    /// Check the file and answer what it holds, creating nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What an import found or did.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    pub dry_run: bool,
    /// How many clients were created: 0 for a dry run.
    pub created: usize,
    /// For a dry run, the clients the file would create, with where each is in the file.
    pub clients: Vec<ImportedClient>,
    /// The keys generated for the clients created (`keygate-generated`), this once.
    pub keys: Vec<IssuedKey>,
}

/// A client a file holds.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportedClient {
    /// `line 3`, or `client 2` of a JSON file.
    pub position: String,
    pub client_id: String,
}

/// A key generated for a client an import created.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedKey {
    pub client_id: String,
    pub key: String,
}
