//! The `documents` read model: one row per order and customer document.
//!
//! [`DocumentsProjection`] is the subscriber (name [`DocumentsProjection::NAME`])
//! that keeps the `documents` table; [`DocumentsView`] reads it.

mod projection;
mod row;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mlc_store::EventStore;
use serde::Serialize;

pub use projection::DocumentsProjection;

/// Runs `$body` with `$pool` bound to the store's SQLite or PostgreSQL pool:
/// the SQL is the same on both (`$n` parameters, `ON CONFLICT`).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match ($store.sqlite_pool(), $store.postgres_pool()) {
            (Some($pool), _) => $body,
            (None, Some($pool)) => $body,
            (None, None) => unreachable!("a store has one pool"),
        }
    };
}
pub(crate) use on_pool;

/// Why the documents read model could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The database failed.
    #[error("documents read model: database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row or an event could not be read.
    #[error("documents read model: cannot read {what}: {detail}")]
    Corrupt {
        /// What (a document id, an event).
        what: String,
        /// What was wrong.
        detail: String,
    },
}

/// One document as the read model shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentRow {
    /// The document id, `{instance}/{kind}/{source_id}`.
    pub id: String,
    /// The instance.
    pub instance: String,
    /// `order` or `customer`.
    pub kind: String,
    /// Orders: `received`, `customer_resolved`, `posted`, `failed`,
    /// `retry_scheduled`, `parked`. Customers: `pending`, `synced`,
    /// `retry_scheduled`, `parked`.
    pub status: String,
    /// The number the channel shows (order number, customer id).
    pub channel_number: Option<String>,
    /// The ERP's number (sales order, customer), once known.
    pub erp_number: Option<String>,
    /// The customer's e-mail (else name).
    pub customer: Option<String>,
    /// The ERP customer number, once resolved.
    pub erp_customer: Option<String>,
    /// Failed attempts since receipt, the last replay or success.
    pub attempts: u32,
    /// Why it is parked or why the last attempt failed.
    pub last_reason: Option<String>,
    /// When the next attempt is due, if one is scheduled.
    pub not_before: Option<DateTime<Utc>>,
    /// The document's version (its last event's sequence).
    pub version: u64,
    /// When the document was first received.
    pub received_at: Option<DateTime<Utc>>,
    /// When its last event was recorded.
    pub updated_at: DateTime<Utc>,
    /// Refunds still waiting for a credit note (orders).
    pub refunds_pending: u32,
}

/// Which documents to list; every field narrows the list when set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// Only this instance.
    pub instance: Option<String>,
    /// Only this status (as in [`DocumentRow::status`]).
    pub status: Option<String>,
    /// Only this kind (`order`, `customer`).
    pub kind: Option<String>,
    /// Text found (case-insensitively) in the id, the channel or ERP
    /// number, or the customer.
    pub search: Option<String>,
}

/// A page of a list: `limit` rows after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows skipped.
    pub offset: u64,
    /// Rows returned at most (capped at 1000).
    pub limit: u64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            offset: 0,
            limit: 50,
        }
    }
}

/// A page of documents, newest change first, and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentPage {
    /// The rows of this page.
    pub items: Vec<DocumentRow>,
    /// Rows matching the filter in all.
    pub total: u64,
}

/// How many documents of one kind are in one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusCount {
    /// `order` or `customer`.
    pub kind: String,
    /// The status.
    pub status: String,
    /// How many.
    pub count: u64,
}

#[derive(sqlx::FromRow)]
struct RawRow {
    id: String,
    instance: String,
    kind: String,
    status: String,
    channel_number: Option<String>,
    erp_number: Option<String>,
    customer: Option<String>,
    erp_customer: Option<String>,
    attempts: i64,
    last_reason: Option<String>,
    not_before: Option<i64>,
    version: i64,
    received_at: Option<i64>,
    updated_at: i64,
    refunds_pending: i64,
}

const COLUMNS: &str = "id, instance, kind, status, channel_number, erp_number, customer, \
     erp_customer, attempts, last_reason, not_before, version, received_at, updated_at, \
     refunds_pending";

