//! Where an order document stands.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The status of an [`OrderDocument`](super::OrderDocument).
///
/// The process actor drives a document by its status: `Received` -> resolve
/// the customer; `CustomerResolved` -> post; `RetryScheduled` -> post again
/// once due; `Failed` -> schedule a retry or park; `Parked` -> wait for an
/// operator; `Posted` -> done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderDocumentStatus {
    /// Received; the ERP customer is not resolved yet.
    Received,
    /// The ERP customer is known; ready to post.
    CustomerResolved,
    /// Posted to the ERP; final.
    Posted,
    /// The last post attempt failed; awaiting a retry schedule or a park.
    Failed,
    /// Another post attempt is due at a set time.
    RetryScheduled,
    /// Set aside for an operator; nothing drives it until a replay or rewind.
    Parked,
}

impl OrderDocumentStatus {
    /// Whether a rewind can restore this status: a point from which the
    /// document is driven forward afresh. Failure, retry and park states
    /// depend on attempt details that a rewind resets.
    pub fn is_rewind_target(self) -> bool {
        matches!(
            self,
            OrderDocumentStatus::Received | OrderDocumentStatus::CustomerResolved
        )
    }
}

impl fmt::Display for OrderDocumentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrderDocumentStatus::Received => "received",
            OrderDocumentStatus::CustomerResolved => "customer resolved",
            OrderDocumentStatus::Posted => "posted",
            OrderDocumentStatus::Failed => "failed",
            OrderDocumentStatus::RetryScheduled => "retry scheduled",
            OrderDocumentStatus::Parked => "parked",
        })
    }
}
