//! The opt-in rate limit (facts §0.6, §3.6): core Magento throttles nothing;
//! 2.4.7+ can limit order placement, and a CDN/WAF in front of a store may
//! throttle any path. When `settings.rate_limit` is set, requests matching
//! it are counted in fixed windows and the excess answered 429 with
//! `{"message":"Too Many Requests","trace":null}`.

use std::time::{Duration, Instant};

use super::RateLimit;

/// The current window: when it started and how many requests it counted.
#[derive(Debug, Default)]
pub(crate) struct Window {
    started: Option<Instant>,
    count: u32,
}

impl Window {
    /// Counts a request to `path`; `Some(seconds until the window ends)`
    /// when it is over the limit.
    pub fn hit(&mut self, limit: &RateLimit, path: &str) -> Option<u64> {
        if limit
            .path_contains
            .as_deref()
            .is_some_and(|p| !path.contains(p))
        {
            return None;
        }
        let window = Duration::from_secs(limit.window_secs.max(1));
        let now = Instant::now();
        let started = match self.started {
            Some(s) if now.duration_since(s) < window => s,
            _ => {
                self.started = Some(now);
                self.count = 0;
                now
            }
        };
        self.count += 1;
        if self.count > limit.limit {
            let left = window.saturating_sub(now.duration_since(started));
            Some(left.as_secs().max(1))
        } else {
            None
        }
    }

    /// Forgets the counts (a new limit starts afresh).
    pub fn reset(&mut self) {
        *self = Window::default();
    }
}
