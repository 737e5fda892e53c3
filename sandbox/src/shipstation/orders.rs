//! V1 orders (facts §4.2): `POST /orders/createorder` (an upsert by
//! `orderKey`; the whole order is sent, no partial update; only
//! `awaiting_payment`, `awaiting_shipment` and `on_hold` orders can be
//! updated), `POST /orders/createorders`, `GET /orders` (filters, paging),
//! `GET /orders/{orderId}`, `DELETE /orders/{orderId}`,
//! `POST /orders/markasshipped` (an *external* shipment: no label, so it
//! never appears in `/shipments` and fires no SHIP_NOTIFY, §0 #7).
//!
//! An order is a V2 *shipment* too (§4.0); see `v2.rs`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{json, Map, Value};

use super::dates::{parse_day, v1_format, v1_parse};
use super::errors::V1Error;
use super::paging::{v1_page, Query};
use super::{now, State, DEFAULT_STORE_ID, DEFAULT_WAREHOUSE_ID};
use crate::World;

/// The statuses of §4.2.
pub const STATUSES: [&str; 7] = [
    "awaiting_payment",
    "awaiting_shipment",
    "pending_fulfillment",
    "shipped",
    "on_hold",
    "cancelled",
    "rejected_fulfillment",
];

/// The statuses an existing order can still be updated in (§4.2).
pub const UPDATABLE: [&str; 3] = ["awaiting_payment", "awaiting_shipment", "on_hold"];

/// An order. Client fields are kept as sent (`fields`) and the system
/// fields beside them; dates are UTC.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: u64,
    pub key: String,
    pub number: String,
    pub status: String,
    pub order_date: NaiveDateTime,
    pub payment_date: Option<NaiveDateTime>,
    pub ship_by_date: Option<NaiveDateTime>,
    pub created: NaiveDateTime,
    pub modified: NaiveDateTime,
    pub ship_date: Option<NaiveDate>,
    pub store_id: u64,
    /// The import that brought it (ORDER_NOTIFY's `importBatch`).
    pub import_batch: Option<u64>,
    /// Items with their `orderItemId`s.
    pub items: Vec<Value>,
    /// Everything else the client sent.
    pub fields: Map<String, Value>,
    /// The external shipment of `markasshipped` (shown by the controls only).
    pub external_shipment: Option<Value>,
}

