//! The periodic fetch of orders modified since the `orders` cursor.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use mlc_connectors::{ConnectorError, Storefront};
use mlc_domain::integration::{Integration, IntegrationCommand, PollCursor};
use mlc_domain::model::{DocumentId, InstanceId};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_store::{CommandBus, CommandError, EventStore};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::periodic::{self, Step};
use crate::stock::documents::{DocumentError, Documents};

/// The name of the orders cursor on the `Integration` aggregate.
pub const ORDERS_SOURCE: &str = "orders";

/// What an [`OrderBackfill`] needs.
#[derive(Clone)]
pub struct OrderBackfillDeps {
    /// The event store.
    pub store: EventStore,
    /// The instance; its `Integration` must be configured.
    pub instance: InstanceId,
    /// The store the orders come from.
    pub storefront: Arc<dyn Storefront>,
    /// Time between runs (a run also follows every wake-up).
    pub interval: Duration,
    /// On the very first run (no cursor yet), how far back to look, so that
    /// an old store is not imported whole. Default one day.
    pub lookback: Duration,
    /// How far before the cursor each run starts again, for orders whose
    /// modification time the store wrote a little late. Default five minutes.
    pub overlap: Duration,
    /// The batching command path for order documents, when the process
    /// runs one (the webhook intake's); without it each order is recorded
    /// with its own load and append.
    pub bus: Option<CommandBus<OrderDocument>>,
}

