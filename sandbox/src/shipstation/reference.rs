//! Reference data the seed page promises to align (warehouses, shipping
//! methods), beyond the facts: fixed account configuration, present with
//! every seed. V1 `GET /stores`, `GET /warehouses`, `GET /carriers`,
//! `GET /carriers/listservices?carrierCode=`; V2 `GET /v2/warehouses`,
//! `GET /v2/carriers`. Shapes follow the V1 and ShipEngine references.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::errors::V1Error;
use super::paging::Query;
use super::{DEFAULT_STORE_ID, DEFAULT_WAREHOUSE_ID};

/// The account's stores: (id, name, marketplace).
pub const STORES: [(u64, &str, &str); 2] = [
    (DEFAULT_STORE_ID, "Manual Orders", "ShipStation"),
    (DEFAULT_STORE_ID + 1, "Sage 300 (API)", "Custom Store"),
];

/// The account's warehouses: (id, name, city, state, postal code).
pub const WAREHOUSES: [(u64, &str, &str, &str, &str); 3] = [
    (
        DEFAULT_WAREHOUSE_ID,
        "Main Warehouse",
        "Austin",
        "TX",
        "73301",
    ),
    (
        DEFAULT_WAREHOUSE_ID + 1,
        "East Warehouse",
        "Newark",
        "NJ",
        "07102",
    ),
    (
        DEFAULT_WAREHOUSE_ID + 2,
        "West Warehouse",
        "Reno",
        "NV",
        "89501",
    ),
];

/// A carrier service: (code, name, international).
pub type Service = (&'static str, &'static str, bool);

/// The connected carriers: (code, name, services).
pub const CARRIERS: [(&str, &str, &[Service]); 3] = [
    (
        "stamps_com",
        "Stamps.com",
        &[
            ("usps_first_class_mail", "USPS First Class Mail", false),
            ("usps_priority_mail", "USPS Priority Mail", false),
            (
                "usps_priority_mail_international",
                "USPS Priority Mail Intl",
                true,
            ),
        ],
    ),
    (
        "ups",
        "UPS",
        &[
            ("ups_ground", "UPS® Ground", false),
            ("ups_next_day_air", "UPS Next Day Air®", false),
            ("ups_worldwide_expedited", "UPS Worldwide Expedited®", true),
        ],
    ),
    (
        "fedex",
        "FedEx",
        &[
            ("fedex_ground", "FedEx Ground®", false),
            ("fedex_2day", "FedEx 2Day®", false),
            (
                "fedex_international_economy",
                "FedEx International Economy®",
                true,
            ),
        ],
    ),
];

const CREATED: &str = "2026-01-02T08:00:00.0000000";

fn v1_address(name: &str, city: &str, state: &str, zip: &str) -> Value {
    json!({
        "name": name, "company": "ML Demo Distribution", "street1": "100 Commerce Dr",
        "street2": null, "street3": null, "city": city, "state": state, "postalCode": zip,
        "country": "US", "phone": "555-0199", "residential": false, "addressVerified": null,
    })
}

pub(crate) fn v1_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/stores", web::get().to(stores))
        .route("/warehouses", web::get().to(warehouses))
        .route("/carriers", web::get().to(carriers))
        .route("/carriers/listservices", web::get().to(services));
}

pub(crate) fn v2_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/warehouses", web::get().to(v2_warehouses))
        .route("/carriers", web::get().to(v2_carriers));
}

async fn stores() -> HttpResponse {
    let list: Vec<Value> = STORES
        .iter()
        .map(|(id, name, marketplace)| {
            json!({
                "storeId": id, "storeName": name, "marketplaceId": 0,
                "marketplaceName": marketplace, "accountName": null, "email": null,
                "integrationUrl": null, "active": true, "companyName": "ML Demo Distribution",
                "phone": "555-0199", "publicEmail": null, "website": null,
                "refreshDate": null, "lastRefreshAttempt": null, "createDate": CREATED,
                "modifyDate": CREATED, "autoRefresh": false,
            })
        })
        .collect();
    HttpResponse::Ok().json(list)
}

async fn warehouses() -> HttpResponse {
    let list: Vec<Value> = WAREHOUSES
        .iter()
        .map(|(id, name, city, state, zip)| {
            json!({
                "warehouseId": id, "warehouseName": name,
                "originAddress": v1_address(name, city, state, zip),
                "returnAddress": v1_address(name, city, state, zip),
                "createDate": CREATED, "isDefault": *id == DEFAULT_WAREHOUSE_ID,
            })
        })
        .collect();
    HttpResponse::Ok().json(list)
}

async fn carriers() -> HttpResponse {
    let list: Vec<Value> = CARRIERS
        .iter()
        .enumerate()
        .map(|(i, (code, name, _))| {
            json!({
                "name": name, "code": code, "accountNumber": format!("ACCT{:04}", i + 1),
                "requiresFundedAccount": *code == "stamps_com", "balance": 100.0,
                "nickname": null, "shippingProviderId": 500_001 + i, "primary": i == 0,
            })
        })
        .collect();
    HttpResponse::Ok().json(list)
}

async fn services(req: HttpRequest) -> Result<HttpResponse, V1Error> {
    let q = Query::of(&req);
    let code = q
        .get("carrierCode")
        .ok_or_else(|| V1Error::bad("carrierCode is required."))?;
    let (_, _, list) = CARRIERS
        .iter()
        .find(|(c, _, _)| *c == code)
        .ok_or_else(|| V1Error::not_found(format!("Carrier {code} was not found.")))?;
    let out: Vec<Value> = list
        .iter()
        .map(|(s, name, intl)| {
            json!({ "carrierCode": code, "code": s, "name": name, "domestic": !intl, "international": intl })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

fn v2_address(name: &str, city: &str, state: &str, zip: &str) -> Value {
    json!({
        "name": name, "phone": "555-0199", "company_name": "ML Demo Distribution",
        "address_line1": "100 Commerce Dr", "address_line2": null, "address_line3": null,
        "city_locality": city, "state_province": state, "postal_code": zip,
        "country_code": "US", "address_residential_indicator": "no",
    })
}

async fn v2_warehouses() -> HttpResponse {
    let list: Vec<Value> = WAREHOUSES
        .iter()
        .map(|(id, name, city, state, zip)| {
            json!({
                "warehouse_id": format!("se-{id}"), "name": name,
                "created_at": "2026-01-02T16:00:00.000Z",
                "origin_address": v2_address(name, city, state, zip),
                "return_address": v2_address(name, city, state, zip),
                "is_default": *id == DEFAULT_WAREHOUSE_ID,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "warehouses": list }))
}

async fn v2_carriers() -> HttpResponse {
    let list: Vec<Value> = CARRIERS
        .iter()
        .enumerate()
        .map(|(i, (code, name, services))| {
            let id = format!("se-{code}");
            let services: Vec<Value> = services
                .iter()
                .map(|(s, n, intl)| {
                    json!({ "carrier_id": id, "carrier_code": code, "service_code": s, "name": n, "domestic": !intl, "international": intl })
                })
                .collect();
            json!({
                "carrier_id": id, "carrier_code": code, "friendly_name": name,
                "account_number": format!("ACCT{:04}", i + 1), "nickname": null,
                "primary": i == 0, "services": services,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "carriers": list }))
}
