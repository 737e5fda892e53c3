//! Every projection in one list, shared by the service (which runs each as a
//! [`Subscription`]) and the CLI (which lists and rebuilds them).

use std::time::{Duration, Instant};

use mlc_store::{
    EventStore, Handler, HandlerError, Position, StoredEvent, Subscription, SubscriptionOptions,
};
use serde::Serialize;

use crate::documents::on_pool;
use crate::views::ReadModelError;
use crate::{
    AuditProjection, CountersProjection, DocumentsProjection, DocumentsView, FailuresProjection,
    HealthProjection,
};

/// Events read per batch by [`rebuild`].
pub const REBUILD_BATCH: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Documents,
    Audit,
    Failures,
    Health,
    Counters,
}

/// One projection: its subscriber name, the tables it owns and how to make
/// its handler.
#[derive(Debug, Clone)]
pub struct ProjectionSpec {
    /// The subscriber name its checkpoint is stored under.
    pub name: &'static str,
    /// The tables it writes (emptied by [`rebuild`]).
    pub tables: &'static [&'static str],
    kind: Kind,
    store: EventStore,
    documents: DocumentsView,
}

/// The handler of any projection of the registry.
pub enum AnyProjection {
    /// `documents`.
    Documents(DocumentsProjection),
    /// `audit`.
    Audit(AuditProjection),
    /// `failures`.
    Failures(FailuresProjection),
    /// `health`.
    Health(HealthProjection),
    /// `counters`.
    Counters(CountersProjection),
}

impl Handler for AnyProjection {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        match self {
            AnyProjection::Documents(h) => h.handle(event).await,
            AnyProjection::Audit(h) => h.handle(event).await,
            AnyProjection::Failures(h) => h.handle(event).await,
            AnyProjection::Health(h) => h.handle(event).await,
            AnyProjection::Counters(h) => h.handle(event).await,
        }
    }

    async fn flush(&mut self) -> Result<(), HandlerError> {
        match self {
            AnyProjection::Documents(h) => h.flush().await,
            AnyProjection::Audit(h) => h.flush().await,
            AnyProjection::Failures(h) => h.flush().await,
            AnyProjection::Health(h) => h.flush().await,
            AnyProjection::Counters(h) => h.flush().await,
        }
    }
}

/// Every projection over `store`, `documents` first.
pub fn all(store: &EventStore) -> Vec<ProjectionSpec> {
    all_with_documents(DocumentsView::new(store.clone()))
}

/// Every projection, the `documents` one writing through `documents` (so
/// that readers of that view are woken when it changes).
pub fn all_with_documents(documents: DocumentsView) -> Vec<ProjectionSpec> {
    let store = documents.store().clone();
    let spec = |name, tables, kind| ProjectionSpec {
        name,
        tables,
        kind,
        store: store.clone(),
        documents: documents.clone(),
    };
    vec![
        spec(DocumentsProjection::NAME, &["documents"], Kind::Documents),
        spec(AuditProjection::NAME, &["audit"], Kind::Audit),
        spec(FailuresProjection::NAME, &["failures"], Kind::Failures),
        spec(HealthProjection::NAME, &["instance_health"], Kind::Health),
        spec(CountersProjection::NAME, &["counters"], Kind::Counters),
    ]
}

/// The projection named `name` over `store`.
pub fn find(store: &EventStore, name: &str) -> Result<ProjectionSpec, ReadModelError> {
    all(store)
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ReadModelError::UnknownProjection(name.to_owned()))
}

impl ProjectionSpec {
    /// A new handler of this projection.
    pub fn handler(&self) -> AnyProjection {
        match self.kind {
            Kind::Documents => {
                AnyProjection::Documents(DocumentsProjection::new(self.documents.clone()))
            }
            Kind::Audit => AnyProjection::Audit(AuditProjection::new(self.store.clone())),
            Kind::Failures => AnyProjection::Failures(FailuresProjection::new(self.store.clone())),
            Kind::Health => AnyProjection::Health(HealthProjection::new(self.store.clone())),
            Kind::Counters => AnyProjection::Counters(CountersProjection::new(self.store.clone())),
        }
    }

    /// The checkpointed subscription that keeps this projection live: spawn
    /// `spec.subscription(options).run(shutdown)`.
    pub fn subscription(&self, options: SubscriptionOptions) -> Subscription<AnyProjection> {
        Subscription::new(self.store.clone(), self.name, self.handler(), options)
    }

