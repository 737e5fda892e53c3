//! The stock poller against the in-process sandbox over real HTTP: ERP
//! price and stock changes reach the WooCommerce products after one poll, a
//! poll with no change writes nothing, and a SKU missing from the store is
//! recorded once.

mod sandboxed;

use std::str::FromStr;
use std::time::Duration;

use mlc_actors::stock::{StockPoller, StockPollerDeps};
use mlc_domain::item::ItemDocument;
use mlc_store::{CommandBus, CommandBusOptions};
use rust_decimal::Decimal;
use sandboxed::{instance, World};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

fn deps(world: &World) -> StockPollerDeps {
    deps_with(world, false)
}

/// With `bus`, item documents are recorded through a `CommandBus`.
fn deps_with(world: &World, bus: bool) -> StockPollerDeps {
    StockPollerDeps {
        store: world.store.clone(),
        instance: instance(),
        erp: world.erp.clone(),
        storefront: world.storefront.clone(),
        interval: Duration::from_millis(200),
        price_list: Some("STD".into()),
        locations: vec![],
        bus: bus.then(|| CommandBus::start(world.store.clone(), CommandBusOptions::default())),
    }
}

fn product_writes(writes: &[Value]) -> usize {
    writes
        .iter()
        .filter(|w| w["path"].as_str().is_some_and(|p| p.contains("products")))
        .count()
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap(),
        other => panic!("not a number: {other}"),
    }
}

/// Two items in Sage 300 and in WooCommerce (one already current, one not),
/// and one item the store does not sell.
async fn seed(world: &World) {
    world
        .post(
            "sage300/items",
            json!([
                {"item_number": "A1-100/0", "description": "Stapler", "price": 12.5, "price_list": "STD", "quantities": {"1": 10, "2": 5}},
                {"item_number": "A1-101/0", "description": "Punch", "price": 20.0, "price_list": "STD", "quantities": {"1": 3}},
                {"item_number": "Z9-999/0", "description": "Not sold online", "price": 1.0, "price_list": "STD", "quantities": {"1": 1}},
            ]),
        )
        .await;
    world
        .post(
            "woocommerce/products",
            json!([
                {"sku": "A1-100/0", "name": "Stapler", "regular_price": "12.50", "stock_quantity": 15},
                {"sku": "A1-101/0", "name": "Punch", "regular_price": "18.00", "stock_quantity": 1},
            ]),
        )
        .await;
}

async fn price_and_stock_changes_reach_the_store(backend: &str, bus: bool) {
    let world = World::start(backend).await;
    seed(&world).await;
    let poller = StockPoller::new(deps_with(&world, bus));

    // First poll: everything is read; only the product that differs is written.
    let first = poller.poll_once().await.unwrap();
    assert_eq!(first.read, 3, "{first:?}");
    assert_eq!(first.changed, 3, "{first:?}");
    assert_eq!(first.written, 1, "{first:?}");
    assert_eq!(first.already_current, 1, "{first:?}");
    assert_eq!(first.not_in_channel, 1, "{first:?}");
    let punch = world.product("A1-101/0").await;
    assert_eq!(dec(&punch["regular_price"]), Decimal::from(20));
    assert_eq!(punch["stock_quantity"], json!(3));
    assert_eq!(world.events(Some("NotInChannel")).await.len(), 1);

    // A price and a stock change in Sage 300 reach the product in one poll.
    world
        .post(
            "sage300/prices",
            json!([{"item_number": "A1-100/0", "price": 13.75, "price_list": "STD", "currency": "CAD"}]),
        )
        .await;
    world
        .post(
            "sage300/quantities",
            json!([{"item_number": "A1-100/0", "location": "2", "quantity_on_hand": 2}]),
        )
        .await;
    let writes_before = product_writes(&world.woo_writes().await);
    let second = poller.poll_once().await.unwrap();
    assert_eq!(second.changed, 1, "{second:?}");
    assert_eq!(second.written, 1, "{second:?}");
    assert_eq!(
        second.not_in_channel, 0,
        "missing SKUs are not looked up every poll"
    );
    let stapler = world.product("A1-100/0").await;
    assert_eq!(
        dec(&stapler["regular_price"]),
        Decimal::from_str("13.75").unwrap()
    );
    assert_eq!(stapler["stock_quantity"], json!(12));
    assert_eq!(
        product_writes(&world.woo_writes().await),
        writes_before + 1,
        "one batch write"
    );

    // No change: nothing is written, nothing recorded.
    let events_before = world.events(None).await.len();
    let writes_before = world.woo_writes().await.len();
    let third = poller.poll_once().await.unwrap();
    assert_eq!(
        (third.changed, third.written, third.pending),
        (0, 0, 0),
        "{third:?}"
    );
    assert_eq!(world.woo_writes().await.len(), writes_before);
    assert_eq!(world.events(None).await.len(), events_before);
    assert_eq!(world.events(Some("NotInChannel")).await.len(), 1);

    // The cursor holds the latest DateLastMaintained seen.
    let integration = world.integration().await;
    assert!(integration.cursor("items").is_some());
    world.stop().await;
}

