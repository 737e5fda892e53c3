//! One line of an order.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Money, Sku};

/// A line of an [`Order`](super::Order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The line's id in the source system.
    pub line_id: String,
    /// The item ordered.
    pub sku: Sku,
    /// The item name as shown to the buyer.
    pub name: String,
    /// Quantity ordered; a decimal because ERPs sell by weight and length too.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// Price of one unit, before tax.
    pub unit_price: Money,
    /// Tax on the line.
    pub tax: Money,
    /// The line amount before tax and before the order-level discount; the
    /// order's totals check adds these up.
    pub total: Money,
}
