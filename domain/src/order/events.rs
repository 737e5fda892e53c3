//! What has happened to an [`OrderDocument`](super::OrderDocument), and why a
//! command can be refused.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::OrderDocumentStatus;
use crate::model::{DocumentId, Order, Refund, ValidationError};

/// An event of the order document aggregate. Orders are boxed because one is
/// over a kilobyte and would make every event that large.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderEvent {
    /// The order arrived for the first time; the document starts here.
    OrderReceived {
        /// The document's id (`{instance}/order/{source_id}`).
        id: DocumentId,
        /// The order as received.
        order: Box<Order>,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// A newer version of the order arrived before it was posted; it replaces
    /// the order that will be posted. The status is unchanged.
    OrderRevised {
        /// The newer order.
        order: Box<Order>,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// A newer version of the order arrived after it was posted. It is kept
    /// for the operator; the ERP document is not changed and the status stays posted.
    OrderRevisedAfterPosting {
        /// The newer order.
        order: Box<Order>,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// The customer was found in the ERP.
    CustomerMatched {
        /// The ERP customer number.
        erp_customer_id: String,
    },
    /// The customer was created in the ERP.
    CustomerCreated {
        /// The ERP customer number.
        erp_customer_id: String,
    },
    /// The ERP accepted the order.
    PostedToErp {
        /// The ERP's document number.
        erp_document_number: String,
        /// When the ERP accepted it.
        posted_at: DateTime<Utc>,
        /// Which attempt succeeded.
        attempt: u32,
    },
    /// A post attempt failed.
    PostFailed {
        /// Which attempt failed.
        attempt: u32,
        /// What went wrong.
        reason: String,
        /// Whether trying again may succeed.
        retryable: bool,
        /// When it failed.
        failed_at: DateTime<Utc>,
    },
    /// The next post attempt was planned.
    RetryScheduled {
        /// The attempt planned.
        attempt: u32,
        /// Not before this time.
        not_before: DateTime<Utc>,
    },
    /// The document was set aside for an operator.
    Parked {
        /// Why.
        reason: String,
    },
    /// An operator asked to drive the document again; it is back to
    /// `Received`, with attempts, failure, retry and park cleared.
    ReplayRequested {
        /// Who asked.
        requested_by: String,
        /// Why.
        reason: String,
    },
    /// An operator moved the document back to an earlier point; the status
    /// becomes `restored_status`, with attempts, failure, retry and park
    /// cleared. Earlier events stay as they are.
    Rewound {
        /// The event sequence gone back to.
        to_sequence: u64,
        /// The document's version when rewound (the last sequence before this event).
        from_sequence: u64,
        /// The status restored: the latest received or customer-resolved
        /// status at or before `to_sequence`.
        restored_status: OrderDocumentStatus,
        /// Who asked.
        requested_by: String,
        /// Why.
        reason: String,
    },
    /// A refund of the order was recorded; it needs a credit note once the
    /// order is posted.
    RefundReceived {
        /// The refund.
        refund: Refund,
    },
    /// The ERP accepted the credit note of a refund.
    CreditNotePosted {
        /// The refund's `source_id`.
        refund_id: String,
        /// The ERP's credit note number.
        erp_document_number: String,
        /// When the ERP accepted it.
        posted_at: DateTime<Utc>,
    },
    /// A credit note attempt failed.
    CreditNoteFailed {
        /// The refund's `source_id`.
        refund_id: String,
        /// Which attempt failed.
        attempt: u32,
        /// What went wrong.
        reason: String,
        /// Whether trying again may succeed.
        retryable: bool,
        /// When it failed.
        failed_at: DateTime<Utc>,
        /// When the next attempt may be made; `None` when the failure parks
        /// the credit note (a `CreditNoteParked` follows).
        not_before: Option<DateTime<Utc>>,
    },
    /// The credit note of a refund was set aside for an operator.
    CreditNoteParked {
        /// The refund's `source_id`.
        refund_id: String,
        /// Why.
        reason: String,
    },
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        match self {
            OrderEvent::OrderReceived { .. } => "OrderReceived",
            OrderEvent::OrderRevised { .. } => "OrderRevised",
            OrderEvent::OrderRevisedAfterPosting { .. } => "OrderRevisedAfterPosting",
            OrderEvent::CustomerMatched { .. } => "CustomerMatched",
            OrderEvent::CustomerCreated { .. } => "CustomerCreated",
            OrderEvent::PostedToErp { .. } => "PostedToErp",
            OrderEvent::PostFailed { .. } => "PostFailed",
            OrderEvent::RetryScheduled { .. } => "RetryScheduled",
            OrderEvent::Parked { .. } => "Parked",
            OrderEvent::ReplayRequested { .. } => "ReplayRequested",
            OrderEvent::Rewound { .. } => "Rewound",
            OrderEvent::RefundReceived { .. } => "RefundReceived",
            OrderEvent::CreditNotePosted { .. } => "CreditNotePosted",
            OrderEvent::CreditNoteFailed { .. } => "CreditNoteFailed",
            OrderEvent::CreditNoteParked { .. } => "CreditNoteParked",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why the order document aggregate refused a command. Nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// Any command but `ReceiveOrder` before the order was received.
    #[error("no order has been received for this document yet")]
    NotReceived,
    /// The order's source id does not make a valid document id.
    #[error("order cannot be identified: {0}")]
    InvalidOrderId(ValidationError),
    /// A delivery of another order (or instance) than the one this document holds.
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
    /// The order is already in the ERP; it is never posted twice.
    #[error("order is already posted to the ERP as '{erp_document_number}'")]
    AlreadyPosted {
        /// The ERP document number it was posted as.
        erp_document_number: String,
    },
    /// The command does not apply in the document's current status.
    #[error("cannot {action} while the order document is {status}")]
    InvalidTransition {
        /// What was asked, e.g. "request a replay".
        action: &'static str,
        /// The current status.
        status: OrderDocumentStatus,
    },
    /// The customer is already resolved to another ERP customer.
    #[error(
        "customer is already resolved to ERP customer '{existing}'; refusing to change it to \
         '{requested}' (replay the document to resolve it again)"
    )]
    CustomerAlreadyResolved {
        /// The ERP customer recorded.
        existing: String,
        /// The ERP customer asked for.
        requested: String,
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
    /// A retry was asked for after a failure that retrying cannot fix.
    #[error("the last failure is not retryable ({reason}); park or replay the document instead")]
    NotRetryable {
        /// The failure's reason.
        reason: String,
    },
    /// A rewind target outside `1..version`.
    #[error(
        "cannot rewind to sequence {to_sequence}: the target must be at least 1 and before the \
         current sequence {version}"
    )]
    InvalidRewindTarget {
        /// The sequence asked for.
        to_sequence: u64,
        /// The document's current version.
        version: u64,
    },
    /// A refund of another order was delivered to this document.
    #[error("refund '{refund_id}' is of order '{refund_order}', not of order '{order}'")]
    RefundOfAnotherOrder {
        /// The refund's id.
        refund_id: String,
        /// The order the refund names.
        refund_order: String,
        /// This document's order.
        order: String,
    },
    /// A credit note was reported for a refund that was never recorded.
    #[error("no refund '{refund_id}' has been recorded for this order")]
    UnknownRefund {
        /// The refund id given.
        refund_id: String,
    },
    /// The refund's credit note is already in the ERP under another number.
    #[error(
        "the credit note of refund '{refund_id}' is already posted as '{erp_document_number}'"
    )]
    CreditNoteAlreadyPosted {
        /// The refund's id.
        refund_id: String,
        /// The ERP credit note number recorded.
        erp_document_number: String,
    },
    /// The refund's credit note is parked; it needs an operator.
    #[error("the credit note of refund '{refund_id}' is parked: {reason}")]
    CreditNoteIsParked {
        /// The refund's id.
        refund_id: String,
        /// Why it was parked.
        reason: String,
    },
}
