//! What can be recorded about a [`WebhookDelivery`](super::WebhookDelivery).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A command to the webhook delivery aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryCommand {
    /// The channel pinged the endpoint (WooCommerce does when a webhook is
    /// created, unsigned, with the form body `webhook_id=N`).
    RecordPing {
        /// The channel's id of the webhook that pinged.
        webhook_id: u64,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// The gateway refused the delivery.
    RecordRejection {
        /// The HTTP status answered (4xx or 5xx).
        status: u16,
        /// Why, in words an operator understands; never a secret.
        reason: String,
        /// The topic the delivery claimed (`X-WC-Webhook-Topic`), if any.
        topic: Option<String>,
        /// The body's size in bytes (as far as it was read).
        size: usize,
        /// Hex SHA-256 of the body (as far as it was read), to match it with
        /// the channel's delivery log without storing it.
        body_sha256: String,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
}
