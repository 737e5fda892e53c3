//! The canonical model every connector speaks: validated newtypes, money and
//! the documents that move between systems.
//!
//! Values that can be invalid (ids, emails, SKUs, currencies) are newtypes
//! that can only be built valid, both through their constructors and through
//! serde, so invalid input is refused at the boundary with a clear
//! [`ValidationError`].

#[macro_use]
mod validated_text;
mod address;
mod currency_code;
mod customer;
mod document_id;
mod email;
mod instance_id;
mod item;
mod money;
mod order;
mod order_line;
mod price;
mod refund;
mod shipment;
mod sku;
mod stock_level;
mod validation_error;

pub use address::Address;
pub use currency_code::CurrencyCode;
pub use customer::Customer;
pub use document_id::{DocumentId, DocumentKind};
pub use email::Email;
pub use instance_id::InstanceId;
pub use item::Item;
pub use money::{Money, MoneyError};
pub use order::{Order, OrderStatus, OrderTotalsError, TotalsBreakdown};
pub use order_line::OrderLine;
pub use price::Price;
pub use refund::{Refund, RefundLine};
pub use shipment::{Shipment, ShipmentLine};
pub use sku::Sku;
pub use stock_level::StockLevel;
pub use validation_error::ValidationError;
