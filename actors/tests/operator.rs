//! The operator verbs on SQLite and PostgreSQL: replay and rewind through the
//! aggregates (refusals in their words, nothing appended), bulk replay with
//! and without a dry run, timelines, and a preview of the Sage 300 request
//! built by the real connector against the in-process sandbox.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use mlc_actors::operator::{catch_up_documents, BulkFilter, InstanceOps, Operator, OperatorError};
use mlc_connectors::sage300::{Sage300, Sage300Settings};
use mlc_connectors::Erp;
use mlc_domain::customer::CustomerDocument;
use mlc_domain::mapping::MappingRules;
use mlc_domain::model::{
    CurrencyCode, Customer, Email, InstanceId, Money, Order, OrderLine, OrderStatus, Sku,
};
use mlc_domain::order::{OrderCommand, OrderDocument, OrderError};
use mlc_projections::{DocumentFilter, DocumentsView, Page};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use mlc_store::testing::TestDatabase;
use mlc_store::{CommandBus, CommandBusOptions, EventStore};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{json, Map, Value};

const INSTANCE: &str = "shop";

fn usd(amount: &str) -> Money {
    Money::new(
        Decimal::from_str(amount).unwrap(),
        CurrencyCode::new("USD").unwrap(),
    )
}

fn order(id: &str, skus: &[&str]) -> Box<Order> {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
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
        lines: skus
            .iter()
            .enumerate()
            .map(|(i, sku)| OrderLine {
                line_id: (i + 1).to_string(),
                sku: Sku::new(*sku).unwrap(),
                name: format!("Item {sku}"),
                quantity: Decimal::from(2),
                unit_price: usd("12.50"),
                tax: usd("0.00"),
                total: usd("25.00"),
            })
            .collect(),
        shipping_total: usd("0.00"),
        tax_total: usd("0.00"),
        discount_total: usd("0.00"),
        grand_total: usd(&format!("{}", 25 * skus.len())),
        created_at: at,
        modified_at: at,
        payment_method: None,
        refund_ids: Vec::new(),
        notes: None,
    })
}

struct World {
    store: EventStore,
    view: DocumentsView,
    orders: CommandBus<OrderDocument>,
    operator: Operator,
    _db: TestDatabase,
}

impl World {
    async fn start(backend: &str, instances: HashMap<String, InstanceOps>) -> World {
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        let view = DocumentsView::new(store.clone());
        let orders =
            CommandBus::<OrderDocument>::start(store.clone(), CommandBusOptions::default());
        let customers =
            CommandBus::<CustomerDocument>::start(store.clone(), CommandBusOptions::default());
        let operator = Operator::new(
            store.clone(),
            view.clone(),
            orders.clone(),
            customers,
            instances,
        );
        World {
            store,
            view,
            orders,
            operator,
            _db: db,
        }
    }

    async fn command(&self, id: &str, command: OrderCommand) {
        self.orders
            .execute(id, command, Map::new())
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
    }

    /// A document received with its customer matched, then `then`.
    async fn order(&self, source_id: &str, then: &[OrderCommand]) -> String {
        let id = format!("{INSTANCE}/order/{source_id}");
        self.command(
            &id,
            OrderCommand::ReceiveOrder {
                instance: InstanceId::new(INSTANCE).unwrap(),
                order: order(source_id, &["A1-100/0"]),
                received_at: Utc::now(),
            },
        )
        .await;
        self.command(
            &id,
            OrderCommand::MatchCustomer {
                erp_customer_id: "CUST01".into(),
            },
        )
        .await;
        for command in then {
            self.command(&id, command.clone()).await;
        }
        id
    }

    async fn parked(&self, source_id: &str, reason: &str) -> String {
        self.order(
            source_id,
            &[OrderCommand::Park {
                reason: reason.into(),
            }],
        )
        .await
    }

