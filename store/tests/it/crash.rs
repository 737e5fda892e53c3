//! A subscriber killed with SIGKILL at random points while events stream in
//! hands every event at least once, in order, and its stored checkpoint is
//! never ahead of what it handled.
//!
//! The subscriber runs in a child process: this test binary again, running
//! only `crash::subscriber_child`, which logs every event it handles to a
//! file with one unbuffered write (a write survives SIGKILL).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use mlc_store::testing::TestDatabase;
use mlc_store::{
    EventStore, Handler, HandlerError, Position, StoreOptions, StoredEvent, Subscription,
    SubscriptionOptions,
};
use rand::Rng;
use tokio_util::sync::CancellationToken;

const TOTAL: usize = 10_000;
const KILLS: usize = 6;
const NAME: &str = "crash";

struct LogHandler(std::fs::File);

impl Handler for LogHandler {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        let line = format!("{} {}\n", event.position.tx, event.position.global);
        self.0.write_all(line.as_bytes())?;
        Ok(())
    }
}

/// The child process: subscribes until every one of TOTAL events is handled.
#[tokio::test]
#[ignore = "entry point of the child process of the crash tests"]
async fn subscriber_child() {
    let url = std::env::var("MLC_CRASH_URL").expect("run by the crash tests only");
    let log = std::env::var("MLC_CRASH_LOG").unwrap();
    let options = StoreOptions {
        max_connections: 3,
        migrate: false,
    };
    let store = EventStore::connect(&url, options).await.unwrap();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let start = store.checkpoint(NAME).await.unwrap();
    file.write_all(format!("start {} {}\n", start.tx, start.global).as_bytes())
        .unwrap();
    let options = SubscriptionOptions {
        batch_size: 40,
        poll_interval: Duration::from_millis(20),
        ..Default::default()
    };
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(
        Subscription::new(store.clone(), NAME, LogHandler(file), options).run(shutdown.clone()),
    );
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if store.count().await.unwrap() == TOTAL as i64
            && store.checkpoint(NAME).await.unwrap() == store.head().await.unwrap()
        {
            break;
        }
    }
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

fn spawn_child(url: &str, log: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "crash::subscriber_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--quiet",
        ])
        .env("MLC_CRASH_URL", url)
        .env("MLC_CRASH_LOG", log)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the subscriber child")
}

enum Line {
    Start(Position),
    Handled(Position),
}

fn read_log(path: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            let pos = |tx: &str, g: &str| Position {
                tx: tx.parse().unwrap(),
                global: g.parse().unwrap(),
            };
            match parts.as_slice() {
                ["start", tx, g] => Line::Start(pos(tx, g)),
                [tx, g] => Line::Handled(pos(tx, g)),
                _ => panic!("malformed log line {line:?}"),
            }
        })
        .collect()
}

fn last_handled(lines: &[Line]) -> Option<Position> {
    lines.iter().rev().find_map(|l| match l {
        Line::Handled(p) => Some(*p),
        Line::Start(_) => None,
    })
}

async fn killed_subscriber_loses_nothing(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("handled.log");

    let producer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut written = 0;
            while written < TOTAL {
                let (n, pause) = {
                    let mut rng = rand::rng();
                    (
                        rng.random_range(1..=40).min(TOTAL - written),
                        rng.random_range(5..25),
                    )
                };
                store
                    .append(&crate::events(&format!("p{written}"), n))
                    .await
                    .unwrap();
                written += n;
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        })
    };

    let mut kills = 0;
    let mut kills_while_streaming = 0;
    while kills < KILLS || !producer.is_finished() {
        let mut child = spawn_child(&db.url, &log);
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(150..700))).await;
        let streaming = !producer.is_finished();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        kills_while_streaming += usize::from(streaming);
        let checkpoint = store.checkpoint(NAME).await.unwrap();
        let handled = last_handled(&read_log(&log)).unwrap_or(Position::START);
        assert!(
            checkpoint <= handled,
            "kill {kills}: checkpoint {checkpoint} is ahead of the last handled event {handled}"
        );
    }
    producer.await.unwrap();
    assert!(
        kills_while_streaming >= 5,
        "only {kills_while_streaming} kills landed while events streamed"
    );

    let mut child = spawn_child(&db.url, &log);
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the last subscriber did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "the last subscriber failed: {status}");

    // The true order, and each run of the subscriber checked against it.
    let mut order = Vec::with_capacity(TOTAL);
    let mut after = Position::START;
    loop {
        let page = store.read_after(after, 5000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        order.extend(page.iter().map(|e| e.position));
    }
    assert_eq!(order.len(), TOTAL);
    let index = |p: Position| -> isize {
        if p == Position::START {
            -1
        } else {
            order
                .binary_search(&p)
                .unwrap_or_else(|_| panic!("{p} is not an event")) as isize
        }
    };
    let lines = read_log(&log);
    let mut runs = 0;
    let mut next = 0usize; // index expected next within the current run
    let mut max_handled: isize = -1;
    let mut handled_once = vec![false; TOTAL];
    for line in &lines {
        match line {
            Line::Start(checkpoint) => {
                runs += 1;
                let at = index(*checkpoint);
                assert!(
                    at <= max_handled,
                    "run {runs} starts after {checkpoint}, beyond what was handled"
                );
                next = (at + 1) as usize;
            }
            Line::Handled(p) => {
                assert_eq!(
                    index(*p),
                    next as isize,
                    "run {runs}: handled {p} out of order or with a gap"
                );
                handled_once[next] = true;
                max_handled = max_handled.max(next as isize);
                next += 1;
            }
        }
    }
    assert_eq!(runs, kills + 1);
    assert!(handled_once.iter().all(|h| *h), "every event was handled");
    assert_eq!(
        store.checkpoint(NAME).await.unwrap(),
        *order.last().unwrap()
    );
    eprintln!("{backend}: {TOTAL} events, {kills} kills ({kills_while_streaming} while streaming), {} handled lines", lines.len() - runs);
}

#[tokio::test]
async fn killed_subscriber_loses_nothing_sqlite() {
    killed_subscriber_loses_nothing("sqlite").await
}

#[tokio::test]
async fn killed_subscriber_loses_nothing_postgres() {
    killed_subscriber_loses_nothing("postgres").await
}
