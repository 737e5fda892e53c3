//! V1 shipments (facts §4.3): labels created in ShipStation, never orders
//! marked shipped (§0 #7). `GET /shipments` with the documented filters
//! plus `batchId` (the SHIP_NOTIFY `resource_url` of §4.4), and
//! `POST /shipments/voidlabel {"shipmentId"}` (UNVERIFIED). A shipment is a
//! V2 *label* too (§4.0).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Value};

use super::dates::{parse_day, v1_format, v1_parse};
use super::errors::V1Error;
use super::orders::json_body;
use super::paging::{v1_page, Query};
use super::{now, State, DEFAULT_WAREHOUSE_ID};
use crate::World;

/// A label bought for an order.
#[derive(Debug, Clone)]
pub struct Shipment {
    pub id: u64,
    pub order_id: u64,
    pub batch_id: u64,
    pub store_id: u64,
    pub created: NaiveDateTime,
    pub ship_date: NaiveDate,
    pub cost: f64,
    pub insurance_cost: f64,
    pub tracking: String,
    pub carrier: String,
    pub service: String,
    pub package: String,
    pub confirmation: String,
    pub voided: bool,
    pub void_date: Option<NaiveDateTime>,
    /// Tracking status code for V2 (`IT`, `DE`, `EX`...), `AC` at first.
    pub track_status: String,
    /// Tracking events for V2: (when, status code, description).
    pub track_events: Vec<(NaiveDateTime, String, String)>,
}

/// The V1 representation (§4.3 field names).
pub fn render(st: &State, s: &Shipment, with_items: bool) -> Value {
    let tz = st.settings.v1_timezone;
    let order = st.orders.get(&s.order_id);
    let field = |name: &str| {
        order
            .and_then(|o| o.fields.get(name).cloned())
            .unwrap_or(Value::Null)
    };
    let items = if with_items {
        order.map_or(json!([]), |o| {
            Value::Array(
                o.items
                    .iter()
                    .map(|i| {
                        json!({
                            "orderItemId": i["orderItemId"], "lineItemKey": i["lineItemKey"],
                            "sku": i["sku"], "name": i["name"], "imageUrl": i["imageUrl"],
                            "weight": i["weight"], "quantity": i["quantity"],
                            "unitPrice": i["unitPrice"], "taxAmount": i["taxAmount"],
                            "shippingAmount": i["shippingAmount"],
                            "warehouseLocation": i["warehouseLocation"], "options": i["options"],
                            "productId": i["productId"], "fulfillmentSku": i["fulfillmentSku"],
                            "adjustment": i["adjustment"], "upc": i["upc"],
                        })
                    })
                    .collect(),
            )
        })
    } else {
        Value::Null
    };
    let ship_to = order
        .map(|o| super::orders::render(st, o)["shipTo"].clone())
        .unwrap_or(Value::Null);
    json!({
        "shipmentId": s.id,
        "orderId": s.order_id,
        "orderKey": order.map(|o| o.key.clone()),
        "userId": null,
        "customerEmail": field("customerEmail"),
        "orderNumber": order.map(|o| o.number.clone()),
        "createDate": v1_format(tz, s.created),
        "shipDate": s.ship_date.format("%Y-%m-%d").to_string(),
        "shipmentCost": s.cost,
        "insuranceCost": s.insurance_cost,
        "trackingNumber": s.tracking,
        "isReturnLabel": false,
        "batchNumber": s.batch_id.to_string(),
        "carrierCode": s.carrier,
        "serviceCode": s.service,
        "packageCode": s.package,
        "confirmation": s.confirmation,
        "warehouseId": order
            .and_then(|o| o.fields.get("advancedOptions"))
            .and_then(|a| a.get("warehouseId"))
            .cloned()
            .unwrap_or(DEFAULT_WAREHOUSE_ID.into()),
        "voided": s.voided,
        "voidDate": s.void_date.map(|d| v1_format(tz, d)),
        "marketplaceNotified": true,
        "notifyErrorMessage": null,
        "shipTo": ship_to,
        "weight": field("weight"),
        "dimensions": field("dimensions"),
        "insuranceOptions": field("insuranceOptions"),
        "advancedOptions": { "storeId": s.store_id },
        "labelData": null,
        "formData": null,
        "shipmentItems": items,
    })
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/shipments", web::get().to(list))
        .route("/shipments/voidlabel", web::post().to(void_label));
}

