//! Contract tests of the ShipStation simulator, written from
//! `shared/systems/commerce.md` §0 and §4 (not from the implementation):
//! real HTTP against a started sandbox, webhook deliveries captured by an
//! in-test receiver, V2 signatures verified with the rsa crate against the
//! served JWKS.

mod support;
use support::{Captured, Receiver};

use std::time::Duration;

use base64::Engine;
use mlc_sandbox::{Sandbox, SandboxOptions, Seed, System};
use reqwest::Method;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{json, Value};
use sha2::Sha256;

struct Account {
    sandbox: Sandbox,
    client: reqwest::Client,
    /// The V1 host root, ending in `/`.
    v1: String,
    /// The V2 host root (resources under `{v2}/v2/...`).
    v2: String,
    jwks: String,
    control: String,
    key: String,
    secret: String,
    v2_key: String,
}

impl Account {
    async fn start(seed: Seed) -> Account {
        let sandbox = Sandbox::start(SandboxOptions {
            seed,
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let manifest = sandbox.manifest();
        let creds = &manifest["shipstation"];
        let v1 = creds["base_url"].as_str().unwrap().to_string();
        assert_eq!(v1, sandbox.base_url(System::Shipstation));
        assert!(v1.ends_with('/'), "{v1}");
        Account {
            v1,
            v2: creds["v2_base_url"]
                .as_str()
                .unwrap()
                .trim_end_matches('/')
                .to_string(),
            jwks: creds["jwks_url"].as_str().unwrap().to_string(),
            control: format!("http://{}/_sandbox/shipstation", sandbox.addr()),
            key: creds["api_key"].as_str().unwrap().to_string(),
            secret: creds["api_secret"].as_str().unwrap().to_string(),
            v2_key: creds["v2_api_key"].as_str().unwrap().to_string(),
            client: reqwest::Client::new(),
            sandbox,
        }
    }

    fn v1(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.v1))
            .basic_auth(&self.key, Some(&self.secret))
    }

    fn v2(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/v2{path}", self.v2))
            .header("API-Key", &self.v2_key)
    }