impl OrderBackfillDeps {
    /// Deps with the default lookback (1 day) and overlap (5 minutes).
    pub fn new(
        store: EventStore,
        instance: InstanceId,
        storefront: Arc<dyn Storefront>,
        interval: Duration,
    ) -> Self {
        Self {
            store,
            instance,
            storefront,
            interval,
            lookback: Duration::from_secs(24 * 60 * 60),
            overlap: Duration::from_secs(5 * 60),
            bus: None,
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillSummary {
    /// The run was skipped because the instance is paused.
    pub paused: bool,
    /// Orders modified after this time were asked for.
    pub after: Option<DateTime<Utc>>,
    /// Orders the store returned.
    pub read: usize,
    /// Orders that appended events (new, or a newer revision).
    pub recorded: usize,
    /// Orders refused by their document (logged; the run goes on).
    pub refused: usize,
    /// The orders cursor after the run.
    pub cursor: Option<PollCursor>,
}

/// Why a run stopped. What it recorded before stopping stays recorded.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// The store could not be read.
    #[error("reading modified orders: {0}")]
    Storefront(#[from] ConnectorError),
    /// The event store failed or refused.
    #[error(transparent)]
    Document(#[from] DocumentError),
}

/// Fetches the orders a store modified since the instance's `orders` cursor
/// and records each with `ReceiveOrder`.
pub struct OrderBackfill {
    deps: OrderBackfillDeps,
    orders: Documents<OrderDocument>,
    integration: Documents<Integration>,
}

/// A running [`OrderBackfill`].
pub struct OrderBackfillHandle {
    task: JoinHandle<()>,
    wake: Arc<Notify>,
    last: Arc<Mutex<Option<BackfillSummary>>>,
}

impl OrderBackfillHandle {
    /// Notifying this runs the backfill at once (e.g. when a webhook was
    /// re-activated): give it to
    /// [`WebhookHealthDeps::on_repaired`](crate::webhooks::WebhookHealthDeps::on_repaired).
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// The summary of the last completed run.
    pub fn last_summary(&self) -> Option<BackfillSummary> {
        self.last.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits until the backfill has stopped (after its shutdown token fired).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

impl OrderBackfill {
    /// A backfill over `deps`; [`OrderBackfill::run_once`] runs once.
    pub fn new(deps: OrderBackfillDeps) -> Self {
        Self {
            orders: Documents::new(&deps.store),
            integration: Documents::new(&deps.store),
            deps,
        }
    }

    /// Runs now, then every `interval` and whenever woken, until `shutdown` fires.
    pub fn start(deps: OrderBackfillDeps, shutdown: CancellationToken) -> OrderBackfillHandle {
        let interval = deps.interval;
        let wake = Arc::new(Notify::new());
        let (task, last) = periodic::spawn(Self::new(deps), interval, Some(wake.clone()), shutdown);
        OrderBackfillHandle { task, wake, last }
    }

    /// One run: fetch the modified orders, record each, advance the cursor.
    pub async fn run_once(&self) -> Result<BackfillSummary, BackfillError> {
        let instance = &self.deps.instance;
        let integration = self.integration.load(instance.as_str()).await?;
        let current = integration.cursor(ORDERS_SOURCE).cloned();
        let mut summary = BackfillSummary {
            cursor: current.clone(),
            ..BackfillSummary::default()
        };
        if integration.is_paused() {
            summary.paused = true;
            return Ok(summary);
        }
        let now = Utc::now();
        let after = match &current {
            Some(cursor) => cursor.timestamp - chrono_duration(self.deps.overlap),
            None => now - chrono_duration(self.deps.lookback),
        };
        summary.after = Some(after);
        let orders = self.deps.storefront.orders_modified_after(after).await?;
        summary.read = orders.len();

        // Where the first run started, so a restart before any order arrives
        // does not look back a whole lookback again from a later "now".
        let mut next = current
            .clone()
            .unwrap_or_else(|| PollCursor::new(after, "0"));
        for order in orders {
            let seen = PollCursor::new(order.modified_at, order.source_id.clone());
            let id = match DocumentId::order(instance.clone(), order.source_id.clone()) {
                Ok(id) => id.to_string(),
                Err(e) => {
                    tracing::warn!(%instance, order = %order.source_id, error = %e, "order skipped");
                    summary.refused += 1;
                    continue;
                }
            };
            let command = OrderCommand::ReceiveOrder {
                instance: instance.clone(),
                order: Box::new(order),
                received_at: Utc::now(),
            };
            match self.receive(&id, command).await {
                Ok(appended) => {
                    if appended > 0 {
                        summary.recorded += 1;
                    }
                }
                Err(e @ DocumentError::Refused { .. }) => {
                    // One bad order must not hold back every later one.
                    tracing::warn!(%instance, %id, error = %e, "order refused");
                    summary.refused += 1;
                }
                Err(e) => return Err(e.into()),
            }
            if seen > next {
                next = seen;
            }
        }
        if current.as_ref() != Some(&next) {
            let cursor = next.clone();
            self.integration
                .execute(instance.as_str(), |i| {
                    i.decide(IntegrationCommand::AdvanceCursor {
                        source: ORDERS_SOURCE.into(),
                        cursor: cursor.clone(),
                    })
                })
                .await?;
        }
        summary.cursor = Some(next);
        tracing::info!(
            %instance,
            read = summary.read,
            recorded = summary.recorded,
            refused = summary.refused,
            cursor = ?summary.cursor,
            "order backfill"
        );
        Ok(summary)
    }
}

impl OrderBackfill {
    /// Records one order; returns how many events it appended.
    async fn receive(&self, id: &str, command: OrderCommand) -> Result<usize, DocumentError> {
        match &self.deps.bus {
            Some(bus) => match bus.execute(id, command, serde_json::Map::new()).await {
                Ok(executed) => Ok(executed.events()),
                Err(CommandError::Refused(e)) => Err(DocumentError::Refused {
                    aggregate: OrderDocument::TYPE,
                    id: id.to_owned(),
                    message: e.to_string(),
                }),
                Err(other) => Err(DocumentError::Store {
                    aggregate: OrderDocument::TYPE,
                    id: id.to_owned(),
                    message: other.to_string(),
                }),
            },
            None => self
                .orders
                .execute(id, |doc| doc.decide(command.clone()))
                .await
                .map(|(_, appended)| appended),
        }
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(1))
}

impl Step for OrderBackfill {
    type Output = BackfillSummary;
    type Error = BackfillError;
    const FAILED: &'static str = "order backfill failed";
    fn instance(&self) -> &InstanceId {
        &self.deps.instance
    }
    fn step(
        &self,
    ) -> impl std::future::Future<Output = Result<BackfillSummary, BackfillError>> + Send {
        self.run_once()
    }
}
