//! Process actors and pollers: they react to events through the checkpointed
//! subscription of `mlc-store`, do the slow I/O against the outside systems and
//! report each outcome back as a command.
//!
//! The first actors (post to ERP, stock and price push, webhook health) arrive
//! with the first seed integration.

pub mod backfill;
pub mod operator;
pub mod orders;
mod periodic;
pub mod stock;
pub mod webhooks;
