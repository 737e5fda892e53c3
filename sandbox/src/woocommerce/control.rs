//! Control routes under `/_sandbox/woocommerce`: settings, extra API keys,
//! seeding products and customers, driving store events (place/update an
//! order, refund, update a customer or product), and the log of webhook
//! deliveries and pings.

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::auth::{ApiKey, Permissions};
use super::customers::{self, Customer};
use super::orders::{self, NewLine, NewOrder};
use super::products::{self, Product};
use super::refunds::{self, RefundRequest};
use super::{api_base, delivery, now, parse_money, webhooks, Address, Settings, State, WcError};
use crate::World;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(get_settings))
        .route("/settings", web::put().to(put_settings))
        .route("/keys", web::get().to(list_keys))
        .route("/keys", web::post().to(add_key))
        .route("/products", web::post().to(seed_products))
        .route("/products/{id}", web::put().to(update_product))
        .route("/customers", web::post().to(seed_customers))
        .route("/customers/{id}", web::put().to(update_customer))
        .route("/orders", web::post().to(place_order))
        .route("/orders/{id}", web::put().to(update_order))
        .route("/orders/{id}/refunds", web::post().to(refund_order))
        .route("/webhooks", web::get().to(list_webhooks))
        .route("/deliveries", web::get().to(list_deliveries))
        .route("/deliveries", web::delete().to(clear_deliveries));
}

/// A refused control request: `{"error", "code"?}` with its status.
#[derive(Debug)]
struct Fail {
    status: u16,
    message: String,
    code: Option<String>,
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl actix_web::ResponseError for Fail {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.status).unwrap_or_default()
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({ "error": self.message });
        if let Some(code) = &self.code {
            body["code"] = code.clone().into();
        }
        HttpResponse::build(self.status_code()).json(body)
    }
}

fn fail(status: u16, message: impl Into<String>) -> Fail {
    Fail {
        status,
        message: message.into(),
        code: None,
    }
}

fn from_wc(e: WcError) -> Fail {
    Fail {
        status: e.status.as_u16(),
        message: e.message,
        code: Some(e.code),
    }
}

/// A money value given as a string or a number.
fn money_of(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => parse_money(s),
        Value::Number(n) => n.as_f64().map(|f| (f * 100.0).round() as i64),
        _ => None,
    }
}

fn number_of(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn str_of(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(Value::as_str).map(str::to_string)
}

fn date_of(v: &Value, name: &str) -> Result<Option<NaiveDateTime>, Fail> {
    match str_of(v, name) {
        None => Ok(None),
        Some(s) => super::paging::parse_date(name, &s)
            .map(|b| Some(b.at))
            .map_err(|_| fail(400, format!("{name}: not an ISO-8601 date"))),
    }
}

/// A single object, an array, or `{"<key>": [...]}`.
fn items(body: &Value, key: &str) -> Vec<Value> {
    match body {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get(key) {
            Some(Value::Array(a)) => a.clone(),
            _ => vec![body.clone()],
        },
        _ => Vec::new(),
    }
}

async fn get_settings(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.woocommerce().settings)
}

/// `PUT /settings`: a partial [`Settings`] object.
async fn put_settings(
    world: web::Data<World>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Fail> {
    let mut st = world.woocommerce();
    let mut current = serde_json::to_value(&st.settings).unwrap_or_default();
    if let (Value::Object(cur), Value::Object(patch)) = (&mut current, body.into_inner()) {
        for (k, v) in patch {
            cur.insert(k, v);
        }
    }
    match serde_json::from_value::<Settings>(current) {
        Ok(settings) => {
            st.settings = settings;
            Ok(HttpResponse::Ok().json(&st.settings))
        }
        Err(e) => Err(fail(400, format!("invalid settings: {e}"))),
    }
}

async fn list_keys(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.woocommerce().keys)
}

/// `POST /keys {"permissions": "read"|"write"|"read_write"}`.
async fn add_key(world: web::Data<World>, body: web::Json<Value>) -> Result<HttpResponse, Fail> {
    let permissions = match body
        .get("permissions")
        .cloned()
        .map(serde_json::from_value::<Permissions>)
    {
        None => Permissions::ReadWrite,
        Some(Ok(p)) => p,
        Some(Err(_)) => return Err(fail(400, "permissions must be read, write or read_write")),
    };
    let mut st = world.woocommerce();
    let key = ApiKey::numbered(st.keys.len() as u64 + 1, permissions);
    st.keys.push(key.clone());
    Ok(HttpResponse::Created().json(key))
}

