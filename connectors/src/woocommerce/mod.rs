//! WooCommerce (REST API `wc/v3`): the [`WooCommerce`] storefront client,
//! webhook verification and decoding.

mod client;
mod oauth;
pub mod webhook;

pub use client::{WooCommerce, WooCommerceSettings, BATCH_LIMIT, PER_PAGE};
