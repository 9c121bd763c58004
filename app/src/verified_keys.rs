//! Memory of device keys the broker verified recently, so a reconnecting device does not pay for
//! argon2id again.
//!
//! An entry is never the key: it is HMAC-SHA256, under a random secret that lives only in this
//! process, of the Client ID, the client's stored key hash and the presented key. Because the stored
//! hash is part of the MAC, a regenerated key can never match an old entry even if a clear were
//! missed (another process changed the key, say); the dashboard still clears a client's entry on
//! every change so nothing stale lingers in memory.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;

type HmacSha256 = Hmac<Sha256>;

/// Beyond this many clients the cache starts over: a flood of distinct clients costs a re-verify,
/// never unbounded memory.
const MAX_ENTRIES: usize = 200_000;

pub struct VerifiedKeys {
    secret: [u8; 32],
    entries: Mutex<HashMap<String, [u8; 32]>>,
}

impl std::fmt::Debug for VerifiedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedKeys")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for VerifiedKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl VerifiedKeys {
    pub fn new() -> Self {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).expect("the OS random number generator");
        Self {
            secret,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, client_id: &str, key_hash: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        for part in [client_id.as_bytes(), key_hash.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    fn tag(&self, client_id: &str, key_hash: &str, presented: &[u8]) -> [u8; 32] {
        let mut mac = self.mac(client_id, key_hash);
        mac.update(presented);
        mac.finalize().into_bytes().into()
    }

    /// Whether `presented` was verified against exactly this `key_hash` of `client_id` before.
    pub fn contains(&self, client_id: &str, key_hash: &str, presented: &[u8]) -> bool {
        let Some(stored) = self.lock().get(client_id).copied() else {
            return false;
        };
        let mut mac = self.mac(client_id, key_hash);
        mac.update(presented);
        // Constant-time comparison.
        mac.verify_slice(&stored).is_ok()
    }

    /// Records a successful verification.
    pub fn remember(&self, client_id: &str, key_hash: &str, presented: &[u8]) {
        let tag = self.tag(client_id, key_hash, presented);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(client_id) {
            entries.clear();
        }
        entries.insert(client_id.to_owned(), tag);
    }

    /// Drops whatever is remembered for `client_id` (any change of the client calls this).
    pub fn forget(&self, client_id: &str) {
        self.lock().remove(client_id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, [u8; 32]>> {
        // A panic while holding the lock cannot leave the map half-written: recover it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_only_the_same_key_for_the_same_hash() {
        let cache = VerifiedKeys::new();
        cache.remember("c-1", "$argon2id$hash-1", b"kgk_right");
        assert!(cache.contains("c-1", "$argon2id$hash-1", b"kgk_right"));
        assert!(!cache.contains("c-1", "$argon2id$hash-1", b"kgk_wrong"));
        assert!(
            !cache.contains("c-1", "$argon2id$hash-2", b"kgk_right"),
            "a regenerated key (new stored hash) never matches an old entry"
        );
        assert!(!cache.contains("c-2", "$argon2id$hash-1", b"kgk_right"));
        cache.forget("c-1");
        assert!(!cache.contains("c-1", "$argon2id$hash-1", b"kgk_right"));
        assert!(cache.is_empty());
    }

    #[test]
    fn entries_are_keyed_hashes_not_keys() {
        let (a, b) = (VerifiedKeys::new(), VerifiedKeys::new());
        assert_ne!(
            a.tag("c-1", "h", b"kgk_secret"),
            b.tag("c-1", "h", b"kgk_secret"),
            "each process has its own MAC secret"
        );
        let stored = a.tag("c-1", "h", b"kgk_secret");
        assert!(!stored.windows(4).any(|w| w == b"kgk_"));
    }
}
