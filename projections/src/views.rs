//! What the operator read models (audit, failures, health, counters) share:
//! their error, the buffering of a batch, and the position each writes in
//! the same transaction as its rows, so a batch handed again after a crash
//! is skipped and counts stay exact.

use chrono::{DateTime, Utc};
use mlc_store::{EventStore, Position, StoreError, StoredEvent};

use crate::documents::on_pool;

/// Why an operator read model could not be read, written or rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum ReadModelError {
    /// The database failed.
    #[error("read model {projection}: database error: {source}")]
    Database {
        /// The projection.
        projection: &'static str,
        /// The database's error.
        source: sqlx::Error,
    },
    /// The event store failed.
    #[error("read model {projection}: event store error: {source}")]
    Store {
        /// The projection.
        projection: &'static str,
        /// The store's error.
        source: StoreError,
    },
    /// A stored row could not be read.
    #[error("read model {projection}: cannot read {what}: {detail}")]
    Corrupt {
        /// The projection.
        projection: &'static str,
        /// What (a row, an event).
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// `rebuild` was asked for a projection that does not exist.
    #[error("no projection is named '{0}' (see `ml-connector projections list`)")]
    UnknownProjection(String),
    /// A projection's handler failed during a rebuild.
    #[error("read model {projection}: {detail}")]
    Handler {
        /// The projection.
        projection: String,
        /// What went wrong.
        detail: String,
    },
}

impl ReadModelError {
    pub(crate) fn db(projection: &'static str) -> impl Fn(sqlx::Error) -> ReadModelError {
        move |source| ReadModelError::Database { projection, source }
    }
}

/// Epoch milliseconds to a time.
pub(crate) fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A count from the database.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// The kind of document an aggregate type holds, as operators read it.
pub(crate) fn kind_of(aggregate_type: &str) -> &str {
    match aggregate_type {
        "order_document" => "order",
        "customer_document" => "customer",
        "item_document" => "item",
        "webhook_delivery" => "delivery",
        other => other,
    }
}

/// The position `projection` last wrote, or [`Position::START`].
pub(crate) async fn written_to(
    store: &EventStore,
    projection: &'static str,
) -> Result<Position, ReadModelError> {
    const SELECT: &str = "SELECT tx, position FROM projection_positions WHERE projection = $1";
    let row: Option<(i64, i64)> = on_pool!(store, pool => {
        sqlx::query_as(SELECT)
            .bind(projection)
            .fetch_optional(pool)
            .await
            .map_err(ReadModelError::db(projection))?
    });
    Ok(row.map_or(Position::START, |(tx, global)| Position { tx, global }))
}

/// Saves the position `projection` wrote to, inside its transaction `$tx`.
macro_rules! save_written_to {
    ($tx:expr, $projection:expr, $position:expr) => {
        sqlx::query(
            "INSERT INTO projection_positions (projection, tx, position) VALUES ($1, $2, $3) \
             ON CONFLICT (projection) DO UPDATE SET tx = excluded.tx, position = excluded.position",
        )
        .bind($projection)
        .bind($position.tx)
        .bind($position.global)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use save_written_to;

/// The events of one batch, kept by `handle` until `flush` writes them.
#[derive(Debug, Default)]
pub(crate) struct Buffer {
    events: Vec<StoredEvent>,
}

impl Buffer {
    pub(crate) fn push(&mut self, event: &StoredEvent) {
        self.events.push(event.clone());
    }

    /// The buffered events after what `projection` already wrote (a batch
    /// handed again after a crash is dropped here), emptying the buffer.
    pub(crate) async fn take_new(
        &mut self,
        store: &EventStore,
        projection: &'static str,
    ) -> Result<Vec<StoredEvent>, ReadModelError> {
        if self.events.is_empty() {
            return Ok(Vec::new());
        }
        let written = written_to(store, projection).await?;
        let mut events = std::mem::take(&mut self.events);
        events.retain(|e| e.position > written);
        Ok(events)
    }

    /// Puts a batch back after a failed write: the subscription retries the flush.
    pub(crate) fn restore(&mut self, events: Vec<StoredEvent>) {
        let mut later = std::mem::replace(&mut self.events, events);
        self.events.append(&mut later);
    }
}
