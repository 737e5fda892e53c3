//! The documents read model on SQLite and PostgreSQL: rows follow the
//! events, due work is selected by status and time, and a rebuild gives the
//! same rows.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use mlc_domain::customer::{CustomerCommand, CustomerDocument};
use mlc_domain::model::{
    CurrencyCode, Customer, Email, InstanceId, Money, Order, OrderLine, OrderStatus, Refund, Sku,
};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_projections::{
    DocumentFilter, DocumentRow, DocumentsProjection, DocumentsView, Page, StatusCount,
};
use mlc_store::testing::TestDatabase;
use mlc_store::{EventStore, Subscription, SubscriptionOptions};
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

fn customer(id: &str, email: &str) -> Customer {
    Customer {
        source_id: Some(id.into()),
        email: Some(Email::new(email).unwrap()),
        first_name: "Jane".into(),
        last_name: "Doe".into(),
        company: None,
        phone: None,
        billing_address: None,
        shipping_address: None,
        group: None,
    }
}

fn order(id: &str) -> Box<Order> {
    Box::new(Order {
        source_id: id.into(),
        number: format!("#{id}"),
        status: OrderStatus::Processing,
        currency: CurrencyCode::new("USD").unwrap(),
        customer: customer("77", "jane@example.com"),
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

fn instance() -> InstanceId {
    InstanceId::new("shop").unwrap()
}

async fn orders(store: &EventStore, id: &str, commands: Vec<OrderCommand>) {
    let cqrs = store.cqrs::<OrderDocument>(vec![], ());
    for command in commands {
        cqrs.execute(id, command).await.unwrap();
    }
}

fn receive(id: &str) -> OrderCommand {
    OrderCommand::ReceiveOrder {
        instance: instance(),
        order: order(id),
        received_at: at(1, 10),
    }
}

/// Runs the projection until the row of `id` reaches `version`.
async fn project(store: &EventStore, view: &DocumentsView, id: &str, version: u64) -> DocumentRow {
    let shutdown = CancellationToken::new();
    let subscription = Subscription::new(
        store.clone(),
        DocumentsProjection::NAME,
        DocumentsProjection::new(view.clone()),
        SubscriptionOptions {
            poll_interval: Duration::from_millis(20),
            ..Default::default()
        },
    );
    let task = tokio::spawn(subscription.run(shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let row = loop {
        if let Some(row) = view.get(id).await.unwrap() {
            if row.version >= version {
                break row;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "row {id} never reached version {version}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    shutdown.cancel();
    task.await.unwrap().unwrap();
    row
}

async fn rows_follow_an_order_through_retry_posting_and_refund(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let view = DocumentsView::new(store.clone());
    let id = "shop/order/1001";
    orders(
        &store,
        id,
        vec![
            receive("1001"),
            OrderCommand::MatchCustomer {
                erp_customer_id: "C-1".into(),
            },
            OrderCommand::RecordPostFailed {
                attempt: 1,
                reason: "Sage 300 busy".into(),
                retryable: true,
                failed_at: at(2, 8),
            },
            OrderCommand::ScheduleRetry {
                attempt: 2,
                not_before: at(2, 9),
            },
        ],
    )
    .await;
    let row = project(&store, &view, id, 4).await;
    assert_eq!(row.status, "retry_scheduled");
    assert_eq!(row.kind, "order");
    assert_eq!(row.instance, "shop");
    assert_eq!(row.channel_number.as_deref(), Some("#1001"));
    assert_eq!(row.customer.as_deref(), Some("jane@example.com"));
    assert_eq!(row.erp_customer.as_deref(), Some("C-1"));
    assert_eq!(row.attempts, 1);
    assert_eq!(row.last_reason.as_deref(), Some("Sage 300 busy"));
    assert_eq!(row.not_before, Some(at(2, 9)));
    assert_eq!(row.received_at, Some(at(1, 10)));
    assert!(view.due_work(at(2, 8), 10).await.unwrap().is_empty());
    let due = view.due_work(at(2, 10), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, id);

    orders(
        &store,
        id,
        vec![
            OrderCommand::RecordPosted {
                erp_document_number: "ORD0001".into(),
                posted_at: at(2, 10),
                attempt: 2,
            },
            OrderCommand::RecordRefund {
                refund: Refund {
                    source_id: "9".into(),
                    order_source_id: "1001".into(),
                    amount: usd("10.00"),
                    reason: None,
                    lines: vec![],
                    created_at: at(3, 9),
                },
            },
        ],
    )
    .await;
    let row = project(&store, &view, id, 6).await;
    assert_eq!(row.status, "posted");
    assert_eq!(row.erp_number.as_deref(), Some("ORD0001"));
    assert_eq!(row.refunds_pending, 1);
    assert_eq!(row.not_before, None);
    assert_eq!(
        view.due_work_of("shop", at(3, 10), 10).await.unwrap().len(),
        1
    );
    assert!(view
        .due_work_of("other", at(3, 10), 10)
        .await
        .unwrap()
        .is_empty());

    orders(
        &store,
        id,
        vec![OrderCommand::RecordCreditNotePosted {
            refund_id: "9".into(),
            erp_document_number: "CN01".into(),
            posted_at: at(3, 10),
        }],
    )
    .await;
    let row = project(&store, &view, id, 7).await;
    assert_eq!(row.refunds_pending, 0);
    assert!(view.due_work(at(3, 11), 10).await.unwrap().is_empty());

    // Dropped and rebuilt from the events: the same row.
    store
        .reset_checkpoint(DocumentsProjection::NAME)
        .await
        .unwrap();
    sqlx_delete(&store).await;
    let rebuilt = project(&store, &view, id, 7).await;
    assert_eq!(rebuilt, row);
}

async fn sqlx_delete(store: &EventStore) {
    if let Some(pool) = store.sqlite_pool() {
        sqlx::query("DELETE FROM documents")
            .execute(pool)
            .await
            .unwrap();
    }
    if let Some(pool) = store.postgres_pool() {
        sqlx::query("DELETE FROM documents")
            .execute(pool)
            .await
            .unwrap();
    }
}

async fn lists_filter_search_page_and_count(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let view = DocumentsView::new(store.clone());
    for n in 1..=5 {
        orders(
            &store,
            &format!("shop/order/{n}"),
            vec![receive(&n.to_string())],
        )
        .await;
    }
    orders(
        &store,
        "shop/order/1",
        vec![OrderCommand::Park {
            reason: "SKU 'X' is not mapped to an ERP item".into(),
        }],
    )
    .await;
    let customers = store.cqrs::<CustomerDocument>(vec![], ());
    customers
        .execute(
            "shop/customer/42",
            CustomerCommand::ReceiveCustomer {
                instance: instance(),
                customer: Box::new(customer("42", "Max_100%@Example.com")),
                modified_at: None,
                received_at: at(1, 11),
            },
        )
        .await
        .unwrap();
    project(&store, &view, "shop/customer/42", 1).await;
    project(&store, &view, "shop/order/1", 2).await;

    let all = view
        .list(&DocumentFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(all.total, 6);
    let page = view
        .list(
            &DocumentFilter {
                kind: Some("order".into()),
                ..Default::default()
            },
            Page {
                offset: 1,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(page.items.len(), 2);
    let parked = view
        .list(
            &DocumentFilter {
                instance: Some("shop".into()),
                status: Some("parked".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(parked.total, 1);
    assert_eq!(
        parked.items[0].last_reason.as_deref(),
        Some("SKU 'X' is not mapped to an ERP item")
    );
    // Search is case-insensitive, and % and _ are taken literally.
    let found = view
        .list(
            &DocumentFilter {
                search: Some("MAX_100%".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].kind, "customer");
    assert_eq!(found.items[0].status, "pending");
    let none = view
        .list(
            &DocumentFilter {
                search: Some("max%100".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(none.total, 0);

    // 4 received orders and 1 pending customer are due; the parked order is not.
    assert_eq!(view.due_work(at(5, 0), 100).await.unwrap().len(), 5);
    assert_eq!(view.due_work(at(5, 0), 2).await.unwrap().len(), 2);
    let counts = view.counts_by_status("shop").await.unwrap();
    assert_eq!(
        counts,
        vec![
            StatusCount {
                kind: "customer".into(),
                status: "pending".into(),
                count: 1
            },
            StatusCount {
                kind: "order".into(),
                status: "parked".into(),
                count: 1
            },
            StatusCount {
                kind: "order".into(),
                status: "received".into(),
                count: 4
            },
        ]
    );
    assert_eq!(view.get("shop/order/99").await.unwrap(), None);
}

#[tokio::test]
async fn sqlite_rows_follow_an_order() {
    rows_follow_an_order_through_retry_posting_and_refund("sqlite").await;
}

#[tokio::test]
async fn postgres_rows_follow_an_order() {
    rows_follow_an_order_through_retry_posting_and_refund("postgres").await;
}

#[tokio::test]
async fn sqlite_lists_and_counts() {
    lists_filter_search_page_and_count("sqlite").await;
}

#[tokio::test]
async fn postgres_lists_and_counts() {
    lists_filter_search_page_and_count("postgres").await;
}
