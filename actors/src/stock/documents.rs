//! Loading and changing aggregates of the event store from a poller: load
//! the stream, decide with the aggregate's own rules, append what it decided
//! and hand back the state after it, retrying when another writer appended
//! to the same stream first.

use std::collections::HashMap;

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventStore as _};
use mlc_store::{AnyEventRepository, EventStore};

/// How often a command is decided again when another writer appended to the
/// same stream between our load and our append.
const CONFLICT_ATTEMPTS: usize = 5;

/// Why an aggregate could not be loaded or changed.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The aggregate refused the command; nothing was recorded.
    #[error("{aggregate} '{id}' refused the command: {message}")]
    Refused {
        /// The aggregate type, e.g. `item_document`.
        aggregate: &'static str,
        /// The aggregate id.
        id: String,
        /// The aggregate's reason.
        message: String,
    },
    /// The event store failed or kept conflicting.
    #[error("event store, {aggregate} '{id}': {message}")]
    Store {
        /// The aggregate type.
        aggregate: &'static str,
        /// The aggregate id.
        id: String,
        /// What went wrong.
        message: String,
    },
}

/// The aggregates of type `A` in one event store.
pub(crate) struct Documents<A: Aggregate> {
    store: PersistedEventStore<AnyEventRepository, A>,
}

impl<A> Documents<A>
where
    A: Aggregate + Clone,
{
    pub(crate) fn new(store: &EventStore) -> Self {
        Self {
            store: PersistedEventStore::new_event_store(store.repository()),
        }
    }

    /// The current state of aggregate `id` (the default state when it has no events).
    pub(crate) async fn load(&self, id: &str) -> Result<A, DocumentError> {
        let mut context = self
            .store
            .load_aggregate(id)
            .await
            .map_err(|e| error::<A>(id, e))?;
        Ok(context.aggregate().clone())
    }

    /// Decides with `decide` on the current state of `id` and appends the
    /// events; returns the state after them and how many were appended (0:
    /// the command was a repeat).
    pub(crate) async fn execute<F>(&self, id: &str, decide: F) -> Result<(A, usize), DocumentError>
    where
        F: Fn(&A) -> Result<Vec<A::Event>, A::Error>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut context = self
                .store
                .load_aggregate(id)
                .await
                .map_err(|e| error::<A>(id, e))?;
            let mut state = context.aggregate().clone();
            let events =
                decide(&state).map_err(|e| error::<A>(id, AggregateError::UserError(e)))?;
            if events.is_empty() {
                return Ok((state, 0));
            }
            let count = events.len();
            for event in events.iter().cloned() {
                state.apply(event);
            }
            match self.store.commit(events, context, HashMap::new()).await {
                Ok(_) => return Ok((state, count)),
                Err(AggregateError::AggregateConflict) if attempt < CONFLICT_ATTEMPTS => {
                    tracing::debug!(aggregate = A::TYPE, id, attempt, "conflict, deciding again");
                }
                Err(e) => return Err(error::<A>(id, e)),
            }
        }
    }
}

fn error<A: Aggregate>(id: &str, e: AggregateError<A::Error>) -> DocumentError {
    match e {
        AggregateError::UserError(e) => DocumentError::Refused {
            aggregate: A::TYPE,
            id: id.to_owned(),
            message: e.to_string(),
        },
        other => DocumentError::Store {
            aggregate: A::TYPE,
            id: id.to_owned(),
            message: other.to_string(),
        },
    }
}
