//! Transactions and refunds v3 (§2.6): `GET /orders/{id}/transactions`
//! (204 when none), refund quotes, refunds (`items` by `item_type`,
//! `payments` that must add up to the refund), and the refund lists. A
//! refund fires `store/order/refund/created` and moves the order to
//! Partially Refunded (14) or Refunded (4).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::paging::{v3_list, Page};
use super::{
    cents_of, delivery, id_list, iso, json_body, now, number, orders, param, query_pairs, Api,
    BcError, State,
};
use crate::World;

const V3: Api = Api::V3;

/// The gateway of the sandbox's card payments.
pub const GATEWAY: &str = "testgateway";

/// A payment transaction.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// Id.
    pub id: u64,
    /// Order.
    pub order_id: u64,
    /// `purchase`, `refund`, ...
    pub event: String,
    /// Amount, cents.
    pub amount: i64,
    /// When.
    pub date_created: DateTime<Utc>,
}

/// A refund.
#[derive(Debug, Clone)]
pub struct Refund {
    /// Id.
    pub id: u64,
    /// Order.
    pub order_id: u64,
    /// Reason.
    pub reason: String,
    /// Total, cents.
    pub total: i64,
    /// The request's items, as given (with `requested_amount`).
    pub items: Vec<Value>,
    /// The payments, as rendered.
    pub payments: Vec<Value>,
    /// When.
    pub created: DateTime<Utc>,
}

/// Fires `store/order/transaction/created` for transaction `id` (§2.8:
/// `order_id` is a string there).
pub(crate) fn transaction_event(world: &web::Data<World>, st: &mut State, id: u64) {
    let Some(t) = st.transactions.get(&id).cloned() else {
        return;
    };
    delivery::fire(
        world,
        st,
        "store/order/transaction/created",
        json!({
            "type": "transaction",
            "order_id": t.order_id.to_string(),
            "transaction_id": t.id,
            "transaction_status": "ok",
            "transaction_type": t.event,
            "result": { "code": "0", "message": "Approved", "type": "success" },
            "platform_transaction_id": format!("tg-{:08}", t.id),
            "provider_transaction_id": format!("tg-{:08}", t.id),
        }),
    );
}

/// Records a transaction; returns its id.
pub(crate) fn record_transaction(
    st: &mut State,
    order_id: u64,
    event: &str,
    amount: i64,
    at: DateTime<Utc>,
) -> u64 {
    let id = st.id("transaction");
    st.transactions.insert(
        id,
        Transaction {
            id,
            order_id,
            event: event.to_string(),
            amount,
            date_created: at,
        },
    );
    id
}

fn render_transaction(t: &Transaction) -> Value {
    json!({
        "id": t.id,
        "order_id": t.order_id.to_string(),
        "event": t.event,
        "method": "credit_card",
        "amount": number(t.amount),
        "currency": "USD",
        "gateway": GATEWAY,
        "gateway_transaction_id": format!("tg-{:08}", t.id),
        "payment_method_id": format!("{GATEWAY}.card"),
        "date_created": iso(t.date_created),
        "test": true,
        "status": "ok",
        "fraud_review": false,
        "reference_transaction_id": Value::Null,
        "offline": Value::Null,
        "custom": Value::Null,
        "avs_result": { "code": "", "message": "", "street_match": "", "postal_match": "" },
        "cvv_result": { "code": "", "message": "" },
        "credit_card": { "card_type": "visa", "card_iin": "411111", "card_last4": "1111", "card_expiry_month": 12, "card_expiry_year": 2030 },
    })
}

fn render_refund(r: &Refund) -> Value {
    json!({
        "id": r.id,
        "order_id": r.order_id,
        "user_id": 0,
        "created": iso(r.created),
        "reason": r.reason,
        "total_amount": number(r.total),
        "total_tax": 0,
        "uses_merchant_override_values": false,
        "items": r.items,
        "payments": r.payments,
    })
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/orders/payment_actions/refunds",
        web::get().to(all_refunds),
    )
    .route(
        "/orders/payment_actions/refunds/{rid}",
        web::get().to(one_refund),
    )
    .route("/orders/{id}/transactions", web::get().to(transactions))
    .route(
        "/orders/{id}/payment_actions/refund_quotes",
        web::post().to(quote),
    )
    .route(
        "/orders/{id}/payment_actions/refunds",
        web::post().to(refund),
    )
    .route(
        "/orders/{id}/payment_actions/refunds",
        web::get().to(order_refunds),
    );
}

