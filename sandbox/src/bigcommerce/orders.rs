//! Orders v2 (§2.3): the bare-array list (204 with no body when a page is
//! empty), filters, sort, the order's fields (RFC 2822 dates, money as
//! 4-decimal strings), order products, shipping addresses, shipments,
//! counts and statuses. Placing orders is a control route; a status change
//! fires `store/order/updated` and `store/order/statusUpdated`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::paging::{v2_list, Page};
use super::{
    catalog, delivery, json_body, money4, now, param, parse_date, query_pairs, refunds, rfc2822,
    store_url, Api, BcError, State,
};
use crate::World;

const V2: Api = Api::V2;

/// The order statuses of §2.3: (id, name).
pub const STATUSES: [(u64, &str); 15] = [
    (0, "Incomplete"),
    (1, "Pending"),
    (2, "Shipped"),
    (3, "Partially Shipped"),
    (4, "Refunded"),
    (5, "Cancelled"),
    (6, "Declined"),
    (7, "Awaiting Payment"),
    (8, "Awaiting Pickup"),
    (9, "Awaiting Shipment"),
    (10, "Completed"),
    (11, "Awaiting Fulfillment"),
    (12, "Manual Verification Required"),
    (13, "Disputed"),
    (14, "Partially Refunded"),
];

/// The name of status `id`.
pub fn status_name(id: u64) -> &'static str {
    STATUSES
        .iter()
        .find(|(i, _)| *i == id)
        .map_or("", |(_, n)| n)
}

/// A billing or shipping address.
#[derive(Debug, Clone, Default)]
pub struct Address {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Company.
    pub company: String,
    /// Street line 1.
    pub street_1: String,
    /// Street line 2.
    pub street_2: String,
    /// City.
    pub city: String,
    /// State or province.
    pub state: String,
    /// Postal code.
    pub zip: String,
    /// Country name.
    pub country: String,
    /// ISO 3166-1 alpha-2.
    pub country_iso2: String,
    /// Phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
}

impl Address {
    fn json(&self) -> Value {
        json!({
            "first_name": self.first_name, "last_name": self.last_name,
            "company": self.company, "street_1": self.street_1, "street_2": self.street_2,
            "city": self.city, "state": self.state, "zip": self.zip,
            "country": self.country, "country_iso2": self.country_iso2,
            "phone": self.phone, "email": self.email,
        })
    }

    /// Reads the members of an address object (missing ones stay).
    pub fn apply(&mut self, v: &Value) {
        let fields: [(&str, &mut String); 12] = [
            ("first_name", &mut self.first_name),
            ("last_name", &mut self.last_name),
            ("company", &mut self.company),
            ("street_1", &mut self.street_1),
            ("street_2", &mut self.street_2),
            ("city", &mut self.city),
            ("state", &mut self.state),
            ("zip", &mut self.zip),
            ("country", &mut self.country),
            ("country_iso2", &mut self.country_iso2),
            ("phone", &mut self.phone),
            ("email", &mut self.email),
        ];
        for (k, slot) in fields {
            if let Some(s) = v.get(k).and_then(Value::as_str) {
                *slot = s.to_string();
            }
        }
    }
}

/// An order line (order product).
#[derive(Debug, Clone)]
pub struct Line {
    /// Order product id (needed for shipments and refunds).
    pub id: u64,
    /// Catalog product.
    pub product_id: u64,
    /// Catalog variant.
    pub variant_id: u64,
    /// Name.
    pub name: String,
    /// SKU.
    pub sku: String,
    /// Unit price in cents (tax-free store).
    pub price: i64,
    /// Quantity.
    pub quantity: u64,
    /// Quantity refunded.
    pub quantity_refunded: u64,
    /// Amount refunded, cents.
    pub refund_amount: i64,
    /// Quantity shipped.
    pub quantity_shipped: u64,
}

/// A shipment.
#[derive(Debug, Clone)]
pub struct Shipment {
    /// Id.
    pub id: u64,
    /// Tracking number.
    pub tracking_number: String,
    /// Carrier.
    pub shipping_provider: String,
    /// `(order_product_id, quantity)`.
    pub items: Vec<(u64, u64)>,
    /// Created.
    pub date_created: DateTime<Utc>,
}

