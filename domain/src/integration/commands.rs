//! What can be asked of an [`Integration`](super::Integration).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{PollCursor, WebhookStatus};
use crate::model::InstanceId;

/// A command to the `Integration` aggregate of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IntegrationCommand {
    /// Records the instance's configuration; a new fingerprint bumps the
    /// configuration version, the same fingerprint changes nothing.
    Configure {
        /// The instance; must equal the aggregate id.
        instance: InstanceId,
        /// A digest of the configuration (never the configuration itself, which holds secrets).
        fingerprint: String,
    },
    /// Stops the instance's actors and pollers from driving work.
    Pause {
        /// Why, for the operator.
        reason: String,
    },
    /// Lets a paused instance work again.
    Resume,
    /// Moves a poller's cursor forward after it has durably handled what it read.
    AdvanceCursor {
        /// The pull source, e.g. "orders" or "stock".
        source: String,
        /// The new position; never earlier than the current one.
        cursor: PollCursor,
    },
    /// Records a webhook subscription created (or re-created) at the remote system.
    RegisterWebhook {
        /// The topic, e.g. "order.created".
        topic: String,
        /// The subscription's id at the remote.
        remote_id: String,
        /// Where the remote delivers.
        delivery_url: String,
    },
    /// Records what a health check found for a webhook; only a change of status
    /// is written.
    RecordWebhookHealth {
        /// The topic checked; must have been registered.
        topic: String,
        /// The status the remote reports.
        status: WebhookStatus,
        /// Consecutive failed deliveries the remote reports (0 if it does not say).
        consecutive_failures: u32,
        /// When the check ran.
        checked_at: DateTime<Utc>,
    },
}