fn order_id(s: &str) -> Result<u64, BcError> {
    s.parse().map_err(|_| BcError::not_found(V3))
}

async fn transactions(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V3)?;
    if !st.orders.contains_key(&id) {
        return Err(BcError::not_found(V3));
    }
    let all: Vec<Value> = st
        .transactions
        .values()
        .filter(|t| t.order_id == id)
        .map(render_transaction)
        .collect();
    if all.is_empty() {
        return Ok(HttpResponse::NoContent().finish());
    }
    Ok(v3_list(&all, page, json!({})))
}

/// What a refund request amounts to: the total in cents, the order lines
/// it takes back `(order product id, quantity, cents)`, its items as
/// answered.
type Asked = (i64, Vec<(u64, u64, i64)>, Vec<Value>);

/// The refund a request asks for, checked against the order.
fn amount_of(o: &orders::Order, items: &[Value]) -> Result<Asked, BcError> {
    let mut total = 0;
    let mut lines = Vec::new();
    let mut rendered = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |f: &str| format!("items[{i}].{f}");
        let kind = item.get("item_type").and_then(Value::as_str).unwrap_or("");
        let item_id = item.get("item_id").and_then(Value::as_u64).unwrap_or(0);
        let amount = item.get("amount").and_then(cents_of);
        let qty = item.get("quantity").and_then(Value::as_u64);
        let cents = match kind {
            "PRODUCT" => {
                let l = o.lines.iter().find(|l| l.id == item_id).ok_or_else(|| {
                    BcError::invalid(
                        V3,
                        &field("item_id"),
                        format!("Order product {item_id} does not exist"),
                    )
                })?;
                let left = l.quantity - l.quantity_refunded;
                let q = qty.unwrap_or(0);
                if q > left {
                    return Err(BcError::invalid(
                        V3,
                        &field("quantity"),
                        format!("Only {left} can be refunded"),
                    ));
                }
                let c = amount.unwrap_or(l.price * q as i64);
                lines.push((l.id, q, c));
                c
            }
            "ORDER" | "SHIPPING" | "HANDLING" | "GIFT_WRAPPING" | "FEE" => {
                amount.ok_or_else(|| {
                    BcError::invalid(
                        V3,
                        &field("amount"),
                        "amount is required for this item_type",
                    )
                })?
            }
            _ => return Err(BcError::invalid(
                V3,
                &field("item_type"),
                "item_type must be one of PRODUCT, ORDER, SHIPPING, HANDLING, GIFT_WRAPPING, FEE",
            )),
        };
        if cents < 0 {
            return Err(BcError::invalid(
                V3,
                &field("amount"),
                "amount must be positive",
            ));
        }
        total += cents;
        let mut r = item.clone();
        r["requested_amount"] = number(cents);
        rendered.push(r);
    }
    if total > o.total() - o.refunded {
        return Err(BcError::new(
            V3,
            422,
            format!(
                "The refund amount {} is more than the refundable {}.",
                number(total),
                number(o.total() - o.refunded)
            ),
        ));
    }
    Ok((total, lines, rendered))
}

async fn quote(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let v = json_body(&body, V3)?;
    let st = world.bigcommerce();
    let o = st.orders.get(&id).ok_or_else(|| BcError::not_found(V3))?;
    let items = v
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (total, _, _) = amount_of(o, &items)?;
    Ok(HttpResponse::Created().json(json!({
        "data": {
            "order_id": id,
            "total_refund_amount": number(total),
            "total_refund_tax_amount": 0,
            "rounding": 0,
            "adjustment": 0,
            "tax_inclusive": false,
            "refund_methods": [
                [{ "provider_id": GATEWAY, "provider_description": "Test Payment Gateway", "amount": number(total), "offline": false, "offline_provider": false, "offline_reason": "" }],
                [{ "provider_id": "custom", "provider_description": "Manual refund", "amount": number(total), "offline": true, "offline_provider": true, "offline_reason": "" }],
            ],
        },
        "meta": {},
    })))
}

