//! `/metrics` parses as Prometheus text and its counters match the
//! sandbox's counts after a run.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlc_store::testing::TestDatabase;
use mlc_workload::{verify, Expectations, FaultProfile, Workload};

use crate::{config_for, sage_order_posts, sandbox, wait_for_webhooks, Options, Service};

/// One sample: a metric name, its labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A strict reader of the Prometheus text format (0.0.4): `# HELP` and
/// `# TYPE` lines, and `name{label="value",...} value` samples. Panics on
/// anything else; checks that each sample belongs to a declared family.
pub fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(_), _) => {}
                (Some("TYPE"), Some(name), Some(kind)) => {
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "line {n}: unknown type {kind}"
                    );
                    types.insert(name.to_owned(), kind.to_owned());
                }
                _ => panic!("line {n}: bad comment {line:?}"),
            }
            continue;
        }
        let (name_labels, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("line {n}: no value: {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("line {n}: bad value {v:?}")),
        };
        let (name, labels) = match name_labels.split_once('{') {
            None => (name_labels, BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("line {n}: unclosed labels: {line:?}"));
                (name, parse_labels(body, n))
            }
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "line {n}: bad metric name {name:?}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(
            types.contains_key(family),
            "line {n}: sample {name} has no # TYPE"
        );
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

fn parse_labels(body: &str, n: usize) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    loop {
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if key.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('='), "line {n}: label without =");
        assert_eq!(chars.next(), Some('"'), "line {n}: label value not quoted");
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => panic!("line {n}: dangling escape"),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => panic!("line {n}: unterminated label value"),
            }
        }
        labels.insert(key.trim().to_owned(), value);
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(c) => panic!("line {n}: unexpected {c:?} after a label"),
        }
    }
    labels
}

