use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::{Database, Encode, QueryBuilder, Row, Type};

use crate::database::Pool;
use crate::{EventStore, Position, StoreError, StoredEvent};

/// Which events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only this instance's events: its `Integration` aggregate and every
    /// document whose id starts with `{instance}/`.
    pub instance: Option<String>,
    /// Only this aggregate (a document id such as `shop-eu/order/1042`).
    pub aggregate_id: Option<String>,
    /// Only events of this type, e.g. `Parked`.
    pub event_type: Option<String>,
}

const COLUMNS: &str = "global_position, recorded_at, aggregate_type, aggregate_id, sequence, event_type, event_version";

impl EventStore {
    /// Up to `limit` events after `after`, in global order. On PostgreSQL only
    /// events of transactions older than every transaction still open are
    /// returned, so an event that commits late is never passed over.
    pub async fn read_after(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.read(&EventFilter::default(), after, limit).await
    }

    /// Like [`EventStore::read_after`], keeping only the events `filter` selects.
    pub async fn read(
        &self,
        filter: &EventFilter,
        after: Position,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.select(filter, after, limit, true).await
    }

    /// Every committed event that `filter` selects with a global position
    /// after `after_global`, by global position: what an operator lists.
    /// Unlike [`EventStore::read`] it does not wait for older transactions
    /// still open, so it suits inspection, not checkpointed reading.
    pub async fn list(
        &self,
        filter: &EventFilter,
        after_global: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let after = Position {
            tx: 0,
            global: after_global,
        };
        self.select(filter, after, limit, false).await
    }

    async fn select(
        &self,
        filter: &EventFilter,
        after: Position,
        limit: usize,
        ordered: bool,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match &self.inner.pool {
            Pool::Sqlite(pool) => {
                // The batch comes back as one JSON array in one row: sqlx
                // hands each SQLite row from its worker thread to the caller
                // on its own, which cost more than reading the row itself.
                let mut q = QueryBuilder::new(format!(
                    "SELECT json_group_array(json_array({COLUMNS}, json(payload), json(metadata))) FROM
                       (SELECT {COLUMNS}, payload, metadata FROM events WHERE global_position > "
                ));
                q.push_bind(after.global);
                push_filters(&mut q, filter);
                q.push(" ORDER BY global_position LIMIT ")
                    .push(limit)
                    .push(")");
                let batch: String = q.build_query_scalar().fetch_one(pool).await?;
                decode_sqlite_batch(&batch)
            }
            Pool::Postgres(pool) => {
                let mut q = QueryBuilder::new(format!(
                    "SELECT {COLUMNS}, payload::text, metadata::text, transaction_id::text::int8 AS tx FROM events WHERE "
                ));
                if ordered {
                    q.push("(transaction_id, global_position) > (")
                        .push_bind(after.tx.to_string())
                        .push("::xid8, ")
                        .push_bind(after.global)
                        .push(") AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())");
                } else {
                    q.push("global_position > ").push_bind(after.global);
                }
                push_filters(&mut q, filter);
                // A literal LIMIT: with a parameter, PostgreSQL's generic plan
                // guesses a tenth of the table and may sort it instead of
                // walking the index (5x slower on a freshly loaded table).
                q.push(if ordered {
                    " ORDER BY events.transaction_id, events.global_position LIMIT "
                } else {
                    " ORDER BY global_position LIMIT "
                })
                .push(limit);
                let pool = match (&self.inner.reader, ordered) {
                    (Some(reader), true) => reader,
                    _ => pool,
                };
                let rows = q.build().fetch_all(pool).await?;
                rows.iter().map(decode_postgres).collect()
            }
        }
    }

    /// The position of the last event a reader may see now: where a new
    /// subscriber starts when it should skip the history.
    pub async fn head(&self) -> Result<Position, StoreError> {
        Ok(match &self.inner.pool {
            Pool::Sqlite(pool) => Position {
                tx: 0,
                global: sqlx::query_scalar("SELECT IFNULL(MAX(global_position), 0) FROM events")
                    .fetch_one(pool)
                    .await?,
            },
            Pool::Postgres(pool) => {
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT transaction_id::text::int8 AS tx, global_position FROM events
                      WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                      ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1",
                )
                .fetch_optional(self.inner.reader.as_ref().unwrap_or(pool))
                .await?;
                row.map_or(Position::START, |(tx, global)| Position { tx, global })
            }
        })
    }

    /// How many events the store holds.
    pub async fn count(&self) -> Result<i64, StoreError> {
        Ok(match &self.inner.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM events")
                    .fetch_one(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM events")
                    .fetch_one(pool)
                    .await?
            }
        })
    }
}

fn push_filters<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, filter: &'a EventFilter)
where
    String: Encode<'a, DB> + Type<DB>,
    &'a String: Encode<'a, DB> + Type<DB>,
{
    if let Some(instance) = &filter.instance {
        // substr rather than LIKE: instance names may hold `_`, a LIKE wildcard.
        let prefix = format!("{instance}/");
        q.push(" AND (aggregate_id = ")
            .push_bind(instance)
            .push(" OR substr(aggregate_id, 1, ")
            .push(prefix.chars().count().to_string())
            .push(") = ")
            .push_bind(prefix)
            .push(")");
    }
    if let Some(id) = &filter.aggregate_id {
        q.push(" AND aggregate_id = ").push_bind(id);
    }
    if let Some(event_type) = &filter.event_type {
        q.push(" AND event_type = ").push_bind(event_type);
    }
}

/// One event of a batch read from SQLite, in the order of `COLUMNS`.
type SqliteRowJson = (
    i64,
    DateTime<Utc>,
    String,
    String,
    i64,
    String,
    String,
    Box<RawValue>,
    Box<RawValue>,
);

fn decode_sqlite_batch(batch: &str) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<SqliteRowJson> = serde_json::from_str(batch)?;
    Ok(rows
        .into_iter()
        .map(|row| StoredEvent {
            position: Position {
                tx: 0,
                global: row.0,
            },
            recorded_at: row.1,
            aggregate_type: row.2,
            aggregate_id: row.3,
            sequence: row.4,
            event_type: row.5,
            event_version: row.6,
            payload: Box::<str>::from(row.7).into(),
            metadata: Box::<str>::from(row.8).into(),
        })
        .collect())
}

fn decode_postgres(row: &sqlx::postgres::PgRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        position: Position {
            tx: row.try_get(9)?,
            global: row.try_get(0)?,
        },
        recorded_at: row.try_get(1)?,
        aggregate_type: row.try_get(2)?,
        aggregate_id: row.try_get(3)?,
        sequence: row.try_get(4)?,
        event_type: row.try_get(5)?,
        event_version: row.try_get(6)?,
        payload: row.try_get(7)?,
        metadata: row.try_get(8)?,
    })
}