    async fn v1_json(&self, path: &str) -> Value {
        let r = self.v1(Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
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

    async fn create_order(&self, body: Value) -> Value {
        let r = self
            .v1(Method::POST, "orders/createorder")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    async fn deliveries(&self, api: &str) -> Vec<Value> {
        self.client
            .get(format!("{}/deliveries?api={api}", self.control))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn wait_deliveries(&self, api: &str, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let d = self.deliveries(api).await;
            if d.len() >= n {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} {api} deliveries");
    }
}

fn order(number: &str, key: Option<&str>) -> Value {
    let address = json!({
        "name": "Ada Lovelace", "company": null, "street1": "1 Analytical Way", "street2": null,
        "city": "Austin", "state": "TX", "postalCode": "73301", "country": "US",
        "phone": "555-0100", "residential": true,
    });
    let mut o = json!({
        "orderNumber": number,
        "orderDate": "2026-11-20T08:46:27.0000000",
        "paymentDate": "2026-11-20T08:50:00.0000000",
        "orderStatus": "awaiting_shipment",
        "customerUsername": "ada@example.com",
        "customerEmail": "ada@example.com",
        "billTo": address,
        "shipTo": address,
        "items": [
            { "lineItemKey": "L1", "sku": "A1-100/0", "name": "Classic Mug", "quantity": 2, "unitPrice": 12.5 },
            { "lineItemKey": "L2", "sku": "A2-150/0", "name": "Notebook", "quantity": 1, "unitPrice": 4.0 }
        ],
        "amountPaid": 36.0,
        "taxAmount": 2.0,
        "shippingAmount": 5.0,
        "weight": { "value": 24, "units": "ounces" },
        "advancedOptions": { "customField1": "SAMLTD ORD000123" }
    });
    if let Some(k) = key {
        o["orderKey"] = k.into();
    }
    o
}

async fn v1_error(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    // Facts §4.4: errors are {"message": ...}.
    assert!(body["message"].is_string(), "{body}");
    body
}

async fn v2_error(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    // Facts §4.5: error bodies carry error_source.
    let e = &body["errors"][0];
    assert!(e["error_source"].is_string(), "{body}");
    assert!(e["message"].is_string(), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    body
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

// ---------------------------------------------------------------- receiver

// -------------------------------------------------------------------- auth

#[tokio::test]
async fn v1_basic_auth_accepted_and_refused() {
    let a = Account::start(Seed::Empty).await;
    // Facts §4.1: Basic base64(apiKey:apiSecret).
    let ok = a.v1(Method::GET, "orders").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(header(&ok, "x-rate-limit-limit"), Some("40"));

    let none = a
        .client
        .get(format!("{}orders", a.v1))
        .send()
        .await
        .unwrap();
    v1_error(none, 401).await;
    let wrong = a
        .client
        .get(format!("{}orders", a.v1))
        .basic_auth(&a.key, Some("not-the-secret"))
        .send()
        .await
        .unwrap();
    v1_error(wrong, 401).await;
    // V1 and V2 credentials differ (§4.0): the V2 key is no V1 credential.
    let v2_key = a
        .client
        .get(format!("{}orders", a.v1))
        .header("API-Key", &a.v2_key)
        .send()
        .await
        .unwrap();
    v1_error(v2_key, 401).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn v2_api_key_accepted_and_refused() {
    let a = Account::start(Seed::Empty).await;
    let ok = a.v2(Method::GET, "/shipments").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    // The docs' samples use a lower-case header name (§4.5).
    let lower = a
        .client
        .get(format!("{}/v2/shipments", a.v2))
        .header("api-key", &a.v2_key)
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);

    let none = a
        .client
        .get(format!("{}/v2/shipments", a.v2))
        .send()
        .await
        .unwrap();
    v2_error(none, 401).await;
    let wrong = a
        .client
        .get(format!("{}/v2/shipments", a.v2))
        .header("API-Key", "nope")
        .send()
        .await
        .unwrap();
    v2_error(wrong, 401).await;
    // No Bearer prefix, and no V1 Basic pair (§4.0, seed page).
    let bearer = a
        .client
        .get(format!("{}/v2/shipments", a.v2))
        .header("Authorization", format!("Bearer {}", a.v2_key))
        .send()
        .await
        .unwrap();
    v2_error(bearer, 401).await;
    let basic = a
        .client
        .get(format!("{}/v2/shipments", a.v2))
        .basic_auth(&a.key, Some(&a.secret))
        .send()
        .await
        .unwrap();
    v2_error(basic, 401).await;
    a.sandbox.stop().await;
}

// ------------------------------------------------------------- rate limits

#[tokio::test]
async fn v1_rate_limit_headers_count_down_then_429() {
    let a = Account::start(Seed::Empty).await;
    a.control(Method::PUT, "/settings", json!({ "v1_rate_limit": 3 }))
        .await;
    for remaining in [2, 1, 0] {
        let r = a.v1(Method::GET, "orders").send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-rate-limit-limit"), Some("3"));
        assert_eq!(
            header(&r, "x-rate-limit-remaining"),
            Some(remaining.to_string().as_str())
        );
        let reset: u64 = header(&r, "x-rate-limit-reset").unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
    }
    let limited = a.v1(Method::GET, "orders").send().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(header(&limited, "x-rate-limit-remaining"), Some("0"));
    let reset: u64 = header(&limited, "x-rate-limit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset >= 1);
    assert!(header(&limited, "retry-after").is_some());
    // V2 has its own budget.
    let v2 = a.v2(Method::GET, "/shipments").send().await.unwrap();
    assert_eq!(v2.status(), 200);
    a.sandbox.stop().await;
}

#[tokio::test]
async fn v2_rate_limit_is_429_with_retry_after() {
    let a = Account::start(Seed::Empty).await;
    let settings = a.control(Method::GET, "/settings", json!({})).await;
    assert_eq!(settings["v2_rate_limit"], 200);
    assert_eq!(settings["v1_rate_limit"], 40);
    a.control(Method::PUT, "/settings", json!({ "v2_rate_limit": 2 }))
        .await;
    for _ in 0..2 {
        let r = a.v2(Method::GET, "/shipments").send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let limited = a.v2(Method::GET, "/shipments").send().await.unwrap();
    let retry: u64 = header(&limited, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    v2_error(limited, 429).await;
    a.sandbox.stop().await;
}

// ------------------------------------------------------------------ orders

#[tokio::test]
async fn createorder_upserts_by_order_key() {
    let a = Account::start(Seed::Empty).await;
    let first = a.create_order(order("SO-1", Some("erp-1"))).await;
    let id = first["orderId"].as_u64().unwrap();
    assert_eq!(first["orderKey"], "erp-1");
    assert_eq!(first["orderStatus"], "awaiting_shipment");

    // Same orderKey: the existing order is updated, whole (§4.2).
    let mut changed = order("SO-1", Some("erp-1"));
    changed["orderStatus"] = "on_hold".into();
    changed["items"] =
        json!([{ "sku": "A3-120/0", "name": "Lamp", "quantity": 3, "unitPrice": 10.0 }]);
    let second = a.create_order(changed).await;
    assert_eq!(second["orderId"].as_u64(), Some(id));
    assert_eq!(second["orderStatus"], "on_hold");
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["sku"], "A3-120/0");

    // Without orderKey one is generated.
    let other = a.create_order(order("SO-2", None)).await;
    assert!(other["orderKey"].as_str().is_some_and(|k| !k.is_empty()));
    assert_ne!(other["orderId"], first["orderId"]);

    let list = a.v1_json("orders").await;
    assert_eq!(list["total"], 2);

    // Shipped orders cannot be updated (§4.2).
    a.control(Method::POST, &format!("/orders/{id}/ship"), json!({}))
        .await;
    let refused = a
        .v1(Method::POST, "orders/createorder")
        .json(&order("SO-1", Some("erp-1")))
        .send()
        .await
        .unwrap();
    v1_error(refused, 400).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn createorder_refusals_are_400_with_a_message() {
    let a = Account::start(Seed::Empty).await;
    let mut no_number = order("x", None);
    no_number.as_object_mut().unwrap().remove("orderNumber");
    let mut bad_status = order("SO-3", None);
    bad_status["orderStatus"] = "exploded".into();
    let mut bad_qty = order("SO-4", None);
    bad_qty["items"][0]["quantity"] = "two".into();
    for body in [no_number, bad_status, bad_qty] {
        let r = a
            .v1(Method::POST, "orders/createorder")
            .json(&body)
            .send()
            .await
            .unwrap();
        v1_error(r, 400).await;
    }
    let broken = a
        .v1(Method::POST, "orders/createorder")
        .header("Content-Type", "application/json")
        .body("{\"orderNumber\":")
        .send()
        .await
        .unwrap();
    v1_error(broken, 400).await;
    let missing = a.v1(Method::GET, "orders/999").send().await.unwrap();
    v1_error(missing, 404).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn createorders_answers_per_order_results() {
    let a = Account::start(Seed::Empty).await;
    let mut bad = order("SO-B", None);
    bad["orderStatus"] = "nope".into();
    let r = a
        .v1(Method::POST, "orders/createorders")
        .json(&json!([order("SO-A", Some("k-a")), bad]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["hasErrors"], true);
    assert_eq!(body["results"][0]["success"], true);
    assert!(body["results"][0]["orderId"].as_u64().unwrap() > 0);
    assert_eq!(body["results"][1]["success"], false);
    assert!(body["results"][1]["errorMessage"].is_string());
    a.sandbox.stop().await;
}

#[tokio::test]
async fn orders_page_to_the_last_page() {
    let a = Account::start(Seed::Empty).await;
    for i in 0..7 {
        a.create_order(order(&format!("SO-{i}"), Some(&format!("k{i}"))))
            .await;
    }
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let body = a
            .v1_json(&format!("orders?page={page}&pageSize=3&sortBy=CreateDate"))
            .await;
        assert_eq!(body["total"], 7);
        assert_eq!(body["pages"], 3);
        assert_eq!(body["page"], page);
        let orders = body["orders"].as_array().unwrap();
        seen.extend(orders.iter().map(|o| o["orderKey"].clone()));
        if page >= body["pages"].as_u64().unwrap() {
            assert_eq!(orders.len(), 1);
            break;
        }
        assert_eq!(orders.len(), 3);
        page += 1;
    }
    assert_eq!(seen.len(), 7);
    seen.dedup();
    assert_eq!(seen.len(), 7);
    // orderNumber is a starts-with filter; orderStatus filters.
    let body = a.v1_json("orders?orderNumber=SO-").await;
    assert_eq!(body["total"], 7);
    let body = a.v1_json("orders?orderNumber=SO-3").await;
    assert_eq!(body["total"], 1);
    let body = a.v1_json("orders?orderStatus=shipped").await;
    assert_eq!(body["total"], 0);
    // pageSize is capped at 500 (§4.2).
    let body = a.v1_json("orders?pageSize=1000").await;
    assert_eq!(body["pages"], 1);
    a.sandbox.stop().await;
}

fn v1_date(s: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").unwrap()
}

#[tokio::test]
async fn modify_date_filters_in_pacific_time_and_the_utc_variant() {
    let a = Account::start(Seed::Empty).await;
    let o = a.create_order(order("SO-1", Some("k1"))).await;
    // §4.1: V1 dates are Pacific local time, no offset.
    let modified = o["modifyDate"].as_str().unwrap();
    assert!(
        !modified.ends_with('Z') && !modified.contains('+'),
        "{modified}"
    );
    let utc_now = chrono::Utc::now().naive_utc();
    let behind = utc_now - v1_date(modified);
    assert!(
        (6 * 3600..=9 * 3600).contains(&behind.num_seconds()),
        "{behind}"
    );
    let local = v1_date(modified);
    let fmt = |d: chrono::NaiveDateTime| d.format("%Y-%m-%d %H:%M:%S").to_string();
    let from = fmt(local - chrono::Duration::minutes(1));
    let body = a
        .v1_json(&format!(
            "orders?modifyDateStart={}",
            from.replace(' ', "%20")
        ))
        .await;
    assert_eq!(body["total"], 1);
    // A UTC reading of the same instant is hours in the future in Pacific.
    let body = a
        .v1_json(&format!(
            "orders?modifyDateStart={}",
            fmt(utc_now - chrono::Duration::minutes(1)).replace(' ', "%20")
        ))
        .await;
    assert_eq!(body["total"], 0);
    let body = a
        .v1_json(&format!(
            "orders?modifyDateEnd={}",
            fmt(local - chrono::Duration::minutes(1)).replace(' ', "%20")
        ))
        .await;
    assert_eq!(body["total"], 0);

    // The UTC variant.
    a.control(Method::PUT, "/settings", json!({ "v1_timezone": "utc" }))
        .await;
    let again = a.v1_json(&format!("orders/{}", o["orderId"])).await;
    let skew = utc_now - v1_date(again["modifyDate"].as_str().unwrap());
    assert!(skew.num_seconds().abs() < 120, "{skew}");
    a.sandbox.stop().await;
}

#[tokio::test]
async fn an_order_has_the_documented_field_names_and_types() {
    let a = Account::start(Seed::Empty).await;
    let o = a.create_order(order("SO-9", Some("k9"))).await;
    // §4.2 field list.
    assert!(o["orderId"].is_u64());
    for f in [
        "orderNumber",
        "orderKey",
        "orderDate",
        "createDate",
        "modifyDate",
        "orderStatus",
    ] {
        assert!(o[f].is_string(), "{f}: {o}");
    }
    for f in [
        "paymentDate",
        "shipByDate",
        "customerEmail",
        "carrierCode",
        "serviceCode",
        "shipDate",
    ] {
        assert!(o.get(f).is_some(), "{f} missing");
    }
    for f in ["amountPaid", "taxAmount", "shippingAmount"] {
        assert!(o[f].is_number(), "{f}");
    }
    assert!(o["gift"].is_boolean());
    assert!(o["externallyFulfilled"].is_boolean());
    for addr in ["billTo", "shipTo"] {
        for f in [
            "name",
            "company",
            "street1",
            "street2",
            "street3",
            "city",
            "state",
            "postalCode",
            "country",
            "phone",
            "residential",
            "addressVerified",
        ] {
            assert!(o[addr].get(f).is_some(), "{addr}.{f}");
        }
    }
    let item = &o["items"][0];
    assert!(item["orderItemId"].is_u64());
    assert_eq!(item["quantity"], 2);
    assert!(item["unitPrice"].is_number());
    for f in [
        "lineItemKey",
        "sku",
        "name",
        "imageUrl",
        "weight",
        "taxAmount",
        "shippingAmount",
        "warehouseLocation",
        "options",
        "productId",
        "fulfillmentSku",
        "adjustment",
        "upc",
    ] {
        assert!(item.get(f).is_some(), "items[].{f}");
    }
    assert!(o["advancedOptions"]["storeId"].is_u64());
    assert_eq!(o["advancedOptions"]["customField1"], "SAMLTD ORD000123");
    a.sandbox.stop().await;
}

// --------------------------------------------------------------- shipments

#[tokio::test]
async fn shipments_list_labels_only_not_orders_marked_shipped() {
    let a = Account::start(Seed::Empty).await;
    let labelled = a.create_order(order("SO-L", Some("kl"))).await;
    let marked = a.create_order(order("SO-M", Some("km"))).await;
    let shipped = a
        .control(
            Method::POST,
            &format!("/orders/{}/ship", labelled["orderId"]),
            json!({ "carrierCode": "ups", "serviceCode": "ups_ground", "trackingNumber": "1Z999", "shipmentCost": 9.5 }),
        )
        .await;
    assert_eq!(shipped["order"]["orderStatus"], "shipped");
    // markasshipped: an external shipment (§4.2, §0 #7).
    let r = a
        .v1(Method::POST, "orders/markasshipped")
        .json(&json!({ "orderId": marked["orderId"], "carrierCode": "fedex", "shipDate": "2026-11-21", "trackingNumber": "FX1", "notifyCustomer": false, "notifySalesChannel": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["orderId"], marked["orderId"]);
    let again = a.v1_json(&format!("orders/{}", marked["orderId"])).await;
    assert_eq!(again["orderStatus"], "shipped");

    let list = a.v1_json("shipments").await;
    assert_eq!(list["total"], 1);
    let s = &list["shipments"][0];
    assert_eq!(s["orderId"], labelled["orderId"]);
    assert_eq!(s["trackingNumber"], "1Z999");
    assert_eq!(s["carrierCode"], "ups");
    assert_eq!(s["serviceCode"], "ups_ground");
    assert_eq!(s["shipmentCost"], 9.5);
    assert_eq!(s["voided"], false);
    assert!(s["shipmentId"].is_u64());
    assert!(s["shipmentItems"].is_null());
    for f in [
        "orderKey",
        "orderNumber",
        "createDate",
        "shipDate",
        "customerEmail",
        "shipTo",
        "voidDate",
        "isReturnLabel",
        "batchNumber",
        "warehouseId",
    ] {
        assert!(s.get(f).is_some(), "{f}");
    }
    let with_items = a
        .v1_json(&format!(
            "shipments?orderId={}&includeShipmentItems=true",
            labelled["orderId"]
        ))
        .await;
    assert_eq!(
        with_items["shipments"][0]["shipmentItems"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let none = a
        .v1_json(&format!("shipments?orderId={}", marked["orderId"]))
        .await;
    assert_eq!(none["total"], 0);

    // voidlabel
    let r = a
        .v1(Method::POST, "shipments/voidlabel")
        .json(&json!({ "shipmentId": s["shipmentId"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let voided = a.v1_json("shipments").await;
    assert_eq!(voided["shipments"][0]["voided"], true);
    assert!(voided["shipments"][0]["voidDate"].is_string());
    a.sandbox.stop().await;
}

// ---------------------------------------------------------------- webhooks

#[tokio::test]
async fn v1_webhooks_subscribe_list_unsubscribe() {
    let a = Account::start(Seed::Empty).await;
    let bad = a
        .v1(Method::POST, "webhooks/subscribe")
        .json(&json!({ "target_url": "https://example.com/h", "event": "ORDER_EXPLODED" }))
        .send()
        .await
        .unwrap();
    v1_error(bad, 400).await;
    let r = a
        .v1(Method::POST, "webhooks/subscribe")
        .json(&json!({ "target_url": "https://example.com/h", "event": "SHIP_NOTIFY", "friendly_name": "ERP" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let hook: Value = r.json().await.unwrap();
    // §4.4: {"WebHookID", "HookType", "Url", "Name"}.
    let id = hook["WebHookID"].as_u64().unwrap();
    assert_eq!(hook["HookType"], "SHIP_NOTIFY");
    assert_eq!(hook["Url"], "https://example.com/h");
    assert_eq!(hook["Name"], "ERP");
    let list = a.v1_json("webhooks").await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(list["webhooks"][0]["WebHookID"], id);
    let del = a
        .v1(Method::DELETE, &format!("webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    let list = a.v1_json("webhooks").await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 0);
    let again = a
        .v1(Method::DELETE, &format!("webhooks/{id}"))
        .send()
        .await
        .unwrap();
    v1_error(again, 404).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn ship_notify_is_an_unsigned_pointer_fetchable_with_the_same_credentials() {
    let a = Account::start(Seed::Empty).await;
    let receiver = Receiver::start(200).await;
    for event in ["SHIP_NOTIFY", "ORDER_NOTIFY"] {
        let r = a
            .v1(Method::POST, "webhooks/subscribe")
            .json(&json!({ "target_url": receiver.url, "event": event }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // A store import fires ORDER_NOTIFY.
    let seeded = a
        .control(
            Method::POST,
            "/orders",
            json!({ "orders": [order("SO-W", Some("kw"))] }),
        )
        .await;
    let id = seeded["orders"][0]["orderId"].as_u64().unwrap();
    let got = receiver.wait(1).await;
    let body = got[0].json();
    assert_eq!(body["resource_type"], "ORDER_NOTIFY");
    let url = body["resource_url"].as_str().unwrap().to_string();
    let orders = a
        .client
        .get(&url)
        .basic_auth(&a.key, Some(&a.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(orders.status(), 200);
    let orders: Value = orders.json().await.unwrap();
    assert_eq!(orders["orders"][0]["orderId"], id);

    a.control(
        Method::POST,
        &format!("/orders/{id}/ship"),
        json!({ "carrierCode": "stamps_com", "serviceCode": "usps_priority_mail", "trackingNumber": "9400111" }),
    )
    .await;
    let got = receiver.wait(2).await;
    let delivery = &got[1];
    let body = delivery.json();
    // §4.4: {"resource_url", "resource_type"}, no signature.
    assert_eq!(body["resource_type"], "SHIP_NOTIFY");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert!(delivery
        .header("x-shipengine-rsa-sha256-signature")
        .is_none());
    let url = body["resource_url"].as_str().unwrap();
    assert!(url.len() <= 200);
    assert!(url.starts_with(&a.v1), "{url}");
    let fetched = a
        .client
        .get(url)
        .basic_auth(&a.key, Some(&a.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    // The fetch counts against the V1 budget (§4.6 #2).
    assert!(header(&fetched, "x-rate-limit-remaining").is_some());
    let shipments: Value = fetched.json().await.unwrap();
    assert_eq!(shipments["shipments"][0]["trackingNumber"], "9400111");
    assert_eq!(shipments["shipments"][0]["orderId"], id);
    let anonymous = a.client.get(url).send().await.unwrap();
    v1_error(anonymous, 401).await;
    let log = a.wait_deliveries("v1", 2).await;
    assert!(log.iter().all(|d| d["success"] == true));
    receiver.handle.stop(false).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn v2_webhook_crud() {
    let a = Account::start(Seed::Empty).await;
    let bad = a
        .v2(Method::POST, "/environment/webhooks")
        .json(&json!({ "url": "https://example.com/h", "event": "exploded" }))
        .send()
        .await
        .unwrap();
    v2_error(bad, 400).await;
    let r = a
        .v2(Method::POST, "/environment/webhooks")
        .json(&json!({ "name": "ERP", "event": "track", "url": "https://example.com/h", "headers": [{ "key": "X-Token", "value": "t" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let hook: Value = r.json().await.unwrap();
    let id = hook["webhook_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("se-"), "{id}");
    assert_eq!(hook["event"], "track");
    assert_eq!(hook["url"], "https://example.com/h");
    assert_eq!(hook["headers"][0]["key"], "X-Token");
    let got: Value = a
        .v2(Method::GET, &format!("/environment/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["name"], "ERP");
    let put = a
        .v2(Method::PUT, &format!("/environment/webhooks/{id}"))
        .json(&json!({ "url": "https://example.com/h2" }))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    let list: Value = a
        .v2(Method::GET, "/environment/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["url"], "https://example.com/h2");
    let del = a
        .v2(Method::DELETE, &format!("/environment/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert!(del.status().is_success());
    let gone = a
        .v2(Method::GET, &format!("/environment/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    v2_error(gone, 404).await;
    a.sandbox.stop().await;
}

fn b64url(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .unwrap()
}

async fn jwks_key(a: &Account, kid: &str) -> Option<VerifyingKey<Sha256>> {
    // The JWKS is public: no credentials.
    let jwks: Value = a
        .client
        .get(&a.jwks)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)?;
    assert_eq!(jwk["kty"], "RSA");
    let n = BigUint::from_bytes_be(&b64url(jwk["n"].as_str().unwrap()));
    let e = BigUint::from_bytes_be(&b64url(jwk["e"].as_str().unwrap()));
    Some(VerifyingKey::<Sha256>::new(
        RsaPublicKey::new(n, e).unwrap(),
    ))
}

fn verify(key: &VerifyingKey<Sha256>, d: &Captured) -> bool {
    let timestamp = d.header("x-shipengine-timestamp").unwrap();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(d.header("x-shipengine-rsa-sha256-signature").unwrap())
        .unwrap();
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(&d.body);
    let signature = Signature::try_from(signature.as_slice()).unwrap();
    key.verify(&message, &signature).is_ok()
}

#[tokio::test]
async fn v2_deliveries_are_rsa_signed_and_verify_against_the_jwks() {
    let a = Account::start(Seed::Empty).await;
    let receiver = Receiver::start(200).await;
    let r = a
        .v2(Method::POST, "/environment/webhooks")
        .json(&json!({ "name": "tracking", "event": "TRACK_EVENT_V2", "url": receiver.url, "headers": [{ "key": "X-Secret-Path", "value": "s3cret" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let o = a.create_order(order("SO-V2", Some("k-v2"))).await;
    a.control(
        Method::POST,
        &format!("/orders/{}/ship", o["orderId"]),
        json!({ "carrierCode": "ups", "serviceCode": "ups_ground", "trackingNumber": "1ZV2" }),
    )
    .await;
    let d = receiver.wait(1).await[0].clone();
    // §4.5 headers.
    let kid = d
        .header("x-shipengine-rsa-sha256-key-id")
        .unwrap()
        .to_string();
    let timestamp = d.header("x-shipengine-timestamp").unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(timestamp).unwrap();
    assert!((chrono::Utc::now() - at.to_utc()).num_seconds().abs() < 300);
    assert_eq!(d.header("x-secret-path"), Some("s3cret"));
    let key = jwks_key(&a, &kid).await.expect("kid in the JWKS");
    assert!(verify(&key, &d), "the signature verifies");
    let mut tampered = d.clone();
    tampered.body.push(b' ');
    assert!(!verify(&key, &tampered), "a changed body fails");

    // §4.5 payload: resource_url, resource_type, data with tracking.
    let body = d.json();
    assert_eq!(body["resource_type"], "TRACK_EVENT_V2");
    assert_eq!(body["data"]["tracking_number"], "1ZV2");
    assert!(body["data"]["status_code"].is_string());
    assert_eq!(body["data"]["carrier_code"], "ups");
    let url = body["resource_url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/v2/labels/se-", a.v2)), "{url}");
    assert!(url.ends_with("/track"));
    let track = a
        .client
        .get(url)
        .header("API-Key", &a.v2_key)
        .send()
        .await
        .unwrap();
    assert_eq!(track.status(), 200);
    let track: Value = track.json().await.unwrap();
    assert_eq!(track["tracking_number"], "1ZV2");

    // A carrier event later: another signed TRACK_EVENT_V2.
    let sid = a.v1_json("shipments").await["shipments"][0]["shipmentId"].clone();
    a.control(
        Method::POST,
        &format!("/shipments/{sid}/track"),
        json!({ "status_code": "DE" }),
    )
    .await;
    let d2 = receiver.wait(2).await[1].clone();
    assert!(verify(&key, &d2));
    assert_eq!(d2.json()["data"]["status_code"], "DE");
    receiver.handle.stop(false).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn key_rotation_signs_with_a_new_kid_listed_in_the_jwks() {
    let a = Account::start(Seed::Empty).await;
    let receiver = Receiver::start(200).await;
    a.v2(Method::POST, "/environment/webhooks")
        .json(&json!({ "event": "label_created", "url": receiver.url }))
        .send()
        .await
        .unwrap();
    let first = a.create_order(order("SO-R1", Some("r1"))).await;
    a.control(
        Method::POST,
        &format!("/orders/{}/ship", first["orderId"]),
        json!({}),
    )
    .await;
    let before = receiver.wait(1).await[0].clone();
    assert_eq!(before.json()["resource_type"], "LABEL_CREATED_V2");
    let rotated = a.control(Method::POST, "/keys/rotate", json!({})).await;
    let second = a.create_order(order("SO-R2", Some("r2"))).await;
    a.control(
        Method::POST,
        &format!("/orders/{}/ship", second["orderId"]),
        json!({}),
    )
    .await;
    let after = receiver.wait(2).await[1].clone();
    let (k1, k2) = (
        before.header("x-shipengine-rsa-sha256-key-id").unwrap(),
        after.header("x-shipengine-rsa-sha256-key-id").unwrap(),
    );
    assert_ne!(k1, k2);
    assert_eq!(rotated["kid"], k2);
    assert!(verify(&jwks_key(&a, k2).await.unwrap(), &after));
    assert!(verify(&jwks_key(&a, k1).await.unwrap(), &before));
    receiver.handle.stop(false).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn a_stale_timestamp_can_be_sent_and_delivery_faults_are_logged() {
    let a = Account::start(Seed::Empty).await;
    let receiver = Receiver::start(200).await;
    a.v2(Method::POST, "/environment/webhooks")
        .json(&json!({ "event": "shipment_created", "url": receiver.url }))
        .send()
        .await
        .unwrap();
    a.control(
        Method::PUT,
        "/settings",
        json!({ "signature_timestamp_offset_secs": -600 }),
    )
    .await;
    a.control(Method::POST, "/orders", json!([order("SO-S", Some("ks"))]))
        .await;
    let d = receiver.wait(1).await[0].clone();
    let at =
        chrono::DateTime::parse_from_rfc3339(d.header("x-shipengine-timestamp").unwrap()).unwrap();
    // Older than the 5 minutes a receiver accepts (§4.5), still validly signed.
    assert!((chrono::Utc::now() - at.to_utc()).num_seconds() > 300);
    let kid = d.header("x-shipengine-rsa-sha256-key-id").unwrap();
    assert!(verify(&jwks_key(&a, kid).await.unwrap(), &d));

    let r = a
        .client
        .post(format!("http://{}/_sandbox/faults", a.sandbox.addr()))
        .json(&json!({ "system": "shipstation", "type": "delivery_failure", "status": 503, "times": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    a.control(Method::POST, "/orders", json!([order("SO-T", Some("kt"))]))
        .await;
    let log = a.wait_deliveries("v2", 2).await;
    assert_eq!(log[1]["response_status"], 503);
    assert_eq!(log[1]["fault_injected"], true);
    assert_eq!(log[1]["success"], false);
    // The receiver saw only the first.
    assert_eq!(receiver.got.lock().unwrap().len(), 1);
    receiver.handle.stop(false).await;
    a.sandbox.stop().await;
}

// ---------------------------------------------------------------------- V2

#[tokio::test]
async fn v2_shipments_and_labels_are_v1_orders_and_shipments() {
    let a = Account::start(Seed::Empty).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let o = a
            .create_order(order(&format!("SO-{i}"), Some(&format!("ext-{i}"))))
            .await;
        ids.push(o["orderId"].as_u64().unwrap());
    }
    a.control(
        Method::POST,
        &format!("/orders/{}/ship", ids[0]),
        json!({ "trackingNumber": "T0" }),
    )
    .await;
    // §4.0: orderId ↔ shipment_id, orderNumber ↔ shipment_number,
    // orderKey ↔ external_shipment_id.
    let r = a
        .v2(Method::GET, &format!("/shipments/se-{}", ids[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["shipment_id"], format!("se-{}", ids[1]));
    assert_eq!(s["shipment_number"], "SO-1");
    assert_eq!(s["external_shipment_id"], "ext-1");
    assert_eq!(s["shipment_status"], "pending");
    assert!(s["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(s["ship_to"]["city_locality"], "Austin");

    // Paging and the status filter (§4.5).
    let mut page = 1;
    let mut seen = 0;
    loop {
        let body: Value = a
            .v2(Method::GET, &format!("/shipments?page={page}&page_size=2"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["total"], 5);
        assert_eq!(body["pages"], 3);
        seen += body["shipments"].as_array().unwrap().len();
        if page == 3 {
            break;
        }
        page += 1;
    }
    assert_eq!(seen, 5);
    let purchased: Value = a
        .v2(Method::GET, "/shipments?shipment_status=label_purchased")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(purchased["total"], 1);
    assert_eq!(
        purchased["shipments"][0]["shipment_id"],
        format!("se-{}", ids[0])
    );
    let bad = a
        .v2(Method::GET, "/shipments?shipment_status=lost")
        .send()
        .await
        .unwrap();
    v2_error(bad, 400).await;
    let future: Value = a
        .v2(
            Method::GET,
            "/shipments?modified_at_start=2099-01-01T00:00:00Z",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(future["total"], 0);

    // Shipment (V1) ↔ label (V2).
    let labels: Value = a
        .v2(Method::GET, "/labels")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(labels["total"], 1);
    let label = &labels["labels"][0];
    assert_eq!(label["tracking_number"], "T0");
    assert_eq!(label["shipment_id"], format!("se-{}", ids[0]));
    let v1: Value = a.v1_json("shipments").await;
    assert_eq!(
        label["label_id"],
        format!("se-{}", v1["shipments"][0]["shipmentId"])
    );
    let missing = a.v2(Method::GET, "/labels/se-1").send().await.unwrap();
    v2_error(missing, 404).await;
    a.sandbox.stop().await;
}

// -------------------------------------------------------------------- misc

#[tokio::test]
async fn the_demo_account_sells_the_demo_skus() {
    let a = Account::start(Seed::Demo).await;
    let products = a.v1_json("products?pageSize=500").await;
    assert_eq!(products["total"], 400);
    let skus: Vec<&str> = products["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert!(skus.contains(&"A1-100/0"));
    assert!(skus.contains(&"A4-199/0"));
    let customers = a.v1_json("customers?pageSize=500").await;
    assert!(customers["total"].as_u64().unwrap() >= 200);
    assert!(customers["customers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["email"].as_str().is_some_and(|e| e.contains('@'))));
    let orders = a.v1_json("orders").await;
    assert!(orders["total"].as_u64().unwrap() >= 100);
    let shipped = a.v1_json("orders?orderStatus=shipped").await;
    let shipments = a.v1_json("shipments").await;
    assert_eq!(shipped["total"], shipments["total"]);
    assert!(shipments["total"].as_u64().unwrap() > 0);
    a.sandbox.stop().await;
}

#[tokio::test]
async fn injected_faults_answer_in_a_shape_both_versions_read() {
    let a = Account::start(Seed::Empty).await;
    a.client
        .post(format!("http://{}/_sandbox/faults", a.sandbox.addr()))
        .json(&json!({ "system": "shipstation", "type": "status", "status": 500, "times": 2 }))
        .send()
        .await
        .unwrap();
    let r = a.v1(Method::GET, "orders").send().await.unwrap();
    v1_error(r, 500).await;
    let r = a.v2(Method::GET, "/shipments").send().await.unwrap();
    v2_error(r, 500).await;
    let unknown = a.v1(Method::GET, "nothing/here").send().await.unwrap();
    v1_error(unknown, 404).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn delete_order_and_the_createorders_batch_limit() {
    let a = Account::start(Seed::Empty).await;
    let o = a.create_order(order("SO-D", Some("kd"))).await;
    let r = a
        .v1(Method::DELETE, &format!("orders/{}", o["orderId"]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let gone = a
        .v1(Method::GET, &format!("orders/{}", o["orderId"]))
        .send()
        .await
        .unwrap();
    v1_error(gone, 404).await;
    // Max batch UNVERIFIED, commonly 100 (§4.2).
    let many: Vec<Value> = (0..101)
        .map(|i| order(&format!("B-{i}"), Some(&format!("b{i}"))))
        .collect();
    let r = a
        .v1(Method::POST, "orders/createorders")
        .json(&many)
        .send()
        .await
        .unwrap();
    v1_error(r, 400).await;
    let r = a
        .v1(Method::POST, "orders/createorders")
        .json(&many[..100])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(a.v1_json("orders").await["total"], 100);
    a.sandbox.stop().await;
}

#[tokio::test]
async fn a_store_scoped_hook_hears_only_its_store_and_item_notify_carries_items() {
    let a = Account::start(Seed::Empty).await;
    let receiver = Receiver::start(200).await;
    for (event, store) in [
        ("SHIP_NOTIFY", json!(424242)),
        ("ITEM_SHIP_NOTIFY", Value::Null),
    ] {
        let r = a
            .v1(Method::POST, "webhooks/subscribe")
            .json(&json!({ "target_url": receiver.url, "event": event, "store_id": store }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // An order of another store: only the unscoped ITEM_SHIP_NOTIFY fires.
    let o = a.create_order(order("SO-I", Some("ki"))).await;
    assert_ne!(o["advancedOptions"]["storeId"], 424242);
    a.control(
        Method::POST,
        &format!("/orders/{}/ship", o["orderId"]),
        json!({}),
    )
    .await;
    let got = receiver.wait(1).await;
    let body = got[0].json();
    assert_eq!(body["resource_type"], "ITEM_SHIP_NOTIFY");
    let fetched: Value = a
        .client
        .get(body["resource_url"].as_str().unwrap())
        .basic_auth(&a.key, Some(&a.secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        fetched["shipments"][0]["shipmentItems"][0]["sku"],
        "A1-100/0"
    );
    // An order of store 424242 reaches the scoped hook too.
    let mut scoped = order("SO-J", Some("kj"));
    scoped["advancedOptions"]["storeId"] = 424242.into();
    let o = a.create_order(scoped).await;
    a.control(
        Method::POST,
        &format!("/orders/{}/ship", o["orderId"]),
        json!({}),
    )
    .await;
    let got = receiver.wait(3).await;
    let mut types: Vec<String> = got[1..]
        .iter()
        .map(|c| c.json()["resource_type"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    assert_eq!(types, ["ITEM_SHIP_NOTIFY", "SHIP_NOTIFY"]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.got.lock().unwrap().len(), 3);
    receiver.handle.stop(false).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn warehouses_and_carriers_are_served_by_both_versions() {
    let a = Account::start(Seed::Empty).await;
    let warehouses = a.v1_json("warehouses").await;
    let list = warehouses.as_array().unwrap();
    assert!(list.len() >= 2);
    assert!(list.iter().all(|w| w["warehouseId"].is_u64()));
    let stores = a.v1_json("stores").await;
    assert!(stores[0]["storeId"].is_u64());
    let o = a.create_order(order("SO-R", Some("kr"))).await;
    assert!(stores
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["storeId"] == o["advancedOptions"]["storeId"]));
    let carriers = a.v1_json("carriers").await;
    let code = carriers[0]["code"].as_str().unwrap().to_string();
    let services = a
        .v1_json(&format!("carriers/listservices?carrierCode={code}"))
        .await;
    assert_eq!(services[0]["carrierCode"], code.as_str());
    let v2: Value = a
        .v2(Method::GET, "/warehouses")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v2["warehouses"].as_array().unwrap().len(), list.len());
    let v2: Value = a
        .v2(Method::GET, "/carriers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v2["carriers"][0]["services"][0]["service_code"].is_string());
    a.sandbox.stop().await;
}

#[tokio::test]
async fn a_failing_receiver_is_not_retried_and_the_hook_stays() {
    let a = Account::start(Seed::Empty).await;
    let receiver = Receiver::start(500).await;
    a.v1(Method::POST, "webhooks/subscribe")
        .json(&json!({ "target_url": receiver.url, "event": "SHIP_NOTIFY" }))
        .send()
        .await
        .unwrap();
    for i in 0..3 {
        let o = a
            .create_order(order(&format!("SO-F{i}"), Some(&format!("f{i}"))))
            .await;
        a.control(
            Method::POST,
            &format!("/orders/{}/ship", o["orderId"]),
            json!({}),
        )
        .await;
    }
    let log = a.wait_deliveries("v1", 3).await;
    assert!(log
        .iter()
        .all(|d| d["response_status"] == 500 && d["success"] == false));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // No retries and no deactivation are documented for V1 (§4.4).
    assert_eq!(receiver.got.lock().unwrap().len(), 3);
    assert_eq!(a.v1_json("webhooks").await["webhooks"][0]["Active"], true);
    receiver.handle.stop(false).await;
    a.sandbox.stop().await;
}

#[tokio::test]
async fn a_v2_created_shipment_is_a_v1_order() {
    let a = Account::start(Seed::Empty).await;
    let r = a
        .v2(Method::POST, "/shipments")
        .json(&json!({ "shipments": [{
            "external_shipment_id": "erp-77", "shipment_number": "SO-77",
            "service_code": "ups_ground",
            "ship_to": { "name": "Grace Hopper", "address_line1": "1 Navy Way", "city_locality": "Arlington",
                         "state_province": "VA", "postal_code": "22201", "country_code": "US", "email": "grace@example.com" },
            "items": [{ "name": "Lamp", "sku": "A3-120/0", "quantity": 2 }]
        }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["has_errors"], false);
    let id = body["shipments"][0]["shipment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let v1 = a.v1_json("orders?orderNumber=SO-77").await;
    assert_eq!(v1["total"], 1);
    let o = &v1["orders"][0];
    assert_eq!(format!("se-{}", o["orderId"]), id);
    assert_eq!(o["orderKey"], "erp-77");
    assert_eq!(o["shipTo"]["city"], "Arlington");
    assert_eq!(o["items"][0]["quantity"], 2);
    let by_key: Value = a
        .v2(Method::GET, "/shipments/external_shipment_id/erp-77")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_key["shipment_id"], id.as_str());
    a.sandbox.stop().await;
}

#[tokio::test]
async fn v2_inventory_levels_increment_decrement_adjust() {
    let a = Account::start(Seed::Demo).await;
    let get = |path: String| a.v2(Method::GET, &path).send();
    let locations: Value = get("/inventory_locations".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let loc = locations["inventory_locations"][0]["inventory_location_id"]
        .as_str()
        .unwrap()
        .to_string();
    let level = |body: &Value| body["inventory"][0]["on_hand"].as_i64().unwrap();
    let before: Value = get("/inventory?sku=A1-100/0".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["inventory"][0]["sku"], "A1-100/0");
    let start = level(&before);
    let post = |body: Value| a.v2(Method::POST, "/inventory").json(&body).send();
    let r = post(json!({ "transaction_type": "increment", "inventory_location_id": loc, "sku": "A1-100/0", "quantity": 5 }))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let after: Value = get("/inventory?sku=A1-100/0".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(level(&after), start + 5);
    assert_eq!(after["inventory"][0]["available"], start + 5);
    // A decrement removes all or nothing.
    let r = post(json!({ "transaction_type": "decrement", "inventory_location_id": loc, "sku": "A1-100/0", "quantity": start + 6 }))
        .await
        .unwrap();
    v2_error(r, 400).await;
    let r = post(json!({ "transaction_type": "adjust", "inventory_location_id": loc, "sku": "A1-100/0", "quantity": 42 }))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let after: Value = get("/inventory?sku=A1-100/0".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(level(&after), 42);
    let r = post(json!({ "transaction_type": "teleport", "inventory_location_id": loc, "sku": "A1-100/0", "quantity": 1 }))
        .await
        .unwrap();
    v2_error(r, 400).await;
    a.sandbox.stop().await;
}
