//! V2 resources (facts §4.5), over the same data as V1 (terminology map of
//! §4.0): a V2 *shipment* `se-{orderId}` is a V1 order, a V2 *label*
//! `se-{shipmentId}` a V1 shipment.
//!
//! - `GET /v2/shipments?shipment_status=pending|processing|label_purchased|cancelled
//!   &created_at_start&created_at_end&modified_at_start&modified_at_end`,
//!   `GET /v2/shipments/{shipment_id}`,
//!   `GET /v2/shipments/external_shipment_id/{external_shipment_id}`,
//!   `POST /v2/shipments {"shipments": [...]}` (ShipEngine shape, beyond
//!   the facts);
//! - `GET /v2/labels`, `GET /v2/labels/{label_id}`,
//!   `GET /v2/labels/{label_id}/track`, `PUT /v2/labels/{label_id}/void`.
//!
//! Field names beyond the facts follow the ShipEngine API the V2 is based
//! on. Status map (a decision): `shipped` → `label_purchased`,
//! `cancelled`/`rejected_fulfillment` → `cancelled`, the rest `pending`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::dates::{v2_format, v2_parse};
use super::errors::V2Error;
use super::orders::{self, Order};
use super::paging::{self_url, v2_page, Query};
use super::shipments::Shipment;
use super::{v2_root, State};
use crate::World;

/// The V2 `shipment_status` of an order.
pub fn shipment_status(o: &Order) -> &'static str {
    match o.status.as_str() {
        "shipped" => "label_purchased",
        "cancelled" | "rejected_fulfillment" => "cancelled",
        _ => "pending",
    }
}

/// A V1 address as a V2 address.
fn v2_address(a: &Value, email: &Value) -> Value {
    if !a.is_object() {
        return Value::Null;
    }
    let residential = match a.get("residential").and_then(Value::as_bool) {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    json!({
        "name": a.get("name"),
        "phone": a.get("phone"),
        "email": email,
        "company_name": a.get("company"),
        "address_line1": a.get("street1"),
        "address_line2": a.get("street2"),
        "address_line3": a.get("street3"),
        "city_locality": a.get("city"),
        "state_province": a.get("state"),
        "postal_code": a.get("postalCode"),
        "country_code": a.get("country"),
        "address_residential_indicator": residential,
    })
}

/// A V2 address as a V1 address.
fn v1_address(a: &Value) -> Value {
    json!({
        "name": a.get("name"),
        "phone": a.get("phone"),
        "company": a.get("company_name"),
        "street1": a.get("address_line1"),
        "street2": a.get("address_line2"),
        "street3": a.get("address_line3"),
        "city": a.get("city_locality"),
        "state": a.get("state_province"),
        "postalCode": a.get("postal_code"),
        "country": a.get("country_code"),
        "residential": match a.get("address_residential_indicator").and_then(Value::as_str) {
            Some("yes") => json!(true),
            Some("no") => json!(false),
            _ => Value::Null,
        },
    })
}

/// The V2 shipment of an order.
pub fn render_shipment(o: &Order) -> Value {
    let email = o
        .fields
        .get("customerEmail")
        .cloned()
        .unwrap_or(Value::Null);
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            json!({
                "name": i["name"],
                "sku": i["sku"],
                "quantity": i["quantity"],
                "external_order_item_id": i["lineItemKey"],
                "sales_order_id": null,
                "sales_order_item_id": null,
                "unit_price": i["unitPrice"],
            })
        })
        .collect();
    let weight = o.fields.get("weight").cloned().unwrap_or(Value::Null);
    json!({
        "shipment_id": format!("se-{}", o.id),
        "carrier_id": null,
        "service_code": o.fields.get("serviceCode"),
        "external_shipment_id": o.key,
        "shipment_number": o.number,
        "ship_date": o.ship_date.and_then(|d| d.and_hms_opt(0, 0, 0)).map(v2_format),
        "created_at": v2_format(o.created),
        "modified_at": v2_format(o.modified),
        "shipment_status": shipment_status(o),
        "ship_to": v2_address(o.fields.get("shipTo").unwrap_or(&Value::Null), &email),
        "ship_from": null,
        "warehouse_id": o.fields.get("advancedOptions")
            .and_then(|a| a.get("warehouseId"))
            .and_then(Value::as_u64)
            .map_or(format!("se-{}", super::DEFAULT_WAREHOUSE_ID), |w| format!("se-{w}")),
        "return_to": null,
        "confirmation": o.fields.get("confirmation").cloned().unwrap_or("none".into()),
        "customs": null,
        "advanced_options": {},
        "items": items,
        "tags": [],
        "total_weight": {
            "value": weight.get("value").cloned().unwrap_or(json!(0)),
            "unit": match weight.get("units").and_then(Value::as_str) {
                Some("pounds") => "pound",
                Some("grams") => "gram",
                _ => "ounce",
            },
        },
        "packages": [],
        "store_id": o.store_id,
        "amount_paid": { "currency": "usd", "amount": o.num_field("amountPaid") },
    })
}

