//! Orders (facts §1.4): list with paging and `modified_after`, get, create,
//! update (fires `order.updated`), delete/trash, batch. Money is decimal
//! strings, `line_items[].price` a number, dates without offset.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::auth::{
    authorize, CANNOT_BATCH, CANNOT_CREATE, CANNOT_DELETE, CANNOT_EDIT, CANNOT_LIST, CANNOT_VIEW,
};
use super::paging::{respond, ListParams};
use super::products::{check_batch_size, item_error};
use super::{
    api_base, apply_meta, body_params, delivery, field_bool, field_int, field_str, links, money,
    now, parse_money, Address, Meta, State, WcError,
};
use crate::World;

/// The statuses the REST schema accepts (facts §1.4).
pub(crate) const STATUSES: [&str; 8] = [
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
];

/// Statuses in which stock has been taken (WooCommerce reduces stock on
/// payment or hold).
fn takes_stock(status: &str) -> bool {
    matches!(status, "processing" | "completed" | "on-hold")
}

/// An order line.
#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub id: u64,
    pub name: String,
    pub product_id: u64,
    pub quantity: i64,
    pub subtotal: i64,
    pub subtotal_tax: i64,
    pub total: i64,
    pub total_tax: i64,
    pub sku: String,
    pub meta_data: Vec<Meta>,
}

/// A shipping line.
#[derive(Debug, Clone)]
pub(crate) struct ShippingLine {
    pub id: u64,
    pub method_title: String,
    pub method_id: String,
    pub total: i64,
    pub total_tax: i64,
}

/// A tax line.
#[derive(Debug, Clone)]
pub(crate) struct TaxLine {
    pub id: u64,
    pub rate_id: u64,
    pub rate_percent: f64,
    pub tax_total: i64,
    pub shipping_tax_total: i64,
}

/// An order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: u64,
    pub number: String,
    pub order_key: String,
    pub created_via: String,
    pub status: String,
    pub currency: String,
    pub date_created: NaiveDateTime,
    pub date_modified: NaiveDateTime,
    pub date_paid: Option<NaiveDateTime>,
    pub date_completed: Option<NaiveDateTime>,
    pub shipping_total: i64,
    pub shipping_tax: i64,
    pub cart_tax: i64,
    pub total: i64,
    pub customer_id: u64,
    pub customer_note: String,
    pub billing: Address,
    pub shipping: Address,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub meta_data: Vec<Meta>,
    pub line_items: Vec<LineItem>,
    pub tax_lines: Vec<TaxLine>,
    pub shipping_lines: Vec<ShippingLine>,
    pub stock_reduced: bool,
}

impl Order {
    /// The amount refunded so far, in cents.
    pub fn refunded(&self, state: &State) -> i64 {
        state
            .refunds
            .values()
            .filter(|r| r.order_id == self.id)
            .map(|r| r.amount)
            .sum()
    }
}

/// A line of a new order.
#[derive(Debug, Clone)]
pub(crate) struct NewLine {
    pub product_id: u64,
    pub quantity: i64,
    /// Unit price in cents; the product's price when absent.
    pub price: Option<i64>,
}

/// A new order, as placed at checkout or created over REST.
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub customer_id: u64,
    pub billing: Address,
    pub shipping: Address,
    pub lines: Vec<NewLine>,
    pub status: String,
    pub shipping_total: i64,
    pub shipping_method_title: String,
    pub tax_rate_percent: f64,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub customer_note: String,
    pub currency: String,
    pub created_via: String,
    pub date_created: Option<NaiveDateTime>,
    pub meta_data: Value,
}

impl Default for NewOrder {
    fn default() -> Self {
        NewOrder {
            customer_id: 0,
            billing: Address::default(),
            shipping: Address::default(),
            lines: Vec::new(),
            status: "pending".into(),
            shipping_total: 0,
            shipping_method_title: "Flat rate".into(),
            tax_rate_percent: 0.0,
            payment_method: String::new(),
            payment_method_title: String::new(),
            transaction_id: String::new(),
            customer_note: String::new(),
            currency: "USD".into(),
            created_via: "rest-api".into(),
            date_created: None,
            meta_data: json!([]),
        }
    }
}

fn tax_of(cents: i64, percent: f64) -> i64 {
    (cents as f64 * percent / 100.0).round() as i64
}

