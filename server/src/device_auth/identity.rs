//! Who a CONNECT claims to be. Three shapes, one per system our users come from:
//!
//! 1. client identifier = Client ID, username = the workspace namespace (STS MQTT);
//! 2. username = `CLIENT_ID@ORGANIZATION_ID`, any client identifier (CloudSignal);
//! 3. username = Client ID, client identifier = a device id (Losant access keys).
//!
//! Shapes 1 and 3 both have a bare username, so the store decides: a client named by the client
//! identifier whose namespace is the username is shape 1; otherwise the username is the Client ID.

use app::store::clients::{self, DeviceCredential};
use app::store::{Db, StoreResult};

/// What the CONNECT says, before any key is checked.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    pub username: &'a str,
    pub client_identifier: &'a str,
}

/// The client a CONNECT names, if any, and the Client ID it claimed (what the back-off is keyed
/// on, whether or not such a client exists).
#[derive(Debug)]
pub struct Resolved {
    pub claimed_id: String,
    pub credential: Option<DeviceCredential>,
}

/// Finds the client a CONNECT names, by the three shapes above.
pub async fn resolve(db: &Db, claim: Claim<'_>) -> StoreResult<Resolved> {
    if let Some((client_id, organization_id)) = claim.username.split_once('@') {
        let credential = clients::credential(db, client_id)
            .await?
            .filter(|c| c.organization_id == organization_id);
        return Ok(Resolved {
            claimed_id: client_id.to_owned(),
            credential,
        });
    }
    if let Some(credential) = clients::credential(db, claim.client_identifier)
        .await?
        .filter(|c| c.namespace == claim.username)
    {
        return Ok(Resolved {
            claimed_id: claim.client_identifier.to_owned(),
            credential: Some(credential),
        });
    }
    Ok(Resolved {
        claimed_id: claim.username.to_owned(),
        credential: clients::credential(db, claim.username).await?,
    })
}
