//! The local agent (facts §3.2): a Windows service on the Sage 100 server
//! that wraps the BOI and answers JSON, modelled on the facts' public
//! example (UAFMiddleware, ASP.NET). Every request carries the API key in
//! `X-API-Key` (missing or wrong: 401). The real agent listens on HTTPS
//! with an often self-signed certificate; the sandbox serves plain HTTP.
//!
//! | Route (under `/sage100/agent/api/v1`) | Answer |
//! |---|---|
//! | `GET /health` | `{"status":"Healthy","company":"ABC"}` |
//! | `GET /items?updatedSince=&page=&pageSize=` | `{"items":[...],"page","pageSize","totalCount"}` (CI_Item, with `standardUnitPrice`) |
//! | `GET /items/{itemCode}` (`/` in the code as `%2F`) or `GET /item?itemCode=` | one item |
//! | `GET /prices?updatedSince=&page=&pageSize=` | `{"prices":[{itemCode, standardUnitPrice, suggestedRetailPrice, dateUpdated, timeUpdated}]}` |
//! | `GET /inventory?warehouseCode=&itemCode=&updatedSince=&page=&pageSize=` | `{"inventory":[{itemCode, warehouseCode, quantityOnHand, quantityOnSalesOrder, quantityAvailable, ...}]}` (IM_ItemWarehouse) |
//! | `GET /customers/search?name=&email=&updatedSince=&page=&pageSize=` | `{"customers":[...],"totalCount",...}` (`SearchCustomersAsync`) |
//! | `GET /customers/{ARDivisionNo}-{CustomerNo}` | one customer |
//! | `POST /sales-orders` | `SalesOrderRequest` → `SalesOrderResponse` (facts §3.2) |
//! | `GET /sales-orders/{salesOrderNo}` | one order |
//!
//! Dates: `dateUpdated` `YYYY-MM-DD` and `timeUpdated` `HH:MM:SS` (the
//! agent's own rendering of the BOI's `DateUpdated`/`TimeUpdated`, which are
//! UNVERIFIED); `updatedSince` takes an ISO date or date-time and returns
//! records updated at or after it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::model::{self, text, Record};
use super::{ops, JsonCase, State, API_KEY_HEADER, DEFAULT_DIVISION};
use crate::World;

/// The routes, under `/sage100/agent/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/items", web::get().to(items))
        .route("/item", web::get().to(item_by_query))
        .route("/items/{code:.*}", web::get().to(item))
        .route("/prices", web::get().to(prices))
        .route("/inventory", web::get().to(inventory))
        .route("/customers/search", web::get().to(search_customers))
        .route("/customers/{number}", web::get().to(customer))
        .route("/sales-orders", web::post().to(create_sales_order))
        .route("/sales-orders/{number}", web::get().to(sales_order));
}

/// An agent error: `{"success":false,"errorCode","errorMessage"}`.
fn error(status: StatusCode, code: &str, message: &str, case: JsonCase) -> HttpResponse {
    HttpResponse::build(status).json(cased(
        json!({ "Success": false, "ErrorCode": code, "ErrorMessage": message }),
        case,
    ))
}

/// Converts Sage-style `PascalCase` keys to the configured case
/// (System.Text.Json's camel case: `ARDivisionNo` → `arDivisionNo`).
fn cased(value: Value, case: JsonCase) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let k = match case {
                        JsonCase::Pascal => k,
                        JsonCase::Camel => camel(&k),
                    };
                    (k, cased(v, case))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| cased(v, case)).collect()),
        other => other,
    }
}

fn camel(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::new();
    let mut leading = true;
    for (i, c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        if leading && c.is_uppercase() && (i == 0 || !next_lower) {
            out.extend(c.to_lowercase());
        } else {
            leading = false;
            out.push(*c);
        }
    }
    out
}

/// Why the agent refused a request before reaching the BOI.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

