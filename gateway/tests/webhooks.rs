//! The webhook intake over real HTTP, on SQLite and PostgreSQL: signed
//! orders are recorded once and answered after they are durable; every
//! refusal changes no document and is recorded as `DeliveryRejected`; the
//! sandbox's WooCommerce delivers to the intake end to end.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use mlc_gateway::webhooks::{IntakeConfig, WebhookIntake};
use mlc_gateway::{Gateway, GatewayState};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed, System};
use mlc_store::testing::TestDatabase;
use mlc_store::{CommandBusOptions, EventFilter, EventStore, StoredEvent};
use secrecy::SecretString;
use serde_json::{json, Value};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "whsec-test-3f9a";
const MAX_BODY: usize = 64 * 1024;

struct Intake {
    _db: TestDatabase,
    store: EventStore,
    url: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Intake {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Intake {
    async fn start(backend: &str) -> Intake {
        Intake::start_with_secret(backend, SECRET).await
    }

    async fn start_with_secret(backend: &str, secret: &str) -> Intake {
        let db = TestDatabase::of(backend).await;
        let store = db.store().await;
        let mut shop = IntakeConfig::woocommerce(SecretString::from(secret.to_string()));
        shop.max_body_bytes = MAX_BODY;
        let registry = HashMap::from([("shop".to_string(), shop)]);
        let intake = WebhookIntake::start(&store, registry, CommandBusOptions::default()).unwrap();
        let state = GatewayState {
            store: store.clone(),
            subscriptions: vec![],
            webhooks: Some(intake),
            operator: None,
        };
        let gateway = Gateway::bind(SocketAddr::from(([127, 0, 0, 1], 0)), state).unwrap();
        let url = format!("http://{}", gateway.local_addr());
        let shutdown = CancellationToken::new();
        tokio::spawn(gateway.run(shutdown.clone()));
        Intake {
            _db: db,
            store,
            url,
            client: reqwest::Client::new(),
            shutdown,
        }
    }

    async fn post(
        &self,
        instance: &str,
        topic: Option<&str>,
        signature: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/webhooks/{instance}", self.url))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(topic) = topic {
            request = request.header("X-WC-Webhook-Topic", topic);
        }
        if let Some(signature) = signature {
            request = request.header("X-WC-Webhook-Signature", signature);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn events(&self, filter: EventFilter) -> Vec<StoredEvent> {
        self.store.list(&filter, 0, 100_000).await.unwrap()
    }

    async fn of_type(&self, event_type: &str) -> Vec<StoredEvent> {
        self.events(EventFilter {
            event_type: Some(event_type.into()),
            ..Default::default()
        })
        .await
    }

    /// Every event of every order document.
    async fn orders(&self) -> Vec<StoredEvent> {
        self.events(EventFilter::default())
            .await
            .into_iter()
            .filter(|e| e.aggregate_type == "order_document")
            .collect()
    }
}

/// base64(HMAC-SHA256(secret, body)), as WooCommerce signs.
fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A WooCommerce order as delivered (the REST representation).
fn order(id: u64, total: &str, modified: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "parent_id": 0, "number": id.to_string(), "status": "processing", "currency": "USD",
        "date_created_gmt": "2026-12-02T15:43:31", "date_modified_gmt": modified,
        "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "7.50", "shipping_tax": "0.98",
        "cart_tax": "25.55", "total": total, "total_tax": "26.53", "prices_include_tax": false,
        "customer_id": 2, "customer_note": "",
        "billing": {"first_name": "Liam", "last_name": "Johnson", "company": "", "address_1": "107 Market Street",
                    "address_2": "", "city": "Austin", "state": "TX", "postcode": "73301", "country": "US",
                    "email": "liam.johnson1@example.com", "phone": "(555) 555-0001"},
        "shipping": {"first_name": "Liam", "last_name": "Johnson", "company": "", "address_1": "107 Market Street",
                     "address_2": "", "city": "Austin", "state": "TX", "postcode": "73301", "country": "US", "phone": ""},
        "payment_method": "stripe", "payment_method_title": "Credit Card (Stripe)", "transaction_id": "",
        "meta_data": [],
        "line_items": [
            {"id": 241, "name": "Organic Coffee Mug", "product_id": 10, "variation_id": 0, "quantity": 2,
             "tax_class": "", "subtotal": "119.00", "subtotal_tax": "15.47", "total": "119.00", "total_tax": "15.47",
             "taxes": [], "meta_data": [], "sku": "A1-100/0", "price": 59.5},
            {"id": 242, "name": "Light Candle", "product_id": 160, "variation_id": 0, "quantity": 1,
             "tax_class": "", "subtotal": "77.50", "subtotal_tax": "10.08", "total": "77.50", "total_tax": "10.08",
             "taxes": [], "meta_data": [], "sku": "A2-150/0", "price": 77.5}
        ],
        "tax_lines": [], "shipping_lines": [{"id": 243, "method_title": "Flat rate", "method_id": "flat_rate",
             "total": "7.50", "total_tax": "0.98", "taxes": [], "meta_data": []}],
        "fee_lines": [], "coupon_lines": [], "refunds": []
    }))
    .unwrap()
}

