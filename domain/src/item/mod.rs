//! The item document aggregate: one per item per instance (aggregate id =
//! the item's [`DocumentId`](crate::model::DocumentId),
//! `{instance}/item/{sku}`). Its stream tells what the ERP said about the
//! item's price, stock and description, and what was pushed to the channel.

mod aggregate;
mod commands;
mod events;

pub use aggregate::{ItemDocument, ObservedItem, PushedItem};
pub use commands::ItemCommand;
pub use events::{ItemError, ItemEvent};
