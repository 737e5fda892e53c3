//! Order refunds (facts §1.7): `GET/POST /orders/{id}/refunds`,
//! `GET/DELETE /orders/{id}/refunds/{refund_id}`. Creating or deleting a
//! refund fires `order.updated` (hooks `woocommerce_order_refunded`,
//! `woocommerce_delete_order_refund`, facts §1.7/§1.8).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::auth::{authorize, CANNOT_CREATE, CANNOT_DELETE, CANNOT_LIST, CANNOT_VIEW};
use super::paging::{respond, ListParams};
use super::{
    api_base, body_params, delivery, field_bool, field_int, field_str, money, now, parse_money,
    State, WcError,
};
use crate::World;

/// A refunded line (negative quantity and totals).
#[derive(Debug, Clone)]
pub(crate) struct RefundLine {
    pub id: u64,
    pub name: String,
    pub product_id: u64,
    pub quantity: i64,
    pub total: i64,
    pub sku: String,
    pub refunded_item_id: u64,
}

/// A refund of an order.
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub id: u64,
    pub order_id: u64,
    /// Positive cents.
    pub amount: i64,
    pub reason: String,
    pub refunded_by: u64,
    pub refunded_payment: bool,
    pub date_created: NaiveDateTime,
    pub line_items: Vec<RefundLine>,
}

/// A line to refund: the order line, how many, and the amount (cents; the
/// line's unit total × quantity when absent).
#[derive(Debug, Clone)]
pub(crate) struct RefundRequest {
    pub amount: Option<i64>,
    pub reason: String,
    pub refunded_by: u64,
    pub lines: Vec<(u64, i64, Option<i64>)>,
    pub api_refund: bool,
    pub restock: bool,
}

/// Payment methods without automatic refunds.
fn gateway_refunds(method: &str) -> bool {
    !matches!(method, "" | "bacs" | "cheque" | "cod")
}

fn cannot(message: &str) -> WcError {
    WcError::new(500, "woocommerce_rest_cannot_create_order_refund", message)
}

/// Creates a refund as `wc_create_refund` does; marks the order `refunded`
/// when fully refunded. Returns its id (the caller fires `order.updated`).
pub(crate) fn create(state: &mut State, order_id: u64, req: RefundRequest) -> Result<u64, WcError> {
    let Some(mut order) = state.orders.get(&order_id).cloned() else {
        return Err(WcError::new(
            404,
            "woocommerce_rest_invalid_order_id",
            "Invalid order ID.",
        ));
    };
    let mut lines = Vec::new();
    let mut lines_total = 0;
    for (item_id, quantity, total) in &req.lines {
        let Some(item) = order.line_items.iter().find(|l| l.id == *item_id) else {
            return Err(cannot("Invalid line item."));
        };
        let unit = if item.quantity != 0 {
            (item.total + item.total_tax) / item.quantity
        } else {
            0
        };
        let total = total.unwrap_or(unit * quantity);
        lines_total += total;
        lines.push(RefundLine {
            id: state.item_id(),
            name: item.name.clone(),
            product_id: item.product_id,
            quantity: -quantity,
            total: -total,
            sku: item.sku.clone(),
            refunded_item_id: item.id,
        });
    }
    // `amount` takes precedence over the line totals (facts §1.7).
    let amount = req.amount.unwrap_or(lines_total);
    if amount <= 0 {
        return Err(WcError::new(
            400,
            "woocommerce_rest_invalid_order_refund",
            "Refund amount must be greater than zero.",
        ));
    }
    let already = order.refunded(state);
    if amount > order.total - already {
        return Err(cannot("Invalid refund amount."));
    }
    if req.api_refund && !gateway_refunds(&order.payment_method) {
        return Err(cannot(
            "The payment gateway for this order does not support automatic refunds.",
        ));
    }
    if req.restock {
        for line in &lines {
            if let Some(p) = state.products.get_mut(&line.product_id) {
                if p.manage_stock {
                    p.stock_quantity = Some(p.stock_quantity.unwrap_or(0) - line.quantity);
                    p.sync_stock_status();
                }
            }
        }
    }
    let id = state.post_id();
    let at = now();
    state.refunds.insert(
        id,
        Refund {
            id,
            order_id,
            amount,
            reason: req.reason,
            refunded_by: req.refunded_by,
            refunded_payment: req.api_refund,
            date_created: at,
            line_items: lines,
        },
    );
    if already + amount >= order.total && order.status != "refunded" {
        order.status = "refunded".into();
    }
    order.date_modified = at;
    state.orders.insert(order_id, order);
    Ok(id)
}

