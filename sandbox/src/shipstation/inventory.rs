//! V2 inventory, beyond the facts file (the seed page promises stock levels
//! synced from the ERP to ShipStation): read from
//! docs.shipstation.com/manage-inventory-levels and /openapi/inventory.
//!
//! - `GET /v2/inventory?sku&inventory_warehouse_id&inventory_location_id`
//!   → `{"inventory": [{"sku", "on_hand", "allocated", "available",
//!   "average_cost": {"amount", "currency"}, "inventory_warehouse_id",
//!   "inventory_location_id"}], "total", "page", "pages", "links"}`;
//! - `POST /v2/inventory {"transaction_type": "increment"|"decrement"|
//!   "adjust"|"modify", "inventory_location_id", "sku", "quantity", "cost",
//!   "new_inventory_location_id", "new_cost", ...}` → 204; a decrement
//!   removes all of the quantity or none (400);
//! - `GET /v2/inventory_warehouses`, `GET /v2/inventory_locations`.
//!
//! One inventory warehouse per warehouse (`se-{warehouseId}`), one location
//! in each (`se-{warehouseId + 100000}`, named `A-1-1-1`). `allocated` is
//! always 0 (the sandbox does not reserve stock for orders).

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::errors::V2Error;
use super::paging::{self_url, v2_page, Query};
use super::reference::WAREHOUSES;
use super::v2_root;
use crate::World;

/// The stock of one SKU at one location.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub on_hand: i64,
    pub cost: f64,
}

/// Stock by (location id, SKU).
pub type Levels = BTreeMap<(u64, String), Level>;

/// The location of warehouse `warehouse_id`.
pub fn location_of(warehouse_id: u64) -> u64 {
    warehouse_id + 100_000
}

fn warehouse_of(location_id: u64) -> Option<u64> {
    WAREHOUSES
        .iter()
        .map(|w| w.0)
        .find(|w| location_of(*w) == location_id)
}

const CREATED: &str = "2026-01-02T16:00:00.000Z";

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/inventory", web::get().to(list))
        .route("/inventory", web::post().to(update))
        .route("/inventory_warehouses", web::get().to(warehouses))
        .route("/inventory_locations", web::get().to(locations));
}

fn se(path: &str) -> Option<u64> {
    path.strip_prefix("se-").unwrap_or(path).parse().ok()
}

