//! Control routes under `/_sandbox/adobe_commerce`: reset, settings
//! (variants, rate limit), the integration (revoke), store views, seeding
//! products and customers, changing price and stock, placing orders
//! (totals computed, invoiced when paid), status changes and refunds.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::catalog::Product;
use super::customers::{Address, Customer};
use super::sales::{self, NewLine, NewOrder, RefundRequest};
use super::StoreView;
use super::{cents_of, now, parse_date, percent_decode, qty_of, MageError, Settings, State};
use crate::{Seed, World};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/reset", web::post().to(reset))
        .route("/settings", web::get().to(get_settings))
        .route("/settings", web::put().to(put_settings))
        .route("/integration", web::get().to(get_integration))
        .route("/integration", web::put().to(put_integration))
        .route("/stores", web::get().to(list_stores))
        .route("/stores", web::post().to(add_store))
        .route("/products", web::get().to(list_products))
        .route("/products", web::post().to(seed_products))
        .route("/products/{sku:.*}", web::put().to(update_product))
        .route("/customers", web::get().to(list_customers))
        .route("/customers", web::post().to(seed_customers))
        .route("/customers/{id}", web::put().to(update_customer))
        .route("/orders", web::get().to(list_orders))
        .route("/orders", web::post().to(place_order))
        .route("/orders/{id}", web::put().to(update_order))
        .route("/orders/{id}/refund", web::post().to(refund_order))
        .route("/creditmemos", web::get().to(list_creditmemos))
        .route("/shipments", web::get().to(list_shipments));
}

fn fail(status: u16, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({ "error": message.into() }))
}

fn from_mage(e: MageError) -> HttpResponse {
    HttpResponse::build(e.status).json(json!({ "error": e.message, "magento": e.body() }))
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

fn str_of(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(Value::as_str).map(str::to_string)
}

async fn reset(world: web::Data<World>, body: Option<web::Json<Value>>) -> HttpResponse {
    let seed = match body
        .as_ref()
        .and_then(|b| b.get("seed"))
        .and_then(Value::as_str)
    {
        Some("demo") => Seed::Demo,
        Some("empty") | None => Seed::Empty,
        Some(other) => return fail(400, format!("unknown seed '{other}' (demo, empty)")),
    };
    *world.adobe_commerce() = State::new(seed);
    HttpResponse::Ok().json(json!({ "seed": if seed == Seed::Demo { "demo" } else { "empty" } }))
}

async fn get_settings(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.adobe_commerce().settings)
}

/// Merges the given members into the settings.
async fn put_settings(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.adobe_commerce();
    let mut current = serde_json::to_value(&state.settings).unwrap_or_default();
    let Some(patch) = body.as_object() else {
        return fail(400, "settings: a JSON object");
    };
    for (k, v) in patch {
        if current.get(k).is_none() {
            return fail(400, format!("unknown setting '{k}'"));
        }
        current[k] = v.clone();
    }
    match serde_json::from_value::<Settings>(current) {
        Ok(s) => {
            state.settings = s;
            state.rate.reset();
            HttpResponse::Ok().json(&state.settings)
        }
        Err(e) => fail(400, format!("settings: {e}")),
    }
}

async fn get_integration(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.adobe_commerce().integration)
}

/// `{"revoked": true|false}`.
async fn put_integration(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.adobe_commerce();
    if let Some(r) = body.get("revoked").and_then(Value::as_bool) {
        state.integration.revoked = r;
    }
    HttpResponse::Ok().json(&state.integration)
}

async fn list_stores(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.adobe_commerce().stores)
}

/// `{"code": "fr", "name": "French"}`: a store view on website 1.
async fn add_store(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.adobe_commerce();
    let Some(code) = str_of(&body, "code").filter(|c| !c.is_empty() && c != "all") else {
        return fail(400, "code: required (not 'all')");
    };
    if state.store(&code).is_some() {
        return fail(409, format!("store '{code}' exists"));
    }
    let id = state.stores.iter().map(|s| s.id).max().unwrap_or(0) + 1;
    let store = StoreView {
        id,
        name: str_of(&body, "name").unwrap_or_else(|| code.clone()),
        code,
        website_id: 1,
    };
    state.stores.push(store.clone());
    HttpResponse::Created().json(store)
}

async fn list_products(world: web::Data<World>) -> HttpResponse {
    let state = world.adobe_commerce();
    let all: Vec<Value> = state.products.values().map(Product::json).collect();
    HttpResponse::Ok().json(all)
}

