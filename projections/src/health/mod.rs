//! The `instance_health` read model: per instance, where each poller has
//! read to, the webhook status per topic, post outcomes, the last error and
//! whether the instance is paused. The backlog is counted from the
//! `documents` read model when read.
//!
//! [`HealthProjection`] (subscriber [`HealthProjection::NAME`]) keeps the
//! `instance_health` table; [`HealthView`] reads it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mlc_domain::customer::CustomerEvent;
use mlc_domain::delivery::UNKNOWN_INSTANCE;
use mlc_domain::integration::IntegrationEvent;
use mlc_domain::order::OrderEvent;
use mlc_store::{EventStore, Handler, HandlerError, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::documents::on_pool;
use crate::views::{count, save_written_to, time, Buffer, ReadModelError};

const NAME: &str = "health";

/// Where a poller has read a source up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorHealth {
    /// The time of the last record read.
    pub timestamp: DateTime<Utc>,
    /// The id that orders records of the same time.
    pub tie_break: String,
    /// When the cursor last moved.
    pub advanced_at: DateTime<Utc>,
}

/// A webhook subscription of the instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookHealth {
    /// `active`, `disabled` or `paused`.
    pub status: String,
    /// The remote system's id of the webhook, once registered.
    pub remote_id: Option<String>,
    /// Failed checks in a row at the last change.
    pub consecutive_failures: u32,
    /// When the status was last registered or changed.
    pub changed_at: DateTime<Utc>,
}

/// One instance's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceHealth {
    /// The instance.
    pub instance: String,
    /// The configuration version last applied, once configured.
    pub config_version: Option<u64>,
    /// Whether an operator paused it.
    pub paused: bool,
    /// Why, while paused.
    pub pause_reason: Option<String>,
    /// Per source (e.g. `woocommerce-orders`): where its poller has read to.
    pub cursors: BTreeMap<String, CursorHealth>,
    /// Per source: when a poll last found something (a cursor advance; for
    /// `erp-items`, a changed ERP item).
    pub last_polls: BTreeMap<String, DateTime<Utc>>,
    /// Per topic (e.g. `order.created`): the webhook's status.
    pub webhooks: BTreeMap<String, WebhookHealth>,
    /// Orders posted to the ERP, in all.
    pub posts_ok: u64,
    /// Post attempts that failed, in all.
    pub posts_failed: u64,
    /// Credit notes posted, in all.
    pub credit_notes_ok: u64,
    /// Credit note attempts that failed, in all.
    pub credit_notes_failed: u64,
    /// Customer sync attempts that failed, in all.
    pub customers_failed: u64,
    /// Documents and credit notes parked, in all.
    pub parked: u64,
    /// Webhook deliveries refused, in all.
    pub deliveries_rejected: u64,
    /// The last failure's reason.
    pub last_error: Option<String>,
    /// When it was recorded.
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the instance's last event was recorded.
    pub last_event_at: DateTime<Utc>,
    /// Failed post attempts among all post attempts (0 when none).
    pub error_rate: f64,
    /// Order and customer documents not settled (neither posted, synced
    /// nor parked), from the `documents` read model when read.
    pub backlog: u64,
}

impl InstanceHealth {
    fn new(instance: &str, at: DateTime<Utc>) -> Self {
        InstanceHealth {
            instance: instance.to_owned(),
            config_version: None,
            paused: false,
            pause_reason: None,
            cursors: BTreeMap::new(),
            last_polls: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            posts_ok: 0,
            posts_failed: 0,
            credit_notes_ok: 0,
            credit_notes_failed: 0,
            customers_failed: 0,
            parked: 0,
            deliveries_rejected: 0,
            last_error: None,
            last_error_at: None,
            last_event_at: at,
            error_rate: 0.0,
            backlog: 0,
        }
    }
}

/// Keeps the `instance_health` table from every instance's events.
pub struct HealthProjection {
    store: EventStore,
    buffer: Buffer,
}

