//! The order worker's loop: what is due, which document runs where.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::Utc;
use mlc_connectors::{Erp, Storefront};
use mlc_domain::customer::CustomerDocument;
use mlc_domain::mapping::MappingRules;
use mlc_domain::model::InstanceId;
use mlc_domain::order::OrderDocument;
use mlc_projections::{DocumentsView, ProjectionError};
use mlc_store::{CommandBus, EventStore, StoreError, Subscription, SubscriptionOptions};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::drive::{Driver, Outcome};
use super::{RefundWatcher, RetrySettings};

/// Documents asked for per look at the read model.
const DUE_BATCH: u32 = 200;

/// Documents driven at once per ERP request allowed in flight.
pub const DOCUMENTS_PER_ERP_REQUEST: usize = 4;

/// What an [`OrderWorker`] needs.
#[derive(Clone)]
pub struct OrderWorkerDeps {
    /// The event store (aggregates are loaded from it; wakes on its changes).
    pub store: EventStore,
    /// The command path for order documents.
    pub bus: CommandBus<OrderDocument>,
    /// The command path for customer documents.
    pub customers: CommandBus<CustomerDocument>,
    /// The documents read model: the queue of due work.
    pub documents: DocumentsView,
    /// The instance driven.
    pub instance: InstanceId,
    /// Where orders, customers and credit notes go.
    pub erp: Arc<dyn Erp>,
    /// Where orders and refunds come from.
    pub storefront: Arc<dyn Storefront>,
    /// The instance's mapping table.
    pub rules: MappingRules,
    /// Backoff and attempts.
    pub retry: RetrySettings,
    /// Requests in flight to the ERP at once (at least 1): the ERP's
    /// connection budget. Documents driven at once are
    /// [`DOCUMENTS_PER_ERP_REQUEST`] times as many, so that the store's work
    /// of some (loading, recording outcomes) overlaps the ERP requests of
    /// others and the budget stays in use.
    pub concurrency: usize,
    /// How often to look for due work without a wake-up.
    pub poll_interval: Duration,
}

/// Why the order worker could not do a step; the document stays due and is
/// tried again later.
#[derive(Debug, thiserror::Error)]
pub enum OrderWorkerError {
    /// The event store failed.
    #[error("event store: {0}")]
    Store(#[from] StoreError),
    /// The read model failed.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// A stored event could not be read.
    #[error("document {id}: unreadable event: {detail}")]
    Decode {
        /// The document.
        id: String,
        /// What was wrong.
        detail: String,
    },
    /// A command was refused or could not be written.
    #[error("document {id}: {command} failed: {detail}")]
    Command {
        /// The document.
        id: String,
        /// The command's name.
        command: &'static str,
        /// Why.
        detail: String,
    },
}

/// The running worker. Dropping it does not stop it; cancel the token
/// given to [`OrderWorker::start`] and [`OrderWorkerHandle::join`] it.
pub struct OrderWorkerHandle {
    rules: Arc<RwLock<MappingRules>>,
    loop_task: JoinHandle<()>,
    refunds_task: JoinHandle<Result<RefundWatcher, StoreError>>,
}

impl OrderWorkerHandle {
    /// Replaces the mapping table (a configuration reload): documents driven
    /// from now on use it.
    pub fn set_rules(&self, rules: MappingRules) {
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = rules;
    }

    /// Waits for both tasks to finish after the shutdown token fired.
    pub async fn join(self) {
        let _ = self.loop_task.await;
        let _ = self.refunds_task.await;
    }
}

/// Drives the order and customer documents of one instance; see the module
/// documentation.
pub struct OrderWorker;

impl OrderWorker {
    /// The subscriber name of the instance's refund watcher.
    pub fn refunds_subscriber(instance: &InstanceId) -> String {
        format!("order-refunds/{instance}")
    }

