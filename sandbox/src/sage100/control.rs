//! The Sage 100 controls under `/_sandbox/sage100/`. Sage 100 has no
//! webhooks (the seed), so there is nothing to deliver: changes made here
//! bump `DateUpdated` for a poller to find.
//!
//! | Route | Body |
//! |---|---|
//! | `GET /settings` | - |
//! | `POST /settings` | part of [`Settings`], e.g. `{"company_web_services":false}` |
//! | `POST /reset` | `{"seed":"demo"}` or `{"seed":"empty"}` (settings kept) |
//! | `POST /clock` | `{"now":"2025-03-01T10:00:00"}` (`null`: the real time) |
//! | `GET /users`, `POST /users` (add or replace by name) | `[User]`, e.g. `[{"username":"clerk","password":"pw","web_services_enabled":true,"denied_tasks":["sales_order_create"]}]` |
//! | `GET /customers`, `POST /customers` (add or replace) | `[{"ARDivisionNo":"01","CustomerNo":"0009000","CustomerName":"...","EmailAddress":"..."}]` |
//! | `GET /items`, `POST /items` (add or replace) | `[{"ItemCode":"A1-100/0","ItemCodeDesc":"...","StandardUnitPrice":12.5,"ProductLine":"OFFC","quantities":{"000":10}}]` |
//! | `POST /prices` | `[{"ItemCode":"A1-100/0","StandardUnitPrice":13.0}]` (bumps the item's `DateUpdated`) |
//! | `POST /quantities` | `[{"ItemCode":"A1-100/0","WarehouseCode":"000","QuantityOnHand":7}]` (bumps the row's `DateUpdated`) |
//! | `GET /orders` | - (every sales order, eBWS field names) |

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::Value;

use super::model::text;
use super::{Item, ItemWarehouse, State, User, DEFAULT_DIVISION};
use crate::World;

/// The routes, under `/_sandbox/sage100`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(get_settings))
        .route("/settings", web::post().to(set_settings))
        .route("/reset", web::post().to(reset))
        .route("/clock", web::post().to(clock))
        .route("/users", web::get().to(list_users))
        .route("/users", web::post().to(upsert_users))
        .route("/customers", web::get().to(list_customers))
        .route("/customers", web::post().to(upsert_customers))
        .route("/items", web::get().to(list_items))
        .route("/items", web::post().to(upsert_items))
        .route("/prices", web::post().to(set_prices))
        .route("/quantities", web::post().to(set_quantities))
        .route("/orders", web::get().to(list_orders));
}

fn bad_request(message: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::BadRequest().json(serde_json::json!({ "error": message.to_string() }))
}

async fn get_settings(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.sage100().settings)
}

async fn set_settings(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.sage100();
    match crate::control::merged(&state.settings, body.into_inner(), "settings") {
        Ok(settings) => {
            state.settings = settings;
            HttpResponse::Ok().json(&state.settings)
        }
        Err(e) => bad_request(e),
    }
}

#[derive(Deserialize)]
struct ResetBody {
    seed: String,
}

async fn reset(world: web::Data<World>, body: web::Json<ResetBody>) -> HttpResponse {
    let seed = match crate::control::seed_named(&body.seed) {
        Ok(seed) => seed,
        Err(e) => return bad_request(e),
    };
    let mut state = world.sage100();
    let settings = state.settings.clone();
    *state = State::new(seed);
    state.settings = settings;
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct ClockBody {
    now: Option<String>,
}

async fn clock(world: web::Data<World>, body: web::Json<ClockBody>) -> HttpResponse {
    let mut state = world.sage100();
    match body.now.as_deref() {
        None => state.now = None,
        Some(t) => match super::model::parse_datetime(t)
            .and_then(|d| NaiveDateTime::parse_from_str(&d, "%Y-%m-%dT%H:%M:%S").ok())
        {
            Some(now) => state.now = Some(now),
            None => return bad_request("now must be a date-time, e.g. 2025-03-01T10:00:00"),
        },
    }
    HttpResponse::Ok().json(serde_json::json!({ "now": state.now_text() }))
}

async fn list_users(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.sage100().users)
}

async fn upsert_users(world: web::Data<World>, body: web::Json<Vec<User>>) -> HttpResponse {
    let mut state = world.sage100();
    for user in body.into_inner() {
        match state
            .users
            .iter_mut()
            .find(|u| u.username.eq_ignore_ascii_case(&user.username))
        {
            Some(existing) => *existing = user,
            None => state.users.push(user),
        }
    }
    HttpResponse::Ok().json(&state.users)
}

async fn list_customers(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.sage100().customers)
}

