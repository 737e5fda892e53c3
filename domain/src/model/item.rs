//! An item (product) as every connector maps it.

use serde::{Deserialize, Serialize};

use super::Sku;

/// An item sold or stocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The item's SKU.
    pub sku: Sku,
    /// The description shown to buyers and in the ERP.
    pub description: String,
    /// Unit of measure, e.g. "EA".
    pub unit: String,
}