    async fn posted(&self, source_id: &str) -> String {
        self.order(
            source_id,
            &[OrderCommand::RecordPosted {
                erp_document_number: "ORD000123".into(),
                posted_at: Utc::now(),
                attempt: 1,
            }],
        )
        .await
    }

    async fn catch_up(&self) {
        catch_up_documents(&self.store, &self.view).await.unwrap();
    }

    async fn event_count(&self) -> i64 {
        self.store.count().await.unwrap()
    }

    async fn status(&self, id: &str) -> String {
        self.catch_up().await;
        self.view.get(id).await.unwrap().unwrap().status
    }
}

async fn replay_of_a_parked_document_drives_it_again(backend: &str) {
    let world = World::start(backend, HashMap::new()).await;
    let id = world.parked("1001", "SKU 'X' is not mapped").await;
    assert_eq!(world.status(&id).await, "parked");

    let entries = world
        .operator
        .replay(&id, "alice", "mapping fixed")
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].event_type, "ReplayRequested");
    assert_eq!(entries[0].sequence, 4);
    assert_eq!(
        entries[0].summary,
        "Replay requested by alice: mapping fixed"
    );
    assert_eq!(entries[0].metadata["requested_by"], "alice");
    assert_eq!(world.status(&id).await, "received");

    let timeline = world.operator.timeline(&id).await.unwrap();
    assert_eq!(timeline.document.id, id);
    assert_eq!(timeline.document.status, "received");
    let types: Vec<&str> = timeline
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "OrderReceived",
            "CustomerMatched",
            "Parked",
            "ReplayRequested"
        ]
    );
    assert_eq!(timeline.events[2].summary, "Parked: SKU 'X' is not mapped");
}

async fn replay_of_a_posted_document_is_refused_and_appends_nothing(backend: &str) {
    let world = World::start(backend, HashMap::new()).await;
    let id = world.posted("1002").await;
    let before = world.event_count().await;
    let error = world
        .operator
        .replay(&id, "alice", "again")
        .await
        .unwrap_err();
    let expected = OrderError::AlreadyPosted {
        erp_document_number: "ORD000123".into(),
    }
    .to_string();
    assert!(
        matches!(&error, OperatorError::Refused(m) if *m == expected),
        "{error:?}"
    );
    assert_eq!(world.event_count().await, before);

    // The posted document's timeline names the ERP document.
    let timeline = world.operator.timeline(&id).await.unwrap();
    assert_eq!(timeline.document.status, "posted");
    assert_eq!(
        timeline.events.last().unwrap().summary,
        "Posted to the ERP as ORD000123 (attempt 1)"
    );

    // Unknown and malformed ids.
    assert!(matches!(
        world.operator.replay("shop/order/nope", "alice", "x").await,
        Err(OperatorError::NotFound(_))
    ));
    assert!(matches!(
        world.operator.replay("not-an-id", "alice", "x").await,
        Err(OperatorError::Invalid(_))
    ));
    assert!(matches!(
        world.operator.timeline("shop/order/nope").await,
        Err(OperatorError::NotFound(_))
    ));
}

async fn rewind_goes_back_and_refuses_bad_targets(backend: &str) {
    let world = World::start(backend, HashMap::new()).await;
    let id = world.parked("1003", "ERP said no").await;
    let entries = world
        .operator
        .rewind(&id, 2, "bob", "customer fixed")
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].event_type, "Rewound");
    assert_eq!(entries[0].payload["Rewound"]["to_sequence"], 2);
    assert!(
        entries[0]
            .summary
            .starts_with("Rewound by bob from event 3 to event 2"),
        "{}",
        entries[0].summary
    );
    assert_eq!(world.status(&id).await, "customer_resolved");

    let before = world.event_count().await;
    let error = world
        .operator
        .rewind(&id, 99, "bob", "too far")
        .await
        .unwrap_err();
    assert!(matches!(error, OperatorError::Invalid(_)), "{error:?}");
    let posted = world.posted("1004").await;
    let error = world
        .operator
        .rewind(&posted, 1, "bob", "no")
        .await
        .unwrap_err();
    assert!(matches!(error, OperatorError::Refused(_)), "{error:?}");
    assert_eq!(world.event_count().await, before + 3);
}

