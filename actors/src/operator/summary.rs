//! One readable line per event of an order or customer document.

use cqrs_es::Aggregate;
use mlc_domain::customer::{CustomerDocument, CustomerEvent};
use mlc_domain::order::{OrderDocument, OrderEvent};
use mlc_store::StoredEvent;

/// The ERP named in summaries. Every document of an instance goes to its one
/// ERP; the events do not name it, so the line says "the ERP" unless told.
pub(crate) fn summarize(event: &StoredEvent, erp: &str) -> String {
    if event.aggregate_type == OrderDocument::TYPE {
        if let Ok(e) = event.payload_as::<OrderEvent>() {
            return order(&e, erp);
        }
    } else if event.aggregate_type == CustomerDocument::TYPE {
        if let Ok(e) = event.payload_as::<CustomerEvent>() {
            return customer(&e, erp);
        }
    }
    event.event_type.clone()
}

fn order(event: &OrderEvent, erp: &str) -> String {
    match event {
        OrderEvent::OrderReceived { order, .. } => format!(
            "Order {} received: {} line(s), total {}",
            order.number,
            order.lines.len(),
            order.grand_total
        ),
        OrderEvent::OrderRevised { order, .. } => format!(
            "Order {} revised before posting: {} line(s), total {}",
            order.number,
            order.lines.len(),
            order.grand_total
        ),
        OrderEvent::OrderRevisedAfterPosting { order, .. } => format!(
            "Order {} revised after posting (total {}); the {erp} document is unchanged",
            order.number, order.grand_total
        ),
        OrderEvent::CustomerMatched { erp_customer_id } => {
            format!("Customer matched to {erp} customer {erp_customer_id}")
        }
        OrderEvent::CustomerCreated { erp_customer_id } => {
            format!("Customer created in {erp} as {erp_customer_id}")
        }
        OrderEvent::PostedToErp {
            erp_document_number,
            attempt,
            ..
        } => format!("Posted to {erp} as {erp_document_number} (attempt {attempt})"),
        OrderEvent::PostFailed {
            attempt,
            reason,
            retryable,
            ..
        } => format!(
            "Post attempt {attempt} failed ({}): {reason}",
            if *retryable {
                "retryable"
            } else {
                "not retryable"
            }
        ),
        OrderEvent::RetryScheduled {
            attempt,
            not_before,
        } => format!(
            "Attempt {attempt} scheduled for {}",
            not_before.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        OrderEvent::Parked { reason } => format!("Parked: {reason}"),
        OrderEvent::ReplayRequested {
            requested_by,
            reason,
        } => format!("Replay requested by {requested_by}: {reason}"),
        OrderEvent::Rewound {
            to_sequence,
            from_sequence,
            restored_status,
            requested_by,
            reason,
        } => format!(
            "Rewound by {requested_by} from event {from_sequence} to event {to_sequence} \
             (back to {restored_status}): {reason}"
        ),
        OrderEvent::RefundReceived { refund } => {
            format!("Refund {} of {} received", refund.source_id, refund.amount)
        }
        OrderEvent::CreditNotePosted {
            refund_id,
            erp_document_number,
            ..
        } => format!("Credit note for refund {refund_id} posted to {erp} as {erp_document_number}"),
        OrderEvent::CreditNoteFailed {
            refund_id,
            attempt,
            reason,
            ..
        } => format!("Credit note for refund {refund_id}, attempt {attempt} failed: {reason}"),
        OrderEvent::CreditNoteParked { refund_id, reason } => {
            format!("Credit note for refund {refund_id} parked: {reason}")
        }
    }
}

fn customer(event: &CustomerEvent, erp: &str) -> String {
    match event {
        CustomerEvent::CustomerReceived { customer, .. } => {
            format!("Customer {} received", label(customer))
        }
        CustomerEvent::CustomerRevised { customer, .. } => {
            format!("Customer {} revised", label(customer))
        }
        CustomerEvent::ErpCustomerSynced {
            erp_customer_id,
            created,
            synced_version,
            ..
        } => format!(
            "{} {erp} customer {erp_customer_id} (profile of version {synced_version})",
            if *created { "Created" } else { "Updated" }
        ),
        CustomerEvent::CustomerSyncFailed {
            attempt, reason, ..
        } => format!("Sync attempt {attempt} failed: {reason}"),
        CustomerEvent::CustomerSyncParked { reason } => format!("Parked: {reason}"),
        CustomerEvent::CustomerReplayRequested {
            requested_by,
            reason,
        } => format!("Replay requested by {requested_by}: {reason}"),
    }
}

fn label(customer: &mlc_domain::model::Customer) -> String {
    match &customer.email {
        Some(email) => email.as_str().to_owned(),
        None => format!("{} {}", customer.first_name, customer.last_name)
            .trim()
            .to_owned(),
    }
}
