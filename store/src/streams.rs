//! Loading the streams of many aggregates in one query: what the batching
//! [`CommandBus`](crate::CommandBus) rebuilds its aggregates from.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::database::Pool;
use crate::{EventStore, Position, StoreError, StoredEvent};

/// Aggregates per SQLite statement: two parameters each, well below
/// SQLite's limit of 32,766 parameters.
const SQLITE_IDS_PER_STATEMENT: usize = 5000;

impl EventStore {
    /// The events of every aggregate of type `aggregate_type` named in `ids`,
    /// in one query, keyed by aggregate id, each stream in sequence order.
    /// Aggregates without events are absent from the map.
    pub async fn load_streams(
        &self,
        aggregate_type: &str,
        ids: &[&str],
    ) -> Result<HashMap<String, Vec<StoredEvent>>, StoreError> {
        let wanted: Vec<(&str, i64)> = ids.iter().map(|id| (*id, 0)).collect();
        self.load_streams_after(aggregate_type, &wanted).await
    }

    /// Like [`EventStore::load_streams`], but for each `(id, after)` only
    /// the events with a sequence above `after`: what a cache that holds an
    /// aggregate at version `after` still has to apply.
    pub async fn load_streams_after(
        &self,
        aggregate_type: &str,
        wanted: &[(&str, i64)],
    ) -> Result<HashMap<String, Vec<StoredEvent>>, StoreError> {
        let mut streams: HashMap<String, Vec<StoredEvent>> = HashMap::new();
        if wanted.is_empty() {
            return Ok(streams);
        }
        let events = match &self.inner.pool {
            Pool::Postgres(pool) => {
                let ids: Vec<&str> = wanted.iter().map(|(id, _)| *id).collect();
                let after: Vec<i64> = wanted.iter().map(|(_, after)| *after).collect();
                let rows = sqlx::query(
                    "SELECT e.global_position, e.recorded_at, e.aggregate_id, e.sequence, e.event_type,
                            e.event_version, e.payload::text, e.metadata::text, e.transaction_id::text::int8
                       FROM UNNEST($2::text[], $3::int8[]) AS w(id, after)
                       JOIN events e ON e.aggregate_id = w.id AND e.aggregate_type = $1 AND e.sequence > w.after
                      ORDER BY e.aggregate_id, e.sequence",
                )
                .bind(aggregate_type)
                .bind(ids)
                .bind(after)
                // Planned for each call, with the table as it is: a plan
                // cached while the table was small hash-joins every event
                // of the type, slower with every event appended.
                .persistent(false)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(StoredEvent {
                            position: Position {
                                tx: row.try_get(8)?,
                                global: row.try_get(0)?,
                            },
                            recorded_at: row.try_get(1)?,
                            aggregate_type: aggregate_type.to_string(),
                            aggregate_id: row.try_get(2)?,
                            sequence: row.try_get(3)?,
                            event_type: row.try_get(4)?,
                            event_version: row.try_get(5)?,
                            payload: row.try_get(6)?,
                            metadata: row.try_get(7)?,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
            Pool::Sqlite(pool) => {
                let mut events = Vec::new();
                for chunk in wanted.chunks(SQLITE_IDS_PER_STATEMENT) {
                    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("WITH w(id, after) AS (");
                    q.push_values(chunk, |mut row, (id, after)| {
                        row.push_bind(*id).push_bind(*after);
                    });
                    q.push(
                        ") SELECT e.global_position, e.recorded_at, e.aggregate_id, e.sequence, e.event_type,
                                  e.event_version, e.payload, e.metadata
                             FROM w JOIN events e ON e.aggregate_id = w.id AND e.aggregate_type = ",
                    )
                    .push_bind(aggregate_type)
                    .push(" AND e.sequence > w.after ORDER BY e.aggregate_id, e.sequence");
                    // Its text differs with the number of ids: not kept prepared.
                    let rows = q.build().persistent(false).fetch_all(pool).await?;
                    for row in rows {
                        let recorded_at: DateTime<Utc> = row.try_get(1)?;
                        events.push(StoredEvent {
                            position: Position {
                                tx: 0,
                                global: row.try_get(0)?,
                            },
                            recorded_at,
                            aggregate_type: aggregate_type.to_string(),
                            aggregate_id: row.try_get(2)?,
                            sequence: row.try_get(3)?,
                            event_type: row.try_get(4)?,
                            event_version: row.try_get(5)?,
                            payload: row.try_get(6)?,
                            metadata: row.try_get(7)?,
                        });
                    }
                }
                events
            }
        };
        for event in events {
            streams
                .entry(event.aggregate_id.clone())
                .or_default()
                .push(event);
        }
        Ok(streams)
    }
}
