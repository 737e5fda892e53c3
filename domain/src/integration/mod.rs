//! The `Integration` aggregate: one per configured instance (aggregate id =
//! the instance id), holding its configuration version, pause state, poll
//! cursors and webhook subscriptions with their health.

mod aggregate;
mod commands;
mod events;
mod poll_cursor;
mod webhook;

pub use aggregate::Integration;
pub use commands::IntegrationCommand;
pub use events::{IntegrationError, IntegrationEvent};
pub use poll_cursor::PollCursor;
pub use webhook::{WebhookStatus, WebhookSubscription};
