//! `ml-connector documents` as an operator runs it, on SQLite and
//! PostgreSQL: list, show, replay (a refusal exits non-zero with the
//! document's reason), rewind, replay-all with a dry run, and a preview of
//! the Sage 300 request against the in-process sandbox.

use std::path::Path;
use std::process::Output;

use mlc_domain::model::{InstanceId, Order};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use mlc_store::testing::TestDatabase;
use mlc_store::{CommandBus, CommandBusOptions, EventFilter, EventStore};
use serde_json::{json, Map, Value};

use crate::ml_connector;

const INSTANCE: &str = "shop-eu";

/// An order of one unit of each SKU, built through the domain's serde.
fn order(source_id: &str, skus: &[&str]) -> Box<Order> {
    let money = |amount: &str| json!({"amount": amount, "currency": "USD"});
    let lines: Vec<Value> = skus
        .iter()
        .enumerate()
        .map(|(i, sku)| {
            json!({
                "line_id": (i + 1).to_string(), "sku": sku, "name": format!("Item {sku}"),
                "quantity": "1", "unit_price": money("12.50"), "tax": money("0.00"),
                "total": money("12.50"),
            })
        })
        .collect();
    Box::new(
        serde_json::from_value(json!({
            "source_id": source_id,
            "number": format!("#{source_id}"),
            "status": "processing",
            "currency": "USD",
            "customer": {
                "source_id": "77", "email": "jane@example.com", "first_name": "Jane",
                "last_name": "Doe", "company": null, "phone": null, "billing_address": null,
                "shipping_address": null, "group": null,
            },
            "billing_address": null,
            "shipping_address": null,
            "lines": lines,
            "shipping_total": money("0.00"),
            "tax_total": money("0.00"),
            "discount_total": money("0.00"),
            "grand_total": money("12.50"),
            "created_at": "2026-03-01T09:00:00Z",
            "modified_at": "2026-03-01T09:00:00Z",
            "payment_method": null,
            "notes": null,
        }))
        .expect("a canonical order"),
    )
}

/// Records order `source_id` (received with `skus`, then `then`).
async fn record(
    bus: &CommandBus<OrderDocument>,
    source_id: &str,
    skus: &[&str],
    then: Vec<OrderCommand>,
) -> String {
    let id = format!("{INSTANCE}/order/{source_id}");
    let receive = OrderCommand::ReceiveOrder {
        instance: InstanceId::new(INSTANCE).unwrap(),
        order: order(source_id, skus),
        received_at: chrono::Utc::now(),
    };
    for command in std::iter::once(receive).chain(then) {
        bus.execute(&id, command, Map::new()).await.unwrap();
    }
    id
}

fn matched() -> OrderCommand {
    OrderCommand::MatchCustomer {
        erp_customer_id: "CUST01".into(),
    }
}

