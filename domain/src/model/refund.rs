//! A full or partial refund of an order.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Money, Sku};

/// A refund issued by a channel; becomes a credit note in the ERP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// The refund's id in the channel.
    pub source_id: String,
    /// The channel id of the order refunded.
    pub order_source_id: String,
    /// The amount refunded, as a positive amount.
    pub amount: Money,
    /// Why, as entered in the channel, if given.
    pub reason: Option<String>,
    /// The items refunded; empty for an amount-only refund.
    pub lines: Vec<RefundLine>,
    /// When the refund was issued.
    pub created_at: DateTime<Utc>,
}

/// A refunded quantity of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    /// The item refunded.
    pub sku: Sku,
    /// Quantity refunded (returned or not).
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// Amount refunded for this line.
    pub amount: Money,
}