/// The sum of the samples named `name` whose labels include `with`.
pub fn total(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            with.iter()
                .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
        })
        .map(|s| s.value)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_parse_and_match_the_sandbox_counts_after_a_run() {
    const ORDERS: usize = 20;
    let (sandbox, control) = sandbox().await;
    let manifest = sandbox.manifest();
    let woo = &manifest["woocommerce"];
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(
        &manifest,
        &Options {
            consumer_key: crate::s(woo, "consumer_key").to_owned(),
            consumer_secret: crate::s(woo, "consumer_secret").to_owned(),
            webhook_secret: "metrics-webhook-secret".into(),
            log_level: "warn",
            otlp_endpoint: None,
        },
    );
    let service = Service::start(dir.path(), &config, &db.url, Stdio::null(), &[]);
    wait_for_webhooks(&control).await;

    let workload = Workload {
        orders: ORDERS,
        concurrency: 4,
        refund_ratio: 0.0,
        faults: FaultProfile::None,
        seed: 5,
        run_tag: "metrics".into(),
        ..Workload::default()
    };
    let ledger = workload
        .run(&control, Arc::new(AtomicUsize::new(0)))
        .await
        .unwrap();
    assert!(ledger.errors.is_empty(), "{:?}", ledger.errors);
    let expectations = Expectations {
        order_reference: Box::new(|o| format!("WC-{}", o.number)),
        credit_note_reference: Box::new(|r| format!("WC-{}-R{}", r.order.number, r.id)),
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let verdict = verify(&control, &ledger, &expectations).await.unwrap();
        if verdict.is_exact() {
            break;
        }
        assert!(Instant::now() < deadline, "orders did not land: {verdict}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Counters settle a moment after the last post is recorded.
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let (samples, posts, deliveries, pings) = loop {
        let response = http.get(service.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        let samples = parse_prometheus(&response.text().await.unwrap());
        let posts = sage_order_posts(&control).await;
        let log = control
            .get("/_sandbox/woocommerce/deliveries")
            .await
            .unwrap();
        let log = log.as_array().unwrap();
        let answered = |kind: &str| {
            log.iter()
                .filter(|d| d["kind"] == kind && d["response_status"].as_u64() != Some(0))
                .count()
        };
        let (deliveries, pings) = (answered("delivery"), answered("ping"));
        let settled = total(&samples, "mlc_erp_posts_total", &[("outcome", "posted")])
            == posts as f64
            && total(&samples, "mlc_webhooks_received_total", &[]) == (deliveries + pings) as f64;
        if settled || Instant::now() > deadline {
            break (samples, posts, deliveries, pings);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };

    assert_eq!(posts, ORDERS, "one OEOrders POST per order");
    assert_eq!(
        total(
            &samples,
            "mlc_erp_posts_total",
            &[("instance", "shop"), ("outcome", "posted")]
        ),
        posts as f64,
        "ERP posts counted vs OEOrders POSTs the sandbox received"
    );
    // Failures, retries and parks match the store's events. None is
    // expected without faults; one that happens anyway is shown, not hidden.
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let count = |event: &'static str| {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = ?")
                .bind(event)
                .fetch_one(&pool)
                .await
                .unwrap();
            n as f64
        }
    };
    let failed = total(&samples, "mlc_erp_posts_total", &[("outcome", "failed")]);
    assert_eq!(failed, count("PostFailed").await);
    assert_eq!(
        total(&samples, "mlc_retries_total", &[]),
        count("RetryScheduled").await
    );
    assert_eq!(
        total(&samples, "mlc_parked_total", &[]),
        count("Parked").await
    );
    if failed > 0.0 {
        let reasons: Vec<String> =
            sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'PostFailed'")
                .fetch_all(&pool)
                .await
                .unwrap();
        eprintln!("{failed} posts failed without faults: {reasons:#?}");
    }
    pool.close().await;
    let received = total(
        &samples,
        "mlc_webhooks_received_total",
        &[("instance", "shop")],
    );
    let received_pings = total(
        &samples,
        "mlc_webhooks_received_total",
        &[("instance", "shop"), ("topic", "none")],
    );
    assert_eq!(
        received - received_pings,
        deliveries as f64,
        "webhook deliveries counted vs the WooCommerce sandbox's deliveries"
    );
    assert_eq!(received_pings, pings as f64, "pings (no topic)");
    assert!(
        total(
            &samples,
            "mlc_webhooks_received_total",
            &[("instance", "shop"), ("topic", "order.created")]
        ) >= ORDERS as f64
    );
    assert_eq!(total(&samples, "mlc_webhooks_refused_total", &[]), 0.0);
    // Commands: every order received, its customer resolved, then posted.
    assert!(
        total(
            &samples,
            "mlc_commands_total",
            &[("aggregate", "order_document"), ("outcome", "executed")]
        ) >= (3 * ORDERS) as f64,
        "{:?}",
        samples
            .iter()
            .filter(|s| s.name == "mlc_commands_total")
            .collect::<Vec<_>>()
    );
    // Latency of the outside calls: one POST per order to Sage 300 at least.
    assert!(
        total(
            &samples,
            "mlc_outside_http_seconds_count",
            &[("system", "sage300"), ("method", "POST")]
        ) >= ORDERS as f64
    );
    assert!(
        total(
            &samples,
            "mlc_outside_http_seconds_bucket",
            &[("system", "woocommerce"), ("le", "+Inf")]
        ) > 0.0
    );
    // Subscription lag, one gauge per subscriber.
    let lags: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "mlc_subscription_lag_events")
        .collect();
    assert!(
        lags.iter().any(|s| s.labels.contains_key("subscriber")),
        "{lags:?}"
    );

    // Poll lag per instance and source, from the instance health.
    assert!(
        samples.iter().any(|s| s.name == "mlc_poll_lag_seconds"
            && s.labels.get("instance").is_some_and(|i| i == "shop")
            && s.labels.contains_key("source")
            && s.value >= 0.0),
        "no mlc_poll_lag_seconds"
    );

    service.stop();
    sandbox.stop().await;
}

#[test]
fn the_parser_refuses_what_is_not_prometheus_text() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"z\"} 3\n";
    let samples = parse_prometheus(ok);
    assert_eq!(samples[0].labels["y"], "q\"z");
    assert_eq!(samples[0].value, 3.0);
    for bad in [
        "a_total 3\n",
        "# TYPE a counter\na{x=1} 3\n",
        "# TYPE a counter\na 3x\n",
        "<html>\n",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_prometheus(bad)).is_err(),
            "{bad:?}"
        );
    }
}
