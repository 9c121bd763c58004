//! Who holds each MQTT client identifier on a broker. A broker keeps one session per identifier and
//! hands it (its subscriptions, its queued messages) to the next CONNECT that names it, so the
//! identifier must belong to one client row at a time, decided as authentication ends, atomically:
//! two CONNECTs racing for one identifier cannot both win it.
//!
//! Every broker path keeps such a record and lets [`crate::device_auth::DeviceAuth`] claim from it:
//! the embedded broker in memory (`broker::sessions`; it sees every session begin and end), the
//! webhooks in the store's `device_sessions` ([`StoreSessions`]; an external broker is another
//! process, possibly a cluster, and its sessions must outlive a Keygate restart).

use super::Refusal;
use app::model::ClientRef;
use app::store::Db;
use app::store::device_sessions::{self, Claimed, SeenDevice};
use async_trait::async_trait;
use std::net::IpAddr;
use std::time::Instant;

/// A claim on an identifier, made once the key is right and the client may connect.
#[derive(Clone, Copy, Debug)]
pub struct SessionClaim<'a> {
    pub identifier: &'a str,
    pub owner: &'a ClientRef,
    /// The key it authenticated with.
    pub key_id: &'a str,
    pub source: Option<IpAddr>,
    /// When the CONNECT's authentication began.
    pub began: Instant,
    /// How many identifiers one client may hold on one broker.
    pub max_per_client: u32,
    /// The device the session is (connection form 3), to record as seen.
    pub device: Option<&'a SeenDevice>,
}

/// A broker path's record of sessions.
#[async_trait]
pub trait SessionRegistry: Send + Sync {
    /// Makes `claim.identifier` the owner's: `Err(Refusal::IdentifierInUse)` when another client
    /// row holds it, `Err(Refusal::TooManySessions)` past the owner's limit.
    async fn claim(&self, claim: &SessionClaim<'_>) -> Result<(), Refusal>;
}

/// The sessions of an external broker, in the store: claimed when its webhook lets a CONNECT in.
#[derive(Clone, Debug)]
pub struct StoreSessions {
    pub db: Db,
    /// The broker target's name.
    pub broker: String,
}

#[async_trait]
impl SessionRegistry for StoreSessions {
    async fn claim(&self, claim: &SessionClaim<'_>) -> Result<(), Refusal> {
        let source = claim.source.map(|ip| ip.to_string()).unwrap_or_default();
        let claimed = device_sessions::claim(
            &self.db,
            &device_sessions::Claim {
                broker: &self.broker,
                mqtt_client_id: claim.identifier,
                owner: claim.owner,
                key_id: claim.key_id,
                source: &source,
                device: claim.device,
            },
            claim.max_per_client,
        )
        .await?;
        match claimed {
            Claimed::Yes => Ok(()),
            Claimed::HeldByAnother => Err(Refusal::IdentifierInUse),
            Claimed::TooMany => Err(Refusal::TooManySessions),
        }
    }
}
