//! The demo account (`Seed::Demo`), deterministic (arithmetic only): 400
//! products with the demo ERP's item numbers as SKUs (`A1-100/0` ..
//! `A4-199/0`) with stock at the main warehouse's inventory location, 300
//! customers with e-mail addresses, 120 orders from them
//! (the first 40 shipped with a label each, then awaiting shipment, awaiting
//! payment, on hold and cancelled ones).
//!
//! Products and customers are served read-only by V1 `GET /products`,
//! `GET /products/{productId}`, `GET /customers`, `GET /customers/{customerId}`
//! (V1 resources beyond the facts, `{"products"|"customers": [...], "total",
//! "page", "pages"}`).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;
use serde_json::{json, Value};

use super::errors::V1Error;
use super::paging::{v1_page, Query};
use super::shipments::{create_label, LabelRequest};
use super::{orders, State};
use crate::World;

/// The account's seller id (V1 webhook listing).
pub const SELLER_ID: u64 = 150_001;

/// A product of the account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub product_id: u64,
    pub sku: String,
    pub name: String,
    pub price: f64,
    pub weight_oz: f64,
    pub active: bool,
}

/// A customer of the account.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
}

/// The SKU of demo product `n` (1-based): `A{group}-{100..199}/0`.
pub fn sku(n: u64) -> String {
    let n = n.saturating_sub(1);
    format!("A{}-{}/0", n / 100 + 1, 100 + n % 100)
}

const NOUNS: [&str; 10] = [
    "Coffee Mug",
    "Water Bottle",
    "Notebook",
    "Backpack",
    "Desk Lamp",
    "T-Shirt",
    "Candle",
    "Tea Set",
    "Yoga Mat",
    "Umbrella",
];
const ADJECTIVES: [&str; 8] = [
    "Classic", "Deluxe", "Compact", "Rustic", "Premium", "Modern", "Eco", "Urban",
];
const FIRST: [&str; 12] = [
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "James", "Mia", "Lucas", "Harper",
    "Henry",
];
const LAST: [&str; 15] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Moore", "Martin", "Lee", "White",
];
const CITIES: [(&str, &str, &str); 6] = [
    ("Vancouver", "WA", "98660"),
    ("Austin", "TX", "73301"),
    ("Seattle", "WA", "98101"),
    ("Denver", "CO", "80202"),
    ("Chicago", "IL", "60601"),
    ("Portland", "OR", "97201"),
];

fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 5)
        .and_then(|d| d.and_hms_opt(17, 0, 0))
        .unwrap_or_default()
}

/// Fills `st` with the demo account.
pub fn demo(st: &mut State) {
    for n in 1..=400u64 {
        let name = format!(
            "{} {}",
            ADJECTIVES[(n % 8) as usize],
            NOUNS[((n - 1) / 100 * 3 + n % 10) as usize % 10]
        );
        st.products.insert(
            n,
            Product {
                product_id: 60_000_000 + n,
                sku: sku(n),
                name,
                price: 5.0 + (n % 40) as f64 * 2.5,
                weight_oz: 4.0 + (n % 12) as f64,
                active: true,
            },
        );
    }
    let location = super::inventory::location_of(super::DEFAULT_WAREHOUSE_ID);
    for (n, p) in &st.products {
        st.inventory.insert(
            (location, p.sku.clone()),
            super::inventory::Level {
                on_hand: (*n as i64 * 37) % 200 + 5,
                cost: (p.price * 55.0).round() / 100.0,
            },
        );
    }
    for n in 0..300u64 {
        let first = FIRST[(n % 12) as usize];
        let last = LAST[(n / 12 % 15) as usize];
        let (city, state, zip) = CITIES[(n % 6) as usize];
        st.customers.insert(
            n + 1,
            Customer {
                id: 80_000_001 + n,
                name: format!("{first} {last}"),
                email: format!(
                    "{}.{}{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    n + 1
                ),
                street: format!("{} Main St", 100 + n * 7),
                city: city.into(),
                state: state.into(),
                postal_code: zip.into(),
            },
        );
    }
    let mut ids = Vec::new();
    for n in 0..120u64 {
        let c = st.customers[&(n * 7 % 300 + 1)].clone();
        let address = json!({
            "name": c.name, "street1": c.street, "city": c.city, "state": c.state,
            "postalCode": c.postal_code, "country": "US", "phone": format!("555-01{:02}", n % 100),
            "residential": true,
        });
        let items: Vec<Value> = (0..(n % 3 + 1))
            .map(|k| {
                let p = &st.products[&((n * 13 + k * 101) % 400 + 1)];
                json!({
                    "lineItemKey": format!("L{}-{}", n + 1, k + 1), "sku": p.sku, "name": p.name,
                    "quantity": (n + k) % 4 + 1, "unitPrice": p.price,
                    "weight": { "value": p.weight_oz, "units": "ounces" },
                })
            })
            .collect();
        let status = match n {
            0..=99 => "awaiting_shipment",
            100..=109 => "awaiting_payment",
            110..=114 => "on_hold",
            _ => "cancelled",
        };
        let at = start() + Duration::hours(n as i64 * 9);
        let body = json!({
            "orderNumber": format!("SO-{:05}", 1001 + n), "orderKey": format!("demo-{:05}", 1001 + n),
            "orderDate": format!("{}Z", at.format("%Y-%m-%dT%H:%M:%S")),
            "paymentDate": if status == "awaiting_payment" { Value::Null } else { json!(format!("{}Z", at.format("%Y-%m-%dT%H:%M:%S"))) },
            "orderStatus": status, "customerUsername": c.email, "customerEmail": c.email,
            "billTo": address, "shipTo": address, "items": items,
            "amountPaid": 0.0, "taxAmount": 0.0, "shippingAmount": 7.5,
            "requestedShippingService": "Ground",
        });
        if let Ok(id) = orders::upsert(st, &body, None) {
            if let Some(o) = st.orders.get_mut(&id) {
                o.created = at;
                o.modified = at;
            }
            ids.push((n, id, at));
        }
    }
    for (n, id, at) in ids.into_iter().take(40) {
        let batch = st.batch_id();
        let label = LabelRequest {
            carrier: if n % 2 == 0 { "ups" } else { "stamps_com" }.into(),
            service: if n % 2 == 0 {
                "ups_ground"
            } else {
                "usps_priority_mail"
            }
            .into(),
            package: "package".into(),
            tracking: None,
            ship_date: Some((at + Duration::days(1)).format("%Y-%m-%d").to_string()),
            cost: 8.25 + (n % 5) as f64,
            confirmation: "none".into(),
        };
        if let Ok(sid) = create_label(st, id, batch, &label) {
            let shipped = at + Duration::days(1);
            if let Some(s) = st.shipments.get_mut(&sid) {
                s.created = shipped;
                s.track_events = vec![(shipped, "AC".into(), "Shipping label created".into())];
            }
            if let Some(o) = st.orders.get_mut(&id) {
                o.modified = shipped;
            }
        }
    }
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/products", web::get().to(list_products))
        .route("/products/{id}", web::get().to(get_product))
        .route("/customers", web::get().to(list_customers))
        .route("/customers/{id}", web::get().to(get_customer));
}

