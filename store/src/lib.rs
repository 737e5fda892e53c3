//! The event store of ml-connector, on SQLite (embedded default) or
//! PostgreSQL behind one interface, and the ordered, checkpointed
//! subscription that every process actor and projection is built on.
//!
//! - [`EventStore`] opens the database named by a URL, runs the migrations,
//!   appends events (one or many in one transaction) and reads them in global
//!   order.
//! - [`EventStore::cqrs`] and [`EventStore::snapshot_cqrs`] build cqrs-es
//!   frameworks whose repositories (sqlite-es, postgres-es) write to the same
//!   tables.
//! - [`Subscription`] hands a named [`Handler`] every event after its saved
//!   checkpoint, in order, at least once.

mod append;
mod checkpoint;
mod command_bus;
mod database;
mod error;
mod event;
mod read;
mod repository;
mod streams;
mod subscription;
mod wake;

/// Runs `$body` holding `$store`'s write turn ([`EventStore::write_turn`]),
/// with `$pool` bound to the store's pool, whichever backend it is. The
/// turn ends with `$body`: every write site of a read model or of the
/// gateway goes through here, so none can forget the turn or hold it past
/// its transaction.
#[macro_export]
macro_rules! with_write_turn {
    ($store:expr, $pool:ident => $body:expr) => {{
        let _turn = $store.write_turn().await;
        match ($store.sqlite_pool(), $store.postgres_pool()) {
            (Some($pool), _) => $body,
            (None, Some($pool)) => $body,
            (None, None) => unreachable!("a store has one pool"),
        }
    }};
}

pub use command_bus::{CommandBus, CommandBusOptions, CommandBusStats, CommandError, Executed};
pub use database::{sqlite_url_in, Backend, EventStore, StoreOptions, WriteTurn};
pub use error::StoreError;
pub use event::{JsonText, NewEvent, Position, StoredEvent};
pub use read::EventFilter;
pub use repository::{AnyEventRepository, StoreCqrs};
#[cfg(feature = "testing")]
pub mod testing;

pub use subscription::{
    Handler, HandlerError, Subscription, SubscriptionOptions, SubscriptionStatus, CHECKPOINT_EVERY,
};
