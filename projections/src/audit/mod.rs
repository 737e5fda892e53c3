//! The `audit` read model: one row per event with its time, actor, cause, a
//! one-line summary and the outside call it records, secrets removed.
//!
//! [`AuditProjection`] (subscriber [`AuditProjection::NAME`]) keeps the
//! `audit` table; [`AuditView`] reads it.

mod secrets;
mod summary;

use chrono::{DateTime, Utc};
use mlc_store::{EventStore, Handler, HandlerError, StoredEvent};
use serde::Serialize;
use serde_json::Value;

pub use secrets::{is_secret_key, redact_text, strip_secrets};

use crate::documents::on_pool;
use crate::views::{kind_of, save_written_to, time, Buffer, ReadModelError};

const NAME: &str = "audit";

/// One event as the audit trail shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// The event's global position.
    pub position: i64,
    /// The instance it belongs to.
    pub instance: String,
    /// The document (aggregate) id, e.g. `shop-eu/order/1042`, or the
    /// instance for its own events.
    pub document_id: String,
    /// `order`, `customer`, `item`, `delivery` or `integration`.
    pub kind: String,
    /// The event's sequence within its document.
    pub sequence: i64,
    /// The event type, e.g. `PostedToErp`.
    pub event_type: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it (`order-worker`, an operator...), when known.
    pub actor: Option<String>,
    /// Why, when known.
    pub cause: Option<String>,
    /// What happened, in one line.
    pub summary: String,
    /// The outside call behind the event (`{"request": .., "response": ..}`),
    /// secrets removed, when the event records one.
    pub outside_call: Option<Value>,
    /// The event's metadata, secrets removed.
    pub metadata: Value,
}

/// Keeps the `audit` table: one row per event, written in one multi-row
/// insert per batch; a row already there is left as it is.
pub struct AuditProjection {
    store: EventStore,
    buffer: Buffer,
}

impl AuditProjection {
    /// The subscriber name its checkpoint is stored under.
    pub const NAME: &'static str = NAME;

    /// A projection writing to `store`'s `audit` table.
    pub fn new(store: EventStore) -> Self {
        AuditProjection {
            store,
            buffer: Buffer::default(),
        }
    }
}

impl Handler for AuditProjection {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        self.buffer.push(event);
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), HandlerError> {
        let events = self.buffer.take_new(&self.store, NAME).await?;
        if events.is_empty() {
            return Ok(());
        }
        if let Err(e) = write_batch(&self.store, &events).await {
            self.buffer.restore(events);
            return Err(Box::new(e));
        }
        Ok(())
    }
}

/// The audit row of one event.
pub(crate) fn entry_of(event: &StoredEvent) -> AuditEntry {
    let mut metadata: Value =
        serde_json::from_str(&event.metadata).unwrap_or_else(|_| Value::Object(Default::default()));
    strip_secrets(&mut metadata);
    let text = |key: &str| {
        metadata.get(key).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
    };
    let actor = text("actor");
    let cause = text("cause");
    let outside_call = match (metadata.get("request"), metadata.get("response")) {
        (None, None) => metadata.get("call").cloned(),
        (request, response) => Some(serde_json::json!({
            "request": request.cloned().unwrap_or(Value::Null),
            "response": response.cloned().unwrap_or(Value::Null),
        })),
    };
    AuditEntry {
        position: event.position.global,
        instance: event.instance().to_owned(),
        document_id: event.aggregate_id.clone(),
        kind: kind_of(&event.aggregate_type).to_owned(),
        sequence: event.sequence,
        event_type: event.event_type.clone(),
        recorded_at: event.recorded_at,
        actor,
        cause,
        summary: summary::summarize(&event.event_type, &event.payload),
        outside_call,
        metadata,
    }
}

