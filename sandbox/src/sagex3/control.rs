//! The Sage X3 controls under `/_sandbox/sagex3/`: seed and change the
//! folder's data (a price change bumps the product's `UPDDATTIM`, a stock
//! change the ITMMVT record's; both show in GraphQL's delta field), switch
//! variants, set the clock, manage the connected app, inspect documents.
//!
//! | Route | Body |
//! |---|---|
//! | `GET /variants` | - |
//! | `POST /variants` | part of [`Variants`], e.g. `{"schema":"legacy"}` |
//! | `POST /reset` | `{"seed":"demo"}` or `{"seed":"empty"}` (variants kept) |
//! | `POST /clock` | `{"now":"2030-01-15T10:00:00Z"}` (`null`: real time) |
//! | `GET /customers`, `GET /items`, `GET /stock`, `GET /orders`, `GET /invoices` | - (api1 `$details` JSON) |
//! | `POST /customers` | `[BPCUSTOMER JSON, e.g. {"BPCNUM":"WEB001","BPCNAM":"...","WEB":"a@b.c"}]` (upsert) |
//! | `POST /items` | `[{"ITMREF":"A1-100/0","ITMDES1":"...","TCLCOD":"OFFICE","BASPRI":12.5,"stock":{"NA011":10}}]` (upsert) |
//! | `POST /prices` | `[{"ITMREF":"A1-100/0","BASPRI":13.0}]` |
//! | `POST /stock` | `[{"ITMREF":"A1-100/0","STOFCY":"NA011","PHYSTO":7}]` |
//! | `GET /apps`, `PUT /apps/{client_id}` | `{"active":false}` and/or `{"secret":"...","allowed_user":"..."}` |

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api1::{customer_from, rows, CLASSES};
use super::model::{Item, Stock};
use super::State;
use crate::World;

/// The routes, under `/_sandbox/sagex3`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/variants", web::get().to(get_variants))
        .route("/variants", web::post().to(set_variants))
        .route("/reset", web::post().to(reset))
        .route("/clock", web::post().to(clock))
        .route("/customers", web::get().to(|w| list(w, 0)))
        .route("/items", web::get().to(|w| list(w, 1)))
        .route("/stock", web::get().to(|w| list(w, 2)))
        .route("/orders", web::get().to(|w| list(w, 3)))
        .route("/invoices", web::get().to(|w| list(w, 4)))
        .route("/customers", web::post().to(upsert_customers))
        .route("/items", web::post().to(upsert_items))
        .route("/prices", web::post().to(set_prices))
        .route("/stock", web::post().to(set_stock))
        .route("/apps", web::get().to(list_apps))
        .route("/apps/{client_id}", web::put().to(update_app));
}

fn bad_request(message: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": message.to_string() }))
}

async fn list(world: web::Data<World>, class: usize) -> HttpResponse {
    HttpResponse::Ok().json(rows(&world.sagex3(), &CLASSES[class], true))
}

async fn get_variants(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.sagex3().variants)
}