async fn list(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, V2Error> {
    let q = Query::of(&req);
    let sku = q.get("sku");
    let warehouse = q.get("inventory_warehouse_id").map(|w| se(w).unwrap_or(0));
    let location = q.get("inventory_location_id").map(|l| se(l).unwrap_or(0));
    let root = v2_root(&world);
    let st = world.shipstation();
    let mut items: Vec<Value> = st
        .inventory
        .iter()
        .filter(|((loc, s), _)| {
            sku.is_none_or(|k| k == s)
                && location.is_none_or(|l| l == *loc)
                && warehouse.is_none_or(|w| warehouse_of(*loc) == Some(w))
        })
        .map(|((loc, s), level)| {
            json!({
                "sku": s,
                "on_hand": level.on_hand,
                "allocated": 0,
                "available": level.on_hand,
                "average_cost": { "amount": level.cost, "currency": "usd" },
                "inventory_warehouse_id": format!("se-{}", warehouse_of(*loc).unwrap_or(0)),
                "inventory_location_id": format!("se-{loc}"),
            })
        })
        .collect();
    if let Some(limit) = q.v2_int("limit")?.filter(|l| *l > 0) {
        items.truncate(limit as usize);
    }
    Ok(HttpResponse::Ok().json(v2_page(items, &q, "inventory", &self_url(&root, &req))?))
}

fn cost(v: Option<&Value>) -> Option<f64> {
    v.and_then(|c| c.get("amount")).and_then(Value::as_f64)
}

async fn update(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, V2Error> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|_| V2Error::invalid("body", "The request body is not valid JSON."))?;
    let kind = body
        .get("transaction_type")
        .and_then(Value::as_str)
        .filter(|t| ["increment", "decrement", "adjust", "modify"].contains(t))
        .ok_or_else(|| {
            V2Error::invalid(
                "transaction_type",
                "transaction_type must be increment, decrement, adjust or modify.",
            )
        })?;
    let location = body
        .get("inventory_location_id")
        .and_then(Value::as_str)
        .and_then(se)
        .filter(|l| warehouse_of(*l).is_some())
        .ok_or_else(|| {
            V2Error::invalid(
                "inventory_location_id",
                "inventory_location_id must name an inventory location.",
            )
        })?;
    let sku = body
        .get("sku")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| V2Error::invalid("sku", "sku is required."))?
        .to_string();
    let quantity = match body.get("quantity") {
        None | Some(Value::Null) if kind == "modify" => 0,
        Some(v) => v
            .as_i64()
            .filter(|q| *q >= 0)
            .ok_or_else(|| V2Error::invalid("quantity", "quantity must be a whole number >= 0."))?,
        None => return Err(V2Error::invalid("quantity", "quantity is required.")),
    };
    let mut st = world.shipstation();
    let key = (location, sku.clone());
    let current = st.inventory.get(&key).cloned();
    match kind {
        "increment" => {
            let level = st.inventory.entry(key).or_insert(Level {
                on_hand: 0,
                cost: 0.0,
            });
            level.on_hand += quantity;
            if let Some(c) = cost(body.get("cost")) {
                level.cost = c;
            }
        }
        "decrement" => {
            let on_hand = current.as_ref().map_or(0, |l| l.on_hand);
            if on_hand < quantity {
                return Err(V2Error::new(
                    400,
                    "business_rules",
                    "invalid_field_value",
                    format!("Only {on_hand} of {sku} are on hand; nothing was removed."),
                ));
            }
            if let Some(level) = st.inventory.get_mut(&key) {
                level.on_hand -= quantity;
            }
        }
        "adjust" => {
            let level = st.inventory.entry(key).or_insert(Level {
                on_hand: 0,
                cost: 0.0,
            });
            level.on_hand = quantity;
            if let Some(c) = cost(body.get("cost")) {
                level.cost = c;
            }
        }
        _ => {
            let Some(mut level) = current else {
                return Err(V2Error::not_found(format!(
                    "No inventory of {sku} at se-{location}."
                )));
            };
            if let Some(c) = cost(body.get("new_cost")) {
                level.cost = c;
            }
            let target = match body
                .get("new_inventory_location_id")
                .and_then(Value::as_str)
            {
                None => location,
                Some(l) => se(l)
                    .filter(|l| warehouse_of(*l).is_some())
                    .ok_or_else(|| {
                        V2Error::invalid(
                            "new_inventory_location_id",
                            "new_inventory_location_id must name an inventory location.",
                        )
                    })?,
            };
            st.inventory.remove(&key);
            let slot = st.inventory.entry((target, sku)).or_insert(Level {
                on_hand: 0,
                cost: level.cost,
            });
            slot.on_hand += level.on_hand;
            slot.cost = level.cost;
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn warehouses(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, V2Error> {
    let q = Query::of(&req);
    let items = WAREHOUSES
        .iter()
        .map(|(id, name, ..)| {
            json!({ "inventory_warehouse_id": format!("se-{id}"), "name": name, "created_at": CREATED, "updated_at": CREATED })
        })
        .collect();
    let root = v2_root(&world);
    Ok(HttpResponse::Ok().json(v2_page(
        items,
        &q,
        "inventory_warehouses",
        &self_url(&root, &req),
    )?))
}

async fn locations(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, V2Error> {
    let q = Query::of(&req);
    let items = WAREHOUSES
        .iter()
        .map(|(id, ..)| {
            json!({
                "inventory_location_id": format!("se-{}", location_of(*id)),
                "inventory_warehouse_id": format!("se-{id}"),
                "name": "A-1-1-1", "created_at": CREATED, "updated_at": CREATED,
            })
        })
        .collect();
    let root = v2_root(&world);
    Ok(HttpResponse::Ok().json(v2_page(
        items,
        &q,
        "inventory_locations",
        &self_url(&root, &req),
    )?))
}