impl HealthProjection {
    /// The subscriber name its checkpoint is stored under.
    pub const NAME: &'static str = NAME;

    /// A projection writing to `store`'s `instance_health` table.
    pub fn new(store: EventStore) -> Self {
        HealthProjection {
            store,
            buffer: Buffer::default(),
        }
    }
}

impl Handler for HealthProjection {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.instance() != UNKNOWN_INSTANCE {
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
    let mut instances: Vec<&str> = events.iter().map(StoredEvent::instance).collect();
    instances.sort_unstable();
    instances.dedup();
    let mut rows = load(store, &instances).await?;
    for event in events {
        let row = rows
            .entry(event.instance().to_owned())
            .or_insert_with(|| InstanceHealth::new(event.instance(), event.recorded_at));
        apply(row, event)?;
    }
    let mut prepared = Vec::with_capacity(rows.len());
    for row in rows.into_values() {
        prepared.push((
            to_json(&row.cursors),
            to_json(&row.last_polls),
            to_json(&row.webhooks),
            row,
        ));
    }
    let last = events.last().map(|e| e.position).unwrap_or_default();
    let db = ReadModelError::db(NAME);
    const UPSERT: &str = "INSERT INTO instance_health (instance, config_version, paused, \
         pause_reason, cursors, last_polls, webhooks, posts_ok, posts_failed, credit_notes_ok, \
         credit_notes_failed, customers_failed, parked, deliveries_rejected, last_error, \
         last_error_at, last_event_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (instance) DO UPDATE SET config_version = excluded.config_version, \
         paused = excluded.paused, pause_reason = excluded.pause_reason, \
         cursors = excluded.cursors, last_polls = excluded.last_polls, \
         webhooks = excluded.webhooks, posts_ok = excluded.posts_ok, \
         posts_failed = excluded.posts_failed, credit_notes_ok = excluded.credit_notes_ok, \
         credit_notes_failed = excluded.credit_notes_failed, \
         customers_failed = excluded.customers_failed, parked = excluded.parked, \
         deliveries_rejected = excluded.deliveries_rejected, last_error = excluded.last_error, \
         last_error_at = excluded.last_error_at, last_event_at = excluded.last_event_at";
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    mlc_store::with_write_turn!(store, pool => {
        let mut tx = pool.begin().await.map_err(&db)?;
        for (cursors, last_polls, webhooks, r) in &prepared {
            sqlx::query(UPSERT)
                .bind(&r.instance)
                .bind(r.config_version.map(n))
                .bind(i64::from(r.paused))
                .bind(&r.pause_reason)
                .bind(cursors)
                .bind(last_polls)
                .bind(webhooks)
                .bind(n(r.posts_ok))
                .bind(n(r.posts_failed))
                .bind(n(r.credit_notes_ok))
                .bind(n(r.credit_notes_failed))
                .bind(n(r.customers_failed))
                .bind(n(r.parked))
                .bind(n(r.deliveries_rejected))
                .bind(&r.last_error)
                .bind(r.last_error_at.map(|t| t.timestamp_millis()))
                .bind(r.last_event_at.timestamp_millis())
                .execute(&mut *tx)
                .await
                .map_err(&db)?;
        }
        save_written_to!(tx, NAME, last).map_err(&db)?;
        tx.commit().await.map_err(&db)?;
    });
    Ok(())
}

/// A map column as JSON (maps of plain values always serialize).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

fn apply(row: &mut InstanceHealth, event: &StoredEvent) -> Result<(), ReadModelError> {
    let corrupt = |detail: String| ReadModelError::Corrupt {
        projection: NAME,
        what: format!(
            "event {} of {} at {}",
            event.event_type, event.aggregate_id, event.position
        ),
        detail,
    };
    let at = event.recorded_at;
    row.last_event_at = at;
    let failed = |row: &mut InstanceHealth, reason: String| {
        row.last_error = Some(reason);
        row.last_error_at = Some(at);
    };
    match (event.aggregate_type.as_str(), event.event_type.as_str()) {
        ("order_document", "PostedToErp") => row.posts_ok += 1,
        ("order_document", "CreditNotePosted") => row.credit_notes_ok += 1,
        ("order_document", "Parked" | "CreditNoteParked")
        | ("customer_document", "CustomerSyncParked") => row.parked += 1,
        ("order_document", "PostFailed" | "CreditNoteFailed") => {
            match event.payload_as().map_err(|e| corrupt(e.to_string()))? {
                OrderEvent::PostFailed { reason, .. } => {
                    row.posts_failed += 1;
                    failed(row, reason);
                }
                OrderEvent::CreditNoteFailed { reason, .. } => {
                    row.credit_notes_failed += 1;
                    failed(row, reason);
                }
                _ => {}
            }
        }
        ("customer_document", "CustomerSyncFailed") => {
            if let CustomerEvent::CustomerSyncFailed { reason, .. } =
                event.payload_as().map_err(|e| corrupt(e.to_string()))?
            {
                row.customers_failed += 1;
                failed(row, reason);
            }
        }
        ("webhook_delivery", "DeliveryRejected") => row.deliveries_rejected += 1,
        ("item_document", "ErpItemChanged") => {
            row.last_polls.insert("erp-items".into(), at);
        }
        ("integration", _) => match event.payload_as().map_err(|e| corrupt(e.to_string()))? {
            IntegrationEvent::Configured { version, .. } => row.config_version = Some(version),
            IntegrationEvent::Paused { reason } => {
                row.paused = true;
                row.pause_reason = Some(reason);
            }
            IntegrationEvent::Resumed => {
                row.paused = false;
                row.pause_reason = None;
            }
            IntegrationEvent::CursorAdvanced { source, cursor } => {
                row.last_polls.insert(source.clone(), at);
                row.cursors.insert(
                    source,
                    CursorHealth {
                        timestamp: cursor.timestamp,
                        tie_break: cursor.tie_break,
                        advanced_at: at,
                    },
                );
            }
            IntegrationEvent::WebhookRegistered {
                topic, remote_id, ..
            } => {
                row.webhooks.insert(
                    topic,
                    WebhookHealth {
                        status: "active".into(),
                        remote_id: Some(remote_id),
                        consecutive_failures: 0,
                        changed_at: at,
                    },
                );
            }
            IntegrationEvent::WebhookStatusChanged {
                topic,
                status,
                consecutive_failures,
                ..
            } => {
                let remote_id = row.webhooks.get(&topic).and_then(|w| w.remote_id.clone());
                row.webhooks.insert(
                    topic,
                    WebhookHealth {
                        status: status.to_string(),
                        remote_id,
                        consecutive_failures,
                        changed_at: at,
                    },
                );
            }
        },
        _ => {}
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RawRow {
    instance: String,
    config_version: Option<i64>,
    paused: i64,
    pause_reason: Option<String>,
    cursors: String,
    last_polls: String,
    webhooks: String,
    posts_ok: i64,
    posts_failed: i64,
    credit_notes_ok: i64,
    credit_notes_failed: i64,
    customers_failed: i64,
    parked: i64,
    deliveries_rejected: i64,
    last_error: Option<String>,
    last_error_at: Option<i64>,
    last_event_at: i64,
}

const COLUMNS: &str = "instance, config_version, paused, pause_reason, cursors, last_polls, \
     webhooks, posts_ok, posts_failed, credit_notes_ok, credit_notes_failed, customers_failed, \
     parked, deliveries_rejected, last_error, last_error_at, last_event_at";

impl RawRow {
    fn into_health(self) -> Result<InstanceHealth, ReadModelError> {
        let corrupt = |e: serde_json::Error| ReadModelError::Corrupt {
            projection: NAME,
            what: format!("instance_health row {}", self.instance),
            detail: e.to_string(),
        };
        let posts_ok = count(self.posts_ok);
        let posts_failed = count(self.posts_failed);
        let attempts = posts_ok + posts_failed;
        Ok(InstanceHealth {
            cursors: serde_json::from_str(&self.cursors).map_err(corrupt)?,
            last_polls: serde_json::from_str(&self.last_polls).map_err(corrupt)?,
            webhooks: serde_json::from_str(&self.webhooks).map_err(corrupt)?,
            config_version: self.config_version.map(count),
            paused: self.paused != 0,
            pause_reason: self.pause_reason.clone(),
            posts_ok,
            posts_failed,
            credit_notes_ok: count(self.credit_notes_ok),
            credit_notes_failed: count(self.credit_notes_failed),
            customers_failed: count(self.customers_failed),
            parked: count(self.parked),
            deliveries_rejected: count(self.deliveries_rejected),
            last_error: self.last_error.clone(),
            last_error_at: self.last_error_at.map(time),
            last_event_at: time(self.last_event_at),
            error_rate: if attempts == 0 {
                0.0
            } else {
                posts_failed as f64 / attempts as f64
            },
            backlog: 0,
            instance: self.instance,
        })
    }
}

async fn load(
    store: &EventStore,
    instances: &[&str],
) -> Result<BTreeMap<String, InstanceHealth>, ReadModelError> {
    let mut rows = BTreeMap::new();
    for chunk in instances.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let select = format!(
            "SELECT {COLUMNS} FROM instance_health WHERE instance IN ({})",
            placeholders.join(", ")
        );
        let raw: Vec<RawRow> = on_pool!(store, pool => {
            let mut query = sqlx::query_as(&select);
            for instance in chunk {
                query = query.bind(*instance);
            }
            query.fetch_all(pool).await.map_err(ReadModelError::db(NAME))?
        });
        for r in raw {
            let health = r.into_health()?;
            rows.insert(health.instance.clone(), health);
        }
    }
    Ok(rows)
}

/// Reads instance health. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HealthView {
    store: EventStore,
}

/// Documents neither posted, synced nor parked, per instance.
const BACKLOG: &str = "SELECT instance, COUNT(*) FROM documents \
     WHERE status NOT IN ('posted', 'synced', 'parked') AND ($1 IS NULL OR instance = $1) \
     GROUP BY instance";

impl HealthView {
    /// A view over the store's `instance_health` table.
    pub fn new(store: EventStore) -> Self {
        HealthView { store }
    }

