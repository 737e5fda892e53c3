//! Contract tests of the BigCommerce simulator, written from
//! `shared/systems/commerce.md` §0 and §2 (not from the implementation):
//! real HTTP against a started sandbox, webhook deliveries captured by an
//! in-test receiver and verified by recomputing the Standard Webhooks
//! signature (§2.9).

mod support;
use support::Receiver;

use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed, System};
use reqwest::Method;
use serde_json::{json, Value};
use sha1::Digest;
use sha2::Sha256;

struct Store {
    sandbox: Sandbox,
    client: reqwest::Client,
    /// `{base}stores/{store_hash}`.
    store: String,
    base: String,
    hash: String,
    token: String,
    client_id: String,
    client_secret: String,
    control: String,
}

impl Store {
    async fn start(seed: Seed) -> Store {
        let sandbox = Sandbox::start(SandboxOptions {
            seed,
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let manifest = sandbox.manifest();
        let creds = manifest["bigcommerce"].clone();
        let base = creds["base_url"].as_str().unwrap().to_string();
        assert_eq!(base, sandbox.base_url(System::Bigcommerce));
        let hash = creds["store_hash"].as_str().unwrap().to_string();
        Store {
            store: format!("{}/stores/{hash}", base.trim_end_matches('/')),
            base,
            hash,
            token: creds["access_token"].as_str().unwrap().to_string(),
            client_id: creds["client_id"].as_str().unwrap().to_string(),
            client_secret: creds["client_secret"].as_str().unwrap().to_string(),
            control: format!("http://{}/_sandbox/bigcommerce", sandbox.addr()),
            client: reqwest::Client::new(),
            sandbox,
        }
    }

    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.store))
            .header("X-Auth-Token", &self.token)
            .header("Accept", "application/json")
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.req(Method::GET, path).send().await.unwrap()
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> reqwest::Response {
        self.req(method, path).json(&body).send().await.unwrap()
    }

    async fn ok(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self.send(method, path, body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self
            .client
            .request(method, format!("{}{path}", self.control))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "control {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn settings(&self, body: Value) {
        self.control(Method::PUT, "/settings", body).await;
    }

    async fn deliveries(&self) -> Vec<Value> {
        self.control(Method::GET, "/deliveries", Value::Null)
            .await
            .as_array()
            .unwrap()
            .clone()
    }

    async fn wait_deliveries(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let d = self.deliveries().await;
            if d.len() >= n {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("fewer than {n} delivery attempts");
    }

    async fn place_order(&self, skus: &[(&str, u64)]) -> Value {
        let products: Vec<Value> = skus
            .iter()
            .map(|(s, q)| json!({ "sku": s, "quantity": q }))
            .collect();
        self.control(Method::POST, "/orders", json!({ "products": products }))
            .await
    }
}

/// §2.1: v3 errors are `{"status", "title", "type", "errors"}`.
async fn v3_error(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert!(body["type"].is_string(), "{body}");
    assert!(body["errors"].is_object(), "{body}");
    body
}

/// v2 errors: an array of `{"status", "message"}`.
async fn v2_error(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["status"], status, "{body}");
    assert!(body[0]["message"].is_string(), "{body}");
    body
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

// ---------------------------------------------------------------- receiver

/// §2.9: `v1,` base64(HMAC-SHA256(client secret bytes, "{id}.{ts}.{body}")).
fn standard_signature(secret: &str, id: &str, ts: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

async fn seed_products(store: &Store, n: usize) {
    let products: Vec<Value> = (1..=n)
        .map(|i| json!({ "sku": format!("T-{i:03}"), "name": format!("Thing {i}"), "price": "10.00", "inventory_level": 50 }))
        .collect();
    store
        .control(Method::POST, "/products", json!(products))
        .await;
}

// ------------------------------------------------------------------- auth

#[tokio::test]
async fn x_auth_token_is_accepted_and_refusals_have_the_real_shapes() {
    let store = Store::start(Seed::Empty).await;
    // Accepted with X-Auth-Token alone (X-Auth-Client is no longer required).
    let r = store.get("/v3/catalog/products").await;
    assert_eq!(r.status(), 200);

    // No token: 401 in the v3 shape on v3, the v2 shape on v2.
    let r = store
        .client
        .get(format!("{}/v3/catalog/products", store.store))
        .send()
        .await
        .unwrap();
    let body = v3_error(r, 401).await;
    assert_eq!(body["type"], "/api-docs/getting-started/api-status-codes");
    let r = store
        .client
        .get(format!("{}/v2/orders", store.store))
        .send()
        .await
        .unwrap();
    v2_error(r, 401).await;

    // A wrong token, and the right token on another store hash.
    let r = store
        .client
        .get(format!("{}/v3/customers", store.store))
        .header("X-Auth-Token", "wrong")
        .send()
        .await
        .unwrap();
    v3_error(r, 401).await;
    let other = store.store.replace(&store.hash, "zzzzzz");
    let r = store
        .client
        .get(format!("{other}/v3/customers"))
        .header("X-Auth-Token", &store.token)
        .send()
        .await
        .unwrap();
    v3_error(r, 401).await;

    // A read-only account reads but cannot write (403).
    let ro = store
        .control(
            Method::POST,
            "/api_accounts",
            json!({ "name": "reporting", "read_only": true }),
        )
        .await;
    let token = ro["access_token"].as_str().unwrap();
    assert_ne!(token, store.token);
    let r = store
        .client
        .get(format!("{}/v3/customers", store.store))
        .header("X-Auth-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = store
        .client
        .post(format!("{}/v3/customers", store.store))
        .header("X-Auth-Token", token)
        .json(&json!([{ "email": "a@example.com", "first_name": "A", "last_name": "B" }]))
        .send()
        .await
        .unwrap();
    v3_error(r, 403).await;

    // Unknown routes are 404 in the shape of their API.
    v3_error(store.get("/v3/nothing/here").await, 404).await;
    v2_error(store.get("/v2/orders/999999").await, 404).await;
    store.sandbox.stop().await;
}

#[tokio::test]
async fn the_manifest_names_credentials_as_bigcommerce_does() {
    let store = Store::start(Seed::Empty).await;
    let m = store.sandbox.manifest();
    let bc = &m["bigcommerce"];
    for k in [
        "store_hash",
        "access_token",
        "client_id",
        "client_secret",
        "base_url",
    ] {
        assert!(bc[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {bc}");
    }
    assert!(store.base.ends_with("/bigcommerce/"));
    assert_eq!(store.client_id, bc["client_id"]);
    store.sandbox.stop().await;
}

// ------------------------------------------------------------- rate limit

#[tokio::test]
async fn rate_limit_headers_on_every_answer_and_429_past_the_quota() {
    let store = Store::start(Seed::Empty).await;
    let r = store.get("/v3/catalog/products").await;
    // §2.2: the four headers; Standard plan 150 per 30 s window.
    assert_eq!(header(&r, "X-Rate-Limit-Time-Window-Ms").unwrap(), "30000");
    assert_eq!(header(&r, "X-Rate-Limit-Requests-Quota").unwrap(), "150");
    let left: u32 = header(&r, "X-Rate-Limit-Requests-Left")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(left, 149);
    let reset: u64 = header(&r, "X-Rate-Limit-Time-Reset-Ms")
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 0 && reset <= 30_000);
    // v2 answers carry them too, 204 included.
    let r = store.get("/v2/orders").await;
    assert_eq!(r.status(), 204);
    assert_eq!(header(&r, "X-Rate-Limit-Requests-Left").unwrap(), "148");

    // A low quota for the test: the fourth request is 429 with the headers.
    store
        .control(Method::PUT, "/rate_limit", json!({ "quota": 3 }))
        .await;
    for left in ["2", "1", "0"] {
        let r = store.get("/v3/customers").await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "X-Rate-Limit-Requests-Left").unwrap(), left);
    }
    let r = store.get("/v3/customers").await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "X-Rate-Limit-Requests-Quota").unwrap(), "3");
    assert_eq!(header(&r, "X-Rate-Limit-Requests-Left").unwrap(), "0");
    assert_eq!(header(&r, "X-Rate-Limit-Time-Window-Ms").unwrap(), "30000");
    let reset: u64 = header(&r, "X-Rate-Limit-Time-Reset-Ms")
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 0 && reset <= 30_000);
    assert!(header(&r, "X-Retry-After").is_some());
    v3_error(r, 429).await;

