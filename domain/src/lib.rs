//! The domain of ml-connector: the canonical model every connector speaks and
//! the event-sourced aggregates that record what happens to each integration
//! instance and each document it moves. Pure: no I/O, no clocks (times arrive
//! in commands), so the same code decides a command in the framework, in a
//! batch and in tests.
//!
//! - [`model`]: validated newtypes ([`model::InstanceId`], [`model::Email`],
//!   [`model::Sku`], [`model::CurrencyCode`], [`model::DocumentId`]), money
//!   and the canonical documents (orders, customers, items, shipments, ...).
//! - [`integration`]: the [`integration::Integration`] aggregate, one per
//!   configured instance: configuration version, pause, poll cursors, webhooks.
//! - [`item`]: the [`item::ItemDocument`] aggregate, one per item per
//!   instance: ERP price, stock and description, and what the channel got.
//! - [`order`]: the [`order::OrderDocument`] aggregate, one per order per
//!   instance: receipt, customer resolution, posting, retries, replay, rewind.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod customer;
pub mod delivery;
pub mod integration;
pub mod item;
pub mod mapping;
pub mod model;
pub mod order;

#[cfg(test)]
mod test_fixtures;