/// An order.
#[derive(Debug, Clone)]
pub struct Order {
    /// Id.
    pub id: u64,
    /// Customer (0 = guest).
    pub customer_id: u64,
    /// Created.
    pub date_created: DateTime<Utc>,
    /// Modified.
    pub date_modified: DateTime<Utc>,
    /// Shipped.
    pub date_shipped: Option<DateTime<Utc>>,
    /// Status id (§2.3).
    pub status_id: u64,
    /// Lines.
    pub lines: Vec<Line>,
    /// Billing address.
    pub billing: Address,
    /// Shipping address (one per order here; its id is `order_address_id`).
    pub shipping: Address,
    /// Shipping address id.
    pub shipping_address_id: u64,
    /// Shipping cost, cents.
    pub shipping_cost: i64,
    /// Payment method label.
    pub payment_method: String,
    /// Refunded so far, cents.
    pub refunded: i64,
    /// Currency.
    pub currency_code: String,
    /// Channel.
    pub channel_id: u64,
    /// `external_id`.
    pub external_id: Option<String>,
    /// Customer's message.
    pub customer_message: String,
    /// Staff notes.
    pub staff_notes: String,
    /// Shipments.
    pub shipments: Vec<Shipment>,
}

impl Order {
    /// Items subtotal, cents.
    pub fn subtotal(&self) -> i64 {
        self.lines.iter().map(|l| l.price * l.quantity as i64).sum()
    }

    /// Order total, cents.
    pub fn total(&self) -> i64 {
        self.subtotal() + self.shipping_cost
    }
}

/// An order as v2 answers it.
pub(crate) fn render(base: &str, o: &Order) -> Value {
    let sub = money4(o.subtotal());
    let total = money4(o.total());
    let ship = money4(o.shipping_cost);
    let items_total: u64 = o.lines.iter().map(|l| l.quantity).sum();
    let items_shipped: u64 = o.lines.iter().map(|l| l.quantity_shipped).sum();
    let payment_status = if o.refunded >= o.total() && o.refunded > 0 {
        "refunded"
    } else if o.refunded > 0 {
        "partially refunded"
    } else if o.status_id == 7 || o.status_id == 0 {
        ""
    } else {
        "captured"
    };
    let mut billing = o.billing.json();
    billing["form_fields"] = json!([]);
    let sub_url = |r: &str| json!({ "url": format!("{base}/v2/orders/{}/{r}", o.id), "resource": format!("/orders/{}/{r}", o.id) });
    let mut out = json!({
        "id": o.id,
        "customer_id": o.customer_id,
        "date_created": rfc2822(o.date_created),
        "date_modified": rfc2822(o.date_modified),
        "date_shipped": o.date_shipped.map(rfc2822).unwrap_or_default(),
        "status_id": o.status_id,
        "status": status_name(o.status_id),
        "custom_status": status_name(o.status_id),
        "subtotal_ex_tax": sub, "subtotal_inc_tax": sub, "subtotal_tax": "0.0000",
        "base_shipping_cost": ship, "shipping_cost_ex_tax": ship, "shipping_cost_inc_tax": ship,
        "shipping_cost_tax": "0.0000", "shipping_cost_tax_class_id": 0,
        "base_handling_cost": "0.0000", "handling_cost_ex_tax": "0.0000", "handling_cost_inc_tax": "0.0000",
        "handling_cost_tax": "0.0000", "base_wrapping_cost": "0.0000", "wrapping_cost_ex_tax": "0.0000",
        "wrapping_cost_inc_tax": "0.0000", "wrapping_cost_tax": "0.0000",
        "total_ex_tax": total, "total_inc_tax": total, "total_tax": "0.0000",
        "items_total": items_total,
        "items_shipped": items_shipped,
    });
    let rest = json!({
        "payment_method": o.payment_method,
        "payment_provider_id": Value::Null,
        "payment_status": payment_status,
        "refunded_amount": money4(o.refunded),
        "order_is_digital": false,
        "store_credit_amount": "0.0000",
        "gift_certificate_amount": "0.0000",
        "ip_address": "192.0.2.10",
        "geoip_country": o.billing.country, "geoip_country_iso2": o.billing.country_iso2,
        "currency_id": 1,
        "currency_code": o.currency_code,
        "currency_exchange_rate": "1.0000000000",
        "default_currency_id": 1,
        "default_currency_code": o.currency_code,
        "staff_notes": o.staff_notes,
        "customer_message": o.customer_message,
        "discount_amount": "0.0000",
        "coupon_discount": "0.0000",
        "shipping_address_count": 1,
        "is_deleted": false,
        "is_email_opt_in": false,
        "credit_card_type": Value::Null,
        "ebay_order_id": "0",
        "cart_id": format!("00000000-0000-4000-8000-{:012}", o.id),
        "billing_address": billing,
        "order_source": "www",
        "channel_id": o.channel_id,
        "external_source": Value::Null,
        "external_id": o.external_id,
        "external_order_id": "",
        "customer_locale": "en",
        "products": sub_url("products"),
        "shipping_addresses": sub_url("shipping_addresses"),
        "coupons": sub_url("coupons"),
    });
    if let (Value::Object(a), Value::Object(b)) = (&mut out, rest) {
        a.extend(b);
    }
    out
}

