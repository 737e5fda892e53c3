//! The batching command path: many commands, one load query and one append
//! transaction per batch, decided by the aggregates' own cqrs-es `handle`.
//!
//! One cqrs-es `execute` costs a load round trip and a commit per command
//! (about 4,000 commands/s on PostgreSQL). [`CommandBus`] instead queues
//! commands to a few writer tasks, partitioned by aggregate id so that one
//! aggregate is always decided by the same writer. Each writer takes whatever
//! is queued (group commit, no artificial wait), loads the streams of all the
//! aggregates in it with one query (or takes them from its cache), decides
//! every command in order with `Aggregate::handle`, appends all resulting
//! events in one transaction and then answers every caller. The events are
//! exactly those cqrs-es would store, so the bus and [`EventStore::cqrs`]
//! work on the same aggregates side by side: when another writer got there
//! first ([`StoreError::Conflict`]), the writer redoes the batch one command
//! at a time, reloading each aggregate.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use crate::{Backend, EventStore, JsonText, NewEvent, StoreError, StoredEvent};

/// Attempts per command when the batch fell back to one by one and another
/// writer keeps winning the race for the same aggregate.
const FALLBACK_ATTEMPTS: usize = 10;

/// How a [`CommandBus`] runs.
#[derive(Debug, Clone)]
pub struct CommandBusOptions {
    /// Writer tasks; `None` picks the backend's default (2 on PostgreSQL,
    /// 1 on SQLite, which has one writer at a time anyway).
    pub writers: Option<usize>,
    /// Most commands decided and appended in one transaction.
    pub max_batch: usize,
    /// Commands waiting per writer before callers wait to enqueue.
    pub queue_capacity: usize,
    /// Aggregates (state and version) each writer keeps in memory after
    /// writing them, to skip loading their history again; 0 disables it.
    /// A command on a cached aggregate is decided without asking the store:
    /// if another writer appended to it meanwhile, the append conflicts and
    /// the batch is decided again one command at a time on loaded states; a
    /// command refused or changing nothing on a cached state is decided
    /// again on the state brought up to date from the store.
    pub cache_capacity: usize,
}

impl Default for CommandBusOptions {
    fn default() -> Self {
        CommandBusOptions {
            writers: None,
            max_batch: 1000,
            queue_capacity: 10_000,
            // The documents in flight (an order worker drives 64 at once,
            // the intake writes each new one once): enough to spare their
            // reloads; more only holds finished documents in memory.
            cache_capacity: 2_000,
        }
    }
}

/// What a command did once it is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    /// The aggregate's version after the command: the sequence of its last event.
    pub version: u64,
    /// The global positions of the events appended, in order; empty when the
    /// command changed nothing (a duplicate).
    pub positions: Vec<i64>,
    /// The payloads of those events, in order: a caller holding the
    /// aggregate at `version - payloads.len()` applies them to be at
    /// `version` without loading it again.
    pub payloads: Vec<JsonText>,
}

impl Executed {
    /// How many events the command appended.
    pub fn events(&self) -> usize {
        self.positions.len()
    }

    /// Whether the command changed nothing (a repeat of what is recorded).
    pub fn is_duplicate(&self) -> bool {
        self.positions.is_empty()
    }
}

/// Counters of a [`CommandBus`] since it started, for metrics and tuning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandBusStats {
    /// Commands answered.
    pub commands: u64,
    /// Batches decided (each one load query and at most one append).
    pub batches: u64,
    /// Batches redone one command at a time after another writer got there first.
    pub conflicts: u64,
    /// Batches decided again on states checked against the store, after a
    /// command on a cached state was refused or changed nothing.
    pub rechecks: u64,
}

#[derive(Default)]
struct Counters {
    commands: AtomicU64,
    batches: AtomicU64,
    conflicts: AtomicU64,
    rechecks: AtomicU64,
}

