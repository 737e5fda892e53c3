use mlc_store::testing::TestDatabase;
use mlc_store::{EventFilter, NewEvent, Position, StoreError};
use serde_json::json;

use crate::events;

async fn append_and_read(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let single = store.append(&events("single", 1)).await.unwrap();
    let batch = store.append(&events("batch", 2500)).await.unwrap();
    assert_eq!(single.len(), 1);
    assert_eq!(batch.len(), 2500);
    let all = crate::settled(&store, 2501).await;
    assert_eq!(all.len(), 2501);
    assert_eq!(
        store
            .list(&EventFilter::default(), 0, 10_000)
            .await
            .unwrap(),
        all,
        "one transaction: same order"
    );
    assert!(
        all.windows(2).all(|w| w[0].position < w[1].position),
        "global order"
    );
    assert_eq!(all[0].aggregate_id, "inst/doc/single-0");
    assert_eq!(
        all[0].payload_as::<serde_json::Value>().unwrap(),
        json!({ "i": 0 })
    );
    assert_eq!(all[2500].aggregate_id, "inst/doc/batch-2499");
    // Paging resumes exactly after the last position read.
    let first = store.read_after(Position::START, 1000).await.unwrap();
    let rest = store
        .read_after(first.last().unwrap().position, 10_000)
        .await
        .unwrap();
    assert_eq!(first.len() + rest.len(), 2501);
    assert_eq!(rest[0].position, all[1000].position);
    assert_eq!(store.head().await.unwrap(), all.last().unwrap().position);
    assert_eq!(store.count().await.unwrap(), 2501);
}

#[tokio::test]
async fn append_and_read_sqlite() {
    append_and_read("sqlite").await
}

#[tokio::test]
async fn append_and_read_postgres() {
    append_and_read("postgres").await
}