fn render_product(p: &Product) -> Value {
    json!({
        "productId": p.product_id, "sku": p.sku, "name": p.name, "price": p.price,
        "defaultCost": null, "length": null, "width": null, "height": null,
        "weightOz": p.weight_oz, "internalNotes": null, "fulfillmentSku": null,
        "createDate": "2026-01-02T08:00:00.0000000", "modifyDate": "2026-01-02T08:00:00.0000000",
        "active": p.active, "productCategory": null, "productType": null,
        "warehouseLocation": null, "defaultCarrierCode": null, "defaultServiceCode": null,
        "defaultPackageCode": null, "defaultIntlCarrierCode": null, "defaultIntlServiceCode": null,
        "defaultIntlPackageCode": null, "defaultConfirmation": null,
        "defaultIntlConfirmation": null, "customsDescription": null, "customsValue": null,
        "customsTariffNo": null, "customsCountryCode": null, "noCustoms": null, "tags": null,
    })
}

fn render_customer(c: &Customer) -> Value {
    json!({
        "customerId": c.id, "createDate": "2026-01-02T08:00:00.0000000",
        "modifyDate": "2026-01-02T08:00:00.0000000", "name": c.name, "company": null,
        "street1": c.street, "street2": null, "city": c.city, "state": c.state,
        "postalCode": c.postal_code, "countryCode": "US", "phone": null, "email": c.email,
        "addressVerified": "Verified", "marketplaceUsernames": [], "tags": null,
    })
}

async fn list_products(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, V1Error> {
    let q = Query::of(&req);
    let st = world.shipstation();
    let sku = q.get("sku").map(str::to_lowercase);
    let name = q.get("name").map(str::to_lowercase);
    let found: Vec<&Product> = st
        .products
        .values()
        .filter(|p| {
            sku.as_ref()
                .is_none_or(|s| p.sku.to_lowercase().starts_with(s))
        })
        .filter(|p| {
            name.as_ref()
                .is_none_or(|n| p.name.to_lowercase().contains(n))
        })
        .collect();
    let (page, total, p, pages) = v1_page(&found, &q, 100)?;
    let list: Vec<Value> = page.into_iter().map(render_product).collect();
    Ok(HttpResponse::Ok()
        .json(json!({ "products": list, "total": total, "page": p, "pages": pages })))
}

async fn get_product(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V1Error> {
    let st = world.shipstation();
    st.products
        .values()
        .find(|p| p.product_id.to_string() == *path)
        .map(|p| HttpResponse::Ok().json(render_product(p)))
        .ok_or_else(|| V1Error::not_found(format!("Product {path} was not found.")))
}

async fn list_customers(
    world: web::Data<World>,
    req: HttpRequest,
) -> Result<HttpResponse, V1Error> {
    let q = Query::of(&req);
    let st = world.shipstation();
    let found: Vec<&Customer> = st.customers.values().collect();
    let (page, total, p, pages) = v1_page(&found, &q, 100)?;
    let list: Vec<Value> = page.into_iter().map(render_customer).collect();
    Ok(HttpResponse::Ok()
        .json(json!({ "customers": list, "total": total, "page": p, "pages": pages })))
}

async fn get_customer(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V1Error> {
    let st = world.shipstation();
    st.customers
        .values()
        .find(|c| c.id.to_string() == *path)
        .map(|c| HttpResponse::Ok().json(render_customer(c)))
        .ok_or_else(|| V1Error::not_found(format!("Customer {path} was not found.")))
}
