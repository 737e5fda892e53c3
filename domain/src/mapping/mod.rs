//! Mapping rules: how a channel's document becomes the ERP's, without I/O.
//!
//! The types here are the ERP side of the canonical model: what every ERP
//! connector accepts. A connector turns them into its own wire format; the
//! process actors build them from channel documents with the instance's
//! mapping table.

mod rules;

pub use rules::{
    map_credit_note, map_customer, map_order, new_customer_number, MappingError, MappingRules,
    MAX_CUSTOMER_NUMBER_LEN,
};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{Address, CurrencyCode, Email};

/// A sales order (or invoice) as the ERP will receive it: customer resolved,
/// lines mapped to ERP item numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpOrder {
    /// Our reference, unique per channel order (the store's order number,
    /// prefixed per instance when configured): written to the ERP's reference
    /// field and looked up before every create, so a retry never duplicates.
    pub reference: String,
    /// The ERP customer number.
    pub customer_number: String,
    /// The order date.
    pub order_date: NaiveDate,
    /// The currency of every amount.
    pub currency: CurrencyCode,
    /// Bill-to address, if any.
    pub bill_to: Option<Address>,
    /// Ship-to address, if any.
    pub ship_to: Option<Address>,
    /// Mapped lines.
    pub lines: Vec<ErpOrderLine>,
    /// Shipping charged (0 when none).
    pub shipping_total: Decimal,
    /// Order-level discount as a positive amount (0 when none).
    pub discount_total: Decimal,
    /// Mapped payment method code, if any.
    pub payment_code: Option<String>,
    /// Mapped ship-via code, if any.
    pub ship_via: Option<String>,
    /// Free text (the buyer's note), if any.
    pub comment: Option<String>,
}

/// One mapped line of an [`ErpOrder`] or [`ErpCreditNote`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpOrderLine {
    /// The ERP item number (after the SKU mapping).
    pub item_number: String,
    /// The channel's SKU it came from.
    pub sku: String,
    /// The line's description.
    pub description: String,
    /// Quantity ordered (or credited).
    pub quantity: Decimal,
    /// Unit price before tax.
    pub unit_price: Decimal,
}

/// A credit note for a refund of a posted order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpCreditNote {
    /// Our reference, unique per refund; looked up before every create.
    pub reference: String,
    /// The ERP customer number of the order.
    pub customer_number: String,
    /// The ERP document number of the order credited.
    pub order_number: String,
    /// The credit note date.
    pub date: NaiveDate,
    /// Mapped lines credited; empty for an amount-only refund.
    pub lines: Vec<ErpOrderLine>,
    /// The amount refunded (positive).
    pub amount: Decimal,
    /// Why, as the channel gave it.
    pub reason: Option<String>,
}

/// A customer to create or update in the ERP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpCustomer {
    /// The ERP customer number: chosen by us for a new customer (stable for
    /// the same channel customer, so a retried create finds it), the
    /// existing one for an update.
    pub number: String,
    /// Display name.
    pub name: String,
    /// E-mail address, the matching key.
    pub email: Option<Email>,
    /// Phone, if any.
    pub phone: Option<String>,
    /// Contact person, if any.
    pub contact: Option<String>,
    /// Main (billing) address, if any.
    pub address: Option<Address>,
    /// The ERP customer group (mapped from the channel's group).
    pub group: Option<String>,
}

/// An item's sellable state in the ERP, as a poll reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErpItemState {
    /// The ERP item number (formatted, as SKUs carry it).
    pub item_number: String,
    /// The item's description.
    pub description: String,
    /// Base price on the configured price list, if prices are synced.
    pub price: Option<Decimal>,
    /// Quantity available, summed over the published locations.
    pub quantity_available: Option<Decimal>,
    /// The latest `DateLastMaintained` among the item, its price and its
    /// quantities (a date without time of day).
    pub last_maintained: NaiveDate,
}
