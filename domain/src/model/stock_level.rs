//! How much of an item a location holds.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Sku;

/// Stock of one item at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// The item.
    pub sku: Sku,
    /// The warehouse or location code.
    pub location: String,
    /// Quantity physically on hand.
    #[serde(with = "rust_decimal::serde::str")]
    pub on_hand: Decimal,
    /// Quantity that can be sold (on hand less committed); what channels show.
    #[serde(with = "rust_decimal::serde::str")]
    pub available: Decimal,
}