/// The V2 label of a shipment.
pub fn render_label(root: &str, s: &Shipment) -> Value {
    json!({
        "label_id": format!("se-{}", s.id),
        "status": if s.voided { "voided" } else { "completed" },
        "shipment_id": format!("se-{}", s.order_id),
        "ship_date": s.ship_date.and_hms_opt(0, 0, 0).map(v2_format),
        "created_at": v2_format(s.created),
        "shipment_cost": { "currency": "usd", "amount": s.cost },
        "insurance_cost": { "currency": "usd", "amount": s.insurance_cost },
        "tracking_number": s.tracking,
        "is_return_label": false,
        "is_international": false,
        "batch_id": format!("se-{}", s.batch_id),
        "carrier_id": format!("se-{}", s.carrier),
        "carrier_code": s.carrier,
        "service_code": s.service,
        "package_code": s.package,
        "voided": s.voided,
        "voided_at": s.void_date.map(v2_format),
        "label_format": "pdf",
        "label_layout": "4x6",
        "trackable": true,
        "tracking_status": tracking_status(&s.track_status),
        "label_download": {
            "href": format!("{root}/v2/downloads/labels/se-{}.pdf", s.id),
        },
        "links": {
            "self": { "href": format!("{root}/v2/labels/se-{}", s.id) },
            "track": { "href": format!("{root}/v2/labels/se-{}/track", s.id) },
        },
    })
}

/// `tracking_status` of a label from its status code.
fn tracking_status(code: &str) -> &'static str {
    match code {
        "IT" | "AT" => "in_transit",
        "DE" => "delivered",
        "EX" => "error",
        _ => "unknown",
    }
}

/// The description of a tracking status code.
pub fn status_description(code: &str) -> &'static str {
    match code {
        "AC" => "Accepted",
        "IT" => "In Transit",
        "DE" => "Delivered",
        "EX" => "Exception",
        "AT" => "Delivery Attempt",
        "NY" => "Not Yet In System",
        _ => "Unknown",
    }
}

/// The tracking answer of a label (and the `data` of `TRACK_EVENT_V2`).
pub fn render_track(s: &Shipment) -> Value {
    let events: Vec<Value> = s
        .track_events
        .iter()
        .rev()
        .map(|(at, code, description)| {
            json!({
                "occurred_at": v2_format(*at),
                "carrier_occurred_at": v2_format(*at),
                "description": description,
                "city_locality": null,
                "state_province": null,
                "postal_code": null,
                "country_code": null,
                "company_name": null,
                "signer": null,
                "event_code": code,
                "status_code": code,
                "status_description": status_description(code),
                "carrier_status_code": code,
            })
        })
        .collect();
    let delivered = s
        .track_events
        .iter()
        .rev()
        .find(|(_, c, _)| c == "DE")
        .map(|(at, _, _)| v2_format(*at));
    json!({
        "tracking_number": s.tracking,
        "tracking_url": format!("https://tracking.example.com/{}/{}", s.carrier, s.tracking),
        "status_code": s.track_status,
        "status_description": status_description(&s.track_status),
        "carrier_code": s.carrier,
        "carrier_status_code": s.track_status,
        "carrier_status_description": status_description(&s.track_status),
        "ship_date": s.ship_date.and_hms_opt(0, 0, 0).map(v2_format),
        "estimated_delivery_date": null,
        "actual_delivery_date": delivered,
        "exception_description": if s.track_status == "EX" { json!("Exception") } else { Value::Null },
        "events": events,
    })
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/shipments", web::get().to(list_shipments))
        .route("/shipments", web::post().to(create_shipments))
        .route(
            "/shipments/external_shipment_id/{key}",
            web::get().to(shipment_by_key),
        )
        .route("/shipments/{id}", web::get().to(get_shipment))
        .route("/labels", web::get().to(list_labels))
        .route("/labels/{id}", web::get().to(get_label))
        .route("/labels/{id}/track", web::get().to(track_label))
        .route("/labels/{id}/void", web::put().to(void_label));
}

fn date_param(q: &Query, name: &str) -> Result<Option<NaiveDateTime>, V2Error> {
    q.get(name)
        .map(|v| {
            v2_parse(v).ok_or_else(|| {
                V2Error::invalid(name, format!("{name} must be an ISO-8601 date-time."))
            })
        })
        .transpose()
}