/// One product, an array, or `{"products": [...]}`: `{sku, name, price,
/// qty, status?, weight?, is_in_stock?}`; an existing SKU is updated.
async fn seed_products(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.adobe_commerce();
    let mut out = Vec::new();
    for p in items(&body, "products") {
        let Some(sku) = str_of(&p, "sku").filter(|s| !s.is_empty()) else {
            return fail(400, "sku: required");
        };
        let id = match state.product_by_sku(&sku) {
            Some(id) => id,
            None => {
                let id = state.product_id();
                let at = p
                    .get("created_at")
                    .and_then(Value::as_str)
                    .and_then(parse_date)
                    .unwrap_or_else(now);
                let name = str_of(&p, "name").unwrap_or_else(|| sku.clone());
                state
                    .products
                    .insert(id, Product::new(id, &sku, &name, 0, 0, at));
                id
            }
        };
        let Some(product) = state.products.get_mut(&id) else {
            continue;
        };
        let created = product.created_at;
        if let Err(e) = product.apply(&p) {
            return from_mage(e);
        }
        if let Err(e) = product.apply_stock(&p) {
            return from_mage(e);
        }
        if p.get("updated_at").is_none() && p.get("created_at").is_some() {
            product.updated_at = created;
        }
        out.push(product.json());
    }
    HttpResponse::Created().json(out)
}

/// `{price?, qty?, is_in_stock?, name?, status?}`. A price, name or status
/// change bumps the product's `updated_at`; a stock change does not (the
/// stock item is its own record).
async fn update_product(
    req: HttpRequest,
    world: web::Data<World>,
    body: web::Json<Value>,
) -> HttpResponse {
    let sku = percent_decode(req.match_info().get("sku").unwrap_or_default(), false);
    let mut state = world.adobe_commerce();
    let Some(id) = state.product_by_sku(&sku) else {
        return fail(404, format!("no product with SKU {sku}"));
    };
    let Some(product) = state.products.get_mut(&id) else {
        return fail(404, "gone");
    };
    let touched = ["price", "name", "status", "weight", "visibility"]
        .iter()
        .any(|k| body.get(k).is_some());
    let before = product.updated_at;
    if let Err(e) = product
        .apply(&body)
        .and_then(|_| product.apply_stock(&body))
    {
        return from_mage(e);
    }
    if !touched {
        product.updated_at = before;
    }
    HttpResponse::Ok().json(product.json())
}

async fn list_customers(world: web::Data<World>) -> HttpResponse {
    let state = world.adobe_commerce();
    let all: Vec<Value> = state.customers.values().map(Customer::json).collect();
    HttpResponse::Ok().json(all)
}

fn address_of(v: &Value, first: &str, last: &str) -> Address {
    let street = match v.get("street") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec!["1 Main Street".into()],
    };
    Address {
        firstname: str_of(v, "firstname").unwrap_or_else(|| first.into()),
        lastname: str_of(v, "lastname").unwrap_or_else(|| last.into()),
        company: str_of(v, "company").unwrap_or_default(),
        street,
        city: str_of(v, "city").unwrap_or_else(|| "Austin".into()),
        region: str_of(v, "region").unwrap_or_else(|| "Texas".into()),
        region_code: str_of(v, "region_code").unwrap_or_else(|| "TX".into()),
        region_id: v.get("region_id").and_then(Value::as_u64).unwrap_or(57),
        postcode: str_of(v, "postcode").unwrap_or_else(|| "73301".into()),
        country_id: str_of(v, "country_id").unwrap_or_else(|| "US".into()),
        telephone: str_of(v, "telephone").unwrap_or_else(|| "555-0100".into()),
        email: str_of(v, "email").unwrap_or_default(),
    }
}

/// One customer, an array, or `{"customers": [...]}`: `{email, firstname,
/// lastname, dob?, address?: {street, city, region, region_code,
/// region_id, postcode, country_id, telephone}}`.
async fn seed_customers(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.adobe_commerce();
    let mut out = Vec::new();
    for c in items(&body, "customers") {
        let Some(email) = str_of(&c, "email").filter(|e| e.contains('@')) else {
            return fail(400, "email: required");
        };
        if state
            .customers
            .values()
            .any(|x| x.email.eq_ignore_ascii_case(&email))
        {
            return fail(
                409,
                format!("A customer with the same email address already exists: {email}"),
            );
        }
        let first = str_of(&c, "firstname").unwrap_or_else(|| "Jane".into());
        let last = str_of(&c, "lastname").unwrap_or_else(|| "Doe".into());
        let at = c
            .get("created_at")
            .and_then(Value::as_str)
            .and_then(parse_date)
            .unwrap_or_else(now);
        let id = state.customer_id();
        let address_id = state.address_id();
        let customer = Customer {
            id,
            email,
            firstname: first.clone(),
            lastname: last.clone(),
            dob: str_of(&c, "dob"),
            group_id: c.get("group_id").and_then(Value::as_u64).unwrap_or(1),
            store_id: 1,
            address: Some((
                address_id,
                address_of(c.get("address").unwrap_or(&Value::Null), &first, &last),
            )),
            created_at: at,
            updated_at: at,
        };
        out.push(customer.json());
        state.customers.insert(id, customer);
    }
    HttpResponse::Created().json(out)
}

