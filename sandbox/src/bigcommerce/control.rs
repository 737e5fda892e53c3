//! Control routes under `/_sandbox/bigcommerce`: settings, reset, extra
//! API accounts, the rate-limit window, seeding products and customers,
//! stock changes, store events (place, update and refund an order), and
//! the hooks, deliveries and deactivation notices for inspection.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::auth::ApiAccount;
use super::orders::{self, NewLine, NewOrder};
use super::refunds::{self, GATEWAY};
use super::{
    catalog, cents_of, customers, now, number, parse_date, store_url, webhooks, BcError, Settings,
    State,
};
use crate::{Seed, World};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(get_settings))
        .route("/settings", web::put().to(put_settings))
        .route("/reset", web::post().to(reset))
        .route("/api_accounts", web::get().to(list_accounts))
        .route("/api_accounts", web::post().to(add_account))
        .route("/rate_limit", web::get().to(get_rate))
        .route("/rate_limit", web::put().to(put_rate))
        .route("/rate_limit/reset", web::post().to(reset_rate))
        .route("/products", web::post().to(seed_products))
        .route("/products/{id}", web::put().to(update_product))
        .route("/stock", web::post().to(change_stock))
        .route("/customers", web::post().to(seed_customers))
        .route("/customers/{id}", web::put().to(update_customer))
        .route("/orders", web::post().to(place_order))
        .route("/orders/{id}", web::put().to(update_order))
        .route("/orders/{id}/refunds", web::post().to(refund_order))
        .route("/hooks", web::get().to(list_hooks))
        .route("/hooks/age", web::post().to(age_hooks))
        .route("/deliveries", web::get().to(list_deliveries))
        .route("/deliveries", web::delete().to(clear_deliveries))
        .route("/notices", web::get().to(list_notices));
}

/// A refused control request: `{"error"}` with its status.
fn fail(status: u16, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({ "error": message.into() }))
}

fn from_bc(e: BcError) -> HttpResponse {
    fail(e.status.as_u16(), e.title)
}

async fn get_settings(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.bigcommerce().settings)
}

/// `PUT /settings`: any subset of the settings.
async fn put_settings(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut st = world.bigcommerce();
    let mut current = serde_json::to_value(&st.settings).unwrap_or_default();
    if let (Value::Object(c), Value::Object(patch)) = (&mut current, body.into_inner()) {
        c.extend(patch);
    }
    match serde_json::from_value::<Settings>(current) {
        Ok(s) => {
            st.settings = s;
            HttpResponse::Ok().json(&st.settings)
        }
        Err(e) => fail(400, e.to_string()),
    }
}

/// `POST /reset {"seed": "demo"|"empty"}`.
async fn reset(world: web::Data<World>, body: Option<web::Json<Value>>) -> HttpResponse {
    let seed = match body
        .as_ref()
        .and_then(|b| b.get("seed"))
        .and_then(Value::as_str)
    {
        Some("demo") => Seed::Demo,
        Some("empty") | None => Seed::Empty,
        Some(other) => return fail(400, format!("unknown seed {other}")),
    };
    *world.bigcommerce() = State::new(seed);
    HttpResponse::Ok().json(json!({ "seed": format!("{seed:?}").to_lowercase() }))
}

async fn list_accounts(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.bigcommerce().accounts)
}

/// `POST /api_accounts {"name", "read_only"}`: another API account of the
/// store (its own hooks and secret; read-only scopes refuse writes, 403).
async fn add_account(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return fail(400, "name is required");
    };
    let read_only = body
        .get("read_only")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut st = world.bigcommerce();
    if st.accounts.iter().any(|a| a.name == name) {
        return fail(409, format!("an account named {name} exists"));
    }
    let account = ApiAccount::derived(name, read_only);
    st.accounts.push(account.clone());
    HttpResponse::Created().json(account)
}

async fn get_rate(world: web::Data<World>) -> HttpResponse {
    let st = world.bigcommerce();
    let info = st.rate.peek(
        st.settings.rate_limit_quota,
        st.settings.rate_limit_window_ms,
    );
    HttpResponse::Ok().json(info.json())
}

