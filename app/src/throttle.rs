//! Back-off for repeated failures (sign-in now; MQTT authentication later): after a few failures
//! for the same key (an email, an address), further attempts are refused for a window that doubles
//! with each failure, even with the right password.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last_failure: Instant,
}

/// Failure counts per key, in memory.
#[derive(Debug)]
pub struct Throttle {
    free_failures: u32,
    base: Duration,
    max: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    /// `free_failures` failures are free; then the lock is `base`, doubling up to `max`.
    pub fn new(free_failures: u32, base: Duration, max: Duration) -> Self {
        Self {
            free_failures,
            base,
            max,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` while `key` is locked out.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let entries = self.entries.lock().expect("throttle lock");
        match entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > Instant::now() => Err((until - Instant::now()).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Counts a failure for `key` and locks it when past the free failures.
    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("throttle lock");
        // Forget old entries so a flood of distinct keys cannot grow the map without bound.
        if entries.len() > 100_000 {
            entries.retain(|_, e| now.duration_since(e.last_failure) < self.max);
        }
        let entry = entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            locked_until: None,
            last_failure: now,
        });
        if now.duration_since(entry.last_failure) > self.max {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last_failure = now;
        if entry.failures > self.free_failures {
            let exponent = (entry.failures - self.free_failures - 1).min(20);
            let lock = self.base.saturating_mul(1 << exponent).min(self.max);
            entry.locked_until = Some(now + lock);
        }
    }

    /// Clears `key` after a success.
    pub fn succeed(&self, key: &str) {
        self.entries.lock().expect("throttle lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_free_failures_and_releases_after_the_window() {
        let t = Throttle::new(2, Duration::from_millis(50), Duration::from_secs(1));
        t.fail("a");
        t.fail("a");
        assert!(t.check("a").is_ok(), "two failures are free");
        t.fail("a");
        assert!(t.check("a").is_err(), "the third locks");
        assert!(t.check("b").is_ok(), "other keys are unaffected");
        std::thread::sleep(Duration::from_millis(60));
        assert!(t.check("a").is_ok(), "the lock expires");
        t.succeed("a");
        t.fail("a");
        assert!(t.check("a").is_ok(), "success resets the count");
    }
}
