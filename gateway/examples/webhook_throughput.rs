//! A quick throughput check of the webhook intake (not a test): fires signed
//! WooCommerce `order.created` deliveries at `POST /webhooks/shop` over
//! HTTP/1.1 keep-alive and prints durable webhooks/s and latencies.
//!
//! ```sh
//! MLC_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p mlc-gateway --example webhook_throughput -- [sqlite|postgres] [N] [CLIENTS]
//! ```
//!
//! Two phases on a fresh database: as fast as `CLIENTS` (64) concurrent
//! clients can send `N` (20,000) webhooks, then `N` webhooks paced at
//! 5,000/s (latency measured from each request's scheduled time).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use mlc_gateway::webhooks::{IntakeConfig, WebhookIntake};
use mlc_gateway::{Gateway, GatewayState};
use mlc_store::testing::TestDatabase;
use mlc_store::CommandBusOptions;
use secrecy::SecretString;
use serde_json::json;
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "bench-secret";

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn order(id: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "parent_id": 0, "number": id.to_string(), "status": "processing", "currency": "USD",
        "date_created_gmt": "2026-12-02T15:43:31", "date_modified_gmt": "2026-12-02T15:43:31",
        "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "7.50", "shipping_tax": "0.98",
        "cart_tax": "25.55", "total": "230.53", "total_tax": "26.53", "prices_include_tax": false,
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

type Delivery = (actix_web::web::Bytes, String);

fn deliveries(from: u64, n: usize) -> Arc<Vec<Delivery>> {
    Arc::new(
        (0..n as u64)
            .map(|i| {
                let body = order(from + i);
                let signature = sign(&body);
                (actix_web::web::Bytes::from(body), signature)
            })
            .collect(),
    )
}

async fn send(client: &reqwest::Client, url: &str, delivery: &Delivery) {
    let topic = std::env::var("TOPIC").unwrap_or_else(|_| "order.created".into());
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-WC-Webhook-Topic", topic)
        .header("X-WC-Webhook-Signature", &delivery.1)
        .body(delivery.0.clone())
        .send()
        .await
        .expect("request");
    let status = response.status();
    let _ = response.bytes().await;
    assert_eq!(status.as_u16(), 200);
}

fn report(label: &str, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{label}: {} webhooks in {:.2}s = {:.0}/s; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}

async fn saturate(
    url: &str,
    clients: usize,
    work: Arc<Vec<Delivery>>,
) -> (Duration, Vec<Duration>) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, url, work, next) =
                (client.clone(), url.to_string(), work.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(delivery) = work.get(i) else { break };
                    let t = Instant::now();
                    send(&client, &url, delivery).await;
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    (started.elapsed(), latencies)
}

async fn paced(url: &str, rate: u64, work: Arc<Vec<Delivery>>) -> (Duration, Vec<Duration>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .unwrap();
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = Vec::with_capacity(work.len());
    // At most 256 requests in flight: past that the server is not keeping up.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(256));
    for i in 0..work.len() {
        let due = started + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let permit = in_flight.clone().acquire_owned().await.unwrap();
        let (client, url, work) = (client.clone(), url.to_string(), work.clone());
        tasks.push(tokio::spawn(async move {
            send(&client, &url, &work[i]).await;
            drop(permit);
            due.elapsed()
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    (started.elapsed(), latencies)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).map_or("sqlite", String::as_str).to_string();
    let n: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let clients: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(64);
    let writers: Option<usize> = std::env::var("BUS_WRITERS")
        .ok()
        .and_then(|w| w.parse().ok());
    let db = TestDatabase::of(&backend).await;
    let store = db.store().await;
    if let (Ok(_), Some(pool)) = (std::env::var("LZ4"), store.postgres_pool()) {
        // Compression of TOASTed payloads (orders are ~3 KB): lz4 instead of pglz.
        sqlx::query("ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4")
            .execute(pool)
            .await
            .unwrap();
    }
    let registry = HashMap::from([(
        "shop".to_string(),
        IntakeConfig::woocommerce(SecretString::from(SECRET.to_string())),
    )]);
    let options = CommandBusOptions {
        writers,
        ..CommandBusOptions::default()
    };
    let intake = WebhookIntake::start(&store, registry, options).unwrap();
    let state = GatewayState {
        store: store.clone(),
        subscriptions: vec![],
        webhooks: Some(intake.clone()),
        operator: None,
    };
    let gateway = Gateway::bind(SocketAddr::from(([127, 0, 0, 1], 0)), state).unwrap();
    let url = format!("http://{}/webhooks/shop", gateway.local_addr());
    let shutdown = CancellationToken::new();
    tokio::spawn(gateway.run(shutdown.clone()));

    println!("{backend}: {n} webhooks, {clients} clients, bus writers {writers:?}");
    if std::env::var("BUS_ONLY").is_ok() {
        // The command bus alone, without HTTP: the store's side of the ceiling.
        let orders = intake.orders().clone();
        let instance = mlc_domain::model::InstanceId::new("shop").unwrap();
        let commands: Vec<_> = (0..n as u64)
            .map(|i| {
                let order =
                    mlc_connectors::woocommerce::webhook::parse_order(&order(50_000_000 + i))
                        .unwrap();
                (format!("shop/order/{}", order.source_id), order)
            })
            .collect();
        let commands = Arc::new(std::sync::Mutex::new(commands));
        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (orders, commands, instance) =
                    (orders.clone(), commands.clone(), instance.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    loop {
                        let Some((id, order)) = commands.lock().unwrap().pop() else {
                            break;
                        };
                        let t = Instant::now();
                        orders
                            .execute(
                                &id,
                                mlc_domain::order::OrderCommand::ReceiveOrder {
                                    instance: instance.clone(),
                                    order: Box::new(order),
                                    received_at: chrono::Utc::now(),
                                },
                                Default::default(),
                            )
                            .await
                            .unwrap();
                        latencies.push(t.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        report(
            &format!("{backend} bus only ({clients} tasks)"),
            started.elapsed(),
            latencies,
        );
    }
    // Warm up connections and caches.
    saturate(&url, clients, deliveries(10_000_000, 2_000)).await;
    let (elapsed, latencies) = saturate(&url, clients, deliveries(1, n)).await;
    report(
        &format!("{backend} saturated ({clients} clients)"),
        elapsed,
        latencies,
    );
    let (elapsed, latencies) = paced(&url, 5_000, deliveries(1_000_000, n)).await;
    report(&format!("{backend} paced at 5,000/s"), elapsed, latencies);
    let stats = intake.orders().stats();
    println!(
        "bus: {} commands in {} batches (avg {:.1}), {} conflicts; events stored {}",
        stats.commands,
        stats.batches,
        stats.commands as f64 / stats.batches.max(1) as f64,
        stats.conflicts,
        store.count().await.unwrap()
    );
    shutdown.cancel();
}