async fn write_batch(store: &EventStore, events: &[StoredEvent]) -> Result<(), ReadModelError> {
    let entries: Vec<(i64, AuditEntry, Option<String>, String)> = events
        .iter()
        .map(|e| {
            let entry = entry_of(e);
            let call = entry.outside_call.as_ref().map(Value::to_string);
            let metadata = entry.metadata.to_string();
            (e.position.tx, entry, call, metadata)
        })
        .collect();
    let last = events.last().map(|e| e.position).unwrap_or_default();
    let db = ReadModelError::db(NAME);
    mlc_store::with_write_turn!(store, pool => {
        let mut tx = pool.begin().await.map_err(&db)?;
        for chunk in entries.chunks(1000) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO audit (position, tx, instance, document_id, kind, sequence, \
                 event_type, recorded_at, actor, cause, summary, outside_call, metadata) ",
            );
            insert.push_values(chunk, |mut row, (tx, e, call, metadata)| {
                row.push_bind(e.position)
                    .push_bind(*tx)
                    .push_bind(&e.instance)
                    .push_bind(&e.document_id)
                    .push_bind(&e.kind)
                    .push_bind(e.sequence)
                    .push_bind(&e.event_type)
                    .push_bind(e.recorded_at.timestamp_millis())
                    .push_bind(&e.actor)
                    .push_bind(&e.cause)
                    .push_bind(&e.summary)
                    .push_bind(call)
                    .push_bind(metadata);
            });
            insert.push(" ON CONFLICT (position) DO NOTHING");
            insert.build().execute(&mut *tx).await.map_err(&db)?;
        }
        save_written_to!(tx, NAME, last).map_err(&db)?;
        tx.commit().await.map_err(&db)?;
    });
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RawEntry {
    position: i64,
    instance: String,
    document_id: String,
    kind: String,
    sequence: i64,
    event_type: String,
    recorded_at: i64,
    actor: Option<String>,
    cause: Option<String>,
    summary: String,
    outside_call: Option<String>,
    metadata: String,
}

impl From<RawEntry> for AuditEntry {
    fn from(r: RawEntry) -> Self {
        AuditEntry {
            position: r.position,
            instance: r.instance,
            document_id: r.document_id,
            kind: r.kind,
            sequence: r.sequence,
            event_type: r.event_type,
            recorded_at: time(r.recorded_at),
            actor: r.actor,
            cause: r.cause,
            summary: r.summary,
            outside_call: r.outside_call.and_then(|c| serde_json::from_str(&c).ok()),
            metadata: serde_json::from_str(&r.metadata).unwrap_or(Value::Null),
        }
    }
}

const COLUMNS: &str = "position, instance, document_id, kind, sequence, event_type, recorded_at, \
     actor, cause, summary, outside_call, metadata";

/// Reads the audit trail. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditView {
    store: EventStore,
}

impl AuditView {
    /// A view over the store's `audit` table.
    pub fn new(store: EventStore) -> Self {
        AuditView { store }
    }

    /// Every event of one document (or of an instance's own stream, given
    /// the instance), oldest first.
    pub async fn for_document(&self, id: &str) -> Result<Vec<AuditEntry>, ReadModelError> {
        let select =
            format!("SELECT {COLUMNS} FROM audit WHERE document_id = $1 ORDER BY position");
        let rows: Vec<RawEntry> = on_pool!(self.store, pool => {
            sqlx::query_as(&select).bind(id).fetch_all(pool).await.map_err(ReadModelError::db(NAME))?
        });
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// Up to `limit` (at most 1000) events of `instance` with a position
    /// after `after` (0 for the first page), oldest first: page on with the
    /// last position returned.
    pub async fn for_instance(
        &self,
        instance: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, ReadModelError> {
        let select = format!(
            "SELECT {COLUMNS} FROM audit WHERE instance = $1 AND position > $2 \
             ORDER BY position LIMIT $3"
        );
        let rows: Vec<RawEntry> = on_pool!(self.store, pool => {
            sqlx::query_as(&select)
                .bind(instance)
                .bind(after)
                .bind(i64::from(limit.min(1000)))
                .fetch_all(pool)
                .await
                .map_err(ReadModelError::db(NAME))?
        });
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }

    /// The `limit` (at most 1000) most recent events of `instance`, newest first.
    pub async fn latest(
        &self,
        instance: &str,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, ReadModelError> {
        let select = format!(
            "SELECT {COLUMNS} FROM audit WHERE instance = $1 ORDER BY position DESC LIMIT $2"
        );
        let rows: Vec<RawEntry> = on_pool!(self.store, pool => {
            sqlx::query_as(&select)
                .bind(instance)
                .bind(i64::from(limit.min(1000)))
                .fetch_all(pool)
                .await
                .map_err(ReadModelError::db(NAME))?
        });
        Ok(rows.into_iter().map(AuditEntry::from).collect())
    }
}