    /// Starts the worker loop and the refund watcher on the current tokio
    /// runtime; both stop when `shutdown` is cancelled.
    pub fn start(deps: OrderWorkerDeps, shutdown: CancellationToken) -> OrderWorkerHandle {
        let rules = Arc::new(RwLock::new(deps.rules.clone()));
        let driver = Arc::new(Driver::new(&deps, rules.clone()));
        let watcher = RefundWatcher::new(
            deps.store.clone(),
            deps.bus.clone(),
            deps.instance.clone(),
            deps.storefront.clone(),
        );
        let refunds_task = tokio::spawn(
            Subscription::new(
                deps.store.clone(),
                Self::refunds_subscriber(&deps.instance),
                watcher,
                SubscriptionOptions {
                    poll_interval: deps.poll_interval,
                    ..Default::default()
                },
            )
            .run(shutdown.clone()),
        );
        let loop_task = tokio::spawn(run(deps, driver, shutdown));
        OrderWorkerHandle {
            rules,
            loop_task,
            refunds_task,
        }
    }
}

async fn run(deps: OrderWorkerDeps, driver: Arc<Driver>, shutdown: CancellationToken) {
    let capacity = deps.concurrency.max(1) * DOCUMENTS_PER_ERP_REQUEST;
    let semaphore = Arc::new(Semaphore::new(capacity));
    // Look for work only once a quarter of the slots are free (or when idle
    // on the timer): one look at the read model then starts many documents,
    // instead of one query of DUE_BATCH rows per finished document.
    let refill = (capacity / 4).max(1);
    let mut timer_fired = true;
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    // Per document: the version we last took it to, and when it may be
    // looked at again (the read model lags; failures without a durable
    // schedule are held back in memory).
    let mut held: HashMap<String, (u64, Option<Instant>)> = HashMap::new();
    let mut tasks: JoinSet<(String, Outcome)> = JoinSet::new();
    let mut store_changes = deps.store.changes();
    let mut view_changes = deps.documents.changes();
    tracing::info!(instance = %deps.instance, "order worker started");
    loop {
        let free = semaphore.available_permits();
        let look = if free >= refill || (timer_fired && free > 0) {
            deps.documents
                .due_work_of(deps.instance.as_str(), Utc::now(), DUE_BATCH)
                .await
        } else {
            Ok(Vec::new())
        };
        timer_fired = false;
        match look {
            Ok(rows) => {
                let now = Instant::now();
                for row in rows {
                    if let Some((version, until)) = held.get(&row.id) {
                        let waiting = until.is_some_and(|t| t > now);
                        if row.version < *version || waiting {
                            continue;
                        }
                    }
                    if !in_flight
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(row.id.clone())
                    {
                        continue;
                    }
                    let Ok(permit) = semaphore.clone().try_acquire_owned() else {
                        // Full: the rest waits for the next look.
                        in_flight
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&row.id);
                        break;
                    };
                    let driver = driver.clone();
                    let in_flight = in_flight.clone();
                    tasks.spawn(async move {
                        let outcome = driver.drive(&row).await;
                        in_flight
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&row.id);
                        drop(permit);
                        (row.id, outcome)
                    });
                }
            }
            Err(e) => {
                tracing::warn!(instance = %deps.instance, error = %e, "order worker: reading due work failed")
            }
        }
        // Wait for news: a finished document, new events, new rows, or the timer.
        let sleep = tokio::time::sleep(deps.poll_interval);
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Ok((id, outcome)) = done {
                    held.insert(id, (outcome.version, outcome.hold.map(|d| Instant::now() + d)));
                }
            }
            _ = store_changes.changed() => {}
            _ = view_changes.changed() => {}
            _ = sleep => timer_fired = true,
        }
        // Collect whatever else finished meanwhile.
        while let Some(done) = tasks.try_join_next() {
            if let Ok((id, outcome)) = done {
                held.insert(
                    id,
                    (outcome.version, outcome.hold.map(|d| Instant::now() + d)),
                );
            }
        }
        if held.len() > 100_000 {
            let now = Instant::now();
            held.retain(|_, (_, until)| until.is_some_and(|t| t > now));
        }
    }
    tasks.shutdown().await;
    tracing::info!(instance = %deps.instance, "order worker stopped");
}