/// Builds an order as WooCommerce computes it: line subtotal = unit price ×
/// quantity, tax per line at the rate, cart tax = sum, total = lines +
/// shipping + taxes (no coupons). Reduces managed stock when the status
/// takes stock. Returns its id.
pub(crate) fn build(state: &mut State, new: NewOrder) -> Result<u64, WcError> {
    if !STATUSES.contains(&new.status.as_str()) {
        return Err(status_error());
    }
    let id = state.post_id();
    let at = new.date_created.unwrap_or_else(now);
    let mut line_items = Vec::new();
    for line in &new.lines {
        let Some(p) = state.products.get(&line.product_id) else {
            return Err(WcError::new(
                400,
                "woocommerce_rest_invalid_product_id",
                format!("Product ID {} is invalid.", line.product_id),
            ));
        };
        if line.quantity <= 0 {
            return Err(WcError::invalid_param(
                "line_items",
                "quantity must be greater than 0.",
            ));
        }
        let unit = line.price.or(p.price()).unwrap_or(0);
        let subtotal = unit * line.quantity;
        let tax = tax_of(subtotal, new.tax_rate_percent);
        let (name, sku) = (p.name.clone(), p.sku.clone());
        line_items.push(LineItem {
            id: state.item_id(),
            name,
            product_id: line.product_id,
            quantity: line.quantity,
            subtotal,
            subtotal_tax: tax,
            total: subtotal,
            total_tax: tax,
            sku,
            meta_data: Vec::new(),
        });
    }
    let cart_tax: i64 = line_items.iter().map(|l| l.total_tax).sum();
    let items_total: i64 = line_items.iter().map(|l| l.total).sum();
    let shipping_tax = tax_of(new.shipping_total, new.tax_rate_percent);
    let shipping_lines = if new.shipping_total > 0 || !new.lines.is_empty() {
        vec![ShippingLine {
            id: state.item_id(),
            method_title: new.shipping_method_title.clone(),
            method_id: if new.shipping_total == 0 {
                "free_shipping"
            } else {
                "flat_rate"
            }
            .into(),
            total: new.shipping_total,
            total_tax: shipping_tax,
        }]
    } else {
        Vec::new()
    };
    let tax_lines = if new.tax_rate_percent > 0.0 {
        vec![TaxLine {
            id: state.item_id(),
            rate_id: 1,
            rate_percent: new.tax_rate_percent,
            tax_total: cart_tax,
            shipping_tax_total: shipping_tax,
        }]
    } else {
        Vec::new()
    };
    let paid = matches!(new.status.as_str(), "processing" | "completed");
    let mut order = Order {
        id,
        number: id.to_string(),
        order_key: format!(
            "wc_order_{:013x}",
            id.wrapping_mul(0x9E37_79B9_7F4A) & 0xFFFF_FFFF_FFFF
        ),
        created_via: new.created_via,
        status: new.status.clone(),
        currency: new.currency,
        date_created: at,
        date_modified: at,
        date_paid: paid.then_some(at),
        date_completed: (new.status == "completed").then_some(at),
        shipping_total: new.shipping_total,
        shipping_tax,
        cart_tax,
        total: items_total + new.shipping_total + cart_tax + shipping_tax,
        customer_id: new.customer_id,
        customer_note: new.customer_note,
        billing: new.billing,
        shipping: new.shipping,
        payment_method: new.payment_method,
        payment_method_title: new.payment_method_title,
        transaction_id: new.transaction_id,
        meta_data: Vec::new(),
        line_items,
        tax_lines,
        shipping_lines,
        stock_reduced: false,
    };
    if new.meta_data.is_array() {
        apply_meta(state, &mut order.meta_data, &new.meta_data)?;
    }
    if takes_stock(&order.status) {
        adjust_stock(state, &mut order, true);
    }
    if let Some(c) = state.customers.get_mut(&order.customer_id) {
        if paid {
            c.is_paying_customer = true;
        }
    }
    state.orders.insert(id, order);
    Ok(id)
}

/// Takes (`reduce`) or gives back the order's quantities of managed stock.
fn adjust_stock(state: &mut State, order: &mut Order, reduce: bool) {
    if order.stock_reduced == reduce {
        return;
    }
    for line in &order.line_items {
        if let Some(p) = state.products.get_mut(&line.product_id) {
            let delta = if reduce {
                -line.quantity
            } else {
                line.quantity
            };
            p.total_sales += -delta;
            if p.manage_stock {
                p.stock_quantity = Some(p.stock_quantity.unwrap_or(0) + delta);
                p.sync_stock_status();
            }
        }
    }
    order.stock_reduced = reduce;
}

