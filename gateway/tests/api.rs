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
use mlc_domain::integration::{Integration, IntegrationCommand};
use mlc_domain::mapping::MappingRules;
use mlc_domain::model::{InstanceId, Order};
use mlc_domain::order::{OrderCommand, OrderDocument};
use mlc_gateway::api::{Connectivity, InstanceConnectors};
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
        Api::start_with(backend, instances, Connectivity::default()).await
    }

    async fn start_with(
        backend: &str,
        instances: HashMap<String, InstanceOps>,
        connectivity: Connectivity,
    ) -> Api {
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
        let gateway = Gateway::bind_with_connectivity(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            state,
            connectivity,
        )
        .unwrap();
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

    /// Polls a bulk replay job until it ends.
    async fn job_done(&self, id: &str) -> Value {
        for _ in 0..200 {
            let (status, job) = self.get(&format!("/replay/{id}")).await;
            assert_eq!(status, 200, "{job}");
            if job["status"] != "running" {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("job {id} did not end");
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
    assert_eq!(status, 202, "{report}");
    assert_eq!(report["matched"], 4);
    let job = report["id"].as_str().unwrap().to_owned();
    let report = api.job_done(&job).await;
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(report["replayed"], 4);
    assert_eq!(report["done"], 4);
    assert_eq!(report["refused"], json!([]));
    assert_eq!(api.events().await, before + 4);

    let (status, error) = api.get("/replay/nope").await;
    assert_eq!(status, 404, "{error}");
}

async fn bulk_replay_is_cancelled_between_documents(backend: &str) {
    let api = Api::start(backend, HashMap::new()).await;
    for n in 0..200 {
        api.parked(&format!("5{n:03}"), "Sage 300: DBLinkError")
            .await;
    }
    api.catch_up().await;
    let (status, job) = api
        .post(
            "/replay",
            json!({"filter": {}, "dry_run": false, "reason": "ERP back"}),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    let response = api
        .http
        .delete(format!("{}/replay/{id}", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let job = api.job_done(&id).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    let replayed = job["replayed"].as_u64().unwrap();
    assert!(replayed < 200, "{job}");
    assert_eq!(
        job["done"].as_u64().unwrap() % 8,
        0,
        "stops between steps: {job}"
    );
}

async fn rebuild_read_models(store: &EventStore) {
    mlc_projections::rebuild_together(&mlc_projections::all(store), |_, _| {})
        .await
        .unwrap();
}

async fn failures_and_instances(backend: &str) {
    let api = Api::start(backend, HashMap::new()).await;
    api.store
        .cqrs::<Integration>(vec![], ())
        .execute(
            INSTANCE,
            IntegrationCommand::Configure {
                instance: InstanceId::new(INSTANCE).unwrap(),
                fingerprint: "test".into(),
            },
        )
        .await
        .unwrap();
    let parked = api.parked("7001", "Sage 300: DBLinkError").await;
    api.posted("7002").await;
    rebuild_read_models(&api.store).await;

    let (status, failures) = api.get("/failures?instance=shop&status=parked").await;
    assert_eq!(status, 200, "{failures}");
    assert_eq!(failures["total"], 1);
    assert_eq!(failures["items"][0]["id"], parked.as_str());
    assert_eq!(failures["items"][0]["reason"], "Sage 300: DBLinkError");
    let (_, none) = api.get("/failures?instance=other").await;
    assert_eq!(none["total"], 0);
    let (status, error) = api.get("/failures?limit=x").await;
    assert_eq!(status, 400, "{error}");

    let (status, list) = api.get("/instances").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"][0]["name"], INSTANCE);
    assert_eq!(list["items"][0]["failures"], 1);
    assert_eq!(list["items"][0]["paused"], false);
    let (status, one) = api.get("/instances/shop").await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["health"]["posts_ok"], 1);
    let (status, error) = api.get("/instances/nope").await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["code"], "not_found");

    let (status, error) = api.post("/instances/shop/pause", json!({})).await;
    assert_eq!(status, 400, "{error}");
    let (status, paused) = api
        .post("/instances/shop/pause", json!({"reason": "ERP upgrade"}))
        .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(
        paused,
        json!({"instance": "shop", "paused": true, "changed": true})
    );
    let (_, again) = api
        .post("/instances/shop/pause", json!({"reason": "again"}))
        .await;
    assert_eq!(again["changed"], false);
    rebuild_read_models(&api.store).await;
    let (_, one) = api.get("/instances/shop").await;
    assert_eq!(one["paused"], true, "{one}");
    assert_eq!(one["pause_reason"], "ERP upgrade");
    let (status, resumed) = api.post("/instances/shop/resume", json!({})).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["changed"], true);
    let (status, error) = api
        .post("/instances/nope/pause", json!({"reason": "x"}))
        .await;
    assert_eq!(status, 404, "{error}");
    // No connectors were given to this server.
    let (status, error) = api.post("/instances/shop/check", json!({})).await;
    assert_eq!(status, 404, "{error}");
}

fn sage300(sandbox: &Sandbox, password: Option<&str>) -> Arc<dyn Erp> {
    let m = &sandbox.manifest()["sage300"];
    let password = password.unwrap_or_else(|| m["password"].as_str().unwrap());
    Arc::new(
        Sage300::new(Sage300Settings::new(
            m["base_url"].as_str().unwrap().parse().unwrap(),
            m["company"].as_str().unwrap(),
            m["username"].as_str().unwrap(),
            SecretString::from(password.to_owned()),
        ))
        .unwrap(),
    )
}

async fn check_connectivity_in_the_systems_words(backend: &str) {
    let sandbox = Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Seed::Empty,
    })
    .await
    .unwrap();
    let connectivity = Connectivity::new(HashMap::from([
        (
            "good".to_owned(),
            InstanceConnectors {
                erp: Some(sage300(&sandbox, None)),
                storefront: None,
            },
        ),
        (
            "bad".to_owned(),
            InstanceConnectors {
                erp: Some(sage300(&sandbox, Some("wrong-password-123"))),
                storefront: None,
            },
        ),
    ]));
    let api = Api::start_with(backend, HashMap::new(), connectivity).await;
    let (status, report) = api.post("/instances/good/check", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checks"][0]["system"], "Sage 300");
    let (status, report) = api.post("/instances/bad/check", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["ok"], false, "{report}");
    let detail = report["checks"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("Sage 300"), "{detail}");
    assert!(!report.to_string().contains("wrong-password-123"));
    // Instances with connectors are listed before they record anything.
    let (_, list) = api.get("/instances").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    sandbox.stop().await;
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
    bulk_replay_is_cancelled_between_documents,
    failures_and_instances,
    check_connectivity_in_the_systems_words,
    documents_are_listed_shown_and_replayed,
    bulk_replay_dry_run_then_run,
    rewind_over_http,
    preview_over_http,
);