fn se_id(path: &str) -> Option<u64> {
    path.strip_prefix("se-").unwrap_or(path).parse().ok()
}

fn sort(q: &Query, allowed: &[&str]) -> Result<(Option<String>, bool), V2Error> {
    let by = q.get("sort_by").map(str::to_string);
    if let Some(b) = &by {
        if !allowed.contains(&b.as_str()) {
            return Err(V2Error::invalid(
                "sort_by",
                format!("sort_by must be one of {}.", allowed.join(", ")),
            ));
        }
    }
    let desc = match q.get("sort_dir") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            return Err(V2Error::invalid(
                "sort_dir",
                "sort_dir must be asc or desc.",
            ))
        }
    };
    Ok((by, desc))
}

async fn list_shipments(
    world: web::Data<World>,
    req: HttpRequest,
) -> Result<HttpResponse, V2Error> {
    let q = Query::of(&req);
    let status = q.get("shipment_status");
    if let Some(s) = status {
        if !["pending", "processing", "label_purchased", "cancelled"].contains(&s) {
            return Err(V2Error::invalid(
                "shipment_status",
                "shipment_status must be pending, processing, label_purchased or cancelled.",
            ));
        }
    }
    let (c0, c1) = (
        date_param(&q, "created_at_start")?,
        date_param(&q, "created_at_end")?,
    );
    let (m0, m1) = (
        date_param(&q, "modified_at_start")?,
        date_param(&q, "modified_at_end")?,
    );
    let (by, desc) = sort(&q, &["modified_at", "created_at"])?;
    let root = v2_root(&world);
    let st = world.shipstation();
    let within = |at: NaiveDateTime, s: Option<NaiveDateTime>, e: Option<NaiveDateTime>| {
        s.is_none_or(|s| at >= s) && e.is_none_or(|e| at <= e)
    };
    let mut found: Vec<&Order> = st
        .orders
        .values()
        .filter(|o| status.is_none_or(|s| shipment_status(o) == s))
        .filter(|o| within(o.created, c0, c1) && within(o.modified, m0, m1))
        .collect();
    match by.as_deref() {
        Some("modified_at") => found.sort_by_key(|o| (o.modified, o.id)),
        _ => found.sort_by_key(|o| (o.created, o.id)),
    }
    if desc {
        found.reverse();
    }
    let items = found.into_iter().map(render_shipment).collect();
    let out = v2_page(items, &q, "shipments", &self_url(&root, &req))?;
    Ok(HttpResponse::Ok().json(out))
}

fn find_order<'a>(st: &'a State, path: &str) -> Result<&'a Order, V2Error> {
    se_id(path)
        .and_then(|id| st.orders.get(&id))
        .ok_or_else(|| V2Error::not_found(format!("Shipment {path} was not found.")))
}

async fn get_shipment(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let st = world.shipstation();
    Ok(HttpResponse::Ok().json(render_shipment(find_order(&st, &path)?)))
}

async fn shipment_by_key(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let st = world.shipstation();
    let o = st.orders.values().find(|o| o.key == *path).ok_or_else(|| {
        V2Error::not_found(format!("No shipment has external_shipment_id {path}."))
    })?;
    Ok(HttpResponse::Ok().json(render_shipment(o)))
}

/// A V2 shipment request as a V1 order body.
fn to_v1(s: &Value) -> Result<Value, String> {
    let Some(obj) = s.as_object() else {
        return Err("a shipment object is expected".into());
    };
    let ship_to = obj
        .get("ship_to")
        .filter(|v| v.is_object())
        .ok_or("ship_to is required")?;
    let items: Vec<Value> = obj
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|i| {
            json!({
                "name": i.get("name"),
                "sku": i.get("sku"),
                "quantity": i.get("quantity").and_then(Value::as_i64).unwrap_or(1),
                "lineItemKey": i.get("external_order_item_id"),
                "unitPrice": i.get("unit_price").and_then(Value::as_f64),
            })
        })
        .collect();
    let mut order = Map::new();
    let number = obj
        .get("shipment_number")
        .or_else(|| obj.get("external_shipment_id"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..10].to_string());
    order.insert("orderNumber".into(), number.into());
    if let Some(k) = obj.get("external_shipment_id").and_then(Value::as_str) {
        order.insert("orderKey".into(), k.into());
    }
    let date = obj
        .get("ship_date")
        .and_then(Value::as_str)
        .and_then(v2_parse)
        .unwrap_or_else(super::now);
    order.insert(
        "orderDate".into(),
        format!("{}Z", date.format("%Y-%m-%dT%H:%M:%S")).into(),
    );
    order.insert("orderStatus".into(), "awaiting_shipment".into());
    let v1_ship = v1_address(ship_to);
    order.insert("billTo".into(), v1_ship.clone());
    order.insert("shipTo".into(), v1_ship);
    order.insert(
        "customerEmail".into(),
        ship_to.get("email").cloned().unwrap_or(Value::Null),
    );
    order.insert("items".into(), items.into());
    if let Some(sc) = obj.get("service_code") {
        order.insert("serviceCode".into(), sc.clone());
    }
    if let Some(store) = obj.get("store_id").and_then(Value::as_u64) {
        order.insert("advancedOptions".into(), json!({ "storeId": store }));
    }
    Ok(Value::Object(order))
}

