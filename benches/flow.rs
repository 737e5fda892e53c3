//! End-to-end benchmark of the WooCommerce -> Sage 300 flow, each figure next
//! to a baseline measured in the same run on the same machine:
//!
//! - signed order webhooks verified and durably acknowledged per second (p50,
//!   p99), on PostgreSQL and SQLite, next to a no-op actix-web POST handler
//!   driven by the same load generator, and next to the store's own append
//!   rate (one-event batches from as many writers as connections, and
//!   1,000-event batches);
//! - p99 latency at a fixed offered rate of 5,000 webhooks/s (open loop:
//!   latency counts from when a request was due, so a stall is not hidden)
//!   on a warm server (one second at that rate first, printed, not
//!   counted), with the worst latency of each second printed;
//! - orders per second from the first webhook to the last `PostedToErp`,
//!   through the real intake, CommandBus, documents projection, order worker
//!   and Sage 300 connector against the sandbox (`ml-connector sandbox`, a
//!   child process), at zero latency
//!   and with 50 ms of Sage latency injected, in the steady state (every
//!   customer placed one order before the clock starts);
//! - peak RSS (VmHWM) of one service life (webhooks, then orders) in a
//!   fresh process (this benchmark run again as a child), and of this
//!   process by phase;
//! - the cost of each stage of one webhook on one core (HMAC check, JSON
//!   decoding), to tell where the time goes.
//!
//! ```sh
//! cargo bench --bench flow                    # full run (a few minutes)
//! MLC_BENCH_QUICK=1 cargo bench --bench flow  # ~30 s, every figure
//! MLC_BENCH_ONLY=orders cargo bench --bench flow  # one part (intake|orders), not written
//! MLC_BENCH_BACKEND=sqlite cargo bench --bench flow  # one backend (sqlite|postgres), not written
//! MLC_BENCH_SOAK_SECS=600 MLC_BENCH_ONLY=orders MLC_BENCH_BACKEND=sqlite cargo bench --bench flow
//!   # after the zero-latency flow, the same service keeps taking orders for
//!   # that long and prints its memory every round; not written
//! ```
//!
//! PostgreSQL from `MLC_BENCH_DATABASE_URL` or `MLC_TEST_DATABASE_URL`; every
//! measurement gets a fresh database.
//!
//! The load generator is a minimal HTTP/1.1 client written here: one
//! keep-alive connection per task, one request in flight per connection,
//! each request built and signed just before it is sent (about 3 µs; holding
//! a whole run's requests would put hundreds of MB in this process's RSS).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use hdrhistogram::Histogram;
use mlc_actors::orders::{OrderWorker, OrderWorkerDeps, RetrySettings};
use mlc_connectors::sage300::{Sage300, Sage300Settings};
use mlc_connectors::woocommerce::webhook::{parse_order, sign, verify_signature};
use mlc_connectors::woocommerce::{WooCommerce, WooCommerceSettings};
use mlc_connectors::{ConnectorError, Erp, PreparedRequest, Storefront};
use mlc_domain::integration::{Integration, IntegrationCommand};
use mlc_domain::mapping::{ErpCreditNote, ErpCustomer, ErpItemState, ErpOrder, MappingRules};
use mlc_domain::model::{Email, InstanceId, Order};
use mlc_gateway::webhooks::{IntakeConfig, WebhookIntake};
use mlc_gateway::{Gateway, GatewayState};
use mlc_projections::{DocumentsProjection, DocumentsView};
use mlc_store::testing::TestDatabase;
use mlc_store::{
    CommandBus, CommandBusOptions, EventStore, NewEvent, Subscription, SubscriptionOptions,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

mod support;
use support::write_section;

/// The allocator of the `ml-connector` binary (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The instance the webhooks are addressed to.
const INSTANCE: &str = "bench";
/// The webhook secret (alphanumeric, as the connector generates them).
const SECRET: &str = "whsecBench7f3a9c21d0e84b5f";
/// Keep-alive connections of the closed-loop load generator.
const CONNECTIONS: usize = 64;
/// Sage 300 requests in flight at once from the order worker (as `src/service.rs`).
const ORDER_CONCURRENCY: usize = 16;
/// The fixed offered rate of the latency measurement.
const OFFERED_RATE: u64 = 5_000;
/// Sage 300 latency injected for the second order-flow measurement.
const SAGE_LATENCY_MS: u64 = 50;
/// The order template: an order as the sandbox's WooCommerce delivers it.
const ORDER_FIXTURE: &str =
    include_str!("../connectors/src/woocommerce/fixtures/sandbox_order.json");
/// Stand-ins in the template for each order's id and e-mail address.
const ID_MARK: &str = "987654321";
const EMAIL_MARK: &str = "bench.customer.mark@example.com";

struct Sizes {
    /// Webhooks per closed-loop measurement.
    webhooks: u64,
    /// Seconds of the fixed-rate measurement.
    fixed_rate_secs: u64,
    /// One-event appends.
    single_appends: u64,
    /// Events appended in 1,000-event batches.
    batched_events: u64,
    /// Orders through the whole flow at zero latency.
    orders: u64,
    /// Orders through the whole flow with Sage latency.
    slow_orders: u64,
    /// Iterations of the per-stage micro measurements.
    stage_iterations: u64,
}

/// One row of the results table.
struct Row {
    measure: String,
    ours: String,
    baseline: String,
    ratio: String,
    target: String,
}

impl Row {
    fn new(
        measure: impl Into<String>,
        ours: String,
        baseline: String,
        ratio: String,
        target: &str,
    ) -> Row {
        Row {
            measure: measure.into(),
            ours,
            baseline,
            ratio,
            target: target.into(),
        }
    }
}

fn main() {
    // Two runtime threads, as many as cores: the actix workers (2) and the
    // database share the same cores.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(run());
}

async fn run() {
    if let Ok(url) = std::env::var("MLC_BENCH_DATABASE_URL") {
        std::env::set_var("MLC_TEST_DATABASE_URL", url);
    }
    // A database on this machine is reached without TLS, as a deployment
    // next to its database would (sqlx's default, `prefer`, encrypts
    // loopback traffic); a URL that names an sslmode keeps it. The same for
    // the default URL, when no variable names one.
    {
        let url = mlc_store::testing::admin_url();
        if !url.contains("sslmode=") {
            let joined = if url.contains('?') { '&' } else { '?' };
            std::env::set_var(
                "MLC_TEST_DATABASE_URL",
                format!("{url}{joined}sslmode=disable"),
            );
        }
    }
    let quick = std::env::var("MLC_BENCH_QUICK").is_ok();
    // `intake` or `orders`: that part alone, printed, not written to the docs.
    let only = std::env::var("MLC_BENCH_ONLY").ok();
    let part = |name: &str| only.as_deref().is_none_or(|o| o == name);
    // `sqlite` or `postgres`: that backend alone, printed, not written.
    let one_backend = std::env::var("MLC_BENCH_BACKEND").ok();
    let backends: Vec<&str> = ["postgres", "sqlite"]
        .into_iter()
        .filter(|b| one_backend.as_deref().is_none_or(|o| o == *b))
        .collect();
    let sizes = if quick {
        Sizes {
            webhooks: 15_000,
            fixed_rate_secs: 3,
            single_appends: 5_000,
            batched_events: 50_000,
            orders: 1_000,
            slow_orders: 1_600,
            stage_iterations: 20_000,
        }
    } else {
        Sizes {
            webhooks: 60_000,
            fixed_rate_secs: 10,
            single_appends: 30_000,
            batched_events: 300_000,
            // Seconds of steady state, not a ramp: at 2,000/s, 1,500 orders
            // took under a second, of which the first orders' trip through
            // the projection and the worker's first look were a tenth.
            orders: 6_000,
            slow_orders: 3_200,
            stage_iterations: 200_000,
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "flow benchmark on {cores} cores{}",
        if quick { " (quick)" } else { "" }
    );
    let template = OrderTemplate::new();
    if let Ok(backend) = std::env::var(LIFE_OF) {
        one_service_life(&backend, &sizes, &template).await;
        return;
    }
    let mut rows = Vec::new();

    // Baseline: the same load generator against a handler that does nothing.
    let noop = NoopServer::start();
    let base = closed_loop(noop.addr, sizes.webhooks, CONNECTIONS, &template).await;
    noop.stop().await;
    println!("no-op actix-web handler: {}", base.summary());
    let rss_after_baseline = vm_hwm_mib();
    let mut peaks = PhasePeaks::default();
    peaks.end("no-op baseline");

    // The intake on each backend, and the store's own append rate.
    let intake_backends: &[&str] = if part("intake") { &backends } else { &[] };
    for &backend in intake_backends {
        let label = backend_label(backend);
        let target = if backend == "postgres" {
            20_000.0
        } else {
            10_000.0
        };
        let intake = IntakeServer::start(backend).await;
        let ours = closed_loop(intake.addr, sizes.webhooks, CONNECTIONS, &template).await;
        let recorded = intake.order_events().await;
        intake.stop().await;
        println!(
            "{label} intake: {} ({recorded} OrderReceived events)",
            ours.summary()
        );
        if recorded != sizes.webhooks || ours.failed > 0 {
            println!(
                "  WARNING: {} failed answers, {recorded} of {} recorded",
                ours.failed, sizes.webhooks
            );
        }
        let single = single_appends(backend, sizes.single_appends, CONNECTIONS).await;
        let batched = batched_appends(backend, sizes.batched_events).await;
        println!("{label} store: {single:.0} one-event appends/s ({CONNECTIONS} writers), {batched:.0} events/s in 1,000-event appends");

        rows.push(Row::new(
            format!("{label}: signed webhooks acknowledged/s ({CONNECTIONS} connections) vs no-op actix handler"),
            format!("{:.0}", ours.rate()),
            format!("{:.0}", base.rate()),
            pct(ours.rate(), base.rate()),
            &format!(">= {target:.0}/s"),
        ));
        rows.push(Row::new(
            format!("{label}: same, vs `EventStore::append` of one-event batches ({CONNECTIONS} writers)"),
            format!("{:.0}", ours.rate()),
            format!("{single:.0}"),
            pct(ours.rate(), single),
            "",
        ));
        rows.push(Row::new(
            format!("{label}: same, vs `EventStore::append` of 1,000-event batches (events/s)"),
            format!("{:.0}", ours.rate()),
            format!("{batched:.0}"),
            pct(ours.rate(), batched),
            "",
        ));
        rows.push(Row::new(
            format!("{label}: webhook latency p50 / p99, closed loop"),
            format!("{} / {}", ms(ours.p(50.0)), ms(ours.p(99.0))),
            format!("{} / {}", ms(base.p(50.0)), ms(base.p(99.0))),
            String::new(),
            "",
        ));

        // Fixed offered rate, on a warm server as in operation (its pool's
        // connections open, its statements prepared): one second at the
        // same rate first, printed, not counted. Both servers alike.
        let noop = NoopServer::start();
        open_loop(noop.addr, OFFERED_RATE, 1, CONNECTIONS, &template).await;
        let base_fixed = open_loop(
            noop.addr,
            OFFERED_RATE,
            sizes.fixed_rate_secs,
            CONNECTIONS,
            &template,
        )
        .await;
        noop.stop().await;
        let intake = IntakeServer::start(backend).await;
        let warm = open_loop(intake.addr, OFFERED_RATE, 1, CONNECTIONS, &template).await;
        println!(
            "{label} at {OFFERED_RATE}/s offered, warm-up second (not counted): {}",
            warm.summary()
        );
        let fixed = open_loop(
            intake.addr,
            OFFERED_RATE,
            sizes.fixed_rate_secs,
            CONNECTIONS,
            &template,
        )
        .await;
        intake.stop().await;
        println!(
            "{label} at {OFFERED_RATE}/s offered: {}; no-op: {}",
            fixed.summary(),
            base_fixed.summary()
        );
        println!(
            "  worst latency of the requests due in each second: {}",
            fixed
                .worst_by_second
                .iter()
                .map(|&w| ms(w))
                .collect::<Vec<_>>()
                .join(", ")
        );
        rows.push(Row::new(
            format!("{label}: p99 latency at {OFFERED_RATE} webhooks/s offered, after a warm-up second (achieved {:.0}/s) vs no-op", fixed.rate()),
            ms(fixed.p(99.0)),
            ms(base_fixed.p(99.0)),
            ratio_x(fixed.p(99.0) as f64, base_fixed.p(99.0) as f64),
            "<= 20 ms",
        ));
        peaks.end(&format!("{label} intake"));
    }

    if part("orders") {
        // Orders through the whole flow, each next to the sandbox's Sage 300
        // answering the same calls made directly at the same concurrency.
        let bound = ORDER_CONCURRENCY as f64 / (SAGE_LATENCY_MS as f64 / 1000.0);
        let every_call = json!({"system": "sage300", "type": "latency", "ms": SAGE_LATENCY_MS});
        let post_only = json!({"system": "sage300", "type": "latency", "ms": SAGE_LATENCY_MS,
                               "method": "POST", "path_contains": "OEOrders"});
        let direct_fast = direct_sage_rate(sizes.orders, None, &template).await;
        let direct_slow =
            direct_sage_rate(sizes.slow_orders, Some(every_call.clone()), &template).await;
        let direct_post =
            direct_sage_rate(sizes.slow_orders, Some(post_only.clone()), &template).await;
        peaks.end("Sage 300 alone");
        println!(
            "Sage 300 sandbox alone, the worker's calls, concurrency {ORDER_CONCURRENCY}: {direct_fast:.0} orders/s; \
             {SAGE_LATENCY_MS} ms on every call: {direct_slow:.0}/s; on the order POST only: {direct_post:.0}/s"
        );
        for &backend in &backends {
            let label = backend_label(backend);
            let fast = order_flow(backend, sizes.orders, None, &template).await;
            println!("{label} orders, no Sage latency: {}", fast.summary());
            rows.push(Row::new(
                format!(
                    "{label}: orders/s, webhook to PostedToErp, sandbox at zero latency ({} orders, {} Sage calls an order) \
                     vs the sandbox's Sage 300 alone (same calls, concurrency {ORDER_CONCURRENCY})",
                    fast.orders,
                    fmt_calls(fast.sage_calls_per_order)
                ),
                format!("{:.0}", fast.rate()),
                format!("{direct_fast:.0}"),
                pct(fast.rate(), direct_fast),
                ">= 2,000/s",
            ));
            // The same flow with Sage 300 latency: on every request, then on
            // the order POST only; each next to the sandbox alone with that fault.
            let slow_cases = [
                (
                    &every_call,
                    direct_slow,
                    "every Sage call",
                    format!(
                        "every Sage 300 request, concurrency {ORDER_CONCURRENCY} vs the sandbox alone \
                         with the same fault (concurrency / {SAGE_LATENCY_MS} ms = {bound:.0}/s)"
                    ),
                ),
                (
                    &post_only,
                    direct_post,
                    "the order POST only",
                    format!(
                        "the order POST only, concurrency {ORDER_CONCURRENCY} vs the sandbox alone \
                         with the same fault"
                    ),
                ),
            ];
            for (fault, direct, printed, measure) in slow_cases {
                let slow =
                    order_flow(backend, sizes.slow_orders, Some(fault.clone()), &template).await;
                println!(
                    "{label} orders, {SAGE_LATENCY_MS} ms on {printed}: {}",
                    slow.summary()
                );
                rows.push(Row::new(
                    format!("{label}: orders/s with {SAGE_LATENCY_MS} ms on {measure}"),
                    format!("{:.0}", slow.rate()),
                    format!("{direct:.0}"),
                    pct(slow.rate(), direct),
                    &format!(">= 95% of {bound:.0}/s (304/s)"),
                ));
            }
            peaks.end(&format!("{label} order flows"));
        }
    }

    // Where the time of one webhook goes, on one core.
    let stages = stage_costs(&template, sizes.stage_iterations);
    for (what, micros) in &stages {
        println!("stage {what}: {micros:.2} µs");
    }
    peaks.end("stage measurements");

    let peak = peaks.max();
    println!("peak RSS by phase: {}", peaks.summary());
    for &backend in &backends {
        let (start, peak) = tokio::task::spawn_blocking(move || service_life_peak(backend))
            .await
            .expect("the child ran");
        println!(
            "{} service life in a fresh process: {start:.0} MiB at start, peak {peak:.0} MiB",
            backend_label(backend)
        );
        rows.push(Row::new(
            format!(
                "{}: peak RSS (VmHWM) of one service life in a fresh process ({} webhooks, then {} orders to Sage 300; load generator included, sandbox apart) vs at its start",
                backend_label(backend),
                sizes.webhooks,
                sizes.orders
            ),
            format!("{peak:.0} MiB"),
            format!("{start:.0} MiB"),
            String::new(),
            "<= 200 MB",
        ));
    }
    rows.push(Row::new(
        "peak RSS (VmHWM) of the bench process: service and load generator (the sandbox runs apart), vs after the no-op baseline",
        format!("{peak:.0} MiB"),
        format!("{rss_after_baseline:.0} MiB"),
        String::new(),
        "<= 200 MB",
    ));

    let table = render(&rows, &stages, &base, cores, quick);
    println!("\n{table}");
    if only.is_some() || one_backend.is_some() || soak_secs().is_some() {
        println!("(MLC_BENCH_ONLY, MLC_BENCH_BACKEND or MLC_BENCH_SOAK_SECS: not written to docs/benchmarks.md)");
        return;
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/benchmarks.md");
    write_section(path, "flow", &table);
    println!("written to docs/benchmarks.md");
}

fn backend_label(backend: &str) -> &'static str {
    if backend == "postgres" {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

fn pct(ours: f64, base: f64) -> String {
    if base > 0.0 {
        format!("{:.0}%", 100.0 * ours / base)
    } else {
        "-".into()
    }
}

fn ratio_x(ours: f64, base: f64) -> String {
    if base > 0.0 {
        format!("{:.1}x", ours / base)
    } else {
        "-".into()
    }
}

/// Microseconds as milliseconds with two decimals.
fn ms(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

fn fmt_calls(calls: Option<f64>) -> String {
    calls.map_or("?".into(), |c| format!("{c:.1}"))
}

/// The peak resident set of this process (VmHWM), in MiB.
/// Set in a child run of this benchmark: the backend of the one service
/// life it measures (see [`service_life_peak`]).
const LIFE_OF: &str = "MLC_BENCH_LIFE_OF";

/// One service's life, in this (child) process: the intake of
/// `sizes.webhooks` webhooks, then `sizes.orders` orders from webhook to
/// Sage 300. Prints the RSS at the start and the peak, for the parent.
async fn one_service_life(backend: &str, sizes: &Sizes, template: &OrderTemplate) {
    let start = status_mib("VmRSS:");
    let intake = IntakeServer::start(backend).await;
    closed_loop(intake.addr, sizes.webhooks, CONNECTIONS, template).await;
    intake.stop().await;
    order_flow(backend, sizes.orders, None, template).await;
    println!("LIFE_RSS_MIB {start:.1} {:.1}", vm_hwm_mib());
}

/// Runs [`one_service_life`] of `backend` in a fresh process (this benchmark
/// again): the service's own peak, free of what earlier measurements of this
/// process left in its heap (each stopped SQLite pool leaves its threads'
/// heaps behind). The RSS at its start, and its peak, in MiB.
fn service_life_peak(backend: &str) -> (f64, f64) {
    let output = std::process::Command::new(std::env::current_exe().expect("this benchmark"))
        .args(std::env::args().skip(1))
        .env(LIFE_OF, backend)
        .output()
        .expect("run the benchmark as a child");
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| {
            let mut figures = line.strip_prefix("LIFE_RSS_MIB ")?.split(' ');
            Some((figures.next()?.parse().ok()?, figures.next()?.parse().ok()?))
        })
        .unwrap_or_else(|| {
            panic!(
                "the child printed no figures: {text} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// The peak RSS of each phase of the run: read, then reset, at its end.
#[derive(Default)]
struct PhasePeaks(Vec<(String, f64)>);

impl PhasePeaks {
    fn end(&mut self, phase: &str) {
        self.0.push((phase.to_owned(), vm_hwm_mib()));
        reset_peak();
    }

    fn max(&self) -> f64 {
        self.0.iter().map(|(_, mib)| *mib).fold(0.0, f64::max)
    }

    fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(phase, mib)| format!("{phase} {mib:.0} MiB"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn rss_anon_mib() -> f64 {
    status_mib("RssAnon:")
}

/// Resets VmHWM to the current RSS: writing 5 to clear_refs (Linux).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn vm_hwm_mib() -> f64 {
    status_mib("VmHWM:")
}

/// A `kB` line of `/proc/self/status`, in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

// ---------------------------------------------------------------------------
// Request bodies

/// The sandbox's order with marks where each order's id and e-mail go.
#[derive(Clone)]
struct OrderTemplate {
    text: String,
}

impl OrderTemplate {
    fn new() -> OrderTemplate {
        let mut order: Value = serde_json::from_str(ORDER_FIXTURE).expect("fixture order");
        order["id"] = json!(ID_MARK.parse::<u64>().unwrap());
        order["number"] = json!(ID_MARK);
        order["order_key"] = json!(format!("wc_order_{ID_MARK}"));
        order["billing"]["email"] = json!(EMAIL_MARK);
        let text = serde_json::to_string(&order).unwrap();
        assert!(text.contains(ID_MARK) && text.contains(EMAIL_MARK));
        OrderTemplate { text }
    }

    /// The body of order `id` placed by `email`.
    fn body(&self, id: u64, email: &str) -> String {
        self.text
            .replace(ID_MARK, &id.to_string())
            .replace(EMAIL_MARK, email)
    }

    /// A complete signed `order.created` delivery of order `id`.
    fn request(&self, id: u64, email: &str) -> Vec<u8> {
        let body = self.body(id, email);
        let signature = sign(SECRET.as_bytes(), body.as_bytes());
        let mut request = format!(
            "POST /webhooks/{INSTANCE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             User-Agent: WooCommerce/9.4.2 Hookshot (WordPress/6.7)\r\nX-WC-Webhook-Source: https://shop.example.com/\r\n\
             X-WC-Webhook-Topic: order.created\r\nX-WC-Webhook-Resource: order\r\nX-WC-Webhook-Event: created\r\n\
             X-WC-Webhook-ID: 7\r\nX-WC-Webhook-Delivery-ID: {id}\r\nX-WC-Webhook-Signature: {signature}\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body.as_bytes());
        request
    }
}

// ---------------------------------------------------------------------------
// Load generator

/// What a load run measured.
struct Outcome {
    requests: u64,
    ok: u64,
    failed: u64,
    elapsed: Duration,
    /// Microseconds.
    latency: Histogram<u64>,
    first_failure: Option<String>,
    /// Open loop: the worst latency (µs) of the requests due in each second.
    worst_by_second: Vec<u64>,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn p(&self, q: f64) -> u64 {
        self.latency.value_at_quantile(q / 100.0)
    }

    fn summary(&self) -> String {
        format!(
            "{} requests in {:.2} s = {:.0}/s, p50 {}, p99 {}, max {}, {} failed{}",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.rate(),
            ms(self.p(50.0)),
            ms(self.p(99.0)),
            ms(self.latency.max()),
            self.failed,
            self.first_failure
                .as_deref()
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default()
        )
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

/// One keep-alive HTTP/1.1 connection with one request in flight.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Connection {
            stream,
            buffer: Vec::with_capacity(4096),
        }
    }

    /// Sends `request` and reads the answer: its status and body.
    async fn exchange(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(head_end) = find(&self.buffer, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buffer[..head_end])
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                let status: u16 = head
                    .get(9..12)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
                let length = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())
                            .flatten()
                    })
                    .unwrap_or(0);
                let total = head_end + 4 + length;
                while self.buffer.len() < total {
                    let n = self.stream.read(&mut chunk).await?;
                    if n == 0 {
                        return Err(std::io::Error::other("connection closed mid-body"));
                    }
                    self.buffer.extend_from_slice(&chunk[..n]);
                }
                return Ok((status, self.buffer[head_end + 4..total].to_vec()));
            }
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Order ids are unique across every run of the process, so that each
/// request is a new document.
static NEXT_ORDER_ID: AtomicU64 = AtomicU64::new(100_000);

/// The requests of one run: each built and signed by the load generator
/// when it is sent (3 µs, see the stage table), so that the bench process
/// does not hold every request of a run in memory (60,000 of ~3.3 kB).
#[derive(Clone)]
struct Requests {
    template: Arc<OrderTemplate>,
    first: u64,
    n: u64,
    emails: Arc<Vec<String>>,
}

impl Requests {
    fn len(&self) -> u64 {
        self.n
    }

    /// Request `i` of the run.
    fn get(&self, i: u64) -> Vec<u8> {
        let email = if self.emails.is_empty() {
            "liam.johnson1@example.com"
        } else {
            self.emails[(i as usize) % self.emails.len()].as_str()
        };
        self.template.request(self.first + i, email)
    }
}

/// The `n` requests of one run, new orders placed by `emails` in turn.
fn prepare(template: &OrderTemplate, n: u64, emails: &[String]) -> Requests {
    Requests {
        template: Arc::new(template.clone()),
        first: NEXT_ORDER_ID.fetch_add(n, Ordering::Relaxed),
        n,
        emails: Arc::new(emails.to_vec()),
    }
}

struct TaskResult {
    ok: u64,
    failed: u64,
    latency: Histogram<u64>,
    first_failure: Option<String>,
    worst_by_second: Vec<u64>,
}

impl TaskResult {
    fn new() -> TaskResult {
        TaskResult {
            ok: 0,
            failed: 0,
            latency: histogram(),
            first_failure: None,
            worst_by_second: Vec::new(),
        }
    }

    /// Open loop: also keeps the worst latency of the requests due in `second`.
    fn note_second(&mut self, second: usize, micros: u64) {
        keep_worst(&mut self.worst_by_second, second, micros);
    }

    fn record(&mut self, answer: std::io::Result<(u16, Vec<u8>)>, micros: u64) {
        self.latency.saturating_record(micros.max(1));
        match answer {
            Ok((200, _)) => self.ok += 1,
            Ok((status, body)) => {
                self.failed += 1;
                self.first_failure
                    .get_or_insert_with(|| format!("{status} {}", String::from_utf8_lossy(&body)));
            }
            Err(error) => {
                self.failed += 1;
                self.first_failure.get_or_insert_with(|| error.to_string());
            }
        }
    }
}

/// `worst[second]` becomes at least `micros`, growing `worst` as needed.
fn keep_worst(worst: &mut Vec<u64>, second: usize, micros: u64) {
    if worst.len() <= second {
        worst.resize(second + 1, 0);
    }
    worst[second] = worst[second].max(micros);
}

fn merge(requests: u64, elapsed: Duration, results: Vec<TaskResult>) -> Outcome {
    let mut outcome = Outcome {
        requests,
        ok: 0,
        failed: 0,
        elapsed,
        latency: histogram(),
        first_failure: None,
        worst_by_second: Vec::new(),
    };
    for result in results {
        for (second, &worst) in result.worst_by_second.iter().enumerate() {
            keep_worst(&mut outcome.worst_by_second, second, worst);
        }
        outcome.ok += result.ok;
        outcome.failed += result.failed;
        outcome.latency.add(&result.latency).unwrap();
        if outcome.first_failure.is_none() {
            outcome.first_failure = result.first_failure;
        }
    }
    outcome
}

/// `n` requests as fast as they are answered over `connections` connections.
async fn closed_loop(
    addr: SocketAddr,
    n: u64,
    connections: usize,
    template: &OrderTemplate,
) -> Outcome {
    closed_loop_with(addr, prepare(template, n, &[]), connections).await
}

async fn closed_loop_with(addr: SocketAddr, requests: Requests, connections: usize) -> Outcome {
    let n = requests.len();
    let next = Arc::new(AtomicU64::new(0));
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Connection::open(addr).await);
    }
    let start = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let requests = requests.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut result = TaskResult::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let request = requests.get(i);
                    let sent = Instant::now();
                    let answer = conn.exchange(&request).await;
                    let broken = answer.is_err();
                    result.record(answer, sent.elapsed().as_micros() as u64);
                    if broken {
                        conn = Connection::open(addr).await;
                    }
                }
                result
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    merge(n, start.elapsed(), results)
}

/// `rate` requests a second for `secs` seconds, each sent when due (or as
/// soon as its connection is free); latency counts from when it was due.
async fn open_loop(
    addr: SocketAddr,
    rate: u64,
    secs: u64,
    connections: usize,
    template: &OrderTemplate,
) -> Outcome {
    let n = rate * secs;
    let requests = prepare(template, n, &[]);
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Connection::open(addr).await);
    }
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let interval_ns = 1_000_000_000 / rate;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(k, mut conn)| {
            let requests = requests.clone();
            tokio::spawn(async move {
                let mut result = TaskResult::new();
                let mut i = k as u64;
                while i < n {
                    let due = start + Duration::from_nanos(i * interval_ns);
                    tokio::time::sleep_until(due).await;
                    let answer = conn.exchange(&requests.get(i)).await;
                    let broken = answer.is_err();
                    let micros = due.elapsed().as_micros() as u64;
                    result.record(answer, micros);
                    result.note_second((i / rate) as usize, micros);
                    if broken {
                        conn = Connection::open(addr).await;
                    }
                    i += connections as u64;
                }
                result
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    merge(n, start.elapsed(), results)
}

// ---------------------------------------------------------------------------
// Servers

/// The baseline: actix-web with the gateway's worker count and a POST
/// handler that reads the body and answers a small JSON, touching nothing.
struct NoopServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl NoopServer {
    fn start() -> NoopServer {
        async fn noop(body: web::Bytes) -> HttpResponse {
            HttpResponse::Ok().json(json!({"status": "recorded", "events": 1, "bytes": body.len()}))
        }
        let server =
            HttpServer::new(|| App::new().route("/webhooks/{instance}", web::post().to(noop)))
                .disable_signals()
                .workers(2)
                .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
                .expect("bind the no-op server");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        NoopServer {
            addr,
            handle,
            task: tokio::spawn(server),
        }
    }

    async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

/// The real webhook intake over a fresh database.
struct IntakeServer {
    addr: SocketAddr,
    store: EventStore,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), mlc_gateway::GatewayError>>,
    _db: TestDatabase,
}

fn registry() -> HashMap<String, IntakeConfig> {
    HashMap::from([(
        INSTANCE.to_string(),
        IntakeConfig::woocommerce(SecretString::from(SECRET.to_string())),
    )])
}

impl IntakeServer {
    async fn start(backend: &str) -> IntakeServer {
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        let options = CommandBusOptions {
            writers: std::env::var("MLC_BENCH_WRITERS")
                .ok()
                .and_then(|w| w.parse().ok()),
            ..CommandBusOptions::default()
        };
        let intake = WebhookIntake::start(&store, registry(), options).unwrap();
        let gateway = Gateway::bind(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            GatewayState {
                store: store.clone(),
                subscriptions: vec![],
                webhooks: Some(intake),
                operator: None,
            },
        )
        .unwrap();
        let addr = gateway.local_addr();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(gateway.run(shutdown.clone()));
        IntakeServer {
            addr,
            store,
            shutdown,
            task,
            _db: db,
        }
    }

    async fn order_events(&self) -> u64 {
        count_events(&self.store, "OrderReceived").await
    }

    async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
        self.store.close().await;
    }
}

/// Events of `event_type` in the store, counted by the database (listing
/// them would hold every payload in this process's memory).
async fn count_events(store: &EventStore, event_type: &str) -> u64 {
    let counted: Result<i64, sqlx::Error> = if let Some(pool) = store.postgres_pool() {
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(pool)
            .await
    } else if let Some(pool) = store.sqlite_pool() {
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = ?")
            .bind(event_type)
            .fetch_one(pool)
            .await
    } else {
        Ok(0)
    };
    counted.map_or(0, |n| n as u64)
}

// ---------------------------------------------------------------------------
// Store baselines

/// The payload of an `OrderReceived` event: the canonical order the intake
/// decodes from the sandbox's order.
fn order_payload() -> Value {
    let order = parse_order(ORDER_FIXTURE.as_bytes()).expect("fixture order decodes");
    json!({ "OrderReceived": { "instance": INSTANCE, "order": order, "received_at": Utc::now() } })
}

/// One-event appends per second from `writers` concurrent writers, each to
/// a new stream, on a fresh database.
async fn single_appends(backend: &str, n: u64, writers: usize) -> f64 {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let payload = order_payload();
    let per = n / writers as u64;
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            let payload = payload.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    let event = NewEvent::new(
                        "order_document",
                        format!("{INSTANCE}/order/raw{w}-{i}"),
                        1,
                        "OrderReceived",
                        payload.clone(),
                    );
                    store.append(&[event]).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = (per * writers as u64) as f64 / start.elapsed().as_secs_f64();
    store.close().await;
    rate
}

/// Events per second appended 1,000 at a time by one writer, on a fresh
/// database.
async fn batched_appends(backend: &str, n: u64) -> f64 {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let payload = order_payload();
    let batches = n / 1000;
    let start = Instant::now();
    for b in 0..batches {
        let events: Vec<NewEvent> = (0..1000)
            .map(|i| {
                NewEvent::new(
                    "order_document",
                    format!("{INSTANCE}/order/batch{b}-{i}"),
                    1,
                    "OrderReceived",
                    payload.clone(),
                )
            })
            .collect();
        store.append(&events).await.unwrap();
    }
    let rate = (batches * 1000) as f64 / start.elapsed().as_secs_f64();
    store.close().await;
    rate
}

// ---------------------------------------------------------------------------
// The whole flow

struct FlowOutcome {
    orders: u64,
    posted: u64,
    /// First webhook sent to the last order posted.
    elapsed: Duration,
    /// First webhook sent to the last one acknowledged.
    intake_elapsed: Duration,
    statuses: String,
    sage_orders: u64,
    sage_calls_per_order: Option<f64>,
    /// Time spent waiting for Sage 300, per order posted.
    erp_time_per_order: Duration,
    /// Each kind of Sage 300 call, with its count and average time.
    erp_calls: String,
    intake: Outcome,
}

impl FlowOutcome {
    fn rate(&self) -> f64 {
        self.posted as f64 / self.elapsed.as_secs_f64()
    }

    fn intake_rate(&self) -> f64 {
        self.intake.ok as f64 / self.intake_elapsed.as_secs_f64()
    }

    fn summary(&self) -> String {
        format!(
            "{} of {} posted in {:.2} s = {:.0}/s (intake {:.2} s, {:.0}/s, {} failed); Sage 300 holds {} orders; {} Sage calls and {:.1} ms in Sage an order ({}); documents: {}",
            self.posted,
            self.orders,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.intake_elapsed.as_secs_f64(),
            self.intake_rate(),
            self.intake.failed,
            self.sage_orders,
            fmt_calls(self.sage_calls_per_order),
            self.erp_time_per_order.as_secs_f64() * 1e3,
            self.erp_calls,
            self.statuses
        )
    }
}

/// The sandbox in a child process (`ml-connector sandbox --seed demo`): the
/// outside world runs beside the service as it would in life, so that the
/// peak RSS of this process is the service's (and the load generator's),
/// not the simulated systems' data.
struct SandboxProcess {
    child: tokio::process::Child,
    manifest: Value,
    addr: SocketAddr,
}

impl SandboxProcess {
    async fn start() -> SandboxProcess {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ml-connector"))
            .args(["sandbox", "--seed", "demo"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start `ml-connector sandbox`");
        // The manifest is printed as pretty JSON once the sandbox listens.
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut text = String::new();
        let manifest: Value = loop {
            let line = lines
                .next_line()
                .await
                .expect("sandbox output")
                .expect("the sandbox printed its manifest");
            text.push_str(&line);
            if let Ok(manifest) = serde_json::from_str(&text) {
                break manifest;
            }
        };
        let base = url::Url::parse(manifest["sage300"]["base_url"].as_str().expect("base_url"))
            .expect("a base URL");
        let addr = base
            .socket_addrs(|| None)
            .expect("the sandbox address")
            .into_iter()
            .next()
            .expect("one address");
        SandboxProcess {
            child,
            manifest,
            addr,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn manifest(&self) -> Value {
        self.manifest.clone()
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The real WooCommerce connector with the sandbox's credentials (the
/// order worker's refund watcher reads refunds through it; this benchmark's
/// orders have none).
fn woocommerce_connector(sandbox: &SandboxProcess) -> Arc<dyn Storefront> {
    let manifest = sandbox.manifest();
    let woo = &manifest["woocommerce"];
    let text = |key: &str| woo[key].as_str().unwrap_or_default().to_string();
    Arc::new(
        WooCommerce::new(WooCommerceSettings {
            base_url: url::Url::parse(&text("base_url")).expect("WooCommerce base URL"),
            consumer_key: SecretString::from(text("consumer_key")),
            consumer_secret: SecretString::from(text("consumer_secret")),
            timeout: Duration::from_secs(10),
        })
        .expect("WooCommerce connector"),
    )
}

/// The answer of the sandbox's control route `path`, as JSON.
async fn control(
    http: &reqwest::Client,
    sandbox: &SandboxProcess,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let text = control_body(http, sandbox, method, path, body).await;
    serde_json::from_slice(text.as_ref()).unwrap_or(Value::Null)
}

/// How many entries the sandbox's control list at `path` has, counted
/// without building them: the list of every order the sandbox holds, as a
/// `serde_json::Value`, took several times its text in memory, in this
/// process, and showed as the peak RSS of the service life measured here.
async fn control_count(http: &reqwest::Client, sandbox: &SandboxProcess, path: &str) -> u64 {
    let text = control_body(http, sandbox, reqwest::Method::GET, path, None).await;
    serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(text.as_ref())
        .map_or(0, |all| all.len() as u64)
}

/// The body of a successful answer of the sandbox's control route `path`.
async fn control_body(
    http: &reqwest::Client,
    sandbox: &SandboxProcess,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> impl AsRef<[u8]> {
    let mut request = http.request(method, format!("http://{}/_sandbox/{path}", sandbox.addr()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sandbox control route");
    let status = response.status();
    let text = response.bytes().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "{path}: {status} {}",
        String::from_utf8_lossy(&text)
    );
    text
}

/// `MLC_BENCH_SOAK_SECS`: how long the zero-latency flow's service keeps
/// taking orders after its measurement.
fn soak_secs() -> Option<u64> {
    std::env::var("MLC_BENCH_SOAK_SECS").ok()?.parse().ok()
}

/// The same service takes rounds of orders, as fast as it posts them, for
/// `secs` seconds; after each round, the round's rate and the process's
/// memory: its peak during the round (VmHWM, then reset), its RSS and its
/// anonymous RSS at the round's end. Memory that grows round after round
/// with the orders is a leak or an unbounded cache; a level is not.
async fn soak_run(
    addr: SocketAddr,
    documents: &DocumentsView,
    counting: &CountingErp,
    template: &OrderTemplate,
    emails: &[String],
    mut posted: u64,
    secs: u64,
) {
    const ROUND: u64 = 2_000;
    let started = Instant::now();
    reset_peak();
    println!("  soak: {secs} s of rounds of {ROUND} orders; memory in MiB");
    while started.elapsed() < Duration::from_secs(secs) {
        let round = Instant::now();
        counting.reset();
        let sent = closed_loop_with(addr, prepare(template, ROUND, emails), CONNECTIONS).await;
        posted += sent.ok;
        wait_settled(documents, counting, posted).await;
        let took = round.elapsed();
        let peak = vm_hwm_mib();
        reset_peak();
        // The sandbox's own share: a slower Sage 300 slows the flow too.
        let (calls, in_sage, _) = counting.totals();
        // After the clock: the count of every document grows with the store.
        let counted = Instant::now();
        let (in_view, _) = wait_posted(documents, counting, posted).await;
        let count_ms = counted.elapsed().as_secs_f64() * 1e3;
        println!(
            "  soak {:>5.0} s: {posted} orders posted ({in_view} in the read model, counted in {count_ms:.0} ms), {:.0}/s this round, {:.1} ms a Sage call, {} failed; peak {peak:.0}, RSS {:.0}, anonymous {:.0}",
            started.elapsed().as_secs_f64(),
            sent.ok as f64 / took.as_secs_f64(),
            in_sage.as_secs_f64() * 1e3 / calls.max(1) as f64,
            sent.failed,
            status_mib("VmRSS:"),
            rss_anon_mib(),
        );
    }
}

/// `n` orders from webhook to `PostedToErp`: the intake, the CommandBus, the
/// documents projection, the order worker and the Sage 300 connector, wired
/// as `src/service.rs` wires them, against a demo sandbox with `fault`.
async fn order_flow(
    backend: &str,
    n: u64,
    fault: Option<Value>,
    template: &OrderTemplate,
) -> FlowOutcome {
    let sandbox = SandboxProcess::start().await;
    let http = reqwest::Client::new();
    // Returning customers: the demo Sage 300 customers' addresses.
    let emails = sage_emails(&http, &sandbox).await;

    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let instance = InstanceId::new(INSTANCE).unwrap();
    store
        .cqrs::<Integration>(vec![], ())
        .execute(
            INSTANCE,
            IntegrationCommand::Configure {
                instance: instance.clone(),
                fingerprint: "flow-bench".into(),
            },
        )
        .await
        .expect("configure the instance");

    let shutdown = CancellationToken::new();
    let bus_options = CommandBusOptions::default();
    let intake = WebhookIntake::start(&store, registry(), bus_options.clone()).unwrap();
    let orders = intake.orders().clone();
    let customer_bus = CommandBus::start(store.clone(), bus_options);
    let documents = DocumentsView::new(store.clone());
    let projection = Subscription::new(
        store.clone(),
        DocumentsProjection::NAME,
        DocumentsProjection::new(documents.clone()),
        SubscriptionOptions {
            poll_interval: Duration::from_millis(200),
            ..SubscriptionOptions::default()
        },
    );
    let projection_task = tokio::spawn(projection.run(shutdown.clone()));
    let gateway = Gateway::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        GatewayState {
            store: store.clone(),
            subscriptions: vec![],
            webhooks: Some(intake),
            operator: None,
        },
    )
    .unwrap();
    let addr = gateway.local_addr();
    let gateway_task = tokio::spawn(gateway.run(shutdown.clone()));

    let sage300 = sage300_connector(&sandbox);
    let counting = Arc::new(CountingErp::new(sage300));
    let erp: Arc<dyn Erp> = counting.clone();
    let worker = OrderWorker::start(
        OrderWorkerDeps {
            store: store.clone(),
            bus: orders,
            customers: customer_bus,
            documents: documents.clone(),
            instance: instance.clone(),
            erp,
            storefront: woocommerce_connector(&sandbox),
            rules: MappingRules {
                reference_prefix: Some("WC-".into()),
                ..MappingRules::default()
            },
            retry: RetrySettings {
                max_attempts: 8,
                initial_backoff: Duration::from_secs(1),
                max_backoff: Duration::from_secs(10),
                jitter: 0.2,
            },
            concurrency: ORDER_CONCURRENCY,
            poll_interval: Duration::from_secs(1),
        },
        shutdown.clone(),
    );

    // Steady state: every customer has placed one order before the clock
    // starts (untimed, without the fault), so the timed orders are those of
    // returning customers, and the ERP calls counted are theirs.
    let warm_up = emails.len() as u64;
    let warm = closed_loop_with(addr, prepare(template, warm_up, &emails), CONNECTIONS).await;
    wait_posted(&documents, &counting, warm.ok).await;
    counting.reset();
    let posted_before = count_events(&store, "PostedToErp").await;
    let soak = fault.is_none().then(soak_secs).flatten();
    if let Some(fault) = fault {
        control(
            &http,
            &sandbox,
            reqwest::Method::POST,
            "faults",
            Some(fault),
        )
        .await;
    }
    let requests = prepare(template, n, &emails);
    let start = Instant::now();
    let intake_outcome = closed_loop_with(addr, requests, CONNECTIONS).await;
    let intake_elapsed = start.elapsed();
    let (posted, statuses) = wait_posted(&documents, &counting, warm.ok + intake_outcome.ok).await;
    let elapsed = start.elapsed();
    let posted_events = count_events(&store, "PostedToErp").await - posted_before;
    if posted_events + warm.ok != posted {
        println!("  note: {posted_events} PostedToErp events, {posted} documents posted ({} before the clock)", warm.ok);
    }

    let sage_orders = control_count(&http, &sandbox, "sage300/orders").await;
    let (calls, busy, each) = counting.totals();
    if let Some(secs) = soak {
        let posted_so_far = warm.ok + intake_outcome.ok;
        soak_run(
            addr,
            &documents,
            &counting,
            template,
            &emails,
            posted_so_far,
            secs,
        )
        .await;
    }
    let sage_calls_per_order = Some(calls as f64 / posted_events.max(1) as f64);
    let erp_time_per_order = busy / posted_events.max(1) as u32;

    shutdown.cancel();
    worker.join().await;
    let _ = gateway_task.await;
    let _ = projection_task.await;
    store.close().await;
    sandbox.stop().await;
    drop(db);
    // What a stopped flow leaves behind: tasks still alive (none should
    // grow from flow to flow) and the anonymous memory the process keeps.
    println!(
        "  after the flow stopped: {} tasks alive, {:.0} MiB anonymous RSS",
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        rss_anon_mib()
    );
    FlowOutcome {
        orders: n,
        posted: posted_events,
        elapsed,
        intake_elapsed,
        statuses,
        sage_orders,
        sage_calls_per_order,
        erp_time_per_order,
        erp_calls: each,
        intake: intake_outcome,
    }
}

/// Waits until `target` order documents are posted, or nothing moved for
/// 30 s: the documents posted and the counts by status. The read model is
/// only asked once the ERP acknowledged `target` orders (or stopped
/// acknowledging for a second): its count query reads every document, and
/// asked every few milliseconds it took a share of the database the flow
/// measured needs.
async fn wait_posted(documents: &DocumentsView, erp: &CountingErp, target: u64) -> (u64, String) {
    let acks = wait_acknowledged(erp, target).await;
    let mut posted = 0;
    let mut last_change = Instant::now();
    loop {
        let counts = documents.count_map(INSTANCE).await.unwrap_or_default();
        let now_posted = counts.get("order/posted").copied().unwrap_or(0);
        if now_posted != posted {
            posted = now_posted;
            last_change = Instant::now();
        }
        if posted >= target || last_change.elapsed() > Duration::from_secs(30) {
            return (posted, format!("{counts:?}"));
        }
        let pause = if acks >= target { 2 } else { 20 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// The ERP's acknowledgements once `target` are in, or once none came for a
/// second.
async fn wait_acknowledged(erp: &CountingErp, target: u64) -> u64 {
    let mut acks = erp.orders_acknowledged();
    let mut last_ack = Instant::now();
    while acks < target && last_ack.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let now = erp.orders_acknowledged();
        if now != acks {
            acks = now;
            last_ack = Instant::now();
        }
    }
    acks
}

/// A soak round's end: the ERP's acknowledgements, then no document of the
/// instance left with work in the read model (its last `PostedToErp`
/// projected). A look at the queue of due work costs the same at any size
/// of the store; counting every document's status, as [`wait_posted`]
/// does, grows with every order kept.
async fn wait_settled(documents: &DocumentsView, erp: &CountingErp, target: u64) {
    wait_acknowledged(erp, target).await;
    let give_up = Instant::now() + Duration::from_secs(30);
    while Instant::now() < give_up {
        // Any work, even scheduled later, keeps the round open.
        let horizon = Utc::now() + chrono::Duration::days(1);
        if let Ok(rows) = documents.due_work_of(INSTANCE, horizon, 1).await {
            if rows.is_empty() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The outside system alone: the same Sage 300 calls the worker makes for
/// these orders in the steady state (every address looked up by e-mail
/// before the clock, then one post an order: a first post needs no look-up
/// by reference, ADR 007), made
/// directly with the connector by `ORDER_CONCURRENCY` tasks against a fresh
/// demo sandbox with `fault`; no webhook, store or worker. Orders/s.
async fn direct_sage_rate(n: u64, fault: Option<Value>, template: &OrderTemplate) -> f64 {
    let sandbox = SandboxProcess::start().await;
    let http = reqwest::Client::new();
    let emails = sage_emails(&http, &sandbox).await;
    let erp = sage300_connector(&sandbox);
    // Steady state, as in `order_flow`: every customer known before the clock.
    let mut known = HashMap::new();
    for email in &emails {
        let address = Email::new(email).expect("a demo address");
        let number = erp
            .find_customer_by_email(&address)
            .await
            .expect("look-up")
            .unwrap_or_else(|| "2000".into());
        known.insert(address.as_str().to_owned(), number);
    }
    if let Some(fault) = fault {
        control(
            &http,
            &sandbox,
            reqwest::Method::POST,
            "faults",
            Some(fault),
        )
        .await;
    }
    let first = NEXT_ORDER_ID.fetch_add(n, Ordering::Relaxed);
    let rules = MappingRules {
        reference_prefix: Some("WC-".into()),
        ..MappingRules::default()
    };
    // Each order with its customer's number.
    let orders: Arc<Vec<(Order, String)>> = Arc::new(
        (0..n)
            .map(|i| {
                let email = &emails[(i as usize) % emails.len()];
                let order =
                    parse_order(template.body(first + i, email).as_bytes()).expect("order decodes");
                let address = order.customer.email.as_ref().expect("an e-mail");
                let customer = known[address.as_str()].clone();
                (order, customer)
            })
            .collect(),
    );
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..ORDER_CONCURRENCY)
        .map(|_| {
            let (erp, orders, next, rules) =
                (erp.clone(), orders.clone(), next.clone(), rules.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((order, customer)) = orders.get(i as usize) else {
                        break;
                    };
                    // A call the overloaded sandbox drops is tried again.
                    for attempt in 1.. {
                        let outcome = async {
                            let erp_order =
                                mlc_domain::mapping::map_order(order, customer, &rules, |sku| {
                                    Some(sku.as_str().to_string())
                                })
                                .expect("order maps");
                            // A retry after a failure looks first, as the worker does.
                            if attempt == 1 || erp.find_order(&erp_order.reference).await?.is_none()
                            {
                                erp.post_order(&erp_order).await?;
                            }
                            Ok::<(), ConnectorError>(())
                        }
                        .await;
                        match outcome {
                            Ok(()) => break,
                            Err(error) if error.is_retryable() && attempt < 10 => {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                            Err(error) => panic!("Sage 300 call failed: {error}"),
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    sandbox.stop().await;
    rate
}

/// The e-mail addresses of the demo Sage 300's customers.
async fn sage_emails(http: &reqwest::Client, sandbox: &SandboxProcess) -> Vec<String> {
    let customers = control(
        http,
        sandbox,
        reqwest::Method::GET,
        "sage300/customers",
        None,
    )
    .await;
    let emails: Vec<String> = customers
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|c| c["Email"].as_str().map(str::to_string))
                .filter(|e| !e.is_empty())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !emails.is_empty(),
        "the demo Sage 300 has customers with e-mail addresses"
    );
    emails
}

/// The real Sage 300 connector with the sandbox's credentials.
fn sage300_connector(sandbox: &SandboxProcess) -> Arc<dyn Erp> {
    let manifest = sandbox.manifest();
    let sage = &manifest["sage300"];
    let text = |key: &str| sage[key].as_str().unwrap_or_default().to_string();
    Arc::new(
        Sage300::new(Sage300Settings {
            timeout: Duration::from_secs(10),
            ..Sage300Settings::new(
                url::Url::parse(&text("base_url")).expect("Sage 300 base URL"),
                text("company"),
                text("username"),
                SecretString::from(text("password")),
            )
        })
        .expect("Sage 300 connector"),
    )
}

/// The Sage 300 connector, counting its calls and the time spent in them:
/// where an order's time goes.
struct CountingErp {
    inner: Arc<dyn Erp>,
    calls: std::sync::Mutex<std::collections::BTreeMap<&'static str, (u64, Duration)>>,
    /// Orders the ERP acknowledged since the start (not reset).
    acknowledged: std::sync::atomic::AtomicU64,
}

impl CountingErp {
    fn new(inner: Arc<dyn Erp>) -> CountingErp {
        CountingErp {
            inner,
            calls: Default::default(),
            acknowledged: Default::default(),
        }
    }

    /// Orders posted with success since the start.
    fn orders_acknowledged(&self) -> u64 {
        self.acknowledged.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn timed<T>(&self, name: &'static str, call: impl std::future::Future<Output = T>) -> T {
        let start = Instant::now();
        let result = call.await;
        let mut calls = self.calls.lock().unwrap();
        let entry = calls.entry(name).or_default();
        entry.0 += 1;
        entry.1 += start.elapsed();
        result
    }

    /// Forgets the calls counted so far.
    fn reset(&self) {
        self.calls.lock().unwrap().clear();
    }

    /// Calls in all, time in all, and each kind of call with its count.
    fn totals(&self) -> (u64, Duration, String) {
        let calls = self.calls.lock().unwrap();
        let total = calls.values().map(|(n, _)| n).sum();
        let time = calls.values().map(|(_, t)| *t).sum();
        let each = calls
            .iter()
            .map(|(name, (n, t))| {
                format!(
                    "{name} {n} ({:.1} ms avg)",
                    t.as_secs_f64() * 1e3 / *n as f64
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        (total, time, each)
    }
}

#[async_trait]
impl Erp for CountingErp {
    fn system(&self) -> &'static str {
        self.inner.system()
    }
    async fn ping(&self) -> Result<(), ConnectorError> {
        self.timed("ping", self.inner.ping()).await
    }
    async fn find_customer_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<String>, ConnectorError> {
        self.timed(
            "find_customer_by_email",
            self.inner.find_customer_by_email(email),
        )
        .await
    }
    async fn customer_exists(&self, number: &str) -> Result<bool, ConnectorError> {
        self.timed("customer_exists", self.inner.customer_exists(number))
            .await
    }
    async fn create_customer(&self, customer: &ErpCustomer) -> Result<String, ConnectorError> {
        self.timed("create_customer", self.inner.create_customer(customer))
            .await
    }
    async fn update_customer(&self, customer: &ErpCustomer) -> Result<(), ConnectorError> {
        self.timed("update_customer", self.inner.update_customer(customer))
            .await
    }
    async fn item_exists(&self, item_number: &str) -> Result<bool, ConnectorError> {
        self.timed("item_exists", self.inner.item_exists(item_number))
            .await
    }
    async fn find_order(&self, reference: &str) -> Result<Option<String>, ConnectorError> {
        self.timed("find_order", self.inner.find_order(reference))
            .await
    }
    fn prepare_order(&self, order: &ErpOrder) -> Result<PreparedRequest, ConnectorError> {
        self.inner.prepare_order(order)
    }
    async fn post_order(&self, order: &ErpOrder) -> Result<String, ConnectorError> {
        let result = self.timed("post_order", self.inner.post_order(order)).await;
        if result.is_ok() {
            self.acknowledged
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        result
    }
    async fn find_credit_note(&self, reference: &str) -> Result<Option<String>, ConnectorError> {
        self.timed("find_credit_note", self.inner.find_credit_note(reference))
            .await
    }
    async fn post_credit_note(&self, note: &ErpCreditNote) -> Result<String, ConnectorError> {
        self.timed("post_credit_note", self.inner.post_credit_note(note))
            .await
    }
    async fn items_changed_since(
        &self,
        since: Option<NaiveDate>,
        price_list: Option<&str>,
        locations: &[String],
    ) -> Result<Vec<ErpItemState>, ConnectorError> {
        self.timed(
            "items_changed_since",
            self.inner.items_changed_since(since, price_list, locations),
        )
        .await
    }
}

// ---------------------------------------------------------------------------
// Stages

/// Microseconds one core spends on each stage of one webhook.
fn stage_costs(template: &OrderTemplate, iterations: u64) -> Vec<(&'static str, f64)> {
    let body = template.body(42, "liam.johnson1@example.com");
    let signature = sign(SECRET.as_bytes(), body.as_bytes());
    let per = |start: Instant| start.elapsed().as_secs_f64() * 1e6 / iterations as f64;

    let start = Instant::now();
    for _ in 0..iterations {
        verify_signature(
            SECRET.as_bytes(),
            std::hint::black_box(body.as_bytes()),
            &signature,
        )
        .unwrap();
    }
    let hmac = per(start);

    let start = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(parse_order(std::hint::black_box(body.as_bytes())).unwrap());
    }
    let parse = per(start);

    let order = parse_order(body.as_bytes()).unwrap();
    let start = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(mlc_store::JsonText::of(std::hint::black_box(&order)).unwrap());
    }
    let encode = per(start);

    let start = Instant::now();
    for i in 0..iterations {
        std::hint::black_box(template.request(i, "liam.johnson1@example.com"));
    }
    let generate = per(start);

    vec![
        ("HMAC-SHA256 check of a 2.6 kB body", hmac),
        ("decoding the order (parse_order)", parse),
        ("encoding the canonical order as the event's JSON", encode),
        ("load generator: building and signing one request", generate),
    ]
}

fn render(
    rows: &[Row],
    stages: &[(&str, f64)],
    base: &Outcome,
    cores: usize,
    quick: bool,
) -> String {
    let mut out = format!(
        "Measured {} on {cores} cores ({}), release build: the service and the load generator in \
         one process, the sandbox (`ml-connector sandbox`) in another, and the database server, \
         all on the same two cores; PostgreSQL over loopback without TLS. Load: {CONNECTIONS} \
         keep-alive HTTP/1.1 connections, one request in flight each, signed `order.created` \
         deliveries of the sandbox's order (~2.6 kB), each a new order document. Order-flow \
         figures are the steady state: every customer placed one order before the clock starts.\n\n",
        Utc::now().format("%Y-%m-%d"),
        if quick { "quick run" } else { "full run" }
    );
    out.push_str(
        "| measure | ml-connector | baseline | ratio | target |\n|---|---:|---:|---:|---|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            row.measure, row.ours, row.baseline, row.ratio, row.target
        ));
    }
    out.push_str(&format!(
        "\nWhere the time of one webhook goes, on one core (the no-op handler's rate, {:.0}/s, is \
         the HTTP and load-generator cost on both cores):\n\n| stage | µs | at most, per core |\n|---|---:|---:|\n",
        base.rate()
    ));
    for (what, micros) in stages {
        out.push_str(&format!(
            "| {what} | {micros:.2} | {:.0}/s |\n",
            1e6 / micros
        ));
    }
    out
}
