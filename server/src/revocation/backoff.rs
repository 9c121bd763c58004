//! How long a target's worker waits before it retries: exponential, capped, with jitter so many
//! Keygate processes (or many targets) that failed together do not retry together.

use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after `failures` consecutive failures (1 for the first): `min · 2^(failures-1)`
    /// capped at `max`, then a uniformly random point in its upper half ("equal jitter"), so it
    /// never drops below half the exponential step.
    pub fn delay(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        let step = self
            .min
            .saturating_mul(1u32 << exponent)
            .min(self.max)
            .max(Duration::from_millis(1));
        let half = step / 2;
        half + half.mul_f64(unit_random())
    }
}

/// A random number in [0, 1).
fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_stays_in_the_upper_half() {
        let b = Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_secs(2),
        };
        for (failures, step_ms) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (5, 1600),
            (6, 2000),
            (40, 2000),
        ] {
            for _ in 0..50 {
                let d = b.delay(failures).as_millis() as u64;
                assert!(
                    d >= step_ms / 2 && d <= step_ms,
                    "failure {failures}: {d} ms outside {}..={step_ms}",
                    step_ms / 2
                );
            }
        }
    }

    #[test]
    fn jitter_spreads_the_retries() {
        let b = Backoff {
            min: Duration::from_secs(1),
            max: Duration::from_secs(1),
        };
        let delays: std::collections::HashSet<_> = (0..20).map(|_| b.delay(1)).collect();
        assert!(delays.len() > 10, "{delays:?}");
    }
}
