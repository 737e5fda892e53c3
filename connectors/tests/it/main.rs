//! Connector tests against the in-process sandbox, over real HTTP.

mod capture;
mod sage300;
mod support;
mod woocommerce;
