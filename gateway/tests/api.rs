//! The operator API over real HTTP, on SQLite and PostgreSQL: list and show
//! documents, replay and rewind with one status per error kind, bulk replay
//! with a dry run, and a preview of the Sage 300 request built by the real
//! connector against the in-process sandbox.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use mlc_actors::operator::{catch_up_documents, InstanceOps, Operator};
use mlc_connectors::sage300::{Sage300, Sage300Settings};
use mlc_connectors::Erp;
use mlc_domain::customer::CustomerDocument;
use mlc_domain::mapping::MappingRules;
use mlc_domain::model::{InstanceId, Order};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_gateway::auth::{Role, TokenStore};
use mlc_gateway::{Gateway, GatewayState};
use mlc_projections::DocumentsView;
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use mlc_store::testing::TestDatabase;
use mlc_store::{CommandBus, CommandBusOptions, EventStore};
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

const INSTANCE: &str = "shop";

/// An order of one unit of each SKU, built through the domain's serde (so
/// that fields added with a default need no change here).
fn order(id: &str, skus: &[&str]) -> Box<Order> {
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
            "source_id": id,
            "number": format!("#{id}"),
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

struct Api {
    _db: TestDatabase,
    store: EventStore,
    view: DocumentsView,
    orders: CommandBus<OrderDocument>,
    url: String,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Api {
    async fn start(backend: &str, instances: HashMap<String, InstanceOps>) -> Api {
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
        let state = GatewayState {
            store: store.clone(),
            subscriptions: vec![],
            webhooks: None,
            operator: Some(operator),
        };
        let gateway = Gateway::bind(SocketAddr::from(([127, 0, 0, 1], 0)), state).unwrap();
        let url = format!("http://{}/api/v1", gateway.local_addr());
        let shutdown = CancellationToken::new();
        tokio::spawn(gateway.run(shutdown.clone()));
        // Every API route needs a token: these tests act as an operator.
        let (_, token) = TokenStore::new(store.clone())
            .create(Role::Operator, "api-tests")
            .await
            .unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        Api {
            _db: db,
            store,
            view,
            orders,
            url,
            http,
            shutdown,
        }
    }

    async fn command(&self, id: &str, command: OrderCommand) {
        self.orders.execute(id, command, Map::new()).await.unwrap();
    }

    /// Order `source_id` received (lines `skus`), then `then`.
    async fn order(&self, source_id: &str, skus: &[&str], then: Vec<OrderCommand>) -> String {
        let id = format!("{INSTANCE}/order/{source_id}");
        self.command(
            &id,
            OrderCommand::ReceiveOrder {
                instance: InstanceId::new(INSTANCE).unwrap(),
                order: order(source_id, skus),
                received_at: Utc::now(),
            },
        )
        .await;
        for command in then {
            self.command(&id, command).await;
        }
        id
    }

    async fn parked(&self, source_id: &str, reason: &str) -> String {
        self.order(
            source_id,
            &["A1-100/0"],
            vec![
                OrderCommand::MatchCustomer {
                    erp_customer_id: "CUST01".into(),
                },
                OrderCommand::Park {
                    reason: reason.into(),
                },
            ],
        )
        .await
    }

    async fn posted(&self, source_id: &str) -> String {
        self.order(
            source_id,
            &["A1-100/0"],
            vec![
                OrderCommand::MatchCustomer {
                    erp_customer_id: "CUST01".into(),
                },
                OrderCommand::RecordPosted {
                    erp_document_number: "ORD000123".into(),
                    posted_at: Utc::now(),
                    attempt: 1,
                },
            ],
        )
        .await
    }

    async fn catch_up(&self) {
        catch_up_documents(&self.store, &self.view).await.unwrap();
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn events(&self) -> i64 {
        self.store.count().await.unwrap()
    }
}

async fn documents_are_listed_shown_and_replayed(backend: &str) {
    let api = Api::start(backend, HashMap::new()).await;
    let parked = api.parked("1001", "Sage 300: DBLinkError").await;
    let posted = api.posted("1002").await;
    api.catch_up().await;

    let (status, page) = api.get("/documents?instance=shop&status=parked").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], parked);
    let (status, page) = api.get("/documents?q=1002&limit=5").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["id"], posted);
    let (status, error) = api.get("/documents?status=stuck").await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["code"], "invalid");
    assert!(error["detail"].as_str().unwrap().contains("stuck"));
    let (status, error) = api.get("/documents?limit=many").await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["code"], "invalid");

    let (status, timeline) = api.get(&format!("/documents/{posted}")).await;
    assert_eq!(status, 200, "{timeline}");
    assert_eq!(timeline["document"]["status"], "posted");
    assert_eq!(timeline["events"].as_array().unwrap().len(), 3);
    assert_eq!(
        timeline["events"][2]["summary"],
        "Posted to the ERP as ORD000123 (attempt 1)"
    );
    let (status, error) = api.get("/documents/shop/order/404").await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["code"], "not_found");

    // Replay: a parked document is replayed; a posted one is refused (409)
    // with the aggregate's message and nothing appended.
    let (status, body) = api
        .post(
            &format!("/documents/{parked}/replay"),
            json!({"reason": "ERP back"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["event_type"], "ReplayRequested");
    assert_eq!(
        body["events"][0]["metadata"]["requested_by"],
        "token:api-tests"
    );
    let before = api.events().await;
    let (status, error) = api
        .post(
            &format!("/documents/{posted}/replay"),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], "refused");
    assert_eq!(
        error["detail"],
        "order is already posted to the ERP as 'ORD000123'"
    );
    assert_eq!(api.events().await, before);
    let (status, error) = api
        .post(&format!("/documents/{parked}/replay"), json!({}))
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["detail"], "reason is required");
}

