//! Wakes subscribers promptly when events commit: an in-process signal for
//! appends made through this process, and on PostgreSQL a LISTEN connection
//! for appends made by other connections and nodes. Subscribers also poll, so
//! a lost wake-up only costs latency.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::database::Pool;

/// The PostgreSQL channel the `events` trigger notifies.
pub(crate) const CHANNEL: &str = "mlc_events";

pub(crate) struct Wake {
    signal: Arc<watch::Sender<u64>>,
    postgres: Option<PgPool>,
    listener: Mutex<Option<JoinHandle<()>>>,
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
        }
    }

    pub(crate) fn bump(&self) {
        self.signal.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes whenever new events may be readable. On
    /// PostgreSQL the first call starts the LISTEN task.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        if let Some(pool) = &self.postgres {
            let mut listener = self.listener.lock().unwrap_or_else(|e| e.into_inner());
            if listener.is_none() {
                *listener = Some(tokio::spawn(listen(pool.clone(), self.signal.clone())));
            }
        }
        self.signal.subscribe()
    }
}

impl Drop for Wake {
    fn drop(&mut self) {
        if let Some(task) = self.listener.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
    }
}

async fn listen(pool: PgPool, signal: Arc<watch::Sender<u64>>) {
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