/// `POST /v2/shipments {"shipments": [...]}` → `{"has_errors",
/// "shipments": [... each with "errors"]}`. An `external_shipment_id`
/// already in use is refused for that shipment.
async fn create_shipments(
    world: web::Data<World>,
    body: web::Bytes,
) -> Result<HttpResponse, V2Error> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|_| V2Error::invalid("body", "The request body is not valid JSON."))?;
    let list = body
        .get("shipments")
        .and_then(Value::as_array)
        .ok_or_else(|| V2Error::invalid("shipments", "shipments is required."))?;
    let mut st = world.shipstation();
    let mut out = Vec::new();
    let mut has_errors = false;
    for s in list {
        let key = s.get("external_shipment_id").and_then(Value::as_str);
        let result = if key.is_some_and(|k| st.orders.values().any(|o| o.key == k)) {
            Err("external_shipment_id is already in use".to_string())
        } else {
            to_v1(s).and_then(|order| orders::upsert(&mut st, &order, None).map_err(|e| e.message))
        };
        match result {
            Ok(id) => {
                let mut rendered = render_shipment(&st.orders[&id]);
                rendered["errors"] = json!([]);
                out.push(rendered);
            }
            Err(message) => {
                has_errors = true;
                let mut failed = s.clone();
                failed["errors"] = json!([{ "error_source": "shipstation", "error_type": "validation", "error_code": "invalid_field_value", "message": message }]);
                out.push(failed);
            }
        }
    }
    Ok(HttpResponse::Ok().json(json!({ "has_errors": has_errors, "shipments": out })))
}

async fn list_labels(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, V2Error> {
    let q = Query::of(&req);
    let status = q.get("label_status");
    if let Some(s) = status {
        if !["processing", "completed", "error", "voided"].contains(&s) {
            return Err(V2Error::invalid(
                "label_status",
                "label_status must be processing, completed, error or voided.",
            ));
        }
    }
    let (c0, c1) = (
        date_param(&q, "created_at_start")?,
        date_param(&q, "created_at_end")?,
    );
    let tracking = q.get("tracking_number");
    let shipment = q.get("shipment_id").map(|s| se_id(s).unwrap_or(0));
    let batch = q.get("batch_id").map(|s| se_id(s).unwrap_or(0));
    let (_, desc) = sort(&q, &["created_at", "ship_date"])?;
    let root = v2_root(&world);
    let st = world.shipstation();
    let mut found: Vec<Value> = st
        .shipments
        .values()
        .filter(|s| {
            status.is_none_or(|x| (x == "voided") == s.voided && x != "processing" && x != "error")
        })
        .filter(|s| c0.is_none_or(|b| s.created >= b) && c1.is_none_or(|b| s.created <= b))
        .filter(|s| tracking.is_none_or(|t| s.tracking == t))
        .filter(|s| shipment.is_none_or(|id| s.order_id == id))
        .filter(|s| batch.is_none_or(|id| s.batch_id == id))
        .map(|s| render_label(&root, s))
        .collect();
    if desc {
        found.reverse();
    }
    let out = v2_page(found, &q, "labels", &self_url(&root, &req))?;
    Ok(HttpResponse::Ok().json(out))
}

fn find_label<'a>(st: &'a State, path: &str) -> Result<&'a Shipment, V2Error> {
    se_id(path)
        .and_then(|id| st.shipments.get(&id))
        .ok_or_else(|| V2Error::not_found(format!("Label {path} was not found.")))
}

async fn get_label(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let root = v2_root(&world);
    let st = world.shipstation();
    Ok(HttpResponse::Ok().json(render_label(&root, find_label(&st, &path)?)))
}

async fn track_label(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let st = world.shipstation();
    Ok(HttpResponse::Ok().json(render_track(find_label(&st, &path)?)))
}

async fn void_label(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let mut st = world.shipstation();
    let id = find_label(&st, &path)?.id;
    let out = match super::shipments::void(&mut st, id) {
        Ok(()) => {
            json!({ "approved": true, "message": "Request for refund submitted.  This label has been voided." })
        }
        Err(message) => json!({ "approved": false, "message": message }),
    };
    Ok(HttpResponse::Ok().json(out))
}
