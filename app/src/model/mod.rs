//! Types both sides share: the browser validates with them as you type, the server with them for real.

pub mod access;
mod access_preview;
pub mod activity_csv;
mod api_token;
mod audit_action;
mod broker_kind;
mod checksummed;
pub mod client_export;
mod client_id;
mod client_key;
pub mod csv;
mod device_dto;
mod device_id;
mod device_paste;
mod dto;
mod event;
mod fields;
pub mod import_format;
mod key_lifetime;
mod login_activity;
mod namespace;
mod parse_error;
mod revocation_reason;
mod role;
mod scope;
mod text_enum;
pub mod time_format;
pub mod topic_filter;
mod topic_rules;
mod user_agent;

pub use access_preview::{AccessPreview, PreviewReason};
pub use api_token::{
    ApiToken, ApiTokenRow, IssuedApiToken, TOKEN_PREFIX, TokenLifetime, TokenScope,
};
pub use audit_action::AuditAction;
pub use broker_kind::BrokerKind;
pub use client_id::ClientId;
pub use client_key::{ClientKey, KEY_PREFIX};
pub use device_dto::{BulkCreated, DevicePage, DeviceQuery, DeviceRow, DeviceSortKey};
pub use device_id::{DeviceId, MAX_TAGS, Tag, parse_tags, tags_text};
pub use device_paste::{DevicePaste, MAX_PASTE, PasteLine, parse_paste};
pub use dto::*;
pub use event::{
    DeliveryState, EndpointUrl, Event, EventData, EventDeliveryRow, EventEndpointRow, EventType,
    EventTypes, IssuedEventEndpoint,
};
pub use fields::{
    ClientName, Description, DeviceName, Email, OrgName, Password, SecretInput, TokenName,
    WorkspaceName,
};
pub use import_format::{EmqxHashing, HashDigest, ImportFormat, KeySource, SaltPosition};
pub use key_lifetime::{
    ClientExpiry, DAY_MS, EXPIRING_WITHIN_MS, Expiry, ExpiryFilter, HOUR_MS, KeyInfo, KeyPolicy,
    KeyState, MAX_KEYS, RetireAfter, in_words, works_until,
};
pub use login_activity::{
    Lockout, LoginActivity, LoginFailure, LoginFailureReason, duration_words,
};
pub use namespace::Namespace;
pub use parse_error::{FieldError, ParseError, Problem};
pub use revocation_reason::RevocationReason;
pub use role::{Capability, Role};
pub use scope::{Scope, ScopeEntry, ScopeError, ScopeMode, narrows};
pub use text_enum::UnknownText;
#[cfg(test)]
pub(crate) use text_enum::assert_round_trips;
pub(crate) use text_enum::text_enum;
pub use topic_rules::{Permission, RuleAction, RuleError, TopicRule, TopicRules};
pub use user_agent::device_label;

/// One client row: its organization and its Client ID. A Client ID alone is a string another
/// organization may take up once the client is deleted; what a client owns (its sessions, the MQTT
/// client identifiers it holds, its failures) belongs to this pair.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ClientRef {
    pub organization_id: String,
    pub client_id: ClientId,
}

impl std::fmt::Display for ClientRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (organization {})",
            self.client_id, self.organization_id
        )
    }
}

/// Fills `buf` from the OS random number generator (the browser's `crypto.getRandomValues` in WASM).
pub(crate) fn random_bytes(buf: &mut [u8]) {
    getrandom::getrandom(buf)
        .expect("the operating system's random number generator is unavailable");
}
