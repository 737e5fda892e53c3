//! The Sage 300 Web API simulator, written from `shared/systems/sage.md` §1
//! (and the seed page's promise that credentials are sent upper-case).
//!
//! URL layout (facts §1.1): `{base}/Sage300WebApi/v1.0/-/{company}/{module}/{resource}`,
//! e.g. `.../-/SAMLTD/OE/OEOrders`; a client's base URL ends with the `-/`
//! tenant segment ([`BASE_PATH`]) and the company follows it. The simulated
//! company is `SAMLTD`, the Web API user `WEBAPI`/`WEBAPI` ([`credentials`]).
//!
//! Served: `AR/ARCustomers` (all verbs), `IC/ICItems`, `IC/ICItemPricing`
//! (all verbs), `IC/ICLocations`, `IC/ICItemLocations` (GET),
//! `OE/OEOrders` and `OE/OECreditDebitNotes` (GET, POST), and
//! `{module}/$metadata`. The demo data is described in [`seed`]; the
//! controls in [`control`]; the variant switches in [`variants`].

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;

use crate::{Seed, World};

pub mod ar;
mod auth;
pub mod control;
pub mod dates;
pub mod entity;
pub mod errors;
pub mod filter;
pub mod ic;
mod metadata;
pub mod odata;
pub mod oe;
mod resource;
pub mod seed;
pub mod variants;

pub use seed::{demo_customers, demo_items, DemoCustomer, DemoItem};

/// The path under `/sage300` that a client takes as its base URL: the Web
/// API root up to the tenant segment `-/` (facts §1.1).
pub const BASE_PATH: &str = "/Sage300WebApi/v1.0/-/";

/// The simulated company (the Swagger "defaulted company", facts §1.1).
pub const COMPANY: &str = "SAMLTD";
/// The Web API user (a dedicated user: ADMIN has no Web API access by
/// default, facts §1.2).
pub const USERNAME: &str = "WEBAPI";
/// Its password.
pub const PASSWORD: &str = "WEBAPI";
/// The company's home currency.
pub const HOME_CURRENCY: &str = "CAD";
/// The standard price list.
pub const PRICE_LIST: &str = "STD";
/// The location used when an order line names none.
pub const DEFAULT_LOCATION: &str = "1";

/// All the company's data, in memory.
#[derive(Debug, Clone)]
pub struct State {
    /// The company ID in URLs.
    pub company: String,
    /// The Web API user ID.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The variant switches in force.
    pub variants: variants::Variants,
    /// A fixed "today" (for tests), else the real date.
    pub today: Option<NaiveDate>,
    /// AR customers.
    pub customers: Vec<ar::Customer>,
    /// IC items.
    pub items: Vec<ic::Item>,
    /// IC item pricing.
    pub pricing: Vec<ic::ItemPricing>,
    /// IC locations.
    pub locations: Vec<ic::Location>,
    /// IC item quantities per location.
    pub item_locations: Vec<ic::ItemLocation>,
    /// OE orders.
    pub orders: Vec<oe::Order>,
    /// OE credit and debit notes.
    pub credit_notes: Vec<oe::CreditNote>,
    next_order: u64,
    next_shipment: u64,
    next_invoice: u64,
    next_credit_note: u64,
}

impl State {
    /// The company: [`Seed::Demo`] with the data of [`seed`], [`Seed::Empty`]
    /// with only its locations.
    pub fn new(seed: Seed) -> State {
        let mut state = State {
            company: COMPANY.into(),
            username: USERNAME.into(),
            password: PASSWORD.into(),
            variants: variants::Variants::default(),
            today: None,
            customers: Vec::new(),
            items: Vec::new(),
            pricing: Vec::new(),
            locations: seed::locations(),
            item_locations: Vec::new(),
            orders: Vec::new(),
            credit_notes: Vec::new(),
            next_order: 0,
            next_shipment: 0,
            next_invoice: 0,
            next_credit_note: 0,
        };
        if seed == Seed::Demo {
            seed::populate(&mut state);
        }
        state
    }

    /// Today's date.
    pub fn today(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }

    /// Today as a stored date (`YYYY-MM-DDT00:00:00Z`).
    pub fn today_text(&self) -> String {
        dates::fmt_date(self.today())
    }

    /// The quantities of an item at a location, made when missing.
    pub fn item_location_mut(
        &mut self,
        unformatted: &str,
        location: &str,
    ) -> &mut ic::ItemLocation {
        let found = self
            .item_locations
            .iter()
            .position(|r| r.unformatted_item_number == unformatted && r.location == location);
        let i = match found {
            Some(i) => i,
            None => {
                self.item_locations.push(ic::ItemLocation {
                    unformatted_item_number: unformatted.into(),
                    location: location.into(),
                    item_number: ic::format(unformatted),
                    date_last_maintained: self.today_text(),
                    ..ic::ItemLocation::default()
                });
                self.item_locations.len() - 1
            }
        };
        &mut self.item_locations[i]
    }
}

/// The Web API routes, under `/sage300`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let path = format!("{BASE_PATH}{{company}}/{{module}}/{{resource}}");
    cfg.route(&path, web::route().to(resource::handle))
        .route("/{tail:.*}", web::route().to(resource::not_found));
}

/// The control routes, under `/_sandbox/sage300` (see [`control`]).
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    control::routes(cfg);
}

/// What a client needs besides the base URL, named as Sage 300 names them.
pub fn credentials(world: &World) -> serde_json::Value {
    let state = world.sage300();
    serde_json::json!({
        "company": state.company,
        "username": state.username,
        "password": state.password,
    })
}

/// An error in Sage 300's OData error shape (facts §1.7).
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    errors::error_response(status, message)
}