    /// Empties the projection's tables and forgets its checkpoint and
    /// written position, in one transaction (then the checkpoint).
    pub async fn reset(&self) -> Result<(), ReadModelError> {
        let db = ReadModelError::db(self.name);
        mlc_store::with_write_turn!(self.store, pool => {
            let mut tx = pool.begin().await.map_err(&db)?;
            for table in self.tables {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(&db)?;
            }
            sqlx::query("DELETE FROM projection_positions WHERE projection = $1")
                .bind(self.name)
                .execute(&mut *tx)
                .await
                .map_err(&db)?;
            tx.commit().await.map_err(&db)?;
        });
        self.store
            .reset_checkpoint(self.name)
            .await
            .map_err(|source| ReadModelError::Store {
                projection: "registry",
                source,
            })
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebuildReport {
    /// The projection.
    pub name: String,
    /// Events replayed.
    pub events: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// Events replayed a second.
    pub events_per_sec: f64,
}

/// Drops and rebuilds the projection `name`: empties its tables, forgets its
/// checkpoint, then replays every event through its handler in batches of
/// [`REBUILD_BATCH`], saving the checkpoint after each. `progress` is called
/// after each batch with (events done, events in the store).
///
/// Meant for a stopped service: a service running the same projection on
/// the same store at the same time would write the same rows (they are
/// idempotent, but the rebuild's emptying would race with its writes).
pub async fn rebuild(
    store: &EventStore,
    name: &str,
    progress: impl FnMut(u64, u64),
) -> Result<RebuildReport, ReadModelError> {
    rebuild_spec(&find(store, name)?, progress).await
}

/// [`rebuild`] of a spec from [`all`].
pub async fn rebuild_spec(
    spec: &ProjectionSpec,
    progress: impl FnMut(u64, u64),
) -> Result<RebuildReport, ReadModelError> {
    let mut reports = rebuild_together(std::slice::from_ref(spec), progress).await?;
    Ok(reports.remove(0))
}

/// Drops and rebuilds several projections of one store in one pass over
/// the events: each batch read is handed to every projection's handler.
/// What [`rebuild`] does for one, for each of `specs`; the reports share
/// the pass's time.
pub async fn rebuild_together(
    specs: &[ProjectionSpec],
    mut progress: impl FnMut(u64, u64),
) -> Result<Vec<RebuildReport>, ReadModelError> {
    let Some(first) = specs.first() else {
        return Ok(Vec::new());
    };
    let store = first.store.clone();
    let store_error = |source| ReadModelError::Store {
        projection: "rebuild",
        source,
    };
    let started = Instant::now();
    for spec in specs {
        spec.reset().await?;
    }
    let total = u64::try_from(store.count().await.map_err(store_error)?).unwrap_or_default();
    let patience = Instant::now() + Duration::from_secs(30);
    let mut handlers: Vec<(&ProjectionSpec, AnyProjection)> =
        specs.iter().map(|s| (s, s.handler())).collect();
    let mut position = Position::START;
    let mut done = 0u64;
    let (mut reading, mut handling, mut flushing) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    progress(0, total);
    // The next batch is read while this one is handled.
    let mut next = tokio::spawn(read(store.clone(), position));
    loop {
        let waited = Instant::now();
        let batch = next
            .await
            .map_err(|e| ReadModelError::Handler {
                projection: "rebuild".into(),
                detail: e.to_string(),
            })?
            .map_err(store_error)?;
        reading += waited.elapsed();
        let Some(last) = batch.last().map(|e| e.position) else {
            // On PostgreSQL, events behind a transaction still open (anywhere
            // in the cluster) are held back: wait for those recorded before
            // the rebuild started, for a while.
            if done < total && Instant::now() < patience {
                tokio::time::sleep(Duration::from_millis(50)).await;
                next = tokio::spawn(read(store.clone(), position));
                continue;
            }
            break;
        };
        position = last;
        next = tokio::spawn(read(store.clone(), position));
        let t = Instant::now();
        for (spec, handler) in &mut handlers {
            for event in &batch {
                handler
                    .handle(event)
                    .await
                    .map_err(|e| ReadModelError::Handler {
                        projection: spec.name.to_owned(),
                        detail: e.to_string(),
                    })?;
            }
        }
        let t2 = Instant::now();
        // Each projection writes its own tables: their flushes overlap.
        futures::future::try_join_all(handlers.iter_mut().map(|(spec, handler)| async move {
            handler.flush().await.map_err(|e| ReadModelError::Handler {
                projection: spec.name.to_owned(),
                detail: e.to_string(),
            })
        }))
        .await?;
        handling += t2 - t;
        flushing += t2.elapsed();
        for spec in specs {
            store
                .save_checkpoint(spec.name, position)
                .await
                .map_err(store_error)?;
        }
        done += batch.len() as u64;
        progress(done, total.max(done));
    }
    let elapsed = started.elapsed();
    let secs = elapsed.as_secs_f64();
    tracing::debug!(
        projections = specs.len(),
        events = done,
        ?elapsed,
        ?reading,
        ?handling,
        ?flushing,
        "projections rebuilt"
    );
    Ok(specs
        .iter()
        .map(|spec| RebuildReport {
            name: spec.name.to_owned(),
            events: done,
            elapsed,
            events_per_sec: if secs > 0.0 { done as f64 / secs } else { 0.0 },
        })
        .collect())
}

async fn read(
    store: EventStore,
    after: Position,
) -> Result<Vec<StoredEvent>, mlc_store::StoreError> {
    store.read_after(after, REBUILD_BATCH).await
}

/// Where a projection's subscriber stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectionStatus {
    /// The projection.
    pub name: String,
    /// Its saved checkpoint.
    pub checkpoint: Position,
    /// Events recorded after its checkpoint (by global position).
    pub lag: u64,
}

/// The checkpoint and lag of every projection.
pub async fn statuses(store: &EventStore) -> Result<Vec<ProjectionStatus>, ReadModelError> {
    let mut out = Vec::new();
    for spec in all(store) {
        let checkpoint =
            store
                .checkpoint(spec.name)
                .await
                .map_err(|source| ReadModelError::Store {
                    projection: spec.name,
                    source,
                })?;
        const LAG: &str = "SELECT COUNT(*) FROM events WHERE global_position > $1";
        let lag: i64 = on_pool!(store, pool => {
            sqlx::query_scalar(LAG)
                .bind(checkpoint.global)
                .fetch_one(pool)
                .await
                .map_err(ReadModelError::db(spec.name))?
        });
        out.push(ProjectionStatus {
            name: spec.name.to_owned(),
            checkpoint,
            lag: u64::try_from(lag).unwrap_or_default(),
        });
    }
    Ok(out)
}
