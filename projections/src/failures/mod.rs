//! The `failures` read model: the failure queue of documents that are parked,
//! failed or waiting for a retry, with their reasons, attempt counts and next
//! retry. A document leaves it when it posts (or syncs) or is replayed.
//!
//! [`FailuresProjection`] (subscriber [`FailuresProjection::NAME`]) keeps the
//! `failures` table; [`FailuresView`] reads it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mlc_domain::customer::CustomerEvent;
use mlc_domain::order::OrderEvent;
use mlc_store::{EventStore, Handler, HandlerError, StoredEvent};
use serde::Serialize;

use crate::documents::{on_pool, Page};
use crate::views::{count, save_written_to, time, Buffer, ReadModelError};

const NAME: &str = "failures";

/// One document in the failure queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureRow {
    /// The document id, `{instance}/{kind}/{source_id}`.
    pub id: String,
    /// The instance.
    pub instance: String,
    /// `order` or `customer`.
    pub kind: String,
    /// `parked`, `failed` (a failure not yet followed by a retry or a park),
    /// `retry_scheduled`, or for a posted order's credit note
    /// `credit_note_parked`, `credit_note_failed`, `credit_note_retry_scheduled`.
    pub status: String,
    /// Why it is parked, or why the last attempt failed.
    pub reason: Option<String>,
    /// Failed attempts since receipt or the last replay.
    pub attempts: u32,
    /// When the next attempt is due, if one is scheduled.
    pub next_retry: Option<DateTime<Utc>>,
    /// The refund whose credit note failed (credit-note statuses only).
    pub refund_id: Option<String>,
    /// When the document entered the queue.
    pub since: DateTime<Utc>,
    /// When its last event was recorded.
    pub updated_at: DateTime<Utc>,
}

/// Which failures to list; every field narrows the list when set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureFilter {
    /// Only this instance.
    pub instance: Option<String>,
    /// Only this status (as in [`FailureRow::status`]).
    pub status: Option<String>,
    /// Only this kind (`order`, `customer`).
    pub kind: Option<String>,
}

/// A page of the failure queue, most recently changed first, and how many
/// match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailurePage {
    /// The rows of this page.
    pub items: Vec<FailureRow>,
    /// Rows matching the filter in all.
    pub total: u64,
}

/// Keeps the `failures` table from the order and customer documents' events.
pub struct FailuresProjection {
    store: EventStore,
    buffer: Buffer,
}

impl FailuresProjection {
    /// The subscriber name its checkpoint is stored under.
    pub const NAME: &'static str = NAME;

    /// A projection writing to `store`'s `failures` table.
    pub fn new(store: EventStore) -> Self {
        FailuresProjection {
            store,
            buffer: Buffer::default(),
        }
    }
}

/// Event types that change the queue.
fn relevant(event: &StoredEvent) -> bool {
    matches!(
        event.event_type.as_str(),
        "PostFailed"
            | "RetryScheduled"
            | "Parked"
            | "PostedToErp"
            | "ReplayRequested"
            | "Rewound"
            | "CreditNoteFailed"
            | "CreditNoteParked"
            | "CreditNotePosted"
            | "CustomerSyncFailed"
            | "CustomerSyncParked"
            | "ErpCustomerSynced"
            | "CustomerReplayRequested"
    ) && (event.aggregate_type == "order_document" || event.aggregate_type == "customer_document")
}

impl Handler for FailuresProjection {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        if relevant(event) {
            self.buffer.push(event);
        }
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

struct Entry {
    row: Option<FailureRow>,
    version: i64,
    touched: bool,
}

async fn write_batch(store: &EventStore, events: &[StoredEvent]) -> Result<(), ReadModelError> {
    let mut ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut entries = load(store, &ids).await?;
    for event in events {
        apply(&mut entries, event)?;
    }
    let mut deletes = Vec::new();
    let mut upserts = Vec::new();
    for (id, entry) in entries.into_iter().filter(|(_, e)| e.touched) {
        match entry.row {
            Some(row) => upserts.push((row, entry.version)),
            None => deletes.push(id),
        }
    }
    let last = events.last().map(|e| e.position).unwrap_or_default();
    let db = ReadModelError::db(NAME);
    mlc_store::with_write_turn!(store, pool => {
        let mut tx = pool.begin().await.map_err(&db)?;
        for chunk in deletes.chunks(1000) {
            let mut delete = sqlx::QueryBuilder::new("DELETE FROM failures WHERE id IN (");
            let mut list = delete.separated(", ");
            for id in chunk {
                list.push_bind(id);
            }
            delete.push(")");
            delete.build().execute(&mut *tx).await.map_err(&db)?;
        }
        for chunk in upserts.chunks(1000) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO failures (id, instance, kind, status, reason, attempts, next_retry, \
                 refund_id, since, updated_at, version) ",
            );
            insert.push_values(chunk, |mut row, (r, version)| {
                row.push_bind(&r.id)
                    .push_bind(&r.instance)
                    .push_bind(&r.kind)
                    .push_bind(&r.status)
                    .push_bind(&r.reason)
                    .push_bind(i64::from(r.attempts))
                    .push_bind(r.next_retry.map(|t| t.timestamp_millis()))
                    .push_bind(&r.refund_id)
                    .push_bind(r.since.timestamp_millis())
                    .push_bind(r.updated_at.timestamp_millis())
                    .push_bind(*version);
            });
            insert.push(
                " ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, \
                 kind = excluded.kind, status = excluded.status, reason = excluded.reason, \
                 attempts = excluded.attempts, next_retry = excluded.next_retry, \
                 refund_id = excluded.refund_id, since = excluded.since, \
                 updated_at = excluded.updated_at, version = excluded.version",
            );
            insert.build().execute(&mut *tx).await.map_err(&db)?;
        }
        save_written_to!(tx, NAME, last).map_err(&db)?;
        tx.commit().await.map_err(&db)?;
    });
    Ok(())
}

