//! The scheduled poll of ERP items and the push of their prices and stock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::Aggregate;
use mlc_connectors::{ConnectorError, Erp, ProductUpdate, Storefront};
use mlc_domain::integration::{Integration, IntegrationCommand, PollCursor};
use mlc_domain::item::{ItemCommand, ItemDocument, ItemError, ItemEvent};
use mlc_domain::mapping::ErpItemState;
use mlc_domain::model::{InstanceId, Sku};
use mlc_store::{CommandBus, CommandError, EventStore};
use opentelemetry::metrics::Counter;
use opentelemetry::KeyValue;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::documents::{DocumentError, Documents};
use crate::periodic::{self, Step};

/// The name of the items cursor on the `Integration` aggregate.
pub const ITEMS_SOURCE: &str = "items";

/// What a [`StockPoller`] needs.
#[derive(Clone)]
pub struct StockPollerDeps {
    /// The event store.
    pub store: EventStore,
    /// The instance polled; its `Integration` must be configured.
    pub instance: InstanceId,
    /// Where items, prices and stock come from.
    pub erp: Arc<dyn Erp>,
    /// Where they go.
    pub storefront: Arc<dyn Storefront>,
    /// Time between polls.
    pub interval: Duration,
    /// The ERP price list synced (the connector's default when `None`).
    pub price_list: Option<String>,
    /// The ERP locations whose quantities are summed (all when empty).
    pub locations: Vec<String>,
    /// The batching command path for item documents, when the process runs
    /// one; without it each item is recorded with its own load and append.
    pub bus: Option<CommandBus<ItemDocument>>,
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollSummary {
    /// The poll was skipped because the instance is paused.
    pub paused: bool,
    /// Items the ERP returned.
    pub read: usize,
    /// Items whose price, quantity or description changed (or were new).
    pub changed: usize,
    /// Items that were due for a push.
    pub pending: usize,
    /// Products written to the store in the batch.
    pub written: usize,
    /// Items whose product already carried the price and stock (recorded, not written).
    pub already_current: usize,
    /// Items whose SKU the store does not have.
    pub not_in_channel: usize,
    /// Items whose push failed (they are pushed again next poll).
    pub failed: usize,
    /// Items the ERP returned that could not be recorded (e.g. an invalid SKU).
    pub invalid: usize,
    /// The items cursor after the poll.
    pub cursor: Option<NaiveDate>,
}

/// Why a poll stopped. What it recorded before stopping stays recorded.
#[derive(Debug, thiserror::Error)]
pub enum StockError {
    /// The ERP could not be read.
    #[error("reading changed items: {0}")]
    Erp(#[source] ConnectorError),
    /// The event store failed or refused.
    #[error(transparent)]
    Document(#[from] DocumentError),
}

/// Polls one instance's ERP items and pushes changed prices and stock to its
/// store.
///
/// Each poll reads the items changed since the `items` cursor's date,
/// inclusive (Sage's `DateLastMaintained` has no time of day, so the whole
/// day is read again and the item documents drop what did not change), then
/// pushes every item whose last observation differs from its last push, and
/// moves the cursor to the latest date seen. An item whose push failed holds
/// the cursor at its date, so it is read and pushed again on the next poll,
/// also after a restart: pending pushes are always recomputed from the item
/// documents.
pub struct StockPoller {
    deps: StockPollerDeps,
    items: Documents<ItemDocument>,
    integration: Documents<Integration>,
    metrics: Metrics,
}

/// Counters of the polls, by instance: `mlc.stock.items_changed`,
/// `mlc.stock.products_written`, `mlc.stock.push_failures`.
struct Metrics {
    changed: Counter<u64>,
    written: Counter<u64>,
    failed: Counter<u64>,
}

impl Metrics {
    fn new() -> Self {
        let meter = opentelemetry::global::meter("mlc-actors");
        Metrics {
            changed: meter
                .u64_counter("mlc.stock.items_changed")
                .with_description("ERP items whose price, stock or description changed")
                .build(),
            written: meter
                .u64_counter("mlc.stock.products_written")
                .with_description("Store products updated with ERP prices and stock")
                .build(),
            failed: meter
                .u64_counter("mlc.stock.push_failures")
                .with_description("Price and stock pushes the store refused or missed")
                .build(),
        }
    }

    fn record(&self, instance: &InstanceId, summary: &PollSummary) {
        let attributes = [KeyValue::new("instance", instance.as_str().to_owned())];
        self.changed.add(summary.changed as u64, &attributes);
        self.written.add(summary.written as u64, &attributes);
        self.failed.add(summary.failed as u64, &attributes);
    }
}

/// A running [`StockPoller`].
pub struct StockPollerHandle {
    task: JoinHandle<()>,
    last: Arc<Mutex<Option<PollSummary>>>,
}

impl StockPollerHandle {
    /// The summary of the last completed poll.
    pub fn last_summary(&self) -> Option<PollSummary> {
        self.last.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits until the poller has stopped (after its shutdown token fired).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

impl StockPoller {
    /// A poller over `deps`; [`StockPoller::poll_once`] runs one poll.
    pub fn new(deps: StockPollerDeps) -> Self {
        Self {
            items: Documents::new(&deps.store),
            integration: Documents::new(&deps.store),
            metrics: Metrics::new(),
            deps,
        }
    }

    /// Polls now and then every `interval` until `shutdown` fires.
    pub fn start(deps: StockPollerDeps, shutdown: CancellationToken) -> StockPollerHandle {
        let interval = deps.interval;
        let (task, last) = periodic::spawn(Self::new(deps), interval, None, shutdown);
        StockPollerHandle { task, last }
    }

    /// One poll: read, record, push, advance the cursor.
    pub async fn poll_once(&self) -> Result<PollSummary, StockError> {
        let instance = &self.deps.instance;
        let integration = self.integration.load(instance.as_str()).await?;
        let mut summary = PollSummary::default();
        let current = integration
            .cursor(ITEMS_SOURCE)
            .map(|c| c.timestamp.date_naive());
        summary.cursor = current;
        if integration.is_paused() {
            summary.paused = true;
            return Ok(summary);
        }
        let states = self
            .deps
            .erp
            .items_changed_since(
                current,
                self.deps.price_list.as_deref(),
                &self.deps.locations,
            )
            .await
            .map_err(StockError::Erp)?;
        summary.read = states.len();

        // Decide every observation on the item documents as they stand
        // (loaded in one query), record the changes, keep what is due.
        let mut latest: Option<NaiveDate> = None;
        let mut observed = Vec::with_capacity(states.len());
        for state in states {
            match ItemDocument::id_of(instance, &state.item_number) {
                Ok(id) => observed.push((id.to_string(), state)),
                Err(e) => {
                    tracing::warn!(%instance, item = %state.item_number, error = %e, "ERP item skipped");
                    summary.invalid += 1;
                }
            }
        }
        let ids: Vec<&str> = observed.iter().map(|(id, _)| id.as_str()).collect();
        let mut documents = self.load_items(&ids).await?;
        let observed_at = Utc::now();
        let mut commands = Vec::new();
        let mut pending: Vec<(ErpItemState, ItemDocument)> = Vec::new();
        for (id, state) in observed {
            let document = documents.remove(&id).unwrap_or_default();
            let command = ItemCommand::ObserveErpItem {
                instance: instance.clone(),
                state: state.clone(),
                observed_at,
            };
            let (document, changed) = match decided(document, command.clone()) {
                Ok(outcome) => outcome,
                Err(e) => {
                    tracing::warn!(%instance, %id, error = %e, "ERP item refused");
                    summary.invalid += 1;
                    continue;
                }
            };
            latest = latest.max(Some(state.last_maintained));
            if changed {
                summary.changed += 1;
                commands.push((id, command));
            }
            if document.pending_push() {
                pending.push((state, document));
            }
        }
        self.record_all(commands).await?;
        summary.pending = pending.len();

        let held = self.push(&pending, &mut summary).await?;

        // The cursor moves to the latest date read, but never past an item
        // still waiting for its push.
        let target = match (latest, held) {
            (Some(latest), Some(held)) => Some(latest.min(held)),
            (latest, _) => latest,
        };
        if let Some(date) = target {
            if current.is_none_or(|c| date > c) {
                let cursor = PollCursor::new(midnight(date), "0");
                self.integration
                    .execute(instance.as_str(), |i| {
                        i.decide(IntegrationCommand::AdvanceCursor {
                            source: ITEMS_SOURCE.into(),
                            cursor: cursor.clone(),
                        })
                    })
                    .await?;
                summary.cursor = Some(date);
            }
        }
        tracing::info!(
            %instance,
            read = summary.read,
            changed = summary.changed,
            written = summary.written,
            already_current = summary.already_current,
            not_in_channel = summary.not_in_channel,
            failed = summary.failed,
            cursor = ?summary.cursor,
            "stock poll"
        );
        self.metrics.record(instance, &summary);
        Ok(summary)
    }

    /// Pushes the pending items in one batch and records each outcome;
    /// returns the earliest date of an item still pending afterwards.
    async fn push(
        &self,
        pending: &[(ErpItemState, ItemDocument)],
        summary: &mut PollSummary,
    ) -> Result<Option<NaiveDate>, StockError> {
        if pending.is_empty() {
            return Ok(None);
        }
        let skus: Vec<Sku> = pending
            .iter()
            .filter_map(|(state, _)| Sku::new(&state.item_number).ok())
            .collect();
        let products = match self.deps.storefront.products_by_sku(&skus).await {
            Ok(products) => products,
            Err(e) => {
                let ids: Vec<_> = pending.iter().collect();
                self.record_failures(&ids, &e, summary).await?;
                return Ok(pending.iter().map(|(s, _)| s.last_maintained).min());
            }
        };
        let by_sku: HashMap<&str, _> = products.iter().map(|p| (p.sku.as_str(), p)).collect();

        let mut updates = Vec::new();
        let mut batch = Vec::new();
        let mut commands = Vec::new();
        for entry in pending {
            let (_, document) = entry;
            let observed = document.observed().expect("a pending item was observed");
            let Some(product) = by_sku.get(observed.sku.as_str()) else {
                commands.push((
                    id_of(document),
                    ItemCommand::RecordNotInChannel {
                        sku: observed.sku.clone(),
                        checked_at: Utc::now(),
                    },
                ));
                summary.not_in_channel += 1;
                continue;
            };
            let price = observed.price.filter(|p| product.price != Some(*p));
            let stock_quantity = observed
                .quantity_available
                .filter(|q| product.stock_quantity != Some(*q));
            if price.is_none() && stock_quantity.is_none() {
                // The store already shows it: record, write nothing.
                commands.push(pushed(document, &product.id));
                summary.already_current += 1;
                continue;
            }
            updates.push(ProductUpdate {
                product: (*product).clone(),
                price,
                stock_quantity,
            });
            batch.push(entry);
        }
        if updates.is_empty() {
            self.record_all(commands).await?;
            return Ok(None);
        }
        match self.deps.storefront.update_products(&updates).await {
            Ok(()) => {
                for ((_, document), update) in batch.iter().zip(&updates) {
                    commands.push(pushed(document, &update.product.id));
                }
                summary.written += updates.len();
                self.record_all(commands).await?;
                Ok(None)
            }
            Err(e) => {
                self.record_all(commands).await?;
                self.record_failures(&batch, &e, summary).await?;
                Ok(batch.iter().map(|(s, _)| s.last_maintained).min())
            }
        }
    }

    async fn record_failures(
        &self,
        items: &[&(ErpItemState, ItemDocument)],
        error: &ConnectorError,
        summary: &mut PollSummary,
    ) -> Result<(), StockError> {
        tracing::warn!(instance = %self.deps.instance, items = items.len(), %error, "stock push failed");
        let failed_at = Utc::now();
        let commands = items
            .iter()
            .map(|(_, document)| {
                (
                    id_of(document),
                    ItemCommand::RecordPushFailed {
                        reason: error.to_string(),
                        retryable: error.is_retryable(),
                        failed_at,
                    },
                )
            })
            .collect();
        summary.failed += items.len();
        self.record_all(commands).await
    }

    /// The item documents named in `ids`, in one query (absent ones are new).
    async fn load_items(&self, ids: &[&str]) -> Result<HashMap<String, ItemDocument>, StockError> {
        let streams = self
            .deps
            .store
            .load_streams(ItemDocument::TYPE, ids)
            .await
            .map_err(|e| store_error("*", e.to_string()))?;
        let mut documents = HashMap::with_capacity(streams.len());
        for (id, events) in streams {
            let mut document = ItemDocument::default();
            for event in events {
                let event: ItemEvent = event
                    .payload_as()
                    .map_err(|e| store_error(&id, format!("unreadable event: {e}")))?;
                document.apply(event);
            }
            documents.insert(id, document);
        }
        Ok(documents)
    }

    /// Records every command, through the command bus when there is one.
    async fn record_all(&self, commands: Vec<(String, ItemCommand)>) -> Result<(), StockError> {
        if commands.is_empty() {
            return Ok(());
        }
        match &self.deps.bus {
            Some(bus) => {
                let sent = commands
                    .iter()
                    .map(|(id, command)| bus.execute(id, command.clone(), serde_json::Map::new()));
                let results = futures::future::join_all(sent).await;
                for ((id, _), result) in commands.iter().zip(results) {
                    result.map_err(|e| bus_error(id, e))?;
                }
            }
            None => {
                for (id, command) in commands {
                    self.items
                        .execute(&id, |doc| doc.decide(command.clone()))
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// The document after `command`, and whether it changed.
fn decided(
    mut document: ItemDocument,
    command: ItemCommand,
) -> Result<(ItemDocument, bool), ItemError> {
    let events = document.decide(command)?;
    let changed = !events.is_empty();
    for event in events {
        document.apply(event);
    }
    Ok((document, changed))
}

fn id_of(document: &ItemDocument) -> String {
    document
        .id()
        .expect("an observed item has an id")
        .to_string()
}

fn pushed(document: &ItemDocument, product_id: &str) -> (String, ItemCommand) {
    let observed = document.observed().expect("a pending item was observed");
    (
        id_of(document),
        ItemCommand::RecordPushed {
            price: observed.price,
            stock_quantity: observed.quantity_available,
            product_id: product_id.to_owned(),
            pushed_at: Utc::now(),
        },
    )
}

fn store_error(id: &str, message: String) -> DocumentError {
    DocumentError::Store {
        aggregate: ItemDocument::TYPE,
        id: id.to_owned(),
        message,
    }
}

fn bus_error(id: &str, e: CommandError<ItemError>) -> DocumentError {
    match e {
        CommandError::Refused(e) => DocumentError::Refused {
            aggregate: ItemDocument::TYPE,
            id: id.to_owned(),
            message: e.to_string(),
        },
        other => store_error(id, other.to_string()),
    }
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

impl Step for StockPoller {
    type Output = PollSummary;
    type Error = StockError;
    const FAILED: &'static str = "stock poll failed";
    fn instance(&self) -> &InstanceId {
        &self.deps.instance
    }
    fn step(&self) -> impl std::future::Future<Output = Result<PollSummary, StockError>> + Send {
        self.poll_once()
    }
}
