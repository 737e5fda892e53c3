//! What can be asked of an [`OrderDocument`](super::OrderDocument).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{InstanceId, Order, Refund};

/// A command to the order document aggregate of one order of one instance.
///
/// Commands named `Record...` report facts from the outside world (the ERP
/// answered); the others are decisions of a process actor or an operator.
/// Orders are boxed because one is over a kilobyte and would make every
/// command that large.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderCommand {
    /// A delivery of the order from the channel (webhook or poll). The first
    /// creates the document; later ones are duplicates or revisions, told
    /// apart by the order's `modified_at`.
    ReceiveOrder {
        /// The instance the order arrived through.
        instance: InstanceId,
        /// The order, in the canonical model.
        order: Box<Order>,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// The order's customer was found in the ERP.
    MatchCustomer {
        /// The ERP customer number.
        erp_customer_id: String,
    },
    /// The order's customer was created in the ERP.
    CreateCustomer {
        /// The ERP customer number of the new customer.
        erp_customer_id: String,
    },
    /// The ERP accepted the order.
    RecordPosted {
        /// The ERP's sales order (or invoice) number.
        erp_document_number: String,
        /// When the ERP accepted it.
        posted_at: DateTime<Utc>,
        /// Which attempt succeeded, from 1.
        attempt: u32,
    },
    /// A post attempt failed.
    RecordPostFailed {
        /// Which attempt failed: the next one, `attempts() + 1`; a repeat of
        /// an already recorded attempt changes nothing.
        attempt: u32,
        /// What went wrong, in the ERP's words.
        reason: String,
        /// Whether trying again may succeed (timeouts, 429, 5xx) or not (validation).
        retryable: bool,
        /// When it failed.
        failed_at: DateTime<Utc>,
    },
    /// Plans the next post attempt after a retryable failure.
    ScheduleRetry {
        /// The attempt being planned: `attempts() + 1`.
        attempt: u32,
        /// Not before this time (backoff with jitter, or the ERP's Retry-After).
        not_before: DateTime<Utc>,
    },
    /// Sets the document aside for an operator.
    Park {
        /// Why.
        reason: String,
    },
    /// An operator asks to drive a parked or failed document again from its
    /// recorded order, with the attempt count reset.
    RequestReplay {
        /// Who asked.
        requested_by: String,
        /// Why.
        reason: String,
    },
    /// An operator moves the document back to how it stood after event
    /// `to_sequence`, to drive it again from there.
    Rewind {
        /// The event sequence (from 1) to go back to; below the current version.
        to_sequence: u64,
        /// Who asked.
        requested_by: String,
        /// Why.
        reason: String,
    },
    /// A refund of the order was issued in the channel. Recorded once per
    /// refund `source_id`; a repeat changes nothing. Refunds may arrive
    /// before the order is posted: their credit notes wait for the posting.
    RecordRefund {
        /// The refund, in the canonical model.
        refund: Refund,
    },
    /// The ERP accepted the credit note of a received refund of the posted order.
    RecordCreditNotePosted {
        /// The refund's `source_id`.
        refund_id: String,
        /// The ERP's credit note number.
        erp_document_number: String,
        /// When the ERP accepted it.
        posted_at: DateTime<Utc>,
    },
    /// A credit note attempt failed. A permanent failure, or a failure of
    /// attempt `max_attempts`, parks the credit note with the reason.
    RecordCreditNoteFailed {
        /// The refund's `source_id`.
        refund_id: String,
        /// Which attempt failed, from 1; a repeat of a recorded attempt changes nothing.
        attempt: u32,
        /// What went wrong, in the ERP's words.
        reason: String,
        /// Whether trying again may succeed.
        retryable: bool,
        /// When it failed.
        failed_at: DateTime<Utc>,
        /// The attempts allowed in all (the instance's retry policy).
        max_attempts: u32,
        /// When the next attempt may be made, if the credit note is not parked.
        not_before: DateTime<Utc>,
    },
}
