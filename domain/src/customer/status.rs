//! Where a customer document stands.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The status of a [`CustomerDocument`](super::CustomerDocument).
///
/// The process actor syncs a document that is `Pending`, or
/// `RetryScheduled` once due; `Synced` and `Parked` wait for news (a newer
/// profile, or an operator's replay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerDocumentStatus {
    /// The latest profile is not in the ERP yet.
    Pending,
    /// The latest profile is in the ERP.
    Synced,
    /// A sync attempt failed; another is due at a set time.
    RetryScheduled,
    /// Set aside for an operator.
    Parked,
}

impl CustomerDocumentStatus {
    /// The status as stored in read models: `pending`, `synced`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerDocumentStatus::Pending => "pending",
            CustomerDocumentStatus::Synced => "synced",
            CustomerDocumentStatus::RetryScheduled => "retry_scheduled",
            CustomerDocumentStatus::Parked => "parked",
        }
    }
}

impl fmt::Display for CustomerDocumentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CustomerDocumentStatus::Pending => "pending",
            CustomerDocumentStatus::Synced => "synced",
            CustomerDocumentStatus::RetryScheduled => "retry scheduled",
            CustomerDocumentStatus::Parked => "parked",
        })
    }
}
