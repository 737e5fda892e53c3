//! Event store benchmark: appends per second (one event per transaction and
//! batched) and subscription throughput, on SQLite and PostgreSQL, each next
//! to the raw rate of the same database through the same driver, measured in
//! the same run. Prints a table and writes it to `docs/benchmarks.md`.
//!
//!     cargo bench --bench event_store            # full run
//!     MLC_BENCH_QUICK=1 cargo bench --bench event_store
//!
//! PostgreSQL is reached as in the tests (`MLC_TEST_DATABASE_URL`, see
//! `scripts/test`); each backend gets a fresh database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use mlc_store::testing::TestDatabase;
use mlc_store::{
    EventStore, Handler, HandlerError, NewEvent, StoredEvent, Subscription, SubscriptionOptions,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

mod support;
use support::write_section;

/// Writers appending one event per transaction at the same time.
const WRITERS: usize = 8;
/// Events per batched append.
const BATCH: usize = 1000;

struct Sizes {
    single: usize,
    batched: usize,
}

#[derive(Default)]
struct Row {
    what: &'static str,
    backend: &'static str,
    ours: f64,
    raw: f64,
    target: &'static str,
}

fn payload(i: usize) -> serde_json::Value {
    json!({
        "order": { "number": format!("WC-{i}"), "total": "129.90", "currency": "EUR",
                    "customer": { "email": format!("buyer{i}@example.com") } },
        "received_at": "2026-11-26T10:00:00Z"
    })
}

fn event(prefix: &str, i: usize) -> NewEvent {
    NewEvent::new(
        "order_document",
        format!("bench/order/{prefix}{i}"),
        1,
        "OrderReceived",
        payload(i),
    )
}

#[tokio::main]
async fn main() {
    let quick = std::env::var("MLC_BENCH_QUICK").is_ok();
    let sizes = if quick {
        Sizes {
            single: 2_000,
            batched: 50_000,
        }
    } else {
        Sizes {
            single: 20_000,
            batched: 500_000,
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "event store benchmark on {cores} cores{}",
        if quick { " (quick)" } else { "" }
    );
    let mut rows = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        let label: &'static str = if backend == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        create_raw_table(&store).await;

        for (concurrency, what) in [
            (1, "single appends/s, 1 writer"),
            (WRITERS, "single appends/s, 8 writers"),
        ] {
            let raw = rate(sizes.single, || {
                raw_single(&store, sizes.single, concurrency)
            })
            .await;
            let ours = rate(sizes.single, || {
                single_appends(&store, sizes.single, concurrency, what)
            })
            .await;
            rows.push(Row {
                what,
                backend: label,
                ours,
                raw,
                target: ">= 80% of raw",
            });
        }
        let raw = rate(sizes.batched, || raw_batched(&store, sizes.batched)).await;
        let ours = rate(sizes.batched, || batched_appends(&store, sizes.batched)).await;
        rows.push(Row {
            what: "batched appends/s (1,000 a batch)",
            backend: label,
            ours,
            raw,
            target: ">= 50,000",
        });

        let total = store.count().await.unwrap() as usize;
        let raw = rate(total, || raw_scan(&store)).await;
        let ours = rate(total, || subscribe_all(&store, total)).await;
        rows.push(Row {
            what: "subscription events/s",
            backend: label,
            ours,
            raw,
            target: ">= 200,000",
        });
        store.close().await;
    }
    let table = render(&rows, cores, quick);
    println!("\n{table}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/benchmarks.md");
    write_section(path, "event-store", &table);
    println!("written to docs/benchmarks.md");
}

/// Runs `f` and returns `n` divided by the seconds it took.
async fn rate<F, Fut>(n: usize, f: F) -> f64
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    f().await;
    n as f64 / start.elapsed().as_secs_f64()
}

async fn create_raw_table(store: &EventStore) {
    if let Some(pool) = store.postgres_pool() {
        sqlx::query("CREATE TABLE raw_bench (id bigserial PRIMARY KEY, payload jsonb NOT NULL)")
            .execute(pool)
            .await
            .unwrap();
    }
    if let Some(pool) = store.sqlite_pool() {
        sqlx::query(
            "CREATE TABLE raw_bench (id INTEGER PRIMARY KEY, payload TEXT NOT NULL) STRICT",
        )
        .execute(pool)
        .await
        .unwrap();
    }
}