impl Order {
    /// `billTo.name`, or empty.
    pub fn bill_name(&self) -> &str {
        self.fields
            .get("billTo")
            .and_then(|b| b.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// A client field as a number (0 when absent).
    pub fn num_field(&self, name: &str) -> f64 {
        self.fields.get(name).and_then(Value::as_f64).unwrap_or(0.0)
    }

    /// The order total: items plus tax and shipping (the system computes it).
    pub fn total(&self) -> f64 {
        let items: f64 = self
            .items
            .iter()
            .map(|i| i["quantity"].as_f64().unwrap_or(0.0) * i["unitPrice"].as_f64().unwrap_or(0.0))
            .sum();
        round2(items + self.num_field("taxAmount") + self.num_field("shippingAmount"))
    }
}

/// Rounds to cents.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

const ADDRESS_FIELDS: [&str; 10] = [
    "name",
    "company",
    "street1",
    "street2",
    "street3",
    "city",
    "state",
    "postalCode",
    "country",
    "phone",
];

/// An address with every member present (null when not sent).
fn address(v: Option<&Value>) -> Value {
    let Some(Value::Object(given)) = v else {
        return Value::Null;
    };
    let mut out = Map::new();
    for f in ADDRESS_FIELDS {
        out.insert(f.into(), given.get(f).cloned().unwrap_or(Value::Null));
    }
    out.insert(
        "residential".into(),
        given.get("residential").cloned().unwrap_or(Value::Null),
    );
    out.insert(
        "addressVerified".into(),
        given
            .get("addressVerified")
            .cloned()
            .unwrap_or_else(|| "Address not yet validated".into()),
    );
    Value::Object(out)
}

fn opt_str(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, V1Error> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(V1Error::bad(format!("{name}: a string is expected."))),
    }
}

fn opt_date(
    st: &State,
    obj: &Map<String, Value>,
    name: &str,
) -> Result<Option<NaiveDateTime>, V1Error> {
    match opt_str(obj, name)? {
        None => Ok(None),
        Some(s) => v1_parse(st.settings.v1_timezone, &s)
            .map(Some)
            .ok_or_else(|| V1Error::bad(format!("{name}: '{s}' is not a valid date."))),
    }
}

fn check_number(obj: &Map<String, Value>, name: &str, ctx: &str) -> Result<(), V1Error> {
    match obj.get(name) {
        None | Some(Value::Null) | Some(Value::Number(_)) => Ok(()),
        Some(_) => Err(V1Error::bad(format!("{ctx}{name}: a number is expected."))),
    }
}

/// The items of a request, checked and given ids (an item that carries the
/// `orderItemId` of an item of `previous` keeps it).
fn items(st: &mut State, given: Option<&Value>, previous: &[Value]) -> Result<Vec<Value>, V1Error> {
    let list = match given {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(V1Error::bad("items: an array is expected.")),
    };
    let mut out = Vec::new();
    for (i, item) in list.into_iter().enumerate() {
        let Value::Object(mut item) = item else {
            return Err(V1Error::bad(format!("items[{i}]: an object is expected.")));
        };
        let ctx = format!("items[{i}].");
        match item.get("quantity") {
            None | Some(Value::Null) => {
                item.insert("quantity".into(), 1.into());
            }
            Some(v) if v.as_i64().is_some() => {}
            Some(_) => {
                return Err(V1Error::bad(format!(
                    "{ctx}quantity: an integer is expected."
                )))
            }
        }
        for f in ["unitPrice", "taxAmount", "shippingAmount"] {
            check_number(&item, f, &ctx)?;
        }
        let kept = item
            .get("orderItemId")
            .and_then(Value::as_u64)
            .filter(|id| {
                previous
                    .iter()
                    .any(|p| p["orderItemId"].as_u64() == Some(*id))
            });
        let id = match kept {
            Some(id) => id,
            None => st.item_id(),
        };
        item.insert("orderItemId".into(), id.into());
        for f in [
            "lineItemKey",
            "sku",
            "name",
            "imageUrl",
            "weight",
            "unitPrice",
            "taxAmount",
            "shippingAmount",
            "warehouseLocation",
            "productId",
            "fulfillmentSku",
            "upc",
        ] {
            item.entry(f).or_insert(Value::Null);
        }
        item.entry("options").or_insert_with(|| json!([]));
        item.entry("adjustment").or_insert(false.into());
        // createDate/modifyDate are the order's, added when rendered.
        item.remove("createDate");
        item.remove("modifyDate");
        out.push(Value::Object(item));
    }
    Ok(out)
}

/// Creates or updates (by `orderKey`) an order from a V1 body; the order's
/// id. `import_batch` marks orders that arrive as a store import.
pub fn upsert(st: &mut State, body: &Value, import_batch: Option<u64>) -> Result<u64, V1Error> {
    let Some(obj) = body.as_object() else {
        return Err(V1Error::bad(
            "The request is invalid: an order object is expected.",
        ));
    };
    let number =
        opt_str(obj, "orderNumber")?.ok_or_else(|| V1Error::bad("orderNumber is required."))?;
    let status =
        opt_str(obj, "orderStatus")?.ok_or_else(|| V1Error::bad("orderStatus is required."))?;
    if !STATUSES.contains(&status.as_str()) {
        return Err(V1Error::bad(format!(
            "orderStatus: '{status}' is not one of {}.",
            STATUSES.join(", ")
        )));
    }
    let order_date =
        opt_date(st, obj, "orderDate")?.ok_or_else(|| V1Error::bad("orderDate is required."))?;
    for f in ["billTo", "shipTo"] {
        if !obj.get(f).is_some_and(Value::is_object) {
            return Err(V1Error::bad(format!("{f} is required.")));
        }
    }
    for f in ["amountPaid", "taxAmount", "shippingAmount"] {
        check_number(obj, f, "")?;
    }
    let payment_date = opt_date(st, obj, "paymentDate")?;
    let ship_by_date = opt_date(st, obj, "shipByDate")?;
    let ship_date = match opt_str(obj, "shipDate")? {
        None => None,
        Some(s) => Some(
            parse_day(&s).ok_or_else(|| V1Error::bad(format!("shipDate: '{s}' is not a date.")))?,
        ),
    };
    let key = opt_str(obj, "orderKey")?;
    let store_id = obj
        .get("advancedOptions")
        .and_then(|a| a.get("storeId"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_STORE_ID);
    let existing = key
        .as_deref()
        .and_then(|k| st.orders.values().find(|o| o.key == k).map(|o| o.id));
    if let Some(id) = existing {
        let current = &st.orders[&id];
        if !UPDATABLE.contains(&current.status.as_str()) {
            return Err(V1Error::bad(format!(
                "Order {} (orderKey {}) is {} and can no longer be updated.",
                current.number, current.key, current.status
            )));
        }
    }
    let previous = existing
        .map(|id| st.orders[&id].items.clone())
        .unwrap_or_default();
    let items = items(st, obj.get("items"), &previous)?;
    let mut fields = obj.clone();
    for system in [
        "orderId",
        "orderKey",
        "orderNumber",
        "orderStatus",
        "orderDate",
        "paymentDate",
        "shipByDate",
        "shipDate",
        "createDate",
        "modifyDate",
        "items",
        "orderTotal",
    ] {
        fields.remove(system);
    }
    let at = now();
    match existing {
        Some(id) => {
            let order = st.orders.get_mut(&id).expect("found above");
            order.number = number;
            order.status = status;
            order.order_date = order_date;
            order.payment_date = payment_date;
            order.ship_by_date = ship_by_date;
            order.ship_date = ship_date.or(order.ship_date);
            order.store_id = store_id;
            order.items = items;
            order.fields = fields;
            order.modified = at;
            Ok(id)
        }
        None => {
            let id = st.order_id();
            let key = key.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
            st.orders.insert(
                id,
                Order {
                    id,
                    key,
                    number,
                    status,
                    order_date,
                    payment_date,
                    ship_by_date,
                    created: at,
                    modified: at,
                    ship_date,
                    store_id,
                    import_batch,
                    items,
                    fields,
                    external_shipment: None,
                },
            );
            Ok(id)
        }
    }
}

/// The V1 representation (§4.2 field names).
pub fn render(st: &State, o: &Order) -> Value {
    let tz = st.settings.v1_timezone;
    let mut out = o.fields.clone();
    for f in [
        "customerId",
        "customerUsername",
        "customerEmail",
        "amountPaid",
        "taxAmount",
        "shippingAmount",
        "customerNotes",
        "internalNotes",
        "giftMessage",
        "paymentMethod",
        "requestedShippingService",
        "carrierCode",
        "serviceCode",
        "packageCode",
        "holdUntilDate",
        "weight",
        "dimensions",
        "insuranceOptions",
        "internationalOptions",
        "tagIds",
        "userId",
        "externallyFulfilledBy",
        "labelMessages",
    ] {
        out.entry(f).or_insert(Value::Null);
    }
    out.entry("gift").or_insert(false.into());
    out.entry("confirmation").or_insert("none".into());
    out.entry("externallyFulfilled").or_insert(false.into());
    let bill = address(o.fields.get("billTo"));
    let ship = address(o.fields.get("shipTo"));
    out.insert("billTo".into(), bill);
    out.insert("shipTo".into(), ship);
    let mut advanced = match o.fields.get("advancedOptions") {
        Some(Value::Object(a)) => a.clone(),
        _ => Map::new(),
    };
    advanced.insert("storeId".into(), o.store_id.into());
    advanced
        .entry("warehouseId")
        .or_insert(DEFAULT_WAREHOUSE_ID.into());
    for f in [
        "source",
        "parentId",
        "customField1",
        "customField2",
        "customField3",
        "billToParty",
    ] {
        advanced.entry(f).or_insert(Value::Null);
    }
    advanced.entry("mergedOrSplit").or_insert(false.into());
    out.insert("advancedOptions".into(), Value::Object(advanced));
    out.insert("orderId".into(), o.id.into());
    out.insert("orderNumber".into(), o.number.clone().into());
    out.insert("orderKey".into(), o.key.clone().into());
    out.insert("orderDate".into(), v1_format(tz, o.order_date).into());
    out.insert("createDate".into(), v1_format(tz, o.created).into());
    out.insert("modifyDate".into(), v1_format(tz, o.modified).into());
    out.insert(
        "paymentDate".into(),
        o.payment_date.map(|d| v1_format(tz, d)).into(),
    );
    out.insert(
        "shipByDate".into(),
        o.ship_by_date.map(|d| v1_format(tz, d)).into(),
    );
    out.insert(
        "shipDate".into(),
        o.ship_date.map(|d| d.format("%Y-%m-%d").to_string()).into(),
    );
    out.insert("orderStatus".into(), o.status.clone().into());
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            i["createDate"] = v1_format(tz, o.created).into();
            i["modifyDate"] = v1_format(tz, o.modified).into();
            i
        })
        .collect();
    out.insert("items".into(), items.into());
    out.insert("orderTotal".into(), o.total().into());
    Value::Object(out)
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders", web::get().to(list))
        .route("/orders/createorder", web::post().to(create_order))
        .route("/orders/createorders", web::post().to(create_orders))
        .route("/orders/markasshipped", web::post().to(mark_as_shipped))
        .route("/orders/{order_id}", web::get().to(get_one))
        .route("/orders/{order_id}", web::delete().to(delete));
}