async fn upsert_customers(world: web::Data<World>, body: web::Json<Vec<Value>>) -> HttpResponse {
    let mut state = world.sage100();
    let now = state.now_text();
    for value in body.into_inner() {
        let Some(mut record) = super::seed::record(value) else {
            return bad_request("each customer must be an object");
        };
        if text(&record, "CustomerNo").is_empty() || text(&record, "CustomerName").is_empty() {
            return bad_request("CustomerNo and CustomerName are required");
        }
        if text(&record, "ARDivisionNo").is_empty() {
            record.insert("ARDivisionNo".into(), DEFAULT_DIVISION.into());
        }
        for stamp in ["DateCreated", "DateUpdated"] {
            if text(&record, stamp).is_empty() {
                record.insert(stamp.into(), now.clone().into());
            }
        }
        let (div, no) = (
            text(&record, "ARDivisionNo").to_string(),
            text(&record, "CustomerNo").to_string(),
        );
        match state
            .customers
            .iter_mut()
            .find(|c| text(c, "ARDivisionNo") == div && text(c, "CustomerNo") == no)
        {
            Some(existing) => *existing = record,
            None => state.customers.push(record),
        }
    }
    HttpResponse::Ok().json(serde_json::json!({ "customers": state.customers.len() }))
}

async fn list_items(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.sage100().items)
}

/// An item with its stock, for seeding.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct ItemSeed {
    item_code: String,
    #[serde(default)]
    item_code_desc: String,
    #[serde(default)]
    product_line: String,
    #[serde(default)]
    standard_unit_price: f64,
    #[serde(default)]
    suggested_retail_price: Option<f64>,
    #[serde(default)]
    weight: f64,
    #[serde(default, rename = "quantities")]
    quantities: BTreeMap<String, f64>,
}

async fn upsert_items(world: web::Data<World>, body: web::Json<Vec<ItemSeed>>) -> HttpResponse {
    let mut state = world.sage100();
    let now = state.now();
    for seed in body.into_inner() {
        if seed.item_code.trim().is_empty() || seed.item_code.chars().count() > 30 {
            return bad_request("ItemCode must be 1 to 30 characters");
        }
        let code = seed.item_code.to_ascii_uppercase();
        let item = Item {
            item_code: code.clone(),
            item_code_desc: seed.item_code_desc,
            item_type: "1".into(),
            product_line: seed.product_line,
            standard_unit_of_measure: "EACH".into(),
            standard_unit_price: seed.standard_unit_price,
            suggested_retail_price: seed
                .suggested_retail_price
                .unwrap_or(seed.standard_unit_price),
            standard_unit_cost: 0.0,
            weight: seed.weight,
            inactive_item: "N".into(),
            created: now,
            updated: now,
        };
        match state.items.iter_mut().find(|i| i.item_code == code) {
            Some(existing) => {
                let created = existing.created;
                *existing = Item { created, ..item };
            }
            None => state.items.push(item),
        }
        for (warehouse, quantity) in seed.quantities {
            if let Err(e) = set_quantity(&mut state, &code, &warehouse, quantity) {
                return bad_request(e);
            }
        }
    }
    HttpResponse::Ok().json(serde_json::json!({ "items": state.items.len() }))
}

fn set_quantity(
    state: &mut State,
    code: &str,
    warehouse: &str,
    quantity: f64,
) -> Result<(), String> {
    let code = state
        .item(code)
        .map(|i| i.item_code.clone())
        .ok_or_else(|| format!("no item {code}"))?;
    if !state.warehouses.iter().any(|(w, _)| w == warehouse) {
        return Err(format!("no warehouse {warehouse}"));
    }
    let now = state.now();
    match state
        .quantities
        .iter_mut()
        .find(|q| q.item_code == code && q.warehouse_code == warehouse)
    {
        Some(row) => {
            row.quantity_on_hand = quantity;
            row.updated = now;
        }
        None => state.quantities.push(ItemWarehouse {
            item_code: code,
            warehouse_code: warehouse.into(),
            quantity_on_hand: quantity,
            quantity_on_sales_order: 0.0,
            updated: now,
        }),
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct PriceChange {
    item_code: String,
    standard_unit_price: f64,
    #[serde(default)]
    suggested_retail_price: Option<f64>,
}

async fn set_prices(world: web::Data<World>, body: web::Json<Vec<PriceChange>>) -> HttpResponse {
    let mut state = world.sage100();
    let now = state.now();
    for change in body.into_inner() {
        let Some(item) = state
            .items
            .iter_mut()
            .find(|i| i.item_code.eq_ignore_ascii_case(&change.item_code))
        else {
            return bad_request(format!("no item {}", change.item_code));
        };
        item.standard_unit_price = change.standard_unit_price;
        if let Some(retail) = change.suggested_retail_price {
            item.suggested_retail_price = retail;
        }
        item.updated = now;
    }
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct QuantityChange {
    item_code: String,
    warehouse_code: String,
    quantity_on_hand: f64,
}

async fn set_quantities(
    world: web::Data<World>,
    body: web::Json<Vec<QuantityChange>>,
) -> HttpResponse {
    let mut state = world.sage100();
    for change in body.into_inner() {
        if let Err(e) = set_quantity(
            &mut state,
            &change.item_code,
            &change.warehouse_code,
            change.quantity_on_hand,
        ) {
            return bad_request(e);
        }
    }
    HttpResponse::NoContent().finish()
}

async fn list_orders(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.sage100().orders)
}