/// Checks the key and the BOI session; the JSON case to answer in.
fn check(req: &HttpRequest, state: &State) -> Result<JsonCase, Refusal> {
    if !req.app_config().secure() {
        return Err(Refusal {
            status: StatusCode::FORBIDDEN,
            code: "HTTPS_REQUIRED",
            message: "The agent answers over HTTPS only.".into(),
        });
    }
    let key = req
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok());
    if key != Some(state.agent_api_key.as_str()) {
        return Err(Refusal {
            status: StatusCode::UNAUTHORIZED,
            code: "UNAUTHORIZED",
            message: "Invalid or missing API key.".into(),
        });
    }
    if !state.settings.allow_external_access {
        // Facts §3.2: the company must allow external access, else the
        // BOI session cannot open the company.
        return Err(Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "COM_ERROR",
            message: format!(
                "SY_Session.nSetCompany failed: external access is not allowed for company {}.",
                state.company_code
            ),
        });
    }
    Ok(state.settings.agent_json_case)
}

fn query(req: &HttpRequest) -> Map<String, Value> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map(|q| {
            q.into_inner()
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn q<'a>(query: &'a Map<String, Value>, name: &str) -> &'a str {
    query.get(name).and_then(Value::as_str).unwrap_or("")
}

fn since(query: &Map<String, Value>) -> Result<Option<NaiveDateTime>, String> {
    match q(query, "updatedsince") {
        "" => Ok(None),
        t => model::parse_datetime(t)
            .and_then(|d| NaiveDateTime::parse_from_str(&d, "%Y-%m-%dT%H:%M:%S").ok())
            .map(Some)
            .ok_or_else(|| format!("updatedSince '{t}' is not a date.")),
    }
}

fn split(t: NaiveDateTime) -> (String, String) {
    (
        t.format("%Y-%m-%d").to_string(),
        t.format("%H:%M:%S").to_string(),
    )
}

fn parse_stamp(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap_or_default()
}

/// One page of `rows` under `key`, with `page`, `pageSize`, `totalCount`.
fn page(
    state: &State,
    query: &Map<String, Value>,
    key: &str,
    rows: Vec<Value>,
    case: JsonCase,
) -> HttpResponse {
    let size = q(query, "pagesize")
        .parse::<usize>()
        .unwrap_or(state.settings.agent_page_size)
        .clamp(1, 500);
    let number = q(query, "page").parse::<usize>().unwrap_or(1).max(1);
    let total = rows.len();
    let rows: Vec<Value> = rows
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .collect();
    let mut body = Map::new();
    body.insert(key.into(), Value::Array(rows));
    body.insert("Page".into(), number.into());
    body.insert("PageSize".into(), size.into());
    body.insert("TotalCount".into(), total.into());
    HttpResponse::Ok().json(cased(Value::Object(body), case))
}

macro_rules! checked {
    ($req:expr, $world:expr) => {{
        let state = $world.sage100();
        match check(&$req, &state) {
            Ok(case) => (state, case),
            Err(r) => return error(r.status, r.code, &r.message, state.settings.agent_json_case),
        }
    }};
}

async fn health(req: HttpRequest, world: web::Data<World>) -> HttpResponse {
    let (state, case) = checked!(req, world);
    HttpResponse::Ok().json(cased(
        json!({ "Status": "Healthy", "Company": state.company_code }),
        case,
    ))
}

fn item_json(item: &super::Item) -> Value {
    let (date, time) = split(item.updated);
    json!({
        "ItemCode": item.item_code,
        "ItemCodeDesc": item.item_code_desc,
        "ItemType": item.item_type,
        "ProductLine": item.product_line,
        "StandardUnitOfMeasure": item.standard_unit_of_measure,
        "StandardUnitPrice": item.standard_unit_price,
        "SuggestedRetailPrice": item.suggested_retail_price,
        "StandardUnitCost": item.standard_unit_cost,
        "Weight": item.weight,
        "InactiveItem": item.inactive_item,
        "DateCreated": item.created.format("%Y-%m-%d").to_string(),
        "DateUpdated": date,
        "TimeUpdated": time,
    })
}

