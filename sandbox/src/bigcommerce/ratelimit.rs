//! The store-wide rate limit (§2.2): a quota of requests per 30-second
//! window shared by every API account, reported on every answer in
//! `X-Rate-Limit-Time-Window-Ms`, `X-Rate-Limit-Time-Reset-Ms`,
//! `X-Rate-Limit-Requests-Quota` and `X-Rate-Limit-Requests-Left`. Past
//! the quota: 429 with the same headers (and `X-Retry-After` in seconds),
//! or without them when `rate_limit_headers_on_429` is off (the load
//! shedding case of §2.2).

use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

/// The current window.
#[derive(Debug, Default)]
pub struct Window {
    started: Option<Instant>,
    used: u32,
}

/// What the headers report.
#[derive(Debug, Clone, Copy)]
pub struct Info {
    /// `X-Rate-Limit-Time-Window-Ms`.
    pub window_ms: u64,
    /// `X-Rate-Limit-Time-Reset-Ms`.
    pub reset_ms: u64,
    /// `X-Rate-Limit-Requests-Quota`.
    pub quota: u32,
    /// `X-Rate-Limit-Requests-Left`.
    pub left: u32,
}

impl Window {
    /// Counts one request: `Ok` within the quota, `Err` past it (not
    /// counted). A window starts with the first request after the last
    /// one ended.
    pub fn take(&mut self, quota: u32, window_ms: u64) -> Result<Info, Info> {
        let now = Instant::now();
        let window = Duration::from_millis(window_ms);
        let started = match self.started {
            Some(s) if now.duration_since(s) < window => s,
            _ => {
                self.used = 0;
                self.started = Some(now);
                now
            }
        };
        let reset_ms = window
            .saturating_sub(now.duration_since(started))
            .as_millis() as u64;
        let mut info = Info {
            window_ms,
            reset_ms: reset_ms.max(1),
            quota,
            left: 0,
        };
        if self.used >= quota {
            return Err(info);
        }
        self.used += 1;
        info.left = quota - self.used;
        Ok(info)
    }

    /// Starts afresh (control route).
    pub fn reset(&mut self) {
        self.started = None;
        self.used = 0;
    }

    /// The state without counting a request.
    pub fn peek(&self, quota: u32, window_ms: u64) -> Info {
        let elapsed = self.started.map(|s| s.elapsed());
        let live = elapsed.is_some_and(|e| e < Duration::from_millis(window_ms));
        Info {
            window_ms,
            reset_ms: if live {
                Duration::from_millis(window_ms)
                    .saturating_sub(elapsed.unwrap_or_default())
                    .as_millis() as u64
            } else {
                window_ms
            },
            quota,
            left: if live {
                quota.saturating_sub(self.used)
            } else {
                quota
            },
        }
    }
}

impl Info {
    /// Sets the four headers (and `X-Retry-After` when `limited`).
    pub fn apply(&self, headers: &mut HeaderMap, limited: bool) {
        let mut set = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        };
        set("x-rate-limit-time-window-ms", self.window_ms.to_string());
        set("x-rate-limit-time-reset-ms", self.reset_ms.to_string());
        set("x-rate-limit-requests-quota", self.quota.to_string());
        set("x-rate-limit-requests-left", self.left.to_string());
        if limited {
            set("x-retry-after", self.reset_ms.div_ceil(1000).to_string());
        }
    }

    /// As JSON for the control route.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "window_ms": self.window_ms,
            "reset_ms": self.reset_ms,
            "quota": self.quota,
            "left": self.left,
        })
    }
}