/// Why a command sent through a [`CommandBus`] did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused the command; nothing was written.
    #[error("command refused: {0}")]
    Refused(#[source] E),
    /// The event store failed; nothing of this command was written. Shared
    /// by every command of the batch it failed.
    #[error("event store failed: {0}")]
    Store(#[source] Arc<StoreError>),
    /// The bus's writers have stopped (the process is shutting down).
    #[error("the command bus has stopped")]
    Stopped,
}

impl<E: std::error::Error> CommandError<E> {
    /// Whether the store was unreachable or busy, so a retry later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            CommandError::Store(e) => e.is_transient(),
            CommandError::Refused(_) => false,
            CommandError::Stopped => true,
        }
    }
}

type Reply<A> = oneshot::Sender<Result<Executed, CommandError<<A as Aggregate>::Error>>>;

struct Job<A: Aggregate> {
    aggregate_id: String,
    command: A::Command,
    metadata: JsonText,
    reply: Reply<A>,
}

/// The batching command path for aggregate `A`. Cheap to clone; the writers
/// stop when the last clone is dropped, after answering what was queued.
pub struct CommandBus<A: Aggregate> {
    writers: Arc<Vec<mpsc::Sender<Job<A>>>>,
    counters: Arc<Counters>,
}

impl<A: Aggregate> Clone for CommandBus<A> {
    fn clone(&self) -> Self {
        CommandBus {
            writers: self.writers.clone(),
            counters: self.counters.clone(),
        }
    }
}

impl<A: Aggregate> std::fmt::Debug for CommandBus<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandBus")
            .field("aggregate_type", &A::TYPE)
            .field("writers", &self.writers.len())
            .finish()
    }
}

impl<A> CommandBus<A>
where
    A: Aggregate + 'static,
    A::Command: Clone + Send + Sync + 'static,
    A::Error: Send + 'static,
    A::Services: Default + 'static,
{
    /// Starts the writer tasks on the current tokio runtime, with the
    /// aggregate's default services (`()` for ours).
    pub fn start(store: EventStore, options: CommandBusOptions) -> CommandBus<A> {
        Self::start_with_services(store, options, A::Services::default())
    }
}

impl<A> CommandBus<A>
where
    A: Aggregate + 'static,
    A::Command: Clone + Send + Sync + 'static,
    A::Error: Send + 'static,
    A::Services: 'static,
{
    /// Starts the writer tasks on the current tokio runtime, handing
    /// `services` to every `handle`.
    pub fn start_with_services(
        store: EventStore,
        options: CommandBusOptions,
        services: A::Services,
    ) -> CommandBus<A> {
        let writers = options
            .writers
            .unwrap_or(match store.backend() {
                Backend::Postgres => 2,
                Backend::Sqlite => 1,
            })
            .max(1);
        let services = Arc::new(services);
        let counters = Arc::new(Counters::default());
        let senders = (0..writers)
            .map(|index| {
                let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
                let writer = Writer::<A> {
                    store: store.clone(),
                    services: services.clone(),
                    max_batch: options.max_batch.max(1),
                    cache: Cache::new(options.cache_capacity),
                    counters: counters.clone(),
                };
                tokio::spawn(writer.run(rx, index));
                tx
            })
            .collect();
        CommandBus {
            writers: Arc::new(senders),
            counters,
        }
    }

    /// Counters since the bus started.
    pub fn stats(&self) -> CommandBusStats {
        CommandBusStats {
            commands: self.counters.commands.load(Ordering::Relaxed),
            batches: self.counters.batches.load(Ordering::Relaxed),
            conflicts: self.counters.conflicts.load(Ordering::Relaxed),
            rechecks: self.counters.rechecks.load(Ordering::Relaxed),
        }
    }

    /// Decides `command` on aggregate `aggregate_id` and appends its events;
    /// returns once they are durable. `metadata` is stored with each event
    /// (values other than strings are stored as their JSON text, as cqrs-es
    /// reads metadata as a map of strings).
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: Map<String, Value>,
    ) -> Result<Executed, CommandError<A::Error>> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            aggregate_id: aggregate_id.to_string(),
            command,
            metadata: string_metadata(metadata).into(),
            reply,
        };
        let writer = &self.writers[partition(aggregate_id, self.writers.len())];
        let result = if writer.send(job).await.is_err() {
            Err(CommandError::Stopped)
        } else {
            answer.await.unwrap_or(Err(CommandError::Stopped))
        };
        count_command(A::TYPE, &result);
        result
    }
}

