//! A shipment of (part of) an order.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Sku;

/// A shipment reported by a fulfilment system or an ERP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The shipment's id in the system that reported it (used in its document id).
    pub source_id: String,
    /// The channel id of the order shipped.
    pub order_source_id: String,
    /// Carrier code, e.g. "ups".
    pub carrier: String,
    /// Carrier service, e.g. "ground", if known.
    pub service: Option<String>,
    /// Tracking numbers; a shipment may have several packages.
    pub tracking_numbers: Vec<String>,
    /// When it left.
    pub shipped_at: DateTime<Utc>,
    /// What was shipped.
    pub lines: Vec<ShipmentLine>,
}

/// A quantity of one item in a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentLine {
    /// The item shipped.
    pub sku: Sku,
    /// Quantity shipped.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
}
