//! What can be asked of a [`CustomerDocument`](super::CustomerDocument).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Customer, InstanceId};

/// A command to the customer document aggregate of one channel customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CustomerCommand {
    /// A delivery of the customer's profile from the channel (webhook or
    /// poll). The first creates the document; the same profile with the same
    /// `modified_at` again changes nothing; an older `modified_at` is an
    /// out-of-order delivery and changes nothing.
    ReceiveCustomer {
        /// The instance the customer arrived through.
        instance: InstanceId,
        /// The profile; its `source_id` names the document.
        customer: Box<Customer>,
        /// When the channel last changed it, if the channel says.
        modified_at: Option<DateTime<Utc>>,
        /// When ml-connector received it.
        received_at: DateTime<Utc>,
    },
    /// The ERP customer now holds the profile of document version `synced_version`.
    RecordErpSynced {
        /// The ERP customer number.
        erp_customer_id: String,
        /// Whether the ERP customer was created (else matched and updated).
        created: bool,
        /// The document version whose profile was sent.
        synced_version: u64,
        /// When the ERP accepted it.
        synced_at: DateTime<Utc>,
    },
    /// A sync attempt failed. A permanent failure, or a failure of attempt
    /// `max_attempts`, parks the document with the reason.
    RecordSyncFailed {
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
        /// When the next attempt may be made, if not parked.
        not_before: DateTime<Utc>,
    },
    /// An operator asks to sync a parked document again, attempts reset.
    RequestReplay {
        /// Who asked.
        requested_by: String,
        /// Why.
        reason: String,
    },
}
