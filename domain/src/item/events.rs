//! What has happened to an [`ItemDocument`](super::ItemDocument), and why a
//! command can be refused.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{DocumentId, ValidationError};

/// An event of the item document aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemEvent {
    /// The ERP item was seen for the first time, or its price, quantity or
    /// description changed since it was last seen.
    ErpItemChanged {
        /// The document's id (`{instance}/item/{sku}`).
        id: DocumentId,
        /// The ERP item number (the SKU).
        sku: String,
        /// The item's description.
        description: String,
        /// Price on the configured price list, if synced.
        price: Option<Decimal>,
        /// Quantity available over the published locations, if synced.
        quantity_available: Option<Decimal>,
        /// The ERP's `DateLastMaintained` (date only).
        last_maintained: NaiveDate,
        /// When the poll read it.
        observed_at: DateTime<Utc>,
    },
    /// The channel's product now carries this price and stock.
    PushedToChannel {
        /// The price pushed.
        price: Option<Decimal>,
        /// The stock quantity pushed.
        stock_quantity: Option<Decimal>,
        /// The channel's product id.
        product_id: String,
        /// When.
        pushed_at: DateTime<Utc>,
    },
    /// A push failed.
    PushFailed {
        /// What went wrong.
        reason: String,
        /// Whether trying again may help.
        retryable: bool,
        /// When.
        failed_at: DateTime<Utc>,
    },
    /// The channel has no product with this SKU.
    NotInChannel {
        /// The SKU looked up.
        sku: String,
        /// When.
        checked_at: DateTime<Utc>,
    },
}

impl DomainEvent for ItemEvent {
    fn event_type(&self) -> String {
        match self {
            ItemEvent::ErpItemChanged { .. } => "ErpItemChanged",
            ItemEvent::PushedToChannel { .. } => "PushedToChannel",
            ItemEvent::PushFailed { .. } => "PushFailed",
            ItemEvent::NotInChannel { .. } => "NotInChannel",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why the item document refused a command. Nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// The item number is not a valid SKU or document id.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The document belongs to another instance or item.
    #[error("this document is {current}, not {requested}")]
    WrongDocument {
        /// The document's id.
        current: DocumentId,
        /// The id the command implies.
        requested: DocumentId,
    },
    /// A push or lookup was recorded before any ERP observation.
    #[error("the item has not been observed in the ERP yet")]
    NotObserved,
    /// A required text field was empty or only whitespace.
    #[error("{field} must not be blank")]
    Blank {
        /// The command field.
        field: &'static str,
    },
}
