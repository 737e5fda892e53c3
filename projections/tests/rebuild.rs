//! Every projection fed live by its subscription over 100,000 events equals
//! the same projection dropped and rebuilt, on SQLite and PostgreSQL, and
//! the rebuild reports its speed.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::DomainEvent;
use mlc_domain::delivery::DeliveryEvent;
use mlc_domain::integration::{IntegrationEvent, PollCursor, WebhookStatus};
use mlc_domain::model::{
    CurrencyCode, Customer, DocumentId, Email, InstanceId, Money, Order, OrderLine, OrderStatus,
    Sku,
};
use mlc_domain::order::OrderEvent;
use mlc_projections::{AuditView, FailureFilter, FailuresView, HealthView, Page};
use mlc_store::testing::TestDatabase;
use mlc_store::{EventStore, NewEvent, SubscriptionOptions};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

const DOCUMENTS: usize = 20_000;
const INSTANCES: [&str; 2] = ["shop-eu", "shop-us"];

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap() + chrono::Duration::minutes(minute)
}

fn usd(amount: &str) -> Money {
    Money::new(
        Decimal::from_str(amount).unwrap(),
        CurrencyCode::new("USD").unwrap(),
    )
}

fn order(n: usize) -> Box<Order> {
    Box::new(Order {
        source_id: n.to_string(),
        number: format!("#{n}"),
        status: OrderStatus::Processing,
        currency: CurrencyCode::new("USD").unwrap(),
        customer: Customer {
            source_id: Some((n % 5000).to_string()),
            email: Some(Email::new(format!("buyer{}@example.com", n % 5000)).unwrap()),
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            company: None,
            phone: None,
            billing_address: None,
            shipping_address: None,
            group: None,
        },
        billing_address: None,
        shipping_address: None,
        lines: (1..=1 + n % 3)
            .map(|l| OrderLine {
                line_id: l.to_string(),
                sku: Sku::new(format!("A{l}-100/0")).unwrap(),
                name: "Widget".into(),
                quantity: Decimal::ONE,
                unit_price: usd("10.00"),
                tax: usd("0.00"),
                total: usd("10.00"),
            })
            .collect(),
        shipping_total: usd("0.00"),
        tax_total: usd("0.00"),
        discount_total: usd("0.00"),
        grand_total: usd("10.00"),
        created_at: at(0),
        modified_at: at(0),
        payment_method: None,
        refund_ids: Vec::new(),
        notes: None,
    })
}

fn worker(cause: &str, request: &str, response: &str) -> Value {
    json!({
        "actor": "order-worker",
        "cause": cause,
        "request": request,
        "response": response,
        "authorization": "Basic V0VCQVBJOnNhZ2UtcGFzc3dvcmQ=",
    })
}

/// The five events of document `n`, by round (0..5), with their metadata.
fn order_events(n: usize) -> Vec<(OrderEvent, Value)> {
    let instance = INSTANCES[n % 2];
    let id = DocumentId::order(InstanceId::new(instance).unwrap(), n.to_string()).unwrap();
    let minute = (n / 100) as i64;
    let received = (
        OrderEvent::OrderReceived {
            id,
            order: order(n),
            received_at: at(minute),
        },
        json!({"actor": "webhook", "cause": "order.created delivery", "signature": "c2lnbmF0dXJl"}),
    );
    let matched = (
        OrderEvent::CustomerMatched {
            erp_customer_id: format!("C{:05}", n % 5000),
        },
        worker("received", "find customer by e-mail", "found"),
    );
    let failed = |attempt: u32, retryable: bool| {
        (
            OrderEvent::PostFailed {
                attempt,
                reason: if retryable {
                    "Sage 300 answered 503 Service Unavailable".into()
                } else {
                    "item A9-999 does not exist in Sage 300".into()
                },
                retryable,
                failed_at: at(minute + 1),
            },
            worker(
                "customer resolved",
                "POST OE/OEOrders?consumer_secret=cs_never_shown",
                "503",
            ),
        )
    };
    let retry = (
        OrderEvent::RetryScheduled {
            attempt: 2,
            not_before: at(minute + 2),
        },
        worker("failed", "-", "-"),
    );
    match n % 10 {
        0..=5 => vec![
            received,
            matched,
            failed(1, true),
            retry,
            (
                OrderEvent::PostedToErp {
                    erp_document_number: format!("ORD{n:06}"),
                    posted_at: at(minute + 3),
                    attempt: 2,
                },
                worker("retry due", "POST OE/OEOrders", "201 Created"),
            ),
        ],
        6 | 7 => vec![
            received,
            (
                OrderEvent::CustomerCreated {
                    erp_customer_id: format!("N{n:05}"),
                },
                worker("received", "POST AR/ARCustomers", "201 Created"),
            ),
            failed(1, false),
            (
                OrderEvent::Parked {
                    reason: "item A9-999 does not exist in Sage 300".into(),
                },
                worker("failed", "-", "-"),
            ),
            (
                OrderEvent::ReplayRequested {
                    requested_by: "operator@example.com".into(),
                    reason: "item created".into(),
                },
                json!({"actor": "operator@example.com", "cause": "api", "token": "mlc_secret_token"}),
            ),
        ],
        8 => vec![received, matched, failed(1, true), retry, failed(2, true)],
        _ => vec![
            received,
            (
                OrderEvent::OrderRevised {
                    order: order(n + 1),
                    received_at: at(minute + 1),
                },
                json!({"actor": "webhook", "cause": "order.updated delivery"}),
            ),
            matched,
            failed(1, false),
            (
                OrderEvent::Parked {
                    reason: "item A9-999 does not exist in Sage 300".into(),
                },
                worker("failed", "-", "-"),
            ),
        ],
    }
}