/// An order product as v2 answers it.
pub(crate) fn render_line(o: &Order, l: &Line) -> Value {
    let p = money4(l.price);
    let t = money4(l.price * l.quantity as i64);
    json!({
        "id": l.id,
        "order_id": o.id,
        "product_id": l.product_id,
        "variant_id": l.variant_id,
        "order_address_id": o.shipping_address_id,
        "name": l.name,
        "name_customer": l.name,
        "name_merchant": l.name,
        "sku": l.sku,
        "upc": "",
        "type": "physical",
        "base_price": p, "price_ex_tax": p, "price_inc_tax": p, "price_tax": "0.0000",
        "base_total": t, "total_ex_tax": t, "total_inc_tax": t, "total_tax": "0.0000",
        "weight": "1.0000",
        "quantity": l.quantity,
        "base_cost_price": "0.0000",
        "is_refunded": l.quantity_refunded > 0 && l.quantity_refunded >= l.quantity,
        "quantity_refunded": l.quantity_refunded,
        "refund_amount": money4(l.refund_amount),
        "return_id": 0,
        "quantity_shipped": l.quantity_shipped,
        "fixed_shipping_cost": "0.0000",
        "product_options": [],
        "applied_discounts": [],
        "parent_order_product_id": Value::Null,
        "is_bundled_product": false,
        "brand": "",
        "external_id": Value::Null,
    })
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders", web::get().to(list))
        .route("/orders/count", web::get().to(count))
        .route("/orders/{id}", web::get().to(get))
        .route("/orders/{id}", web::put().to(put))
        .route("/orders/{id}/products", web::get().to(products))
        .route("/orders/{id}/products/{pid}", web::get().to(product))
        .route(
            "/orders/{id}/shipping_addresses",
            web::get().to(shipping_addresses),
        )
        .route("/orders/{id}/coupons", web::get().to(coupons))
        .route("/orders/{id}/shipments", web::get().to(shipments))
        .route("/orders/{id}/shipments", web::post().to(create_shipment))
        .route("/order_statuses", web::get().to(statuses));
}

fn int_param(q: &[(String, String)], name: &str) -> Result<Option<i64>, BcError> {
    match param(q, name) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| BcError::new(V2, 400, format!("The filter '{name}' is not valid."))),
    }
}

fn date_param(q: &[(String, String)], name: &str) -> Result<Option<DateTime<Utc>>, BcError> {
    match param(q, name) {
        None | Some("") => Ok(None),
        Some(s) => parse_date(s).map(Some).ok_or_else(|| {
            BcError::new(V2, 400, format!("The filter '{name}' is not a valid date."))
        }),
    }
}

