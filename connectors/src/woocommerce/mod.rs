//! WooCommerce (REST API `wc/v3`): webhook verification and decoding.

pub mod webhook;
