//! What happened to a [`WebhookDelivery`](super::WebhookDelivery), and why a
//! command can be refused.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// An event of the webhook delivery aggregate. Never holds the body nor a
/// header value that could carry a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryEvent {
    /// The channel pinged the endpoint and was answered 200.
    PingReceived {
        /// The channel's id of the webhook that pinged.
        webhook_id: u64,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// The gateway refused the delivery; no document was touched.
    DeliveryRejected {
        /// The HTTP status answered.
        status: u16,
        /// Why.
        reason: String,
        /// The topic the delivery claimed, if any.
        topic: Option<String>,
        /// The body's size in bytes (as far as it was read).
        size: usize,
        /// Hex SHA-256 of the body (as far as it was read).
        body_sha256: String,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
}

impl DomainEvent for DeliveryEvent {
    fn event_type(&self) -> String {
        match self {
            DeliveryEvent::PingReceived { .. } => "PingReceived",
            DeliveryEvent::DeliveryRejected { .. } => "DeliveryRejected",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a delivery command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The delivery already has a different outcome recorded.
    #[error("this delivery is already recorded with another outcome")]
    AlreadyRecorded,
    /// A rejection must carry an error status.
    #[error("a rejection must have a 4xx or 5xx status, got {status}")]
    NotAnErrorStatus {
        /// The status given.
        status: u16,
    },
    /// A rejection must say why.
    #[error("a rejection must give a reason")]
    BlankReason,
}
