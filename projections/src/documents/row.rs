//! What one row of the documents read model says, computed from the
//! document's aggregate state.

use chrono::{DateTime, Utc};
use mlc_domain::customer::{CustomerDocument, CustomerDocumentStatus};
use mlc_domain::order::{OrderDocument, OrderDocumentStatus};
use serde::{Deserialize, Serialize};

/// The aggregate state a row is computed from, stored with the row so that
/// the next event is applied with the domain's own `apply`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum DocumentState {
    Order(Box<OrderDocument>),
    Customer(Box<CustomerDocument>),
}

/// The columns of a row, before they are written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowValues {
    pub status: String,
    pub channel_number: Option<String>,
    pub erp_number: Option<String>,
    pub customer: Option<String>,
    pub erp_customer: Option<String>,
    pub attempts: i64,
    pub last_reason: Option<String>,
    pub not_before: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub refunds_pending: i64,
    /// When the order worker has work on the document: `None` when it has
    /// none, 0 when the work is due now, else the epoch ms from which it is
    /// due. The worker's queue is the partial index of the rows with one.
    pub due_at: Option<i64>,
}

/// Due now, in [`RowValues::due_at`].
const DUE_NOW: i64 = 0;

/// The status as the read model and the API spell it (snake case).
pub(crate) fn order_status(status: OrderDocumentStatus) -> &'static str {
    match status {
        OrderDocumentStatus::Received => "received",
        OrderDocumentStatus::CustomerResolved => "customer_resolved",
        OrderDocumentStatus::Posted => "posted",
        OrderDocumentStatus::Failed => "failed",
        OrderDocumentStatus::RetryScheduled => "retry_scheduled",
        OrderDocumentStatus::Parked => "parked",
    }
}

impl DocumentState {
    pub(crate) fn version(&self) -> u64 {
        match self {
            DocumentState::Order(d) => d.version(),
            DocumentState::Customer(d) => d.version(),
        }
    }

    pub(crate) fn values(&self) -> Option<RowValues> {
        match self {
            DocumentState::Order(d) => order_values(d),
            DocumentState::Customer(d) => customer_values(d),
        }
    }
}

fn order_values(d: &OrderDocument) -> Option<RowValues> {
    let status = d.status()?;
    let order = d.order()?;
    let pending: Vec<_> = d.pending_refunds().collect();
    let posted = status == OrderDocumentStatus::Posted;
    let mut last_reason = d
        .park_reason()
        .map(str::to_owned)
        .or_else(|| d.last_failure().map(|f| f.reason.clone()));
    let mut not_before = match status {
        OrderDocumentStatus::RetryScheduled => d.scheduled_retry().map(|r| r.not_before),
        _ => None,
    };
    if posted {
        // A posted order's remaining work is its credit notes: due when the
        // earliest of them is (now, if one has not failed yet).
        not_before = if pending.iter().any(|r| r.not_before.is_none()) {
            None
        } else {
            pending.iter().filter_map(|r| r.not_before).min()
        };
        let refund_reason = d
            .refunds()
            .iter()
            .filter(|r| r.credit_note_number.is_none())
            .find_map(|r| {
                r.park_reason
                    .clone()
                    .or_else(|| r.last_failure.as_ref().map(|f| f.reason.clone()))
            });
        if refund_reason.is_some() {
            last_reason = refund_reason;
        }
    }
    let due_at = match status {
        OrderDocumentStatus::Received
        | OrderDocumentStatus::CustomerResolved
        | OrderDocumentStatus::Failed => Some(DUE_NOW),
        OrderDocumentStatus::RetryScheduled => not_before.map(|t| t.timestamp_millis()),
        // Its credit notes, if any are pending.
        OrderDocumentStatus::Posted if !pending.is_empty() => {
            Some(not_before.map_or(DUE_NOW, |t| t.timestamp_millis()))
        }
        OrderDocumentStatus::Posted | OrderDocumentStatus::Parked => None,
    };
    Some(RowValues {
        status: order_status(status).to_owned(),
        channel_number: Some(order.number.clone()),
        erp_number: d.erp_document_number().map(str::to_owned),
        customer: customer_label(&order.customer),
        erp_customer: d.erp_customer_id().map(str::to_owned),
        attempts: i64::from(d.attempts()),
        last_reason,
        not_before,
        received_at: d.received_at(),
        refunds_pending: pending.len() as i64,
        due_at,
    })
}

fn customer_values(d: &CustomerDocument) -> Option<RowValues> {
    let status = d.status()?;
    let customer = d.customer()?;
    let due_at = match status {
        CustomerDocumentStatus::Pending => Some(DUE_NOW),
        CustomerDocumentStatus::RetryScheduled => d.not_before().map(|t| t.timestamp_millis()),
        CustomerDocumentStatus::Synced | CustomerDocumentStatus::Parked => None,
    };
    Some(RowValues {
        status: status.as_str().to_owned(),
        channel_number: customer.source_id.clone(),
        erp_number: d.erp_customer_id().map(str::to_owned),
        customer: customer_label(customer),
        erp_customer: d.erp_customer_id().map(str::to_owned),
        attempts: i64::from(d.attempts()),
        last_reason: d
            .park_reason()
            .map(str::to_owned)
            .or_else(|| d.last_failure().map(|f| f.reason.clone())),
        not_before: d.not_before(),
        received_at: d.received_at(),
        refunds_pending: 0,
        due_at,
    })
}

/// The customer as an operator searches for it: the e-mail, else the name.
fn customer_label(customer: &mlc_domain::model::Customer) -> Option<String> {
    if let Some(email) = &customer.email {
        return Some(email.as_str().to_owned());
    }
    let name = format!("{} {}", customer.first_name, customer.last_name)
        .trim()
        .to_owned();
    (!name.is_empty()).then_some(name)
}