/// Documents that are due: the order worker's queue, read through the
/// partial index `documents_due_at`, which holds only the rows with work
/// (the projection sets `due_at`; see `row.rs`), so a look costs the work
/// waiting, not the history. Parameter `$1` is now (epoch ms); `$2` the
/// limit; `$3` the instance, when the queue is one instance's.
const DUE: &str = "due_at IS NOT NULL AND due_at <= $1";

/// The due-work query, of one instance or of all. One text per case, each
/// with a plan of its own: an instance's queue is one range of the index,
/// in the order it is taken.
fn due_sql(of_one_instance: bool) -> String {
    if of_one_instance {
        format!(
            "SELECT {COLUMNS} FROM documents WHERE instance = $3 AND {DUE} \
             ORDER BY instance, updated_at, id LIMIT $2"
        )
    } else {
        format!("SELECT {COLUMNS} FROM documents WHERE {DUE} ORDER BY updated_at, id LIMIT $2")
    }
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl From<RawRow> for DocumentRow {
    fn from(r: RawRow) -> Self {
        DocumentRow {
            id: r.id,
            instance: r.instance,
            kind: r.kind,
            status: r.status,
            channel_number: r.channel_number,
            erp_number: r.erp_number,
            customer: r.customer,
            erp_customer: r.erp_customer,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            last_reason: r.last_reason,
            not_before: r.not_before.map(time),
            version: u64::try_from(r.version).unwrap_or_default(),
            received_at: r.received_at.map(time),
            updated_at: time(r.updated_at),
            refunds_pending: u32::try_from(r.refunds_pending).unwrap_or(u32::MAX),
        }
    }
}

/// Reads the documents read model. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DocumentsView {
    store: EventStore,
    changes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl DocumentsView {
    /// A view over the store's `documents` table.
    pub fn new(store: EventStore) -> Self {
        DocumentsView {
            store,
            changes: std::sync::Arc::new(tokio::sync::watch::channel(0).0),
        }
    }

    /// A receiver that changes whenever a projection in this process wrote
    /// rows through this view (a hint: readers poll as well).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub(crate) fn notify_changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn store(&self) -> &EventStore {
        &self.store
    }

    /// The documents matching `filter`, most recently changed first.
    pub async fn list(
        &self,
        filter: &DocumentFilter,
        page: Page,
    ) -> Result<DocumentPage, ProjectionError> {
        const WHERE: &str = "($1 IS NULL OR instance = $1) AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR kind = $3) AND ($4 IS NULL OR LOWER(id) LIKE $4 ESCAPE '\\' \
             OR LOWER(channel_number) LIKE $4 ESCAPE '\\' OR LOWER(erp_number) LIKE $4 ESCAPE '\\' \
             OR LOWER(customer) LIKE $4 ESCAPE '\\')";
        let search = filter.search.as_deref().map(|s| {
            let escaped = s
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
        let limit = i64::try_from(page.limit.min(1000)).unwrap_or(1000);
        let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
        let select = format!(
            "SELECT {COLUMNS} FROM documents WHERE {WHERE} \
             ORDER BY updated_at DESC, id LIMIT $5 OFFSET $6"
        );
        let count = format!("SELECT COUNT(*) FROM documents WHERE {WHERE}");
        let (rows, total): (Vec<RawRow>, i64) = on_pool!(self.store, pool => {
            let rows = sqlx::query_as(&select)
                .bind(&filter.instance)
                .bind(&filter.status)
                .bind(&filter.kind)
                .bind(&search)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total: (i64,) = sqlx::query_as(&count)
                .bind(&filter.instance)
                .bind(&filter.status)
                .bind(&filter.kind)
                .bind(&search)
                .fetch_one(pool)
                .await?;
            (rows, total.0)
        });
        Ok(DocumentPage {
            items: rows.into_iter().map(DocumentRow::from).collect(),
            total: u64::try_from(total).unwrap_or_default(),
        })
    }

    /// One document by id.
    pub async fn get(&self, id: &str) -> Result<Option<DocumentRow>, ProjectionError> {
        let select = format!("SELECT {COLUMNS} FROM documents WHERE id = $1");
        let row: Option<RawRow> = on_pool!(self.store, pool => {
            sqlx::query_as(&select).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(DocumentRow::from))
    }

    /// Documents of every instance the order worker must drive now, oldest
    /// change first: orders received, customer-resolved or failed, retries
    /// due, posted orders with refunds pending whose credit note is due, and
    /// customers pending sync or due for a retry.
    pub async fn due_work(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DocumentRow>, ProjectionError> {
        self.due(None, now, limit).await
    }

    /// [`DocumentsView::due_work`] of one instance.
    pub async fn due_work_of(
        &self,
        instance: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DocumentRow>, ProjectionError> {
        self.due(Some(instance), now, limit).await
    }

    async fn due(
        &self,
        instance: Option<&str>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DocumentRow>, ProjectionError> {
        let select = due_sql(instance.is_some());
        let rows: Vec<RawRow> = on_pool!(self.store, pool => {
            let mut query = sqlx::query_as(&select)
                .bind(now.timestamp_millis())
                .bind(i64::from(limit));
            if let Some(instance) = instance {
                query = query.bind(instance);
            }
            query.fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(DocumentRow::from).collect())
    }

    /// How many documents of `instance` are in each status, by kind.
    pub async fn counts_by_status(
        &self,
        instance: &str,
    ) -> Result<Vec<StatusCount>, ProjectionError> {
        const SELECT: &str = "SELECT kind, status, COUNT(*) FROM documents WHERE instance = $1 \
             GROUP BY kind, status ORDER BY kind, status";
        let rows: Vec<(String, String, i64)> = on_pool!(self.store, pool => {
            sqlx::query_as(SELECT).bind(instance).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(kind, status, count)| StatusCount {
                kind,
                status,
                count: u64::try_from(count).unwrap_or_default(),
            })
            .collect())
    }

    /// The same counts as a map `"{kind}/{status}" -> count`, for dashboards.
    pub async fn count_map(
        &self,
        instance: &str,
    ) -> Result<BTreeMap<String, u64>, ProjectionError> {
        Ok(self
            .counts_by_status(instance)
            .await?
            .into_iter()
            .map(|c| (format!("{}/{}", c.kind, c.status), c.count))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlc_store::testing::TestDatabase;

    /// How the database would run an instance's due-work query.
    async fn plan_of_due_work(backend: &str) -> String {
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        let sql = due_sql(true);
        let plan = match (store.sqlite_pool(), store.postgres_pool()) {
            (Some(pool), _) => {
                let rows: Vec<(i64, i64, i64, String)> =
                    sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                        .bind(0_i64)
                        .bind(200_i64)
                        .bind("shop")
                        .fetch_all(pool)
                        .await
                        .unwrap();
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>()
            }
            (None, Some(pool)) => {
                let mut conn = pool.acquire().await.unwrap();
                // An empty table is read whole whatever its indexes: ask
                // for the plan a table of many documents gets.
                sqlx::query("SET enable_seqscan = off")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                let sql = sql
                    .replace("$1", "0")
                    .replace("$2", "200")
                    .replace("$3", "'shop'");
                let rows: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN {sql}"))
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
                rows.into_iter().map(|r| r.0).collect()
            }
            (None, None) => unreachable!("a store has one pool"),
        };
        store.close().await;
        plan.join("\n")
    }

    /// An instance's queue is one range of the partial index of the rows
    /// with work, read in the order it is taken (no sort): a look at it
    /// costs the work waiting, not every document ever recorded.
    async fn the_due_queue_is_read_from_its_partial_index(backend: &str) {
        let plan = plan_of_due_work(backend).await;
        assert!(plan.contains("documents_due_at"), "{backend}: {plan}");
        assert!(
            !plan.contains("Sort") && !plan.contains("TEMP B-TREE"),
            "{backend}: {plan}"
        );
    }

    #[tokio::test]
    async fn the_due_queue_is_read_from_its_partial_index_sqlite() {
        the_due_queue_is_read_from_its_partial_index("sqlite").await;
    }

    #[tokio::test]
    async fn the_due_queue_is_read_from_its_partial_index_postgres() {
        the_due_queue_is_read_from_its_partial_index("postgres").await;
    }
}
