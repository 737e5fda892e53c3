//! Wakes subscribers promptly when events commit: an in-process signal for
//! appends made through this process, and on PostgreSQL a NOTIFY to the
//! other processes and nodes, which LISTEN. Subscribers also poll, so a lost
//! wake-up only costs latency.
//!
//! The NOTIFY is sent by a task of its own, after the appends committed, and
//! one covers every append made while the previous one was in flight: a
//! NOTIFY inside each writing transaction would serialise all commits on
//! PostgreSQL's notification lock (it halved the rate of single appends from
//! eight writers; see docs/adr/002-event-store.md).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::database::Pool;

/// The PostgreSQL channel appenders notify and subscribers listen on.
pub(crate) const CHANNEL: &str = "mlc_events";

pub(crate) struct Wake {
    signal: Arc<watch::Sender<u64>>,
    postgres: Option<PgPool>,
    listener: Mutex<Option<JoinHandle<()>>>,
    appended: Arc<Notify>,
    notifier: Mutex<Option<JoinHandle<()>>>,
    /// This store's name in its NOTIFYs: its own come back to its listener
    /// and are skipped (its appends woke its subscribers already).
    origin: Arc<str>,
}

impl Wake {
    pub(crate) fn new(pool: &Pool) -> Wake {
        Wake {
            signal: Arc::new(watch::channel(0).0),
            postgres: match pool {
                Pool::Postgres(pool) => Some(pool.clone()),
                Pool::Sqlite(_) => None,
            },
            listener: Mutex::new(None),
            appended: Arc::new(Notify::new()),
            notifier: Mutex::new(None),
            origin: uuid::Uuid::new_v4().simple().to_string().into(),
        }
    }

    /// Events were appended through this process.
    pub(crate) fn bump(&self) {
        self.signal.send_modify(|n| *n = n.wrapping_add(1));
        if let Some(pool) = &self.postgres {
            let mut notifier = self.notifier.lock().unwrap_or_else(|e| e.into_inner());
            if notifier.is_none() {
                *notifier = Some(tokio::spawn(notify_others(
                    pool.clone(),
                    self.appended.clone(),
                    self.origin.clone(),
                )));
            }
            // Stores one permit: appends made while a NOTIFY is in flight
            // are covered by the next one.
            self.appended.notify_one();
        }
    }

    /// A receiver that changes whenever new events may be readable. On
    /// PostgreSQL the first call starts the LISTEN task.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        if let Some(pool) = &self.postgres {
            let mut listener = self.listener.lock().unwrap_or_else(|e| e.into_inner());
            if listener.is_none() {
                *listener = Some(tokio::spawn(listen(
                    pool.clone(),
                    self.signal.clone(),
                    self.origin.clone(),
                )));
            }
        }
        self.signal.subscribe()
    }
}

impl Drop for Wake {
    fn drop(&mut self) {
        for task in [&mut self.listener, &mut self.notifier] {
            if let Some(task) = task.get_mut().ok().and_then(Option::take) {
                task.abort();
            }
        }
    }
}

/// Sends one NOTIFY for each burst of appends made through this process, at
/// most one every [`NOTIFY_INTERVAL`]: a notifying transaction takes an xid
/// and flushes a commit record like an append does, so one per append would
/// cost as much as the appends themselves.
async fn notify_others(pool: PgPool, appended: Arc<Notify>, origin: Arc<str>) {
    loop {
        appended.notified().await;
        if let Err(error) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(&*origin)
            .execute(&pool)
            .await
        {
            // Other nodes find the events at their next poll.
            tracing::debug!(%error, "NOTIFY failed");
        }
        tokio::time::sleep(NOTIFY_INTERVAL).await;
    }
}

/// The shortest time between two NOTIFYs of one process.
const NOTIFY_INTERVAL: Duration = Duration::from_millis(5);

async fn listen(pool: PgPool, signal: Arc<watch::Sender<u64>>, origin: Arc<str>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot open the LISTEN connection; subscribers poll meanwhile");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "LISTEN failed; subscribers poll meanwhile");
            tokio::time::sleep(backoff).await;
            continue;
        }
        backoff = Duration::from_millis(100);
        // Whatever committed while we were not listening is found by this read.
        signal.send_modify(|n| *n = n.wrapping_add(1));
        loop {
            match listener.try_recv().await {
                Ok(Some(note)) if note.payload() == &*origin => {}
                Ok(Some(_)) => signal.send_modify(|n| *n = n.wrapping_add(1)),
                // The connection was lost; notifications in between are gone,
                // so wake everyone once the new connection listens.
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "LISTEN connection failed; reconnecting");
                    break;
                }
            }
        }
    }
}
