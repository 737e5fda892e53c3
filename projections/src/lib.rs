//! Read models fed by the ordered, checkpointed subscription of `mlc-store`.
//!
//! Each projection is a named subscriber: it can be dropped and rebuilt from
//! the events.
//!
//! - [`EventLog`]: one log line per event.
//! - [`DocumentsProjection`] / [`DocumentsView`]: one row per order and
//!   customer document (status, numbers, attempts, reasons, refunds pending),
//!   for the operator API and the order worker's queue of due work.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod documents;
mod event_log;

pub use documents::{
    DocumentFilter, DocumentPage, DocumentRow, DocumentsProjection, DocumentsView, Page,
    ProjectionError, StatusCount,
};
pub use event_log::EventLog;