async fn a_signed_order_is_recorded_once(backend: &str) {
    let intake = Intake::start(backend).await;
    let body = order(470, "230.53", "2026-12-02T15:43:31");
    let signature = sign(SECRET, &body);
    let (status, answer) = intake
        .post(
            "shop",
            Some("order.created"),
            Some(&signature),
            body.clone(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "recorded");
    assert_eq!(answer["document"], "shop/order/470");
    // Answered after the commit: the event is already there.
    let received = intake.of_type("OrderReceived").await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].aggregate_id, "shop/order/470");
    assert_eq!(received[0].aggregate_type, "order_document");
    let metadata: Value = serde_json::from_str(&received[0].metadata).unwrap();
    assert_eq!(metadata["topic"], "order.created");
    assert!(!received[0].metadata.contains(SECRET));
    assert!(!received[0].payload.contains(SECRET));

    // The same delivery again changes nothing and is still a success.
    let before = intake.orders().await;
    let (status, answer) = intake
        .post("shop", Some("order.updated"), Some(&signature), body)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "duplicate");
    assert_eq!(answer["events"], 0);
    assert_eq!(intake.orders().await, before);

    // A newer version is a revision.
    let newer = order(470, "230.53", "2026-12-02T16:00:00");
    let (status, answer) = intake
        .post(
            "shop",
            Some("order.updated"),
            Some(&sign(SECRET, &newer)),
            newer,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "recorded");
    assert_eq!(intake.orders().await.len(), 2);
    assert!(intake.of_type("DeliveryRejected").await.is_empty());
}

#[tokio::test]
async fn a_signed_order_is_recorded_once_sqlite() {
    a_signed_order_is_recorded_once("sqlite").await
}

#[tokio::test]
async fn a_signed_order_is_recorded_once_postgres() {
    a_signed_order_is_recorded_once("postgres").await
}