/// Counts a command in `mlc_commands_total{aggregate,outcome}`; the outcome
/// is `executed`, `duplicate`, `refused`, `store_error` or `stopped`.
fn count_command<E: std::error::Error>(
    aggregate: &'static str,
    result: &Result<Executed, CommandError<E>>,
) {
    static COMMANDS: std::sync::OnceLock<opentelemetry::metrics::Counter<u64>> =
        std::sync::OnceLock::new();
    let counter = COMMANDS.get_or_init(|| {
        opentelemetry::global::meter("mlc-store")
            .u64_counter("mlc_commands")
            .with_description("Commands decided, by aggregate type and outcome")
            .build()
    });
    let outcome = match result {
        Ok(done) if done.is_duplicate() => "duplicate",
        Ok(_) => "executed",
        Err(CommandError::Refused(_)) => "refused",
        Err(CommandError::Store(_)) => "store_error",
        Err(CommandError::Stopped) => "stopped",
    };
    counter.add(
        1,
        &[
            opentelemetry::KeyValue::new("aggregate", aggregate),
            opentelemetry::KeyValue::new("outcome", outcome),
        ],
    );
}

fn partition(aggregate_id: &str, writers: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    aggregate_id.hash(&mut hasher);
    (hasher.finish() % writers as u64) as usize
}

fn string_metadata(metadata: Map<String, Value>) -> Value {
    Value::Object(
        metadata
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, Value::String(s)),
                other => (k, Value::String(other.to_string())),
            })
            .collect(),
    )
}

/// Recently written aggregates of one writer: two generations of maps, the
/// older dropped whole when the newer fills up (approximately least
/// recently used, at constant cost).
struct Cache<A> {
    current: HashMap<String, (A, u64)>,
    previous: HashMap<String, (A, u64)>,
    generation: usize,
}

impl<A> Cache<A> {
    fn new(capacity: usize) -> Self {
        Cache {
            current: HashMap::new(),
            previous: HashMap::new(),
            generation: capacity / 2,
        }
    }

    fn take(&mut self, id: &str) -> Option<(A, u64)> {
        self.current.remove(id).or_else(|| self.previous.remove(id))
    }