async fn bulk_replay_dry_run_then_run(backend: &str) {
    let api = Api::start(backend, HashMap::new()).await;
    for n in 0..3 {
        api.parked(&format!("20{n}"), "Sage 300: DBLinkError").await;
    }
    api.parked("300", "SKU 'Q' is not mapped").await;
    api.posted("301").await;
    api.catch_up().await;
    let before = api.events().await;

    let (status, report) = api
        .post(
            "/replay",
            json!({"filter": {"reason_contains": "dblink"}, "dry_run": true}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["matched"], 3);
    assert_eq!(report["replayed"], 0);
    assert_eq!(report["sample"].as_array().unwrap().len(), 3);
    assert_eq!(api.events().await, before);

    let (status, error) = api
        .post("/replay", json!({"filter": {}, "reason": "x"}))
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(error["detail"].as_str().unwrap().contains("dry_run"));

    let (status, report) = api
        .post(
            "/replay",
            json!({"filter": {"instance": "shop", "status": "parked"}, "dry_run": false, "reason": "ERP back"}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["matched"], 4);
    assert_eq!(report["replayed"], 4);
    assert_eq!(report["refused"], json!([]));
    assert_eq!(api.events().await, before + 4);
}

async fn rewind_over_http(backend: &str) {
    let api = Api::start(backend, HashMap::new()).await;
    let parked = api.parked("1003", "ERP said no").await;
    let posted = api.posted("1004").await;
    let (status, body) = api
        .post(
            &format!("/documents/{parked}/rewind"),
            json!({"to_sequence": 2, "reason": "customer fixed"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["event_type"], "Rewound");
    let (status, error) = api
        .post(
            &format!("/documents/{parked}/rewind"),
            json!({"to_sequence": 99, "reason": "too far"}),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["code"], "invalid");
    let (status, error) = api
        .post(
            &format!("/documents/{posted}/rewind"),
            json!({"to_sequence": 1, "reason": "no"}),
        )
        .await;
    assert_eq!(status, 409, "{error}");
    let (status, error) = api
        .post(
            &format!("/documents/{parked}/rewind"),
            json!({"reason": "no target"}),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["detail"], "to_sequence is required");
    let (status, error) = api
        .post(
            &format!("/documents/{parked}/explode"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, 400, "{error}");
}

async fn preview_over_http(backend: &str) {
    let sandbox = Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Seed::Empty,
    })
    .await
    .unwrap();
    let response = reqwest::Client::new()
        .post(format!("http://{}/_sandbox/sage300/items", sandbox.addr()))
        .json(&json!([{"item_number": "A1-100/0", "description": "Stapler", "price": 12.5, "price_list": "STD", "quantities": {"1": 10}}]))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let m = &sandbox.manifest()["sage300"];
    let password = m["password"].as_str().unwrap().to_owned();
    let erp: Arc<dyn Erp> = Arc::new(
        Sage300::new(Sage300Settings::new(
            m["base_url"].as_str().unwrap().parse().unwrap(),
            m["company"].as_str().unwrap(),
            m["username"].as_str().unwrap(),
            SecretString::from(password.clone()),
        ))
        .unwrap(),
    );
    let instances = HashMap::from([(
        INSTANCE.to_owned(),
        InstanceOps {
            erp,
            rules: MappingRules::default(),
        },
    )]);
    let api = Api::start(backend, instances).await;
    let id = api
        .order(
            "5001",
            &["A1-100/0"],
            vec![OrderCommand::MatchCustomer {
                erp_customer_id: "CUST01".into(),
            }],
        )
        .await;
    let (status, preview) = api.get(&format!("/documents/{id}/preview")).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["request"]["method"], "POST");
    assert!(preview["request"]["url"]
        .as_str()
        .unwrap()
        .ends_with("/OE/OEOrders"));
    assert_eq!(preview["request"]["body"]["CustomerNumber"], "CUST01");
    assert_eq!(
        preview["request"]["body"]["OrderDetails"][0]["Item"],
        "A1-100/0"
    );
    assert!(!preview.to_string().contains(&password));

    let unmapped = api.order("5002", &["ZZ-404"], vec![]).await;
    let (status, error) = api.get(&format!("/documents/{unmapped}/preview")).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["code"], "unmapped");
    assert!(error["detail"].as_str().unwrap().contains("ZZ-404"));
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
    documents_are_listed_shown_and_replayed,
    bulk_replay_dry_run_then_run,
    rewind_over_http,
    preview_over_http,
);