async fn set_variants(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.sagex3();
    match crate::control::merged(&state.variants, body.into_inner(), "variant options") {
        Ok(variants) => {
            state.variants = variants;
            HttpResponse::Ok().json(&state.variants)
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
    let mut state = world.sagex3();
    let variants = state.variants.clone();
    *state = State::new(seed);
    state.variants = variants;
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct ClockBody {
    now: Option<String>,
}

async fn clock(world: web::Data<World>, body: web::Json<ClockBody>) -> HttpResponse {
    let mut state = world.sagex3();
    match body.now.as_deref() {
        None => state.clock = None,
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(t) => state.clock = Some(t.with_timezone(&chrono::Utc)),
            Err(_) => {
                return bad_request("now must be an RFC 3339 time, e.g. 2030-01-15T10:00:00Z")
            }
        },
    }
    HttpResponse::Ok().json(json!({ "now": super::model::stamp(state.now()) }))
}

async fn upsert_customers(world: web::Data<World>, body: web::Json<Vec<Value>>) -> HttpResponse {
    let mut state = world.sagex3();
    let now = state.now();
    for raw in body.into_inner() {
        let mut customer = match customer_from(&raw, now) {
            Ok(c) => c,
            Err(e) => return bad_request(e),
        };
        match state.customers.iter_mut().find(|c| c.code == customer.code) {
            Some(existing) => {
                customer.created = existing.created;
                *existing = customer;
            }
            None => {
                if let Err(e) = state.create_customer(customer) {
                    return bad_request(e);
                }
            }
        }
    }
    HttpResponse::Ok().json(json!({ "customers": state.customers.len() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct ItemSeed {
    ITMREF: String,
    #[serde(default)]
    ITMDES1: String,
    #[serde(default)]
    TCLCOD: String,
    #[serde(default)]
    BASPRI: f64,
    #[serde(default)]
    ITMWEI: f64,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    stock: BTreeMap<String, f64>,
}

async fn upsert_items(world: web::Data<World>, body: web::Json<Vec<ItemSeed>>) -> HttpResponse {
    let mut state = world.sagex3();
    let now = state.now();
    for seed in body.into_inner() {
        if seed.ITMREF.trim().is_empty() {
            return bad_request("ITMREF is mandatory");
        }
        let item = Item {
            code: seed.ITMREF.clone(),
            description: seed.ITMDES1,
            category: seed.TCLCOD,
            unit: "UN".into(),
            active: seed.active.unwrap_or(true),
            price: seed.BASPRI,
            weight: seed.ITMWEI,
            ean: String::new(),
            created: now,
            updated: now,
        };
        match state.items.iter_mut().find(|i| i.code == item.code) {
            Some(existing) => {
                let created = existing.created;
                *existing = Item { created, ..item };
            }
            None => state.items.push(item),
        }
        for (site, quantity) in seed.stock {
            set_one_stock(&mut state, &seed.ITMREF, &site, quantity);
        }
    }
    HttpResponse::Ok().json(json!({ "items": state.items.len() }))
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct PriceChange {
    ITMREF: String,
    BASPRI: f64,
}

async fn set_prices(world: web::Data<World>, body: web::Json<Vec<PriceChange>>) -> HttpResponse {
    let mut state = world.sagex3();
    let now = state.now();
    let mut changed = Vec::new();
    for change in body.into_inner() {
        let Some(item) = state.items.iter_mut().find(|i| i.code == change.ITMREF) else {
            return bad_request(format!("no product {}", change.ITMREF));
        };
        item.price = change.BASPRI;
        item.updated = now;
        changed.push(item.api1(super::CURRENCY));
    }
    HttpResponse::Ok().json(changed)
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct StockChange {
    ITMREF: String,
    STOFCY: String,
    PHYSTO: f64,
}

fn set_one_stock(state: &mut State, item: &str, site: &str, quantity: f64) {
    let now = state.now();
    match state
        .stock
        .iter_mut()
        .find(|s| s.item == item && s.site == site)
    {
        Some(s) => {
            s.physical = quantity;
            s.updated = now;
        }
        None => state.stock.push(Stock {
            item: item.into(),
            site: site.into(),
            physical: quantity,
            allocated: 0.0,
            updated: now,
        }),
    }
}

async fn set_stock(world: web::Data<World>, body: web::Json<Vec<StockChange>>) -> HttpResponse {
    let mut state = world.sagex3();
    let mut changed = Vec::new();
    for change in body.into_inner() {
        if state.item(&change.ITMREF).is_none() {
            return bad_request(format!("no product {}", change.ITMREF));
        }
        if !super::SITES.contains(&change.STOFCY.as_str()) {
            return bad_request(format!(
                "no stock site {} (sites: {:?})",
                change.STOFCY,
                super::SITES
            ));
        }
        set_one_stock(&mut state, &change.ITMREF, &change.STOFCY, change.PHYSTO);
        if let Some(s) = state
            .stock
            .iter()
            .find(|s| s.item == change.ITMREF && s.site == change.STOFCY)
        {
            changed.push(s.api1());
        }
    }
    HttpResponse::Ok().json(changed)
}

async fn list_apps(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.sagex3().apps)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppChange {
    active: Option<bool>,
    secret: Option<String>,
    allowed_user: Option<String>,
}

async fn update_app(
    world: web::Data<World>,
    id: web::Path<String>,
    body: web::Json<AppChange>,
) -> HttpResponse {
    let mut state = world.sagex3();
    let Some(app) = state.apps.iter_mut().find(|a| a.client_id == *id) else {
        return HttpResponse::NotFound().json(json!({ "error": "no such connected app" }));
    };
    let change = body.into_inner();
    if let Some(a) = change.active {
        app.active = a;
    }
    if let Some(s) = change.secret {
        app.secret = s;
    }
    if let Some(u) = change.allowed_user {
        app.allowed_user = u;
    }
    HttpResponse::Ok().json(&*app)
}