    fn put(&mut self, id: String, aggregate: A, version: u64) {
        if self.generation == 0 {
            return;
        }
        if self.current.len() >= self.generation {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(id, (aggregate, version));
    }
}

/// One aggregate while a batch is decided.
struct Working<A> {
    aggregate: A,
    /// Version as loaded (events before this batch).
    loaded: u64,
    /// Events decided in this batch, applied to `aggregate` already.
    pending: Vec<NewEvent>,
}

struct Writer<A: Aggregate> {
    store: EventStore,
    services: Arc<A::Services>,
    max_batch: usize,
    cache: Cache<A>,
    counters: Arc<Counters>,
}

/// Per command of a batch: the range of its events among its aggregate's, or why not.
type Decided<E> = Result<(usize, usize), CommandError<E>>;

/// How a batch failed as a whole.
enum BatchFailure {
    Conflict,
    /// A command on an aggregate taken from the cache without asking the
    /// store was refused or changed nothing: decide the batch again on
    /// states checked against the store (nothing was written).
    Recheck,
    Store(Arc<StoreError>),
}

impl<A> Writer<A>
where
    A: Aggregate + 'static,
    A::Command: Clone + Send + Sync + 'static,
    A::Error: Send + 'static,
{
    async fn run(mut self, mut rx: mpsc::Receiver<Job<A>>, index: usize) {
        tracing::debug!(
            aggregate_type = A::TYPE,
            writer = index,
            "command bus writer started"
        );
        let mut batch = Vec::with_capacity(self.max_batch);
        while rx.recv_many(&mut batch, self.max_batch).await > 0 {
            let jobs = std::mem::replace(&mut batch, Vec::with_capacity(self.max_batch));
            // A panicking `handle` is a bug; it must not stop the writer for
            // good. The callers not answered yet see `Stopped` (their answers
            // are dropped); a panic in `handle` comes before the append.
            let run = std::panic::AssertUnwindSafe(self.run_batch(jobs));
            if futures::FutureExt::catch_unwind(run).await.is_err() {
                tracing::error!(
                    aggregate_type = A::TYPE,
                    writer = index,
                    "a command batch panicked; its unanswered commands were not executed"
                );
            }
        }
        tracing::debug!(
            aggregate_type = A::TYPE,
            writer = index,
            "command bus writer stopped"
        );
    }

    async fn run_batch(&mut self, jobs: Vec<Job<A>>) {
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters
            .commands
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        let mut outcome = self.try_batch(&jobs, true).await;
        if matches!(outcome, Err(BatchFailure::Recheck)) {
            self.counters.rechecks.fetch_add(1, Ordering::Relaxed);
            outcome = self.try_batch(&jobs, false).await;
        }
        match outcome {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(BatchFailure::Store(error)) => {
                tracing::warn!(aggregate_type = A::TYPE, commands = jobs.len(), %error, "command batch failed");
                for job in jobs {
                    let _ = job.reply.send(Err(CommandError::Store(error.clone())));
                }
            }
            // A recheck decides on checked states: it asks for no recheck
            // of its own, and is matched here only to be exhaustive.
            Err(BatchFailure::Conflict | BatchFailure::Recheck) => {
                self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    aggregate_type = A::TYPE,
                    commands = jobs.len(),
                    "another writer got there first: deciding the batch one command at a time"
                );
                for job in jobs {
                    let result = self.one_by_one(&job).await;
                    let _ = job.reply.send(result);
                }
            }
        }
    }

    /// Loads every aggregate named in `ids`, or takes it from the cache:
    /// as it is when `trust_cache` (the store is not asked; an entry that
    /// is stale shows as a conflict when the batch appends, or as a
    /// [`BatchFailure::Recheck`]), else brought up to date from the store.
    /// Also returns the ids taken from the cache unchecked.
    async fn load(
        &mut self,
        ids: &[&str],
        trust_cache: bool,
    ) -> Result<
        (
            HashMap<String, Result<Working<A>, Arc<StoreError>>>,
            Vec<String>,
        ),
        StoreError,
    > {
        let mut cached: HashMap<String, (A, u64)> = HashMap::new();
        let mut wanted: Vec<(&str, i64)> = Vec::with_capacity(ids.len());
        let mut unchecked = Vec::new();
        for id in ids {
            match self.cache.take(id) {
                Some((aggregate, version)) => {
                    if trust_cache {
                        unchecked.push(id.to_string());
                    } else {
                        wanted.push((id, version as i64));
                    }
                    cached.insert(id.to_string(), (aggregate, version));
                }
                None => wanted.push((id, 0)),
            }
        }
        let mut streams = self.store.load_streams_after(A::TYPE, &wanted).await?;
        let mut working = HashMap::with_capacity(ids.len());
        for id in ids {
            let (aggregate, version) = cached.remove(*id).unwrap_or_default();
            let events = streams.remove(*id).unwrap_or_default();
            working.insert(
                id.to_string(),
                rebuild(aggregate, version, &events)
                    .map(|(aggregate, loaded)| Working {
                        aggregate,
                        loaded,
                        pending: Vec::new(),
                    })
                    .map_err(Arc::new),
            );
        }
        Ok((working, unchecked))
    }