/// Posts a delivery that must be refused with `status` and `code`: no order
/// document changes and exactly one `DeliveryRejected` is recorded, on
/// `stream_prefix`.
async fn refused(
    intake: &Intake,
    instance: &str,
    topic: Option<&str>,
    signature: Option<&str>,
    body: Vec<u8>,
    (status, code): (u16, &str),
    stream_prefix: &str,
) {
    let orders_before = intake.orders().await;
    let rejected_before = intake.of_type("DeliveryRejected").await.len();
    let size = body.len();
    let (got, answer) = intake.post(instance, topic, signature, body).await;
    assert_eq!(got, status, "{code}: {answer}");
    assert_eq!(answer["code"], code, "{answer}");
    assert!(answer["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(!answer.to_string().contains(SECRET));
    assert_eq!(
        intake.orders().await,
        orders_before,
        "{code}: no document changes"
    );
    let rejected = intake.of_type("DeliveryRejected").await;
    assert_eq!(rejected.len(), rejected_before + 1, "{code}");
    let last = rejected.last().unwrap();
    assert!(
        last.aggregate_id.starts_with(stream_prefix),
        "{}",
        last.aggregate_id
    );
    assert_eq!(last.aggregate_type, "webhook_delivery");
    assert!(!last.payload.contains(SECRET));
    let payload: Value = serde_json::from_str(&last.payload).unwrap();
    let event = &payload["DeliveryRejected"];
    assert_eq!(event["status"], status);
    assert_eq!(event["topic"], topic.map_or(Value::Null, Value::from));
    assert_eq!(event["body_sha256"].as_str().unwrap().len(), 64);
    if status != 413 {
        assert_eq!(event["size"], size);
    }
}

async fn refusals_change_no_document(backend: &str) {
    let intake = Intake::start(backend).await;
    let original = order(471, "230.53", "2026-12-02T15:43:31");
    let signature = sign(SECRET, &original);
    let (status, _) = intake
        .post(
            "shop",
            Some("order.created"),
            Some(&signature),
            original.clone(),
        )
        .await;
    assert_eq!(status, 200);

    // Signed with another secret.
    let forged = order(472, "230.53", "2026-12-02T15:43:31");
    let forged_signature = sign("not-the-secret", &forged);
    refused(
        &intake,
        "shop",
        Some("order.created"),
        Some(&forged_signature),
        forged,
        (401, "bad_signature"),
        "shop/delivery/",
    )
    .await;
    // The original delivery replayed with a changed total and its signature.
    let tampered = order(471, "1.00", "2026-12-02T17:00:00");
    refused(
        &intake,
        "shop",
        Some("order.updated"),
        Some(&signature),
        tampered.clone(),
        (401, "bad_signature"),
        "shop/delivery/",
    )
    .await;
    // Not signed at all (and not a ping).
    refused(
        &intake,
        "shop",
        Some("order.updated"),
        None,
        tampered,
        (401, "bad_signature"),
        "shop/delivery/",
    )
    .await;
    // Signature that is not base64.
    refused(
        &intake,
        "shop",
        Some("order.created"),
        Some("%%%"),
        original.clone(),
        (401, "bad_signature"),
        "shop/delivery/",
    )
    .await;
    // Larger than the instance accepts.
    let mut huge = order(473, "230.53", "2026-12-02T15:43:31");
    huge.resize(MAX_BODY + 1, b' ');
    let huge_signature = sign(SECRET, &huge);
    refused(
        &intake,
        "shop",
        Some("order.created"),
        Some(&huge_signature),
        huge,
        (413, "body_too_large"),
        "shop/delivery/",
    )
    .await;
    // Signed garbage.
    let garbage = b"{\"id\": 474, \"total\": ".to_vec();
    let garbage_signature = sign(SECRET, &garbage);
    refused(
        &intake,
        "shop",
        Some("order.created"),
        Some(&garbage_signature),
        garbage,
        (400, "malformed_payload"),
        "shop/delivery/",
    )
    .await;
    // Signed JSON that is not an order.
    let not_an_order = br#"{"id": 475, "status": "processing"}"#.to_vec();
    let not_an_order_signature = sign(SECRET, &not_an_order);
    refused(
        &intake,
        "shop",
        Some("order.updated"),
        Some(&not_an_order_signature),
        not_an_order,
        (400, "malformed_payload"),
        "shop/delivery/",
    )
    .await;
    // An instance that is not configured, and a name that is no instance id.
    refused(
        &intake,
        "other-shop",
        Some("order.created"),
        Some(&signature),
        original.clone(),
        (404, "unknown_instance"),
        "_unknown/delivery/",
    )
    .await;
    refused(
        &intake,
        "Not%20An%20Instance",
        Some("order.created"),
        Some(&signature),
        original,
        (404, "unknown_instance"),
        "_unknown/delivery/",
    )
    .await;
    // Through it all the one order stays as first recorded.
    let orders = intake.orders().await;
    assert_eq!(orders.len(), 1);
    assert!(orders[0].payload.contains("230.53"));
}

#[tokio::test]
async fn refusals_change_no_document_sqlite() {
    refusals_change_no_document("sqlite").await
}

#[tokio::test]
async fn refusals_change_no_document_postgres() {
    refusals_change_no_document("postgres").await
}

async fn a_ping_is_answered_and_recorded(backend: &str) {
    let intake = Intake::start(backend).await;
    let response = intake
        .client
        .post(format!("{}/webhooks/shop", intake.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("webhook_id=42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let pings = intake.of_type("PingReceived").await;
    assert_eq!(pings.len(), 1);
    assert!(pings[0].aggregate_id.starts_with("shop/delivery/"));
    let payload: Value = serde_json::from_str(&pings[0].payload).unwrap();
    assert_eq!(payload["PingReceived"]["webhook_id"], 42);
    assert!(intake.orders().await.is_empty());
    // Other topics are answered and ignored.
    let body = br#"{"id": 9}"#.to_vec();
    let (status, answer) = intake
        .post(
            "shop",
            Some("product.updated"),
            Some(&sign(SECRET, &body)),
            body,
        )
        .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("ignored")));
}

#[tokio::test]
async fn a_ping_is_answered_and_recorded_sqlite() {
    a_ping_is_answered_and_recorded("sqlite").await
}

#[tokio::test]
async fn a_ping_is_answered_and_recorded_postgres() {
    a_ping_is_answered_and_recorded("postgres").await
}

/// The sandbox's WooCommerce: a webhook registered at the intake pings it,
/// and placing an order delivers a signed `order.created` that is recorded;
/// a customer update delivers `customer.updated`.
async fn the_sandbox_store_delivers_to_the_intake(backend: &str) {
    let secret = "sandbox-hook-secret";
    let intake = Intake::start_with_secret(backend, secret).await;
    let sandbox = Sandbox::start(SandboxOptions {
        seed: Seed::Demo,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let manifest = sandbox.manifest();
    let creds = &manifest["woocommerce"];
    let api = format!(
        "{}/wp-json/wc/v3",
        sandbox.base_url(System::Woocommerce).trim_end_matches('/')
    );
    let control = format!("http://{}/_sandbox/woocommerce", sandbox.addr());
    let client = reqwest::Client::new();
    for topic in ["order.created", "customer.updated"] {
        let created = client
            .post(format!("{api}/webhooks"))
            .basic_auth(
                creds["consumer_key"].as_str().unwrap(),
                creds["consumer_secret"].as_str(),
            )
            .header("X-Forwarded-Proto", "https")
            .json(&json!({
                "topic": topic,
                "delivery_url": format!("{}/webhooks/shop", intake.url),
                "secret": secret
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status().as_u16(), 201);
    }
    let placed: Value = client
        .post(format!("{control}/orders"))
        .json(&json!({ "customer_email": "liam.johnson1@example.com", "lines": [{ "sku": "A1-100/0", "quantity": 2 }] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let document = format!("shop/order/{}", placed["id"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let received = intake.of_type("OrderReceived").await;
        if received.iter().any(|e| e.aggregate_id == document) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no OrderReceived for {document}: {:?}",
            intake.of_type("DeliveryRejected").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(intake.of_type("PingReceived").await.len(), 2);
    // A customer change in the store reaches its customer document.
    let customers: Value = client
        .get(format!("{api}/customers?email=liam.johnson1@example.com"))
        .basic_auth(
            creds["consumer_key"].as_str().unwrap(),
            creds["consumer_secret"].as_str(),
        )
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customer_id = customers[0]["id"].as_u64().unwrap();
    let changed = client
        .put(format!("{control}/customers/{customer_id}"))
        .json(&json!({ "first_name": "Liam-Paul" }))
        .send()
        .await
        .unwrap();
    assert!(changed.status().is_success(), "{}", changed.status());
    let customer_document = format!("shop/customer/{customer_id}");
    loop {
        let stream = intake
            .events(EventFilter {
                aggregate_id: Some(customer_document.clone()),
                ..Default::default()
            })
            .await;
        if !stream.is_empty() {
            assert_eq!(stream[0].event_type, "CustomerReceived");
            assert!(stream[0].payload.contains("Liam-Paul"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no event for {customer_document}: {:?}",
            intake.of_type("DeliveryRejected").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(intake.of_type("DeliveryRejected").await.is_empty());
    sandbox.stop().await;
}

#[tokio::test]
async fn the_sandbox_store_delivers_to_the_intake_sqlite() {
    the_sandbox_store_delivers_to_the_intake("sqlite").await
}

#[tokio::test]
async fn the_sandbox_store_delivers_to_the_intake_postgres() {
    the_sandbox_store_delivers_to_the_intake("postgres").await
}

/// A body streamed without `Content-Length` is refused as soon as it passes
/// the limit, and the refusal is recorded.
async fn a_streamed_body_past_the_limit_is_refused(backend: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let intake = Intake::start(backend).await;
    let addr = intake.url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /webhooks/shop HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-WC-Webhook-Topic: order.created\r\nX-WC-Webhook-Signature: AAAA\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 16 * 1024];
    for _ in 0..(MAX_BODY / chunk.len() + 2) {
        let frame = [
            format!("{:x}\r\n", chunk.len()).into_bytes(),
            chunk.clone(),
            b"\r\n".to_vec(),
        ]
        .concat();
        // The server may answer and close before everything is sent.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("body_too_large"), "{answer}");
    let rejected = intake.of_type("DeliveryRejected").await;
    assert_eq!(rejected.len(), 1);
    let payload: Value = serde_json::from_str(&rejected[0].payload).unwrap();
    assert_eq!(payload["DeliveryRejected"]["status"], 413);
    assert!(payload["DeliveryRejected"]["size"].as_u64().unwrap() > MAX_BODY as u64);
    assert!(intake.orders().await.is_empty());
}

#[tokio::test]
async fn a_streamed_body_past_the_limit_is_refused_sqlite() {
    a_streamed_body_past_the_limit_is_refused("sqlite").await
}

#[tokio::test]
async fn a_streamed_body_past_the_limit_is_refused_postgres() {
    a_streamed_body_past_the_limit_is_refused("postgres").await
}
