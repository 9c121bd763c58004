//! Who a CONNECT claims to be. Three shapes, one per system our users come from:
//!
//! 1. client identifier = Client ID, username = the workspace namespace (STS MQTT);
//! 2. username = `CLIENT_ID@ORGANIZATION_ID`, any client identifier (CloudSignal);
//! 3. username = Client ID, client identifier = a device id (Losant access keys).
//!
//! Shapes 1 and 3 both have a bare username. Namespaces and Client IDs share one name space
//! (`store::mqtt_usernames`), so a bare username names a namespace or a client, never both, and
//! that decides the shape. Every string is compared exactly as it arrived.

use app::model::{ClientId, ClientRef};
use app::secrets;
use app::store::client_keys::StoredKey;
use app::store::clients::{self, DeviceCredential};
use app::store::mqtt_usernames::UsernameKind;
use app::store::{Db, StoreResult};

/// What a CONNECT claims, for the back-off: the client it resolved to, or the claimed name when
/// none resolves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Client(ClientRef),
    /// No client by that name. The name is normalised ([`normalise`]), so that padded and
    /// invisible-character variants of one name share one counter.
    Unknown(String),
}

/// Which of the three shapes a CONNECT took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// 1: username = namespace, client identifier = Client ID.
    Namespace,
    /// 2: username = `CLIENT_ID@ORGANIZATION_ID`.
    WithOrganization,
    /// 3: username = Client ID, client identifier = a device id.
    ClientId,
}

/// The client a CONNECT names, if any.
#[derive(Debug)]
pub struct Resolved {
    pub subject: Subject,
    pub credential: Option<DeviceCredential>,
    /// The shape, when the username named something.
    pub form: Option<Form>,
}

/// Finds the client a CONNECT names, by the three shapes above.
pub async fn resolve(db: &Db, username: &str, client_identifier: &str) -> StoreResult<Resolved> {
    let (claimed, credential, form) =
        if let Some((client_id, organization_id)) = username.split_once('@') {
            let credential = clients::find_credential(db, client_id)
                .await?
                .filter(|c| c.organization_id == organization_id);
            (client_id, credential, Some(Form::WithOrganization))
        } else {
            match clients::find_credential_by_username(db, username, client_identifier).await? {
                Some((UsernameKind::Namespace, credential)) => {
                    (client_identifier, credential, Some(Form::Namespace))
                }
                Some((UsernameKind::Client, credential)) => {
                    (username, credential, Some(Form::ClientId))
                }
                None => (username, None, None),
            }
        };
    Ok(Resolved {
        subject: match &credential {
            Some(c) => Subject::Client(c.client_ref()),
            None => Subject::Unknown(normalise(claimed)),
        },
        credential,
        form,
    })
}

/// The client `credential` is now, if it is still the same client and still has `key`, working:
/// a key verified against what the client was when first read must not count once it changed
/// (regenerated, retired, expired). The same key's hash upgraded meanwhile by another connect of
/// the same key is the same key: to its fast form (checked here, cheaply), or from an imported
/// hash to argon2id. Only an upgrade rewrites a key's hash, and only from the hash it verified
/// (`client_keys::upgrade_hash`), so a key row whose imported hash is gone was upgraded.
pub async fn reread(
    db: &Db,
    credential: &DeviceCredential,
    key: &StoredKey,
    presented: &[u8],
) -> StoreResult<Option<DeviceCredential>> {
    let now = app::store::now_millis();
    Ok(clients::find_credential(db, credential.client_id.as_str())
        .await?
        .filter(|current| {
            current.organization_id == credential.organization_id
                && current.key(&key.id).is_some_and(|k| {
                    k.works_at(now)
                        && (k.hash == key.hash
                            || (secrets::is_fast_hash(&k.hash)
                                && secrets::verify_fast_or_decoy(presented, Some(&k.hash)))
                            || matches!(
                                secrets::HashKind::of(&key.hash),
                                secrets::HashKind::Imported(_)
                            ))
                })
        }))
}

/// The client whose Client ID `identifier` is, if it is one: a Client ID used as an MQTT client
/// identifier is reserved for that client.
pub async fn reserved_for(db: &Db, identifier: &str) -> StoreResult<Option<ClientRef>> {
    let Some(id) = ClientId::parse_exact(identifier) else {
        return Ok(None);
    };
    Ok(clients::find_credential(db, id.as_str())
        .await?
        .map(|c| c.client_ref()))
}

/// A claimed name as the back-off counts it: without surrounding or embedded whitespace, control
/// characters and invisible formatting characters (zero-width spaces and joiners, the byte-order
/// mark, soft hyphens), so `" c-1"`, `"c-1\t"`, `"\u{a0}c-1"` and `"c-1\u{200b}"` are one name.
pub fn normalise(claimed: &str) -> String {
    claimed
        .chars()
        .filter(|c| !(c.is_whitespace() || c.is_control() || is_invisible(*c)))
        .collect()
}

/// Characters that print as nothing (Unicode `Default_Ignorable_Code_Point`s that matter here).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff0}'..='\u{fff8}' | '\u{e0000}'..='\u{e0fff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_and_invisible_variants_normalise_to_one_name() {
        for variant in [
            " c-1",
            "c-1\t",
            "\u{a0}c-1",
            "c-1\u{200b}",
            "\u{feff}c-1",
            "c-\u{2060}1",
            "c-1\r\n",
        ] {
            assert_eq!(normalise(variant), "c-1", "{variant:?}");
        }
        assert_eq!(normalise("Sensor_01"), "Sensor_01", "case is kept");
    }
}