async fn list(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, BcError> {
    let q = query_pairs(&req);
    let base = store_url(&world);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V2)?;
    let min_id = int_param(&q, "min_id")?;
    let max_id = int_param(&q, "max_id")?;
    let customer = int_param(&q, "customer_id")?;
    let status = int_param(&q, "status_id")?;
    let channel = int_param(&q, "channel_id")?;
    let min_total = param(&q, "min_total").and_then(|s| s.parse::<f64>().ok());
    let max_total = param(&q, "max_total").and_then(|s| s.parse::<f64>().ok());
    let email = param(&q, "email").map(str::to_lowercase);
    let payment = param(&q, "payment_method");
    let dc_min = date_param(&q, "min_date_created")?;
    let dc_max = date_param(&q, "max_date_created")?;
    let dm_min = date_param(&q, "min_date_modified")?;
    let dm_max = date_param(&q, "max_date_modified")?;
    let mut list: Vec<&Order> = st
        .orders
        .values()
        .filter(|o| min_id.is_none_or(|m| o.id as i64 >= m))
        .filter(|o| max_id.is_none_or(|m| o.id as i64 <= m))
        .filter(|o| customer.is_none_or(|c| o.customer_id as i64 == c))
        .filter(|o| status.is_none_or(|s| o.status_id as i64 == s))
        .filter(|o| channel.is_none_or(|c| o.channel_id as i64 == c))
        .filter(|o| min_total.is_none_or(|m| o.total() as f64 / 100.0 >= m))
        .filter(|o| max_total.is_none_or(|m| o.total() as f64 / 100.0 <= m))
        .filter(|o| {
            email
                .as_ref()
                .is_none_or(|e| o.billing.email.to_lowercase() == *e)
        })
        .filter(|o| payment.is_none_or(|p| o.payment_method == p))
        .filter(|o| dc_min.is_none_or(|d| o.date_created >= d))
        .filter(|o| dc_max.is_none_or(|d| o.date_created <= d))
        .filter(|o| dm_min.is_none_or(|d| o.date_modified >= d))
        .filter(|o| dm_max.is_none_or(|d| o.date_modified <= d))
        .collect();
    // `sort=field:asc|desc`, default id ascending (§2.3).
    if let Some(sort) = param(&q, "sort") {
        let (field, dir) = sort.split_once(':').unwrap_or((sort, "asc"));
        match field {
            "id" => {}
            "customer_id" => list.sort_by_key(|o| (o.customer_id, o.id)),
            "date_created" => list.sort_by_key(|o| (o.date_created, o.id)),
            "date_modified" => list.sort_by_key(|o| (o.date_modified, o.id)),
            "status_id" => list.sort_by_key(|o| (o.status_id, o.id)),
            "channel_id" => list.sort_by_key(|o| (o.channel_id, o.id)),
            "external_id" => list.sort_by(|a, b| a.external_id.cmp(&b.external_id)),
            _ => {
                return Err(BcError::new(
                    V2,
                    400,
                    format!("The sort field '{field}' is not valid."),
                ))
            }
        }
        if dir.eq_ignore_ascii_case("desc") {
            list.reverse();
        }
    }
    let all: Vec<Value> = list.iter().map(|o| render(&base, o)).collect();
    Ok(v2_list(&all, page))
}

async fn count(world: web::Data<World>) -> HttpResponse {
    let st = world.bigcommerce();
    let statuses: Vec<Value> = STATUSES
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            json!({
                "id": id, "name": name, "system_label": name, "custom_label": name,
                "system_description": "", "sort_order": i,
                "count": st.orders.values().filter(|o| o.status_id == *id).count(),
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "statuses": statuses, "count": st.orders.len() }))
}

fn order_id(s: &str) -> Result<u64, BcError> {
    s.parse().map_err(|_| BcError::not_found(V2))
}

/// One order; 304 without a body when `If-Modified-Since` is not older
/// than its `date_modified` (§2.1 status codes).
async fn get(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let base = store_url(&world);
    let st = world.bigcommerce();
    let o = st.orders.get(&id).ok_or_else(|| BcError::not_found(V2))?;
    let since = req
        .headers()
        .get("if-modified-since")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_date);
    if since.is_some_and(|s| o.date_modified <= s) {
        return Ok(HttpResponse::NotModified().finish());
    }
    Ok(HttpResponse::Ok().json(render(&base, o)))
}