/// The database's own single-row commit rate: one INSERT per transaction.
async fn raw_single(store: &EventStore, n: usize, concurrency: usize) {
    let per = n / concurrency;
    join_all((0..concurrency).map(|w| async move {
        for i in 0..per {
            let body = payload(w * per + i);
            if let Some(pool) = store.postgres_pool() {
                sqlx::query("INSERT INTO raw_bench (payload) VALUES ($1)")
                    .bind(&body)
                    .execute(pool)
                    .await
                    .unwrap();
            }
            if let Some(pool) = store.sqlite_pool() {
                sqlx::query("INSERT INTO raw_bench (payload) VALUES (?)")
                    .bind(body.to_string())
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }))
    .await;
}

async fn single_appends(store: &EventStore, n: usize, concurrency: usize, tag: &str) {
    let per = n / concurrency;
    let prefix = format!("s{}-", tag.len() + concurrency);
    join_all((0..concurrency).map(|w| {
        let prefix = format!("{prefix}{w}-");
        async move {
            for i in 0..per {
                store.append(&[event(&prefix, i)]).await.unwrap();
            }
        }
    }))
    .await;
}

/// The database's own batched rate: 1,000 rows per INSERT and transaction.
async fn raw_batched(store: &EventStore, n: usize) {
    for chunk in 0..n / BATCH {
        let bodies: Vec<String> = (0..BATCH)
            .map(|i| payload(chunk * BATCH + i).to_string())
            .collect();
        if let Some(pool) = store.postgres_pool() {
            sqlx::query(
                "INSERT INTO raw_bench (payload) SELECT p::jsonb FROM UNNEST($1::text[]) AS u(p)",
            )
            .bind(&bodies)
            .execute(pool)
            .await
            .unwrap();
        }
        if let Some(pool) = store.sqlite_pool() {
            let mut tx = pool.begin().await.unwrap();
            let mut insert = sqlx::QueryBuilder::new("INSERT INTO raw_bench (payload) ");
            insert.push_values(&bodies, |mut row, body| {
                row.push_bind(body);
            });
            insert.build().execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }
    }
}

async fn batched_appends(store: &EventStore, n: usize) {
    for chunk in 0..n / BATCH {
        let events: Vec<NewEvent> = (0..BATCH).map(|i| event("b", chunk * BATCH + i)).collect();
        store.append(&events).await.unwrap();
    }
}

/// The database's own read rate: every row of `events` in one ordered scan.
async fn raw_scan(store: &EventStore) {
    use futures::TryStreamExt;
    let mut count = 0usize;
    if let Some(pool) = store.postgres_pool() {
        let mut rows = sqlx::query("SELECT global_position, aggregate_id, event_type, payload::text FROM events ORDER BY global_position").fetch(pool);
        while rows.try_next().await.unwrap().is_some() {
            count += 1;
        }
    }
    if let Some(pool) = store.sqlite_pool() {
        let mut rows = sqlx::query("SELECT global_position, aggregate_id, event_type, payload FROM events ORDER BY global_position").fetch(pool);
        while rows.try_next().await.unwrap().is_some() {
            count += 1;
        }
    }
    assert!(count > 0);
}

struct Counter(Arc<AtomicU64>);

impl Handler for Counter {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        // Touch the event as a real handler would before deciding to parse it.
        if event.event_type.is_empty() {
            return Err("event without a type".into());
        }
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

async fn subscribe_all(store: &EventStore, total: usize) {
    let seen = Arc::new(AtomicU64::new(0));
    let options = SubscriptionOptions {
        batch_size: 5000,
        poll_interval: Duration::from_millis(5),
        ..Default::default()
    };
    let shutdown = CancellationToken::new();
    let name = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let running = tokio::spawn(
        Subscription::new(store.clone(), name, Counter(seen.clone()), options)
            .run(shutdown.clone()),
    );
    while (seen.load(Ordering::Relaxed) as usize) < total {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

fn render(rows: &[Row], cores: usize, quick: bool) -> String {
    let mut out = format!(
        "Measured {} on {cores} cores ({}). \"Raw\" is the same database through the same driver: one INSERT of one jsonb row per transaction (single), one INSERT of 1,000 rows per transaction (batched), one ordered scan of the events table (subscription).\n\n",
        chrono::Utc::now().format("%Y-%m-%d"),
        if quick { "quick run" } else { "full run" }
    );
    out.push_str("| backend | measure | ml-connector | raw database | ratio | target |\n|---|---|---:|---:|---:|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.0}% | {} |\n",
            r.backend,
            r.what,
            r.ours,
            r.raw,
            100.0 * r.ours / r.raw,
            r.target
        ));
    }
    out
}