#[tokio::test]
async fn price_and_stock_changes_reach_the_store_sqlite() {
    price_and_stock_changes_reach_the_store("sqlite", false).await;
}

#[tokio::test]
async fn price_and_stock_changes_reach_the_store_postgres() {
    price_and_stock_changes_reach_the_store("postgres", false).await;
}

#[tokio::test]
async fn price_and_stock_changes_reach_the_store_through_the_command_bus_sqlite() {
    price_and_stock_changes_reach_the_store("sqlite", true).await;
}

#[tokio::test]
async fn price_and_stock_changes_reach_the_store_through_the_command_bus_postgres() {
    price_and_stock_changes_reach_the_store("postgres", true).await;
}

/// A push that fails is recorded and made again on the next poll, also by
/// a new poller (a restart): pending pushes come from the item documents.
async fn failed_push_is_retried_after_a_restart(backend: &str) {
    let world = World::start(backend).await;
    seed(&world).await;
    world
        .post(
            "faults",
            json!({"system": "woocommerce", "type": "status", "status": 503, "method": "POST", "path_contains": "products/batch"}),
        )
        .await;
    let first = StockPoller::new(deps(&world)).poll_once().await.unwrap();
    assert_eq!(first.failed, 1, "{first:?}");
    assert_eq!(world.events(Some("PushFailed")).await.len(), 1);
    let punch = world.product("A1-101/0").await;
    assert_eq!(punch["stock_quantity"], json!(1), "nothing applied");

    let response = world
        .http
        .delete(world.control("faults"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let restarted = StockPoller::new(deps(&world)).poll_once().await.unwrap();
    assert_eq!(restarted.written, 1, "{restarted:?}");
    let punch = world.product("A1-101/0").await;
    assert_eq!(punch["stock_quantity"], json!(3));
    let id = ItemDocument::id_of(&instance(), "A1-101/0")
        .unwrap()
        .to_string();
    let pushed = world.events(Some("PushedToChannel")).await;
    assert!(pushed.iter().any(|e| e.aggregate_id == id));
    world.stop().await;
}

#[tokio::test]
async fn failed_push_is_retried_after_a_restart_sqlite() {
    failed_push_is_retried_after_a_restart("sqlite").await;
}

#[tokio::test]
async fn failed_push_is_retried_after_a_restart_postgres() {
    failed_push_is_retried_after_a_restart("postgres").await;
}

/// The started poller polls on its own and stops on shutdown.
#[tokio::test]
async fn started_poller_polls_until_shutdown() {
    let world = World::start("sqlite").await;
    seed(&world).await;
    let shutdown = CancellationToken::new();
    let handle = StockPoller::start(deps(&world), shutdown.clone());
    sandboxed::eventually("the first poll", || async {
        handle.last_summary().is_some()
    })
    .await;
    let punch = world.product("A1-101/0").await;
    assert_eq!(punch["stock_quantity"], json!(3));
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle.join())
        .await
        .expect("the poller stops");
    world.stop().await;
}