fn date_param(st: &State, q: &Query, name: &str) -> Result<Option<NaiveDateTime>, V1Error> {
    q.get(name)
        .map(|v| {
            v1_parse(st.settings.v1_timezone, v)
                .ok_or_else(|| V1Error::bad(format!("The value '{v}' is not valid for {name}.")))
        })
        .transpose()
}

async fn list(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, V1Error> {
    let q = Query::of(&req);
    let st = world.shipstation();
    let tz = st.settings.v1_timezone;
    let with_items = q.v1_bool("includeShipmentItems")?.unwrap_or(false);
    let order_id = q.v1_int("orderId")?;
    let store = q.v1_int("storeId")?;
    let batch = q.v1_int("batchId")?;
    let mut ranges = Vec::new();
    for (field, start, end) in [
        ("create", "createDateStart", "createDateEnd"),
        ("ship", "shipDateStart", "shipDateEnd"),
        ("void", "voidDateStart", "voidDateEnd"),
    ] {
        ranges.push((
            field,
            date_param(&st, &q, start)?,
            date_param(&st, &q, end)?,
        ));
    }
    let text = |name: &str| q.get(name).map(str::to_lowercase);
    let (recipient, country, number, carrier, service, tracking) = (
        text("recipientName"),
        text("recipientCountryCode"),
        text("orderNumber"),
        text("carrierCode"),
        text("serviceCode"),
        text("trackingNumber"),
    );
    let mut found: Vec<&Shipment> = st
        .shipments
        .values()
        .filter(|s| {
            let order = st.orders.get(&s.order_id);
            let ship_to = |f: &str| {
                order
                    .and_then(|o| o.fields.get("shipTo"))
                    .and_then(|a| a.get(f))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_lowercase()
            };
            order_id.is_none_or(|id| s.order_id == id)
                && store.is_none_or(|id| s.store_id == id)
                && batch.is_none_or(|id| s.batch_id == id)
                && recipient
                    .as_ref()
                    .is_none_or(|r| ship_to("name").contains(r))
                && country.as_ref().is_none_or(|c| ship_to("country") == *c)
                && number
                    .as_ref()
                    .is_none_or(|n| order.is_some_and(|o| o.number.to_lowercase() == *n))
                && carrier
                    .as_ref()
                    .is_none_or(|c| s.carrier.to_lowercase() == *c)
                && service
                    .as_ref()
                    .is_none_or(|c| s.service.to_lowercase() == *c)
                && tracking
                    .as_ref()
                    .is_none_or(|t| s.tracking.to_lowercase() == *t)
                && ranges.iter().all(|(field, start, end)| {
                    if start.is_none() && end.is_none() {
                        return true;
                    }
                    let at = match *field {
                        "create" => Some(s.created),
                        "ship" => s
                            .ship_date
                            .and_hms_opt(0, 0, 0)
                            .map(|d| super::dates::from_local(tz, d)),
                        _ => s.void_date,
                    };
                    at.is_some_and(|at| {
                        start.is_none_or(|b| at >= b) && end.is_none_or(|b| at <= b)
                    })
                })
        })
        .collect();
    let desc = match q.get("sortDir").map(str::to_ascii_uppercase).as_deref() {
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => {
            return Err(V1Error::bad(format!(
                "The value '{other}' is not valid for sortDir."
            )))
        }
    };
    match q.get("sortBy").map(str::to_ascii_lowercase).as_deref() {
        None | Some("shipdate") => found.sort_by_key(|s| (s.ship_date, s.id)),
        Some("createdate") => found.sort_by_key(|s| (s.created, s.id)),
        Some(_) => return Err(V1Error::bad("sortBy must be ShipDate or CreateDate.")),
    }
    if desc {
        found.reverse();
    }
    let (page, total, p, pages) = v1_page(&found, &q, 100)?;
    let shipments: Vec<Value> = page
        .into_iter()
        .map(|s| render(&st, s, with_items))
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({ "shipments": shipments, "total": total, "page": p, "pages": pages })))
}

