//! What a client's devices fail at: its refused logins (the store's hours and what the back-off
//! counted since it last wrote them) and its lock-out, which an owner or admin can clear. Every
//! function is scoped to the acting organization: another organization's client is
//! [`StoreError::NotFound`], exactly like a missing one.
//!
//! [`StoreError::NotFound`]: crate::store::StoreError::NotFound

use crate::model::{
    AuditAction, Capability, ClientId, ClientRef, Lockout, LoginActivity, duration_words,
};
use crate::state::AppState;
use crate::store::{audit, clients, login_failures, now_millis};
use crate::use_cases::Actor;
use crate::use_cases::clients::ClientError;

/// How far back "failures in the last 24 hours" looks.
const DAY_MS: i64 = 24 * login_failures::HOUR_MS;

/// The login activity of a client of `organization_id`.
#[tracing::instrument(level = "debug", skip_all, fields(client_id = %id))]
pub async fn get(
    state: &AppState,
    organization_id: &str,
    id: &ClientId,
) -> Result<LoginActivity, ClientError> {
    let record = clients::get(&state.db, organization_id, id).await?;
    let client = ClientRef {
        organization_id: record.organization_id,
        client_id: id.clone(),
    };
    let mut activity = read(state, &client).await?;
    activity.last_success = last_success(&record.row.keys);
    Ok(activity)
}

/// The latest use of any of the client's keys: each key's last successful login is kept with it.
fn last_success(keys: &[crate::model::KeyInfo]) -> Option<(i64, String)> {
    keys.iter()
        .filter_map(|k| Some((k.last_used_at?, k.last_address.clone().unwrap_or_default())))
        .max_by_key(|(at, _)| *at)
}

/// Ends the back-off's lock-out of a client of the actor's organization, in this process: its own
/// count and each address's count for it, so a device with the right key gets in at its next
/// attempt. Audited, with what was locked. Its login activity after.
#[tracing::instrument(skip_all, fields(client_id = %id))]
pub async fn clear_lockout(
    state: &AppState,
    actor: &Actor,
    id: &ClientId,
) -> Result<LoginActivity, ClientError> {
    let by = actor.require(Capability::ManageClients)?;
    let record = clients::get(&state.db, &by.organization_id, id).await?;
    let client = ClientRef {
        organization_id: record.organization_id,
        client_id: id.clone(),
    };
    // Audited first: a lock-out cleared always leaves its trace, even if nothing after it works.
    let detail = lifted(state.back_off.lockout(&client).as_ref());
    audit::create(
        &state.db,
        &by,
        Some(&record.workspace_id),
        AuditAction::ClientLockoutCleared,
        id.as_str(),
        &detail,
    )
    .await?;
    state.back_off.clear_lockout(&client);
    let mut activity = read(state, &client).await?;
    activity.last_success = last_success(&record.row.keys);
    Ok(activity)
}

/// The activity log's words for what clearing lifted.
fn lifted(lockout: Option<&Lockout>) -> String {
    let Some(lockout) = lockout else {
        return "no lock was on; its failure counts were reset".to_owned();
    };
    let mut parts = Vec::new();
    if let Some(secs) = lockout.client_secs {
        parts.push(format!("the client's lock ({} left)", duration_words(secs)));
    }
    match lockout.addresses {
        0 => {}
        1 => parts.push(format!(
            "1 address's lock ({} left)",
            duration_words(lockout.address_secs)
        )),
        n => parts.push(format!(
            "{n} addresses' locks (up to {} left)",
            duration_words(lockout.address_secs)
        )),
    }
    format!("lifted {}", parts.join(" and "))
}

/// The stored hours, with what the back-off has not written yet, and the lock-out now.
async fn read(state: &AppState, client: &ClientRef) -> Result<LoginActivity, ClientError> {
    let since = now_millis() - DAY_MS;
    let stored = login_failures::summary(&state.db, client, since).await?;
    let unwritten = state.back_off.unwritten(client);
    let failures_24h = stored.failures
        + unwritten
            .iter()
            .filter(|t| t.hour > since - login_failures::HOUR_MS)
            .map(|t| t.failures)
            .sum::<u64>();
    let last_failure = unwritten
        .into_iter()
        .map(|t| t.last)
        .chain(stored.last)
        .max_by_key(|f| f.at);
    Ok(LoginActivity {
        last_success: None,
        last_failure,
        failures_24h,
        lockout: state.back_off.lockout(client),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_detail_says_what_was_lifted() {
        assert_eq!(
            lifted(None),
            "no lock was on; its failure counts were reset"
        );
        assert_eq!(
            lifted(Some(&Lockout {
                client_secs: Some(842),
                addresses: 2,
                address_secs: 60
            })),
            "lifted the client's lock (14 min 2 s left) and 2 addresses' locks (up to 1 min left)"
        );
        assert_eq!(
            lifted(Some(&Lockout {
                client_secs: None,
                addresses: 1,
                address_secs: 5
            })),
            "lifted 1 address's lock (5 s left)"
        );
    }
}
