//! The `counters` read model: per instance and UTC day, how many orders were
//! received, posted and parked, how many attempts failed or were retried,
//! refunds credited, customers synced and webhook deliveries refused. For
//! the dashboard.
//!
//! [`CountersProjection`] (subscriber [`CountersProjection::NAME`]) keeps the
//! `counters` table; [`CountersView`] reads it. The counts are exact: each
//! batch is added in the same transaction as the position it reaches, so a
//! batch handed again is not counted twice.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, Utc};
use mlc_domain::delivery::UNKNOWN_INSTANCE;
use mlc_store::{EventStore, Handler, HandlerError, StoredEvent};
use serde::Serialize;

use crate::documents::on_pool;
use crate::views::{count, save_written_to, Buffer, ReadModelError};

const NAME: &str = "counters";

/// One instance's counts on one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayCounters {
    /// The instance.
    pub instance: String,
    /// The UTC day.
    pub day: NaiveDate,
    /// Orders received (first delivery of each order).
    pub orders_received: u64,
    /// Orders posted to the ERP.
    pub orders_posted: u64,
    /// Orders parked for an operator.
    pub orders_parked: u64,
    /// Post attempts that failed.
    pub post_failures: u64,
    /// Order post retries scheduled.
    pub retries: u64,
    /// Credit notes posted for refunds.
    pub refunds_credited: u64,
    /// Customers synced to the ERP.
    pub customers_synced: u64,
    /// Webhook deliveries refused.
    pub webhooks_rejected: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Delta([i64; 8]);

const RECEIVED: usize = 0;
const POSTED: usize = 1;
const PARKED: usize = 2;
const POST_FAILURES: usize = 3;
const RETRIES: usize = 4;
const CREDITED: usize = 5;
const CUSTOMERS: usize = 6;
const REJECTED: usize = 7;

/// Which count an event adds to.
fn counter_of(event: &StoredEvent) -> Option<usize> {
    Some(
        match (event.aggregate_type.as_str(), event.event_type.as_str()) {
            ("order_document", "OrderReceived") => RECEIVED,
            ("order_document", "PostedToErp") => POSTED,
            ("order_document", "Parked") => PARKED,
            ("order_document", "PostFailed") => POST_FAILURES,
            ("order_document", "RetryScheduled") => RETRIES,
            ("order_document", "CreditNotePosted") => CREDITED,
            ("customer_document", "ErpCustomerSynced") => CUSTOMERS,
            ("webhook_delivery", "DeliveryRejected") => REJECTED,
            _ => return None,
        },
    )
}

/// Keeps the `counters` table.
pub struct CountersProjection {
    store: EventStore,
    buffer: Buffer,
}

impl CountersProjection {
    /// The subscriber name its checkpoint is stored under.
    pub const NAME: &'static str = NAME;

    /// A projection writing to `store`'s `counters` table.
    pub fn new(store: EventStore) -> Self {
        CountersProjection {
            store,
            buffer: Buffer::default(),
        }
    }
}