async fn refund(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let v = json_body(&body, V3)?;
    let mut st = world.bigcommerce();
    let rid = create_refund(&world, &mut st, id, &v)?;
    Ok(HttpResponse::Created()
        .json(json!({ "data": render_refund(&st.refunds[&rid]), "meta": {} })))
}

/// Creates a refund from a v3 request body; fires its events.
pub(crate) fn create_refund(
    world: &web::Data<World>,
    st: &mut State,
    id: u64,
    v: &Value,
) -> Result<u64, BcError> {
    let o = st.orders.get(&id).ok_or_else(|| BcError::not_found(V3))?;
    let items = v
        .get("items")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
        .cloned()
        .ok_or_else(|| BcError::invalid(V3, "items", "items is required"))?;
    let (total, lines, rendered_items) = amount_of(o, &items)?;
    let payments = v
        .get("payments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut paid = 0;
    let mut rendered = Vec::new();
    for (i, p) in payments.iter().enumerate() {
        let provider = p.get("provider_id").and_then(Value::as_str).unwrap_or("");
        if !matches!(provider, GATEWAY | "custom" | "storecredit") {
            return Err(BcError::invalid(
                V3,
                &format!("payments[{i}].provider_id"),
                format!("Unknown provider {provider}"),
            ));
        }
        let amount = p.get("amount").and_then(cents_of).unwrap_or(0);
        paid += amount;
        rendered.push(json!({
            "id": i as u64 + 1,
            "provider_id": provider,
            "amount": number(amount),
            "offline": p.get("offline").and_then(Value::as_bool).unwrap_or(provider != GATEWAY),
            "is_declined": false,
            "declined_message": "",
        }));
    }
    if paid != total {
        return Err(BcError::new(
            V3,
            422,
            format!(
                "The payments ({}) do not add up to the refund ({}).",
                number(paid),
                number(total)
            ),
        ));
    }
    let rid = st.id("refund");
    let at = now();
    let o = st
        .orders
        .get_mut(&id)
        .ok_or_else(|| BcError::not_found(V3))?;
    for (lid, q, c) in &lines {
        if let Some(l) = o.lines.iter_mut().find(|l| l.id == *lid) {
            l.quantity_refunded += q;
            l.refund_amount += c;
        }
    }
    o.refunded += total;
    o.date_modified = at;
    let status = if o.refunded >= o.total() { 4 } else { 14 };
    st.refunds.insert(
        rid,
        Refund {
            id: rid,
            order_id: id,
            reason: v
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            total,
            items: rendered_items,
            payments: rendered,
            created: at,
        },
    );
    let tx = record_transaction(st, id, "refund", total, at);
    transaction_event(world, st, tx);
    delivery::fire(
        world,
        st,
        "store/order/refund/created",
        json!({ "type": "order", "id": id, "refund": { "refund_id": rid } }),
    );
    orders::set_status(world, st, id, status);
    Ok(rid)
}

async fn order_refunds(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = order_id(&path.1)?;
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V3)?;
    if !st.orders.contains_key(&id) {
        return Err(BcError::not_found(V3));
    }
    let all: Vec<Value> = st
        .refunds
        .values()
        .filter(|r| r.order_id == id)
        .map(render_refund)
        .collect();
    Ok(v3_list(&all, page, json!({})))
}

async fn all_refunds(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, BcError> {
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V3)?;
    let orders = param(&q, "order_id:in").map(id_list);
    let ids = param(&q, "id:in").map(id_list);
    let all: Vec<Value> = st
        .refunds
        .values()
        .filter(|r| orders.as_ref().is_none_or(|o| o.contains(&r.order_id)))
        .filter(|r| ids.as_ref().is_none_or(|i| i.contains(&r.id)))
        .map(render_refund)
        .collect();
    Ok(v3_list(&all, page, json!({})))
}

async fn one_refund(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let rid = order_id(&path.1)?;
    let st = world.bigcommerce();
    let r = st.refunds.get(&rid).ok_or_else(|| BcError::not_found(V3))?;
    Ok(HttpResponse::Ok().json(json!({ "data": render_refund(r), "meta": {} })))
}
