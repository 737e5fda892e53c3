//! The price of an item in a price list.

use serde::{Deserialize, Serialize};

use super::{Money, Sku};

/// The price of one item in one price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// The item priced.
    pub sku: Sku,
    /// The ERP price list (or channel price group) the price belongs to.
    pub price_list: String,
    /// The unit price.
    pub amount: Money,
}
