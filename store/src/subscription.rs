use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::metrics::Counter;
use opentelemetry::KeyValue;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::{EventStore, Position, StoreError, StoredEvent};

/// A handler's failure: any error; it is logged, counted and retried.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What a subscriber does with each event.
pub trait Handler: Send {
    /// Handles one event. Called in global order, at least once per event: an
    /// event may be handed again after a crash, so the effect must be
    /// idempotent. An error stops the subscriber at this event, which is
    /// retried with backoff until it succeeds.
    fn handle(
        &mut self,
        event: &StoredEvent,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Called after a batch of events was handled and before the checkpoint
    /// moves past them: the place to make buffered effects durable.
    fn flush(&mut self) -> impl Future<Output = Result<(), HandlerError>> + Send {
        async { Ok(()) }
    }
}

/// How a subscription reads and retries.
#[derive(Debug, Clone)]
pub struct SubscriptionOptions {
    /// Events read per query; the checkpoint is saved after each batch.
    pub batch_size: usize,
    /// How long to wait for a wake-up before looking again anyway.
    pub poll_interval: Duration,
    /// First wait after a failure; doubles up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
}

impl Default for SubscriptionOptions {
    fn default() -> Self {
        SubscriptionOptions {
            batch_size: 1000,
            poll_interval: Duration::from_millis(500),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// What a subscription has done so far, for health checks and tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SubscriptionStatus {
    /// The subscriber's name.
    pub name: String,
    /// The last position saved.
    pub checkpoint: Position,
    /// Events handled since start (including repeats after a failure).
    pub handled: u64,
    /// Batches handled and flushed since start.
    pub batches: u64,
    /// Checkpoint saves since start: fewer than the batches while they keep
    /// coming (see [`CHECKPOINT_EVERY`]).
    pub saves: u64,
    /// Handler or store failures since start.
    pub failures: u64,
    /// The most recent failure, while it is not yet overcome.
    pub last_error: Option<String>,
    /// The position the subscriber is stuck at, while a handler fails.
    pub stuck_at: Option<Position>,
}

/// A named, checkpointed reader of every event in global order.
pub struct Subscription<H> {
    store: EventStore,
    name: String,
    handler: H,
    options: SubscriptionOptions,
    status: Arc<Mutex<SubscriptionStatus>>,
    failures: Counter<u64>,
}

impl<H: Handler> Subscription<H> {
    /// A subscription for `handler` named `name`; its checkpoint is stored
    /// under that name in the store's database.
    pub fn new(
        store: EventStore,
        name: impl Into<String>,
        handler: H,
        options: SubscriptionOptions,
    ) -> Self {
        let name = name.into();
        let failures = opentelemetry::global::meter("mlc-store")
            .u64_counter("mlc.subscription.failures")
            .with_description("Handler or store failures of a subscription, by subscriber")
            .build();
        Subscription {
            status: Arc::new(Mutex::new(SubscriptionStatus {
                name: name.clone(),
                ..Default::default()
            })),
            store,
            name,
            handler,
            options,
            failures,
        }
    }

    /// A live view of the subscription's progress.
    pub fn status(&self) -> Arc<Mutex<SubscriptionStatus>> {
        self.status.clone()
    }

    /// Runs until `shutdown` is cancelled, then returns the handler. The
    /// checkpoint is saved after a batch is handled and flushed whenever the
    /// subscriber has caught up, and at most every [`CHECKPOINT_EVERY`]
    /// while batches keep coming; an event being handled when `shutdown`
    /// fires is left to the checkpoint, and handed again on the next start.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<H, StoreError> {
        let mut checkpoint = self
            .retry_store(&shutdown, |s| s.store.checkpoint(&s.name))
            .await;
        let Some(mut checkpoint) = checkpoint.take() else {
            return Ok(self.handler);
        };
        self.update(|s| s.checkpoint = checkpoint);
        tracing::info!(subscriber = %self.name, %checkpoint, "subscription started");
        // Reading the next batch overlaps handling this one.
        let (batches, mut incoming) = tokio::sync::mpsc::channel(2);
        let reader = tokio::spawn(read_ahead(
            self.store.clone(),
            checkpoint,
            self.options.clone(),
            batches,
            shutdown.clone(),
            self.monitor(),
        ));
        // Handled and flushed, but not saved yet (batches kept coming).
        let mut flushed = checkpoint;
        let mut saved_at = Instant::now();
        loop {
            let batch = tokio::select! {
                _ = shutdown.cancelled() => break,
                batch = incoming.recv() => match batch {
                    Some(batch) => batch,
                    None => break,
                },
            };
            let mut handled_to = flushed;
            for event in &batch {
                if !self.handle_until_done(event, handled_to, &shutdown).await {
                    break;
                }
                handled_to = event.position;
            }
            if handled_to == flushed {
                break; // shut down before the first event of the batch was done
            }
            if !self.flush_until_done(handled_to, &shutdown).await {
                break;
            }
            flushed = handled_to;
            self.update(|s| s.batches += 1);
            if !incoming.is_empty() && saved_at.elapsed() < CHECKPOINT_EVERY {
                continue;
            }
            match self
                .retry_store(&shutdown, |s| s.store.save_checkpoint(&s.name, flushed))
                .await
            {
                Some(()) => checkpoint = flushed,
                None => break,
            }
            saved_at = Instant::now();
            self.update(|s| {
                s.checkpoint = checkpoint;
                s.saves += 1;
            });
        }
        if flushed > checkpoint
            && self
                .store
                .save_checkpoint(&self.name, flushed)
                .await
                .is_ok()
        {
            checkpoint = flushed;
            self.update(|s| {
                s.checkpoint = checkpoint;
                s.saves += 1;
            });
        }
        reader.abort();
        tracing::info!(subscriber = %self.name, %checkpoint, "subscription stopped");
        Ok(self.handler)
    }

    /// Hands `event` to the handler until it succeeds; false on shutdown.
    async fn handle_until_done(
        &mut self,
        event: &StoredEvent,
        handled_to: Position,
        shutdown: &CancellationToken,
    ) -> bool {
        let mut backoff = self.options.initial_backoff;
        loop {
            let outcome = tokio::select! {
                biased;
                _ = shutdown.cancelled() => return false,
                outcome = self.handler.handle(event) => outcome,
            };
            match outcome {
                Ok(()) => {
                    self.update(|s| {
                        s.handled += 1;
                        s.last_error = None;
                        s.stuck_at = None;
                    });
                    return true;
                }
                Err(error) => {
                    self.record_failure(event.position, &*error);
                    // Keep what was done before this event, so a restart
                    // does not redo it: made durable first (a handler may
                    // buffer its effects until `flush`), then checkpointed.
                    if handled_to > self.status_checkpoint()
                        && self.handler.flush().await.is_ok()
                        && self
                            .store
                            .save_checkpoint(&self.name, handled_to)
                            .await
                            .is_ok()
                    {
                        self.update(|s| s.checkpoint = handled_to);
                    }
                    if sleep_or_cancel(shutdown, backoff).await {
                        return false;
                    }
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
    }

    async fn flush_until_done(
        &mut self,
        handled_to: Position,
        shutdown: &CancellationToken,
    ) -> bool {
        let mut backoff = self.options.initial_backoff;
        loop {
            match self.handler.flush().await {
                Ok(()) => return true,
                Err(error) => {
                    self.record_failure(handled_to, &*error);
                    if sleep_or_cancel(shutdown, backoff).await {
                        return false;
                    }
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
    }

    /// Runs a store operation until it succeeds; None on shutdown.
    async fn retry_store<'a, T, F, Fut>(&'a self, shutdown: &CancellationToken, op: F) -> Option<T>
    where
        F: Fn(&'a Self) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + 'a,
    {
        let mut backoff = self.options.initial_backoff;
        loop {
            match op(self).await {
                Ok(value) => return Some(value),
                Err(error) => {
                    self.record_failure(self.status_checkpoint(), &error);
                    if sleep_or_cancel(shutdown, backoff).await {
                        return None;
                    }
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
    }

    fn record_failure(&self, at: Position, error: &dyn std::error::Error) {
        self.monitor().record_failure(at, error);
    }

    fn monitor(&self) -> Monitor {
        Monitor {
            name: self.name.clone(),
            status: self.status.clone(),
            failures: self.failures.clone(),
        }
    }

    fn status_checkpoint(&self) -> Position {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .checkpoint
    }

    fn update(&self, change: impl FnOnce(&mut SubscriptionStatus)) {
        change(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// Where failures are reported: the log, the metric and the status.
struct Monitor {
    name: String,
    status: Arc<Mutex<SubscriptionStatus>>,
    failures: Counter<u64>,
}

impl Monitor {
    fn record_failure(&self, at: Position, error: &dyn std::error::Error) {
        tracing::error!(subscriber = %self.name, position = %at, %error, "subscriber failed; retrying with backoff");
        self.failures
            .add(1, &[KeyValue::new("subscriber", self.name.clone())]);
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.failures += 1;
        status.last_error = Some(error.to_string());
        status.stuck_at = Some(at);
    }

    fn recovered(&self) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        status.last_error = None;
        status.stuck_at = None;
    }
}

/// Reads batches after `from` into `batches`, at most two ahead of the
/// handler; waits for a wake-up or the polling interval when there is none.
async fn read_ahead(
    store: EventStore,
    mut from: Position,
    options: SubscriptionOptions,
    batches: tokio::sync::mpsc::Sender<Vec<StoredEvent>>,
    shutdown: CancellationToken,
    monitor: Monitor,
) {
    let mut wake = store.changes();
    let mut backoff = options.initial_backoff;
    let mut failing = false;
    // After a wake-up, events may exist that an older transaction still
    // open holds back (PostgreSQL): look again soon, then less and less
    // often, instead of waiting for the next wake-up or poll.
    let mut recheck: Option<Duration> = None;
    while !shutdown.is_cancelled() {
        wake.borrow_and_update();
        match store.read_after(from, options.batch_size).await {
            Ok(batch) => {
                if std::mem::take(&mut failing) {
                    monitor.recovered();
                }
                backoff = options.initial_backoff;
                match batch.last() {
                    Some(last) => {
                        recheck = None;
                        from = last.position;
                        if batches.send(batch).await.is_err() {
                            return;
                        }
                    }
                    None => {
                        let wait =
                            recheck.map_or(options.poll_interval, |r| r.min(options.poll_interval));
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = wake.changed() => recheck = Some(RECHECK_FIRST),
                            _ = tokio::time::sleep(wait) => recheck = recheck.map(|r| (r * 2).min(options.poll_interval)),
                        }
                    }
                }
            }
            Err(error) => {
                failing = true;
                monitor.record_failure(from, &error);
                if sleep_or_cancel(&shutdown, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(options.max_backoff);
            }
        }
    }
}

/// While batches keep coming, the longest a subscriber goes without saving
/// its checkpoint: each save is a commit of its own, and under load a save
/// per batch cost as many commits as the batches. A crash hands again what
/// was handled since, which handlers take anyway (at least once).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// First look again after a wake-up that found nothing.
const RECHECK_FIRST: Duration = Duration::from_millis(10);

/// Sleeps for `duration`; true when shutdown came first.
async fn sleep_or_cancel(shutdown: &CancellationToken, duration: Duration) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(duration) => false,
    }
}
