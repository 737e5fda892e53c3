//! The order worker: drives every order and customer document of one
//! instance to the ERP.
//!
//! It reads its work from the `documents` read model
//! ([`mlc_projections::DocumentsView::due_work_of`]), loads each document's
//! aggregate from the event store (the read model may lag; the aggregate
//! decides), does the outside calls and records each outcome as a command:
//!
//! - order received: find the customer by e-mail, else create it under a
//!   stable number (after checking that a timed-out create did not already
//!   write it) -> `MatchCustomer` / `CreateCustomer`;
//! - customer resolved or retry due: map the lines (unmapped SKU -> `Park`),
//!   look the reference up before creating (`find_order`), post ->
//!   `RecordPosted` / `RecordPostFailed` + `ScheduleRetry` or `Park`;
//! - posted with refunds pending: one credit note per refund, looked up by
//!   its reference before creating -> `RecordCreditNotePosted` /
//!   `RecordCreditNoteFailed`;
//! - customer document pending: update the ERP customer found by e-mail, or
//!   create one -> `RecordErpSynced` / `RecordSyncFailed`.
//!
//! A second task, [`RefundWatcher`], follows the event log and records the
//! channel's refunds of an order revised after posting.

mod drive;
mod loads;
mod refunds;
mod retry;
mod telemetry;
mod worker;

pub use refunds::RefundWatcher;
pub use retry::RetrySettings;
pub use worker::{
    OrderWorker, OrderWorkerDeps, OrderWorkerError, OrderWorkerHandle, DOCUMENTS_PER_ERP_REQUEST,
};