fn bad_request(message: &str, case: JsonCase) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message, case)
}

async fn items(req: HttpRequest, world: web::Data<World>) -> HttpResponse {
    let (state, case) = checked!(req, world);
    let query = query(&req);
    let since = match since(&query) {
        Ok(s) => s,
        Err(e) => return bad_request(&e, case),
    };
    let rows = state
        .items
        .iter()
        .filter(|i| since.is_none_or(|s| i.updated >= s))
        .map(item_json)
        .collect();
    page(&state, &query, "Items", rows, case)
}

fn one_item(state: &State, code: &str, case: JsonCase) -> HttpResponse {
    match state.item(code) {
        Some(item) => HttpResponse::Ok().json(cased(item_json(item), case)),
        None => error(
            StatusCode::NOT_FOUND,
            "INVALID_ITEM",
            &format!("Item code {code} was not found."),
            case,
        ),
    }
}

async fn item(req: HttpRequest, world: web::Data<World>, code: web::Path<String>) -> HttpResponse {
    let (state, case) = checked!(req, world);
    one_item(&state, &code, case)
}

async fn item_by_query(req: HttpRequest, world: web::Data<World>) -> HttpResponse {
    let (state, case) = checked!(req, world);
    let query = query(&req);
    one_item(&state, q(&query, "itemcode"), case)
}

async fn prices(req: HttpRequest, world: web::Data<World>) -> HttpResponse {
    let (state, case) = checked!(req, world);
    let query = query(&req);
    let since = match since(&query) {
        Ok(s) => s,
        Err(e) => return bad_request(&e, case),
    };
    let rows = state
        .items
        .iter()
        .filter(|i| since.is_none_or(|s| i.updated >= s))
        .map(|i| {
            let (date, time) = split(i.updated);
            json!({
                "ItemCode": i.item_code,
                "StandardUnitPrice": i.standard_unit_price,
                "SuggestedRetailPrice": i.suggested_retail_price,
                "DateUpdated": date,
                "TimeUpdated": time,
            })
        })
        .collect();
    page(&state, &query, "Prices", rows, case)
}

async fn inventory(req: HttpRequest, world: web::Data<World>) -> HttpResponse {
    let (state, case) = checked!(req, world);
    let query = query(&req);
    let since = match since(&query) {
        Ok(s) => s,
        Err(e) => return bad_request(&e, case),
    };
    let (warehouse, code) = (q(&query, "warehousecode"), q(&query, "itemcode"));
    let rows = state
        .quantities
        .iter()
        .filter(|r| warehouse.is_empty() || r.warehouse_code == warehouse)
        .filter(|r| code.is_empty() || r.item_code.eq_ignore_ascii_case(code))
        .filter(|r| since.is_none_or(|s| r.updated >= s))
        .map(|r| {
            let (date, time) = split(r.updated);
            json!({
                "ItemCode": r.item_code,
                "WarehouseCode": r.warehouse_code,
                "QuantityOnHand": r.quantity_on_hand,
                "QuantityOnSalesOrder": r.quantity_on_sales_order,
                "QuantityAvailable": r.quantity_on_hand - r.quantity_on_sales_order,
                "DateUpdated": date,
                "TimeUpdated": time,
            })
        })
        .collect();
    page(&state, &query, "Inventory", rows, case)
}

fn record_json(record: &Record, fields: &[model::Field]) -> Value {
    let mut out = Map::new();
    for field in fields {
        let value = record.get(field.name).cloned().unwrap_or(match field.kind {
            model::Kind::Decimal => json!(0.0),
            model::Kind::Lines => json!([]),
            _ => json!(""),
        });
        let value = match (field.kind, value) {
            (model::Kind::Lines, Value::Array(lines)) => Value::Array(
                lines
                    .iter()
                    .filter_map(Value::as_object)
                    .map(|l| record_json(l, model::SALES_ORDER_LINE))
                    .collect(),
            ),
            (_, v) => v,
        };
        out.insert(field.name.into(), value);
    }
    Value::Object(out)
}

