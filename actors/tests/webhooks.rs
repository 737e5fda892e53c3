//! Webhook health and order backfill against the in-process sandbox over
//! real HTTP: hooks are registered once across restarts; a hook the store
//! disabled after failed deliveries is re-activated, and the orders placed
//! meanwhile arrive through the backfill as `OrderReceived` events.

mod sandboxed;

use std::time::Duration;

use mlc_actors::backfill::{OrderBackfill, OrderBackfillDeps};
use mlc_actors::webhooks::{WebhookHealth, WebhookHealthDeps, DEFAULT_TOPICS};
use mlc_domain::integration::WebhookStatus;
use sandboxed::{eventually, instance, Receiver, World};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

fn health_deps(world: &World, url: &str) -> WebhookHealthDeps {
    WebhookHealthDeps {
        store: world.store.clone(),
        instance: instance(),
        storefront: world.storefront.clone(),
        delivery_url: url.to_owned(),
        webhook_secret: "whsec-test-secret".to_owned().into(),
        topics: DEFAULT_TOPICS.iter().map(|t| t.to_string()).collect(),
        interval: Duration::from_millis(200),
        on_repaired: None,
    }
}

fn webhook_creations(writes: &[Value]) -> usize {
    writes
        .iter()
        .filter(|w| {
            w["method"] == "POST"
                && w["path"].as_str().is_some_and(|p| {
                    // Path and query: OAuth over plain HTTP signs in the query.
                    let path = p.split('?').next().unwrap_or(p);
                    path.trim_end_matches('/').ends_with("webhooks")
                })
        })
        .count()
}

async fn hooks(world: &World) -> Vec<Value> {
    match world.get("woocommerce/webhooks").await {
        Value::Array(hooks) => hooks,
        other => panic!("webhooks: {other}"),
    }
}

async fn registered_once_across_restarts(backend: &str) {
    let world = World::start(backend).await;
    let receiver = Receiver::start().await;

    let first = WebhookHealth::new(health_deps(&world, &receiver.url))
        .check_once()
        .await
        .unwrap();
    assert_eq!(first.created.len(), 4, "{first:?}");
    // A restart: a new checker over the same store and the same shop.
    let second = WebhookHealth::new(health_deps(&world, &receiver.url))
        .check_once()
        .await
        .unwrap();
    assert!(second.created.is_empty(), "{second:?}");
    assert_eq!(second.healthy.len(), 4, "{second:?}");

    assert_eq!(hooks(&world).await.len(), 4);
    assert_eq!(webhook_creations(&world.woo_writes().await), 4);
    let integration = world.integration().await;
    for topic in DEFAULT_TOPICS {
        let hook = integration.webhook(topic).expect("registered");
        assert_eq!(hook.delivery_url, receiver.url);
        assert_eq!(hook.status, WebhookStatus::Active);
    }
    assert_eq!(world.events(Some("WebhookRegistered")).await.len(), 4);

    // A restart that lost its event store adopts the existing hooks.
    let fresh = World::start(backend).await;
    let adopted = WebhookHealth::new(WebhookHealthDeps {
        store: fresh.store.clone(),
        ..health_deps(&world, &receiver.url)
    })
    .check_once()
    .await
    .unwrap();
    assert!(adopted.created.is_empty(), "{adopted:?}");
    assert_eq!(webhook_creations(&world.woo_writes().await), 4);
    assert_eq!(fresh.events(Some("WebhookRegistered")).await.len(), 4);
    fresh.stop().await;
    world.stop().await;
}

#[tokio::test]
async fn registered_once_across_restarts_sqlite() {
    registered_once_across_restarts("sqlite").await;
}

#[tokio::test]
async fn registered_once_across_restarts_postgres() {
    registered_once_across_restarts("postgres").await;
}