/// The order's coupons: none are simulated, so 204 as v2's empty lists.
async fn coupons(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    if !world.bigcommerce().orders.contains_key(&id) {
        return Err(BcError::not_found(V2));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Sets an order's status; fires `updated` and, on a change,
/// `statusUpdated` with the previous and new ids (§2.8).
pub(crate) fn set_status(world: &web::Data<World>, st: &mut State, id: u64, status: u64) {
    let Some(o) = st.orders.get_mut(&id) else {
        return;
    };
    let previous = o.status_id;
    o.status_id = status;
    o.date_modified = now();
    if status == 2 && o.date_shipped.is_none() {
        o.date_shipped = Some(now());
    }
    delivery::fire(
        world,
        st,
        "store/order/updated",
        json!({ "type": "order", "id": id }),
    );
    if previous != status {
        delivery::fire(
            world,
            st,
            "store/order/statusUpdated",
            json!({ "type": "order", "id": id,
                    "status": { "previous_status_id": previous, "new_status_id": status } }),
        );
    }
}

async fn put(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let patch = json_body(&body, V2)?;
    let base = store_url(&world);
    let mut st = world.bigcommerce();
    if !st.orders.contains_key(&id) {
        return Err(BcError::not_found(V2));
    }
    let status = match patch.get("status_id") {
        None => None,
        Some(v) => match v.as_u64().filter(|s| STATUSES.iter().any(|(i, _)| i == s)) {
            Some(s) => Some(s),
            None => return Err(BcError::new(V2, 400, "The field 'status_id' is invalid.")),
        },
    };
    if let Some(o) = st.orders.get_mut(&id) {
        if let Some(b) = patch.get("billing_address") {
            o.billing.apply(b);
        }
        if let Some(s) = patch.get("staff_notes").and_then(Value::as_str) {
            o.staff_notes = s.to_string();
        }
        if let Some(s) = patch.get("customer_message").and_then(Value::as_str) {
            o.customer_message = s.to_string();
        }
        if let Some(s) = patch.get("external_id").and_then(Value::as_str) {
            o.external_id = Some(s.to_string());
        }
        o.date_modified = now();
    }
    match status {
        Some(s) => set_status(&world, &mut st, id, s),
        None => delivery::fire(
            &world,
            &mut st,
            "store/order/updated",
            json!({ "type": "order", "id": id }),
        ),
    }
    Ok(HttpResponse::Ok().json(render(&base, &st.orders[&id])))
}

async fn products(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V2)?;
    let o = st.orders.get(&id).ok_or_else(|| BcError::not_found(V2))?;
    let all: Vec<Value> = o.lines.iter().map(|l| render_line(o, l)).collect();
    Ok(v2_list(&all, page))
}

async fn product(
    world: web::Data<World>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let pid = order_id(&path.2)?;
    let st = world.bigcommerce();
    let o = st.orders.get(&id).ok_or_else(|| BcError::not_found(V2))?;
    let l = o
        .lines
        .iter()
        .find(|l| l.id == pid)
        .ok_or_else(|| BcError::not_found(V2))?;
    Ok(HttpResponse::Ok().json(render_line(o, l)))
}

async fn shipping_addresses(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let st = world.bigcommerce();
    let o = st.orders.get(&id).ok_or_else(|| BcError::not_found(V2))?;
    let mut a = o.shipping.json();
    a["id"] = o.shipping_address_id.into();
    a["order_id"] = o.id.into();
    a["items_total"] = o.lines.iter().map(|l| l.quantity).sum::<u64>().into();
    a["items_shipped"] = o
        .lines
        .iter()
        .map(|l| l.quantity_shipped)
        .sum::<u64>()
        .into();
    a["shipping_method"] = "Flat Rate".into();
    a["cost_ex_tax"] = money4(o.shipping_cost).into();
    a["cost_inc_tax"] = money4(o.shipping_cost).into();
    a["form_fields"] = json!([]);
    Ok(HttpResponse::Ok().json(json!([a])))
}

fn render_shipment(o: &Order, s: &Shipment) -> Value {
    json!({
        "id": s.id,
        "order_id": o.id,
        "customer_id": o.customer_id,
        "order_address_id": o.shipping_address_id,
        "date_created": rfc2822(s.date_created),
        "tracking_number": s.tracking_number,
        "shipping_method": "Flat Rate",
        "shipping_provider": s.shipping_provider,
        "tracking_carrier": "",
        "comments": "",
        "billing_address": o.billing.json(),
        "shipping_address": o.shipping.json(),
        "items": s.items.iter().map(|(op, q)| {
            let product_id = o.lines.iter().find(|l| l.id == *op).map_or(0, |l| l.product_id);
            json!({ "order_product_id": op, "product_id": product_id, "quantity": q })
        }).collect::<Vec<_>>(),
    })
}

async fn shipments(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let st = world.bigcommerce();
    let o = st.orders.get(&id).ok_or_else(|| BcError::not_found(V2))?;
    if o.shipments.is_empty() {
        return Ok(HttpResponse::NoContent().finish());
    }
    Ok(HttpResponse::Ok().json(
        o.shipments
            .iter()
            .map(|s| render_shipment(o, s))
            .collect::<Vec<_>>(),
    ))
}

/// `POST /orders/{id}/shipments` with `tracking_number`,
/// `order_address_id` and `items[{order_product_id, quantity}]` (§2.3).
/// Moves the order to Shipped or Partially Shipped.
async fn create_shipment(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let v = json_body(&body, V2)?;
    let mut st = world.bigcommerce();
    let o = st.orders.get(&id).ok_or_else(|| BcError::not_found(V2))?;
    if v.get("order_address_id").and_then(Value::as_u64) != Some(o.shipping_address_id) {
        return Err(BcError::new(
            V2,
            400,
            "The field 'order_address_id' is invalid.",
        ));
    }
    let items = v
        .get("items")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| BcError::new(V2, 400, "The field 'items' is invalid."))?;
    let mut plan = Vec::new();
    for item in items {
        let op = item
            .get("order_product_id")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let qty = item.get("quantity").and_then(Value::as_u64).unwrap_or(0);
        let line = o.lines.iter().find(|l| l.id == op).ok_or_else(|| {
            BcError::new(
                V2,
                400,
                format!("The order product {op} does not belong to the order."),
            )
        })?;
        if qty == 0 || line.quantity_shipped + qty > line.quantity {
            return Err(BcError::new(
                V2,
                400,
                format!(
                    "The quantity for order product {op} is more than the quantity left to ship."
                ),
            ));
        }
        plan.push((op, qty));
    }
    let sid = st.id("shipment");
    let o = st
        .orders
        .get_mut(&id)
        .ok_or_else(|| BcError::not_found(V2))?;
    for (op, qty) in &plan {
        if let Some(l) = o.lines.iter_mut().find(|l| l.id == *op) {
            l.quantity_shipped += qty;
        }
    }
    let shipment = Shipment {
        id: sid,
        tracking_number: v
            .get("tracking_number")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        shipping_provider: v
            .get("shipping_provider")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        items: plan,
        date_created: now(),
    };
    o.shipments.push(shipment.clone());
    let all_shipped = o.lines.iter().all(|l| l.quantity_shipped >= l.quantity);
    let rendered = render_shipment(o, &shipment);
    delivery::fire(
        &world,
        &mut st,
        "store/shipment/created",
        json!({ "type": "shipment", "id": sid, "orderId": id }),
    );
    set_status(&world, &mut st, id, if all_shipped { 2 } else { 3 });
    Ok(HttpResponse::Created().json(rendered))
}

