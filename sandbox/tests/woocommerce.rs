//! Contract tests of the WooCommerce simulator, written from
//! `shared/systems/commerce.md` §0 and §1 (not from the implementation):
//! real HTTP against a started sandbox, webhook deliveries captured by an
//! in-test receiver.

mod support;
use support::Receiver;

use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed, System};
use serde_json::{json, Value};
use sha2::Sha256;

struct Store {
    sandbox: Sandbox,
    client: reqwest::Client,
    api: String,
    control: String,
    key: String,
    secret: String,
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
        let creds = &manifest["woocommerce"];
        let base = creds["base_url"]
            .as_str()
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        assert_eq!(
            base,
            sandbox.base_url(System::Woocommerce).trim_end_matches('/')
        );
        Store {
            api: format!("{base}/wp-json/wc/v3"),
            control: format!("http://{}/_sandbox/woocommerce", sandbox.addr()),
            key: creds["consumer_key"].as_str().unwrap().to_string(),
            secret: creds["consumer_secret"].as_str().unwrap().to_string(),
            client: reqwest::Client::new(),
            sandbox,
        }
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.api))
            .basic_auth(&self.key, Some(&self.secret))
    }

    fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.api))
            .basic_auth(&self.key, Some(&self.secret))
            .json(&body)
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .client
            .request(method, format!("{}{path}", self.control))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "control {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn seed_products(&self, n: usize) -> Vec<Value> {
        let products: Vec<Value> = (1..=n)
            .map(|i| json!({ "sku": format!("T{i:03}"), "name": format!("Thing {i}"), "regular_price": "10.00", "stock_quantity": 50 }))
            .collect();
        let out = self
            .control(reqwest::Method::POST, "/products", json!(products))
            .await;
        out.as_array().unwrap().clone()
    }

    async fn place_order(&self, body: Value) -> Value {
        self.control(reqwest::Method::POST, "/orders", body).await
    }

    async fn deliveries(&self, kind: &str) -> Vec<Value> {
        let url = format!("{}/deliveries?kind={kind}", self.control);
        self.client
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn wait_deliveries(&self, kind: &str, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let d = self.deliveries(kind).await;
            if d.len() >= n {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} {kind} records");
    }
}