fn status_error() -> WcError {
    WcError::invalid_param(
        "status",
        "status is not one of pending, processing, on-hold, completed, cancelled, refunded, failed, and checkout-draft.",
    )
}

/// Sets the status with its side effects (paid/completed dates, stock).
pub(crate) fn set_status(
    state: &mut State,
    order: &mut Order,
    status: &str,
) -> Result<(), WcError> {
    if status == order.status {
        return Ok(());
    }
    if !STATUSES.contains(&status) {
        return Err(status_error());
    }
    let at = now();
    order.status = status.to_string();
    if matches!(status, "processing" | "completed") && order.date_paid.is_none() {
        order.date_paid = Some(at);
    }
    if status == "completed" {
        order.date_completed = Some(at);
    }
    if takes_stock(status) {
        adjust_stock(state, order, true);
    } else if matches!(status, "cancelled" | "pending" | "failed") {
        adjust_stock(state, order, false);
    }
    Ok(())
}

fn unit_price(l: &LineItem) -> Value {
    if l.quantity != 0 && l.subtotal % l.quantity == 0 && (l.subtotal / l.quantity) % 100 == 0 {
        json!(l.subtotal / l.quantity / 100)
    } else if l.quantity != 0 {
        json!(l.subtotal as f64 / l.quantity as f64 / 100.0)
    } else {
        json!(0)
    }
}

/// The REST representation (`GET /orders/{id}`).
pub(crate) fn render(state: &State, api: &str, o: &Order) -> Value {
    let (created, created_gmt) = state.dates(o.date_created);
    let (modified, modified_gmt) = state.dates(o.date_modified);
    let (paid, paid_gmt) = state.opt_dates(o.date_paid);
    let (completed, completed_gmt) = state.opt_dates(o.date_completed);
    let line_items: Vec<Value> = o
        .line_items
        .iter()
        .map(|l| {
            let taxes: Vec<Value> = o
                .tax_lines
                .iter()
                .map(|t| json!({ "id": t.rate_id, "total": money(l.total_tax), "subtotal": money(l.subtotal_tax) }))
                .collect();
            json!({
                "id": l.id,
                "name": l.name,
                "product_id": l.product_id,
                "variation_id": 0,
                "quantity": l.quantity,
                "tax_class": "",
                "subtotal": money(l.subtotal),
                "subtotal_tax": money(l.subtotal_tax),
                "total": money(l.total),
                "total_tax": money(l.total_tax),
                "taxes": taxes,
                "meta_data": l.meta_data,
                "sku": l.sku,
                "price": unit_price(l),
            })
        })
        .collect();
    let tax_lines: Vec<Value> = o
        .tax_lines
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "rate_code": format!("US-TAX-{}", t.rate_id),
                "rate_id": t.rate_id,
                "label": "Tax",
                "compound": false,
                "tax_total": money(t.tax_total),
                "shipping_tax_total": money(t.shipping_tax_total),
                "rate_percent": t.rate_percent,
                "meta_data": [],
            })
        })
        .collect();
    let shipping_lines: Vec<Value> = o
        .shipping_lines
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "method_title": s.method_title,
                "method_id": s.method_id,
                "instance_id": "",
                "total": money(s.total),
                "total_tax": money(s.total_tax),
                "taxes": [],
                "meta_data": [],
            })
        })
        .collect();
    let mut refunds: Vec<&super::refunds::Refund> = state
        .refunds
        .values()
        .filter(|r| r.order_id == o.id)
        .collect();
    refunds.sort_by_key(|r| std::cmp::Reverse((r.date_created, r.id)));
    let refunds: Vec<Value> = refunds
        .into_iter()
        .map(|r| json!({ "id": r.id, "reason": r.reason, "total": money(-r.amount) }))
        .collect();
    let mut v = json!({
        "id": o.id,
        "parent_id": 0,
        "number": o.number,
        "order_key": o.order_key,
        "created_via": o.created_via,
        "version": super::WC_VERSION,
        "status": o.status,
        "currency": o.currency,
        "currency_symbol": if o.currency == "USD" { "$" } else { "" },
        "date_created": created,
        "date_created_gmt": created_gmt,
        "date_modified": modified,
        "date_modified_gmt": modified_gmt,
    });
    let money_part = json!({
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": money(o.shipping_total),
        "shipping_tax": money(o.shipping_tax),
        "cart_tax": money(o.cart_tax),
        "total": money(o.total),
        "total_tax": money(o.cart_tax + o.shipping_tax),
        "prices_include_tax": false,
    });
    let rest = json!({
        "customer_id": o.customer_id,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": o.customer_note,
        "billing": o.billing.billing_json(),
        "shipping": o.shipping.shipping_json(),
        "payment_method": o.payment_method,
        "payment_method_title": o.payment_method_title,
        "transaction_id": o.transaction_id,
        "date_paid": paid,
        "date_paid_gmt": paid_gmt,
        "date_completed": completed,
        "date_completed_gmt": completed_gmt,
        "cart_hash": "",
        "meta_data": o.meta_data,
        "line_items": line_items,
        "tax_lines": tax_lines,
        "shipping_lines": shipping_lines,
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": refunds,
        "payment_url": "",
        "is_editable": matches!(o.status.as_str(), "pending" | "on-hold" | "checkout-draft"),
        "needs_payment": o.status == "pending",
        "needs_processing": true,
        "_links": links(api, "orders", o.id),
    });
    super::merge(&mut v, money_part);
    super::merge(&mut v, rest);
    if o.customer_id > 0 {
        v["_links"]["customer"] = json!([{ "href": format!("{api}/customers/{}", o.customer_id) }]);
    }
    v
}