impl Handler for CountersProjection {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        if counter_of(event).is_some() && event.instance() != UNKNOWN_INSTANCE {
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

async fn write_batch(store: &EventStore, events: &[StoredEvent]) -> Result<(), ReadModelError> {
    let mut deltas: BTreeMap<(String, String), Delta> = BTreeMap::new();
    for event in events {
        if let Some(counter) = counter_of(event) {
            let day = event.recorded_at.date_naive().to_string();
            deltas
                .entry((event.instance().to_owned(), day))
                .or_default()
                .0[counter] += 1;
        }
    }
    let deltas: Vec<_> = deltas.into_iter().collect();
    let last = events.last().map(|e| e.position).unwrap_or_default();
    let db = ReadModelError::db(NAME);
    mlc_store::with_write_turn!(store, pool => {
        let mut tx = pool.begin().await.map_err(&db)?;
        for chunk in deltas.chunks(1000) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO counters (instance, day, orders_received, orders_posted, \
                 orders_parked, post_failures, retries, refunds_credited, customers_synced, \
                 webhooks_rejected) ",
            );
            insert.push_values(chunk, |mut row, ((instance, day), delta)| {
                row.push_bind(instance).push_bind(day);
                for n in delta.0 {
                    row.push_bind(n);
                }
            });
            insert.push(
                " ON CONFLICT (instance, day) DO UPDATE SET \
                 orders_received = counters.orders_received + excluded.orders_received, \
                 orders_posted = counters.orders_posted + excluded.orders_posted, \
                 orders_parked = counters.orders_parked + excluded.orders_parked, \
                 post_failures = counters.post_failures + excluded.post_failures, \
                 retries = counters.retries + excluded.retries, \
                 refunds_credited = counters.refunds_credited + excluded.refunds_credited, \
                 customers_synced = counters.customers_synced + excluded.customers_synced, \
                 webhooks_rejected = counters.webhooks_rejected + excluded.webhooks_rejected",
            );
            insert.build().execute(&mut *tx).await.map_err(&db)?;
        }
        save_written_to!(tx, NAME, last).map_err(&db)?;
        tx.commit().await.map_err(&db)?;
    });
    Ok(())
}

type RawRow = (String, String, i64, i64, i64, i64, i64, i64, i64, i64);

/// Reads the counters. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CountersView {
    store: EventStore,
}

impl CountersView {
    /// A view over the store's `counters` table.
    pub fn new(store: EventStore) -> Self {
        CountersView { store }
    }

    /// `instance`'s counts of the last `days` UTC days (today included),
    /// oldest first; days without any count are left out.
    pub async fn for_instance(
        &self,
        instance: &str,
        days: u32,
    ) -> Result<Vec<DayCounters>, ReadModelError> {
        let today = Utc::now().date_naive();
        let first = today
            .checked_sub_days(Days::new(u64::from(days.max(1)) - 1))
            .unwrap_or(NaiveDate::MIN);
        const SELECT: &str = "SELECT instance, day, orders_received, orders_posted, \
             orders_parked, post_failures, retries, refunds_credited, customers_synced, \
             webhooks_rejected FROM counters WHERE instance = $1 AND day >= $2 ORDER BY day";
        let rows: Vec<RawRow> = on_pool!(self.store, pool => {
            sqlx::query_as(SELECT)
                .bind(instance)
                .bind(first.to_string())
                .fetch_all(pool)
                .await
                .map_err(ReadModelError::db(NAME))?
        });
        rows.into_iter()
            .map(|r| {
                Ok(DayCounters {
                    day: r
                        .1
                        .parse()
                        .map_err(|e: chrono::ParseError| ReadModelError::Corrupt {
                            projection: NAME,
                            what: format!("counters of {} on {}", r.0, r.1),
                            detail: e.to_string(),
                        })?,
                    instance: r.0,
                    orders_received: count(r.2),
                    orders_posted: count(r.3),
                    orders_parked: count(r.4),
                    post_failures: count(r.5),
                    retries: count(r.6),
                    refunds_credited: count(r.7),
                    customers_synced: count(r.8),
                    webhooks_rejected: count(r.9),
                })
            })
            .collect()
    }

    /// The sum of [`CountersView::for_instance`] over its days.
    pub async fn totals(&self, instance: &str, days: u32) -> Result<DayCounters, ReadModelError> {
        let mut total = DayCounters {
            instance: instance.to_owned(),
            day: Utc::now().date_naive(),
            ..Default::default()
        };
        for d in self.for_instance(instance, days).await? {
            total.orders_received += d.orders_received;
            total.orders_posted += d.orders_posted;
            total.orders_parked += d.orders_parked;
            total.post_failures += d.post_failures;
            total.retries += d.retries;
            total.refunds_credited += d.refunds_credited;
            total.customers_synced += d.customers_synced;
            total.webhooks_rejected += d.webhooks_rejected;
        }
        Ok(total)
    }
}
