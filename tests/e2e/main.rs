//! The WooCommerce <-> Sage 300 pair end to end, as the issue's acceptance
//! states it: hundreds of orders with faults injected land in the Sage 300
//! sandbox exactly once (counted from its `received` log), on SQLite and on
//! PostgreSQL, also when the service is killed with SIGKILL at random moments.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use mlc_store::testing::TestDatabase;
use mlc_store::EventFilter;
use mlc_workload::{verify, Expectations, FaultProfile, SandboxControl, Workload};
use rand::Rng;
use serde_json::Value;

/// The binary under test, with no configuration from the environment.
fn ml_connector() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ml-connector"));
    for var in [
        "MLC_CONFIG",
        "MLC_DATA_DIR",
        "DATABASE_URL",
        "MLC_LISTEN",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `demo --orders 500 --faults chaos --until-done` exits 0 and its summary,
/// checked by the demo against the sandbox, says every order landed once.
async fn demo_lands_every_order_once(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let output = ml_connector()
        .args(["--data-dir", dir.path().to_str().unwrap()])
        .args(["--database-url", &db.url, "--listen", "127.0.0.1:0"])
        .args([
            "demo",
            "--orders",
            "500",
            "--faults",
            "chaos",
            "--until-done",
        ])
        .args(["--poll-secs", "2", "--concurrency", "8", "--seed", "7"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "demo failed\nstdout:\n{stdout}\nstderr:\n{}",
        tail(&stderr)
    );
    assert!(
        stdout.contains("500 placed, 500 posted once, 0 posted twice, 0 missing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 duplicated in Sage 300, 0 missing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("credited once, 0 twice, 0 missing"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_with_faults_lands_every_order_once_on_sqlite() {
    demo_lands_every_order_once("sqlite").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_with_faults_lands_every_order_once_on_postgres() {
    demo_lands_every_order_once("postgres").await;
}

/// The same run with the service killed by SIGKILL at random moments.
async fn sigkill_changes_nothing(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Seed::Demo,
    })
    .await
    .unwrap();
    // One port for every life of the service: the webhooks deliver there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen: SocketAddr = ([127, 0, 0, 1], port).into();
    let config = dir.path().join("ml-connector.toml");
    std::fs::write(&config, config_for(&sandbox.manifest(), listen)).unwrap();
    let log = dir.path().join("service.log");
    let start = || -> Child {
        ml_connector()
            .args(["--config", config.to_str().unwrap()])
            .args(["--data-dir", dir.path().to_str().unwrap()])
            .args(["--database-url", &db.url, "serve"])
            .stdout(Stdio::piped())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .unwrap(),
            )
            .spawn()
            .unwrap()
    };
    let wait_ready = |child: &mut Child| {
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening"), "{line}");
    };
    let mut service = start();
    wait_ready(&mut service);

    let control = SandboxControl::new(format!("http://{}", sandbox.addr()));
    let workload = Workload {
        orders: 500,
        concurrency: 8,
        faults: FaultProfile::Chaos,
        seed: 11,
        run_tag: format!("kill{backend}"),
        ..Workload::default()
    };
    let shop = {
        let control = control.clone();
        tokio::spawn(async move { workload.run(&control, Arc::new(AtomicUsize::new(0))).await })
    };
    let mut kills = 0;
    while kills < 6 {
        let pause = rand::rng().random_range(300..2_500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        service.kill().unwrap(); // SIGKILL
        service.wait().unwrap();
        kills += 1;
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(0..800))).await;
        service = start();
        wait_ready(&mut service);
    }
    let ledger = shop.await.unwrap().unwrap();
    assert!(ledger.errors.is_empty(), "{:?}", ledger.errors);

    let expectations = Expectations {
        order_reference: Box::new(|o| format!("WC-{}", o.number)),
        credit_note_reference: Box::new(|r| format!("WC-{}-R{}", r.order.number, r.id)),
    };
    let deadline = Instant::now() + Duration::from_secs(240);
    let verdict = loop {
        let verdict = verify(&control, &ledger, &expectations).await.unwrap();
        if verdict.is_exact() || Instant::now() > deadline {
            break verdict;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let _ = service.kill();
    let _ = service.wait();
    if !verdict.is_exact() {
        // What the store says of each document that did not land.
        let numbers: Vec<&String> = verdict
            .orders_missing
            .iter()
            .chain(&verdict.orders_twice)
            .chain(&verdict.refunds_missing)
            .collect();
        let mut story = String::new();
        for order in ledger.orders.iter().filter(|o| {
            numbers
                .iter()
                .any(|n| **n == o.number || n.starts_with(&format!("{}#", o.number)))
        }) {
            let store = db.store().await;
            let id = format!("shop/order/{}", order.id);
            let filter = EventFilter {
                aggregate_id: Some(id.clone()),
                ..EventFilter::default()
            };
            story.push_str(&format!("\n--- {id} ---"));
            for event in store.list(&filter, 0, 1000).await.unwrap() {
                let payload: String = event.payload.chars().take(300).collect();
                story.push_str(&format!(
                    "\n{} {}#{} {} {payload}",
                    event.position, event.aggregate_id, event.sequence, event.event_type
                ));
            }
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let problems: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
            .collect();
        let problems = problems[problems.len().saturating_sub(40)..].join("\n");
        panic!("after {kills} kills:\n{verdict}\n{story}\n--- service log ---\n{problems}");
    }
    assert_eq!(verdict.orders_once, 500, "{verdict}");
    assert!(
        verdict.refunds > 0 && verdict.refunds == verdict.refunds_once,
        "{verdict}"
    );
    // Settled: nothing is posted after the verdict (no late duplicate).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = verify(&control, &ledger, &expectations).await.unwrap();
    assert!(again.is_exact(), "{again}");
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_random_moments_changes_nothing_on_sqlite() {
    sigkill_changes_nothing("sqlite").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_random_moments_changes_nothing_on_postgres() {
    sigkill_changes_nothing("postgres").await;
}

/// A configuration for one WooCommerce <-> Sage 300 instance on the sandbox,
/// with short schedules so that recovery happens within the test.
fn config_for(manifest: &Value, listen: SocketAddr) -> String {
    let sage = &manifest["sage300"];
    let woo = &manifest["woocommerce"];
    format!(
        r#"
[service]
listen = "{listen}"
log_level = "warn"
[instances.shop]
erp = "sage300"
channel = "woocommerce"
[instances.shop.erp_connection]
base_url = "{}"
company = "{}"
username = "{}"
password = "{}"
[instances.shop.channel_connection]
base_url = "{}"
consumer_key = "{}"
consumer_secret = "{}"
webhook_secret = "e2e-webhook-secret"
[instances.shop.mapping]
price_list = "STD"
reference_prefix = "WC-"
[instances.shop.schedules]
stock_poll = "2s"
price_poll = "2s"
order_backfill = "2s"
webhook_health = "2s"
[instances.shop.retry]
max_attempts = 25
initial_backoff = "1s"
max_backoff = "5s"
"#,
        s(sage, "base_url"),
        s(sage, "company"),
        s(sage, "username"),
        s(sage, "password"),
        s(woo, "base_url"),
        s(woo, "consumer_key"),
        s(woo, "consumer_secret"),
    )
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap()
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
