//! Read models fed by the ordered, checkpointed subscription of `mlc-store`.
//!
//! Each projection is a named subscriber: it can be dropped and rebuilt from
//! the events.
//!
//! - [`EventLog`]: one log line per event.
//! - [`DocumentsProjection`] / [`DocumentsView`]: one row per order and
//!   customer document (status, numbers, attempts, reasons, refunds pending),
//!   for the operator API and the order worker's queue of due work.
//! - [`AuditView`], [`FailuresView`], [`HealthView`], [`CountersView`]: the
//!   operator read models (audit trail, failure queue, instance health,
//!   dashboard counters); [`all`] lists every projection and [`rebuild`]
//!   drops and replays one.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod counters;
mod documents;
mod event_log;
mod failures;
mod health;
mod registry;
mod views;

pub use audit::{
    is_secret_key, redact_text, strip_secrets, AuditEntry, AuditProjection, AuditView,
};
pub use counters::{CountersProjection, CountersView, DayCounters};
pub use documents::{
    DocumentFilter, DocumentPage, DocumentRow, DocumentsProjection, DocumentsView, Page,
    ProjectionError, StatusCount,
};
pub use event_log::EventLog;
pub use failures::{FailureFilter, FailurePage, FailureRow, FailuresProjection, FailuresView};
pub use health::{CursorHealth, HealthProjection, HealthView, InstanceHealth, WebhookHealth};
pub use registry::{
    all, all_with_documents, find, rebuild, rebuild_spec, rebuild_together, statuses,
    AnyProjection, ProjectionSpec, ProjectionStatus, RebuildReport, REBUILD_BATCH,
};
pub use views::ReadModelError;
