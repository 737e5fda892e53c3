use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, ReplayStream, SerializedEvent,
    SerializedSnapshot,
};
use cqrs_es::{Aggregate, CqrsFramework, Query};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;

use crate::database::Pool;
use crate::EventStore;

/// The cqrs-es repository of whichever backend the store runs on: sqlite-es
/// or postgres-es, writing to the store's `events` and `snapshots` tables.
/// After each write it wakes this process's subscribers.
pub struct AnyEventRepository {
    backend: Backend,
    store: EventStore,
}

enum Backend {
    Sqlite(SqliteEventRepository),
    Postgres(PostgresEventRepository),
}

/// A cqrs-es framework over the store, for aggregate `A`.
pub type StoreCqrs<A> = CqrsFramework<A, PersistedEventStore<AnyEventRepository, A>>;

impl EventStore {
    /// The cqrs-es repository over this store's tables.
    pub fn repository(&self) -> AnyEventRepository {
        AnyEventRepository {
            backend: match &self.inner.pool {
                Pool::Sqlite(pool) => Backend::Sqlite(SqliteEventRepository::new(pool.clone())),
                Pool::Postgres(pool) => {
                    Backend::Postgres(PostgresEventRepository::new(pool.clone()))
                }
            },
            store: self.clone(),
        }
    }

    /// A cqrs-es framework for `A` that loads aggregates from their events.
    pub fn cqrs<A: Aggregate>(
        &self,
        queries: Vec<Box<dyn Query<A>>>,
        services: A::Services,
    ) -> StoreCqrs<A> {
        CqrsFramework::new(
            PersistedEventStore::new_event_store(self.repository()),
            queries,
            services,
        )
    }

    /// A cqrs-es framework for `A` that snapshots the aggregate every
    /// `snapshot_size` events (for long-lived aggregates such as an instance's).
    pub fn snapshot_cqrs<A: Aggregate>(
        &self,
        queries: Vec<Box<dyn Query<A>>>,
        snapshot_size: usize,
        services: A::Services,
    ) -> StoreCqrs<A> {
        CqrsFramework::new(
            PersistedEventStore::new_snapshot_store(self.repository(), snapshot_size),
            queries,
            services,
        )
    }
}

macro_rules! delegate {
    ($self:ident, $repo:ident => $call:expr) => {
        match &$self.backend {
            Backend::Sqlite($repo) => $call.await,
            Backend::Postgres($repo) => $call.await,
        }
    };
}

impl PersistedEventRepository for AnyEventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        delegate!(self, repo => repo.get_events::<A>(aggregate_id))
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        delegate!(self, repo => repo.get_last_events::<A>(aggregate_id, last_sequence))
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        delegate!(self, repo => repo.get_snapshot::<A>(aggregate_id))
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        {
            let _turn = self.store.write_turn().await;
            delegate!(self, repo => repo.persist::<A>(events, snapshot_update))?;
        }
        self.store.notify_appended();
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        delegate!(self, repo => repo.stream_events::<A>(aggregate_id))
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        delegate!(self, repo => repo.stream_all_events::<A>())
    }
}