/// `{email?, firstname?, lastname?, dob?, group_id?, address?}`: changes
/// the customer and bumps `updated_at` (what incremental pulls see).
async fn update_customer(
    world: web::Data<World>,
    id: web::Path<u64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut state = world.adobe_commerce();
    let id = id.into_inner();
    if let Some(email) = str_of(&body, "email") {
        if state
            .customers
            .values()
            .any(|c| c.id != id && c.email.eq_ignore_ascii_case(&email))
        {
            return fail(
                409,
                format!("A customer with the same email address already exists: {email}"),
            );
        }
    }
    let next_address = state.address_id();
    let Some(c) = state.customers.get_mut(&id) else {
        return fail(404, format!("no customer {id}"));
    };
    if let Some(v) = str_of(&body, "email") {
        c.email = v;
    }
    if let Some(v) = str_of(&body, "firstname") {
        c.firstname = v;
    }
    if let Some(v) = str_of(&body, "lastname") {
        c.lastname = v;
    }
    if let Some(v) = str_of(&body, "dob") {
        c.dob = Some(v);
    }
    if let Some(v) = body.get("group_id").and_then(Value::as_u64) {
        c.group_id = v;
    }
    if let Some(a) = body.get("address") {
        let address_id = c.address.as_ref().map_or(next_address, |x| x.0);
        c.address = Some((address_id, address_of(a, &c.firstname, &c.lastname)));
    }
    c.updated_at = now();
    HttpResponse::Ok().json(c.json())
}

async fn list_orders(world: web::Data<World>) -> HttpResponse {
    let state = world.adobe_commerce();
    let all: Vec<Value> = state.orders.values().map(|o| o.json()).collect();
    HttpResponse::Ok().json(all)
}

async fn list_creditmemos(world: web::Data<World>) -> HttpResponse {
    let state = world.adobe_commerce();
    let all: Vec<Value> = state
        .creditmemos
        .values()
        .filter_map(|m| state.orders.get(&m.order_id).map(|o| m.json(o)))
        .collect();
    HttpResponse::Ok().json(all)
}

/// The shipments made with `POST /V1/order/{id}/ship`, oldest first.
async fn list_shipments(world: web::Data<World>) -> HttpResponse {
    let state = world.adobe_commerce();
    let all: Vec<Value> = state
        .shipments
        .iter()
        .enumerate()
        .map(|(n, s)| json!({"entity_id": n + 1, "order_id": s.order_id, "tracks": s.tracks}))
        .collect();
    HttpResponse::Ok().json(all)
}

