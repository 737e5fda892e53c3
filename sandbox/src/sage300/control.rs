//! The Sage 300 controls under `/_sandbox/sage300/`: seed and change the
//! company's data (a price or stock change bumps `DateLastMaintained` to
//! today, a date with no time of day, facts §1.6), switch variants, set the
//! clock, and inspect orders and credit notes.
//!
//! | Route | Body |
//! |---|---|
//! | `GET /variants` | - |
//! | `POST /variants` | part of [`Variants`], e.g. `{"count_style":"v3"}` |
//! | `POST /reset` | `{"seed":"demo"}` or `{"seed":"empty"}` |
//! | `POST /clock` | `{"today":"2025-03-01"}` (`null`: the real date) |
//! | `GET /items` | - (ICItems JSON) |
//! | `POST /items`, `PUT /items` (replace all) | `[{"item_number":"A1-100/0","description":"...","category":"OFFICE","price":12.5,"price_list":"STD","quantities":{"1":10,"2":5}}]` |
//! | `POST /prices` | `[{"item_number":"A1-100/0","price":13.0,"price_list":"STD","currency":"CAD"}]` |
//! | `POST /quantities` | `[{"item_number":"A1-100/0","location":"1","quantity_on_hand":7}]` |
//! | `GET /customers` | - |
//! | `POST /customers`, `PUT /customers` (replace all) | `[ARCustomers JSON, e.g. {"CustomerNumber":"1200","CustomerName":"...","Email":"..."}]` |
//! | `GET /orders`, `GET /credit_notes` | - (OEOrders / OECreditDebitNotes JSON) |

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use super::ar::Customer;
use super::entity::{money, Entity};
use super::ic::{self, Item, ItemPricing};
use super::{State, HOME_CURRENCY, PRICE_LIST};
use crate::World;

/// The routes, under `/_sandbox/sage300`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/variants", web::get().to(get_variants))
        .route("/variants", web::post().to(set_variants))
        .route("/reset", web::post().to(reset))
        .route("/clock", web::post().to(clock))
        .route("/items", web::get().to(list_items))
        .route("/items", web::post().to(upsert_items))
        .route("/items", web::put().to(replace_items))
        .route("/prices", web::post().to(set_prices))
        .route("/quantities", web::post().to(set_quantities))
        .route("/customers", web::get().to(list_customers))
        .route("/customers", web::post().to(upsert_customers))
        .route("/customers", web::put().to(replace_customers))
        .route("/orders", web::get().to(list_orders))
        .route("/credit_notes", web::get().to(list_credit_notes));
}

fn bad_request(message: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::BadRequest().json(serde_json::json!({ "error": message.to_string() }))
}

fn rows<T: Entity>(rows: &[T]) -> HttpResponse {
    HttpResponse::Ok().json(rows.iter().map(Entity::row).collect::<Vec<_>>())
}

async fn get_variants(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(&world.sage300().variants)
}

async fn set_variants(world: web::Data<World>, body: web::Json<Value>) -> HttpResponse {
    let mut state = world.sage300();
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
    let mut state = world.sage300();
    let variants = state.variants.clone();
    *state = State::new(seed);
    state.variants = variants;
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct ClockBody {
    today: Option<String>,
}

async fn clock(world: web::Data<World>, body: web::Json<ClockBody>) -> HttpResponse {
    let mut state = world.sage300();
    match body.today.as_deref().map(super::dates::parse_date) {
        None => state.today = None,
        Some(Some(date)) => state.today = Some(date),
        Some(None) => return bad_request("today must be a date, e.g. 2025-03-01"),
    }
    HttpResponse::Ok().json(serde_json::json!({ "today": state.today_text() }))
}

async fn list_items(world: web::Data<World>) -> HttpResponse {
    rows(&world.sage300().items)
}

/// An item with its price and stock, for seeding.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemSeed {
    item_number: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    price: Option<f64>,
    #[serde(default)]
    price_list: Option<String>,
    #[serde(default)]
    quantities: BTreeMap<String, f64>,
}

fn upsert_item(state: &mut State, seed: ItemSeed) -> Result<(), String> {
    let today = state.today_text();
    let key = ic::unformat(&seed.item_number);
    let mut item = Item {
        item_number: seed.item_number.clone(),
        unformatted_item_number: key.clone(),
        description: seed.description,
        category: seed.category,
        ..Item::default()
    };
    item.validate().map_err(|e| e.message)?;
    item.touch(&today);
    let number = item.item_number.clone();
    match state
        .items
        .iter_mut()
        .find(|i| i.unformatted_item_number == key)
    {
        Some(existing) => *existing = item,
        None => state.items.push(item),
    }
    if let Some(price) = seed.price {
        set_price(
            state,
            &number,
            price,
            seed.price_list.as_deref().unwrap_or(PRICE_LIST),
            HOME_CURRENCY,
        )?;
    }
    for (location, quantity) in seed.quantities {
        set_quantity(state, &number, &location, quantity)?;
    }
    Ok(())
}

fn upsert_all(state: &mut State, seeds: Vec<ItemSeed>) -> HttpResponse {
    for seed in seeds {
        if let Err(e) = upsert_item(state, seed) {
            return bad_request(e);
        }
    }
    HttpResponse::Ok().json(serde_json::json!({ "items": state.items.len() }))
}