    /// One instance's health, if it has recorded anything.
    pub async fn get(&self, instance: &str) -> Result<Option<InstanceHealth>, ReadModelError> {
        Ok(self.read(Some(instance)).await?.into_iter().next())
    }

    /// Every instance's health, by name.
    pub async fn all(&self) -> Result<Vec<InstanceHealth>, ReadModelError> {
        self.read(None).await
    }

    async fn read(&self, instance: Option<&str>) -> Result<Vec<InstanceHealth>, ReadModelError> {
        let select = format!(
            "SELECT {COLUMNS} FROM instance_health WHERE ($1 IS NULL OR instance = $1) \
             ORDER BY instance"
        );
        let db = ReadModelError::db(NAME);
        let (raw, backlog): (Vec<RawRow>, Vec<(String, i64)>) = on_pool!(self.store, pool => {
            let raw = sqlx::query_as(&select).bind(instance).fetch_all(pool).await.map_err(&db)?;
            let backlog = sqlx::query_as(BACKLOG).bind(instance).fetch_all(pool).await.map_err(&db)?;
            (raw, backlog)
        });
        let backlog: BTreeMap<String, i64> = backlog.into_iter().collect();
        raw.into_iter()
            .map(|r| {
                let mut health = r.into_health()?;
                health.backlog = count(backlog.get(&health.instance).copied().unwrap_or(0));
                Ok(health)
            })
            .collect()
    }
}
