//! Contract tests of the Sage 300 Web API simulator, written from
//! shared/systems/sage.md §1 (section numbers cited) and the seed page.

use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Sage {
    sandbox: Sandbox,
    client: reqwest::Client,
    /// `.../Sage300WebApi/v1.0/-/SAMLTD/`
    base: String,
    user: String,
    password: String,
}

impl Sage {
    async fn start(seed: Seed) -> Sage {
        let sandbox = Sandbox::start(SandboxOptions {
            seed,
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        let manifest = sandbox.manifest()["sage300"].clone();
        let base_url = manifest["base_url"].as_str().unwrap();
        // §1.1: the base ends with the `-` tenant segment; the company follows.
        assert!(base_url.ends_with("/v1.0/-/"), "{base_url}");
        let base = format!("{base_url}{}/", manifest["company"].as_str().unwrap());
        Sage {
            sandbox,
            client: reqwest::Client::new(),
            base,
            user: manifest["username"].as_str().unwrap().to_string(),
            password: manifest["password"].as_str().unwrap().to_string(),
        }
    }

    fn control(&self, path: &str) -> String {
        format!("http://{}/_sandbox/{path}", self.sandbox.addr())
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// A request as a careful client sends it: Basic auth and
    /// `Content-Type: application/json` on every request (§1.2).
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .basic_auth(&self.user, Some(&self.password))
            .header("Content-Type", "application/json")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::GET, path)).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, path).body(body.to_string()))
            .await
    }

    async fn control_post(&self, path: &str, body: Value) {
        let response = self
            .client
            .post(self.control(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }

    async fn variants(&self, body: Value) {
        self.control_post("sage300/variants", body).await;
    }
}

/// §1.7: `{"error":{"code":..., "message":{"lang":"en-US","value":...}}}`.
fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["message"]["lang"], "en-US", "{body}");
    assert!(
        body["error"]["message"]["value"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

fn order(reference: &str, item: &str) -> Value {
    // Field names of §1.5 (Sage samples and public code).
    json!({
        "OrderUniquifier": 0,
        "OrderNumber": "*** NEW ***",
        "CustomerNumber": "2000",
        "OrderReference": reference,
        "PurchaseOrderNumber": "PO-77",
        "OrderDescription": "Web order",
        "OrderDate": "2025-03-04",
        "OrderDetails": [
            { "LineType": "Item", "Item": item, "Location": "1", "QuantityOrdered": 2 },
            { "LineType": "Item", "Item": "A2-150/0", "QuantityOrdered": 1, "OrderUnitPrice": 9.5, "PriceOverride": true }
        ]
    })
}

#[tokio::test]
async fn uppercase_basic_credentials_are_accepted() {
    let sage = Sage::start(Seed::Demo).await;
    assert_eq!(sage.user, sage.user.to_uppercase());
    assert_eq!(sage.password, sage.password.to_uppercase());
    let (status, body) = sage.get("AR/ARCustomers").await;
    assert_eq!(status, 200);
    assert!(body["value"].is_array(), "§1.6 feed envelope: {body}");
    assert!(body["@odata.context"]
        .as_str()
        .unwrap()
        .contains("$metadata#ARCustomers"));
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn refused_requests_answer_in_the_odata_error_shape() {
    let sage = Sage::start(Seed::Demo).await;
    let url = sage.url("AR/ARCustomers");
    let lower = sage
        .client
        .get(&url)
        .basic_auth(sage.user.to_lowercase(), Some(sage.password.to_lowercase()))
        .header("Content-Type", "application/json");
    let (status, body) = sage.send(lower).await;
    assert_eq!(status, 401, "the seed: credentials are sent upper-case");
    assert_error(&body, "Unauthorized");

    let wrong = sage
        .client
        .get(&url)
        .basic_auth(&sage.user, Some("WRONG"))
        .header("Content-Type", "application/json");
    let (status, body) = sage.send(wrong).await;
    assert_eq!(status, 401);
    assert_error(&body, "Unauthorized");

    let anonymous = sage
        .client
        .get(&url)
        .header("Content-Type", "application/json");
    let (status, body) = sage.send(anonymous).await;
    assert_eq!(status, 401);
    assert_error(&body, "Unauthorized");

    // §1.2: ADMIN has no Web API access by default.
    let admin = sage
        .client
        .get(&url)
        .basic_auth("ADMIN", Some("ADMIN"))
        .header("Content-Type", "application/json");
    let (status, body) = sage.send(admin).await;
    assert_eq!(status, 403);
    assert_error(&body, "Forbidden");
    sage.variants(json!({"allow_admin": true})).await;
    let admin = sage
        .client
        .get(&url)
        .basic_auth("ADMIN", Some("ADMIN"))
        .header("Content-Type", "application/json");
    assert_eq!(sage.send(admin).await.0, 200);

    // §1.2: Content-Type is required on all requests; leaving it out gives 500.
    let no_type = sage
        .client
        .get(&url)
        .basic_auth(&sage.user, Some(&sage.password));
    let (status, body) = sage.send(no_type).await;
    assert_eq!(status, 500);
    assert_error(&body, "InternalServerError");
    let no_type = sage
        .client
        .post(sage.url("OE/OEOrders"))
        .basic_auth(&sage.user, Some(&sage.password))
        .body(order("NT-1", "A1-100/0").to_string());
    let (status, body) = sage.send(no_type).await;
    assert_eq!(status, 500);
    assert_error(&body, "InternalServerError");
    assert_eq!(
        sage.get("OE/OEOrders?$count=true").await.1["@odata.count"],
        0,
        "nothing applied"
    );

    // Unknown company in the URL.
    let other = sage.base.replace("/SAMLTD/", "/NOSUCH/");
    let (status, body) = sage
        .send(sage.request(Method::GET, &format!("{other}AR/ARCustomers")))
        .await;
    assert!(status.is_client_error(), "{status}");
    assert!(body["error"]["code"].is_string(), "{body}");
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn the_demo_company_has_hundreds_of_priced_and_stocked_items_and_customers() {
    let sage = Sage::start(Seed::Demo).await;
    let (_, items) = sage.get("IC/ICItems?$count=true&$top=1").await;
    assert!(items["@odata.count"].as_u64().unwrap() >= 300, "{items}");
    let (_, customers) = sage.get("AR/ARCustomers?$count=true&$top=1").await;
    assert!(customers["@odata.count"].as_u64().unwrap() >= 200);
    let (_, pricing) = sage
        .get("IC/ICItemPricing?$count=true&$filter=PriceListCode eq 'STD'&$top=1")
        .await;
    assert!(pricing["@odata.count"].as_u64().unwrap() >= 300);
    let (_, locations) = sage.get("IC/ICLocations").await;
    assert!(locations["value"].as_array().unwrap().len() >= 2);
    let (_, stock) = sage
        .get("IC/ICItemLocations?$filter=Location eq '2'&$count=true&$top=1")
        .await;
    assert!(stock["@odata.count"].as_u64().unwrap() >= 300);
    // The documented scheme matches what a store seed gets.
    let demo = mlc_sandbox::sage300::demo_items();
    let (status, item) = sage
        .get(&format!(
            "IC/ICItems('{}')",
            demo[3].unformatted_item_number
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(item["ItemNumber"], demo[3].item_number);
    assert!(customers["value"][0]["Email"]
        .as_str()
        .unwrap()
        .contains('@'));
    sage.sandbox.stop().await;
}

async fn page_all(sage: &Sage, first: &str, next_key: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut url = first.to_string();
    for _ in 0..20 {
        let (status, body) = sage.get(&url).await;
        assert_eq!(status, 200, "{body}");
        let page = body["value"].as_array().unwrap();
        assert!(page.len() <= 100, "§1.6: at most 100 per page");
        rows.extend(page.iter().cloned());
        match body[next_key].as_str() {
            Some(next) => url = next.to_string(),
            None => return rows,
        }
    }
    panic!("paging did not end");
}

#[tokio::test]
async fn paging_reaches_the_last_page_with_the_v4_count() {
    let sage = Sage::start(Seed::Demo).await;
    let (_, first) = sage.get("IC/ICItems?$count=true").await;
    let total = first["@odata.count"]
        .as_u64()
        .expect("@odata.count is a number") as usize;
    assert_eq!(
        first["value"].as_array().unwrap().len(),
        100,
        "page size 100"
    );
    assert!(first["@odata.nextLink"].is_string());

    let rows = page_all(&sage, "IC/ICItems?$count=true", "@odata.nextLink").await;
    assert_eq!(rows.len(), total);
    let mut keys: Vec<&str> = rows
        .iter()
        .map(|r| r["UnformattedItemNumber"].as_str().unwrap())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), total, "no item twice");

    // $skip/$top paging until a short page (§1.6), without relying on links.
    let mut seen = 0;
    let mut skip = 0;
    loop {
        let (_, page) = sage.get(&format!("IC/ICItems?$top=100&$skip={skip}")).await;
        let n = page["value"].as_array().unwrap().len();
        seen += n;
        skip += 100;
        if n < 100 {
            break;
        }
    }
    assert_eq!(seen, total);
    // $top above the page size is capped.
    let (_, capped) = sage.get("IC/ICItems?$top=250").await;
    assert_eq!(capped["value"].as_array().unwrap().len(), 100);
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn paging_with_the_v3_count_spelling() {
    let sage = Sage::start(Seed::Demo).await;
    sage.variants(json!({"count_style": "v3"})).await;
    let (_, first) = sage.get("AR/ARCustomers?$count=true").await;
    assert!(first.get("@odata.count").is_none());
    // §1.6: the Developer Reference sample shows "odata.count": "625".
    let count = &first["odata.count"];
    let total: usize = count
        .as_str()
        .map(|s| s.parse().unwrap())
        .or(count.as_u64().map(|n| n as usize))
        .unwrap();
    assert!(first["odata.context"].is_string());
    let rows = page_all(&sage, "AR/ARCustomers?$count=true", "odata.nextLink").await;
    assert_eq!(rows.len(), total);
    // $inlinecount is the v3 way to ask.
    let (_, inline) = sage
        .get("AR/ARCustomers?$inlinecount=allpages&$top=1")
        .await;
    assert_eq!(inline["odata.count"], first["odata.count"]);
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn date_last_maintained_filters_find_changes_with_both_literal_styles() {
    let sage = Sage::start(Seed::Demo).await;
    sage.control_post("sage300/clock", json!({"today": "2030-01-15"}))
        .await;
    sage.control_post(
        "sage300/prices",
        json!([{"item_number": "A1-104/0", "price": 77.25}]),
    )
    .await;
    sage.control_post(
        "sage300/quantities",
        json!([{"item_number": "A3-120/0", "location": "2", "quantity_on_hand": 3}]),
    )
    .await;

    for filter in [
        "DateLastMaintained ge datetime'2030-01-15T00:00'",
        "DateLastMaintained ge 2030-01-15T00:00:00Z",
        "DateLastMaintained gt datetime'2030-01-14T12:00:00'",
    ] {
        let (status, body) = sage
            .get(&format!("IC/ICItemPricing?$filter={filter}"))
            .await;
        assert_eq!(status, 200, "{filter}: {body}");
        let rows = body["value"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{filter}: {body}");
        assert_eq!(rows[0]["ItemNumber"], "A1-104/0");
        assert_eq!(rows[0]["PriceListCode"], "STD");
        let detail = &rows[0]["ItemPricingDetails"][0];
        assert_eq!(detail["PriceDetailType"], "BasePriceQuantity");
        assert_eq!(detail["UnitPrice"], 77.25);
        // §1.6: a date without a time of day.
        assert!(rows[0]["DateLastMaintained"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-15T00:00:00"));
    }
    let (_, stock) = sage
        .get("IC/ICItemLocations?$filter=DateLastMaintained ge 2030-01-15T00:00:00Z")
        .await;
    assert_eq!(stock["value"].as_array().unwrap().len(), 1, "{stock}");
    assert_eq!(stock["value"][0]["QuantityOnHand"], 3.0);

    // Each literal variant alone.
    sage.variants(json!({"date_literals": "v3"})).await;
    let (status, body) = sage
        .get("IC/ICItemPricing?$filter=DateLastMaintained ge 2030-01-15T00:00:00Z")
        .await;
    assert_eq!(status, 400);
    assert_error(&body, "InvalidParameters");
    assert_eq!(
        sage.get("IC/ICItemPricing?$filter=DateLastMaintained ge datetime'2030-01-15T00:00'")
            .await
            .0,
        200
    );
    sage.variants(json!({"date_literals": "v4"})).await;
    let (status, body) = sage
        .get("IC/ICItemPricing?$filter=DateLastMaintained ge datetime'2030-01-15T00:00'")
        .await;
    assert_eq!(status, 400);
    assert_error(&body, "InvalidParameters");
    assert_eq!(
        sage.get("IC/ICItemPricing?$filter=DateLastMaintained ge 2030-01-15T00:00:00Z")
            .await
            .0,
        200
    );

    // The sample's date style, without an offset.
    sage.variants(json!({"date_style": "local"})).await;
    let (_, body) = sage
        .get("IC/ICItemPricing?$filter=DateLastMaintained ge 2030-01-15")
        .await;
    assert_eq!(
        body["value"][0]["DateLastMaintained"],
        "2030-01-15T00:00:00"
    );
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn an_order_has_the_documented_fields_and_types() {
    let sage = Sage::start(Seed::Demo).await;
    let (status, created) = sage
        .post("OE/OEOrders", &order("WC-1001", "A1-100/0"))
        .await;
    assert!(status == 201 || status == 200, "{status} {created}");
    // §1.5, §1.8: the server assigns the number, the client's reference stays.
    let number = created["OrderNumber"].as_str().unwrap();
    assert!(!number.is_empty() && number != "*** NEW ***");
    assert!(created["OrderUniquifier"].as_i64().unwrap() > 0);
    assert_eq!(created["OrderReference"], "WC-1001");
    assert_eq!(created["PurchaseOrderNumber"], "PO-77");
    assert_eq!(created["CustomerNumber"], "2000");
    assert!(created["OrderDate"]
        .as_str()
        .unwrap()
        .starts_with("2025-03-04"));
    let lines = created["OrderDetails"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["LineNumber"], 32, "§1.5: line numbers step by 32");
    assert_eq!(lines[1]["LineNumber"], 64);
    assert_eq!(lines[0]["LineType"], "Item");
    assert_eq!(lines[0]["Item"], "A1-100/0");
    assert!(lines[0]["QuantityOrdered"].is_number());
    assert!(lines[0]["OrderUnitPrice"].as_f64().unwrap() > 0.0);
    assert_eq!(
        lines[1]["OrderUnitPrice"], 9.5,
        "PriceOverride keeps the price"
    );
    assert_eq!(lines[1]["PriceOverride"], true);
    let total: f64 = lines
        .iter()
        .map(|l| l["ExtendedAmount"].as_f64().unwrap())
        .sum();
    assert!((created["OrderTotal"].as_f64().unwrap() - total).abs() < 0.005);
    assert!(
        lines[0].get("UnitPrice").is_none(),
        "§1.5: no plain UnitPrice on order lines"
    );

    // GET by key: the OrderUniquifier.
    let key = created["OrderUniquifier"].as_i64().unwrap();
    let (status, fetched) = sage.get(&format!("OE/OEOrders({key})")).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["OrderNumber"], number);
    // And the control API shows it.
    let orders: Value = reqwest::get(sage.control("sage300/orders"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orders.as_array().unwrap().len(), 1);
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn a_customer_and_an_item_have_the_documented_fields_and_types() {
    let sage = Sage::start(Seed::Demo).await;
    let customer = json!({
        "CustomerNumber": "WEB0001",
        "CustomerName": "Ada Lovelace",
        "Email": "ada@example.org",
        "City": "London",
        "AccountType": "OpenItem"
    });
    let (status, created) = sage.post("AR/ARCustomers", &customer).await;
    assert!(status.is_success(), "{created}");
    let (status, got) = sage.get("AR/ARCustomers('WEB0001')").await;
    assert_eq!(status, 200);
    assert_eq!(got["CustomerNumber"], "WEB0001");
    assert_eq!(got["CustomerName"], "Ada Lovelace");
    // §1.5: enums are strings.
    assert_eq!(got["Status"], "Active");
    assert_eq!(got["OnHold"], "No");
    assert_eq!(got["AccountType"], "OpenItem");
    assert!(got["CreditLimitCustomerCurrency"].is_number());
    assert!(got["DateLastMaintained"].is_string());
    // Quotes are optional without spaces (§1.1).
    assert_eq!(sage.get("AR/ARCustomers(WEB0001)").await.0, 200);
    // Find by e-mail.
    let (_, found) = sage
        .get("AR/ARCustomers?$filter=Email eq 'ada@example.org'")
        .await;
    assert_eq!(found["value"].as_array().unwrap().len(), 1);
    // PATCH (all five verbs on ARCustomers, §1.3).
    let patch = sage
        .request(Method::PATCH, "AR/ARCustomers('WEB0001')")
        .body(json!({"Email": "ada@lovelace.org"}).to_string());
    let (status, _) = sage.send(patch).await;
    assert!(status.is_success());
    let (_, got) = sage
        .get("AR/ARCustomers('WEB0001')?$select=CustomerNumber,Email")
        .await;
    assert_eq!(got["Email"], "ada@lovelace.org");
    // Inserting the same key again is RecordDuplicate (§1.8 b).
    let (status, body) = sage.post("AR/ARCustomers", &customer).await;
    assert_eq!(status, 409);
    assert_error(&body, "RecordDuplicate");

    let (status, item) = sage.get("IC/ICItems('A11000')").await;
    assert_eq!(status, 200);
    assert_eq!(item["UnformattedItemNumber"], "A11000");
    assert_eq!(item["ItemNumber"], "A1-100/0");
    assert!(item["Description"].is_string());
    assert_eq!(item["StockItem"], true);
    assert!(item["UnitWeight"].is_number());
    assert!(item["ItemUnitsOfMeasure"].is_array());
    let (_, pricing) = sage.get("IC/ICItemPricing(CurrencyCode='CAD',UnformattedItemNumber='A11000',PriceListCode='STD')").await;
    assert!(
        pricing["ItemPricingDetails"][0]["UnitPrice"].is_number(),
        "{pricing}"
    );

    // $select and $orderby.
    let (_, selected) = sage
        .get("IC/ICItems?$select=ItemNumber,Description&$orderby=ItemNumber desc&$top=2")
        .await;
    let first = selected["value"][0].as_object().unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first["ItemNumber"], "A4-199/0");
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn an_order_is_found_by_its_reference_and_posting_twice_makes_two() {
    let sage = Sage::start(Seed::Demo).await;
    // §1.8 (a): GET ?$count=true&$top=1&$filter=<key> before the POST.
    let check = "OE/OEOrders?$count=true&$top=1&$filter=OrderReference eq 'WC-2002'";
    assert_eq!(sage.get(check).await.1["@odata.count"], 0);
    let (status, first) = sage
        .post("OE/OEOrders", &order("WC-2002", "A1-101/0"))
        .await;
    assert!(status.is_success());
    let (_, found) = sage.get(check).await;
    assert_eq!(found["@odata.count"], 1);
    assert_eq!(found["value"][0]["OrderNumber"], first["OrderNumber"]);
    let (_, both) = sage
        .get("OE/OEOrders?$filter=OrderReference eq 'WC-2002' and CustomerNumber eq '2000'")
        .await;
    assert_eq!(both["value"].as_array().unwrap().len(), 1);

    // §1.8: no dedup on the server; a blind retry is a duplicate.
    let (_, second) = sage
        .post("OE/OEOrders", &order("WC-2002", "A1-101/0"))
        .await;
    assert_ne!(first["OrderNumber"], second["OrderNumber"]);
    assert_eq!(sage.get(check).await.1["@odata.count"], 2);
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn errors_carry_the_documented_codes() {
    let sage = Sage::start(Seed::Demo).await;
    let (status, body) = sage.get("AR/ARCustomers('NOSUCH')").await;
    assert_eq!(status, 404);
    assert_error(&body, "RecordNotFound");

    // Unknown item or customer on an order: a permanent 409 (§1.7 [ARIOX]).
    let (status, body) = sage.post("OE/OEOrders", &order("BAD-1", "ZZ-999/9")).await;
    assert_eq!(status, 409);
    assert_error(&body, "FieldInvalid");
    let mut unknown_customer = order("BAD-2", "A1-100/0");
    unknown_customer["CustomerNumber"] = json!("NOBODY");
    let (status, body) = sage.post("OE/OEOrders", &unknown_customer).await;
    assert_eq!(status, 409);
    assert_error(&body, "FieldInvalid");
    assert_eq!(
        sage.get("OE/OEOrders?$count=true").await.1["@odata.count"],
        0,
        "nothing applied"
    );

    // §1.3: OEOrders is GET and POST only.
    let patch = sage.request(Method::PATCH, "OE/OEOrders(1)").body("{}");
    let (status, body) = sage.send(patch).await;
    assert_eq!(status, 405);
    assert_error(&body, "MethodNotAllowed");

    let (status, body) = sage.get("AR/ARCustomers?$filter=NoSuchField eq 'x'").await;
    assert_eq!(status, 400);
    assert_error(&body, "InvalidParameters");
    let (status, body) = sage.get("AR/ARCustomers?$top=1&$top=2").await;
    assert_eq!(status, 400, "§1.6: each option once");
    assert_error(&body, "InvalidParameters");
    let (status, body) = sage.get("AR/NoSuchThings").await;
    assert_eq!(status, 404);
    assert_error(&body, "ResourceNotFound");
    let (status, body) = sage
        .post(
            "AR/ARCustomers",
            &json!({"CustomerNumber": "X1", "Colour": "red"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_error(&body, "InvalidPayload");
    let (status, body) = sage
        .send(sage.request(Method::POST, "OE/OEOrders").body("{not json"))
        .await;
    assert_eq!(status, 400);
    assert_error(&body, "InvalidPayload");

    // A retryable 5xx: the database is unreachable.
    sage.variants(json!({"offline": true})).await;
    let (status, body) = sage.get("AR/ARCustomers").await;
    assert_eq!(status, 500);
    assert_error(&body, "DBLinkError");
    sage.variants(json!({"offline": false})).await;
    assert_eq!(sage.get("AR/ARCustomers").await.0, 200);

    // An injected status in the same shape.
    sage.control_post(
        "faults",
        json!({"system": "sage300", "type": "status", "status": 503, "times": 1}),
    )
    .await;
    let (status, body) = sage.get("AR/ARCustomers").await;
    assert_eq!(status, 503);
    assert_error(&body, "InternalServerError");
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn a_timeout_after_the_write_leaves_the_order_applied() {
    let sage = Sage::start(Seed::Demo).await;
    sage.control_post(
        "faults",
        json!({"system": "sage300", "type": "timeout_after_write", "ms": 200, "method": "POST", "path_contains": "OEOrders"}),
    )
    .await;
    let (status, body) = sage
        .post("OE/OEOrders", &order("WC-3003", "A1-102/0"))
        .await;
    assert_eq!(status, 504);
    assert!(body["error"]["code"].is_string(), "{body}");
    let received: Value = reqwest::get(sage.control("sage300/received"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let writes = received.as_array().unwrap();
    assert_eq!(writes.len(), 1);
    assert!(writes[0]["path"].as_str().unwrap().contains("OE/OEOrders"));
    assert_eq!(writes[0]["body"]["OrderReference"], "WC-3003");
    // The order is there: a client finds it by reference instead of posting again.
    let (_, found) = sage
        .get("OE/OEOrders?$count=true&$filter=OrderReference eq 'WC-3003'")
        .await;
    assert_eq!(found["@odata.count"], 1);
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn credit_notes_are_created_and_listed() {
    let sage = Sage::start(Seed::Demo).await;
    let (_, before) = sage
        .get("IC/ICItemLocations(UnformattedItemNumber='A11050',Location='1')")
        .await;
    let note = json!({
        "CNUniquifier": 0,
        "CustomerNumber": "2001",
        "Reference": "WC-REFUND-9",
        "Description": "Refund",
        "CreditDebitNoteDate": "2025-03-05T00:00:00Z",
        "CreditDebitNoteType": "CreditNote",
        "CreditDebitDetails": [
            { "LineType": "Item", "Item": "A1-105/0", "Location": "1", "QuantityReturned": 2, "CreditDebitNoteUOM": "Ea.", "UnitPrice": 10.0 },
            { "LineType": "Miscellaneous", "MiscellaneousChargesCode": "FRT", "ExtendedAmountMiscellaneousCharge": 5.0 }
        ]
    });
    let (status, created) = sage.post("OE/OECreditDebitNotes", &note).await;
    assert!(status.is_success(), "{created}");
    assert!(created["CNUniquifier"].as_i64().unwrap() > 0);
    let (_, list) = sage
        .get("OE/OECreditDebitNotes?$filter=Reference eq 'WC-REFUND-9'")
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let (_, after) = sage
        .get("IC/ICItemLocations(UnformattedItemNumber='A11050',Location='1')")
        .await;
    assert_eq!(
        after["QuantityOnHand"].as_f64().unwrap(),
        before["QuantityOnHand"].as_f64().unwrap() + 2.0
    );
    let notes: Value = reqwest::get(sage.control("sage300/credit_notes"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(notes.as_array().unwrap().len(), 1);
    sage.sandbox.stop().await;
}

#[tokio::test]
async fn an_empty_company_is_seeded_through_the_control_api() {
    let sage = Sage::start(Seed::Empty).await;
    assert_eq!(
        sage.get("IC/ICItems?$count=true").await.1["@odata.count"],
        0
    );
    sage.control_post(
        "sage300/items",
        json!([{"item_number": "B1-001/0", "description": "Widget", "price": 4.5, "quantities": {"1": 10}}]),
    )
    .await;
    sage.control_post(
        "sage300/customers",
        json!([{"CustomerNumber": "C1", "CustomerName": "Carl", "Email": "c@x.io"}]),
    )
    .await;
    let (_, items) = sage.get("IC/ICItems").await;
    assert_eq!(items["value"][0]["UnformattedItemNumber"], "B10010");
    let mut body = order("E-1", "B1-001/0");
    body["CustomerNumber"] = json!("C1");
    body["OrderDetails"] =
        json!([{ "LineType": "Item", "Item": "B1-001/0", "QuantityOrdered": 3 }]);
    let (status, created) = sage.post("OE/OEOrders", &body).await;
    assert!(status.is_success(), "{created}");
    assert_eq!(created["OrderTotal"], 13.5);
    // The module metadata names the entity sets (§1.1).
    let metadata = sage
        .request(Method::GET, "OE/$metadata")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metadata.contains("EntitySet Name=\"OEOrders\""),
        "{metadata}"
    );
    sage.sandbox.stop().await;
}