fn seed_product(st: &mut State, item: &Value) -> Result<u64, Fail> {
    let sku = str_of(item, "sku").unwrap_or_default();
    if !sku.is_empty() && st.products.values().any(|p| p.sku == sku) {
        return Err(fail(400, format!("duplicate SKU {sku}")));
    }
    let id = st.post_id();
    let name = str_of(item, "name").unwrap_or_else(|| format!("Product {sku}"));
    let at = date_of(item, "date_created_gmt")?.unwrap_or_else(now);
    let mut p = Product::new(id, &name, &sku, at);
    p.regular_price = money_of(item.get("regular_price").or_else(|| item.get("price")));
    p.sale_price = money_of(item.get("sale_price"));
    if let Some(q) = item.get("stock_quantity").and_then(Value::as_i64) {
        p.stock_quantity = Some(q);
        p.manage_stock = true;
    }
    if let Some(m) = item.get("manage_stock").and_then(Value::as_bool) {
        p.manage_stock = m;
    }
    if let Some(s) = str_of(item, "stock_status") {
        p.stock_status = s;
    }
    if let Some(s) = str_of(item, "status") {
        p.status = s;
    }
    p.sync_stock_status();
    st.products.insert(id, p);
    Ok(id)
}

/// `POST /products`: seeds products silently (no webhooks). Body: one
/// object, an array, or `{"products": [...]}`; each `{sku, name,
/// regular_price, sale_price, stock_quantity, manage_stock, stock_status,
/// status}`. Answers the REST representations.
async fn seed_products(
    world: web::Data<World>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Fail> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    let mut out = Vec::new();
    for item in items(&body, "products") {
        match seed_product(&mut st, &item) {
            Ok(id) => out.push(products::render(&st, &api, &st.products[&id])),
            Err(r) => return Err(r),
        }
    }
    Ok(HttpResponse::Created().json(out))
}

/// `PUT /products/{id}`: a REST update body; fires `product.updated`.
async fn update_product(
    world: web::Data<World>,
    id: web::Path<u64>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Fail> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    if let Err(e) = products::update(&mut st, id, &body) {
        return Err(from_wc(e));
    }
    delivery::fire(&world, &mut st, "product.updated", id);
    Ok(HttpResponse::Ok().json(products::render(&st, &api, &st.products[&id])))
}

fn seed_customer(st: &mut State, item: &Value) -> Result<u64, Fail> {
    let Some(email) = str_of(item, "email") else {
        return Err(fail(400, "email is required"));
    };
    if st
        .customers
        .values()
        .any(|c| c.email.eq_ignore_ascii_case(&email))
    {
        return Err(fail(400, format!("duplicate email {email}")));
    }
    let id = st.customer_id();
    let first = str_of(item, "first_name").unwrap_or_default();
    let last = str_of(item, "last_name").unwrap_or_default();
    let at = date_of(item, "date_created_gmt")?.unwrap_or_else(now);
    let mut c = Customer::new(id, &email, &first, &last, at);
    if let Some(u) = str_of(item, "username") {
        c.username = u;
    }
    if let Some(b) = item.get("billing") {
        c.billing.apply(b, "billing").map_err(from_wc)?;
    }
    if let Some(s) = item.get("shipping") {
        c.shipping.apply(s, "shipping").map_err(from_wc)?;
    }
    st.customers.insert(id, c);
    Ok(id)
}

/// `POST /customers`: seeds customers silently. Body: one object, an
/// array, or `{"customers": [...]}`; each `{email, first_name, last_name,
/// username, billing, shipping}`.
async fn seed_customers(
    world: web::Data<World>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Fail> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    let mut out = Vec::new();
    for item in items(&body, "customers") {
        match seed_customer(&mut st, &item) {
            Ok(id) => out.push(customers::render(&st, &api, &st.customers[&id])),
            Err(r) => return Err(r),
        }
    }
    Ok(HttpResponse::Created().json(out))
}

/// `PUT /customers/{id}`: a REST update body (`first_name`, `billing`,
/// ...); fires `customer.updated`.
async fn update_customer(
    world: web::Data<World>,
    id: web::Path<u64>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Fail> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    if let Err(e) = customers::update(&mut st, id, &body) {
        return Err(from_wc(e));
    }
    delivery::fire(&world, &mut st, "customer.updated", id);
    Ok(HttpResponse::Ok().json(customers::render(&st, &api, &st.customers[&id])))
}