fn invalid_id(status: u16) -> WcError {
    WcError::new(
        status,
        "woocommerce_rest_shop_order_invalid_id",
        "Invalid ID.",
    )
}

/// Applies a REST update body to order `id`.
pub(crate) fn update(state: &mut State, id: u64, patch: &Value) -> Result<(), WcError> {
    let Some(mut o) = state.orders.get(&id).cloned() else {
        return Err(invalid_id(400));
    };
    if let Some(status) = field_str(patch, "status")? {
        set_status(state, &mut o, &status)?;
    }
    if field_bool(patch, "set_paid")? == Some(true) {
        // set_paid: status processing, stock reduced (facts §1.4).
        if o.date_paid.is_none() {
            o.date_paid = Some(now());
        }
        if matches!(
            o.status.as_str(),
            "pending" | "failed" | "on-hold" | "checkout-draft"
        ) {
            set_status(state, &mut o, "processing")?;
        }
    }
    if let Some(c) = field_int(patch, "customer_id")? {
        if c != 0 && !state.customers.contains_key(&(c as u64)) {
            return Err(WcError::new(
                400,
                "woocommerce_rest_invalid_customer_id",
                "Customer ID is invalid.",
            ));
        }
        o.customer_id = c.max(0) as u64;
    }
    if let Some(v) = field_str(patch, "customer_note")? {
        o.customer_note = v;
    }
    if let Some(v) = field_str(patch, "transaction_id")? {
        o.transaction_id = v;
    }
    if let Some(v) = field_str(patch, "payment_method")? {
        o.payment_method = v;
    }
    if let Some(v) = field_str(patch, "payment_method_title")? {
        o.payment_method_title = v;
    }
    if let Some(b) = patch.get("billing") {
        o.billing.apply(b, "billing")?;
    }
    if let Some(s) = patch.get("shipping") {
        o.shipping.apply(s, "shipping")?;
    }
    if let Some(meta) = patch.get("meta_data") {
        apply_meta(state, &mut o.meta_data, meta)?;
    }
    o.date_modified = now();
    state.orders.insert(id, o);
    Ok(())
}

