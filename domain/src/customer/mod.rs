//! The customer document aggregate: one per channel customer per instance
//! (aggregate id = the customer's [`DocumentId`](crate::model::DocumentId),
//! `{instance}/customer/{source_id}`). Its stream tells how the customer's
//! profile arrived from the channel and was synced to the ERP's customer
//! master (matched by e-mail and updated, or created).

mod aggregate;
mod commands;
mod events;
mod status;

pub use aggregate::{CustomerDocument, SyncFailure};
pub use commands::CustomerCommand;
pub use events::{CustomerError, CustomerEvent};
pub use status::CustomerDocumentStatus;