async fn load(store: &EventStore, ids: &[&str]) -> Result<BTreeMap<String, Entry>, ReadModelError> {
    let mut entries = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let select = format!(
            "SELECT {COLUMNS}, version FROM failures WHERE id IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<RawRow> = on_pool!(store, pool => {
            let mut query = sqlx::query_as(&select);
            for id in chunk {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await.map_err(ReadModelError::db(NAME))?
        });
        for raw in rows {
            let version = raw.version;
            let row = FailureRow::from(raw);
            entries.insert(
                row.id.clone(),
                Entry {
                    row: Some(row),
                    version,
                    touched: false,
                },
            );
        }
    }
    Ok(entries)
}

/// What an event does to a document's place in the queue.
enum Change {
    /// It failed (or its credit note did): `status`, `reason`, `attempts`.
    Failed {
        status: &'static str,
        reason: Option<String>,
        attempts: Option<u32>,
        next_retry: Option<DateTime<Utc>>,
        refund_id: Option<String>,
    },
    /// A retry was planned.
    Retry {
        attempt: u32,
        not_before: DateTime<Utc>,
    },
    /// It left the queue.
    Settled,
    /// It left the queue if its row is about this refund's credit note.
    CreditNoteSettled(String),
    /// Nothing.
    None,
}

fn change_of(event: &StoredEvent) -> Result<Change, ReadModelError> {
    let corrupt = |detail: String| ReadModelError::Corrupt {
        projection: NAME,
        what: format!(
            "event {} of {} at {}",
            event.event_type, event.aggregate_id, event.position
        ),
        detail,
    };
    if event.aggregate_type == "order_document" {
        let payload: OrderEvent = event.payload_as().map_err(|e| corrupt(e.to_string()))?;
        Ok(match payload {
            OrderEvent::PostFailed {
                attempt, reason, ..
            } => Change::Failed {
                status: "failed",
                reason: Some(reason),
                attempts: Some(attempt),
                next_retry: None,
                refund_id: None,
            },
            OrderEvent::RetryScheduled {
                attempt,
                not_before,
            } => Change::Retry {
                attempt,
                not_before,
            },
            OrderEvent::Parked { reason } => Change::Failed {
                status: "parked",
                reason: Some(reason),
                attempts: None,
                next_retry: None,
                refund_id: None,
            },
            OrderEvent::PostedToErp { .. }
            | OrderEvent::ReplayRequested { .. }
            | OrderEvent::Rewound { .. } => Change::Settled,
            OrderEvent::CreditNoteFailed {
                refund_id,
                attempt,
                reason,
                not_before,
                ..
            } => Change::Failed {
                status: if not_before.is_some() {
                    "credit_note_retry_scheduled"
                } else {
                    "credit_note_failed"
                },
                reason: Some(reason),
                attempts: Some(attempt),
                next_retry: not_before,
                refund_id: Some(refund_id),
            },
            OrderEvent::CreditNoteParked { refund_id, reason } => Change::Failed {
                status: "credit_note_parked",
                reason: Some(reason),
                attempts: None,
                next_retry: None,
                refund_id: Some(refund_id),
            },
            OrderEvent::CreditNotePosted { refund_id, .. } => Change::CreditNoteSettled(refund_id),
            _ => Change::None,
        })
    } else {
        let payload: CustomerEvent = event.payload_as().map_err(|e| corrupt(e.to_string()))?;
        Ok(match payload {
            CustomerEvent::CustomerSyncFailed {
                attempt,
                reason,
                not_before,
                ..
            } => Change::Failed {
                status: if not_before.is_some() {
                    "retry_scheduled"
                } else {
                    "failed"
                },
                reason: Some(reason),
                attempts: Some(attempt),
                next_retry: not_before,
                refund_id: None,
            },
            CustomerEvent::CustomerSyncParked { reason } => Change::Failed {
                status: "parked",
                reason: Some(reason),
                attempts: None,
                next_retry: None,
                refund_id: None,
            },
            CustomerEvent::ErpCustomerSynced { .. }
            | CustomerEvent::CustomerReplayRequested { .. } => Change::Settled,
            _ => Change::None,
        })
    }
}