/// A REST create body to a [`NewOrder`].
fn from_rest(state: &State, body: &Value) -> Result<NewOrder, WcError> {
    let mut new = NewOrder {
        status: field_str(body, "status")?.unwrap_or_else(|| "pending".into()),
        ..NewOrder::default()
    };
    if let Some(c) = field_int(body, "customer_id")? {
        new.customer_id = c.max(0) as u64;
    }
    if let Some(b) = body.get("billing") {
        new.billing.apply(b, "billing")?;
    }
    if let Some(s) = body.get("shipping") {
        new.shipping.apply(s, "shipping")?;
    }
    new.payment_method = field_str(body, "payment_method")?.unwrap_or_default();
    new.payment_method_title = field_str(body, "payment_method_title")?.unwrap_or_default();
    new.transaction_id = field_str(body, "transaction_id")?.unwrap_or_default();
    new.customer_note = field_str(body, "customer_note")?.unwrap_or_default();
    if let Some(c) = field_str(body, "currency")? {
        new.currency = c;
    }
    for item in body
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let product_id = match (field_int(item, "product_id")?, field_str(item, "sku")?) {
            (Some(id), _) => id.max(0) as u64,
            (None, Some(sku)) => state
                .products
                .values()
                .find(|p| p.sku == sku)
                .map_or(0, |p| p.id),
            _ => 0,
        };
        let quantity = field_int(item, "quantity")?.unwrap_or(1);
        let price = match item.get("total") {
            Some(Value::String(t)) => parse_money(t).map(|t| t / quantity.max(1)),
            _ => None,
        };
        new.lines.push(NewLine {
            product_id,
            quantity,
            price,
        });
    }
    if let Some(first) = body
        .get("shipping_lines")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        new.shipping_total = field_str(first, "total")?
            .and_then(|t| parse_money(&t))
            .unwrap_or(0);
        if let Some(t) = field_str(first, "method_title")? {
            new.shipping_method_title = t;
        }
    }
    if let Some(meta) = body.get("meta_data") {
        new.meta_data = meta.clone();
    }
    if field_bool(body, "set_paid")? == Some(true) {
        new.status = "processing".into();
    }
    Ok(new)
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders/batch", web::post().to(batch))
        .route("/orders/batch", web::put().to(batch))
        .route("/orders/batch", web::patch().to(batch))
        .route("/orders", web::get().to(list))
        .route("/orders", web::post().to(create_one))
        .route("/orders/{id:\\d+}", web::get().to(get))
        .route("/orders/{id:\\d+}", web::put().to(update_one))
        .route("/orders/{id:\\d+}", web::post().to(update_one))
        .route("/orders/{id:\\d+}", web::patch().to(update_one))
        .route("/orders/{id:\\d+}", web::delete().to(delete_one));
}

async fn list(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_LIST)?;
    let params = ListParams::parse(&req)?;
    let mut statuses = params.list("status");
    if statuses.is_empty() {
        statuses.push("any".into());
    }
    for s in &statuses {
        if s != "any" && s != "trash" && !STATUSES.contains(&s.as_str()) {
            return Err(WcError::invalid_param(
                "status",
                "status[0] is not one of any, trash, pending, processing, on-hold, completed, cancelled, refunded, failed, and checkout-draft.",
            ));
        }
    }
    let customer = params
        .get("customer")
        .map(|c| c.parse::<u64>().unwrap_or(u64::MAX));
    let product = params
        .get("product")
        .map(|c| c.parse::<u64>().unwrap_or(u64::MAX));
    let search = params.search.as_ref().map(|s| s.to_lowercase());
    let mut items: Vec<&Order> = st
        .orders
        .values()
        .filter(|o| params.id_passes(o.id))
        .filter(|o| {
            statuses.iter().any(|s| {
                if s == "any" {
                    o.status != "trash"
                } else {
                    *s == o.status
                }
            })
        })
        .filter(|o| customer.is_none_or(|c| o.customer_id == c))
        .filter(|o| product.is_none_or(|p| o.line_items.iter().any(|l| l.product_id == p)))
        .filter(|o| {
            search.as_ref().is_none_or(|s| {
                let b = &o.billing;
                [&b.first_name, &b.last_name, &b.email, &b.company, &o.number]
                    .iter()
                    .any(|f| f.to_lowercase().contains(s))
                    || o.line_items
                        .iter()
                        .any(|l| l.name.to_lowercase().contains(s))
            })
        })
        .filter(|o| {
            params.dates_pass(
                params.after,
                params.before,
                o.date_created,
                st.local(o.date_created),
            )
        })
        .filter(|o| {
            params.dates_pass(
                params.modified_after,
                params.modified_before,
                o.date_modified,
                st.local(o.date_modified),
            )
        })
        .collect();
    let orderby = params.orderby.clone().unwrap_or_else(|| "date".into());
    match orderby.as_str() {
        "id" => items.sort_by_key(|o| o.id),
        // `date`/`modified` get the ID appended as tie-break (facts §1.3).
        "date" | "title" | "slug" => items.sort_by_key(|o| (o.date_created, o.id)),
        "modified" => items.sort_by_key(|o| (o.date_modified, o.id)),
        "include" => items.sort_by_key(|o| {
            params
                .include
                .iter()
                .position(|i| *i == o.id)
                .unwrap_or(usize::MAX)
        }),
        _ => {
            return Err(WcError::invalid_param(
                "orderby",
                "orderby is not one of date, id, include, title, slug, and modified.",
            ))
        }
    }
    if orderby != "include" && !params.ascending.unwrap_or(false) {
        items.reverse();
    }
    let items: Vec<Value> = items.into_iter().map(|o| render(&st, &api, o)).collect();
    Ok(respond(&req, &params, items))
}