    async fn try_batch(
        &mut self,
        jobs: &[Job<A>],
        trust_cache: bool,
    ) -> Result<Vec<Result<Executed, CommandError<A::Error>>>, BatchFailure> {
        let mut ids: Vec<&str> = jobs.iter().map(|j| j.aggregate_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let (mut working, unchecked) = self
            .load(&ids, trust_cache)
            .await
            .map_err(|e| BatchFailure::Store(Arc::new(e)))?;
        // Per job: the range of its events in `pending` of its aggregate, or its error.
        let mut decided: Vec<Decided<A::Error>> = Vec::with_capacity(jobs.len());
        for job in jobs {
            let entry = working
                .get_mut(job.aggregate_id.as_str())
                .expect("every aggregate of the batch is loaded");
            let state = match entry {
                Ok(state) => state,
                Err(error) => {
                    decided.push(Err(CommandError::Store(error.clone())));
                    continue;
                }
            };
            let sink = EventSink::<A>::default();
            let outcome = state
                .aggregate
                .handle(job.command.clone(), &self.services, &sink)
                .await;
            let events = sink.collect().await;
            match outcome {
                Ok(()) => {
                    let start = state.pending.len();
                    let base = state.loaded + start as u64;
                    for (offset, event) in events.iter().enumerate() {
                        state.pending.push(
                            new_event::<A>(
                                &job.aggregate_id,
                                base + 1 + offset as u64,
                                event,
                                &job.metadata,
                            )
                            .map_err(|e| BatchFailure::Store(Arc::new(e)))?,
                        );
                    }
                    decided.push(Ok((start, state.pending.len())));
                }
                Err(refusal) => {
                    if !events.is_empty() {
                        // `handle` wrote events before refusing: they were
                        // applied to the state, which must be rebuilt without them.
                        let stream = self
                            .store
                            .load_streams(A::TYPE, &[job.aggregate_id.as_str()])
                            .await
                            .map_err(|e| BatchFailure::Store(Arc::new(e)))?
                            .remove(&job.aggregate_id)
                            .unwrap_or_default();
                        let (mut aggregate, version) = rebuild(A::default(), 0, &stream)
                            .map_err(|e| BatchFailure::Store(Arc::new(e)))?;
                        if version != state.loaded {
                            return Err(BatchFailure::Conflict);
                        }
                        for pending in &state.pending {
                            let event: A::Event = pending
                                .payload
                                .parse()
                                .map_err(|e| BatchFailure::Store(Arc::new(e.into())))?;
                            aggregate.apply(event);
                        }
                        state.aggregate = aggregate;
                    }
                    decided.push(Err(CommandError::Refused(refusal)));
                }
            }
        }
        // A stale cached state is caught by the append (its next sequence is
        // taken) only if the command appends: a refusal or a no-op decided on
        // an unchecked state is decided again on the store's.
        if !unchecked.is_empty() {
            let negative = jobs.iter().zip(&decided).any(|(job, decided)| {
                !matches!(decided, Ok((start, end)) if end > start)
                    && unchecked.contains(&job.aggregate_id)
            });
            if negative {
                // The states taken from the cache are dropped: the recheck
                // loads them whole.
                return Err(BatchFailure::Recheck);
            }
        }
        // Every event of the batch, aggregate by aggregate, in one transaction.
        // Per aggregate: where its events start in `all`, and how many.
        let mut offsets: HashMap<String, (usize, usize)> = HashMap::with_capacity(working.len());
        let mut all: Vec<NewEvent> = Vec::new();
        for (id, state) in working.iter_mut() {
            if let Ok(state) = state {
                offsets.insert(id.clone(), (all.len(), state.pending.len()));
                all.append(&mut state.pending);
            }
        }
        let positions = match self.store.append(&all).await {
            Ok(positions) => positions,
            Err(StoreError::Conflict { .. }) => return Err(BatchFailure::Conflict),
            Err(e) => return Err(BatchFailure::Store(Arc::new(e))),
        };
        // Each job's payloads are taken once: the jobs' ranges are disjoint.
        let mut payloads: Vec<Option<JsonText>> =
            all.into_iter().map(|e| Some(e.payload)).collect();
        let results = jobs
            .iter()
            .zip(decided)
            .map(|(job, decided)| {
                let (start, end) = decided?;
                let id = job.aggregate_id.as_str();
                let (base, _) = offsets[id];
                let loaded = match &working[id] {
                    Ok(state) => state.loaded,
                    Err(_) => unreachable!("a job with events has a loaded aggregate"),
                };
                Ok(Executed {
                    version: loaded + end as u64,
                    positions: positions[base + start..base + end].to_vec(),
                    payloads: payloads[base + start..base + end]
                        .iter_mut()
                        .filter_map(Option::take)
                        .collect(),
                })
            })
            .collect();
        // Keep what was written, at its new version.
        for (id, state) in working {
            if let Ok(state) = state {
                let version = state.loaded + offsets.get(&id).map_or(0, |(_, count)| *count) as u64;
                self.cache.put(id, state.aggregate, version);
            }
        }
        Ok(results)
    }

    /// Decides and appends one command on its own, reloading its aggregate,
    /// retrying while other writers keep winning the race.
    async fn one_by_one(&mut self, job: &Job<A>) -> Result<Executed, CommandError<A::Error>> {
        let store_error = |e: StoreError| CommandError::Store(Arc::new(e));
        for _ in 0..FALLBACK_ATTEMPTS {
            let stream = self
                .store
                .load_streams(A::TYPE, &[job.aggregate_id.as_str()])
                .await
                .map_err(store_error)?
                .remove(&job.aggregate_id)
                .unwrap_or_default();
            let (mut aggregate, version) =
                rebuild(A::default(), 0, &stream).map_err(store_error)?;
            let sink = EventSink::<A>::default();
            aggregate
                .handle(job.command.clone(), &self.services, &sink)
                .await
                .map_err(CommandError::Refused)?;
            let events = sink
                .collect()
                .await
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    new_event::<A>(&job.aggregate_id, version + 1 + i as u64, e, &job.metadata)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(store_error)?;
            match self.store.append(&events).await {
                Ok(positions) => {
                    let version = version + positions.len() as u64;
                    self.cache.put(job.aggregate_id.clone(), aggregate, version);
                    let payloads = events.into_iter().map(|e| e.payload).collect();
                    return Ok(Executed {
                        version,
                        positions,
                        payloads,
                    });
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(store_error(StoreError::Conflict {
            aggregate_type: A::TYPE.to_string(),
            aggregate_id: job.aggregate_id.clone(),
        }))
    }
}

/// `aggregate` at `version` with `events` (those after `version`) applied.
fn rebuild<A: Aggregate>(
    mut aggregate: A,
    mut version: u64,
    events: &[StoredEvent],
) -> Result<(A, u64), StoreError> {
    for stored in events {
        let event: A::Event = serde_json::from_str(&stored.payload)?;
        aggregate.apply(event);
        version = stored.sequence as u64;
    }
    Ok((aggregate, version))
}

/// The event as cqrs-es would store it.
fn new_event<A: Aggregate>(
    aggregate_id: &str,
    sequence: u64,
    event: &A::Event,
    metadata: &JsonText,
) -> Result<NewEvent, StoreError> {
    Ok(NewEvent {
        aggregate_type: A::TYPE.to_string(),
        aggregate_id: aggregate_id.to_string(),
        sequence: sequence as i64,
        event_type: event.event_type(),
        event_version: event.event_version(),
        payload: JsonText::of(event)?,
        metadata: metadata.clone(),
    })
}
