use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::wake::Wake;
use crate::StoreError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database holds the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file: the embedded default.
    Sqlite,
    /// A PostgreSQL server: production, several nodes.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections in the pool.
    pub max_connections: u32,
    /// Apply pending migrations on open.
    pub migrate: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 10,
            migrate: true,
        }
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    /// PostgreSQL connections for ordered reads (see [`reader_pool`]).
    pub(crate) reader: Option<PgPool>,
    /// SQLite takes one writer at a time: this process's writers (appends,
    /// read models, checkpoints) queue here, in turn, instead of in SQLite's
    /// busy handler, which sleeps 1, 2, 5, 10... ms between attempts and
    /// lets a writer that never waited overtake one that did.
    pub(crate) sqlite_writer: tokio::sync::Mutex<()>,
    pub(crate) wake: Wake,
    pub(crate) display_url: String,
}

/// The event store: one database, SQLite or PostgreSQL, shared by the
/// cqrs-es repositories, the appenders and the subscriptions. Cheap to clone.
#[derive(Clone)]
pub struct EventStore {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore")
            .field("url", &self.inner.display_url)
            .finish()
    }
}

impl EventStore {
    /// Opens the store named by `url` (`sqlite:PATH`, `sqlite://PATH`,
    /// `postgres://...` or `postgresql://...`); an SQLite file and its folder
    /// are created when missing. Runs the migrations unless told not to.
    pub async fn connect(url: &str, options: StoreOptions) -> Result<EventStore, StoreError> {
        let (pool, reader) = if url.starts_with("sqlite:") {
            (Pool::Sqlite(open_sqlite(url, &options).await?), None)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::BadUrl(format!("{}: {e}", redact_url(url))))?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .before_acquire(ping_if_idle)
                .connect_with(connect.clone())
                .await?;
            (Pool::Postgres(pool), Some(reader_pool(connect, &options)))
        } else {
            return Err(StoreError::BadUrl(redact_url(url)));
        };
        let store = EventStore {
            inner: Arc::new(Inner {
                wake: Wake::new(&pool),
                pool,
                reader,
                sqlite_writer: tokio::sync::Mutex::new(()),
                display_url: redact_url(url),
            }),
        };
        if options.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Opens (and creates) the SQLite store in `data_dir`.
    pub async fn open_in_dir(
        data_dir: &Path,
        options: StoreOptions,
    ) -> Result<EventStore, StoreError> {
        EventStore::connect(&sqlite_url_in(data_dir), options).await
    }

    /// Applies the migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.inner.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self.inner.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// This process's turn to write, held until dropped. On SQLite every
    /// writer of the process takes it before its transaction (the appends
    /// take it themselves); on PostgreSQL it is no wait at all. Never append
    /// through this store while holding it: the append waits for the turn.
    pub async fn write_turn(&self) -> WriteTurn<'_> {
        match self.inner.pool {
            Pool::Sqlite(_) => WriteTurn(Some(self.inner.sqlite_writer.lock().await)),
            Pool::Postgres(_) => WriteTurn(None),
        }
    }

    /// The database URL with any password removed, for logs.
    pub fn display_url(&self) -> &str {
        &self.inner.display_url
    }

    /// The PostgreSQL pool, for code that needs its own transactions.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &self.inner.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    /// The SQLite pool, for code that needs its own transactions.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.inner.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// Tells subscribers in this process that new events may have committed.
    /// Appends through this store do so themselves; call it after writing
    /// events through a pool directly.
    pub fn notify_appended(&self) {
        self.inner.wake.bump();
    }

    /// A receiver that changes whenever new events may be readable: for a
    /// reader of its own, such as `events --follow`, to wait on between
    /// reads (with a timeout, as wake-ups are a hint, not a guarantee).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.wake.subscribe()
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        match &self.inner.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
        if let Some(reader) = &self.inner.reader {
            reader.close().await;
        }
    }
}

/// A turn to write (see [`EventStore::write_turn`]), given back when dropped.
#[must_use = "the turn ends when dropped: hold it until the transaction commits"]
pub struct WriteTurn<'a>(Option<tokio::sync::MutexGuard<'a, ()>>);

impl std::fmt::Debug for WriteTurn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTurn")
            .field("exclusive", &self.0.is_some())
            .finish()
    }
}

/// Idle for longer than this, a PostgreSQL connection is pinged before use:
/// under load connections come back within milliseconds and are never
/// pinged; after any outage longer than this, every old connection is.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Whether a pooled connection may be used: sqlx's default pings every
/// connection on every acquire, a round trip before each statement. A
/// connection in steady use has just proven itself; one idle for a while
/// (through a server restart, a network change) is pinged first, and a
/// failed ping makes the pool open another.
fn ping_if_idle(
    conn: &mut sqlx::PgConnection,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> futures::future::BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if meta.idle_for >= PING_AFTER_IDLE {
            use sqlx::Connection;
            conn.ping().await?;
        }
        Ok(true)
    })
}

/// Connections for subscribers' ordered reads. Their planner may not sort
/// or bitmap-scan: without fresh statistics (a table just loaded in bulk)
/// PostgreSQL otherwise fetches and sorts every row after a checkpoint to
/// return the first thousands, five times slower than walking the index.
fn reader_pool(connect: PgConnectOptions, options: &StoreOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(options.max_connections.clamp(1, 4))
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .before_acquire(ping_if_idle)
        .after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute(
                    "SET enable_sort = off; SET enable_bitmapscan = off; SET enable_seqscan = off",
                )
                .await?;
                Ok(())
            })
        })
        .connect_lazy_with(connect)
}

/// The SQLite URL of the store file in `data_dir`.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!("sqlite:{}", data_dir.join("ml-connector.db").display())
}

async fn open_sqlite(url: &str, options: &StoreOptions) -> Result<SqlitePool, StoreError> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return Err(StoreError::BadUrl(format!(
            "{url}: an in-memory SQLite database cannot be shared by the store's connections; name a file"
        )));
    }
    if let Some(parent) = Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::BadUrl(format!(
                    "{url}: cannot create folder {}: {e}",
                    parent.display()
                ))
            })?;
        }
    }
    let connect = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // An acknowledged webhook must survive a power cut, not only a crash.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true);
    Ok(SqlitePoolOptions::new()
        .max_connections(options.max_connections)
        // A connection to a local file does not go away; the ping would be
        // a trip through its worker thread before every statement.
        .test_before_acquire(false)
        .connect_with(connect)
        .await?)
}

/// Removes the password from a URL such as `postgres://user:pw@host/db`.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/mlc"),
            "postgres://app:***@db:5432/mlc"
        );
        assert_eq!(redact_url("postgres://db/mlc"), "postgres://db/mlc");
        assert_eq!(redact_url("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
    }
}