fn apply(entries: &mut BTreeMap<String, Entry>, event: &StoredEvent) -> Result<(), ReadModelError> {
    let change = change_of(event)?;
    let entry = entries
        .entry(event.aggregate_id.clone())
        .or_insert_with(|| Entry {
            row: None,
            version: 0,
            touched: false,
        });
    let kind = if event.aggregate_type == "order_document" {
        "order"
    } else {
        "customer"
    };
    let new_row = |status: &str| FailureRow {
        id: event.aggregate_id.clone(),
        instance: event.instance().to_owned(),
        kind: kind.to_owned(),
        status: status.to_owned(),
        reason: None,
        attempts: 0,
        next_retry: None,
        refund_id: None,
        since: event.recorded_at,
        updated_at: event.recorded_at,
    };
    match change {
        Change::None => return Ok(()),
        Change::Settled => entry.row = None,
        Change::CreditNoteSettled(refund) => {
            if entry
                .row
                .as_ref()
                .is_some_and(|r| r.refund_id.as_deref() == Some(refund.as_str()))
            {
                entry.row = None;
            }
        }
        Change::Failed {
            status,
            reason,
            attempts,
            next_retry,
            refund_id,
        } => {
            let row = entry.row.get_or_insert_with(|| new_row(status));
            row.status = status.to_owned();
            if reason.is_some() {
                row.reason = reason;
            }
            if let Some(attempts) = attempts {
                row.attempts = attempts;
            }
            row.next_retry = next_retry;
            if refund_id.is_some() || !status.starts_with("credit_note") {
                row.refund_id = refund_id;
            }
            row.updated_at = event.recorded_at;
        }
        Change::Retry {
            attempt,
            not_before,
        } => {
            let row = entry.row.get_or_insert_with(|| new_row("retry_scheduled"));
            row.status = "retry_scheduled".to_owned();
            row.attempts = row.attempts.max(attempt.saturating_sub(1));
            row.next_retry = Some(not_before);
            row.updated_at = event.recorded_at;
        }
    }
    entry.version = event.sequence;
    entry.touched = true;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RawRow {
    id: String,
    instance: String,
    kind: String,
    status: String,
    reason: Option<String>,
    attempts: i64,
    next_retry: Option<i64>,
    refund_id: Option<String>,
    since: i64,
    updated_at: i64,
    #[sqlx(default)]
    version: i64,
}

impl From<RawRow> for FailureRow {
    fn from(r: RawRow) -> Self {
        FailureRow {
            id: r.id,
            instance: r.instance,
            kind: r.kind,
            status: r.status,
            reason: r.reason,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            next_retry: r.next_retry.map(time),
            refund_id: r.refund_id,
            since: time(r.since),
            updated_at: time(r.updated_at),
        }
    }
}

const COLUMNS: &str =
    "id, instance, kind, status, reason, attempts, next_retry, refund_id, since, updated_at";

/// Reads the failure queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FailuresView {
    store: EventStore,
}

impl FailuresView {
    /// A view over the store's `failures` table.
    pub fn new(store: EventStore) -> Self {
        FailuresView { store }
    }

    /// The failures matching `filter`, most recently changed first.
    pub async fn list(
        &self,
        filter: &FailureFilter,
        page: Page,
    ) -> Result<FailurePage, ReadModelError> {
        const WHERE: &str = "($1 IS NULL OR instance = $1) AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR kind = $3)";
        let select = format!(
            "SELECT {COLUMNS} FROM failures WHERE {WHERE} \
             ORDER BY updated_at DESC, id LIMIT $4 OFFSET $5"
        );
        let count_sql = format!("SELECT COUNT(*) FROM failures WHERE {WHERE}");
        let limit = i64::try_from(page.limit.min(1000)).unwrap_or(1000);
        let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
        let db = ReadModelError::db(NAME);
        let (rows, total): (Vec<RawRow>, i64) = on_pool!(self.store, pool => {
            let rows = sqlx::query_as(&select)
                .bind(&filter.instance)
                .bind(&filter.status)
                .bind(&filter.kind)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
                .map_err(&db)?;
            let total: (i64,) = sqlx::query_as(&count_sql)
                .bind(&filter.instance)
                .bind(&filter.status)
                .bind(&filter.kind)
                .fetch_one(pool)
                .await
                .map_err(&db)?;
            (rows, total.0)
        });
        Ok(FailurePage {
            items: rows.into_iter().map(FailureRow::from).collect(),
            total: count(total),
        })
    }

    /// One document's entry, if it is in the queue.
    pub async fn get(&self, id: &str) -> Result<Option<FailureRow>, ReadModelError> {
        let select = format!("SELECT {COLUMNS} FROM failures WHERE id = $1");
        let row: Option<RawRow> = on_pool!(self.store, pool => {
            sqlx::query_as(&select).bind(id).fetch_optional(pool).await.map_err(ReadModelError::db(NAME))?
        });
        Ok(row.map(FailureRow::from))
    }
}
