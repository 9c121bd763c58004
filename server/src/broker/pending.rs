//! Grants on their way from CONNECT to "connected". rmqtt decides a CONNECT in one hook and
//! reports the session it became in another, so the grant the first made waits here, keyed by
//! rmqtt's connection id, with the moment its authentication began. A handshake can still fail
//! after authentication (the device hangs up, a network error), and then nothing ever takes its
//! grant: such entries are swept once they are older than any handshake can be.

use super::sessions::HANDSHAKE_LIMIT;
use crate::device_auth::Grant;
use rmqtt::types::Id;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Entries kept before abandoned ones are swept.
const SWEEP_AT: usize = 1024;

#[derive(Default)]
pub struct PendingGrants(Mutex<HashMap<Id, (Grant, Instant)>>);

impl PendingGrants {
    /// Keeps the grant of the connection `id`, whose authentication began at `began`.
    pub fn insert(&self, id: Id, grant: Grant, began: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (_, began)| began.elapsed() < HANDSHAKE_LIMIT);
        }
        map.insert(id, (grant, began));
    }

    /// Hands out the grant of the connection `id`, once.
    pub fn take(&self, id: &Id) -> Option<(Grant, Instant)> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{ClientId, ClientRef};
    use std::time::Duration;

    fn connection(n: u32) -> Id {
        let port = u16::try_from(n % 60_000).unwrap() + 1;
        Id::new(
            1,
            1,
            None,
            Some(std::net::SocketAddr::from(([127, 0, 0, 1], port))),
            format!("device-{n}").into(),
            None,
        )
    }

    fn grant() -> Grant {
        Grant {
            client: ClientRef {
                organization_id: "org".into(),
                client_id: ClientId::parse("c-1").unwrap(),
            },
            workspace_id: "ws".into(),
            namespace: "acme".into(),
            revision: 3,
            key_id: "key-1".into(),
            key_ends_at: None,
            key_last_used_at: None,
            identifier: "c-1".into(),
            device: None,
            scope: None,
            rules: Default::default(),
        }
    }

    #[test]
    fn a_grant_is_handed_out_once_to_its_own_connection() {
        let pending = PendingGrants::default();
        let (one, other) = (connection(1), connection(2));
        let began = Instant::now();
        pending.insert(one.clone(), grant(), began);
        assert!(pending.take(&other).is_none(), "another connection");
        assert_eq!(pending.take(&one), Some((grant(), began)));
        assert!(pending.take(&one).is_none(), "taken already");
    }

    #[test]
    fn abandoned_grants_are_swept_and_recent_ones_kept() {
        let pending = PendingGrants::default();
        let long_ago = Instant::now() - HANDSHAKE_LIMIT - Duration::from_secs(1);
        let abandoned = connection(0);
        pending.insert(abandoned.clone(), grant(), long_ago);
        for n in 1..SWEEP_AT as u32 - 1 {
            pending.insert(connection(n), grant(), long_ago);
        }
        let (recent, newest) = (connection(5_000), connection(5_001));
        pending.insert(recent.clone(), grant(), Instant::now());
        assert_eq!(pending.len(), SWEEP_AT, "no sweep below the threshold");
        // The next insert finds the map full: every abandoned handshake goes.
        pending.insert(newest, grant(), Instant::now());
        assert_eq!(pending.len(), 2);
        assert!(pending.take(&recent).is_some());
        assert!(pending.take(&abandoned).is_none());
    }
}