fn new_order(st: &mut State, body: &Value) -> Result<NewOrder, Fail> {
    let mut new = NewOrder {
        status: str_of(body, "status").unwrap_or_else(|| "processing".into()),
        created_via: str_of(body, "created_via").unwrap_or_else(|| "checkout".into()),
        payment_method: str_of(body, "payment_method").unwrap_or_else(|| "stripe".into()),
        payment_method_title: str_of(body, "payment_method_title")
            .unwrap_or_else(|| "Credit Card (Stripe)".into()),
        transaction_id: str_of(body, "transaction_id").unwrap_or_default(),
        customer_note: str_of(body, "customer_note").unwrap_or_default(),
        currency: str_of(body, "currency").unwrap_or_else(|| "USD".into()),
        shipping_total: money_of(body.get("shipping_total")).unwrap_or(0),
        tax_rate_percent: number_of(body.get("tax_rate")).unwrap_or(0.0),
        date_created: date_of(body, "date_created_gmt")?,
        meta_data: body.get("meta_data").cloned().unwrap_or(json!([])),
        ..NewOrder::default()
    };
    if let Some(t) = str_of(body, "shipping_method_title") {
        new.shipping_method_title = t;
    }
    // The customer: by id, by email (a registered one, else a guest), or
    // a `customer` object (registered when found by email, else guest).
    let customer_obj = body.get("customer").cloned().unwrap_or(json!({}));
    let email = str_of(body, "customer_email").or_else(|| str_of(&customer_obj, "email"));
    let found = match body.get("customer_id").and_then(Value::as_u64) {
        Some(id) => match st.customers.get(&id) {
            Some(c) => Some(c.clone()),
            None => return Err(fail(404, format!("no customer {id}"))),
        },
        None => email.as_ref().and_then(|e| {
            st.customers
                .values()
                .find(|c| c.email.eq_ignore_ascii_case(e))
                .cloned()
        }),
    };
    match found {
        Some(c) => {
            new.customer_id = c.id;
            new.billing = c.billing.clone();
            if new.billing.email.is_empty() {
                new.billing.email = c.email.clone();
            }
            new.shipping = c.shipping.clone();
        }
        None => {
            new.billing = Address {
                first_name: str_of(&customer_obj, "first_name").unwrap_or_default(),
                last_name: str_of(&customer_obj, "last_name").unwrap_or_default(),
                email: email.clone().unwrap_or_default(),
                ..Address::default()
            };
            new.shipping = Address {
                email: String::new(),
                ..new.billing.clone()
            };
        }
    }
    for (field, address) in [
        ("billing", &mut new.billing),
        ("shipping", &mut new.shipping),
    ] {
        for source in [customer_obj.get(field), body.get(field)]
            .into_iter()
            .flatten()
        {
            address.apply(source, field).map_err(from_wc)?;
        }
    }
    let lines = body
        .get("lines")
        .or_else(|| body.get("line_items"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if lines.is_empty() {
        return Err(fail(400, "an order needs lines: [{\"sku\", \"quantity\"}]"));
    }
    for line in &lines {
        let product_id = match (
            str_of(line, "sku"),
            line.get("product_id").and_then(Value::as_u64),
        ) {
            (Some(sku), _) => match st.products.values().find(|p| p.sku == sku) {
                Some(p) => p.id,
                None => return Err(fail(400, format!("unknown SKU {sku}"))),
            },
            (None, Some(id)) => id,
            (None, None) => return Err(fail(400, "each line needs sku or product_id")),
        };
        new.lines.push(NewLine {
            product_id,
            quantity: line.get("quantity").and_then(Value::as_i64).unwrap_or(1),
            price: money_of(line.get("price")),
        });
    }
    Ok(new)
}

/// `POST /orders`: places an order as the checkout would and fires
/// `order.created`. Body: `{customer_id | customer_email | customer:
/// {email, first_name, last_name, billing, shipping}, lines: [{sku |
/// product_id, quantity, price?}], status? ("processing"), shipping_total?,
/// shipping_method_title?, tax_rate? (percent), payment_method?,
/// payment_method_title?, transaction_id?, customer_note?, currency?,
/// date_created_gmt?, created_via?, billing?, shipping?, meta_data?}`.
async fn place_order(
    world: web::Data<World>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Fail> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    let new = match new_order(&mut st, &body) {
        Ok(new) => new,
        Err(r) => return Err(r),
    };
    match orders::build(&mut st, new) {
        Ok(id) => {
            delivery::fire(&world, &mut st, "order.created", id);
            Ok(HttpResponse::Created().json(orders::render(&st, &api, &st.orders[&id])))
        }
        Err(e) => Err(from_wc(e)),
    }
}

/// `PUT /orders/{id}`: `{status?, date_modified_gmt?}` plus any REST update
/// field; fires `order.updated`.
async fn update_order(
    world: web::Data<World>,
    id: web::Path<u64>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Fail> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    if let Err(e) = orders::update(&mut st, id, &body) {
        return Err(from_wc(e));
    }
    match date_of(&body, "date_modified_gmt") {
        Ok(Some(at)) => {
            if let Some(o) = st.orders.get_mut(&id) {
                o.date_modified = at;
            }
        }
        Ok(None) => {}
        Err(r) => return Err(r),
    }
    delivery::fire(&world, &mut st, "order.updated", id);
    Ok(HttpResponse::Ok().json(orders::render(&st, &api, &st.orders[&id])))
}

/// `POST /orders/{id}/refunds`: `{amount? (default: what is left, i.e. a
/// full refund), reason?, lines?: [{sku | line_item_id, quantity,
/// amount?}], restock? (true), api_refund? (false)}`. Creates the refund
/// resource and fires `order.updated` (facts §1.7).
async fn refund_order(
    world: web::Data<World>,
    id: web::Path<u64>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Fail> {
    let api = api_base(&world);
    let order_id = id.into_inner();
    let mut st = world.woocommerce();
    let Some(order) = st.orders.get(&order_id).cloned() else {
        return Err(fail(404, format!("no order {order_id}")));
    };
    let mut lines = Vec::new();
    for line in body
        .get("lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let item = match (
            line.get("line_item_id").and_then(Value::as_u64),
            str_of(line, "sku"),
        ) {
            (Some(item_id), _) => order.line_items.iter().find(|l| l.id == item_id),
            (None, Some(sku)) => order.line_items.iter().find(|l| l.sku == sku),
            _ => None,
        };
        let Some(item) = item else {
            return Err(fail(
                400,
                "a refund line must name a line_item_id or sku of the order",
            ));
        };
        let quantity = line
            .get("quantity")
            .and_then(Value::as_i64)
            .unwrap_or(item.quantity);
        lines.push((item.id, quantity, money_of(line.get("amount"))));
    }
    let amount = money_of(body.get("amount"))
        .or_else(|| lines.is_empty().then(|| order.total - order.refunded(&st)));
    let request = RefundRequest {
        amount,
        reason: str_of(&body, "reason").unwrap_or_default(),
        refunded_by: 1,
        lines,
        api_refund: body
            .get("api_refund")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        restock: body.get("restock").and_then(Value::as_bool).unwrap_or(true),
    };
    match refunds::create(&mut st, order_id, request) {
        Ok(refund_id) => {
            delivery::fire(&world, &mut st, "order.updated", order_id);
            Ok(HttpResponse::Created().json(json!({
                "refund": refunds::render(&st, &api, &st.refunds[&refund_id]),
                "order": orders::render(&st, &api, &st.orders[&order_id]),
            })))
        }
        Err(e) => Err(from_wc(e)),
    }
}

/// `GET /webhooks`: every webhook with its secret and failure count.
async fn list_webhooks(world: web::Data<World>) -> HttpResponse {
    let api = api_base(&world);
    let st = world.woocommerce();
    let out: Vec<Value> = st
        .webhooks
        .values()
        .map(|w| {
            let mut v = webhooks::render(&st, &api, w, true);
            v["failure_count"] = w.failure_count.into();
            v
        })
        .collect();
    HttpResponse::Ok().json(out)
}

/// `GET /deliveries?webhook_id=&kind=`: deliveries and pings, oldest first.
async fn list_deliveries(
    world: web::Data<World>,
    query: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    let st = world.woocommerce();
    let webhook = query
        .iter()
        .find(|(k, _)| k == "webhook_id")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let kind = query
        .iter()
        .find(|(k, _)| k == "kind")
        .map(|(_, v)| v.clone());
    let out: Vec<&delivery::DeliveryRecord> = st
        .deliveries
        .iter()
        .filter(|d| webhook.is_none_or(|w| d.webhook_id == w))
        .filter(|d| kind.as_ref().is_none_or(|k| d.kind == k))
        .collect();
    HttpResponse::Ok().json(out)
}

async fn clear_deliveries(world: web::Data<World>) -> HttpResponse {
    world.woocommerce().deliveries.clear();
    HttpResponse::NoContent().finish()
}