async fn error_body(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    // Facts §1.1: {"code", "message", "data": {"status"}}.
    assert!(body["code"].is_string(), "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body["data"]["status"], status, "{body}");
    body
}

// ---------------------------------------------------------------- receiver

// ------------------------------------------------------------------- OAuth

/// RFC 3986 encoding as PHP's rawurlencode.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The facts' base string (§1.2): METHOD & enc(url) & params sorted by
/// encoded key, each pair enc(enc(k)=enc(v)), joined with %26; key
/// `secret&`; signature base64(HMAC).
fn oauth_sign(method: &str, url: &str, params: &[(String, String)], secret: &str) -> String {
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    encoded.sort();
    let joined: Vec<String> = encoded
        .iter()
        .map(|(k, v)| enc(&format!("{k}={v}")))
        .collect();
    let base = format!("{method}&{}&{}", enc(url), joined.join("%26"));
    let key = format!("{secret}&");
    let sha1 = params
        .iter()
        .any(|(k, v)| k == "oauth_signature_method" && v == "HMAC-SHA1");
    let digest = if sha1 {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(base.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(base.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn oauth_params(key: &str, nonce: &str, timestamp: i64, method: &str) -> Vec<(String, String)> {
    vec![
        ("oauth_consumer_key".into(), key.into()),
        ("oauth_nonce".into(), nonce.into()),
        ("oauth_signature_method".into(), method.into()),
        ("oauth_timestamp".into(), timestamp.to_string()),
    ]
}

fn query_of(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

// ------------------------------------------------------------------- tests

#[tokio::test]
async fn basic_and_query_string_auth_accepted_and_refused() {
    let store = Store::start(Seed::Empty).await;
    let url = format!("{}/orders", store.api);

    let ok = store.get("/orders").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap(), json!([]));

    let wrong = store
        .client
        .get(&url)
        .basic_auth(&store.key, Some("cs_wrong"))
        .send()
        .await
        .unwrap();
    let body = error_body(wrong, 401).await;
    assert_eq!(body["code"], "woocommerce_rest_authentication_error");
    assert_eq!(body["message"], "Consumer secret is invalid.");

    let anonymous = store.client.get(&url).send().await.unwrap();
    let body = error_body(anonymous, 401).await;
    assert_eq!(body["code"], "woocommerce_rest_cannot_view");

    // An unknown key falls through to the route's permission check.
    let unknown = store
        .client
        .get(&url)
        .basic_auth("ck_unknown", Some(&store.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(unknown, 401).await["code"],
        "woocommerce_rest_cannot_view"
    );

    let query = store
        .client
        .get(format!(
            "{url}?consumer_key={}&consumer_secret={}",
            store.key, store.secret
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);
    let query_wrong = store
        .client
        .get(format!(
            "{url}?consumer_key={}&consumer_secret=cs_nope",
            store.key
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(query_wrong, 401).await["message"],
        "Consumer secret is invalid."
    );

    // Plain HTTP: Basic and query string are not accepted (facts §1.2) ...
    store
        .control(
            reqwest::Method::PUT,
            "/settings",
            json!({ "transport": "http" }),
        )
        .await;
    let plain = store.get("/orders").send().await.unwrap();
    assert_eq!(
        error_body(plain, 401).await["code"],
        "woocommerce_rest_cannot_view"
    );
    let plain_query = store
        .client
        .get(format!(
            "{url}?consumer_key={}&consumer_secret={}",
            store.key, store.secret
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(plain_query.status(), 401);
    // ... unless a proxy says the request came over HTTPS.
    let forwarded = store
        .get("/orders")
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 200);

    // A read-only key cannot write.
    let read_only = store
        .control(
            reqwest::Method::POST,
            "/keys",
            json!({ "permissions": "read" }),
        )
        .await;
    store
        .control(
            reqwest::Method::PUT,
            "/settings",
            json!({ "transport": "https" }),
        )
        .await;
    let refused = store
        .client
        .post(format!("{}/products", store.api))
        .basic_auth(
            read_only["consumer_key"].as_str().unwrap(),
            read_only["consumer_secret"].as_str(),
        )
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    let body = error_body(refused, 401).await;
    assert_eq!(
        body["message"],
        "The API key provided does not have write permissions."
    );
    store.sandbox.stop().await;
}

#[tokio::test]
async fn oauth_one_legged_accepted_and_refused() {
    let store = Store::start(Seed::Empty).await;
    store
        .control(
            reqwest::Method::PUT,
            "/settings",
            json!({ "transport": "http" }),
        )
        .await;
    store.seed_products(3).await;
    let url = format!("{}/products", store.api);
    let now = chrono::Utc::now().timestamp();

    // HMAC-SHA256, params in the query string, a non-OAuth param signed too.
    let mut params = oauth_params(&store.key, "nonce-1", now, "HMAC-SHA256");
    params.push(("per_page".into(), "2".into()));
    params.push(("search".into(), "Thing 1".into()));
    let signature = oauth_sign("GET", &url, &params, &store.secret);
    let mut signed = params.clone();
    signed.push(("oauth_signature".into(), signature));
    let ok = store
        .client
        .get(format!("{url}?{}", query_of(&signed)))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<Value>().await.unwrap().as_array().unwrap().len(),
        1
    );

    // HMAC-SHA1, the other method the facts list.
    let sha1_params = oauth_params(&store.key, "nonce-1-sha1", now, "HMAC-SHA1");
    let mut sha1_signed = sha1_params.clone();
    sha1_signed.push((
        "oauth_signature".into(),
        oauth_sign("GET", &url, &sha1_params, &store.secret),
    ));
    let ok = store
        .client
        .get(format!("{url}?{}", query_of(&sha1_signed)))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "HMAC-SHA1 signature accepted");

    // The same nonce again.
    let replay = store
        .client
        .get(format!("{url}?{}", query_of(&signed)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(replay, 401).await["message"],
        "Invalid nonce - nonce has already been used."
    );

    // A wrong signature.
    let mut bad = oauth_params(&store.key, "nonce-2", now, "HMAC-SHA256");
    bad.push(("oauth_signature".into(), "AAAA".into()));
    let refused = store
        .client
        .get(format!("{url}?{}", query_of(&bad)))
        .send()
        .await
        .unwrap();
    let body = error_body(refused, 401).await;
    assert_eq!(body["code"], "woocommerce_rest_authentication_error");
    assert_eq!(
        body["message"],
        "Invalid signature - provided signature does not match."
    );

    // A timestamp outside the 15-minute window.
    let old = oauth_params(&store.key, "nonce-3", now - 16 * 60, "HMAC-SHA256");
    let mut old_signed = old.clone();
    old_signed.push((
        "oauth_signature".into(),
        oauth_sign("GET", &url, &old, &store.secret),
    ));
    let stale = store
        .client
        .get(format!("{url}?{}", query_of(&old_signed)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(stale, 401).await["message"],
        "Invalid timestamp."
    );

    // An unsupported method, a missing parameter, an unknown key.
    let mut plain = oauth_params(&store.key, "nonce-4", now, "PLAINTEXT");
    plain.push(("oauth_signature".into(), "x".into()));
    let r = store
        .client
        .get(format!("{url}?{}", query_of(&plain)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(r, 401).await["message"],
        "Invalid signature - signature method is invalid."
    );
    let partial = vec![("oauth_consumer_key".to_string(), store.key.clone())];
    let r = store
        .client
        .get(format!("{url}?{}", query_of(&partial)))
        .send()
        .await
        .unwrap();
    let body = error_body(r, 401).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Missing OAuth parameter"),
        "{body}"
    );
    let mut unknown = oauth_params("ck_nobody", "nonce-5", now, "HMAC-SHA256");
    unknown.push(("oauth_signature".into(), "x".into()));
    let r = store
        .client
        .get(format!("{url}?{}", query_of(&unknown)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(r, 401).await["message"],
        "Consumer key is invalid."
    );

    // The Authorization: OAuth header carries the params too; a JSON body
    // is not signed.
    let product_id = store
        .get("/products")
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let id = product_id.json::<Value>().await.unwrap()[0]["id"]
        .as_u64()
        .unwrap();
    let put_url = format!("{url}/{id}");
    let header_params = oauth_params(&store.key, "nonce-6", now, "HMAC-SHA256");
    let signature = oauth_sign("PUT", &put_url, &header_params, &store.secret);
    let header = format!(
        "OAuth {}, oauth_signature=\"{}\"",
        header_params
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", enc(v)))
            .collect::<Vec<_>>()
            .join(", "),
        enc(&signature)
    );
    let put = store
        .client
        .put(&put_url)
        .header("Authorization", header)
        .json(&json!({ "regular_price": "19.99" }))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(put.json::<Value>().await.unwrap()["regular_price"], "19.99");

    // In the default (auto) transport, Basic and OAuth both work.
    store
        .control(
            reqwest::Method::PUT,
            "/settings",
            json!({ "transport": "auto" }),
        )
        .await;
    assert_eq!(store.get("/products").send().await.unwrap().status(), 200);
    let again = oauth_params(&store.key, "nonce-7", now, "HMAC-SHA256");
    let mut again_signed = again.clone();
    again_signed.push((
        "oauth_signature".into(),
        oauth_sign("GET", &url, &again, &store.secret),
    ));
    let r = store
        .client
        .get(format!("{url}?{}", query_of(&again_signed)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    store.sandbox.stop().await;
}

#[tokio::test]
async fn orders_page_to_the_last_page_with_wp_headers() {
    let store = Store::start(Seed::Empty).await;
    store.seed_products(2).await;
    for _ in 0..23 {
        store
            .place_order(json!({ "customer_email": "guest@example.com", "lines": [{ "sku": "T001", "quantity": 1 }] }))
            .await;
    }
    let first = store.get("/orders?per_page=10").send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["x-wp-total"], "23");
    assert_eq!(first.headers()["x-wp-totalpages"], "3");
    assert!(first.headers()["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"next\""));
    let mut seen = Vec::new();
    for page in 1..=3 {
        let r = store
            .get(&format!("/orders?per_page=10&page={page}"))
            .send()
            .await
            .unwrap();
        let items: Vec<Value> = r.json().await.unwrap();
        assert_eq!(items.len(), if page == 3 { 3 } else { 10 });
        seen.extend(items.iter().map(|o| o["id"].as_u64().unwrap()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 23);
    let last = store
        .get("/orders?per_page=10&page=3")
        .send()
        .await
        .unwrap();
    let link = last.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("rel=\"prev\"") && !link.contains("rel=\"next\""),
        "{link}"
    );

    let too_many = store.get("/orders?per_page=101").send().await.unwrap();
    assert_eq!(
        error_body(too_many, 400).await["code"],
        "rest_invalid_param"
    );
    store.sandbox.stop().await;
}

#[tokio::test]
async fn modified_after_selects_changed_orders() {
    let store = Store::start(Seed::Empty).await;
    store.seed_products(1).await;
    let mut ids = Vec::new();
    for day in 1..=3 {
        let o = store
            .place_order(json!({
                "customer_email": "a@example.com",
                "lines": [{ "sku": "T001", "quantity": 1 }],
                "date_created_gmt": format!("2024-01-0{day}T12:00:00"),
            }))
            .await;
        ids.push(o["id"].as_u64().unwrap());
    }
    let after = |q: &str| {
        let path = format!(
            "/orders?modified_after={q}&dates_are_gmt=true&orderby=modified&order=asc&per_page=100"
        );
        store.get(&path)
    };
    let got: Vec<Value> = after("2024-01-01T12:00:00")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<u64> = got.iter().map(|o| o["id"].as_u64().unwrap()).collect();
    assert_eq!(got, vec![ids[1], ids[2]]);

    store
        .control(
            reqwest::Method::PUT,
            &format!("/orders/{}", ids[0]),
            json!({ "status": "completed" }),
        )
        .await;
    let got: Vec<Value> = after("2025-01-01T00:00:00Z")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["id"], ids[0]);
    assert_eq!(got[0]["status"], "completed");
    store.sandbox.stop().await;
}

#[tokio::test]
async fn an_order_has_the_documented_field_names_and_types() {
    let store = Store::start(Seed::Empty).await;
    store.seed_products(2).await;
    let customer = store
        .control(
            reqwest::Method::POST,
            "/customers",
            json!({ "email": "john.doe@example.com", "first_name": "John", "last_name": "Doe",
                    "billing": { "address_1": "969 Market", "city": "San Francisco", "state": "CA",
                                 "postcode": "94103", "country": "US", "phone": "(555) 555-5555" } }),
        )
        .await;
    let customer_id = customer[0]["id"].as_u64().unwrap();
    let placed = store
        .place_order(json!({
            "customer_id": customer_id,
            "lines": [{ "sku": "T001", "quantity": 2 }, { "sku": "T002", "quantity": 1 }],
            "shipping_total": "10.00",
            "tax_rate": "7.5",
        }))
        .await;
    let id = placed["id"].as_u64().unwrap();
    let o: Value = store
        .get(&format!("/orders/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(o["id"], id);
    assert!(o["number"].is_string());
    assert!(o["parent_id"].is_u64());
    assert_eq!(o["customer_id"], customer_id);
    assert!(o["prices_include_tax"].is_boolean());
    for money in [
        "discount_total",
        "shipping_total",
        "shipping_tax",
        "cart_tax",
        "total",
        "total_tax",
    ] {
        let s = o[money]
            .as_str()
            .unwrap_or_else(|| panic!("{money} not a string"));
        assert!(
            s.contains('.') && s.split('.').nth(1).unwrap().len() == 2,
            "{money}={s}"
        );
    }
    // 30.00 of goods, 7.5% tax on goods (2.25) and shipping (0.75), 10.00 shipping.
    assert_eq!(o["total"], "43.00");
    assert_eq!(o["cart_tax"], "2.25");
    assert_eq!(o["total_tax"], "3.00");
    let date = regex_like_date(o["date_created"].as_str().unwrap());
    assert!(
        date && regex_like_date(o["date_created_gmt"].as_str().unwrap()),
        "{o}"
    );
    assert!(regex_like_date(o["date_modified_gmt"].as_str().unwrap()));
    assert!(o["date_completed"].is_null());
    assert_eq!(o["billing"]["email"], "john.doe@example.com");
    assert!(o["shipping"].get("email").is_none());
    let line = &o["line_items"][0];
    assert!(line["id"].is_u64() && line["product_id"].is_u64() && line["quantity"].is_i64());
    assert_eq!(line["sku"], "T001");
    assert_eq!(line["subtotal"], "20.00");
    assert_eq!(line["total"], "20.00");
    assert!(line["price"].is_number(), "price is a number: {line}");
    assert!(o["refunds"].is_array() && o["meta_data"].is_array() && o["shipping_lines"].is_array());
    assert!(o["_links"]["self"][0]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/wp-json/wc/v3/orders/{id}")));

    let missing = store.get("/orders/999999").send().await.unwrap();
    assert_eq!(
        error_body(missing, 404).await["code"],
        "woocommerce_rest_shop_order_invalid_id"
    );
    let bad_put = store
        .send(
            reqwest::Method::PUT,
            "/orders/999999",
            json!({ "status": "completed" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(bad_put, 400).await["code"],
        "woocommerce_rest_shop_order_invalid_id"
    );

    // A refund: the resource under the order, and the order's summary.
    store
        .control(
            reqwest::Method::POST,
            &format!("/orders/{id}/refunds"),
            json!({ "amount": "5.00", "reason": "damaged" }),
        )
        .await;
    let refunds: Vec<Value> = store
        .get(&format!("/orders/{id}/refunds"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["amount"], "5.00");
    assert_eq!(refunds[0]["reason"], "damaged");
    let o: Value = store
        .get(&format!("/orders/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(o["refunds"][0]["total"], "-5.00");
    store.sandbox.stop().await;
}

fn regex_like_date(s: &str) -> bool {
    // YYYY-MM-DDTHH:MM:SS, no offset.
    s.len() == 19 && chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").is_ok()
}

#[tokio::test]
async fn products_by_sku_and_batch_price_and_stock() {
    let store = Store::start(Seed::Empty).await;
    let products = store.seed_products(3).await;
    let (a, b) = (
        products[0]["id"].as_u64().unwrap(),
        products[1]["id"].as_u64().unwrap(),
    );

    let by_sku: Vec<Value> = store
        .get("/products?sku=T002")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_sku.len(), 1);
    assert_eq!(by_sku[0]["id"], b);
    assert_eq!(by_sku[0]["regular_price"], "10.00");
    assert_eq!(by_sku[0]["price"], "10.00");
    assert_eq!(by_sku[0]["stock_quantity"], 50);
    assert_eq!(by_sku[0]["manage_stock"], true);
    let none: Vec<Value> = store
        .get("/products?sku=NOPE")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());

    let batch = store
        .send(
            reqwest::Method::POST,
            "/products/batch",
            json!({ "update": [
                { "id": a, "regular_price": "12.00", "stock_quantity": 7, "manage_stock": true },
                { "id": b, "stock_quantity": 0, "manage_stock": true },
                { "id": 999999, "regular_price": "1.00" },
            ] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), 200);
    let batch: Value = batch.json().await.unwrap();
    let updated = batch["update"].as_array().unwrap();
    assert_eq!(updated.len(), 3);
    assert_eq!(updated[0]["regular_price"], "12.00");
    assert_eq!(updated[2]["id"], 999999);
    assert_eq!(
        updated[2]["error"]["code"],
        "woocommerce_rest_product_invalid_id"
    );
    assert_eq!(updated[2]["error"]["data"]["status"], 400);

    let a_now: Value = store
        .get(&format!("/products/{a}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a_now["regular_price"], "12.00");
    assert_eq!(a_now["price"], "12.00");
    assert_eq!(a_now["stock_quantity"], 7);
    let b_now: Vec<Value> = store
        .get("/products?sku=T002")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b_now[0]["stock_quantity"], 0);
    assert_eq!(b_now[0]["stock_status"], "outofstock");

    // A number where a string is expected is refused by the schema.
    let typed = store
        .send(
            reqwest::Method::PUT,
            &format!("/products/{a}"),
            json!({ "regular_price": 12 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(typed, 400).await["code"], "rest_invalid_param");

    // 100 items at most across create+update+delete (facts §1.5).
    let updates: Vec<Value> = (0..101)
        .map(|_| json!({ "id": a, "stock_quantity": 1 }))
        .collect();
    let too_big = store
        .send(
            reqwest::Method::POST,
            "/products/batch",
            json!({ "update": updates }),
        )
        .send()
        .await
        .unwrap();
    let body = error_body(too_big, 413).await;
    assert_eq!(body["code"], "woocommerce_rest_request_entity_too_large");
    assert_eq!(
        body["message"],
        "Unable to accept more than 100 items for this request."
    );
    store.sandbox.stop().await;
}

#[tokio::test]
async fn webhook_crud_and_unsigned_ping() {
    let store = Store::start(Seed::Empty).await;
    let receiver = Receiver::start(200).await;

    let invalid = store
        .send(
            reqwest::Method::POST,
            "/webhooks",
            json!({ "topic": "order.exploded", "delivery_url": receiver.url }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(invalid, 400).await["code"],
        "woocommerce_rest_shop_webhook_invalid_topic"
    );
    let bad_url = store
        .send(
            reqwest::Method::POST,
            "/webhooks",
            json!({ "topic": "order.created", "delivery_url": "ftp://x" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(bad_url, 400).await["code"],
        "woocommerce_rest_shop_webhook_invalid_delivery_url"
    );

    let created = store
        .send(
            reqwest::Method::POST,
            "/webhooks",
            json!({ "name": "Orders", "topic": "order.created", "delivery_url": receiver.url, "secret": "s3cret" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = {
        let location = created.headers()["location"].to_str().unwrap().to_string();
        let body: Value = created.json().await.unwrap();
        assert!(location.ends_with(&format!("/wp-json/wc/v3/webhooks/{}", body["id"])));
        assert_eq!(body["status"], "active");
        assert_eq!(body["resource"], "order");
        assert_eq!(body["event"], "created");
        assert_eq!(body["hooks"], json!(["woocommerce_new_order"]));
        body["id"].as_u64().unwrap()
    };

    // The ping (facts §0 #3, §1.10): form body webhook_id=N, no X-WC headers.
    let ping = &receiver.wait(1).await[0];
    assert_eq!(
        String::from_utf8_lossy(&ping.body),
        format!("webhook_id={id}")
    );
    assert!(ping.header("X-WC-Webhook-Signature").is_none());
    assert!(ping
        .headers
        .iter()
        .all(|(k, _)| !k.to_lowercase().starts_with("x-wc-webhook")));
    assert!(ping.header("user-agent").unwrap().contains("Hookshot"));
    assert_eq!(store.deliveries("ping").await.len(), 1);

    // GET never shows the secret; the list carries the WP headers.
    let got: Value = store
        .get(&format!("/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["delivery_url"], receiver.url);
    assert!(got.get("secret").is_none());
    let list = store.get("/webhooks").send().await.unwrap();
    assert_eq!(list.headers()["x-wp-total"], "1");
    let paused = store
        .send(
            reqwest::Method::PUT,
            &format!("/webhooks/{id}"),
            json!({ "status": "paused" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(paused.json::<Value>().await.unwrap()["status"], "paused");
    let bad_status = store
        .send(
            reqwest::Method::PUT,
            &format!("/webhooks/{id}"),
            json!({ "status": "sleeping" }),
        )
        .send()
        .await
        .unwrap();
    error_body(bad_status, 400).await;
    let unknown = store
        .send(
            reqwest::Method::PUT,
            "/webhooks/9999",
            json!({ "status": "active" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(unknown, 400).await["message"], "ID is invalid.");

    let trash = store
        .send(
            reqwest::Method::DELETE,
            &format!("/webhooks/{id}"),
            json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(trash, 501).await["code"],
        "woocommerce_rest_trash_not_supported"
    );
    let deleted = store
        .send(
            reqwest::Method::DELETE,
            &format!("/webhooks/{id}?force=true"),
            json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let gone = store.get(&format!("/webhooks/{id}")).send().await.unwrap();
    error_body(gone, 404).await;
    receiver.handle.stop(false).await;
    store.sandbox.stop().await;
}

#[tokio::test]
async fn a_delivery_is_signed_over_the_raw_body() {
    let store = Store::start(Seed::Empty).await;
    store.seed_products(1).await;
    let receiver = Receiver::start(200).await;
    let secret = "my & secret/with+chars";
    let created = store
        .send(
            reqwest::Method::POST,
            "/webhooks",
            json!({ "topic": "order.created", "delivery_url": receiver.url, "secret": secret }),
        )
        .send()
        .await
        .unwrap();
    let webhook_id = created.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    receiver.wait(1).await; // the ping

    let order = store
        .place_order(json!({ "customer_email": "x@example.com", "lines": [{ "sku": "T001", "quantity": 3 }] }))
        .await;
    let delivery = receiver.wait(2).await[1].clone();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&delivery.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        delivery.header("X-WC-Webhook-Signature"),
        Some(expected.as_str())
    );
    assert_eq!(delivery.header("X-WC-Webhook-Topic"), Some("order.created"));
    assert_eq!(delivery.header("X-WC-Webhook-Resource"), Some("order"));
    assert_eq!(delivery.header("X-WC-Webhook-Event"), Some("created"));
    assert_eq!(
        delivery.header("X-WC-Webhook-ID"),
        Some(webhook_id.to_string().as_str())
    );
    let source = delivery.header("X-WC-Webhook-Source").unwrap();
    assert!(source.ends_with("/woocommerce/"), "{source}");
    let delivery_id = delivery.header("X-WC-Webhook-Delivery-ID").unwrap();
    assert!(delivery_id.len() == 32 && delivery_id.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(delivery
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    // PHP json_encode escapes slashes.
    assert!(
        String::from_utf8_lossy(&delivery.body).contains("https:\\/\\/")
            || String::from_utf8_lossy(&delivery.body).contains("http:\\/\\/")
    );
    let payload: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(payload["id"], order["id"]);
    assert_eq!(payload["line_items"][0]["quantity"], 3);

    // The store recorded the delivery as a success (200).
    let recorded = store.wait_deliveries("delivery", 1).await;
    assert_eq!(recorded[0]["success"], true);
    receiver.handle.stop(false).await;
    store.sandbox.stop().await;
}

#[tokio::test]
async fn a_webhook_is_disabled_on_the_seventh_consecutive_failure() {
    let store = Store::start(Seed::Empty).await;
    store.seed_products(1).await;
    let receiver = Receiver::start(500).await;
    let created = store
        .send(
            reqwest::Method::POST,
            "/webhooks",
            json!({ "topic": "order.created", "delivery_url": receiver.url }),
        )
        .send()
        .await
        .unwrap();
    // The failed ping is ignored: 201 all the same, the hook stays active.
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    let place = || {
        store.place_order(json!({ "customer_email": "x@example.com", "lines": [{ "sku": "T001", "quantity": 1 }] }))
    };

    for n in 1..=6 {
        place().await;
        store.wait_deliveries("delivery", n).await;
    }
    let hook: Value = store
        .get(&format!("/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        hook["status"], "active",
        "six failures do not disable (count 6 is not > 5)"
    );
    place().await;
    let records = store.wait_deliveries("delivery", 7).await;
    assert_eq!(records[6]["response_status"], 500);
    let hook: Value = store
        .get(&format!("/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hook["status"], "disabled");

    // Disabled: nothing more is sent, and nothing is retried.
    place().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.deliveries("delivery").await.len(), 7);
    assert_eq!(receiver.got.lock().unwrap().len(), 1 + 7);

    // Re-enabled, a success resets the count.
    receiver.status.store(200, Ordering::SeqCst);
    store
        .send(
            reqwest::Method::PUT,
            &format!("/webhooks/{id}"),
            json!({ "status": "active" }),
        )
        .send()
        .await
        .unwrap();
    place().await;
    let records = store.wait_deliveries("delivery", 8).await;
    assert_eq!(records[7]["success"], true);
    assert_eq!(records[7]["failure_count"], 0);
    receiver.handle.stop(false).await;
    store.sandbox.stop().await;
}

#[tokio::test]
async fn a_delivery_failure_fault_counts_as_a_failure() {
    let store = Store::start(Seed::Empty).await;
    store.seed_products(1).await;
    let receiver = Receiver::start(200).await;
    let created = store
        .send(
            reqwest::Method::POST,
            "/webhooks",
            json!({ "topic": "order.created", "delivery_url": receiver.url }),
        )
        .send()
        .await
        .unwrap();
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap();
    let fault = store
        .client
        .post(format!("http://{}/_sandbox/faults", store.sandbox.addr()))
        .json(&json!({ "system": "woocommerce", "type": "delivery_failure", "status": 0, "times": 7 }))
        .send()
        .await
        .unwrap();
    assert_eq!(fault.status(), 201);
    for n in 1..=7 {
        store
            .place_order(json!({ "customer_email": "x@example.com", "lines": [{ "sku": "T001", "quantity": 1 }] }))
            .await;
        store.wait_deliveries("delivery", n).await;
    }
    let records = store.deliveries("delivery").await;
    assert!(records
        .iter()
        .all(|r| r["fault_injected"] == true && r["response_status"] == 0));
    assert_eq!(records[5]["failure_count"], 6);
    assert_eq!(records[5]["webhook_status"], "active");
    assert_eq!(records[6]["webhook_status"], "disabled");
    let hook: Value = store
        .get(&format!("/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hook["status"], "disabled");
    // Only the ping reached the receiver.
    assert_eq!(receiver.got.lock().unwrap().len(), 1);
    receiver.handle.stop(false).await;
    store.sandbox.stop().await;
}

#[tokio::test]
async fn refunds_and_customer_updates_fire_their_topics() {
    let store = Store::start(Seed::Empty).await;
    store.seed_products(1).await;
    let receiver = Receiver::start(200).await;
    for topic in ["order.updated", "customer.updated"] {
        store
            .send(
                reqwest::Method::POST,
                "/webhooks",
                json!({ "topic": topic, "delivery_url": receiver.url }),
            )
            .send()
            .await
            .unwrap();
    }
    let customer = store
        .control(
            reqwest::Method::POST,
            "/customers",
            json!({ "email": "c@example.com", "first_name": "C" }),
        )
        .await;
    let customer_id = customer[0]["id"].as_u64().unwrap();
    let order = store
        .place_order(
            json!({ "customer_id": customer_id, "lines": [{ "sku": "T001", "quantity": 2 }] }),
        )
        .await;
    let order_id = order["id"].as_u64().unwrap();
    let refunded = store
        .control(
            reqwest::Method::POST,
            &format!("/orders/{order_id}/refunds"),
            json!({ "reason": "all back" }),
        )
        .await;
    assert_eq!(refunded["order"]["status"], "refunded");
    assert_eq!(refunded["refund"]["amount"], "20.00");
    store
        .control(
            reqwest::Method::PUT,
            &format!("/customers/{customer_id}"),
            json!({ "last_name": "Changed" }),
        )
        .await;
    let records = store.wait_deliveries("delivery", 2).await;
    let topics: Vec<&str> = records
        .iter()
        .map(|r| r["topic"].as_str().unwrap())
        .collect();
    assert!(
        topics.contains(&"order.updated") && topics.contains(&"customer.updated"),
        "{topics:?}"
    );
    let by_email: Vec<Value> = store
        .get("/customers?email=c@example.com")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_email[0]["last_name"], "Changed");
    receiver.handle.stop(false).await;
    store.sandbox.stop().await;
}

#[tokio::test]
async fn the_demo_shop_has_hundreds_of_products_and_customers() {
    let store = Store::start(Seed::Demo).await;
    let products = store.get("/products?per_page=100").send().await.unwrap();
    let total: u64 = products.headers()["x-wp-total"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total >= 300, "{total} products");
    let first: Vec<Value> = store
        // The demo ERP's formatted item numbers (A1-100/0 .. A4-199/0).
        .get("/products?sku=A1-103%2F0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        first[0]["regular_price"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            > 0.0
    );
    assert!(first[0]["stock_quantity"].is_i64());
    let customers = store.get("/customers?per_page=100").send().await.unwrap();
    let total: u64 = customers.headers()["x-wp-total"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total >= 200, "{total} customers");
    let orders = store.get("/orders").send().await.unwrap();
    assert!(
        orders.headers()["x-wp-total"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    store.sandbox.stop().await;
}

#[tokio::test]
async fn an_unknown_route_is_rest_no_route() {
    let store = Store::start(Seed::Empty).await;
    let r = store.get("/nothing-here").send().await.unwrap();
    assert_eq!(error_body(r, 404).await["code"], "rest_no_route");
    store.sandbox.stop().await;
}
