//! Clients of the outside systems, one module per system, behind the ERP and
//! storefront traits over the canonical model of `mlc-domain`.
//!
//! Auth schemes, pagination, rate limits and error decoding live here and
//! nowhere else. Every connector reports failures as a [`ConnectorError`]
//! that says whether trying again may help, so the process actors never look
//! at status codes themselves.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod http;
mod limit;
pub mod sage300;
mod traits;
pub mod woocommerce;

pub use error::{ConnectorError, OutsideCall};
pub use limit::ConcurrencyLimited;
pub use traits::{
    ChannelProduct, ChannelWebhook, Erp, PreparedRequest, ProductUpdate, Storefront, WebhookStatus,
};
