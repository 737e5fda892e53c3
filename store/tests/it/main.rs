//! Integration tests of the event store, each on SQLite and on PostgreSQL,
//! each with a database of its own.

mod append;
mod command_bus;
mod commit_order;
mod cqrs;
mod crash;
mod subscription;

use std::sync::{Arc, Mutex};

use mlc_store::{Handler, HandlerError, NewEvent, StoredEvent};
use serde_json::json;

/// `n` events, one per aggregate `{prefix}-{i}`, sequence 1.
pub fn events(prefix: &str, n: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| {
            NewEvent::new(
                "test",
                format!("inst/doc/{prefix}-{i}"),
                1,
                "Happened",
                json!({ "i": i }),
            )
        })
        .collect()
}

/// Every event, read in subscription order once `n` are visible: on
/// PostgreSQL, transactions of other tests still open in the same cluster
/// hold ordered reads back for a moment.
pub async fn settled(store: &mlc_store::EventStore, n: usize) -> Vec<StoredEvent> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let all = store
            .read_after(mlc_store::Position::START, n + 1000)
            .await
            .unwrap();
        if all.len() >= n || tokio::time::Instant::now() > deadline {
            return all;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A handler that records every event it is handed.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<StoredEvent>>>);

impl Recorder {
    pub fn seen(&self) -> Vec<StoredEvent> {
        self.0.lock().unwrap().clone()
    }
    pub fn globals(&self) -> Vec<i64> {
        self.seen().iter().map(|e| e.position.global).collect()
    }
    /// Waits up to `secs` seconds until `n` events were seen.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<StoredEvent> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        while self.0.lock().unwrap().len() < n && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.seen()
    }
}

impl Handler for Recorder {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}
