//! The webhook delivery aggregate: one stream per delivery that the gateway
//! answered without touching a document (aggregate id
//! `{instance}/delivery/{uuid}`, see [`delivery_stream_id`]): a ping, or a
//! delivery it refused (bad signature, too large, malformed, unknown
//! instance). It records what an operator needs to explain a refusal, never
//! the body nor any header that could carry a secret.

mod aggregate;
mod commands;
mod events;

pub use aggregate::{delivery_stream_id, WebhookDelivery, UNKNOWN_INSTANCE};
pub use commands::DeliveryCommand;
pub use events::{DeliveryError, DeliveryEvent};
