//! Webhook health: [`WebhookHealth`] makes sure the store has exactly one
//! active webhook per topic delivering to our URL, creating what is missing
//! and re-activating what the store disabled, and records each change on the
//! instance's `Integration` aggregate.

mod health;

pub use health::{
    WebhookCheck, WebhookHealth, WebhookHealthDeps, WebhookHealthError, WebhookHealthHandle,
    DEFAULT_TOPICS,
};
