use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mlc_store::testing::TestDatabase;
use mlc_store::{Handler, HandlerError, StoredEvent, Subscription, SubscriptionOptions};
use tokio_util::sync::CancellationToken;

use crate::{events, Recorder};

/// Fails on the event of aggregate `poison` until it has failed `times` times.
#[derive(Clone)]
struct FailsOn {
    poison: String,
    times: u32,
    failed: Arc<AtomicU32>,
    recorder: Recorder,
}

impl Handler for FailsOn {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_id == self.poison && self.failed.load(Ordering::SeqCst) < self.times {
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Err(format!("cannot handle {}", event.aggregate_id).into());
        }
        self.recorder.handle(event).await
    }
}

fn quick() -> SubscriptionOptions {
    SubscriptionOptions {
        batch_size: 7,
        poll_interval: Duration::from_millis(50),
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    }
}

async fn a_failing_handler_stops_there_and_retries(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    store.append(&events("e", 30)).await.unwrap();
    let handler = FailsOn {
        poison: "inst/doc/e-12".into(),
        times: 4,
        failed: Arc::default(),
        recorder: Recorder::default(),
    };
    let shutdown = CancellationToken::new();
    let subscription = Subscription::new(store.clone(), "failing", handler.clone(), quick());
    let status = subscription.status();
    let running = tokio::spawn(subscription.run(shutdown.clone()));

    // While it fails, it is stuck at that event, with what came before kept.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = status.lock().unwrap().clone();
        if s.failures >= 2 {
            assert!(
                s.last_error
                    .as_deref()
                    .unwrap()
                    .contains("cannot handle inst/doc/e-12"),
                "{s:?}"
            );
            assert_eq!(s.stuck_at.unwrap().global, 13);
            assert_eq!(
                handler.recorder.globals(),
                (1..=12).collect::<Vec<_>>(),
                "nothing after the failing event"
            );
            assert_eq!(
                store.checkpoint("failing").await.unwrap().global,
                12,
                "progress before the failure is saved"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failure recorded: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = handler.recorder.wait_for(30, 20).await;
    let globals: Vec<i64> = seen.iter().map(|e| e.position.global).collect();
    assert_eq!(
        globals,
        (1..=30).collect::<Vec<_>>(),
        "every event once, in order, none skipped"
    );
    assert_eq!(handler.failed.load(Ordering::SeqCst), 4);
    shutdown.cancel();
    running.await.unwrap().unwrap();
    let s = status.lock().unwrap().clone();
    assert_eq!(
        (s.failures, s.last_error, s.checkpoint.global),
        (4, None, 30)
    );
}

#[tokio::test]
async fn a_failing_handler_stops_there_and_retries_sqlite() {
    a_failing_handler_stops_there_and_retries("sqlite").await
}

#[tokio::test]
async fn a_failing_handler_stops_there_and_retries_postgres() {
    a_failing_handler_stops_there_and_retries("postgres").await
}

async fn a_restart_resumes_after_the_checkpoint(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    store.append(&events("a", 20)).await.unwrap();
    let first = Recorder::default();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(
        Subscription::new(store.clone(), "resume", first.clone(), quick()).run(shutdown.clone()),
    );
    first.wait_for(20, 20).await;
    shutdown.cancel();
    running.await.unwrap().unwrap();

    store.append(&events("b", 5)).await.unwrap();
    let second = Recorder::default();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(
        Subscription::new(store.clone(), "resume", second.clone(), quick()).run(shutdown.clone()),
    );
    let seen = second.wait_for(5, 20).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(second.globals(), (21..=25).collect::<Vec<_>>(), "{seen:?}");
    // Another name has its own checkpoint and starts from the beginning.
    let other = Recorder::default();
    let running_other = tokio::spawn(
        Subscription::new(store.clone(), "other", other.clone(), quick()).run(shutdown.clone()),
    );
    assert_eq!(other.wait_for(25, 20).await.len(), 25);
    shutdown.cancel();
    running.await.unwrap().unwrap();
    running_other.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_restart_resumes_after_the_checkpoint_sqlite() {
    a_restart_resumes_after_the_checkpoint("sqlite").await
}

#[tokio::test]
async fn a_restart_resumes_after_the_checkpoint_postgres() {
    a_restart_resumes_after_the_checkpoint("postgres").await
}
