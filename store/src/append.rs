use sqlx::{QueryBuilder, Sqlite};

use crate::database::Pool;
use crate::{EventStore, NewEvent, StoreError};

/// Rows per INSERT statement on SQLite: 9 parameters a row stays well below
/// SQLite's limit of 32,766 parameters.
const SQLITE_ROWS_PER_STATEMENT: usize = 1000;

impl EventStore {
    /// Appends `events` in one transaction: all of them or none. A sequence
    /// already taken by another writer is a [`StoreError::Conflict`] and
    /// nothing is written. Returns the global positions given to the events.
    pub async fn append(&self, events: &[NewEvent]) -> Result<Vec<i64>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let result = match &self.inner.pool {
            Pool::Sqlite(pool) => {
                let _turn = self.write_turn().await;
                append_sqlite(pool, events).await
            }
            Pool::Postgres(pool) => append_postgres(pool, events).await,
        };
        match result {
            Ok(positions) => {
                self.inner.wake.bump();
                Ok(positions)
            }
            Err(sqlx::Error::Database(db)) if is_unique_violation(db.code().as_deref()) => {
                let taken = self.first_taken(events).await.unwrap_or(&events[0]);
                Err(StoreError::Conflict {
                    aggregate_type: taken.aggregate_type.clone(),
                    aggregate_id: taken.aggregate_id.clone(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn is_unique_violation(code: Option<&str>) -> bool {
    // PostgreSQL unique_violation; SQLite PRIMARYKEY and UNIQUE constraints.
    matches!(code, Some("23505" | "1555" | "2067"))
}

impl EventStore {
    /// The first of `events` whose sequence is already taken: to name the
    /// aggregate of a conflict, which the databases' messages do not.
    async fn first_taken<'e>(&self, events: &'e [NewEvent]) -> Option<&'e NewEvent> {
        const TAKEN: &str = "SELECT COUNT(*) FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3";
        for event in events {
            let found: Result<i64, sqlx::Error> = match &self.inner.pool {
                Pool::Sqlite(pool) => {
                    sqlx::query_scalar(TAKEN)
                        .bind(&event.aggregate_type)
                        .bind(&event.aggregate_id)
                        .bind(event.sequence)
                        .fetch_one(pool)
                        .await
                }
                Pool::Postgres(pool) => {
                    sqlx::query_scalar(TAKEN)
                        .bind(&event.aggregate_type)
                        .bind(&event.aggregate_id)
                        .bind(event.sequence)
                        .fetch_one(pool)
                        .await
                }
            };
            if found.ok()? > 0 {
                return Some(event);
            }
        }
        None
    }
}

async fn append_postgres(
    pool: &sqlx::PgPool,
    events: &[NewEvent],
) -> Result<Vec<i64>, sqlx::Error> {
    // Payloads go as text and are stored as `json` (ADR 008): PostgreSQL
    // checks them without building jsonb.
    if let [event] = events {
        // One statement in autocommit: one round trip, atomic on its own.
        return sqlx::query_scalar(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ($1, $2, $3, $4, $5, $6::json, $7::json) RETURNING global_position",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(event.payload.as_str())
        .bind(event.metadata.as_str())
        .fetch_all(pool)
        .await;
    }
    // Column-wise arrays for UNNEST: one bind per column, whatever the count.
    let types: Vec<&str> = events.iter().map(|e| e.aggregate_type.as_str()).collect();
    let ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    let event_types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let versions: Vec<&str> = events.iter().map(|e| e.event_version.as_str()).collect();
    let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
    let metadata: Vec<&str> = events.iter().map(|e| e.metadata.as_str()).collect();
    // One statement, so one transaction, whatever the number of events.
    sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT t, i, s, et, ev, p::json, m::json
           FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS u(t, i, s, et, ev, p, m)
         RETURNING global_position",
    )
    .bind(types)
    .bind(ids)
    .bind(sequences)
    .bind(event_types)
    .bind(versions)
    .bind(payloads)
    .bind(metadata)
    .fetch_all(pool)
    .await
}

async fn append_sqlite(
    pool: &sqlx::SqlitePool,
    events: &[NewEvent],
) -> Result<Vec<i64>, sqlx::Error> {
    if let [event] = events {
        // SQLite has one writer at a time: the position is drawn inside the
        // writing statement, so it is gap-free and in commit order.
        return sqlx::query_scalar(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, global_position)
             VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT IFNULL(MAX(global_position), 0) + 1 FROM events))
             RETURNING global_position",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(&event.event_version)
        .bind(event.payload.as_str())
        .bind(event.metadata.as_str())
        .fetch_all(pool)
        .await;
    }
    // IMMEDIATE takes the write lock first, so the MAX read below cannot be
    // overtaken by another writer before our INSERTs.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let last: i64 = sqlx::query_scalar("SELECT IFNULL(MAX(global_position), 0) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    let mut next = last;
    for chunk in events.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let mut insert: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, global_position) ",
        );
        insert.push_values(chunk, |mut row, e| {
            next += 1;
            row.push_bind(&e.aggregate_type)
                .push_bind(&e.aggregate_id)
                .push_bind(e.sequence)
                .push_bind(&e.event_type)
                .push_bind(&e.event_version)
                .push_bind(e.payload.as_str())
                .push_bind(e.metadata.as_str())
                .push_bind(next);
        });
        // Not kept prepared: one large statement per row count otherwise.
        insert.build().persistent(false).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok((last + 1..=next).collect())
}
