//! A webhook subscription an instance holds at a remote system, and its health.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The state of a webhook subscription as the remote system reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Delivering.
    Active,
    /// Switched off, usually by the remote after repeated failed deliveries.
    Disabled,
    /// Suspended on purpose; deliveries resume when it is reactivated.
    Paused,
}

impl fmt::Display for WebhookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Disabled => "disabled",
            WebhookStatus::Paused => "paused",
        })
    }
}

/// One webhook subscription of an instance, for one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    /// The subscription's id at the remote system.
    pub remote_id: String,
    /// Where the remote delivers.
    pub delivery_url: String,
    /// The status last recorded.
    pub status: WebhookStatus,
    /// Consecutive failed deliveries reported with the last status change.
    pub consecutive_failures: u32,
    /// When the check that recorded the last status change ran; `None` until
    /// one has. Checks that find the status unchanged write no event, so this
    /// is not the time of the latest check.
    pub last_checked_at: Option<DateTime<Utc>>,
}