async fn upsert_items(world: web::Data<World>, body: web::Json<Vec<ItemSeed>>) -> HttpResponse {
    upsert_all(&mut world.sage300(), body.into_inner())
}

async fn replace_items(world: web::Data<World>, body: web::Json<Vec<ItemSeed>>) -> HttpResponse {
    let mut state = world.sage300();
    state.items.clear();
    state.pricing.clear();
    state.item_locations.clear();
    upsert_all(&mut state, body.into_inner())
}

fn touch_item(state: &mut State, key: &str) {
    if state.variants.touch_item_on_change {
        let today = state.today_text();
        if let Some(item) = state
            .items
            .iter_mut()
            .find(|i| i.unformatted_item_number == key)
        {
            item.touch(&today);
        }
    }
}

fn set_price(
    state: &mut State,
    item_number: &str,
    price: f64,
    list: &str,
    currency: &str,
) -> Result<(), String> {
    let key = ic::unformat(item_number);
    let item = state
        .items
        .iter()
        .find(|i| i.unformatted_item_number == key)
        .cloned()
        .ok_or_else(|| format!("no item {item_number}"))?;
    let today = state.today_text();
    let row = state.pricing.iter_mut().find(|p| {
        p.unformatted_item_number == key && p.price_list_code == list && p.currency_code == currency
    });
    let row = match row {
        Some(row) => row,
        None => {
            state.pricing.push(ItemPricing {
                currency_code: currency.into(),
                unformatted_item_number: key.clone(),
                price_list_code: list.into(),
                item_number: item.item_number.clone(),
                description: item.description.clone(),
                ..ItemPricing::default()
            });
            state.pricing.last_mut().ok_or("no pricing row")?
        }
    };
    row.set_base_price(money(price));
    row.touch(&today);
    touch_item(state, &key);
    Ok(())
}

fn set_quantity(
    state: &mut State,
    item_number: &str,
    location: &str,
    quantity: f64,
) -> Result<(), String> {
    let key = ic::unformat(item_number);
    if !state.items.iter().any(|i| i.unformatted_item_number == key) {
        return Err(format!("no item {item_number}"));
    }
    if !state.locations.iter().any(|l| l.location == location) {
        return Err(format!("no location {location}"));
    }
    let today = state.today_text();
    let row = state.item_location_mut(&key, location);
    row.quantity_on_hand = quantity;
    row.touch(&today);
    touch_item(state, &key);
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceChange {
    item_number: String,
    price: f64,
    #[serde(default)]
    price_list: Option<String>,
    #[serde(default)]
    currency: Option<String>,
}

async fn set_prices(world: web::Data<World>, body: web::Json<Vec<PriceChange>>) -> HttpResponse {
    let mut state = world.sage300();
    for change in body.into_inner() {
        let list = change.price_list.as_deref().unwrap_or(PRICE_LIST);
        let currency = change.currency.as_deref().unwrap_or(HOME_CURRENCY);
        if let Err(e) = set_price(
            &mut state,
            &change.item_number,
            change.price,
            list,
            currency,
        ) {
            return bad_request(e);
        }
    }
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuantityChange {
    item_number: String,
    location: String,
    quantity_on_hand: f64,
}

async fn set_quantities(
    world: web::Data<World>,
    body: web::Json<Vec<QuantityChange>>,
) -> HttpResponse {
    let mut state = world.sage300();
    for change in body.into_inner() {
        if let Err(e) = set_quantity(
            &mut state,
            &change.item_number,
            &change.location,
            change.quantity_on_hand,
        ) {
            return bad_request(e);
        }
    }
    HttpResponse::NoContent().finish()
}

async fn list_customers(world: web::Data<World>) -> HttpResponse {
    rows(&world.sage300().customers)
}

fn upsert_customers_into(state: &mut State, body: Vec<Value>) -> HttpResponse {
    let today = state.today_text();
    for value in body {
        let mut customer: Customer = match serde_json::from_value(value) {
            Ok(c) => c,
            Err(e) => return bad_request(e),
        };
        if let Err(e) = customer.validate() {
            return bad_request(e.message);
        }
        if customer.date_last_maintained.is_empty() {
            customer.touch(&today);
        }
        match state
            .customers
            .iter_mut()
            .find(|c| c.customer_number == customer.customer_number)
        {
            Some(existing) => *existing = customer,
            None => state.customers.push(customer),
        }
    }
    HttpResponse::Ok().json(serde_json::json!({ "customers": state.customers.len() }))
}

async fn upsert_customers(world: web::Data<World>, body: web::Json<Vec<Value>>) -> HttpResponse {
    upsert_customers_into(&mut world.sage300(), body.into_inner())
}

async fn replace_customers(world: web::Data<World>, body: web::Json<Vec<Value>>) -> HttpResponse {
    let mut state = world.sage300();
    state.customers.clear();
    upsert_customers_into(&mut state, body.into_inner())
}

async fn list_orders(world: web::Data<World>) -> HttpResponse {
    rows(&world.sage300().orders)
}

async fn list_credit_notes(world: web::Data<World>) -> HttpResponse {
    rows(&world.sage300().credit_notes)
}
