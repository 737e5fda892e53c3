//! The order worker against the in-process sandbox over real HTTP, with the
//! real Sage 300 connector, on SQLite and PostgreSQL: orders post once with
//! the customer matched or created once, retries after a 500 and after a
//! write whose answer was lost post once, an unmapped SKU parks and a replay
//! after mapping it posts, a refund gives one credit note, and a customer
//! update reaches the ERP customer.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use mlc_actors::orders::{OrderWorker, OrderWorkerDeps, OrderWorkerHandle, RetrySettings};
use mlc_connectors::sage300::{Sage300, Sage300Settings};
use mlc_connectors::woocommerce::{WooCommerce, WooCommerceSettings};
use mlc_connectors::{Erp, Storefront};
use mlc_domain::customer::{CustomerCommand, CustomerDocument};
use mlc_domain::mapping::MappingRules;
use mlc_domain::model::{
    CurrencyCode, Customer, Email, InstanceId, Money, Order, OrderLine, OrderStatus, Refund, Sku,
};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_projections::{DocumentsProjection, DocumentsView};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use mlc_store::testing::TestDatabase;
use mlc_store::{
    CommandBus, CommandBusOptions, EventFilter, EventStore, StoredEvent, Subscription,
    SubscriptionOptions,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

const INSTANCE: &str = "woo-main";

fn instance() -> InstanceId {
    InstanceId::new(INSTANCE).unwrap()
}

/// A sandbox (demo data), a store, the documents projection and the worker.
struct World {
    sandbox: Sandbox,
    store: EventStore,
    orders: CommandBus<OrderDocument>,
    customers: CommandBus<CustomerDocument>,
    storefront: Arc<dyn Storefront>,
    view: DocumentsView,
    worker: Option<OrderWorkerHandle>,
    shutdown: CancellationToken,
    http: reqwest::Client,
    _db: TestDatabase,
}

impl World {
    async fn start(backend: &str, rules: MappingRules) -> World {
        let sandbox = Sandbox::start(SandboxOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            seed: Seed::Demo,
        })
        .await
        .expect("sandbox starts");
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        let view = DocumentsView::new(store.clone());
        let shutdown = CancellationToken::new();
        tokio::spawn(
            Subscription::new(
                store.clone(),
                DocumentsProjection::NAME,
                DocumentsProjection::new(view.clone()),
                SubscriptionOptions {
                    poll_interval: Duration::from_millis(50),
                    ..Default::default()
                },
            )
            .run(shutdown.clone()),
        );
        let orders = CommandBus::start(store.clone(), CommandBusOptions::default());
        let customers = CommandBus::start(store.clone(), CommandBusOptions::default());
        let erp: Arc<dyn Erp> = Arc::new(sage(&sandbox));
        let storefront: Arc<dyn Storefront> = Arc::new(woo(&sandbox));
        let worker = OrderWorker::start(
            OrderWorkerDeps {
                store: store.clone(),
                bus: orders.clone(),
                customers: customers.clone(),
                documents: view.clone(),
                instance: instance(),
                erp,
                storefront: storefront.clone(),
                rules,
                retry: RetrySettings {
                    max_attempts: 4,
                    initial_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_millis(400),
                    jitter: 0.1,
                },
                concurrency: 4,
                poll_interval: Duration::from_millis(50),
            },
            shutdown.clone(),
        );
        World {
            sandbox,
            store,
            orders,
            customers,
            storefront,
            view,
            worker: Some(worker),
            shutdown,
            http: reqwest::Client::new(),
            _db: db,
        }
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(worker) = self.worker.take() {
            worker.join().await;
        }
        self.sandbox.stop().await;
    }

    fn control(&self, path: &str) -> String {
        format!("http://{}/_sandbox/{path}", self.sandbox.addr())
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.control(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(self.control(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Writes Sage 300 accepted whose path contains `resource`.
    async fn sage_writes(&self, resource: &str) -> usize {
        let received = self.get("sage300/received").await;
        received
            .as_array()
            .unwrap_or_else(|| panic!("received log: {received}"))
            .iter()
            .filter(|w| w["path"].as_str().is_some_and(|p| p.contains(resource)))
            .count()
    }

    /// The first demo customer's number and e-mail.
    async fn demo_customer(&self) -> (String, String) {
        let customers = self.get("sage300/customers").await;
        let first = &customers.as_array().expect("customers")[0];
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| first[*n].as_str())
                .unwrap_or_else(|| panic!("no {names:?} in {first}"))
                .to_owned()
        };
        (
            field(&["CustomerNumber", "customer_number"]),
            field(&["Email", "email"]),
        )
    }

    async fn receive(&self, order: Order) -> String {
        let id = format!("{INSTANCE}/order/{}", order.source_id);
        self.orders
            .execute(
                &id,
                OrderCommand::ReceiveOrder {
                    instance: instance(),
                    order: Box::new(order),
                    received_at: Utc::now(),
                },
                Map::new(),
            )
            .await
            .unwrap();
        id
    }

    async fn events_of(&self, id: &str) -> Vec<StoredEvent> {
        self.store
            .list(
                &EventFilter {
                    instance: None,
                    aggregate_id: Some(id.into()),
                    event_type: None,
                },
                0,
                10_000,
            )
            .await
            .unwrap()
    }

    async fn types_of(&self, id: &str) -> Vec<String> {
        self.events_of(id)
            .await
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    /// Waits until document `id` has an event of `event_type`.
    async fn wait_for(&self, id: &str, event_type: &str) -> StoredEvent {
        for _ in 0..300 {
            if let Some(e) = self
                .events_of(id)
                .await
                .into_iter()
                .find(|e| e.event_type == event_type)
            {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{id} never had {event_type}; events: {:?}",
            self.types_of(id).await
        );
    }
}

fn sage(sandbox: &Sandbox) -> Sage300 {
    let m = &sandbox.manifest()["sage300"];
    let mut settings = Sage300Settings::new(
        m["base_url"].as_str().unwrap().parse().unwrap(),
        m["company"].as_str().unwrap(),
        m["username"].as_str().unwrap(),
        SecretString::from(m["password"].as_str().unwrap().to_owned()),
    );
    settings.timeout = Duration::from_secs(2);
    Sage300::new(settings).unwrap()
}

fn woo(sandbox: &Sandbox) -> WooCommerce {
    let m = &sandbox.manifest()["woocommerce"];
    WooCommerce::new(WooCommerceSettings {
        base_url: m["base_url"].as_str().unwrap().parse().unwrap(),
        consumer_key: SecretString::from(m["consumer_key"].as_str().unwrap().to_owned()),
        consumer_secret: SecretString::from(m["consumer_secret"].as_str().unwrap().to_owned()),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn cad(amount: &str) -> Money {
    Money::new(
        Decimal::from_str(amount).unwrap(),
        CurrencyCode::new("CAD").unwrap(),
    )
}

fn customer(source_id: &str, email: &str) -> Customer {
    Customer {
        source_id: Some(source_id.into()),
        email: Some(Email::new(email).unwrap()),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        company: None,
        phone: None,
        billing_address: None,
        shipping_address: None,
        group: None,
    }
}

/// Order `id` of `customer` for 2 x `sku` at 12.50.
fn order(id: &str, customer: Customer, sku: &str) -> Order {
    Order {
        source_id: id.into(),
        number: format!("#{id}"),
        status: OrderStatus::Processing,
        currency: CurrencyCode::new("CAD").unwrap(),
        customer,
        billing_address: None,
        shipping_address: None,
        lines: vec![OrderLine {
            line_id: "1".into(),
            sku: Sku::new(sku).unwrap(),
            name: "Stapler".into(),
            quantity: Decimal::from(2),
            unit_price: cad("12.50"),
            tax: cad("0.00"),
            total: cad("25.00"),
        }],
        shipping_total: cad("0.00"),
        tax_total: cad("0.00"),
        discount_total: cad("0.00"),
        grand_total: cad("25.00"),
        created_at: Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap(),
        modified_at: Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap(),
        payment_method: None,
        refund_ids: Vec::new(),
        notes: None,
    }
}

fn payload(event: &StoredEvent) -> Value {
    let value: Value = serde_json::from_str(&event.payload).unwrap();
    value.as_object().unwrap().values().next().unwrap().clone()
}

// --- The scenarios, each run on both backends.

async fn order_posts_once_with_the_customer_matched(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let (number, email) = world.demo_customer().await;
    let id = world
        .receive(order("5001", customer("41", &email), "A1-100/0"))
        .await;
    let posted = world.wait_for(&id, "PostedToErp").await;
    let matched = world.wait_for(&id, "CustomerMatched").await;
    assert_eq!(payload(&matched)["erp_customer_id"], number.as_str());
    assert_eq!(payload(&posted)["attempt"], 1);
    let metadata: Value = serde_json::from_str(&posted.metadata).unwrap();
    assert_eq!(metadata["actor"], "order-worker");
    assert!(
        metadata["request"].as_str().unwrap().contains("5001"),
        "{metadata}"
    );
    let erp_number = payload(&posted)["erp_document_number"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.sage_writes("OEOrders").await, 1);
    assert_eq!(world.sage_writes("ARCustomers").await, 0);
    let orders = world.get("sage300/orders").await;
    let text = orders.to_string();
    assert!(
        text.contains(&erp_number) && text.contains("5001"),
        "{text}"
    );
    // The read model follows.
    for _ in 0..100 {
        if world
            .view
            .get(&id)
            .await
            .unwrap()
            .is_some_and(|r| r.status == "posted")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let row = world.view.get(&id).await.unwrap().unwrap();
    assert_eq!(row.status, "posted");
    assert_eq!(row.erp_number.as_deref(), Some(erp_number.as_str()));
    world.stop().await;
}

async fn new_customer_is_created_once_for_two_orders(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let buyer = customer("901", "new.buyer@example.org");
    let first = world
        .receive(order("6001", buyer.clone(), "A1-100/0"))
        .await;
    let second = world.receive(order("6002", buyer, "A1-101/0")).await;
    world.wait_for(&first, "PostedToErp").await;
    world.wait_for(&second, "PostedToErp").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.sage_writes("ARCustomers").await, 1);
    assert_eq!(world.sage_writes("OEOrders").await, 2);
    let mut resolved = Vec::new();
    for id in [&first, &second] {
        for e in world.events_of(id).await {
            if e.event_type == "CustomerCreated" || e.event_type == "CustomerMatched" {
                resolved.push((e.event_type.clone(), payload(&e)["erp_customer_id"].clone()));
            }
        }
    }
    resolved.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        resolved,
        vec![
            ("CustomerCreated".to_owned(), json!("W901")),
            ("CustomerMatched".to_owned(), json!("W901")),
        ]
    );
    world.stop().await;
}

async fn server_error_schedules_a_retry_then_posts_once(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let (_, email) = world.demo_customer().await;
    world
        .post(
            "faults",
            json!({"system": "sage300", "type": "status", "status": 500, "method": "POST",
                   "path_contains": "OEOrders", "times": 1}),
        )
        .await;
    let id = world
        .receive(order("7001", customer("41", &email), "A1-100/0"))
        .await;
    let posted = world.wait_for(&id, "PostedToErp").await;
    assert_eq!(payload(&posted)["attempt"], 2);
    let types = world.types_of(&id).await;
    assert_eq!(
        types,
        [
            "OrderReceived",
            "CustomerMatched",
            "PostFailed",
            "RetryScheduled",
            "PostedToErp"
        ]
    );
    let failed = world.wait_for(&id, "PostFailed").await;
    assert_eq!(payload(&failed)["retryable"], true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.sage_writes("OEOrders").await, 1);
    world.stop().await;
}

async fn lost_answer_after_write_posts_exactly_once(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let (_, email) = world.demo_customer().await;
    world
        .post(
            "faults",
            json!({"system": "sage300", "type": "timeout_after_write", "ms": 100, "method": "POST",
                   "path_contains": "OEOrders", "times": 1}),
        )
        .await;
    let id = world
        .receive(order("8001", customer("41", &email), "A1-100/0"))
        .await;
    let posted = world.wait_for(&id, "PostedToErp").await;
    assert_eq!(payload(&posted)["attempt"], 2);
    let metadata: Value = serde_json::from_str(&posted.metadata).unwrap();
    assert!(
        metadata["response"]
            .as_str()
            .unwrap()
            .contains("posted before"),
        "{metadata}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.sage_writes("OEOrders").await, 1);
    let orders = world.get("sage300/orders").await;
    assert_eq!(
        orders
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o.to_string().contains("8001"))
            .count(),
        1
    );
    world.stop().await;
}

async fn unmapped_sku_parks_then_replay_after_mapping_posts(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let (_, email) = world.demo_customer().await;
    let id = world
        .receive(order("9001", customer("41", &email), "WEB-ONLY-1"))
        .await;
    let parked = world.wait_for(&id, "Parked").await;
    assert_eq!(
        payload(&parked)["reason"],
        "SKU 'WEB-ONLY-1' is not mapped to an ERP item"
    );
    assert_eq!(world.sage_writes("OEOrders").await, 0);

    world.worker.as_ref().unwrap().set_rules(MappingRules {
        skus: [("WEB-ONLY-1".to_owned(), "A1-101/0".to_owned())].into(),
        ..Default::default()
    });
    world
        .orders
        .execute(
            &id,
            OrderCommand::RequestReplay {
                requested_by: "ops@example.com".into(),
                reason: "SKU mapped".into(),
            },
            Map::new(),
        )
        .await
        .unwrap();
    world.wait_for(&id, "PostedToErp").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.sage_writes("OEOrders").await, 1);
    let orders = world.get("sage300/orders").await.to_string();
    assert!(
        orders.contains("A1-101/0") || orders.contains("A1101"),
        "{orders}"
    );
    world.stop().await;
}

async fn refund_gives_one_credit_note(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let (_, email) = world.demo_customer().await;
    let id = world
        .receive(order("9501", customer("41", &email), "A1-100/0"))
        .await;
    world.wait_for(&id, "PostedToErp").await;
    let refund = Refund {
        source_id: "77".into(),
        order_source_id: "9501".into(),
        amount: cad("12.50"),
        reason: Some("damaged".into()),
        lines: vec![mlc_domain::model::RefundLine {
            sku: Sku::new("A1-100/0").unwrap(),
            quantity: Decimal::ONE,
            amount: cad("12.50"),
        }],
        created_at: Utc::now(),
    };
    for _ in 0..2 {
        world
            .orders
            .execute(
                &id,
                OrderCommand::RecordRefund {
                    refund: refund.clone(),
                },
                Map::new(),
            )
            .await
            .unwrap();
    }
    let posted = world.wait_for(&id, "CreditNotePosted").await;
    assert_eq!(payload(&posted)["refund_id"], "77");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(world.sage_writes("OECreditDebitNotes").await, 1);
    let types = world.types_of(&id).await;
    assert_eq!(
        types.iter().filter(|t| *t == "CreditNotePosted").count(),
        1,
        "{types:?}"
    );
    let row = world.view.get(&id).await.unwrap().unwrap();
    assert_eq!(row.refunds_pending, 0);
    world.stop().await;
}

/// The whole refund path: an order placed in the store and read with the
/// WooCommerce connector posts; a refund in the store revises the order
/// (as the `order.updated` webhook would deliver it); the refund watcher
/// reads the refund and the worker posts one credit note.
async fn refund_in_the_store_gives_one_credit_note(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let placed = world
        .post(
            "woocommerce/orders",
            json!({"customer_id": 2, "lines": [{"sku": "A1-100/0", "quantity": 2}]}),
        )
        .await;
    let source_id = placed["id"].as_u64().expect("order id").to_string();
    let order = world.storefront.order(&source_id).await.unwrap();
    let id = world.receive(order).await;
    world.wait_for(&id, "PostedToErp").await;

    // The store's modification times have whole seconds: a refund in the
    // same second as the order would be taken for a duplicate delivery.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    world
        .post(
            &format!("woocommerce/orders/{source_id}/refunds"),
            json!({"lines": [{"sku": "A1-100/0", "quantity": 1}], "reason": "damaged"}),
        )
        .await;
    let revised = world.storefront.order(&source_id).await.unwrap();
    world.receive(revised).await;
    world.wait_for(&id, "OrderRevisedAfterPosting").await;
    let received = world.wait_for(&id, "RefundReceived").await;
    assert_eq!(payload(&received)["refund"]["reason"], "damaged");
    world.wait_for(&id, "CreditNotePosted").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(world.sage_writes("OECreditDebitNotes").await, 1);
    let notes = world.get("sage300/credit_notes").await.to_string();
    assert!(
        notes.contains("A1-100/0") || notes.contains("A1100"),
        "{notes}"
    );
    world.stop().await;
}

async fn customer_update_reaches_the_erp_customer(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let (number, email) = world.demo_customer().await;
    let id = format!("{INSTANCE}/customer/41");
    let mut profile = customer("41", &email);
    profile.phone = Some("604-555-0199".into());
    world
        .customers
        .execute(
            &id,
            CustomerCommand::ReceiveCustomer {
                instance: instance(),
                customer: Box::new(profile),
                modified_at: Some(Utc::now()),
                received_at: Utc::now(),
            },
            Map::new(),
        )
        .await
        .unwrap();
    let synced = world.wait_for(&id, "ErpCustomerSynced").await;
    assert_eq!(payload(&synced)["erp_customer_id"], number.as_str());
    assert_eq!(payload(&synced)["created"], false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.sage_writes("ARCustomers").await, 1);
    let customers = world.get("sage300/customers").await.to_string();
    assert!(
        customers.contains("604-555-0199"),
        "phone not in the ERP customer"
    );
    world.stop().await;
}

/// A returning customer's next order costs one Sage 300 call: the customer
/// is known from the first order and a document's first post needs no
/// look-up by reference (nothing of it can be in the ERP yet). Faults on
/// both look-ups would fail the order if either were made; they stay unused.
async fn returning_customer_order_is_one_sage_call(backend: &str) {
    let world = World::start(backend, MappingRules::default()).await;
    let (_, email) = world.demo_customer().await;
    let first = world
        .receive(order("9101", customer("41", &email), "A1-100/0"))
        .await;
    world.wait_for(&first, "PostedToErp").await;
    for path in ["ARCustomers", "OEOrders"] {
        world
            .post(
                "faults",
                json!({"system": "sage300", "type": "status", "status": 500, "method": "GET",
                       "path_contains": path}),
            )
            .await;
    }
    let second = world
        .receive(order("9102", customer("41", &email), "A1-101/0"))
        .await;
    let posted = world.wait_for(&second, "PostedToErp").await;
    assert_eq!(payload(&posted)["attempt"], 1);
    assert_eq!(
        world.types_of(&second).await,
        ["OrderReceived", "CustomerMatched", "PostedToErp"]
    );
    // A retry does look first: a lost answer is found, not posted again.
    world
        .http
        .delete(world.control("faults"))
        .send()
        .await
        .unwrap();
    world
        .post(
            "faults",
            json!({"system": "sage300", "type": "timeout_after_write", "ms": 100, "method": "POST",
                   "path_contains": "OEOrders", "times": 1}),
        )
        .await;
    let third = world
        .receive(order("9103", customer("41", &email), "A1-100/0"))
        .await;
    let posted = world.wait_for(&third, "PostedToErp").await;
    assert_eq!(payload(&posted)["attempt"], 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.sage_writes("OEOrders").await, 3);
    world.stop().await;
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario("sqlite").await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario("postgres").await;
                }
            )*
        }
    };
}

on_both_backends!(
    order_posts_once_with_the_customer_matched,
    new_customer_is_created_once_for_two_orders,
    server_error_schedules_a_retry_then_posts_once,
    lost_answer_after_write_posts_exactly_once,
    unmapped_sku_parks_then_replay_after_mapping_posts,
    refund_gives_one_credit_note,
    refund_in_the_store_gives_one_credit_note,
    customer_update_reaches_the_erp_customer,
    returning_customer_order_is_one_sage_call,
);