/// Parses a JSON body; 400 in the V1 shape.
pub(crate) fn json_body(body: &[u8]) -> Result<Value, V1Error> {
    serde_json::from_slice(body)
        .map_err(|_| V1Error::bad("The request is invalid: the body is not valid JSON."))
}

async fn create_order(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, V1Error> {
    let body = json_body(&body)?;
    let mut st = world.shipstation();
    let id = upsert(&mut st, &body, None)?;
    let out = render(&st, &st.orders[&id]);
    Ok(HttpResponse::Ok().json(out))
}

/// Max orders per `createorders` call (UNVERIFIED, commonly 100, §4.2).
pub const BATCH_MAX: usize = 100;

async fn create_orders(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, V1Error> {
    let body = json_body(&body)?;
    let Some(list) = body.as_array() else {
        return Err(V1Error::bad(
            "The request is invalid: an array of orders is expected.",
        ));
    };
    if list.len() > BATCH_MAX {
        return Err(V1Error::bad(format!(
            "At most {BATCH_MAX} orders can be created in one request."
        )));
    }
    let mut st = world.shipstation();
    let mut results = Vec::new();
    let mut has_errors = false;
    for item in list {
        match upsert(&mut st, item, None) {
            Ok(id) => {
                let o = &st.orders[&id];
                results.push(json!({
                    "orderId": o.id, "orderNumber": o.number, "orderKey": o.key,
                    "success": true, "errorMessage": null,
                }));
            }
            Err(e) => {
                has_errors = true;
                results.push(json!({
                    "orderId": 0,
                    "orderNumber": item.get("orderNumber").cloned().unwrap_or(Value::Null),
                    "orderKey": item.get("orderKey").cloned().unwrap_or(Value::Null),
                    "success": false, "errorMessage": e.message,
                }));
            }
        }
    }
    Ok(HttpResponse::Ok().json(json!({ "hasErrors": has_errors, "results": results })))
}

fn in_range(at: NaiveDateTime, start: Option<NaiveDateTime>, end: Option<NaiveDateTime>) -> bool {
    start.is_none_or(|s| at >= s) && end.is_none_or(|e| at <= e)
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
    let mut ranges = Vec::new();
    for (field, start, end) in [
        ("create", "createDateStart", "createDateEnd"),
        ("modify", "modifyDateStart", "modifyDateEnd"),
        ("order", "orderDateStart", "orderDateEnd"),
        ("payment", "paymentDateStart", "paymentDateEnd"),
    ] {
        ranges.push((
            field,
            date_param(&st, &q, start)?,
            date_param(&st, &q, end)?,
        ));
    }
    let status = q.get("orderStatus");
    if let Some(s) = status {
        if !STATUSES.contains(&s) {
            return Err(V1Error::bad(format!(
                "The value '{s}' is not valid for orderStatus."
            )));
        }
    }
    let store = q.v1_int("storeId")?;
    let batch = q.v1_int("importBatch")?;
    let number = q.get("orderNumber").map(str::to_lowercase);
    let customer = q.get("customerName").map(str::to_lowercase);
    let keyword = q.get("itemKeyword").map(str::to_lowercase);
    let mut found: Vec<&Order> = st
        .orders
        .values()
        .filter(|o| {
            ranges.iter().all(|(field, start, end)| {
                if start.is_none() && end.is_none() {
                    return true;
                }
                let at = match *field {
                    "create" => Some(o.created),
                    "modify" => Some(o.modified),
                    "order" => Some(o.order_date),
                    _ => o.payment_date,
                };
                at.is_some_and(|at| in_range(at, *start, *end))
            })
        })
        .filter(|o| status.is_none_or(|s| o.status == s))
        .filter(|o| store.is_none_or(|s| o.store_id == s))
        .filter(|o| batch.is_none_or(|b| o.import_batch == Some(b)))
        // orderNumber is a starts-with match (§4.2).
        .filter(|o| {
            number
                .as_ref()
                .is_none_or(|n| o.number.to_lowercase().starts_with(n))
        })
        .filter(|o| {
            customer
                .as_ref()
                .is_none_or(|c| o.bill_name().to_lowercase().contains(c))
        })
        .filter(|o| {
            keyword.as_ref().is_none_or(|k| {
                o.items.iter().any(|i| {
                    ["sku", "name"]
                        .iter()
                        .any(|f| i[*f].as_str().is_some_and(|s| s.to_lowercase().contains(k)))
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
        None => {}
        Some("orderdate") => found.sort_by_key(|o| (o.order_date, o.id)),
        Some("modifydate") => found.sort_by_key(|o| (o.modified, o.id)),
        Some("createdate") => found.sort_by_key(|o| (o.created, o.id)),
        Some(_) => {
            return Err(V1Error::bad(
                "sortBy must be OrderDate, ModifyDate or CreateDate.",
            ))
        }
    }
    if desc {
        found.reverse();
    }
    let (page, total, p, pages) = v1_page(&found, &q, 100)?;
    let orders: Vec<Value> = page.into_iter().map(|o| render(&st, o)).collect();
    Ok(HttpResponse::Ok()
        .json(json!({ "orders": orders, "total": total, "page": p, "pages": pages })))
}

fn order_id(path: &str) -> Result<u64, V1Error> {
    path.parse()
        .map_err(|_| V1Error::bad(format!("The value '{path}' is not valid for orderId.")))
}

async fn get_one(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V1Error> {
    let id = order_id(&path)?;
    let st = world.shipstation();
    let o = st
        .orders
        .get(&id)
        .ok_or_else(|| V1Error::not_found(format!("Order {id} was not found.")))?;
    Ok(HttpResponse::Ok().json(render(&st, o)))
}

async fn delete(world: web::Data<World>, path: web::Path<String>) -> Result<HttpResponse, V1Error> {
    let id = order_id(&path)?;
    let mut st = world.shipstation();
    if st.orders.remove(&id).is_none() {
        return Err(V1Error::not_found(format!("Order {id} was not found.")));
    }
    Ok(HttpResponse::Ok()
        .json(json!({ "success": true, "message": "The requested order has been deleted." })))
}

/// `POST /orders/markasshipped {orderId, carrierCode, shipDate,
/// trackingNumber, notifyCustomer, notifySalesChannel}` (field list
/// UNVERIFIED, §4.2). The order becomes `shipped` with an external
/// shipment: nothing in `/shipments`, no SHIP_NOTIFY (§0 #7, §4.6 #6).
async fn mark_as_shipped(
    world: web::Data<World>,
    body: web::Bytes,
) -> Result<HttpResponse, V1Error> {
    let body = json_body(&body)?;
    let id = body
        .get("orderId")
        .and_then(Value::as_u64)
        .ok_or_else(|| V1Error::bad("orderId is required."))?;
    let carrier = body
        .get("carrierCode")
        .and_then(Value::as_str)
        .map(str::to_string);
    let tracking = body
        .get("trackingNumber")
        .and_then(Value::as_str)
        .map(str::to_string);
    let ship_date = match body.get("shipDate").and_then(Value::as_str) {
        None => None,
        Some(s) => Some(
            parse_day(s).ok_or_else(|| V1Error::bad(format!("shipDate: '{s}' is not a date.")))?,
        ),
    };
    let mut st = world.shipstation();
    let tz = st.settings.v1_timezone;
    let order = st
        .orders
        .get_mut(&id)
        .ok_or_else(|| V1Error::not_found(format!("Order {id} was not found.")))?;
    if order.status == "cancelled" {
        return Err(V1Error::bad(format!(
            "Order {id} is cancelled and cannot be shipped."
        )));
    }
    order.status = "shipped".into();
    order.ship_date = ship_date.or_else(|| Some(super::dates::to_local(tz, now()).date()));
    if let Some(c) = carrier {
        order.fields.insert("carrierCode".into(), c.into());
    }
    order.external_shipment = Some(json!({
        "carrierCode": order.fields.get("carrierCode").cloned().unwrap_or(Value::Null),
        "trackingNumber": tracking,
        "shipDate": order.ship_date.map(|d| d.format("%Y-%m-%d").to_string()),
        "notifyCustomer": body.get("notifyCustomer").cloned().unwrap_or(Value::Null),
        "notifySalesChannel": body.get("notifySalesChannel").cloned().unwrap_or(Value::Null),
    }));
    order.modified = now();
    let out = json!({ "orderId": order.id, "orderNumber": order.number });
    Ok(HttpResponse::Ok().json(out))
}