fn customer_json(customer: &Record) -> Value {
    let mut value = record_json(customer, model::CUSTOMER);
    let updated = parse_stamp(text(customer, "DateUpdated"));
    let (date, time) = split(updated);
    value["CustomerNumber"] = format!(
        "{}-{}",
        text(customer, "ARDivisionNo"),
        text(customer, "CustomerNo")
    )
    .into();
    value["DateCreated"] = text(customer, "DateCreated")
        .chars()
        .take(10)
        .collect::<String>()
        .into();
    value["DateUpdated"] = date.into();
    value["TimeUpdated"] = time.into();
    value
}

async fn search_customers(req: HttpRequest, world: web::Data<World>) -> HttpResponse {
    let (state, case) = checked!(req, world);
    let query = query(&req);
    let since = match since(&query) {
        Ok(s) => s,
        Err(e) => return bad_request(&e, case),
    };
    let name = q(&query, "name").to_lowercase();
    let email = q(&query, "email").to_lowercase();
    let rows = state
        .customers
        .iter()
        .filter(|c| name.is_empty() || text(c, "CustomerName").to_lowercase().contains(&name))
        .filter(|c| email.is_empty() || text(c, "EmailAddress").to_lowercase() == email)
        .filter(|c| since.is_none_or(|s| parse_stamp(text(c, "DateUpdated")) >= s))
        .map(customer_json)
        .collect();
    page(&state, &query, "Customers", rows, case)
}

async fn customer(
    req: HttpRequest,
    world: web::Data<World>,
    number: web::Path<String>,
) -> HttpResponse {
    let (state, case) = checked!(req, world);
    let (div, no) = number
        .split_once('-')
        .unwrap_or((DEFAULT_DIVISION, number.as_str()));
    match state.customer(div, no) {
        Some(c) => HttpResponse::Ok().json(cased(customer_json(c), case)),
        None => error(
            StatusCode::NOT_FOUND,
            "CUSTOMER_NOT_FOUND",
            &ops::customer_not_found(div, no),
            case,
        ),
    }
}

async fn sales_order(
    req: HttpRequest,
    world: web::Data<World>,
    number: web::Path<String>,
) -> HttpResponse {
    let (state, case) = checked!(req, world);
    match state.order(&number) {
        Some(o) => HttpResponse::Ok().json(cased(record_json(o, model::SALES_ORDER), case)),
        None => error(
            StatusCode::NOT_FOUND,
            "ORDER_NOT_FOUND",
            &ops::order_not_found(&number),
            case,
        ),
    }
}