async fn statuses() -> HttpResponse {
    let list: Vec<Value> = STATUSES
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            json!({ "id": id, "name": name, "system_label": name, "custom_label": name,
                    "system_description": "", "order": i })
        })
        .collect();
    HttpResponse::Ok().json(list)
}

/// A line of a new order: a product or variant SKU and a quantity.
#[derive(Debug, Clone)]
pub struct NewLine {
    /// SKU (product or variant).
    pub sku: String,
    /// Quantity.
    pub quantity: u64,
    /// Price override, cents.
    pub price: Option<i64>,
}

/// A new order (control route and demo seed).
#[derive(Debug, Clone, Default)]
pub struct NewOrder {
    /// Customer (0 = guest).
    pub customer_id: u64,
    /// Billing address (defaults from the customer).
    pub billing: Option<Value>,
    /// Lines.
    pub lines: Vec<NewLine>,
    /// Status (default 11 Awaiting Fulfillment).
    pub status_id: Option<u64>,
    /// Shipping cost, cents.
    pub shipping_cost: i64,
    /// Payment method label.
    pub payment_method: Option<String>,
    /// Whether a captured payment transaction is recorded (default true).
    pub paid: Option<bool>,
    /// Created at (default now).
    pub at: Option<DateTime<Utc>>,
    /// Whether stock is taken and webhooks fire (false for the demo seed).
    pub live: bool,
}

