//! What has happened to an [`Integration`](super::Integration), and why a
//! command can be refused.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{PollCursor, WebhookStatus};
use crate::model::InstanceId;

/// An event of the `Integration` aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntegrationEvent {
    /// The configuration changed (or was set for the first time).
    Configured {
        /// The instance.
        instance: InstanceId,
        /// The new configuration version, starting at 1.
        version: u64,
        /// The fingerprint of the new configuration.
        fingerprint: String,
    },
    /// The instance was paused.
    Paused {
        /// Why.
        reason: String,
    },
    /// The instance was resumed.
    Resumed,
    /// A poll cursor moved forward.
    CursorAdvanced {
        /// The pull source.
        source: String,
        /// The new position.
        cursor: PollCursor,
    },
    /// A webhook subscription was registered; it starts active.
    WebhookRegistered {
        /// The topic.
        topic: String,
        /// The subscription's id at the remote.
        remote_id: String,
        /// Where the remote delivers.
        delivery_url: String,
    },
    /// A health check found a webhook in a new status.
    WebhookStatusChanged {
        /// The topic.
        topic: String,
        /// The status before.
        previous: WebhookStatus,
        /// The status now.
        status: WebhookStatus,
        /// Consecutive failed deliveries the remote reported.
        consecutive_failures: u32,
        /// When the check ran.
        checked_at: DateTime<Utc>,
    },
}

impl DomainEvent for IntegrationEvent {
    fn event_type(&self) -> String {
        match self {
            IntegrationEvent::Configured { .. } => "Configured",
            IntegrationEvent::Paused { .. } => "Paused",
            IntegrationEvent::Resumed => "Resumed",
            IntegrationEvent::CursorAdvanced { .. } => "CursorAdvanced",
            IntegrationEvent::WebhookRegistered { .. } => "WebhookRegistered",
            IntegrationEvent::WebhookStatusChanged { .. } => "WebhookStatusChanged",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why the `Integration` aggregate refused a command. Nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrationError {
    /// Any command but `Configure` before the first `Configure`.
    #[error("integration instance is not configured yet; configure it first")]
    NotConfigured,
    /// `Configure` named another instance than the one this aggregate holds.
    #[error("this integration is instance '{configured}', not '{requested}'")]
    InstanceMismatch {
        /// The instance this aggregate holds.
        configured: InstanceId,
        /// The instance the command named.
        requested: InstanceId,
    },
    /// A required text field was empty or only whitespace.
    #[error("{field} must not be blank")]
    Blank {
        /// The command field.
        field: &'static str,
    },
    /// The proposed cursor is earlier than the current one.
    #[error("cursor for source '{source_name}' would move backwards from {current} to {proposed}")]
    CursorBackwards {
        /// The pull source.
        source_name: String,
        /// The current position.
        current: PollCursor,
        /// The refused position.
        proposed: PollCursor,
    },
    /// A health record for a topic without a registered webhook.
    #[error("no webhook is registered for topic '{topic}'")]
    UnknownWebhook {
        /// The topic.
        topic: String,
    },
}
