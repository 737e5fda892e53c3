use thiserror::Error;

/// What can go wrong in the event store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL is not one the store can use.
    #[error("database URL is not usable: {0} (expected sqlite:PATH or postgres://...)")]
    BadUrl(String),
    /// Another writer appended to the same aggregate at the same sequence.
    #[error("conflict: aggregate {aggregate_type}/{aggregate_id} already has an event at one of the sequences written")]
    Conflict {
        /// The aggregate's type.
        aggregate_type: String,
        /// The aggregate's id.
        aggregate_id: String,
    },
    /// The migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// An event's payload or metadata could not be (de)serialized.
    #[error("event payload is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The database refused or could not be reached.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// Whether a retry later may succeed (the database was unreachable or busy).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // PostgreSQL's connection exceptions (class 08) and its
            // shutdown or restart of a backend (57P01-57P03).
            StoreError::Database(sqlx::Error::Database(db)) => db.code().is_some_and(|code| {
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Database(err)
    }
}
