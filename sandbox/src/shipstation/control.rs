//! Control routes under `/_sandbox/shipstation`:
//!
//! - `GET|PUT /settings` (a partial [`Settings`](super::Settings); a `PUT`
//!   also restarts every rate window);
//! - `POST /reset {"seed": "demo"|"empty"}`;
//! - `POST /orders` seeds orders as a store import (V1 order bodies: one, an
//!   array, or `{"orders": [...], "notify": true}`); with `notify` (default
//!   true) it fires ORDER_NOTIFY / ITEM_ORDER_NOTIFY (V1, one per store) and
//!   SHIPMENT_CREATED_V2 (V2, one per order); `GET /orders` lists them;
//! - `POST /orders/{orderId}/ship {"carrierCode", "serviceCode",
//!   "packageCode", "trackingNumber", "shipDate", "shipmentCost",
//!   "external"}`: a label bought in ShipStation (a shipment in a new batch;
//!   fires SHIP_NOTIFY, ITEM_SHIP_NOTIFY, LABEL_CREATED_V2 and
//!   TRACK_EVENT_V2 with status `AC`), or with `"external": true` an order
//!   marked shipped in the UI (no shipment, no event, §0 #7);
//! - `POST /shipments/{shipmentId}/track {"status_code": "IT"|"DE"|"EX"|...,
//!   "description"}`: a carrier tracking event (fires TRACK_EVENT_V2);
//! - `POST /keys/rotate`: V2 deliveries are signed with the other key;
//! - `GET /webhooks` (`{"v1": [...], "v2": [...]}`);
//! - `GET|DELETE /deliveries` (`?api=v1|v2`, `?event=`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::delivery::{fire_v1, fire_v2};
use super::paging::Query;
use super::shipments::{create_label, LabelRequest};
use super::{keys, orders, shipments, v1_root, v2, v2_root, Settings, State};
use crate::{Seed, World};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(get_settings))
        .route("/settings", web::put().to(put_settings))
        .route("/reset", web::post().to(reset))
        .route("/orders", web::get().to(list_orders))
        .route("/orders", web::post().to(seed_orders))
        .route("/orders/{id}/ship", web::post().to(ship))
        .route("/shipments/{id}/track", web::post().to(track))
        .route("/keys/rotate", web::post().to(rotate))
        .route("/webhooks", web::get().to(list_webhooks))
        .route("/deliveries", web::get().to(list_deliveries))
        .route("/deliveries", web::delete().to(clear_deliveries));
}

fn fail(status: u16, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .json(json!({ "error": message.into() }))
}

async fn get_settings(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.shipstation().settings)
}

async fn put_settings(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut st = world.shipstation();
    let mut current = serde_json::to_value(&st.settings).unwrap_or_default();
    if let (Value::Object(cur), Value::Object(patch)) = (&mut current, body.into_inner()) {
        for (k, v) in patch {
            cur.insert(k, v);
        }
    }
    match serde_json::from_value::<Settings>(current) {
        Ok(settings) => {
            st.settings = settings;
            st.windows.clear();
            HttpResponse::Ok().json(&st.settings)
        }
        Err(e) => fail(400, format!("invalid settings: {e}")),
    }
}

async fn reset(world: web::Data<World>, body: Option<web::Json<Value>>) -> HttpResponse {
    let seed = match body
        .as_ref()
        .and_then(|b| b.get("seed"))
        .and_then(Value::as_str)
    {
        None | Some("empty") => Seed::Empty,
        Some("demo") => Seed::Demo,
        Some(other) => return fail(400, format!("unknown seed '{other}'")),
    };
    *world.shipstation() = State::new(seed);
    HttpResponse::NoContent().finish()
}

async fn list_orders(world: web::Data<World>) -> HttpResponse {
    let st = world.shipstation();
    let list: Vec<Value> = st
        .orders
        .values()
        .map(|o| {
            let mut v = orders::render(&st, o);
            v["_externalShipment"] = o.external_shipment.clone().unwrap_or(Value::Null);
            v["_importBatch"] = o.import_batch.into();
            v
        })
        .collect();
    HttpResponse::Ok().json(list)
}

async fn seed_orders(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let body = body.into_inner();
    let (list, notify) = match &body {
        Value::Array(a) => (a.clone(), true),
        Value::Object(o) => match o.get("orders") {
            Some(Value::Array(a)) => (
                a.clone(),
                o.get("notify").and_then(Value::as_bool).unwrap_or(true),
            ),
            _ => (vec![body.clone()], true),
        },
        _ => return fail(400, "an order, an array or {\"orders\": [...]} is expected"),
    };
    let (v1, v2r) = (v1_root(&world), v2_root(&world));
    let mut st = world.shipstation();
    let batch = st.batch_id();
    let mut ids = Vec::new();
    for item in &list {
        match orders::upsert(&mut st, item, Some(batch)) {
            Ok(id) => ids.push(id),
            Err(e) => return fail(400, e.message),
        }
    }
    if notify {
        let mut stores: Vec<u64> = ids.iter().map(|id| st.orders[id].store_id).collect();
        stores.sort_unstable();
        stores.dedup();
        for store in stores {
            let url = format!("{v1}orders?storeID={store}&importBatch={batch}");
            fire_v1(&world, &st, "ORDER_NOTIFY", store, &url);
            fire_v1(
                &world,
                &st,
                "ITEM_ORDER_NOTIFY",
                store,
                &format!("{url}&includeOrderItems=true"),
            );
        }
        for id in &ids {
            fire_v2(
                &world,
                &st,
                "SHIPMENT_CREATED_V2",
                &format!("{v2r}/v2/shipments/se-{id}"),
                None,
            );
        }
    }
    let out: Vec<Value> = ids
        .iter()
        .map(|id| orders::render(&st, &st.orders[id]))
        .collect();
    HttpResponse::Created().json(json!({ "importBatch": batch, "orders": out }))
}

