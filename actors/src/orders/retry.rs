//! When the next attempt is made after a retryable failure.

use std::time::Duration;

use rand::Rng;

/// The instance's retry policy, as the order worker applies it (the binary
/// converts `mlc_config::RetryPolicy` into this).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrySettings {
    /// Attempts in all, including the first.
    pub max_attempts: u32,
    /// Wait after the first failure.
    pub initial_backoff: Duration,
    /// Ceiling of the growing wait.
    pub max_backoff: Duration,
    /// Relative random variation of each wait, 0 to 1.
    pub jitter: f64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_attempts: 8,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            jitter: 0.2,
        }
    }
}

impl RetrySettings {
    /// The wait after failed attempt `attempt` (from 1): the initial backoff
    /// doubled per attempt, capped, varied by the jitter. A wait the far side
    /// asked for (Retry-After) is honoured when it is longer.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = if jitter > 0.0 {
            1.0 + rand::rng().random_range(-jitter..=jitter)
        } else {
            1.0
        };
        let wait = base.mul_f64(factor).min(self.max_backoff);
        match retry_after {
            Some(asked) if asked > wait => asked,
            _ => wait,
        }
    }

    /// Whether attempt `attempt` was the last one allowed.
    pub fn is_last(&self, attempt: u32) -> bool {
        attempt >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = RetrySettings {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(10),
            jitter: 0.0,
        };
        let waits: Vec<_> = (1..=5).map(|a| retry.backoff(a, None).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 10, 10]);
        assert!(retry.is_last(5));
        assert!(!retry.is_last(4));
    }

    #[test]
    fn jitter_stays_in_range_and_retry_after_wins_when_longer() {
        let retry = RetrySettings {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(100),
            jitter: 0.2,
        };
        for _ in 0..100 {
            let wait = retry.backoff(1, None).as_secs_f64();
            assert!((8.0..=12.0).contains(&wait), "{wait}");
        }
        assert_eq!(
            retry.backoff(1, Some(Duration::from_secs(60))),
            Duration::from_secs(60)
        );
    }
}