async fn bulk_replay_dry_run_changes_nothing_and_a_run_replays(backend: &str) {
    let world = World::start(backend, HashMap::new()).await;
    for n in 0..5 {
        world
            .parked(&format!("20{n}"), "Sage 300: DBLinkError")
            .await;
    }
    world.parked("300", "SKU 'Q' is not mapped").await;
    world.posted("301").await;
    world.order("302", &[]).await;
    world.catch_up().await;
    let before = world.event_count().await;

    let filter = BulkFilter {
        instance: Some(INSTANCE.into()),
        reason_contains: Some("dblink".into()),
        ..Default::default()
    };
    let report = world
        .operator
        .bulk_replay(&filter, true, "alice", "ERP back")
        .await
        .unwrap();
    assert!(report.dry_run);
    assert_eq!(report.matched, 5);
    assert_eq!(report.replayed, 0);
    assert_eq!(report.sample.len(), 5);
    assert!(report.sample.iter().all(|r| r.status == "parked"));
    assert_eq!(
        world.event_count().await,
        before,
        "a dry run appends nothing"
    );

    // Every parked document (default status), the unmapped one too.
    let report = world
        .operator
        .bulk_replay(&BulkFilter::default(), false, "alice", "ERP back")
        .await
        .unwrap();
    assert_eq!(report.matched, 6);
    assert_eq!(report.replayed, 6);
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(world.event_count().await, before + 6);
    world.catch_up().await;
    let parked = world
        .operator
        .list(
            &DocumentFilter {
                status: Some("parked".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(parked.total, 0);

    // A refusal is reported, not fatal: received documents cannot be replayed.
    let report = world
        .operator
        .bulk_replay(
            &BulkFilter {
                status: Some("received".into()),
                ..Default::default()
            },
            false,
            "alice",
            "try",
        )
        .await
        .unwrap();
    assert_eq!(report.matched, 6);
    assert_eq!(report.replayed, 0);
    assert_eq!(report.refused.len(), 6);
    assert!(report.refused[0]
        .reason
        .contains("cannot request a replay while the order document is received"));

    let error = world
        .operator
        .bulk_replay(
            &BulkFilter {
                status: Some("stuck".into()),
                ..Default::default()
            },
            true,
            "alice",
            "x",
        )
        .await
        .unwrap_err();
    assert!(matches!(error, OperatorError::Invalid(_)), "{error:?}");
}

/// The sandbox with two items, and the real Sage 300 connector pointed at it.
async fn sage300() -> (Sandbox, Arc<dyn Erp>, String) {
    let sandbox = Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Seed::Empty,
    })
    .await
    .expect("sandbox starts");
    let control = format!("http://{}/_sandbox/sage300/items", sandbox.addr());
    let response = reqwest::Client::new()
        .post(control)
        .json(&json!([
            {"item_number": "A1-100/0", "description": "Stapler", "price": 12.5, "price_list": "STD", "quantities": {"1": 10}},
            {"item_number": "A1-101/0", "description": "Punch", "price": 20.0, "price_list": "STD", "quantities": {"1": 3}},
        ]))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let m = &sandbox.manifest()["sage300"];
    let password = m["password"].as_str().unwrap().to_owned();
    let mut settings = Sage300Settings::new(
        m["base_url"].as_str().unwrap().parse().unwrap(),
        m["company"].as_str().unwrap(),
        m["username"].as_str().unwrap(),
        SecretString::from(password.clone()),
    );
    settings.timeout = Duration::from_secs(10);
    let erp: Arc<dyn Erp> = Arc::new(Sage300::new(settings).unwrap());
    (sandbox, erp, password)
}

async fn preview_shows_the_oeorders_post_without_credentials(backend: &str) {
    let (sandbox, erp, password) = sage300().await;
    let rules = MappingRules {
        skus: [("WIDGET".to_owned(), "A1-101/0".to_owned())].into(),
        reference_prefix: Some("WC-".into()),
        ..Default::default()
    };
    let instances = HashMap::from([(INSTANCE.to_owned(), InstanceOps { erp, rules })]);
    let world = World::start(backend, instances).await;
    let id = format!("{INSTANCE}/order/5001");
    world
        .command(
            &id,
            OrderCommand::ReceiveOrder {
                instance: InstanceId::new(INSTANCE).unwrap(),
                order: order("5001", &["A1-100/0", "WIDGET"]),
                received_at: Utc::now(),
            },
        )
        .await;
    let before = world.event_count().await;

    let preview = world.operator.preview(&id).await.unwrap();
    assert_eq!(preview.document_id, id);
    assert_eq!(preview.erp_order.reference, "WC-5001");
    // Not resolved yet, no Sage 300 customer with the e-mail: created as W77.
    assert_eq!(preview.erp_order.customer_number, "W77");
    assert!(
        preview.notes.iter().any(|n| n.contains("not resolved")),
        "{:?}",
        preview.notes
    );
    let items: Vec<&str> = preview
        .erp_order
        .lines
        .iter()
        .map(|l| l.item_number.as_str())
        .collect();
    assert_eq!(items, ["A1-100/0", "A1-101/0"]);
    assert_eq!(preview.request.method, "POST");
    assert!(
        preview.request.url.ends_with("/OE/OEOrders"),
        "{}",
        preview.request.url
    );
    let body = &preview.request.body;
    assert_eq!(body["CustomerNumber"], "W77");
    assert_eq!(body["OrderReference"], "WC-5001");
    let lines = body["OrderDetails"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["Item"], "A1-100/0");
    assert_eq!(lines[1]["Item"], "A1-101/0");
    let shown = serde_json::to_string(&preview).unwrap();
    assert!(!shown.contains(&password), "the password leaks: {shown}");
    assert!(shown.contains("<redacted>"));
    assert_eq!(
        world.event_count().await,
        before,
        "a preview records nothing"
    );
    let received = reqwest::get(format!(
        "http://{}/_sandbox/sage300/received",
        sandbox.addr()
    ))
    .await
    .unwrap()
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(received, json!([]), "a preview sends nothing");

    // Once the customer is resolved, its number is used, without a note.
    world
        .command(
            &id,
            OrderCommand::MatchCustomer {
                erp_customer_id: "CUST01".into(),
            },
        )
        .await;
    let preview = world.operator.preview(&id).await.unwrap();
    assert_eq!(preview.request.body["CustomerNumber"], "CUST01");
    assert!(preview.notes.is_empty(), "{:?}", preview.notes);

    // An SKU neither mapped nor in Sage 300 is named.
    let unmapped = format!("{INSTANCE}/order/5002");
    world
        .command(
            &unmapped,
            OrderCommand::ReceiveOrder {
                instance: InstanceId::new(INSTANCE).unwrap(),
                order: order("5002", &["A1-100/0", "ZZ-404"]),
                received_at: Utc::now(),
            },
        )
        .await;
    let error = world.operator.preview(&unmapped).await.unwrap_err();
    assert!(
        matches!(&error, OperatorError::Unmapped(m) if m.contains("ZZ-404")),
        "{error:?}"
    );
    // An instance without an ERP here.
    assert!(matches!(
        world.operator.preview("other/order/1").await,
        Err(OperatorError::NotFound(_))
    ));
    sandbox.stop().await;
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name("sqlite").await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name("postgres").await;
                }
            )*
        }
    };
}

on_both_backends!(
    replay_of_a_parked_document_drives_it_again,
    replay_of_a_posted_document_is_refused_and_appends_nothing,
    rewind_goes_back_and_refuses_bad_targets,
    bulk_replay_dry_run_changes_nothing_and_a_run_replays,
    preview_shows_the_oeorders_post_without_credentials,
);