fn str_field(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_string)
}

async fn ship(
    world: web::Data<World>,
    path: web::Path<u64>,
    body: Option<web::Json<Value>>,
) -> HttpResponse {
    let order_id = path.into_inner();
    let body = body.map(|b| b.into_inner()).unwrap_or_else(|| json!({}));
    let (v1, v2r) = (v1_root(&world), v2_root(&world));
    let mut st = world.shipstation();
    let Some(order) = st.orders.get_mut(&order_id) else {
        return fail(404, format!("no order {order_id}"));
    };
    if body.get("external").and_then(Value::as_bool) == Some(true) {
        if order.status == "cancelled" {
            return fail(400, format!("order {order_id} is cancelled"));
        }
        let tz = st.settings.v1_timezone;
        let order = st.orders.get_mut(&order_id).expect("found above");
        order.status = "shipped".into();
        order.ship_date = Some(super::dates::to_local(tz, super::now()).date());
        if let Some(c) = str_field(&body, "carrierCode") {
            order.fields.insert("carrierCode".into(), c.into());
        }
        order.external_shipment = Some(json!({
            "carrierCode": str_field(&body, "carrierCode"),
            "trackingNumber": str_field(&body, "trackingNumber"),
            "source": "ui",
        }));
        order.modified = super::now();
        let out = orders::render(&st, &st.orders[&order_id]);
        return HttpResponse::Ok().json(json!({ "order": out, "shipment": null }));
    }
    let label = LabelRequest {
        carrier: str_field(&body, "carrierCode").unwrap_or_else(|| "stamps_com".into()),
        service: str_field(&body, "serviceCode").unwrap_or_else(|| "usps_priority_mail".into()),
        package: str_field(&body, "packageCode").unwrap_or_else(|| "package".into()),
        tracking: str_field(&body, "trackingNumber"),
        ship_date: str_field(&body, "shipDate"),
        cost: body
            .get("shipmentCost")
            .and_then(Value::as_f64)
            .unwrap_or(7.95),
        confirmation: str_field(&body, "confirmation").unwrap_or_else(|| "none".into()),
    };
    let batch = st.batch_id();
    let sid = match create_label(&mut st, order_id, batch, &label) {
        Ok(id) => id,
        Err(e) => return fail(400, e),
    };
    let store = st.shipments[&sid].store_id;
    let url = format!("{v1}shipments?storeID={store}&batchId={batch}");
    fire_v1(&world, &st, "SHIP_NOTIFY", store, &url);
    fire_v1(
        &world,
        &st,
        "ITEM_SHIP_NOTIFY",
        store,
        &format!("{url}&includeShipmentItems=true"),
    );
    let s = &st.shipments[&sid];
    fire_v2(
        &world,
        &st,
        "LABEL_CREATED_V2",
        &format!("{v2r}/v2/labels/se-{sid}"),
        None,
    );
    fire_v2(
        &world,
        &st,
        "TRACK_EVENT_V2",
        &format!("{v2r}/v2/labels/se-{sid}/track"),
        Some(v2::render_track(s)),
    );
    HttpResponse::Ok().json(json!({
        "batchId": batch,
        "order": orders::render(&st, &st.orders[&order_id]),
        "shipment": shipments::render(&st, s, true),
        "label": v2::render_label(&v2r, s),
    }))
}

async fn track(
    world: web::Data<World>,
    path: web::Path<u64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let sid = path.into_inner();
    let code = str_field(&body, "status_code").unwrap_or_else(|| "IT".into());
    let description = str_field(&body, "description")
        .unwrap_or_else(|| v2::status_description(&code).to_string());
    let v2r = v2_root(&world);
    let mut st = world.shipstation();
    let Some(s) = st.shipments.get_mut(&sid) else {
        return fail(404, format!("no shipment {sid}"));
    };
    s.track_status = code.clone();
    s.track_events.push((super::now(), code, description));
    let data = v2::render_track(s);
    fire_v2(
        &world,
        &st,
        "TRACK_EVENT_V2",
        &format!("{v2r}/v2/labels/se-{sid}/track"),
        Some(data.clone()),
    );
    HttpResponse::Ok().json(data)
}

async fn rotate(world: web::Data<World>) -> HttpResponse {
    let mut st = world.shipstation();
    st.signing_key = 1 - st.signing_key;
    st.rotated = true;
    HttpResponse::Ok().json(json!({ "kid": keys::KIDS[st.signing_key] }))
}

async fn list_webhooks(world: web::Data<World>) -> HttpResponse {
    let st = world.shipstation();
    let v1: Vec<&super::webhooks::V1Hook> = st.v1_hooks.values().collect();
    let v2: Vec<Value> = st.v2_hooks.values().map(|h| h.render()).collect();
    HttpResponse::Ok().json(json!({ "v1": v1, "v2": v2 }))
}

async fn list_deliveries(world: web::Data<World>, req: HttpRequest) -> HttpResponse {
    let q = Query::of(&req);
    let st = world.shipstation();
    let list: Vec<_> = st
        .deliveries
        .iter()
        .filter(|d| q.get("api").is_none_or(|a| d.api == a))
        .filter(|d| q.get("event").is_none_or(|e| d.event == e))
        .collect();
    HttpResponse::Ok().json(list)
}

async fn clear_deliveries(world: web::Data<World>) -> HttpResponse {
    world.shipstation().deliveries.clear();
    HttpResponse::NoContent().finish()
}