    // After the window, the quota is back.
    store
        .control(
            Method::PUT,
            "/rate_limit",
            json!({ "quota": 2, "window_ms": 200 }),
        )
        .await;
    store.get("/v3/customers").await;
    store.get("/v3/customers").await;
    assert_eq!(store.get("/v3/customers").await.status(), 429);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(store.get("/v3/customers").await.status(), 200);

    // Load shedding: a 429 without the headers (§2.2).
    store
        .control(
            Method::PUT,
            "/rate_limit",
            json!({ "quota": 0, "window_ms": 30000, "headers_on_429": false }),
        )
        .await;
    let r = store.get("/v3/customers").await;
    assert_eq!(r.status(), 429);
    assert!(header(&r, "X-Rate-Limit-Time-Reset-Ms").is_none());
    store.sandbox.stop().await;
}

// -------------------------------------------------------------- orders v2

#[tokio::test]
async fn v2_orders_page_to_the_last_page_then_204() {
    let store = Store::start(Seed::Demo).await;
    let mut ids = Vec::new();
    let mut page = 1;
    loop {
        let r = store.get(&format!("/v2/orders?limit=25&page={page}")).await;
        if r.status() == 204 {
            // §2.3 / pain point 2: 204 with an empty body, not `[]`.
            assert!(r.bytes().await.unwrap().is_empty());
            break;
        }
        assert_eq!(r.status(), 200);
        let list: Vec<Value> = r.json().await.unwrap();
        assert!(list.len() <= 25);
        ids.extend(list.iter().map(|o| o["id"].as_u64().unwrap()));
        page += 1;
    }
    assert_eq!(page, 4, "60 demo orders in pages of 25");
    assert_eq!(ids.len(), 60);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "default sort is id ascending");

    // Default limit 50; sort=id:desc; limit above 250 is 413.
    let list: Vec<Value> = store.get("/v2/orders").await.json().await.unwrap();
    assert_eq!(list.len(), 50);
    let list: Vec<Value> = store
        .get("/v2/orders?sort=id:desc&limit=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["id"].as_u64(), ids.last().copied());
    v2_error(store.get("/v2/orders?limit=251").await, 413).await;
    store
        .settings(json!({ "over_max_limit_is_413": false }))
        .await;
    assert_eq!(store.get("/v2/orders?limit=251").await.status(), 200);

    // Filters: min_id / max_id, status_id, and both date formats.
    let list: Vec<Value> = store
        .get(&format!("/v2/orders?min_id={}&max_id={}", ids[10], ids[14]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 5);
    let status11: Vec<Value> = store
        .get("/v2/orders?status_id=11&limit=250")
        .await
        .json()
        .await
        .unwrap();
    assert!(status11.iter().all(|o| o["status_id"] == 11));
    let fresh = store.place_order(&[("A1-100/0", 1)]).await;
    let id = fresh["id"].as_u64().unwrap();
    let since = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc2822();
    let list: Vec<Value> = store
        .req(Method::GET, "/v2/orders")
        .query(&[("min_date_modified", since.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id);
    let iso = (chrono::Utc::now() - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
        .to_string();
    let r = store
        .req(Method::GET, "/v2/orders")
        .query(&[("min_date_created", iso.as_str())])
        .send()
        .await
        .unwrap();
    let list: Vec<Value> = r.json().await.unwrap();
    assert_eq!(list.len(), 1);
    let future = "Thu, 20 Apr 2090 11:32:00 -0400";
    let r = store
        .req(Method::GET, "/v2/orders")
        .query(&[("min_date_created", future)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn a_v2_order_and_its_products_have_the_documented_fields() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 2).await;
    store
        .control(
            Method::POST,
            "/customers",
            json!({ "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee" }),
        )
        .await;
    let placed = store
        .control(
            Method::POST,
            "/orders",
            json!({ "email": "ann@example.com", "shipping_cost": "5.00",
                    "products": [{ "sku": "T-001", "quantity": 2 }, { "sku": "T-002", "quantity": 1, "price": "7.25" }] }),
        )
        .await;
    let id = placed["id"].as_u64().unwrap();
    let o = store
        .ok(Method::GET, &format!("/v2/orders/{id}"), Value::Null)
        .await;
    assert!(o["customer_id"].as_u64().unwrap() > 0);
    assert_eq!(o["status_id"], 11);
    assert_eq!(o["status"], "Awaiting Fulfillment");
    // Money: decimal strings with 4 places.
    assert_eq!(o["subtotal_ex_tax"], "27.2500");
    assert_eq!(o["total_inc_tax"], "32.2500");
    for k in [
        "subtotal_inc_tax",
        "total_ex_tax",
        "total_tax",
        "refunded_amount",
        "currency_exchange_rate",
    ] {
        assert!(o[k].is_string(), "{k}: {o}");
    }
    assert_eq!(o["items_total"], 3);
    // Dates: RFC 2822 as `Wed, 05 Dec 2018 20:16:55 +0000`.
    let created = o["date_created"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc2822(created).is_ok(),
        "{created}"
    );
    assert!(created.ends_with("+0000"));
    assert_eq!(&created[3..5], ", ");
    assert_eq!(o["billing_address"]["email"], "ann@example.com");
    for k in [
        "first_name",
        "last_name",
        "company",
        "street_1",
        "street_2",
        "city",
        "state",
        "zip",
        "country",
        "country_iso2",
        "phone",
    ] {
        assert!(o["billing_address"][k].is_string(), "{k}");
    }
    assert_eq!(o["products"]["resource"], format!("/orders/{id}/products"));
    assert!(o["products"]["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/v2/orders/{id}/products")));
    for k in ["currency_code", "payment_method", "payment_status"] {
        assert!(o[k].is_string(), "{k}");
    }
    assert!(o["channel_id"].is_u64());

    let lines: Vec<Value> = store
        .get(&format!("/v2/orders/{id}/products"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lines.len(), 2);
    let l = &lines[0];
    assert_eq!(l["order_id"], id);
    assert_eq!(l["sku"], "T-001");
    assert_eq!(l["quantity"], 2);
    assert_eq!(l["price_ex_tax"], "10.0000");
    assert_eq!(l["total_inc_tax"], "20.0000");
    for k in [
        "id",
        "product_id",
        "variant_id",
        "order_address_id",
        "quantity_shipped",
        "quantity_refunded",
    ] {
        assert!(l[k].is_u64(), "{k}: {l}");
    }
    assert_eq!(l["is_refunded"], false);
    // Paging of order products; past the end is 204.
    let r = store
        .get(&format!("/v2/orders/{id}/products?limit=1&page=3"))
        .await;
    assert_eq!(r.status(), 204);
    // The coupons link answers (no coupons: 204); If-Modified-Since: 304.
    let r = store.get(&format!("/v2/orders/{id}/coupons")).await;
    assert_eq!(r.status(), 204);
    let later = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc2822();
    let r = store
        .req(Method::GET, &format!("/v2/orders/{id}"))
        .header("If-Modified-Since", later)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let count = store.ok(Method::GET, "/v2/orders/count", Value::Null).await;
    assert_eq!(count["count"], 1);
    let statuses: Vec<Value> = store.get("/v2/order_statuses").await.json().await.unwrap();
    assert_eq!(statuses.len(), 15);

    // PUT status_id; a shipment moves the order to Shipped.
    let updated = store
        .ok(
            Method::PUT,
            &format!("/v2/orders/{id}"),
            json!({ "status_id": 9 }),
        )
        .await;
    assert_eq!(updated["status"], "Awaiting Shipment");
    let r = store
        .send(
            Method::PUT,
            &format!("/v2/orders/{id}"),
            json!({ "status_id": 99 }),
        )
        .await;
    v2_error(r, 400).await;
    let shipment = store
        .ok(
            Method::POST,
            &format!("/v2/orders/{id}/shipments"),
            json!({ "tracking_number": "1Z999", "order_address_id": l["order_address_id"],
                    "items": [{ "order_product_id": lines[0]["id"], "quantity": 2 },
                              { "order_product_id": lines[1]["id"], "quantity": 1 }] }),
        )
        .await;
    assert_eq!(shipment["tracking_number"], "1Z999");
    let o = store
        .ok(Method::GET, &format!("/v2/orders/{id}"), Value::Null)
        .await;
    assert_eq!(o["status_id"], 2);
    assert_eq!(o["items_shipped"], 3);
    store.sandbox.stop().await;
}

// ------------------------------------------------------------- catalog v3

#[tokio::test]
async fn catalog_products_page_with_meta_pagination() {
    let store = Store::start(Seed::Demo).await;
    let first = store
        .ok(Method::GET, "/v3/catalog/products?limit=250", Value::Null)
        .await;
    let p = &first["meta"]["pagination"];
    assert_eq!(p["total"], 400);
    assert_eq!(p["count"], 250);
    assert_eq!(p["per_page"], 250);
    assert_eq!(p["current_page"], 1);
    assert_eq!(p["total_pages"], 2);
    assert!(p["links"]["next"].as_str().unwrap().contains("page=2"));
    let second = store
        .ok(
            Method::GET,
            "/v3/catalog/products?limit=250&page=2",
            Value::Null,
        )
        .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 150);
    assert!(second["meta"]["pagination"]["links"].get("next").is_none());
    let past = store
        .ok(
            Method::GET,
            "/v3/catalog/products?limit=250&page=3",
            Value::Null,
        )
        .await;
    assert_eq!(past["data"], json!([]));
    // Default limit 50; max 250.
    let def = store
        .ok(Method::GET, "/v3/catalog/products", Value::Null)
        .await;
    assert_eq!(def["meta"]["pagination"]["per_page"], 50);
    v3_error(store.get("/v3/catalog/products?limit=300").await, 413).await;

    // Demo SKUs are the ERP item numbers; fields and types.
    let skus: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus[0], "A1-100/0");
    let all: Vec<String> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["data"].as_array().unwrap())
        .map(|p| p["sku"].as_str().unwrap().to_string())
        .collect();
    assert!(all.contains(&"A4-199/0".to_string()));
    let one = &first["data"][0];
    assert!(one["price"].is_number());
    assert!(one["inventory_level"].is_i64());
    assert_eq!(one["inventory_tracking"], "product");
    assert!(one["date_modified"].as_str().unwrap().contains('T'));
    let r = store
        .req(Method::GET, "/v3/catalog/products")
        .query(&[("sku", "A2-150/0"), ("include", "variants")])
        .send()
        .await
        .unwrap();
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(found["data"][0]["variants"][0]["sku"], "A2-150/0");
    let ids = format!("{},{}", first["data"][0]["id"], first["data"][1]["id"]);
    let r = store
        .req(Method::GET, "/v3/catalog/products")
        .query(&[("id:in", ids.as_str())])
        .send()
        .await
        .unwrap();
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["meta"]["pagination"]["total"], 2);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn the_sku_filter_on_products_ignores_variant_skus() {
    let store = Store::start(Seed::Empty).await;
    store
        .control(
            Method::POST,
            "/products",
            json!({ "sku": "SHIRT", "name": "Shirt", "price": 20, "inventory_tracking": "variant",
                    "variants": [{ "sku": "SHIRT-S", "inventory_level": 3 }, { "sku": "SHIRT-M", "inventory_level": 4 }] }),
        )
        .await;
    let by_variant_sku = store
        .ok(Method::GET, "/v3/catalog/products?sku=SHIRT-S", Value::Null)
        .await;
    assert_eq!(by_variant_sku["data"], json!([]));
    let product = store
        .ok(Method::GET, "/v3/catalog/products?sku=SHIRT", Value::Null)
        .await;
    assert_eq!(product["data"][0]["inventory_level"], 7);
    let variants = store
        .ok(Method::GET, "/v3/catalog/variants?sku=SHIRT-S", Value::Null)
        .await;
    assert_eq!(variants["data"].as_array().unwrap().len(), 1);
    assert_eq!(variants["data"][0]["inventory_level"], 3);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn batch_updates_respect_their_maximums() {
    let store = Store::start(Seed::Demo).await;
    let page = store
        .ok(Method::GET, "/v3/catalog/products?limit=60", Value::Null)
        .await;
    let ids: Vec<u64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    let eleven: Vec<Value> = ids[..11]
        .iter()
        .map(|id| json!({ "id": id, "price": 1 }))
        .collect();
    let r = store
        .send(Method::PUT, "/v3/catalog/products", json!(eleven))
        .await;
    v3_error(r, 413).await;
    let two = json!([{ "id": ids[0], "price": 12.5 }, { "id": ids[1], "inventory_level": 77 }]);
    let out = store.ok(Method::PUT, "/v3/catalog/products", two).await;
    assert_eq!(out["data"][0]["price"], 12.5);
    assert_eq!(out["data"][1]["inventory_level"], 77);
    let r = store
        .send(Method::PUT, "/v3/catalog/products", json!([{ "price": 1 }]))
        .await;
    v3_error(r, 422).await;

    let variants = store
        .ok(Method::GET, "/v3/catalog/variants?limit=51", Value::Null)
        .await;
    let many: Vec<Value> = variants["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| json!({ "id": v["id"], "price": 3 }))
        .collect();
    assert_eq!(many.len(), 51);
    let r = store
        .send(Method::PUT, "/v3/catalog/variants", json!(many))
        .await;
    v3_error(r, 413).await;
    let out = store
        .ok(Method::PUT, "/v3/catalog/variants", json!(many[..50]))
        .await;
    assert_eq!(out["data"].as_array().unwrap().len(), 50);
    assert_eq!(out["data"][0]["price"], 3.0);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn inventory_adjustments_follow_the_tracking() {
    let store = Store::start(Seed::Empty).await;
    store
        .control(
            Method::POST,
            "/products",
            json!([{ "sku": "MUG", "name": "Mug", "price": 8, "inventory_level": 10 },
                   { "sku": "CAP", "name": "Cap", "price": 9, "inventory_tracking": "variant",
                     "variants": [{ "sku": "CAP-RED", "inventory_level": 1 }, { "sku": "CAP-BLUE", "inventory_level": 2 }] }]),
        )
        .await;
    let mug = &store
        .ok(
            Method::GET,
            "/v3/catalog/products?sku=MUG&include=variants",
            Value::Null,
        )
        .await["data"][0];
    let mug_id = mug["id"].as_u64().unwrap();
    let mug_variant = mug["variants"][0]["id"].as_u64().unwrap();
    // By SKU and by product id on a product-tracked product.
    let out = store
        .ok(
            Method::PUT,
            "/v3/inventory/adjustments/absolute",
            json!({ "reason": "sync", "items": [{ "location_id": 1, "sku": "MUG", "quantity": 25 }] }),
        )
        .await;
    assert!(out["transaction_id"].is_string());
    store
        .ok(
            Method::POST,
            "/v3/inventory/adjustments/relative",
            json!({ "items": [{ "location_id": 1, "product_id": mug_id, "quantity": -5 }] }),
        )
        .await;
    let p = store
        .ok(
            Method::GET,
            &format!("/v3/catalog/products/{mug_id}"),
            Value::Null,
        )
        .await;
    assert_eq!(p["data"]["inventory_level"], 20);
    // By variant id on a product-tracked product: 422 (§2.4's message).
    let r = store
        .send(
            Method::PUT,
            "/v3/inventory/adjustments/absolute",
            json!({ "items": [{ "location_id": 1, "variant_id": mug_variant, "quantity": 1 }] }),
        )
        .await;
    let body = v3_error(r, 422).await;
    assert!(
        body.to_string().contains(&format!(
            "Item with variant_id {mug_variant} is tracked by product, please update stock by product id"
        )),
        "{body}"
    );
    // Variant-tracked: by variant SKU is fine, by product id is 422.
    store
        .ok(
            Method::PUT,
            "/v3/inventory/adjustments/absolute",
            json!({ "items": [{ "location_id": 1, "sku": "CAP-RED", "quantity": 9 }] }),
        )
        .await;
    let cap = store
        .ok(Method::GET, "/v3/catalog/products?sku=CAP", Value::Null)
        .await;
    assert_eq!(cap["data"][0]["inventory_level"], 11);
    let cap_id = cap["data"][0]["id"].as_u64().unwrap();
    let r = store
        .send(
            Method::PUT,
            "/v3/inventory/adjustments/absolute",
            json!({ "items": [{ "location_id": 1, "product_id": cap_id, "quantity": 1 }] }),
        )
        .await;
    v3_error(r, 422).await;
    store.sandbox.stop().await;
}

// ----------------------------------------------------------- customers v3

#[tokio::test]
async fn customers_are_batch_and_filter_by_email() {
    let store = Store::start(Seed::Demo).await;
    let page = store
        .ok(Method::GET, "/v3/customers?limit=100", Value::Null)
        .await;
    assert_eq!(page["meta"]["pagination"]["total"], 300);
    assert_eq!(page["meta"]["pagination"]["total_pages"], 3);
    let email = page["data"][5]["email"].as_str().unwrap().to_string();
    assert!(email.contains('@'));
    let r = store
        .req(Method::GET, "/v3/customers")
        .query(&[("email:in", email.as_str())])
        .send()
        .await
        .unwrap();
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert!(found["data"][0]["id"].is_u64());
    assert!(found["data"][0]["date_modified"].is_string());

    let created = store
        .ok(
            Method::POST,
            "/v3/customers",
            json!([{ "email": "new1@example.com", "first_name": "N", "last_name": "One" },
                   { "email": "new2@example.com", "first_name": "N", "last_name": "Two", "company": "Acme" }]),
        )
        .await;
    let ids: Vec<u64> = created["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    let r = store
        .send(
            Method::POST,
            "/v3/customers",
            json!([{ "email": "new1@example.com", "first_name": "N", "last_name": "Again" }]),
        )
        .await;
    v3_error(r, 422).await;
    let updated = store
        .ok(
            Method::PUT,
            "/v3/customers",
            json!([{ "id": ids[0], "company": "Globex" }]),
        )
        .await;
    assert_eq!(updated["data"][0]["company"], "Globex");
    let r = store
        .req(Method::GET, "/v3/customers")
        .query(&[("company:in", "Acme,Globex")])
        .send()
        .await
        .unwrap();
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["data"].as_array().unwrap().len(), 2);
    let since = (chrono::Utc::now() - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let r = store
        .req(Method::GET, "/v3/customers")
        .query(&[("date_modified:min", since.as_str())])
        .send()
        .await
        .unwrap();
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["data"].as_array().unwrap().len(), 2);
    // DELETE needs id:in; 204.
    v3_error(
        store
            .send(Method::DELETE, "/v3/customers", Value::Null)
            .await,
        422,
    )
    .await;
    let r = store
        .req(Method::DELETE, "/v3/customers")
        .query(&[("id:in", format!("{},{}", ids[0], ids[1]).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    store.sandbox.stop().await;
}

// --------------------------------------------------- transactions, refunds

#[tokio::test]
async fn transactions_and_refunds() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 2).await;
    let order = store.place_order(&[("T-001", 3), ("T-002", 1)]).await;
    let id = order["id"].as_u64().unwrap();
    let tx = store
        .ok(
            Method::GET,
            &format!("/v3/orders/{id}/transactions"),
            Value::Null,
        )
        .await;
    assert_eq!(tx["data"][0]["event"], "purchase");
    assert_eq!(tx["data"][0]["amount"], 40.0);
    assert!(tx["data"][0]["gateway"].is_string());
    // An unpaid order has no transactions: 204.
    let unpaid = store
        .control(
            Method::POST,
            "/orders",
            json!({ "products": [{ "sku": "T-001", "quantity": 1 }], "paid": false, "status_id": 7 }),
        )
        .await;
    let r = store
        .get(&format!("/v3/orders/{}/transactions", unpaid["id"]))
        .await;
    assert_eq!(r.status(), 204);

    let lines: Vec<Value> = store
        .get(&format!("/v2/orders/{id}/products"))
        .await
        .json()
        .await
        .unwrap();
    let line = lines[0]["id"].as_u64().unwrap();
    let items =
        json!([{ "item_type": "PRODUCT", "item_id": line, "quantity": 1, "reason": "damaged" }]);
    let quote = store
        .ok(
            Method::POST,
            &format!("/v3/orders/{id}/payment_actions/refund_quotes"),
            json!({ "items": items }),
        )
        .await;
    assert_eq!(quote["data"]["total_refund_amount"], 10.0);
    let provider = quote["data"]["refund_methods"][0][0]["provider_id"].clone();
    // Payments that do not add up: 422.
    let r = store
        .send(
            Method::POST,
            &format!("/v3/orders/{id}/payment_actions/refunds"),
            json!({ "items": items, "payments": [{ "provider_id": provider, "amount": 11, "offline": false }] }),
        )
        .await;
    v3_error(r, 422).await;
    let refund = store
        .ok(
            Method::POST,
            &format!("/v3/orders/{id}/payment_actions/refunds"),
            json!({ "items": items, "payments": [{ "provider_id": provider, "amount": 10, "offline": false }] }),
        )
        .await;
    let r = &refund["data"];
    assert_eq!(r["order_id"], id);
    assert_eq!(r["total_amount"], 10.0);
    for k in ["id", "user_id"] {
        assert!(r[k].is_u64(), "{k}");
    }
    for k in ["created", "reason"] {
        assert!(r[k].is_string(), "{k}");
    }
    assert!(r["items"].is_array() && r["payments"].is_array());
    let o = store
        .ok(Method::GET, &format!("/v2/orders/{id}"), Value::Null)
        .await;
    assert_eq!(o["status_id"], 14);
    assert_eq!(o["refunded_amount"], "10.0000");
    // More than is left: 422.
    let r = store
        .send(
            Method::POST,
            &format!("/v3/orders/{id}/payment_actions/refunds"),
            json!({ "items": [{ "item_type": "ORDER", "item_id": id, "amount": 31 }],
                    "payments": [{ "provider_id": provider, "amount": 31, "offline": false }] }),
        )
        .await;
    v3_error(r, 422).await;
    // The rest: Refunded (4).
    store
        .ok(
            Method::POST,
            &format!("/v3/orders/{id}/payment_actions/refunds"),
            json!({ "items": [{ "item_type": "ORDER", "item_id": id, "amount": 30 }],
                    "payments": [{ "provider_id": provider, "amount": 30, "offline": false }] }),
        )
        .await;
    let o = store
        .ok(Method::GET, &format!("/v2/orders/{id}"), Value::Null)
        .await;
    assert_eq!(o["status_id"], 4);
    let list = store
        .ok(
            Method::GET,
            &format!("/v3/orders/{id}/payment_actions/refunds"),
            Value::Null,
        )
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let all = store
        .ok(
            Method::GET,
            "/v3/orders/payment_actions/refunds",
            Value::Null,
        )
        .await;
    assert_eq!(all["meta"]["pagination"]["total"], 2);
    store.sandbox.stop().await;
}

// ---------------------------------------------------------------- webhooks

#[tokio::test]
async fn webhook_management_limits_and_ownership() {
    let store = Store::start(Seed::Empty).await;
    let created = store
        .ok(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/order/created", "destination": "https://example.com/a",
                    "is_active": true, "headers": { "X-My-Secret": "s3" } }),
        )
        .await;
    let h = &created["data"];
    assert!(created["meta"].is_object());
    for k in ["id", "created_at", "updated_at"] {
        assert!(h[k].is_u64(), "{k}: {h}");
    }
    assert_eq!(h["client_id"], store.client_id);
    assert_eq!(h["store_hash"], store.hash);
    assert_eq!(h["scope"], "store/order/created");
    assert_eq!(h["headers"]["X-My-Secret"], "s3");
    assert_eq!(h["is_active"], true);
    let id = h["id"].as_u64().unwrap();
    // One per (client, scope, destination).
    let r = store
        .send(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/order/created", "destination": "https://example.com/a" }),
        )
        .await;
    v3_error(r, 422).await;
    // At most 10 per (client, scope).
    for i in 1..10 {
        store
            .ok(
                Method::POST,
                "/v3/hooks",
                json!({ "scope": "store/order/created", "destination": format!("https://example.com/{i}") }),
            )
            .await;
    }
    let r = store
        .send(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/order/created", "destination": "https://example.com/11" }),
        )
        .await;
    v3_error(r, 422).await;
    // Missing scope or destination: 422.
    v3_error(
        store
            .send(
                Method::POST,
                "/v3/hooks",
                json!({ "scope": "store/order/created" }),
            )
            .await,
        422,
    )
    .await;
    // Only the calling client's hooks are listed and reachable.
    let other = store
        .control(
            Method::POST,
            "/api_accounts",
            json!({ "name": "other-app" }),
        )
        .await;
    let other_token = other["access_token"].as_str().unwrap();
    let r = store
        .client
        .get(format!("{}/v3/hooks", store.store))
        .header("X-Auth-Token", other_token)
        .send()
        .await
        .unwrap();
    let theirs: Value = r.json().await.unwrap();
    assert_eq!(theirs["data"], json!([]));
    let r = store
        .client
        .get(format!("{}/v3/hooks/{id}", store.store))
        .header("X-Auth-Token", other_token)
        .send()
        .await
        .unwrap();
    v3_error(r, 404).await;
    let mine = store.ok(Method::GET, "/v3/hooks", Value::Null).await;
    assert_eq!(mine["meta"]["pagination"]["total"], 10);
    // PUT switches it off and on; DELETE answers 200 with the hook.
    let off = store
        .ok(
            Method::PUT,
            &format!("/v3/hooks/{id}"),
            json!({ "is_active": false }),
        )
        .await;
    assert_eq!(off["data"]["is_active"], false);
    let deleted = store
        .ok(Method::DELETE, &format!("/v3/hooks/{id}"), Value::Null)
        .await;
    assert_eq!(deleted["data"]["id"], id);
    v3_error(store.get(&format!("/v3/hooks/{id}")).await, 404).await;
    // /hooks/admin: e-mails and the hooks list with status.
    let r = store
        .send(
            Method::PUT,
            "/v3/hooks/admin",
            json!({ "emails": ["ops@example.com"] }),
        )
        .await;
    assert_eq!(r.status(), 204);
    let admin = store.ok(Method::GET, "/v3/hooks/admin", Value::Null).await;
    assert_eq!(admin["data"]["emails"], json!(["ops@example.com"]));
    assert_eq!(admin["data"]["hooks_list"].as_array().unwrap().len(), 9);
    assert_eq!(admin["data"]["hooks_list"][0]["status"], "active");
    store.sandbox.stop().await;
}

#[tokio::test]
async fn destination_rule_and_answer_shape_variants() {
    let store = Store::start(Seed::Empty).await;
    // Strict: HTTPS on 443 only (§2.7).
    store.settings(json!({ "strict_destinations": true })).await;
    for bad in ["http://example.com/h", "https://example.com:8443/h"] {
        let r = store
            .send(
                Method::POST,
                "/v3/hooks",
                json!({ "scope": "store/order/created", "destination": bad }),
            )
            .await;
        v3_error(r, 422).await;
    }
    for good in ["https://example.com/h", "https://example.com:443/k"] {
        store
            .ok(
                Method::POST,
                "/v3/hooks",
                json!({ "scope": "store/order/created", "destination": good }),
            )
            .await;
    }
    // The docs' examples answer the bare hook (§2.7 sources disagree).
    store.settings(json!({ "hooks_unwrapped": true })).await;
    let h = store
        .ok(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/product/updated", "destination": "https://example.com/p" }),
        )
        .await;
    assert!(h["id"].is_u64(), "{h}");
    assert!(h.get("data").is_none());
    store.sandbox.stop().await;
}

#[tokio::test]
async fn deliveries_carry_standard_webhooks_signatures() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 1).await;
    let receiver = Receiver::start(200).await;
    store
        .ok(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/order/*", "destination": receiver.url,
                    "headers": { "X-My-Secret": "open-sesame" } }),
        )
        .await;
    let order = store.place_order(&[("T-001", 1)]).await;
    let id = order["id"].as_u64().unwrap();
    let got = receiver.wait(1).await;
    let c = &got[0];
    // §2.9: webhook-id, webhook-timestamp, webhook-signature = v1,<base64>.
    let msg_id = c.header("webhook-id").unwrap();
    let ts = c.header("webhook-timestamp").unwrap();
    let sig = c.header("webhook-signature").unwrap();
    let t: i64 = ts.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - t).abs() < 300);
    assert_eq!(
        sig,
        standard_signature(&store.client_secret, msg_id, ts, &c.body)
    );
    assert_ne!(
        sig,
        standard_signature("not-the-secret", msg_id, ts, &c.body)
    );
    assert_eq!(c.header("X-My-Secret"), Some("open-sesame"));
    assert!(c
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    // §2.8: the light payload.
    let p: Value = serde_json::from_slice(&c.body).unwrap();
    assert_eq!(p["scope"], "store/order/created");
    assert!(p["store_id"].is_string());
    assert_eq!(p["data"]["type"], "order");
    assert_eq!(p["data"]["id"], id);
    assert!(p["created_at"].is_i64());
    assert_eq!(p["producer"], format!("stores/{}", store.hash));
    let data = serde_json::to_string(&p["data"]).unwrap();
    let hash: String = sha1::Sha1::digest(data.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(p["hash"], hash);

    // A status change: statusUpdated with previous and new ids.
    store
        .control(
            Method::PUT,
            &format!("/orders/{id}"),
            json!({ "status_id": 2 }),
        )
        .await;
    let got = receiver.wait(4).await;
    let payloads: Vec<Value> = got
        .iter()
        .map(|c| serde_json::from_slice(&c.body).unwrap())
        .collect();
    let status = payloads
        .iter()
        .find(|p| p["scope"] == "store/order/statusUpdated")
        .expect("statusUpdated");
    assert_eq!(status["data"]["status"]["previous_status_id"], 11);
    assert_eq!(status["data"]["status"]["new_status_id"], 2);
    assert!(payloads.iter().any(|p| p["scope"] == "store/order/updated"));
    // The signing can be switched off (older docs: custom headers only).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = receiver.count();
    store.settings(json!({ "sign_deliveries": false })).await;
    store.place_order(&[("T-001", 1)]).await;
    let got = receiver.wait(before + 1).await;
    assert!(got[before].header("webhook-signature").is_none());
    assert!(got[before].header("webhook-id").is_none());
    assert_eq!(got[before].header("X-My-Secret"), Some("open-sesame"));
    store.sandbox.stop().await;
}

#[tokio::test]
async fn refund_stock_and_customer_events_have_their_payloads() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 1).await;
    let receiver = Receiver::start(200).await;
    for scope in [
        "store/order/refund/created",
        "store/product/inventory/updated",
        "store/customer/created",
    ] {
        store
            .ok(
                Method::POST,
                "/v3/hooks",
                json!({ "scope": scope, "destination": receiver.url }),
            )
            .await;
    }
    let order = store.place_order(&[("T-001", 2)]).await;
    let id = order["id"].as_u64().unwrap();
    store
        .control(
            Method::POST,
            &format!("/orders/{id}/refunds"),
            json!({ "amount": "5.00" }),
        )
        .await;
    store
        .control(
            Method::POST,
            "/stock",
            json!({ "sku": "T-001", "quantity": 9 }),
        )
        .await;
    store
        .ok(
            Method::POST,
            "/v3/customers",
            json!([{ "email": "c@example.com", "first_name": "C", "last_name": "D" }]),
        )
        .await;
    let got = receiver.wait(3).await;
    let payloads: Vec<Value> = got
        .iter()
        .map(|c| serde_json::from_slice(&c.body).unwrap())
        .collect();
    let find = |scope: &str| {
        payloads
            .iter()
            .find(|p| p["scope"] == scope)
            .unwrap_or_else(|| panic!("{scope}: {payloads:?}"))
            .clone()
    };
    let refund = find("store/order/refund/created");
    assert_eq!(refund["data"]["id"], id);
    assert!(refund["data"]["refund"]["refund_id"].is_u64());
    let stock = find("store/product/inventory/updated");
    assert_eq!(stock["data"]["type"], "product");
    assert_eq!(stock["data"]["inventory"]["method"], "absolute");
    assert_eq!(stock["data"]["inventory"]["value"], 9);
    let customer = find("store/customer/created");
    assert_eq!(customer["data"]["type"], "customer");
    store.sandbox.stop().await;
}

#[tokio::test]
async fn failures_are_retried_on_the_schedule_then_the_hook_is_deactivated() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 1).await;
    // The real schedule starts 60 s, 180 s, ... (§2.10); shortened here.
    let defaults = store.control(Method::GET, "/settings", Value::Null).await;
    assert_eq!(defaults["retry_delays_ms"][0], 60_000);
    assert_eq!(defaults["retry_delays_ms"].as_array().unwrap().len(), 11);
    assert_eq!(defaults["retry_delays_ms"][10], 86_400_000);
    store
        .settings(json!({ "retry_delays_ms": [20, 20, 20] }))
        .await;
    store
        .ok(
            Method::PUT,
            "/v3/hooks/admin",
            json!({ "emails": ["ops@example.com"] }),
        )
        .await;
    let receiver = Receiver::start(500).await;
    let hook = store
        .ok(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/order/created", "destination": receiver.url }),
        )
        .await;
    let hook_id = hook["data"]["id"].as_u64().unwrap();
    store.place_order(&[("T-001", 1)]).await;
    // 1 attempt + 3 retries, all with the same webhook-id.
    let got = receiver.wait(4).await;
    let ids: Vec<&str> = got
        .iter()
        .map(|c| c.header("webhook-id").unwrap())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let attempts = store.wait_deliveries(4).await;
    assert_eq!(attempts[3]["attempt"], 3);
    assert_eq!(attempts[3]["hook_active"], false);
    let h = store
        .ok(Method::GET, &format!("/v3/hooks/{hook_id}"), Value::Null)
        .await;
    assert_eq!(h["data"]["is_active"], false);
    let admin = store.ok(Method::GET, "/v3/hooks/admin", Value::Null).await;
    assert_eq!(admin["data"]["hooks_list"][0]["status"], "deactivated");
    let notices = store.control(Method::GET, "/notices", Value::Null).await;
    assert_eq!(notices[0]["to"], json!(["ops@example.com"]));
    // Nothing more is sent while deactivated; re-activation with PUT.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.count(), 4);
    store.place_order(&[("T-001", 1)]).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(receiver.count(), 4);
    receiver.status.store(204, Ordering::SeqCst);
    store
        .ok(
            Method::PUT,
            &format!("/v3/hooks/{hook_id}"),
            json!({ "is_active": true }),
        )
        .await;
    store.place_order(&[("T-001", 1)]).await;
    receiver.wait(5).await;
    // A success after a retry stops the retries (any 2xx counts).
    store
        .settings(json!({ "retry_delays_ms": [30, 30, 30] }))
        .await;
    receiver.status.store(503, Ordering::SeqCst);
    store.place_order(&[("T-001", 1)]).await;
    receiver.wait(6).await;
    receiver.status.store(202, Ordering::SeqCst);
    receiver.wait(7).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(receiver.count(), 7);
    let h = store
        .ok(Method::GET, &format!("/v3/hooks/{hook_id}"), Value::Null)
        .await;
    assert_eq!(h["data"]["is_active"], true);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn a_failing_domain_is_blocklisted() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 1).await;
    // §2.10 evaluates after 100 requests in 2 minutes; lowered to 4 here.
    store
        .settings(json!({ "blocklist_min_requests": 4, "retry_delays_ms": [60000] }))
        .await;
    let receiver = Receiver::start(500).await;
    for path in ["a", "b", "c", "d"] {
        store
            .ok(
                Method::POST,
                "/v3/hooks",
                json!({ "scope": "store/order/created", "destination": format!("{}/{path}", receiver.url) }),
            )
            .await;
    }
    store.place_order(&[("T-001", 1)]).await;
    receiver.wait(4).await;
    store.wait_deliveries(4).await;
    let admin = store.ok(Method::GET, "/v3/hooks/admin", Value::Null).await;
    let blocked = &admin["data"]["blocked_domains"];
    assert_eq!(blocked.as_array().unwrap().len(), 1, "{admin}");
    assert_eq!(blocked[0]["destination"], "127.0.0.1");
    assert!(blocked[0]["time_left"].as_u64().unwrap() <= 180);
    assert_eq!(blocked[0]["reasons"][0]["count"], 4);
    // While blocklisted, nothing is sent: the events wait for retries.
    receiver.status.store(200, Ordering::SeqCst);
    store.place_order(&[("T-001", 1)]).await;
    let attempts = store.wait_deliveries(8).await;
    assert!(attempts[4..].iter().all(|a| a["blocked"] == true));
    assert_eq!(receiver.count(), 4);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn a_delivery_failure_fault_counts_as_a_failure() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 1).await;
    store.settings(json!({ "retry_delays_ms": [] })).await;
    let receiver = Receiver::start(200).await;
    store
        .ok(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/order/created", "destination": receiver.url }),
        )
        .await;
    let r = store
        .client
        .post(format!("http://{}/_sandbox/faults", store.sandbox.addr()))
        .json(&json!({ "system": "bigcommerce", "type": "delivery_failure", "status": 0, "times": 1 }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    store.place_order(&[("T-001", 1)]).await;
    let attempts = store.wait_deliveries(1).await;
    assert_eq!(attempts[0]["fault_injected"], true);
    assert_eq!(attempts[0]["success"], false);
    // No retries configured: deactivated after the first failure.
    assert_eq!(attempts[0]["hook_active"], false);
    assert_eq!(receiver.count(), 0);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn accepted_writes_are_in_the_received_log() {
    let store = Store::start(Seed::Empty).await;
    store
        .ok(
            Method::POST,
            "/v3/customers",
            json!([{ "email": "r@example.com", "first_name": "R", "last_name": "S" }]),
        )
        .await;
    let log: Value = store
        .client
        .get(format!(
            "http://{}/_sandbox/bigcommerce/received",
            store.sandbox.addr()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    store.sandbox.stop().await;
}

#[tokio::test]
async fn merchant_edits_and_transactions_fire_their_scopes() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 1).await;
    let customers = store
        .control(
            Method::POST,
            "/customers",
            json!({ "email": "e@example.com", "first_name": "E", "last_name": "F" }),
        )
        .await;
    let customer = customers[0]["id"].as_u64().unwrap();
    let receiver = Receiver::start(200).await;
    for scope in [
        "store/product/*",
        "store/customer/updated",
        "store/order/transaction/created",
    ] {
        store
            .ok(
                Method::POST,
                "/v3/hooks",
                json!({ "scope": scope, "destination": receiver.url }),
            )
            .await;
    }
    let product = store
        .ok(Method::GET, "/v3/catalog/products?sku=T-001", Value::Null)
        .await["data"][0]["id"]
        .as_u64()
        .unwrap();
    store
        .control(
            Method::PUT,
            &format!("/products/{product}"),
            json!({ "price": "11.00", "inventory_level": 3 }),
        )
        .await;
    store
        .control(
            Method::PUT,
            &format!("/customers/{customer}"),
            json!({ "company": "Initech" }),
        )
        .await;
    let order = store.place_order(&[("T-001", 1)]).await;
    // product/updated, product/inventory/updated, customer/updated,
    // product/inventory/order/updated, order/transaction/created.
    let got = receiver.wait(5).await;
    let payloads: Vec<Value> = got
        .iter()
        .map(|c| serde_json::from_slice(&c.body).unwrap())
        .collect();
    let scopes: Vec<&str> = payloads
        .iter()
        .map(|p| p["scope"].as_str().unwrap())
        .collect();
    for s in [
        "store/product/updated",
        "store/product/inventory/updated",
        "store/customer/updated",
        "store/product/inventory/order/updated",
        "store/order/transaction/created",
    ] {
        assert!(scopes.contains(&s), "{s}: {scopes:?}");
    }
    let tx = payloads
        .iter()
        .find(|p| p["scope"] == "store/order/transaction/created")
        .unwrap();
    // §2.8: order_id is a string in transaction payloads.
    assert_eq!(tx["data"]["type"], "transaction");
    assert_eq!(tx["data"]["order_id"], order["id"].to_string());
    let sold = payloads
        .iter()
        .find(|p| p["scope"] == "store/product/inventory/order/updated")
        .unwrap();
    assert_eq!(sold["data"]["inventory"]["method"], "relative");
    assert_eq!(sold["data"]["inventory"]["value"], -1);
    let p = store
        .ok(
            Method::GET,
            &format!("/v3/catalog/products/{product}"),
            Value::Null,
        )
        .await;
    assert_eq!(p["data"]["price"], 11.0);
    assert_eq!(p["data"]["inventory_level"], 2);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn payload_created_at_can_be_omitted_as_some_docs_show() {
    let store = Store::start(Seed::Empty).await;
    seed_products(&store, 1).await;
    store.settings(json!({ "payload_created_at": false })).await;
    let receiver = Receiver::start(200).await;
    store
        .ok(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/order/created", "destination": receiver.url }),
        )
        .await;
    store.place_order(&[("T-001", 1)]).await;
    let got = receiver.wait(1).await;
    let p: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert!(p.get("created_at").is_none(), "{p}");
    assert!(p["hash"].is_string());
    store.sandbox.stop().await;
}

#[tokio::test]
async fn a_hook_idle_for_90_days_is_deactivated() {
    let store = Store::start(Seed::Empty).await;
    let receiver = Receiver::start(200).await;
    let busy = store
        .ok(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/order/created", "destination": receiver.url }),
        )
        .await["data"]["id"]
        .as_u64()
        .unwrap();
    let idle = store
        .ok(
            Method::POST,
            "/v3/hooks",
            json!({ "scope": "store/customer/deleted", "destination": "https://example.com/idle" }),
        )
        .await["data"]["id"]
        .as_u64()
        .unwrap();
    let out = store
        .control(Method::POST, "/hooks/age", json!({ "days": 89 }))
        .await;
    assert_eq!(out["deactivated"], json!([]));
    // An event for the busy hook, then the 90th idle day of the other.
    store
        .control(Method::POST, "/products", json!({ "sku": "X1" }))
        .await;
    store.place_order(&[("X1", 1)]).await;
    receiver.wait(1).await;
    let out = store
        .control(Method::POST, "/hooks/age", json!({ "days": 1 }))
        .await;
    assert_eq!(out["deactivated"], json!([idle]));
    let h = store
        .ok(Method::GET, &format!("/v3/hooks/{idle}"), Value::Null)
        .await;
    assert_eq!(h["data"]["is_active"], false);
    let h = store
        .ok(Method::GET, &format!("/v3/hooks/{busy}"), Value::Null)
        .await;
    assert_eq!(h["data"]["is_active"], true);
    store.sandbox.stop().await;
}