/// The REST representation.
pub(crate) fn render(state: &State, api: &str, r: &Refund) -> Value {
    let (created, created_gmt) = state.dates(r.date_created);
    let lines: Vec<Value> = r
        .line_items
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "name": l.name,
                "product_id": l.product_id,
                "variation_id": 0,
                "quantity": l.quantity,
                "tax_class": "",
                "subtotal": money(l.total),
                "subtotal_tax": "0.00",
                "total": money(l.total),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [{ "id": 0, "key": "_refunded_item_id", "value": l.refunded_item_id.to_string() }],
                "sku": l.sku,
                "price": if l.quantity != 0 { json!(l.total as f64 / l.quantity as f64 / 100.0) } else { json!(0) },
            })
        })
        .collect();
    json!({
        "id": r.id,
        "date_created": created,
        "date_created_gmt": created_gmt,
        "amount": money(r.amount),
        "reason": r.reason,
        "refunded_by": r.refunded_by,
        "refunded_payment": r.refunded_payment,
        "meta_data": [],
        "line_items": lines,
        "_links": {
            "self": [{ "href": format!("{api}/orders/{}/refunds/{}", r.order_id, r.id) }],
            "collection": [{ "href": format!("{api}/orders/{}/refunds", r.order_id) }],
            "up": [{ "href": format!("{api}/orders/{}", r.order_id) }],
        },
    })
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders/{order_id:\\d+}/refunds", web::get().to(list))
        .route(
            "/orders/{order_id:\\d+}/refunds",
            web::post().to(create_one),
        )
        .route(
            "/orders/{order_id:\\d+}/refunds/{id:\\d+}",
            web::get().to(get),
        )
        .route(
            "/orders/{order_id:\\d+}/refunds/{id:\\d+}",
            web::delete().to(delete_one),
        );
}

fn order_exists(state: &State, order_id: u64) -> Result<(), WcError> {
    if state.orders.contains_key(&order_id) {
        Ok(())
    } else {
        Err(WcError::new(
            404,
            "woocommerce_rest_invalid_order_id",
            "Invalid order ID.",
        ))
    }
}

async fn list(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    order_id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let order_id = order_id.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_LIST)?;
    order_exists(&st, order_id)?;
    let params = ListParams::parse(&req)?;
    let mut items: Vec<&Refund> = st
        .refunds
        .values()
        .filter(|r| r.order_id == order_id && params.id_passes(r.id))
        .collect();
    items.sort_by_key(|r| (r.date_created, r.id));
    if !params.ascending.unwrap_or(false) {
        items.reverse();
    }
    let items: Vec<Value> = items.into_iter().map(|r| render(&st, &api, r)).collect();
    Ok(respond(&req, &params, items))
}

fn invalid_id() -> WcError {
    WcError::new(
        404,
        "woocommerce_rest_shop_order_refund_invalid_id",
        "Invalid ID.",
    )
}

async fn get(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    path: web::Path<(u64, u64)>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let (order_id, id) = path.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_VIEW)?;
    order_exists(&st, order_id)?;
    let r = st
        .refunds
        .get(&id)
        .filter(|r| r.order_id == order_id)
        .ok_or_else(invalid_id)?;
    Ok(HttpResponse::Ok().json(render(&st, &api, r)))
}

async fn create_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    order_id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let order_id = order_id.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_CREATE)?;
    let patch = body_params(&req, &body)?;
    let amount = match field_str(&patch, "amount")? {
        Some(a) => Some(
            parse_money(&a)
                .ok_or_else(|| WcError::invalid_param("amount", "amount is not a number."))?,
        ),
        None => None,
    };
    let mut lines = Vec::new();
    for item in patch
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = field_int(item, "id")?.unwrap_or(0).max(0) as u64;
        let quantity = field_int(item, "quantity")?.unwrap_or(0);
        let total = field_str(item, "refund_total")?.and_then(|t| parse_money(&t));
        lines.push((id, quantity, total));
    }
    let request = RefundRequest {
        amount,
        reason: field_str(&patch, "reason")?.unwrap_or_default(),
        refunded_by: field_int(&patch, "refunded_by")?.unwrap_or(1).max(0) as u64,
        lines,
        // api_refund defaults to true: the gateway is called (facts §1.7).
        api_refund: field_bool(&patch, "api_refund")?.unwrap_or(true),
        restock: field_bool(&patch, "api_restock")?.unwrap_or(true),
    };
    let id = create(&mut st, order_id, request)?;
    delivery::fire(&world, &mut st, "order.updated", order_id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{api}/orders/{order_id}/refunds/{id}")))
        .json(render(&st, &api, &st.refunds[&id])))
}

async fn delete_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    path: web::Path<(u64, u64)>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let (order_id, id) = path.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_DELETE)?;
    order_exists(&st, order_id)?;
    let params = ListParams::parse(&req)?;
    if !matches!(params.get("force"), Some("true" | "1")) {
        return Err(WcError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "Refunds do not support trashing.",
        ));
    }
    if st.refunds.get(&id).is_none_or(|r| r.order_id != order_id) {
        return Err(invalid_id());
    }
    let r = st.refunds.remove(&id).expect("present");
    if let Some(o) = st.orders.get_mut(&order_id) {
        o.date_modified = now();
    }
    delivery::fire(&world, &mut st, "order.updated", order_id);
    Ok(HttpResponse::Ok().json(render(&st, &api, &r)))
}
