//! What can be asked of an [`ItemDocument`](super::ItemDocument).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::mapping::ErpItemState;
use crate::model::InstanceId;

/// A command to the item document aggregate of one item of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ItemCommand {
    /// A poll read the item's state in the ERP. Recorded only when price,
    /// quantity or description differ from the last observation (the first
    /// observation always is).
    ObserveErpItem {
        /// The instance that polled.
        instance: InstanceId,
        /// What the ERP said.
        state: ErpItemState,
        /// When the poll read it.
        observed_at: DateTime<Utc>,
    },
    /// The channel's product now carries this price and stock.
    RecordPushed {
        /// The price the product carries (`None`: prices are not synced).
        price: Option<Decimal>,
        /// The stock quantity the product carries (`None`: not synced).
        stock_quantity: Option<Decimal>,
        /// The channel's product id.
        product_id: String,
        /// When the push was confirmed.
        pushed_at: DateTime<Utc>,
    },
    /// A push to the channel failed.
    RecordPushFailed {
        /// What went wrong, in the channel's words.
        reason: String,
        /// Whether trying again may help.
        retryable: bool,
        /// When it failed.
        failed_at: DateTime<Utc>,
    },
    /// The channel has no product with the item's SKU: recorded once, and
    /// not pushed again until the ERP item changes.
    RecordNotInChannel {
        /// The SKU looked up.
        sku: String,
        /// When the lookup ran.
        checked_at: DateTime<Utc>,
    },
}
