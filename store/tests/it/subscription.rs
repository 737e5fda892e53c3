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

/// Takes 5 ms to make each batch durable, longer than a read of the next
/// one, so that batches queue up.
#[derive(Clone, Default)]
struct SlowFlush {
    recorder: Recorder,
}

impl Handler for SlowFlush {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        self.recorder.handle(event).await
    }

    async fn flush(&mut self) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok(())
    }
}

/// While batches keep coming the checkpoint is saved now and then, not
/// after every batch (each save is a commit); once the subscriber has
/// caught up it is saved at once.
async fn checkpoints_are_saved_now_and_then_under_load_and_at_rest(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    store.append(&events("load", 700)).await.unwrap();
    let handler = SlowFlush::default();
    let shutdown = CancellationToken::new();
    let subscription = Subscription::new(store.clone(), "steady", handler.clone(), quick());
    let status = subscription.status();
    let running = tokio::spawn(subscription.run(shutdown.clone()));
    handler.recorder.wait_for(700, 30).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.checkpoint("steady").await.unwrap().global < 700 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the checkpoint did not reach the head at rest: {:?}",
            status.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let s = status.lock().unwrap().clone();
    assert_eq!(s.batches, 100, "700 events in batches of 7: {s:?}");
    assert!(
        s.saves * 4 <= s.batches,
        "a save per batch or nearly: {s:?}"
    );
    assert_eq!(s.checkpoint.global, 700);

    // A crash now hands nothing again; new events are saved once handled.
    store.append(&events("more", 3)).await.unwrap();
    handler.recorder.wait_for(703, 10).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.checkpoint("steady").await.unwrap().global < 703 {
        assert!(tokio::time::Instant::now() < deadline, "not saved at rest");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn checkpoints_are_saved_now_and_then_under_load_and_at_rest_sqlite() {
    checkpoints_are_saved_now_and_then_under_load_and_at_rest("sqlite").await
}

#[tokio::test]
async fn checkpoints_are_saved_now_and_then_under_load_and_at_rest_postgres() {
    checkpoints_are_saved_now_and_then_under_load_and_at_rest("postgres").await
}
