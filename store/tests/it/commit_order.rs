//! A transaction that draws position N and commits after N+1 must not be
//! skipped, and one that rolls back must not hold readers forever.

use std::time::Duration;

use mlc_store::testing::TestDatabase;
use mlc_store::{Subscription, SubscriptionOptions};
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

use crate::Recorder;

const INSERT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
     VALUES ('test', $1, 1, 'Happened', '1.0', '{}', '{}') RETURNING global_position";

async fn insert(conn: &mut PgConnection, id: &str) -> i64 {
    sqlx::query_scalar(INSERT)
        .bind(id)
        .fetch_one(conn)
        .await
        .unwrap()
}

async fn late_commit(commit: bool) {
    let db = TestDatabase::postgres().await;
    let store = db.store().await;
    let pool = store.postgres_pool().unwrap().clone();
    let recorder = Recorder::default();
    let options = SubscriptionOptions {
        poll_interval: Duration::from_millis(50),
        ..Default::default()
    };
    let shutdown = CancellationToken::new();
    let subscription = Subscription::new(store.clone(), "late-commit", recorder.clone(), options);
    let running = tokio::spawn(subscription.run(shutdown.clone()));

    let mut first = pool.begin().await.unwrap();
    let n = insert(&mut first, "inst/doc/first").await;
    let mut second = pool.begin().await.unwrap();
    let n1 = insert(&mut second, "inst/doc/second").await;
    assert_eq!(n1, n + 1);
    second.commit().await.unwrap();

    // N+1 is committed, but N is still open: nothing may be delivered.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        recorder.globals(),
        Vec::<i64>::new(),
        "delivered before position {n} was decided"
    );

    if commit {
        first.commit().await.unwrap();
        let seen = recorder.wait_for(2, 20).await;
        let globals: Vec<i64> = seen.iter().map(|e| e.position.global).collect();
        assert_eq!(globals, [n, n1], "N then N+1");
    } else {
        first.rollback().await.unwrap();
        let seen = recorder.wait_for(1, 20).await;
        let globals: Vec<i64> = seen.iter().map(|e| e.position.global).collect();
        assert_eq!(globals, [n1], "N+1 is delivered once N is rolled back");
    }
    // Nothing more arrives later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recorder.seen().len(), if commit { 2 } else { 1 });
    shutdown.cancel();
    running.await.unwrap().unwrap();
    assert_eq!(store.checkpoint("late-commit").await.unwrap().global, n1);
}

#[tokio::test]
async fn a_late_commit_is_not_skipped_postgres() {
    late_commit(true).await
}

#[tokio::test]
async fn a_rolled_back_position_does_not_block_postgres() {
    late_commit(false).await
}

/// Appends made by another process or node (another store on the same
/// database) wake a subscriber through LISTEN/NOTIFY, long before its
/// polling interval.
#[tokio::test]
async fn another_writer_wakes_the_subscriber_postgres() {
    let db = TestDatabase::postgres().await;
    let store = db.store().await;
    let recorder = Recorder::default();
    let options = SubscriptionOptions {
        poll_interval: Duration::from_secs(600),
        ..Default::default()
    };
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(
        Subscription::new(store.clone(), "wake", recorder.clone(), options).run(shutdown.clone()),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A store of its own: nothing in this store is told about the write.
    let other = db.store().await;
    other.append(&crate::events("elsewhere", 1)).await.unwrap();
    assert_eq!(
        recorder.wait_for(1, 30).await.len(),
        1,
        "woken by NOTIFY, not by the 10-minute poll"
    );
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

/// On SQLite, appends through the store wake subscribers in the same process.
#[tokio::test]
async fn an_append_wakes_the_subscriber_sqlite() {
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    let recorder = Recorder::default();
    let options = SubscriptionOptions {
        poll_interval: Duration::from_secs(600),
        ..Default::default()
    };
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(
        Subscription::new(store.clone(), "wake", recorder.clone(), options).run(shutdown.clone()),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    store.append(&crate::events("x", 1)).await.unwrap();
    assert_eq!(
        recorder.wait_for(1, 30).await.len(),
        1,
        "woken in-process, not by the 10-minute poll"
    );
    shutdown.cancel();
    running.await.unwrap().unwrap();
}