async fn get(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_VIEW)?;
    let o = st.orders.get(&id).ok_or_else(|| invalid_id(404))?;
    Ok(HttpResponse::Ok().json(render(&st, &api, o)))
}

async fn create_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_CREATE)?;
    let patch = body_params(&req, &body)?;
    if patch.get("id").is_some_and(|v| !v.is_null()) {
        return Err(WcError::new(
            400,
            "woocommerce_rest_shop_order_exists",
            "Cannot create existing order.",
        ));
    }
    let new = from_rest(&st, &patch)?;
    let id = build(&mut st, new)?;
    delivery::fire(&world, &mut st, "order.created", id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{api}/orders/{id}")))
        .json(render(&st, &api, &st.orders[&id])))
}

async fn update_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_EDIT)?;
    let patch = body_params(&req, &body)?;
    update(&mut st, id, &patch)?;
    delivery::fire(&world, &mut st, "order.updated", id);
    Ok(HttpResponse::Ok().json(render(&st, &api, &st.orders[&id])))
}

fn delete(state: &mut State, id: u64, force: bool) -> Result<Order, WcError> {
    let Some(o) = state.orders.get_mut(&id) else {
        return Err(invalid_id(404));
    };
    if force {
        Ok(state.orders.remove(&id).expect("present"))
    } else if o.status == "trash" {
        Err(WcError::new(
            410,
            "woocommerce_rest_already_trashed",
            "The order has already been deleted.",
        ))
    } else {
        o.status = "trash".into();
        o.date_modified = now();
        Ok(o.clone())
    }
}

async fn delete_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_DELETE)?;
    let params = ListParams::parse(&req)?;
    let force = matches!(params.get("force"), Some("true" | "1"));
    let o = delete(&mut st, id, force)?;
    delivery::fire(&world, &mut st, "order.deleted", id);
    Ok(HttpResponse::Ok().json(render(&st, &api, &o)))
}

async fn batch(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_BATCH)?;
    let patch = body_params(&req, &body)?;
    check_batch_size(&patch)?;
    let mut out = serde_json::Map::new();
    if let Some(items) = patch.get("create").and_then(Value::as_array) {
        let mut done = Vec::new();
        for item in items {
            match from_rest(&st, item).and_then(|new| build(&mut st, new)) {
                Ok(id) => {
                    delivery::fire(&world, &mut st, "order.created", id);
                    done.push(render(&st, &api, &st.orders[&id]));
                }
                Err(e) => done.push(item_error(0, &e)),
            }
        }
        out.insert("create".into(), done.into());
    }
    if let Some(items) = patch.get("update").and_then(Value::as_array) {
        let mut done = Vec::new();
        for item in items {
            let id = item.get("id").and_then(Value::as_u64).unwrap_or(0);
            match update(&mut st, id, item) {
                Ok(()) => {
                    delivery::fire(&world, &mut st, "order.updated", id);
                    done.push(render(&st, &api, &st.orders[&id]));
                }
                Err(e) => done.push(item_error(id, &e)),
            }
        }
        out.insert("update".into(), done.into());
    }
    if let Some(items) = patch.get("delete").and_then(Value::as_array) {
        let mut done = Vec::new();
        for item in items {
            let id = item.as_u64().unwrap_or(0);
            match delete(&mut st, id, true) {
                Ok(o) => {
                    delivery::fire(&world, &mut st, "order.deleted", id);
                    done.push(render(&st, &api, &o));
                }
                Err(e) => done.push(item_error(id, &e)),
            }
        }
        out.insert("delete".into(), done.into());
    }
    Ok(HttpResponse::Ok().json(Value::Object(out)))
}
