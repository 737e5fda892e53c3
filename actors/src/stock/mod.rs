//! Price and stock sync from the ERP to the channel: [`StockPoller`] reads
//! the items the ERP changed since its cursor, records each change on the
//! item's [`ItemDocument`](mlc_domain::item::ItemDocument) and pushes only
//! what changed to the store, in one batch per poll.

pub mod documents;
mod poller;

pub use documents::DocumentError;
pub use poller::{
    PollSummary, StockError, StockPoller, StockPollerDeps, StockPollerHandle, ITEMS_SOURCE,
};