/// A field of a JSON object, matched case-insensitively (ASP.NET Core's
/// default for input).
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn field_text(object: &Map<String, Value>, name: &str) -> String {
    match field(object, name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// `POST /sales-orders`: the facts' `SalesOrderRequest{CustomerNumber,
/// ARDivisionNo, PONumber, OrderDate, ShipDate, ShipToCode, WarehouseCode,
/// ShipVia, ShipToAddress, Lines[{ItemCode, Quantity, WarehouseCode,
/// UnitPrice, Description}]}`, answered with `SalesOrderResponse{Success,
/// SalesOrderNumber, ErrorCode, ErrorMessage, InvalidItems}`. Unknown items
/// are `INVALID_ITEM` (400) listing every one; other refusals
/// `ORDER_WRITE_ERROR` (400, as `oSO.nWrite()` returning 0).
async fn create_sales_order(
    req: HttpRequest,
    world: web::Data<World>,
    body: web::Json<Value>,
) -> HttpResponse {
    let (mut state, case) = checked!(req, world);
    let Value::Object(request) = body.into_inner() else {
        return bad_request("The request body must be a SalesOrderRequest object.", case);
    };
    let customer = field_text(&request, "CustomerNumber");
    let (mut div, number) = match customer.split_once('-') {
        Some((d, n)) => (d.to_string(), n.to_string()),
        None => (DEFAULT_DIVISION.to_string(), customer.clone()),
    };
    let explicit_div = field_text(&request, "ARDivisionNo");
    if !explicit_div.is_empty() {
        div = explicit_div;
    }
    let lines: Vec<Map<String, Value>> = field(&request, "Lines")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_object).cloned().collect())
        .unwrap_or_default();
    let invalid: Vec<String> = lines
        .iter()
        .map(|l| field_text(l, "ItemCode"))
        .filter(|code| state.item(code).is_none())
        .collect();
    if !invalid.is_empty() {
        let mut body = json!({
            "Success": false,
            "SalesOrderNumber": null,
            "ErrorCode": "INVALID_ITEM",
            "ErrorMessage": format!("Invalid item code(s): {}", invalid.join(", ")),
            "InvalidItems": invalid,
        });
        body = cased(body, case);
        return HttpResponse::BadRequest().json(body);
    }
    let mut order = Record::new();
    let mut put = |k: &str, v: String| {
        if !v.is_empty() {
            order.insert(k.into(), v.into());
        }
    };
    put("ARDivisionNo", div);
    put("CustomerNo", number);
    put("CustomerPONo", field_text(&request, "PONumber"));
    put("ShipToCode", field_text(&request, "ShipToCode"));
    put("WarehouseCode", field_text(&request, "WarehouseCode"));
    put("ShipVia", field_text(&request, "ShipVia"));
    put("SalesOrderNo", field_text(&request, "SalesOrderNo"));
    for (from, to) in [("OrderDate", "OrderDate"), ("ShipDate", "ShipExpireDate")] {
        if let Some(d) = model::parse_datetime(&field_text(&request, from)) {
            order.insert(to.into(), d.into());
        }
    }
    if let Some(Value::Object(address)) = field(&request, "ShipToAddress") {
        for (from, to) in [
            ("Name", "ShipToName"),
            ("Address1", "ShipToAddress1"),
            ("Address2", "ShipToAddress2"),
            ("Address3", "ShipToAddress3"),
            ("City", "ShipToCity"),
            ("State", "ShipToState"),
            ("ZipCode", "ShipToZipCode"),
            ("CountryCode", "ShipToCountryCode"),
        ] {
            let v = field_text(address, from);
            if !v.is_empty() {
                order.insert(to.into(), v.into());
            }
        }
    }
    let lines: Vec<Value> = lines
        .iter()
        .map(|l| {
            let mut line = Record::new();
            line.insert("ItemCode".into(), field_text(l, "ItemCode").into());
            let quantity = field(l, "Quantity").and_then(Value::as_f64).unwrap_or(0.0);
            line.insert("QuantityOrdered".into(), quantity.into());
            if let Some(price) = field(l, "UnitPrice").and_then(Value::as_f64) {
                line.insert("UnitPrice".into(), price.into());
            }
            for (from, to) in [
                ("WarehouseCode", "WarehouseCode"),
                ("Description", "ItemCodeDesc"),
            ] {
                let v = field_text(l, from);
                if !v.is_empty() {
                    line.insert(to.into(), v.into());
                }
            }
            Value::Object(line)
        })
        .collect();
    order.insert("Lines".into(), Value::Array(lines));
    match ops::create_sales_order(&mut state, order) {
        Ok(number) => HttpResponse::Ok().json(cased(
            json!({
                "Success": true,
                "SalesOrderNumber": number,
                "ErrorCode": null,
                "ErrorMessage": null,
                "InvalidItems": [],
            }),
            case,
        )),
        Err(fault) => HttpResponse::BadRequest().json(cased(
            json!({
                "Success": false,
                "SalesOrderNumber": null,
                "ErrorCode": "ORDER_WRITE_ERROR",
                "ErrorMessage": fault.message,
                "InvalidItems": [],
            }),
            case,
        )),
    }
}
