//! Server functions for a client's keys: rotate (a second key that works at once, the current one
//! retiring later), retire a key now, change a key's expiry, and the organization's default
//! expiry for new keys. Parse → call `use_cases::clients` → map, scoped to the caller's
//! organization like every client function.

use crate::error::AppError;
use crate::model::{ClientRow, RevealedKey, SecretInput};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::error::AppError;
    use crate::model::Expiry;

    /// An expiry as a form sends it: empty for the organization's default, else `never`, a number
    /// of days or a date still to come.
    pub fn expiry(text: &str) -> Result<Option<Expiry>, AppError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(Expiry::parse(text, crate::store::now_millis())?))
    }
}

/// Rotates a client's key: `key` (generated or typed) works when this returns and is revealed
/// this once; the current key keeps working until `retire` (`1h`, `24h`, `7d` or a date), then
/// its sessions close on every broker. `expiry` is the new key's (empty: the organization's
/// default).
#[server(prefix = "/api", endpoint = "clients/rotate_key")]
pub async fn rotate_key(
    client_id: String,
    key: SecretInput,
    retire: String,
    #[server(default)] expiry: String,
) -> Result<RevealedKey, AppError> {
    use crate::model::{ClientKey, RetireAfter};
    use crate::use_cases::clients::{self, Rotation};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = crate::api::clients::ssr::existing_id(&client_id)?;
    let rotation = Rotation {
        key: ClientKey::parse(key.expose())?,
        expiry: ssr::expiry(&expiry)?,
        retire: RetireAfter::parse(&retire, crate::store::now_millis())?,
    };
    let issued = clients::rotate(&state, &caller.actor(), &id, rotation).await?;
    crate::api::clients::ssr::reveal(&caller, issued)
}

/// Retires key `key_id` of a client now: it stops verifying, and its sessions close on every
/// broker. Refused for the client's only working key.
#[server(prefix = "/api", endpoint = "clients/retire_key")]
pub async fn retire_key(client_id: String, key_id: String) -> Result<ClientRow, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = crate::api::clients::ssr::existing_id(&client_id)?;
    let row = crate::use_cases::clients::retire_key(&state, &caller.actor(), &id, &key_id)
        .await
        .map_err(AppError::missing_key)?;
    Ok(crate::api::clients::ssr::shown(&caller, row))
}

/// Sets when key `key_id` of a client expires: `never`, a number of days, or a date.
#[server(prefix = "/api", endpoint = "clients/set_key_expiry")]
pub async fn set_key_expiry(
    client_id: String,
    key_id: String,
    expiry: String,
) -> Result<ClientRow, AppError> {
    use crate::model::Expiry;
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let id = crate::api::clients::ssr::existing_id(&client_id)?;
    let expiry = Expiry::parse(&expiry, crate::store::now_millis())?;
    let row =
        crate::use_cases::clients::set_key_expiry(&state, &caller.actor(), &id, &key_id, expiry)
            .await
            .map_err(AppError::missing_key)?;
    Ok(crate::api::clients::ssr::shown(&caller, row))
}

/// How many days new keys of the caller's organization work for by default (`None`: never
/// expire), and how many keys of the current workspace expire within 7 days (the header's count).
#[server(prefix = "/api", endpoint = "keys/policy")]
pub async fn key_policy() -> Result<crate::model::KeyPolicy, AppError> {
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let actor = caller.actor();
    Ok(crate::model::KeyPolicy {
        default_days: crate::use_cases::clients::default_key_days(&state, &actor).await?,
        expiring: crate::use_cases::clients::count_expiring(&state, &caller.workspace).await?,
    })
}

/// Sets how long new keys of the caller's organization work by default: `never` or a number of
/// days (1 to 3650).
#[server(prefix = "/api", endpoint = "keys/set_default_expiry")]
pub async fn set_default_key_expiry(expiry: String) -> Result<(), AppError> {
    use crate::model::{Expiry, FieldError, ParseError, Problem};
    let caller = crate::auth::caller().await?;
    let state = crate::auth::state()?;
    let days = match Expiry::parse(&expiry, crate::store::now_millis())? {
        Expiry::Never => None,
        Expiry::Days(days) => Some(days),
        // A default counts from each key's creation; a date is not a duration.
        Expiry::On(_) => return Err(ParseError::new(FieldError::KeyExpiry, Problem::Shape).into()),
    };
    crate::use_cases::clients::set_default_key_days(&state, &caller.actor(), days)
        .await
        .map_err(Into::into)
}