/// `PUT /rate_limit {"quota", "window_ms"}`: sets the quota (and window)
/// and starts a fresh window.
async fn put_rate(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut st = world.bigcommerce();
    if let Some(q) = body.get("quota").and_then(Value::as_u64) {
        st.settings.rate_limit_quota = q as u32;
    }
    if let Some(w) = body.get("window_ms").and_then(Value::as_u64) {
        st.settings.rate_limit_window_ms = w.max(1);
    }
    if let Some(h) = body.get("headers_on_429").and_then(Value::as_bool) {
        st.settings.rate_limit_headers_on_429 = h;
    }
    st.rate.reset();
    let info = st.rate.peek(
        st.settings.rate_limit_quota,
        st.settings.rate_limit_window_ms,
    );
    HttpResponse::Ok().json(info.json())
}

async fn reset_rate(world: web::Data<World>) -> HttpResponse {
    world.bigcommerce().rate.reset();
    HttpResponse::NoContent().finish()
}

fn items(body: Value) -> Vec<Value> {
    match body {
        Value::Array(a) => a,
        other => vec![other],
    }
}

/// `POST /products`: one or an array of `{"sku", "name"?, "price"?,
/// "inventory_level"?, "inventory_tracking"?, "variants"?: [{"sku",
/// "price"?, "inventory_level"?}]}`. No webhooks.
async fn seed_products(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut st = world.bigcommerce();
    let mut out = Vec::new();
    for p in items(body.into_inner()) {
        let Some(sku) = p.get("sku").and_then(Value::as_str) else {
            return fail(400, "sku is required");
        };
        if st.products.values().any(|x| x.sku == sku) {
            return fail(409, format!("a product with SKU {sku} exists"));
        }
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("Product {sku}"), str::to_string);
        let price = p.get("price").and_then(cents_of).unwrap_or(1000);
        let level = p
            .get("inventory_level")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let tracking = p
            .get("inventory_tracking")
            .and_then(Value::as_str)
            .unwrap_or("product")
            .to_string();
        let variants: Vec<catalog::NewVariant> = p
            .get("variants")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .map(|v| {
                        (
                            v.get("sku")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                            v.get("price").and_then(cents_of),
                            v.get("inventory_level")
                                .and_then(Value::as_i64)
                                .unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let at = p
            .get("date_modified")
            .and_then(Value::as_str)
            .and_then(parse_date)
            .unwrap_or_else(now);
        let id = catalog::create_product(
            &mut st,
            catalog::NewProduct {
                name: &name,
                sku,
                price,
                level,
                tracking: &tracking,
                variants: &variants,
                at,
            },
        );
        out.push(catalog::render_product(&st.products[&id], true));
    }
    HttpResponse::Created().json(out)
}

/// `PUT /products/{id}` with v3 product fields (`price`, `inventory_level`,
/// `name`, ...): as the merchant editing it; fires `store/product/updated`
/// (and the inventory event when the stock changed).
async fn update_product(
    world: web::Data<World>,
    path: web::Path<u64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let id = path.into_inner();
    let mut st = world.bigcommerce();
    match catalog::apply_product(&mut st, id, &body) {
        Ok(level) => {
            catalog::product_events(&world, &mut st, id, level);
            HttpResponse::Ok().json(catalog::render_product(&st.products[&id], true))
        }
        Err(e) => from_bc(e),
    }
}

/// `PUT /customers/{id}` with customer fields; fires
/// `store/customer/updated`.
async fn update_customer(
    world: web::Data<World>,
    path: web::Path<u64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let id = path.into_inner();
    let mut st = world.bigcommerce();
    match customers::update_one(&world, &mut st, id, &body) {
        Ok(()) => HttpResponse::Ok().json(customers::render(&st.customers[&id])),
        Err(e) => from_bc(e),
    }
}

/// `POST /stock {"sku"|"product_id"|"variant_id", "quantity", "relative"?}`:
/// sets (or moves) stock as the store's own admin would; fires the
/// inventory webhooks.
async fn change_stock(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut st = world.bigcommerce();
    let Some(qty) = body.get("quantity").and_then(Value::as_i64) else {
        return fail(400, "quantity is required");
    };
    let relative = body
        .get("relative")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let target = if let Some(pid) = body.get("product_id").and_then(Value::as_u64) {
        st.products
            .get(&pid)
            .map(|p| (p.id, p.variants.first().map(|v| v.id)))
    } else if let Some(vid) = body.get("variant_id").and_then(Value::as_u64) {
        st.products
            .values()
            .find(|p| p.variants.iter().any(|v| v.id == vid))
            .map(|p| (p.id, Some(vid)))
    } else if let Some(sku) = body.get("sku").and_then(Value::as_str) {
        st.products.values().find_map(|p| {
            if p.sku == sku {
                Some((p.id, p.variants.first().map(|v| v.id)))
            } else {
                p.variants
                    .iter()
                    .find(|v| v.sku == sku)
                    .map(|v| (p.id, Some(v.id)))
            }
        })
    } else {
        return fail(400, "sku, product_id or variant_id is required");
    };
    let Some((pid, vid)) = target else {
        return fail(404, "no such product or variant");
    };
    catalog::change_stock(&world, &mut st, pid, vid, relative, qty, "updated");
    HttpResponse::Ok().json(catalog::render_product(&st.products[&pid], true))
}

/// `POST /customers`: one or an array of `{"email", "first_name",
/// "last_name", ...}`. No webhooks.
async fn seed_customers(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut st = world.bigcommerce();
    let mut out = Vec::new();
    for c in items(body.into_inner()) {
        match customers::insert(&mut st, &c, now()) {
            Ok(id) => out.push(customers::render(&st.customers[&id])),
            Err(e) => return from_bc(e),
        }
    }
    HttpResponse::Created().json(out)
}

/// `POST /orders {"customer_id"? | "email"?, "billing_address"?,
/// "products": [{"sku", "quantity", "price"?}], "status_id"?,
/// "shipping_cost"?, "payment_method"?, "paid"?}`: places an order (takes
/// stock, records the payment) and fires `store/order/created`. Answers
/// the v2 order.
async fn place_order(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let base = store_url(&world);
    let mut st = world.bigcommerce();
    let mut customer_id = body.get("customer_id").and_then(Value::as_u64).unwrap_or(0);
    if let Some(email) = body.get("email").and_then(Value::as_str) {
        match st
            .customers
            .values()
            .find(|c| c.email.eq_ignore_ascii_case(email))
        {
            Some(c) => customer_id = c.id,
            None => return fail(404, format!("no customer with e-mail {email}")),
        }
    }
    let lines: Vec<NewLine> = body
        .get("products")
        .and_then(Value::as_array)
        .map(|ls| {
            ls.iter()
                .map(|l| NewLine {
                    sku: l
                        .get("sku")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    quantity: l.get("quantity").and_then(Value::as_u64).unwrap_or(1),
                    price: l.get("price").and_then(cents_of),
                })
                .collect()
        })
        .unwrap_or_default();
    let new = NewOrder {
        customer_id,
        billing: body.get("billing_address").cloned(),
        lines,
        status_id: body.get("status_id").and_then(Value::as_u64),
        shipping_cost: body.get("shipping_cost").and_then(cents_of).unwrap_or(0),
        payment_method: body
            .get("payment_method")
            .and_then(Value::as_str)
            .map(str::to_string),
        paid: body.get("paid").and_then(Value::as_bool),
        at: None,
        live: true,
    };
    match orders::place(Some(&world), &mut st, new) {
        Ok(id) => HttpResponse::Created().json(orders::render(&base, &st.orders[&id])),
        Err(e) => from_bc(e),
    }
}

/// `PUT /orders/{id} {"status_id"}`: fires `store/order/updated` and
/// `store/order/statusUpdated`.
async fn update_order(
    world: web::Data<World>,
    path: web::Path<u64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let id = path.into_inner();
    let base = store_url(&world);
    let mut st = world.bigcommerce();
    if !st.orders.contains_key(&id) {
        return fail(404, format!("no order {id}"));
    }
    let Some(status) = body
        .get("status_id")
        .and_then(Value::as_u64)
        .filter(|s| orders::STATUSES.iter().any(|(i, _)| i == s))
    else {
        return fail(400, "status_id must be a known status id");
    };
    orders::set_status(&world, &mut st, id, status);
    HttpResponse::Ok().json(orders::render(&base, &st.orders[&id]))
}

/// `POST /orders/{id}/refunds`: a v3 refund request body (`items`,
/// `payments`), or the short forms `{"amount": "10.00", "reason"?}` (an
/// ORDER-level refund) and `{"lines": [{"sku", "quantity"}]}`; payments
/// default to the card gateway. Fires `store/order/refund/created` and the
/// status events.
async fn refund_order(
    world: web::Data<World>,
    path: web::Path<u64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let id = path.into_inner();
    let mut st = world.bigcommerce();
    let Some(order) = st.orders.get(&id).cloned() else {
        return fail(404, format!("no order {id}"));
    };
    let mut request = body.into_inner();
    if request.get("items").is_none() {
        let mut items = Vec::new();
        if let Some(amount) = request.get("amount").and_then(cents_of) {
            items.push(json!({ "item_type": "ORDER", "item_id": id, "amount": number(amount) }));
        }
        for l in request
            .get("lines")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let sku = l.get("sku").and_then(Value::as_str).unwrap_or("");
            let Some(line) = order.lines.iter().find(|x| x.sku == sku) else {
                return fail(400, format!("the order has no line with SKU {sku}"));
            };
            let quantity = l
                .get("quantity")
                .and_then(Value::as_u64)
                .unwrap_or(line.quantity);
            items.push(json!({ "item_type": "PRODUCT", "item_id": line.id, "quantity": quantity }));
        }
        if items.is_empty() {
            // No amount and no lines: refund everything left.
            items.push(json!({ "item_type": "ORDER", "item_id": id,
                               "amount": number(order.total() - order.refunded) }));
        }
        request["items"] = items.into();
    }
    if request.get("payments").is_none() {
        let total: i64 = {
            let items = request["items"].as_array().cloned().unwrap_or_default();
            items
                .iter()
                .map(|i| match i.get("amount").and_then(cents_of) {
                    Some(c) => c,
                    None => {
                        let op = i.get("item_id").and_then(Value::as_u64).unwrap_or(0);
                        let q = i.get("quantity").and_then(Value::as_u64).unwrap_or(0) as i64;
                        order
                            .lines
                            .iter()
                            .find(|l| l.id == op)
                            .map_or(0, |l| l.price * q)
                    }
                })
                .sum()
        };
        request["payments"] =
            json!([{ "provider_id": GATEWAY, "amount": number(total), "offline": false }]);
    }
    match refunds::create_refund(&world, &mut st, id, &request) {
        Ok(rid) => HttpResponse::Created().json(json!({ "refund_id": rid, "order_id": id,
            "refunded_amount": number(st.orders[&id].refunded), "status_id": st.orders[&id].status_id })),
        Err(e) => from_bc(e),
    }
}

/// Every hook of every account, with its status.
async fn list_hooks(world: web::Data<World>) -> HttpResponse {
    let st = world.bigcommerce();
    let list: Vec<Value> = st
        .hooks
        .values()
        .map(|h| {
            let mut v = webhooks::render(h);
            v["status"] = h.status.clone().into();
            v
        })
        .collect();
    HttpResponse::Ok().json(list)
}

/// `POST /hooks/age {"days"}`: as if `days` passed without events; hooks
/// idle for 90 days are deactivated (§2.7). Answers their ids.
async fn age_hooks(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let Some(days) = body.get("days").and_then(Value::as_i64) else {
        return fail(400, "days is required");
    };
    let ids = super::delivery::age_hooks(&mut world.bigcommerce(), days);
    HttpResponse::Ok().json(json!({ "deactivated": ids }))
}

async fn list_deliveries(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.bigcommerce().deliveries)
}

async fn clear_deliveries(world: web::Data<World>) -> HttpResponse {
    world.bigcommerce().deliveries.clear();
    HttpResponse::NoContent().finish()
}

/// The deactivation e-mails "sent" (§2.10).
async fn list_notices(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.bigcommerce().notices)
}
