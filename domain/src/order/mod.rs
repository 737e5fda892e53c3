//! The order document aggregate: one per order per instance (aggregate id =
//! the order's [`DocumentId`](crate::model::DocumentId),
//! `{instance}/order/{source_id}`). Its stream tells the order's whole story,
//! from receipt through customer resolution and posting to the ERP, with
//! failures, retries, parks, replays and rewinds.

mod aggregate;
mod commands;
mod events;
mod status;
mod status_history;

pub use aggregate::{OrderDocument, PostFailure, RefundRecord, ScheduledRetry};
pub use commands::OrderCommand;
pub use events::{OrderError, OrderEvent};
pub use status::OrderDocumentStatus;
pub use status_history::{StatusHistory, StatusSpan};
