//! What has happened to a [`CustomerDocument`](super::CustomerDocument), and
//! why a command can be refused.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::CustomerDocumentStatus;
use crate::model::{Customer, DocumentId, ValidationError};

/// An event of the customer document aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerEvent {
    /// The customer arrived for the first time; the document starts here.
    CustomerReceived {
        /// The document's id (`{instance}/customer/{source_id}`).
        id: DocumentId,
        /// The profile.
        customer: Box<Customer>,
        /// When the channel last changed it, if known.
        modified_at: Option<DateTime<Utc>>,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// A changed profile arrived; it is to be synced again.
    CustomerRevised {
        /// The newer profile.
        customer: Box<Customer>,
        /// When the channel last changed it, if known.
        modified_at: Option<DateTime<Utc>>,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// The ERP customer holds the profile of version `synced_version`.
    ErpCustomerSynced {
        /// The ERP customer number.
        erp_customer_id: String,
        /// Whether it was created (else matched and updated).
        created: bool,
        /// The document version whose profile was sent.
        synced_version: u64,
        /// When the ERP accepted it.
        synced_at: DateTime<Utc>,
    },
    /// A sync attempt failed.
    CustomerSyncFailed {
        /// Which attempt failed.
        attempt: u32,
        /// What went wrong.
        reason: String,
        /// Whether trying again may succeed.
        retryable: bool,
        /// When it failed.
        failed_at: DateTime<Utc>,
        /// When the next attempt may be made; `None` when the failure parks
        /// the document (a `CustomerSyncParked` follows).
        not_before: Option<DateTime<Utc>>,
    },
    /// The document was set aside for an operator.
    CustomerSyncParked {
        /// Why.
        reason: String,
    },
    /// An operator asked to sync the document again.
    CustomerReplayRequested {
        /// Who asked.
        requested_by: String,
        /// Why.
        reason: String,
    },
}

impl DomainEvent for CustomerEvent {
    fn event_type(&self) -> String {
        match self {
            CustomerEvent::CustomerReceived { .. } => "CustomerReceived",
            CustomerEvent::CustomerRevised { .. } => "CustomerRevised",
            CustomerEvent::ErpCustomerSynced { .. } => "ErpCustomerSynced",
            CustomerEvent::CustomerSyncFailed { .. } => "CustomerSyncFailed",
            CustomerEvent::CustomerSyncParked { .. } => "CustomerSyncParked",
            CustomerEvent::CustomerReplayRequested { .. } => "CustomerReplayRequested",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why the customer document aggregate refused a command. Nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerError {
    /// Any command but `ReceiveCustomer` before the customer was received.
    #[error("no customer has been received for this document yet")]
    NotReceived,
    /// A guest (no channel id) has no customer document.
    #[error("a customer without a channel id (a guest) has no customer document")]
    NoSourceId,
    /// The customer's source id does not make a valid document id.
    #[error("customer cannot be identified: {0}")]
    InvalidCustomerId(ValidationError),
    /// A delivery of another customer (or instance) than this document's.
    #[error("document '{existing}' cannot take a delivery of '{delivered}'")]
    DocumentMismatch {
        /// This document's id.
        existing: DocumentId,
        /// The id the delivery belongs to.
        delivered: DocumentId,
    },
    /// A required text field was empty or only whitespace.
    #[error("{field} must not be blank")]
    Blank {
        /// The command field.
        field: &'static str,
    },
    /// A sync was reported for a version the document does not have.
    #[error("synced version {synced_version} is beyond the document's version {version}")]
    UnknownVersion {
        /// The version given.
        synced_version: u64,
        /// The document's version.
        version: u64,
    },
    /// Attempt 0 was given.
    #[error("attempt numbers start at 1")]
    InvalidAttempt,
    /// An attempt number skips ahead.
    #[error("attempt {got} is out of order: the next attempt is {expected}")]
    AttemptOutOfOrder {
        /// The next attempt number.
        expected: u32,
        /// The attempt number given.
        got: u32,
    },
    /// The command does not apply in the document's current status.
    #[error("cannot {action} while the customer document is {status}")]
    InvalidTransition {
        /// What was asked.
        action: &'static str,
        /// The current status.
        status: CustomerDocumentStatus,
    },
}
