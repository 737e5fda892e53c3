//! Read models fed by the ordered, checkpointed subscription of `mlc-store`.
//!
//! Each projection is a named subscriber: it can be dropped and rebuilt from
//! the events.