fn new_event(
    aggregate_type: &str,
    id: &str,
    sequence: i64,
    event: &impl DomainEvent,
    metadata: Value,
) -> NewEvent {
    NewEvent {
        aggregate_type: aggregate_type.into(),
        aggregate_id: id.into(),
        sequence,
        event_type: event.event_type(),
        event_version: event.event_version(),
        payload: serde_json::to_value(event).unwrap().into(),
        metadata: metadata.into(),
    }
}

/// Appends 100,000 order events for 20,000 documents (each document's events
/// spread over several batches) and some instance and delivery events, in
/// appends of 1,000. Returns the number of events.
async fn generate(store: &EventStore) -> usize {
    let mut events = Vec::new();
    for instance in INSTANCES {
        let configured = IntegrationEvent::Configured {
            instance: InstanceId::new(instance).unwrap(),
            version: 1,
            fingerprint: "abc".into(),
        };
        let registered = IntegrationEvent::WebhookRegistered {
            topic: "order.created".into(),
            remote_id: "17".into(),
            delivery_url: format!("https://mlc.example/webhooks/{instance}"),
        };
        let disabled = IntegrationEvent::WebhookStatusChanged {
            topic: "order.created".into(),
            previous: WebhookStatus::Active,
            status: WebhookStatus::Disabled,
            consecutive_failures: 5,
            checked_at: at(30),
        };
        let cursor = IntegrationEvent::CursorAdvanced {
            source: "woocommerce-orders".into(),
            cursor: PollCursor::new(at(40), "19999"),
        };
        let meta = json!({"actor": "webhook-health", "cause": "check"});
        for (seq, e) in [configured, registered, disabled, cursor]
            .iter()
            .enumerate()
        {
            events.push(new_event(
                "integration",
                instance,
                seq as i64 + 1,
                e,
                meta.clone(),
            ));
        }
        let rejected = DeliveryEvent::DeliveryRejected {
            status: 401,
            reason: "signature does not match".into(),
            topic: Some("order.created".into()),
            size: 120,
            body_sha256: "00".into(),
            received_at: at(5),
        };
        events.push(new_event(
            "webhook_delivery",
            &format!("{instance}/delivery/1"),
            1,
            &rejected,
            json!({"actor": "gateway", "x-wc-webhook-signature": "bad"}),
        ));
    }
    for block in (0..DOCUMENTS).collect::<Vec<_>>().chunks(2000) {
        let per_doc: Vec<(usize, Vec<(OrderEvent, Value)>)> =
            block.iter().map(|&n| (n, order_events(n))).collect();
        for round in 0..5 {
            for (n, evs) in &per_doc {
                let (event, metadata) = &evs[round];
                let id = format!("{}/order/{n}", INSTANCES[n % 2]);
                events.push(new_event(
                    "order_document",
                    &id,
                    round as i64 + 1,
                    event,
                    metadata.clone(),
                ));
            }
        }
    }
    for chunk in events.chunks(1000) {
        store.append(chunk).await.unwrap();
    }
    events.len()
}

/// The global position of the last event.
async fn last_global(store: &EventStore) -> i64 {
    const MAX: &str = "SELECT MAX(global_position) FROM events";
    match (store.sqlite_pool(), store.postgres_pool()) {
        (Some(pool), _) => sqlx::query_scalar(MAX).fetch_one(pool).await.unwrap(),
        (_, Some(pool)) => sqlx::query_scalar(MAX).fetch_one(pool).await.unwrap(),
        _ => unreachable!(),
    }
}

/// Every row of `table`, as sorted JSON texts.
async fn dump(store: &EventStore, table: &str) -> Vec<String> {
    let mut rows: Vec<String> = if let Some(pool) = store.sqlite_pool() {
        let columns: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(pool)
                .await
                .unwrap();
        sqlx::query_scalar(&format!(
            "SELECT json_array({}) FROM {table}",
            columns.join(", ")
        ))
        .fetch_all(pool)
        .await
        .unwrap()
    } else {
        let pool = store.postgres_pool().unwrap();
        sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM {table} t"))
            .fetch_all(pool)
            .await
            .unwrap()
    };
    rows.sort_unstable();
    rows
}

