//! Keys end on time: a rotation's old key retires, and a key expires, at its moment, not at its
//! devices' next reconnect. One task per process sleeps until the soonest end still to apply
//! (looking again at least once a second, for ends another process or the dashboard set), then
//! applies every end that is due (`store::client_keys::end_due`): each commits the key's end with
//! a revocation of that key's sessions, and the revocation workers are woken to close them on
//! every broker. Processes sharing a database race harmlessly: each end is applied once.
//!
//! CONNECTs need none of this to be refused on time: every CONNECT reads the client's keys and
//! judges their ends against its own clock. What the task adds is closing the sessions already
//! open, and, at start, applying the ends that came while no process was running.

use app::state::RevocationSignal;
use app::store::{Db, client_keys, now_millis};
use std::sync::Arc;
use std::time::Duration;

/// How long the task sleeps at most before it looks for a new soonest end.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// Applies every key end when it comes, until Keygate stops; the first pass runs at once.
pub async fn run(db: Db, revocations: Arc<RevocationSignal>) {
    loop {
        let wait = match apply_due(&db, &revocations).await {
            Ok(()) => until_next(&db).await,
            Err(e) => {
                tracing::warn!("could not apply the keys' ends: {e}");
                LOOK_AGAIN
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Applies the ends due now and wakes the revocation workers for them.
async fn apply_due(db: &Db, revocations: &RevocationSignal) -> Result<(), app::store::StoreError> {
    let ended = client_keys::end_due(db, now_millis()).await?;
    for end in &ended {
        tracing::info!(client = %end.client, key = %end.key_id, reason = end.reason.as_str(), "a key ended; closing its sessions");
    }
    if !ended.is_empty() {
        revocations.ring();
    }
    Ok(())
}

/// How long until the soonest end still to apply, at most [`LOOK_AGAIN`].
async fn until_next(db: &Db) -> Duration {
    match client_keys::next_end(db).await {
        Ok(Some(at)) => {
            Duration::from_millis((at - now_millis()).clamp(0, LOOK_AGAIN.as_millis() as i64) as u64)
        }
        Ok(None) => LOOK_AGAIN,
        Err(e) => {
            tracing::warn!("could not read when the next key ends: {e}");
            LOOK_AGAIN
        }
    }
}