/// Runs `ml-connector {db_args} documents {args}` as user `tester`.
fn documents(db_args: &[&str], args: &[&str]) -> Output {
    ml_connector()
        .env("USER", "tester")
        .args(db_args)
        .arg("documents")
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn failed(out: Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

async fn event_count(store: &EventStore) -> i64 {
    store.count().await.unwrap()
}

async fn documents_are_listed_shown_replayed_and_rewound(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let bus = CommandBus::<OrderDocument>::start(store.clone(), CommandBusOptions::default());
    let parked = record(
        &bus,
        "1001",
        &["A1-100/0"],
        vec![
            matched(),
            OrderCommand::Park {
                reason: "Sage 300: DBLinkError".into(),
            },
        ],
    )
    .await;
    let posted = record(
        &bus,
        "1002",
        &["A1-100/0"],
        vec![
            matched(),
            OrderCommand::RecordPosted {
                erp_document_number: "ORD000123".into(),
                posted_at: chrono::Utc::now(),
                attempt: 1,
            },
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let db_args = [
        "--database-url",
        &db.url,
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];

    // list: the read model is brought up to date by the command itself.
    let page: Value = serde_json::from_str(&ok(documents(&db_args, &["list", "--json"]))).unwrap();
    assert_eq!(page["total"], 2, "{page}");
    let listed = ok(documents(&db_args, &["list", "--status", "parked"]));
    assert!(listed.contains(&parked), "{listed}");
    assert!(!listed.contains(&posted), "{listed}");
    assert!(listed.contains("DBLinkError"), "{listed}");
    assert!(listed.contains("1 of 1 document(s)"), "{listed}");
    let error = failed(documents(&db_args, &["list", "--status", "stuck"]));
    assert!(error.contains("unknown status 'stuck'"), "{error}");

    // show: the timeline, one readable line per event.
    let shown = ok(documents(&db_args, &["show", &posted]));
    assert!(
        shown.contains("Posted to the ERP as ORD000123 (attempt 1)"),
        "{shown}"
    );
    assert!(shown.contains("Customer matched to"), "{shown}");
    let error = failed(documents(&db_args, &["show", "shop-eu/order/404"]));
    assert!(error.contains("no document 'shop-eu/order/404'"), "{error}");

    // replay: a posted order refuses, non-zero, nothing appended.
    let before = event_count(&store).await;
    let error = failed(documents(
        &db_args,
        &["replay", &posted, "--reason", "again"],
    ));
    assert!(
        error.contains(&format!(
            "replay of {posted} refused: order is already posted to the ERP as 'ORD000123'"
        )),
        "{error}"
    );
    assert_eq!(event_count(&store).await, before);

    // replay-all --dry-run changes nothing; replay of the parked one works.
    let dry = ok(documents(&db_args, &["replay-all", "--dry-run"]));
    assert!(dry.contains("1 document(s) would be replayed"), "{dry}");
    assert!(dry.contains(&parked), "{dry}");
    assert_eq!(event_count(&store).await, before);
    let replayed = ok(documents(
        &db_args,
        &["replay", &parked, "--reason", "ERP back"],
    ));
    assert!(
        replayed.contains("Replay requested by cli:tester: ERP back"),
        "{replayed}"
    );
    let events = store
        .list(
            &EventFilter {
                aggregate_id: Some(parked.clone()),
                event_type: Some("ReplayRequested".into()),
                ..Default::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let metadata: Value = serde_json::from_str(&events[0].metadata).unwrap();
    assert_eq!(metadata["requested_by"], "cli:tester");

    // rewind back to the resolved customer; a posted order refuses.
    let rewound = ok(documents(&db_args, &["rewind", &parked, "--to", "2"]));
    assert!(rewound.contains("Rewound by cli:tester"), "{rewound}");
    let error = failed(documents(&db_args, &["rewind", &posted, "--to", "1"]));
    assert!(error.contains("refused"), "{error}");
    let listed = ok(documents(
        &db_args,
        &["list", "--status", "customer_resolved"],
    ));
    assert!(listed.contains(&parked), "{listed}");

    // replay-all over nothing parked any more.
    let all = ok(documents(&db_args, &["replay-all", "--reason", "bulk"]));
    assert!(all.contains("replayed 0 of 0 document(s)"), "{all}");
}

fn write_sandbox_config(dir: &Path, sandbox: &Sandbox) -> std::path::PathBuf {
    let manifest = sandbox.manifest();
    let sage = &manifest["sage300"];
    let woo = &manifest["woocommerce"];
    let path = dir.join("ml-connector.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[instances.{INSTANCE}]
erp = "sage300"
channel = "woocommerce"
[instances.{INSTANCE}.erp_connection]
base_url = "{}"
company = "{}"
username = "{}"
password = "{}"
[instances.{INSTANCE}.channel_connection]
base_url = "{}"
consumer_key = "{}"
consumer_secret = "{}"
webhook_secret = "whsec_never_shown"
[instances.{INSTANCE}.mapping]
reference_prefix = "WC-"
skus = {{ "WIDGET" = "A1-101/0" }}
"#,
            sage["base_url"].as_str().unwrap(),
            sage["company"].as_str().unwrap(),
            sage["username"].as_str().unwrap(),
            sage["password"].as_str().unwrap(),
            woo["base_url"].as_str().unwrap(),
            woo["consumer_key"].as_str().unwrap(),
            woo["consumer_secret"].as_str().unwrap(),
        ),
    )
    .unwrap();
    path
}

async fn preview_shows_the_sage_request_and_sends_nothing(backend: &str) {
    let sandbox = Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Seed::Empty,
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let response = http
        .post(format!("http://{}/_sandbox/sage300/items", sandbox.addr()))
        .json(&json!([
            {"item_number": "A1-100/0", "description": "Stapler", "price": 12.5, "price_list": "STD", "quantities": {"1": 10}},
            {"item_number": "A1-101/0", "description": "Punch", "price": 20.0, "price_list": "STD", "quantities": {"1": 3}},
        ]))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let password = sandbox.manifest()["sage300"]["password"]
        .as_str()
        .unwrap()
        .to_owned();

    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let bus = CommandBus::<OrderDocument>::start(store.clone(), CommandBusOptions::default());
    let id = record(&bus, "5001", &["A1-100/0", "WIDGET"], vec![matched()]).await;
    let unmapped = record(&bus, "5002", &["ZZ-404"], vec![matched()]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_sandbox_config(dir.path(), &sandbox);
    let data_dir = dir.path().join("data");
    let args = [
        "--database-url",
        &db.url,
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];

    let shown = ok(documents(&args, &["preview", &id]));
    assert!(shown.contains("POST http://"), "{shown}");
    assert!(shown.contains("/OE/OEOrders"), "{shown}");
    assert!(shown.contains("Authorization: <redacted>"), "{shown}");
    assert!(shown.contains("\"WC-5001\""), "{shown}");
    assert!(shown.contains("\"A1-100/0\""), "{shown}");
    assert!(shown.contains("\"A1-101/0\""), "{shown}");
    assert!(shown.contains("(not sent)"), "{shown}");
    assert!(!shown.contains(&password), "the password leaks: {shown}");
    let preview: Value =
        serde_json::from_str(&ok(documents(&args, &["preview", &id, "--json"]))).unwrap();
    assert_eq!(preview["request"]["body"]["CustomerNumber"], "CUST01");
    let received: Value = http
        .get(format!(
            "http://{}/_sandbox/sage300/received",
            sandbox.addr()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(received, json!([]), "a preview sends nothing");

    let error = failed(documents(&args, &["preview", &unmapped]));
    assert!(error.contains("SKU 'ZZ-404' is not mapped"), "{error}");
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
    documents_are_listed_shown_replayed_and_rewound,
    preview_shows_the_sage_request_and_sends_nothing,
);
