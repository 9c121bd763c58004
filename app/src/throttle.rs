//! Back-off for repeated failures (sign-in, MQTT authentication): after a few failures for the
//! same key (an email, a client, an address), further attempts are refused for a window that
//! doubles with each failure, even with the right password.
//!
//! An attempt that takes time to decide (argon2id) reserves its place first ([`Throttle::begin`]):
//! attempts in flight count against the free failures, so a burst sent in parallel cannot run more
//! verifications than the back-off allows, which checking first and counting afterwards would.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last_failure: Instant,
    /// Reserved attempts not decided yet.
    in_flight: u32,
}

/// Failure counts per key, in memory.
#[derive(Debug)]
pub struct Throttle {
    free_failures: u32,
    base: Duration,
    max: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Beyond this many keys, entries quiet for longer than the longest lock are forgotten, so a flood
/// of distinct keys cannot grow the map without bound.
const MAX_KEYS: usize = 100_000;

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

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave an entry half-written: recover it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(seconds)` while `key` is locked out. Only for tests: a check before a verification
    /// lets a parallel burst through, so callers reserve with [`Throttle::begin`].
    #[cfg(test)]
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let entries = self.lock();
        match entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > Instant::now() => Err((until - Instant::now()).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Reserves an attempt for `key`: `Err(seconds)` while it is locked out, or while the attempts
    /// already in flight could use up what is left of its free failures (past them, one attempt
    /// at a time). The permit is settled with [`Permit::failed`] or [`Permit::succeeded`];
    /// dropped unsettled (the attempt never ran), it counts for nothing.
    pub fn begin(&self, key: &str) -> Result<Permit<'_>, u64> {
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = self.entry(&mut entries, key, now);
        if now.duration_since(entry.last_failure) > self.max && entry.in_flight == 0 {
            entry.failures = 0;
            entry.locked_until = None;
        }
        if let Some(until) = entry.locked_until.filter(|until| *until > now) {
            return Err((until - now).as_secs().max(1));
        }
        let budget = if entry.failures > self.free_failures {
            1
        } else {
            self.free_failures + 1 - entry.failures
        };
        if entry.in_flight >= budget {
            return Err(1);
        }
        entry.in_flight += 1;
        Ok(Permit {
            throttle: self,
            key: Some(key.to_owned()),
        })
    }

    /// Counts a failure for `key` and locks it when past the free failures. The lock it began,
    /// when it is the first failure past them: a burst's start (see [`Throttle::count_failure`]).
    pub fn fail(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = self.entry(&mut entries, key, now);
        self.count_failure(entry, now)
    }

    /// `key`'s entry, new when it has none (after forgetting stale entries if there are many).
    fn entry<'e>(
        &self,
        entries: &'e mut HashMap<String, Entry>,
        key: &str,
        now: Instant,
    ) -> &'e mut Entry {
        self.sweep(entries, now);
        entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            locked_until: None,
            last_failure: now,
            in_flight: 0,
        })
    }

    /// Counts a failure; past the free failures it locks the key. Returns the lock when this
    /// failure is the first past them, which begins a burst: the burst goes on, each failure
    /// doubling the lock, until a success or a quiet `max` forgets the count.
    fn count_failure(&self, entry: &mut Entry, now: Instant) -> Option<Duration> {
        if now.duration_since(entry.last_failure) > self.max {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last_failure = now;
        if entry.failures <= self.free_failures {
            return None;
        }
        let exponent = (entry.failures - self.free_failures - 1).min(20);
        let lock = self.base.saturating_mul(1 << exponent).min(self.max);
        entry.locked_until = Some(now + lock);
        (entry.failures == self.free_failures + 1).then_some(lock)
    }

    /// Clears `key` after a success.
    pub fn succeed(&self, key: &str) {
        let mut entries = self.lock();
        if let Some(entry) = entries.get_mut(key) {
            entry.failures = 0;
            entry.locked_until = None;
            if entry.in_flight == 0 {
                entries.remove(key);
            }
        }
    }

    /// How long each key `matches` accepts stays locked out, for those locked now.
    pub fn locks_matching(&self, matches: impl Fn(&str) -> bool) -> Vec<Duration> {
        let now = Instant::now();
        self.lock()
            .iter()
            .filter(|(key, _)| matches(key))
            .filter_map(|(_, entry)| entry.locked_until.filter(|until| *until > now))
            .map(|until| until - now)
            .collect()
    }

    /// Forgets the failures of every key `matches` accepts, as a success would (see
    /// [`Throttle::succeed`]): their locks end now. How many keys were locked.
    pub fn clear_matching(&self, matches: impl Fn(&str) -> bool) -> usize {
        let now = Instant::now();
        let mut entries = self.lock();
        let mut unlocked = 0;
        entries.retain(|key, entry| {
            if !matches(key) {
                return true;
            }
            if entry.locked_until.is_some_and(|until| until > now) {
                unlocked += 1;
            }
            entry.failures = 0;
            entry.locked_until = None;
            // Attempts in flight keep their reservation, settled when they end.
            entry.in_flight > 0
        });
        unlocked
    }

    fn settle(&self, key: &str, failed: bool) -> Option<Duration> {
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = entries.get_mut(key)?;
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if failed {
            return self.count_failure(entry, now);
        }
        if entry.in_flight == 0 && entry.failures == 0 {
            entries.remove(key);
        }
        None
    }

    fn sweep(&self, entries: &mut HashMap<String, Entry>, now: Instant) {
        if entries.len() > MAX_KEYS {
            entries.retain(|_, e| e.in_flight > 0 || now.duration_since(e.last_failure) < self.max);
        }
    }
}

/// A reserved attempt (see [`Throttle::begin`]).
#[derive(Debug)]
pub struct Permit<'a> {
    throttle: &'a Throttle,
    key: Option<String>,
}

impl Permit<'_> {
    /// The attempt failed: it counts, and may lock the key. The lock it began, when it is the
    /// first failure past the free ones (see [`Throttle::fail`]).
    pub fn failed(mut self) -> Option<Duration> {
        let key = self.key.take()?;
        self.throttle.settle(&key, true)
    }

    /// Whether this is a reservation on `throttle`.
    pub fn belongs_to(&self, throttle: &Throttle) -> bool {
        std::ptr::eq(self.throttle, throttle)
    }

    /// The attempt succeeded: the key's failures are cleared.
    pub fn succeeded(mut self) {
        if let Some(key) = self.key.take() {
            self.throttle.settle(&key, false);
            self.throttle.succeed(&key);
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.throttle.settle(&key, false);
        }
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

    #[test]
    fn a_parallel_burst_gets_no_more_attempts_than_the_free_failures_allow() {
        let t = Throttle::new(2, Duration::from_secs(60), Duration::from_secs(600));
        // Three attempts may fail before the lock (two free, the third locks): three permits,
        // then nothing until they are settled.
        let permits: Vec<_> = (0..10).filter_map(|_| t.begin("a").ok()).collect();
        assert_eq!(permits.len(), 3);
        for permit in permits {
            permit.failed();
        }
        assert!(t.begin("a").is_err(), "locked after the third failure");
    }

    #[test]
    fn past_the_free_failures_one_attempt_at_a_time() {
        let t = Throttle::new(1, Duration::from_millis(20), Duration::from_secs(60));
        t.fail("a");
        t.fail("a");
        std::thread::sleep(Duration::from_millis(30));
        let one = t.begin("a").expect("the lock ran out");
        assert!(t.begin("a").is_err(), "a second one waits for the first");
        drop(one);
        assert!(
            t.begin("a").is_ok(),
            "an attempt that never ran counts for nothing"
        );
    }

    #[test]
    fn clearing_ends_the_locks_of_the_keys_it_matches_and_no_others() {
        let t = Throttle::new(0, Duration::from_secs(60), Duration::from_secs(600));
        for key in ["org/c-1", "org/c-1@10.0.0.1", "org/c-1@10.0.0.2", "org/c-2"] {
            t.fail(key);
        }
        let locks = t.locks_matching(|k| k.starts_with("org/c-1@"));
        assert_eq!(locks.len(), 2);
        assert!(locks.iter().all(|d| *d > Duration::from_secs(50)));
        let in_flight = t.begin("org/c-3").unwrap();
        assert_eq!(t.clear_matching(|k| k.starts_with("org/c-1")), 3);
        assert!(t.check("org/c-1").is_ok());
        assert!(t.check("org/c-1@10.0.0.1").is_ok());
        assert!(t.check("org/c-2").is_err(), "another key keeps its lock");
        assert!(t.locks_matching(|k| k.starts_with("org/c-1")).is_empty());
        assert_eq!(
            t.clear_matching(|k| k == "org/c-3"),
            0,
            "nothing was locked"
        );
        in_flight.failed();
        assert!(
            t.check("org/c-3").is_err(),
            "an attempt in flight while clearing still counts when it fails"
        );
    }

    #[test]
    fn a_success_clears_the_key() {
        let t = Throttle::new(1, Duration::from_secs(60), Duration::from_secs(600));
        t.begin("a").unwrap().failed();
        t.begin("a").unwrap().succeeded();
        t.begin("a").unwrap().failed();
        assert!(
            t.check("a").is_ok(),
            "one failure after the success is free again"
        );
    }
}