/// Voids shipment `id`: an error message when it cannot be.
pub fn void(st: &mut State, id: u64) -> Result<(), String> {
    let s = st
        .shipments
        .get_mut(&id)
        .ok_or_else(|| format!("Shipment {id} was not found."))?;
    if s.voided {
        return Err(format!("Shipment {id} is already voided."));
    }
    s.voided = true;
    s.void_date = Some(now());
    Ok(())
}

async fn void_label(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, V1Error> {
    let body = json_body(&body)?;
    let id = body
        .get("shipmentId")
        .and_then(Value::as_u64)
        .ok_or_else(|| V1Error::bad("shipmentId is required."))?;
    let mut st = world.shipstation();
    if !st.shipments.contains_key(&id) {
        return Err(V1Error::not_found(format!("Shipment {id} was not found.")));
    }
    match void(&mut st, id) {
        Ok(()) => Ok(HttpResponse::Ok()
            .json(json!({ "approved": true, "message": "Label voided successfully" }))),
        Err(message) => {
            Ok(HttpResponse::Ok().json(json!({ "approved": false, "message": message })))
        }
    }
}

/// What a label is bought with (the control route's body).
#[derive(Debug, Clone, Default)]
pub struct LabelRequest {
    pub carrier: String,
    pub service: String,
    pub package: String,
    pub tracking: Option<String>,
    pub ship_date: Option<String>,
    pub cost: f64,
    pub confirmation: String,
}

/// Buys a label for order `order_id` in batch `batch`: the order becomes
/// `shipped`; the shipment's id.
pub fn create_label(
    st: &mut State,
    order_id: u64,
    batch: u64,
    req: &LabelRequest,
) -> Result<u64, String> {
    let tz = st.settings.v1_timezone;
    let (store_id, status) = match st.orders.get(&order_id) {
        Some(o) => (o.store_id, o.status.clone()),
        None => return Err(format!("Order {order_id} was not found.")),
    };
    if status == "cancelled" {
        return Err(format!("Order {order_id} is cancelled."));
    }
    let ship_date = match &req.ship_date {
        Some(s) => parse_day(s).ok_or_else(|| format!("shipDate: '{s}' is not a date"))?,
        None => super::dates::to_local(tz, now()).date(),
    };
    let id = st.shipment_id();
    let tracking = req
        .tracking
        .clone()
        .unwrap_or_else(|| format!("9400{:018}", id));
    let at = now();
    st.shipments.insert(
        id,
        Shipment {
            id,
            order_id,
            batch_id: batch,
            store_id,
            created: at,
            ship_date,
            cost: req.cost,
            insurance_cost: 0.0,
            tracking,
            carrier: req.carrier.clone(),
            service: req.service.clone(),
            package: req.package.clone(),
            confirmation: req.confirmation.clone(),
            voided: false,
            void_date: None,
            track_status: "AC".into(),
            track_events: vec![(at, "AC".into(), "Shipping label created".into())],
        },
    );
    if let Some(o) = st.orders.get_mut(&order_id) {
        o.status = "shipped".into();
        o.ship_date = Some(ship_date);
        o.fields
            .insert("carrierCode".into(), req.carrier.clone().into());
        o.fields
            .insert("serviceCode".into(), req.service.clone().into());
        o.fields
            .insert("packageCode".into(), req.package.clone().into());
        o.modified = at;
    }
    Ok(id)
}
