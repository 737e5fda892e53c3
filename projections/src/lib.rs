//! Read models fed by the ordered, checkpointed subscription of `mlc-store`.
//!
//! Each projection is a named subscriber: it can be dropped and rebuilt from
//! the events. The audit trail, failure queue and instance health arrive with
//! the operator surface; the event log is the first.

mod event_log;

pub use event_log::EventLog;