async fn disabled_hook_is_reactivated_and_orders_backfilled(backend: &str) {
    let world = World::start(backend).await;
    let receiver = Receiver::start().await;
    world
        .post(
            "woocommerce/products",
            json!([{"sku": "A1-100/0", "name": "Stapler", "regular_price": "12.50", "stock_quantity": 50}]),
        )
        .await;
    world
        .post(
            "woocommerce/customers",
            json!([{"email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"}]),
        )
        .await;

    let shutdown = CancellationToken::new();
    let backfill = OrderBackfill::start(
        OrderBackfillDeps::new(
            world.store.clone(),
            instance(),
            world.storefront.clone(),
            Duration::from_secs(3600),
        ),
        shutdown.clone(),
    );
    eventually("the first backfill run", || async {
        backfill.last_summary().is_some()
    })
    .await;
    assert_eq!(backfill.last_summary().unwrap().read, 0);

    let health = WebhookHealth::new(WebhookHealthDeps {
        on_repaired: Some(backfill.wake()),
        ..health_deps(&world, &receiver.url)
    });
    let created = health.check_once().await.unwrap();
    assert_eq!(created.created.len(), 4);
    // Creating hooks wakes the backfill too; let that run finish.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Deliveries fail until WooCommerce disables the order.created hook.
    world
        .post(
            "faults",
            json!({"system": "woocommerce", "type": "delivery_failure", "status": 500}),
        )
        .await;
    let mut placed = Vec::new();
    for _ in 0..20 {
        let order = world
            .post(
                "woocommerce/orders",
                json!({"customer_email": "jane@example.com", "lines": [{"sku": "A1-100/0", "quantity": 1}]}),
            )
            .await;
        placed.push(order["id"].to_string());
        let disabled = hooks(&world)
            .await
            .iter()
            .any(|h| h["topic"] == "order.created" && h["status"] == "disabled");
        if disabled && placed.len() >= 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eventually("order.created disabled", || async {
        hooks(&world)
            .await
            .iter()
            .any(|h| h["topic"] == "order.created" && h["status"] == "disabled")
    })
    .await;
    let response = world
        .http
        .delete(world.control("faults"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert!(
        world.events(Some("OrderReceived")).await.is_empty(),
        "no order arrived yet"
    );

    // The health check re-activates the hook and wakes the backfill.
    let repaired = health.check_once().await.unwrap();
    assert_eq!(
        repaired.reactivated,
        vec!["order.created".to_string()],
        "{repaired:?}"
    );
    assert!(hooks(&world).await.iter().all(|h| h["status"] == "active"));
    let integration = world.integration().await;
    assert_eq!(
        integration.webhook("order.created").unwrap().status,
        WebhookStatus::Active
    );
    let changes = world.events(Some("WebhookStatusChanged")).await;
    assert_eq!(changes.len(), 2, "disabled, then active again");

    eventually("every placed order as OrderReceived", || async {
        world.events(Some("OrderReceived")).await.len() == placed.len()
    })
    .await;
    let received: Vec<String> = world
        .events(Some("OrderReceived"))
        .await
        .iter()
        .map(|e| e.aggregate_id.clone())
        .collect();
    for id in &placed {
        let id = id.trim_matches('"');
        assert!(
            received.contains(&format!("woo-main/order/{id}")),
            "{id} in {received:?}"
        );
    }

    // A second run appends nothing: the orders are already recorded.
    let again = OrderBackfill::new(OrderBackfillDeps::new(
        world.store.clone(),
        instance(),
        world.storefront.clone(),
        Duration::from_secs(3600),
    ))
    .run_once()
    .await
    .unwrap();
    assert_eq!(again.recorded, 0, "{again:?}");
    assert_eq!(
        world.events(Some("OrderReceived")).await.len(),
        placed.len()
    );
    let cursor = world.integration().await.cursor("orders").cloned().unwrap();
    assert_eq!(again.cursor.as_ref(), Some(&cursor));

    shutdown.cancel();
    backfill.join().await;
    world.stop().await;
}

#[tokio::test]
async fn disabled_hook_is_reactivated_and_orders_backfilled_sqlite() {
    disabled_hook_is_reactivated_and_orders_backfilled("sqlite").await;
}

#[tokio::test]
async fn disabled_hook_is_reactivated_and_orders_backfilled_postgres() {
    disabled_hook_is_reactivated_and_orders_backfilled("postgres").await;
}

/// The first run looks back one day only, records the recent orders and
/// sets the cursor; a restart continues from the cursor.
async fn first_backfill_looks_back_one_day(backend: &str) {
    let world = World::start(backend).await;
    world
        .post(
            "woocommerce/products",
            json!([{"sku": "A1-100/0", "name": "Stapler", "regular_price": "12.50", "stock_quantity": 50}]),
        )
        .await;
    let old_date = (chrono::Utc::now() - chrono::Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let old = world
        .post(
            "woocommerce/orders",
            json!({"customer_email": "old@example.com", "date_created_gmt": old_date,
                   "lines": [{"sku": "A1-100/0", "quantity": 1}]}),
        )
        .await;
    let recent = world
        .post(
            "woocommerce/orders",
            json!({"customer_email": "new@example.com", "lines": [{"sku": "A1-100/0", "quantity": 2}]}),
        )
        .await;

    let deps = OrderBackfillDeps::new(
        world.store.clone(),
        instance(),
        world.storefront.clone(),
        Duration::from_secs(3600),
    );
    let first = OrderBackfill::new(deps.clone()).run_once().await.unwrap();
    assert_eq!((first.read, first.recorded), (1, 1), "{first:?}");
    let received: Vec<String> = world
        .events(Some("OrderReceived"))
        .await
        .into_iter()
        .map(|e| e.aggregate_id)
        .collect();
    assert_eq!(received, vec![format!("woo-main/order/{}", recent["id"])]);
    assert!(!received.contains(&format!("woo-main/order/{}", old["id"])));

    // After a restart the cursor, not "now", decides where to start.
    let restarted = OrderBackfill::new(deps).run_once().await.unwrap();
    assert_eq!(restarted.recorded, 0, "{restarted:?}");
    assert_eq!(restarted.cursor, first.cursor);
    assert!(restarted.after.unwrap() < first.cursor.unwrap().timestamp);
    world.stop().await;
}

#[tokio::test]
async fn first_backfill_looks_back_one_day_sqlite() {
    first_backfill_looks_back_one_day("sqlite").await;
}

#[tokio::test]
async fn first_backfill_looks_back_one_day_postgres() {
    first_backfill_looks_back_one_day("postgres").await;
}