async fn a_conflict_writes_nothing(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    store.append(&events("a", 3)).await.unwrap();
    // A batch whose last event takes a sequence already written.
    let mut batch = events("b", 3);
    batch.push(NewEvent::new(
        "test",
        "inst/doc/a-1",
        1,
        "Happened",
        json!({}),
    ));
    let err = store.append(&batch).await.unwrap_err();
    match err {
        StoreError::Conflict { aggregate_id, .. } => assert_eq!(aggregate_id, "inst/doc/a-1"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let single = store
        .append(&[NewEvent::new(
            "test",
            "inst/doc/a-2",
            1,
            "Happened",
            json!({}),
        )])
        .await;
    assert!(
        matches!(single, Err(StoreError::Conflict { .. })),
        "{single:?}"
    );
    assert_eq!(
        store.count().await.unwrap(),
        3,
        "nothing of the refused batches was written"
    );
}

#[tokio::test]
async fn a_conflict_writes_nothing_sqlite() {
    a_conflict_writes_nothing("sqlite").await
}

#[tokio::test]
async fn a_conflict_writes_nothing_postgres() {
    a_conflict_writes_nothing("postgres").await
}

async fn filters(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let e = |id: &str, seq, ty: &str| NewEvent::new("test", id, seq, ty, json!({}));
    store
        .append(&[
            e("shop_eu", 1, "Configured"),
            e("shop_eu/order/1", 1, "OrderReceived"),
            e("shop_eu/order/1", 2, "Parked"),
            e("shopXeu/order/1", 1, "OrderReceived"),
            e("shop_eu2/order/1", 1, "OrderReceived"),
        ])
        .await
        .unwrap();
    let ids = |events: Vec<mlc_store::StoredEvent>| {
        events
            .into_iter()
            .map(|e| format!("{}#{}", e.aggregate_id, e.sequence))
            .collect::<Vec<_>>()
    };
    let instance = EventFilter {
        instance: Some("shop_eu".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.list(&instance, 0, 100).await.unwrap()),
        ["shop_eu#1", "shop_eu/order/1#1", "shop_eu/order/1#2"],
        "`_` in an instance name is no wildcard and a longer name is another instance"
    );
    let doc = EventFilter {
        aggregate_id: Some("shop_eu/order/1".into()),
        event_type: Some("Parked".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(store.list(&doc, 0, 100).await.unwrap()),
        ["shop_eu/order/1#2"]
    );
}

#[tokio::test]
async fn filters_sqlite() {
    filters("sqlite").await
}

#[tokio::test]
async fn filters_postgres() {
    filters("postgres").await
}

#[tokio::test]
async fn bad_urls_are_refused_with_the_reason() {
    let err = mlc_store::EventStore::connect("mysql://x", Default::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected sqlite:PATH or postgres://"),
        "{err}"
    );
    let err = mlc_store::EventStore::connect("sqlite::memory:", Default::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("in-memory"), "{err}");
}

/// A server that ends the store's connections (a restart, an administrator)
/// while they sit idle: the store pings a connection idle for a second or
/// more before using it, so the next appends go through on new connections,
/// and the error PostgreSQL sends when it ends a connection counts as
/// transient.
#[tokio::test]
async fn connections_ended_by_the_server_are_replaced_before_use() {
    use sqlx::Connection;
    let db = TestDatabase::postgres().await;
    let store = db.store().await;
    store.append(&events("before", 3)).await.unwrap();
    let database = store
        .postgres_pool()
        .unwrap()
        .connect_options()
        .get_database()
        .map(str::to_owned);
    let mut admin = sqlx::PgConnection::connect(&mlc_store::testing::admin_url())
        .await
        .unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
    )
    .bind(database)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!ended.is_empty(), "the store had connections to end");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    for round in 0..3 {
        let positions = store
            .append(&events(&format!("after{round}"), 2))
            .await
            .unwrap();
        assert_eq!(positions.len(), 2);
    }
    assert_eq!(store.count().await.unwrap(), 3 + 2 * 3);
}

/// What PostgreSQL sends when it ends a connection is a transient error,
/// not a refusal: callers try again.
#[tokio::test]
async fn a_connection_ended_by_the_server_is_a_transient_error() {
    use sqlx::Connection;
    let db = TestDatabase::postgres().await;
    let store = db.store().await;
    let pool = store.postgres_pool().unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let mut admin = sqlx::PgConnection::connect(&mlc_store::testing::admin_url())
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    let error = sqlx::query("SELECT 1")
        .execute(&mut *conn)
        .await
        .expect_err("the connection was ended");
    assert!(
        mlc_store::StoreError::from(error).is_transient(),
        "an ended connection is transient"
    );
}

/// On SQLite an append waits while another writer of the process holds the
/// turn (one queue in the process, not SQLite's busy handler), and so does
/// a checkpoint save; on PostgreSQL the turn holds nobody up.
async fn writers_of_one_process_take_turns(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let turn = store.write_turn().await;
    let append = tokio::spawn({
        let store = store.clone();
        async move { store.append(&events("queued", 1)).await }
    });
    let save = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .save_checkpoint("queued", Position { tx: 1, global: 1 })
                .await
        }
    });
    if backend == "sqlite" {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!append.is_finished(), "the append waits for the turn");
        assert!(
            !save.is_finished(),
            "the checkpoint save waits for the turn"
        );
        assert_eq!(store.count().await.unwrap(), 0, "nothing written yet");
        drop(turn);
    }
    let wait = std::time::Duration::from_secs(30);
    tokio::time::timeout(wait, append)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    tokio::time::timeout(wait, save)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(
        store.checkpoint("queued").await.unwrap(),
        Position { tx: 1, global: 1 }
    );
}

#[tokio::test]
async fn writers_of_one_process_take_turns_sqlite() {
    writers_of_one_process_take_turns("sqlite").await
}

#[tokio::test]
async fn writers_of_one_process_take_turns_postgres() {
    writers_of_one_process_take_turns("postgres").await
}
