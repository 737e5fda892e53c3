//! The operator read models fed by their subscriptions from commands the
//! domain accepts, on SQLite and PostgreSQL: the failure queue lists a
//! parked order with its reason and drops it after a replay; the audit
//! trail shows actor, cause and outside call without secrets; health and
//! counters follow.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use mlc_domain::model::{
    CurrencyCode, Customer, Email, InstanceId, Money, Order, OrderLine, OrderStatus, Sku,
};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_projections::{
    AuditView, CountersView, FailureFilter, FailuresView, HealthView, Page, ProjectionSpec,
};
use mlc_store::testing::TestDatabase;
use mlc_store::{EventStore, SubscriptionOptions};
use rust_decimal::Decimal;
use tokio_util::sync::CancellationToken;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, day, hour, 0, 0).unwrap()
}

fn usd(amount: &str) -> Money {
    Money::new(
        Decimal::from_str(amount).unwrap(),
        CurrencyCode::new("USD").unwrap(),
    )
}

fn order(id: &str) -> Box<Order> {
    Box::new(Order {
        source_id: id.into(),
        number: format!("#{id}"),
        status: OrderStatus::Processing,
        currency: CurrencyCode::new("USD").unwrap(),
        customer: Customer {
            source_id: Some("77".into()),
            email: Some(Email::new("jane@example.com").unwrap()),
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
        lines: vec![OrderLine {
            line_id: "1".into(),
            sku: Sku::new("A1-100/0").unwrap(),
            name: "Widget".into(),
            quantity: Decimal::ONE,
            unit_price: usd("10.00"),
            tax: usd("0.00"),
            total: usd("10.00"),
        }],
        shipping_total: usd("0.00"),
        tax_total: usd("0.00"),
        discount_total: usd("0.00"),
        grand_total: usd("10.00"),
        created_at: at(1, 9),
        modified_at: at(1, 9),
        payment_method: None,
        refund_ids: Vec::new(),
        notes: None,
    })
}

/// Runs `commands` on order `id`, each with worker metadata carrying an
/// outside call and secrets that must not reach the audit trail.
async fn orders(store: &EventStore, id: &str, commands: Vec<OrderCommand>) {
    let cqrs = store.cqrs::<OrderDocument>(vec![], ());
    for command in commands {
        let metadata = HashMap::from([
            ("actor".to_owned(), "order-worker".to_owned()),
            (
                "cause".to_owned(),
                "customer resolved at version 2".to_owned(),
            ),
            (
                "request".to_owned(),
                "POST OE/OEOrders?consumer_secret=cs_never_shown".to_owned(),
            ),
            (
                "response".to_owned(),
                "400 item A9 does not exist".to_owned(),
            ),
            (
                "password".to_owned(),
                "sage-password-never-shown".to_owned(),
            ),
            (
                "Authorization".to_owned(),
                "Basic V0VCQVBJOnNhZ2U=".to_owned(),
            ),
        ]);
        cqrs.execute_with_metadata(id, command, metadata)
            .await
            .unwrap();
    }
}

/// Runs every projection until it has handled every event so far.
async fn project(store: &EventStore) {
    let shutdown = CancellationToken::new();
    let specs: Vec<ProjectionSpec> = mlc_projections::all(store);
    let tasks: Vec<_> = specs
        .iter()
        .map(|spec| {
            tokio::spawn(
                spec.subscription(SubscriptionOptions {
                    poll_interval: Duration::from_millis(20),
                    ..Default::default()
                })
                .run(shutdown.clone()),
            )
        })
        .collect();
    // Not `store.head()`: on PostgreSQL it stays behind while any
    // transaction of the cluster (another test's) is open.
    let last = store
        .list(&Default::default(), 0, usize::MAX)
        .await
        .unwrap()
        .last()
        .unwrap()
        .position
        .global;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for spec in &specs {
        while store.checkpoint(spec.name).await.unwrap().global < last {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} is stuck",
                spec.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

async fn failure_queue_lists_a_parked_order_until_it_is_replayed(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let instance = InstanceId::new("shop").unwrap();
    let parked_id = "shop/order/1001";
    let retry_id = "shop/order/1002";
    orders(
        &store,
        parked_id,
        vec![
            OrderCommand::ReceiveOrder {
                instance: instance.clone(),
                order: order("1001"),
                received_at: at(1, 10),
            },
            OrderCommand::MatchCustomer {
                erp_customer_id: "C-1".into(),
            },
            OrderCommand::RecordPostFailed {
                attempt: 1,
                reason: "item A9 does not exist in Sage 300".into(),
                retryable: false,
                failed_at: at(1, 11),
            },
            OrderCommand::Park {
                reason: "item A9 does not exist in Sage 300".into(),
            },
        ],
    )
    .await;
    orders(
        &store,
        retry_id,
        vec![
            OrderCommand::ReceiveOrder {
                instance,
                order: order("1002"),
                received_at: at(1, 10),
            },
            OrderCommand::MatchCustomer {
                erp_customer_id: "C-1".into(),
            },
            OrderCommand::RecordPostFailed {
                attempt: 1,
                reason: "Sage 300 answered 503".into(),
                retryable: true,
                failed_at: at(1, 11),
            },
            OrderCommand::ScheduleRetry {
                attempt: 2,
                not_before: at(1, 12),
            },
        ],
    )
    .await;
    project(&store).await;

    let failures = FailuresView::new(store.clone());
    let parked = failures
        .list(
            &FailureFilter {
                instance: Some("shop".into()),
                status: Some("parked".into()),
                kind: Some("order".into()),
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(parked.total, 1);
    let row = &parked.items[0];
    assert_eq!(row.id, parked_id);
    assert_eq!(
        row.reason.as_deref(),
        Some("item A9 does not exist in Sage 300")
    );
    assert_eq!(row.attempts, 1);
    assert_eq!(row.next_retry, None);
    let retry = failures.get(retry_id).await.unwrap().unwrap();
    assert_eq!(retry.status, "retry_scheduled");
    assert_eq!(retry.attempts, 1);
    assert_eq!(retry.next_retry, Some(at(1, 12)));
    assert_eq!(retry.reason.as_deref(), Some("Sage 300 answered 503"));
    assert_eq!(
        failures
            .list(&FailureFilter::default(), Page::default())
            .await
            .unwrap()
            .total,
        2
    );

    // The audit trail: actor, cause, outside call; no secret.
    let trail = AuditView::new(store.clone())
        .for_document(parked_id)
        .await
        .unwrap();
    assert_eq!(trail.len(), 4);
    assert_eq!(trail[0].summary, "order #1001 received: 1 line, 10.00 USD");
    assert_eq!(trail[3].event_type, "Parked");
    assert_eq!(trail[3].actor.as_deref(), Some("order-worker"));
    assert_eq!(
        trail[3].cause.as_deref(),
        Some("customer resolved at version 2")
    );
    let call = trail[3].outside_call.as_ref().unwrap();
    assert_eq!(
        call["request"],
        "POST OE/OEOrders?consumer_secret=[redacted]"
    );
    assert_eq!(call["response"], "400 item A9 does not exist");
    let text = serde_json::to_string(&trail).unwrap();
    for secret in [
        "sage-password-never-shown",
        "cs_never_shown",
        "V0VCQVBJOnNhZ2U=",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let page = AuditView::new(store.clone())
        .for_instance("shop", 0, 5)
        .await
        .unwrap();
    assert_eq!(page.len(), 5);
    let next = AuditView::new(store.clone())
        .for_instance("shop", page[4].position, 100)
        .await
        .unwrap();
    assert_eq!(next.len(), 3);

    // Health and counters.
    let health = HealthView::new(store.clone())
        .get("shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(health.posts_failed, 2);
    assert_eq!(health.posts_ok, 0);
    assert_eq!(health.parked, 1);
    assert_eq!(health.error_rate, 1.0);
    assert_eq!(health.backlog, 1, "the order waiting for its retry");
    assert_eq!(health.last_error.as_deref(), Some("Sage 300 answered 503"));
    let today = CountersView::new(store.clone())
        .totals("shop", 1)
        .await
        .unwrap();
    assert_eq!(today.orders_received, 2);
    assert_eq!(today.orders_parked, 1);
    assert_eq!(today.post_failures, 2);
    assert_eq!(today.retries, 1);

    // A replay takes the parked order out of the queue; posting the other
    // one empties it.
    orders(
        &store,
        parked_id,
        vec![OrderCommand::RequestReplay {
            requested_by: "operator@example.com".into(),
            reason: "item created in Sage 300".into(),
        }],
    )
    .await;
    orders(
        &store,
        retry_id,
        vec![OrderCommand::RecordPosted {
            erp_document_number: "ORD0002".into(),
            posted_at: at(1, 12),
            attempt: 2,
        }],
    )
    .await;
    project(&store).await;
    assert_eq!(failures.get(parked_id).await.unwrap(), None);
    assert_eq!(
        failures
            .list(&FailureFilter::default(), Page::default())
            .await
            .unwrap()
            .total,
        0
    );
    let health = HealthView::new(store.clone())
        .get("shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(health.posts_ok, 1);
    assert_eq!(health.backlog, 1, "the replayed order");
    let today = CountersView::new(store.clone())
        .for_instance("shop", 7)
        .await
        .unwrap();
    assert_eq!(today.len(), 1);
    assert_eq!(today[0].orders_posted, 1);
    assert_eq!(today[0].orders_received, 2);
}

#[tokio::test]
async fn failure_queue_lists_a_parked_order_until_it_is_replayed_sqlite() {
    failure_queue_lists_a_parked_order_until_it_is_replayed("sqlite").await;
}

#[tokio::test]
async fn failure_queue_lists_a_parked_order_until_it_is_replayed_postgres() {
    failure_queue_lists_a_parked_order_until_it_is_replayed("postgres").await;
}