/// Places an order: resolves SKUs, takes stock, records the payment
/// transaction and fires `store/order/created` (when `live`).
pub(crate) fn place(
    world: Option<&web::Data<World>>,
    st: &mut State,
    new: NewOrder,
) -> Result<u64, BcError> {
    if new.lines.is_empty() {
        return Err(BcError::new(
            V2,
            400,
            "An order needs at least one product.",
        ));
    }
    let mut resolved = Vec::new();
    for l in &new.lines {
        let found = st.products.values().find_map(|p| {
            if p.sku == l.sku {
                Some((p, p.variants.first()))
            } else {
                p.variants
                    .iter()
                    .find(|v| v.sku == l.sku)
                    .map(|v| (p, Some(v)))
            }
        });
        let (p, v) =
            found.ok_or_else(|| BcError::new(V2, 400, format!("No product with SKU {}", l.sku)))?;
        let price = l
            .price
            .unwrap_or_else(|| v.map_or(p.price, |v| p.price_of(v)));
        resolved.push((
            p.id,
            v.map_or(0, |v| v.id),
            p.name.clone(),
            l.sku.clone(),
            price,
            l.quantity,
        ));
    }
    let customer = st.customers.get(&new.customer_id).cloned();
    if new.customer_id != 0 && customer.is_none() {
        return Err(BcError::new(
            V2,
            400,
            format!("No customer {}", new.customer_id),
        ));
    }
    let mut billing = Address {
        country: "United States".into(),
        country_iso2: "US".into(),
        street_1: "1 Main Street".into(),
        city: "Austin".into(),
        state: "Texas".into(),
        zip: "78701".into(),
        ..Address::default()
    };
    if let Some(c) = &customer {
        billing.first_name = c.first_name.clone();
        billing.last_name = c.last_name.clone();
        billing.company = c.company.clone();
        billing.email = c.email.clone();
        billing.phone = c.phone.clone();
    }
    if let Some(b) = &new.billing {
        billing.apply(b);
    }
    let id = st.id("order");
    let mut lines = Vec::new();
    for (product_id, variant_id, name, sku, price, quantity) in resolved.iter().cloned() {
        lines.push(Line {
            id: st.id("order_product"),
            product_id,
            variant_id,
            name,
            sku,
            price,
            quantity,
            quantity_refunded: 0,
            refund_amount: 0,
            quantity_shipped: 0,
        });
    }
    let at = new.at.unwrap_or_else(now);
    let shipping_address_id = st.id("order_address");
    let order = Order {
        id,
        customer_id: new.customer_id,
        date_created: at,
        date_modified: at,
        date_shipped: None,
        status_id: new.status_id.unwrap_or(11),
        lines,
        shipping: billing.clone(),
        billing,
        shipping_address_id,
        shipping_cost: new.shipping_cost,
        payment_method: new
            .payment_method
            .clone()
            .unwrap_or_else(|| "Credit Card".into()),
        refunded: 0,
        currency_code: "USD".into(),
        channel_id: 1,
        external_id: None,
        customer_message: String::new(),
        staff_notes: String::new(),
        shipments: Vec::new(),
    };
    let total = order.total();
    st.orders.insert(id, order);
    let tx = new
        .paid
        .unwrap_or(true)
        .then(|| refunds::record_transaction(st, id, "purchase", total, at));
    if let Some(world) = world.filter(|_| new.live) {
        for (pid, vid, _, _, _, qty) in &resolved {
            catalog::change_stock(
                world,
                st,
                *pid,
                Some(*vid),
                true,
                -(*qty as i64),
                "order/updated",
            );
        }
        delivery::fire(
            world,
            st,
            "store/order/created",
            json!({ "type": "order", "id": id }),
        );
        if let Some(tx) = tx {
            refunds::transaction_event(world, st, tx);
        }
    } else {
        for (pid, vid, _, _, _, qty) in &resolved {
            if let Some(p) = st.products.get_mut(pid) {
                match p.inventory_tracking.as_str() {
                    "product" => {
                        p.inventory_level -= *qty as i64;
                        let l = p.inventory_level;
                        if let Some(b) = p.variants.first_mut() {
                            b.inventory_level = l;
                        }
                    }
                    "variant" => {
                        if let Some(v) = p.variants.iter_mut().find(|v| v.id == *vid) {
                            v.inventory_level -= *qty as i64;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(id)
}
