//! Clients of the outside systems, one module per system, behind the ERP,
//! storefront and fulfilment traits over the canonical model of `mlc-domain`.
//!
//! Auth schemes, pagination, rate limits and error decoding live here and
//! nowhere else. The first connectors (WooCommerce, Sage 300) arrive with the
//! first seed integration.