/// Places an order: `{customer_id? | customer_email?, firstname?,
/// lastname?, lines: [{sku, qty, price?}], shipping_amount? (5),
/// tax_percent? (0), discount_amount? (0), paid? (true), store_code?,
/// currency? ("USD"), payment_method? ("checkmo"), created_at?,
/// billing_address?, shipping_address?, decrement_stock? (true)}`.
/// A `customer_email` of an existing customer links the order to them;
/// any other is a guest order.
async fn place_order(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.adobe_commerce();
    let mut new = NewOrder::default();
    let email = str_of(&body, "customer_email");
    new.customer_id = body.get("customer_id").and_then(Value::as_u64).or_else(|| {
        let e = email.as_deref()?;
        state
            .customers
            .values()
            .find(|c| c.email.eq_ignore_ascii_case(e))
            .map(|c| c.id)
    });
    new.email = email;
    new.firstname = str_of(&body, "firstname");
    new.lastname = str_of(&body, "lastname");
    let Some(lines) = body.get("lines").and_then(Value::as_array) else {
        return fail(400, "lines: required, [{sku, qty, price?}]");
    };
    for l in lines {
        let Some(sku) = str_of(l, "sku") else {
            return fail(400, "lines[].sku: required");
        };
        new.lines.push(NewLine {
            sku,
            qty: l.get("qty").and_then(qty_of).unwrap_or(1),
            price: l.get("price").and_then(cents_of),
        });
    }
    if let Some(v) = body.get("shipping_amount").and_then(cents_of) {
        new.shipping_amount = v;
    }
    if let Some(v) = body.get("tax_percent").and_then(Value::as_f64) {
        new.tax_percent = v;
    }
    if let Some(v) = body.get("discount_amount").and_then(cents_of) {
        new.discount_amount = v;
    }
    if let Some(v) = body.get("paid").and_then(Value::as_bool) {
        new.paid = v;
    }
    if let Some(v) = body.get("decrement_stock").and_then(Value::as_bool) {
        new.decrement_stock = v;
    }
    if let Some(code) = str_of(&body, "store_code") {
        match state.store(&code) {
            Some(s) => new.store_id = s.id,
            None => return fail(400, format!("no store '{code}'")),
        }
    }
    if let Some(v) = str_of(&body, "currency") {
        new.currency = v;
    }
    if let Some(v) = str_of(&body, "payment_method") {
        new.payment_method = v;
    }
    if let Some(s) = str_of(&body, "created_at") {
        match parse_date(&s) {
            Some(d) => new.created_at = Some(d),
            None => return fail(400, "created_at: YYYY-MM-DD HH:MM:SS"),
        }
    }
    let first = new.firstname.clone().unwrap_or_else(|| "Guest".into());
    let last = new.lastname.clone().unwrap_or_else(|| "Shopper".into());
    new.billing = body
        .get("billing_address")
        .map(|a| address_of(a, &first, &last));
    new.shipping = body
        .get("shipping_address")
        .map(|a| address_of(a, &first, &last));
    match sales::place(&mut state, new) {
        Ok(id) => HttpResponse::Created().json(state.orders[&id].json()),
        Err(e) => fail(400, e),
    }
}

/// `{state?, status?, shipped?: true, comment?}`: moves the order (e.g. to
/// `complete` when shipped); bumps `updated_at`.
async fn update_order(
    world: web::Data<World>,
    id: web::Path<u64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut state = world.adobe_commerce();
    let Some(order) = state.orders.get_mut(&id) else {
        return fail(404, format!("no order {id}"));
    };
    if body.get("shipped").and_then(Value::as_bool) == Some(true) {
        for i in &mut order.items {
            i.qty_shipped = i.qty_ordered - i.qty_refunded;
        }
        if order.state == "processing" {
            order.state = "complete".into();
            order.status = "complete".into();
        }
    }
    if let Some(s) = str_of(&body, "state") {
        order.state = s;
    }
    if let Some(s) = str_of(&body, "status") {
        order.status = s;
    }
    if let Some(c) = str_of(&body, "comment") {
        let entity_id = order.histories.len() as u64 + 1000 * order.entity_id;
        let status = order.status.clone();
        order.histories.push(sales::Comment {
            entity_id,
            comment: c,
            status,
            is_customer_notified: false,
            is_visible_on_front: false,
            created_at: now(),
        });
    }
    order.updated_at = now();
    HttpResponse::Ok().json(order.json())
}

/// `{items?: [{sku | order_item_id, qty}], shipping_amount?,
/// adjustment_positive?, adjustment_negative?, comment?}`: an offline credit
/// memo as `POST /V1/order/{id}/refund` makes (everything left when no
/// items are given).
async fn refund_order(
    world: web::Data<World>,
    id: web::Path<u64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut state = world.adobe_commerce();
    let id = id.into_inner();
    let Some(order) = state.orders.get(&id) else {
        return fail(404, format!("no order {id}"));
    };
    let mut r = RefundRequest::default();
    for l in body
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let item_id = match (
            l.get("order_item_id").and_then(Value::as_u64),
            str_of(&l, "sku"),
        ) {
            (Some(i), _) => i,
            (None, Some(sku)) => match order.items.iter().find(|i| i.sku == sku) {
                Some(i) => i.item_id,
                None => return fail(400, format!("order {id} has no line {sku}")),
            },
            _ => return fail(400, "items[]: sku or order_item_id"),
        };
        r.items
            .push((item_id, l.get("qty").and_then(qty_of).unwrap_or(1)));
    }
    r.shipping_amount = body.get("shipping_amount").and_then(cents_of);
    r.adjustment_positive = body
        .get("adjustment_positive")
        .and_then(cents_of)
        .unwrap_or(0);
    r.adjustment_negative = body
        .get("adjustment_negative")
        .and_then(cents_of)
        .unwrap_or(0);
    r.comment = str_of(&body, "comment");
    match sales::refund(&mut state, id, r) {
        Ok(memo) => {
            let m = &state.creditmemos[&memo];
            HttpResponse::Created().json(m.json(&state.orders[&id]))
        }
        Err(e) => from_mage(e),
    }
}