async fn dump_all(store: &EventStore) -> BTreeMap<&'static str, Vec<String>> {
    let mut out = BTreeMap::new();
    for spec in mlc_projections::all(store) {
        for table in spec.tables {
            out.insert(*table, dump(store, table).await);
        }
    }
    out
}

async fn live_equals_rebuilt(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let started = Instant::now();
    let total = generate(&store).await;
    assert!(total >= 100_000, "{total} events");
    eprintln!(
        "{backend}: generated {total} events in {:?}",
        started.elapsed()
    );

    // Live: every projection as the service runs it.
    let started = Instant::now();
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();
    for spec in mlc_projections::all(&store) {
        let subscription = spec.subscription(SubscriptionOptions {
            batch_size: 5000,
            poll_interval: Duration::from_millis(20),
            ..Default::default()
        });
        tasks.push(tokio::spawn(subscription.run(shutdown.clone())));
    }
    // Not `store.head()`: on PostgreSQL it stays behind while any
    // transaction of the cluster (another test's) is open.
    let last = last_global(&store).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    for spec in mlc_projections::all(&store) {
        while store.checkpoint(spec.name).await.unwrap().global < last {
            assert!(Instant::now() < deadline, "{} never caught up", spec.name);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    eprintln!(
        "{backend}: live projections caught up in {:?}",
        started.elapsed()
    );
    let live = dump_all(&store).await;
    assert_eq!(live["audit"].len(), total);
    assert_eq!(live["documents"].len(), DOCUMENTS);
    assert_eq!(live["instance_health"].len(), 2);

    // What the live projections say, through the views.
    let failures = FailuresView::new(store.clone());
    let parked = failures
        .list(
            &FailureFilter {
                status: Some("parked".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(parked.total, (DOCUMENTS / 10) as u64);
    let failed = failures
        .list(&FailureFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(failed.total, (DOCUMENTS / 10 * 2) as u64);
    let health = HealthView::new(store.clone())
        .get("shop-eu")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(health.posts_ok, (DOCUMENTS / 10 * 6 / 2) as u64);
    assert_eq!(health.webhooks["order.created"].status, "disabled");
    assert_eq!(health.cursors["woocommerce-orders"].tie_break, "19999");
    assert_eq!(health.deliveries_rejected, 1);
    // Orders of shop-eu still to post: the failed ones (n % 10 == 8)
    // and the replayed ones (6).
    assert_eq!(health.backlog, (DOCUMENTS / 10 * 2) as u64);
    let trail = AuditView::new(store.clone())
        .for_document("shop-eu/order/6")
        .await
        .unwrap();
    assert_eq!(trail.len(), 5);
    assert_eq!(
        trail[3].summary,
        "parked: item A9-999 does not exist in Sage 300"
    );
    assert_eq!(trail[2].actor.as_deref(), Some("order-worker"));
    let audit_text = live["audit"].join("\n");
    for secret in [
        "V0VCQVBJ",
        "cs_never_shown",
        "mlc_secret_token",
        "c2lnbmF0dXJl",
    ] {
        assert!(!audit_text.contains(secret), "{secret} in the audit trail");
    }

    // Dropped and rebuilt in one pass over the events (as `projections
    // rebuild` does), each equals its live self.
    let specs = mlc_projections::all(&store);
    let mut calls = 0;
    let reports = mlc_projections::rebuild_together(&specs, |done, all| {
        calls += 1;
        assert!(done <= all);
    })
    .await
    .unwrap();
    assert!(calls >= 3, "progress after each batch of 10,000");
    for (spec, report) in specs.iter().zip(reports) {
        assert_eq!(report.name, spec.name);
        assert_eq!(report.events, total as u64);
        assert!(report.events_per_sec > 0.0);
        eprintln!(
            "{backend}: rebuilt {}: {} events in {:.1}s ({:.0} events/s)",
            report.name,
            report.events,
            report.elapsed.as_secs_f64(),
            report.events_per_sec
        );
        assert_eq!(store.checkpoint(spec.name).await.unwrap().global, last);
        for table in spec.tables {
            let rebuilt = dump(&store, table).await;
            assert_eq!(rebuilt.len(), live[table].len(), "rows of {table}");
            assert!(rebuilt == live[table], "{table} differs after the rebuild");
        }
    }
    // And one alone, by name.
    let report = mlc_projections::rebuild(&store, "failures", |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.events, total as u64);
    assert!(dump(&store, "failures").await == live["failures"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_projections_equal_rebuilt_ones_sqlite() {
    live_equals_rebuilt("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_projections_equal_rebuilt_ones_postgres() {
    live_equals_rebuilt("postgres").await;
}
