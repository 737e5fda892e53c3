//! The Sage X3 simulator, written from `shared/systems/sage.md` §2 (api1
//! REST, GraphQL, auth) and README rule 3 (Basic for api1; a connected
//! app's self-signed HS256 JWT with `x-xtrem-endpoint` for GraphQL; the seed
//! page's OAuth2 client credentials kept as an option).
//!
//! The base URL is the Syracuse server root (`http://host:8124` in the
//! facts, here `.../sagex3/`); under it:
//!
//! - `api1/x3/erp/{ENDPOINT}/{CLASS}?representation={REPR}.$query` and
//!   `{CLASS}('{KEY}')?representation={REPR}.$details`, `$template`,
//!   `$prototypes('{REPR}.$create')`, and `POST ...?representation={REPR}.$create`
//!   (see [`api1`]); Basic auth ([`auth`]).
//! - `xtrem/api`: GraphQL (see [`graphql`]), `Authorization: Bearer <jwt>`
//!   plus `x-xtrem-endpoint: {ENDPOINT}`.
//! - `v1/token` (client credentials, optional) and
//!   `v1/service/{ENDPOINT}/api` (GraphQL with such a token).
//!
//! X3 publishes no outbound webhooks (seed page), so there are no
//! deliveries: clients poll with `UPDDATTIM` (api1) or the GraphQL delta
//! field ([`variants::DeltaField`]).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};

use crate::{Seed, World};

pub mod api1;
pub mod auth;
pub mod control;
pub mod errors;
pub mod graphql;
pub mod model;
pub mod paging;
pub mod seed;
pub mod variants;
pub mod where_clause;

use model::{Customer, Draft, Invoice, Item, Line, Order, Stock};

/// The path under `/sagex3` that a client takes as its base URL: the
/// Syracuse server root.
pub const BASE_PATH: &str = "/";

/// The Syracuse endpoint (X3 folder) served (facts §2.1 example `SEED`).
pub const ENDPOINT: &str = "SEED";
/// The Syracuse login for api1 Basic auth.
pub const USER: &str = "admin";
/// Its password.
pub const PASSWORD: &str = "admin";
/// The connected application's name (facts §2.2 [X3-GQL-APP]).
pub const APP_NAME: &str = "ml-connector";
/// Its client ID.
pub const CLIENT_ID: &str = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";
/// Its secret (signs the HS256 JWTs).
pub const SECRET: &str = "sandbox-x3-connected-app-secret-5f2c9e1b7a";
/// The folder's currency.
pub const CURRENCY: &str = "USD";
/// The main sales and stock site.
pub const SITE: &str = "NA011";
/// The stock sites.
pub const SITES: [&str; 3] = ["NA011", "NA021", "NA031"];

/// A connected application (Administration > Settings > Authentication >
/// Connected applications, facts §2.2).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConnectedApp {
    /// Name.
    pub name: String,
    /// Client ID (the JWT's `iss`).
    pub client_id: String,
    /// Secret (the HS256 key).
    pub secret: String,
    /// The allowed Syracuse user (the JWT's optional `sub`).
    pub allowed_user: String,
    /// Whether it is active (a disabled app is refused: 401).
    pub active: bool,
}

/// The folder's data, in memory.
#[derive(Debug, Clone)]
pub struct State {
    /// Syracuse login.
    pub user: String,
    /// Its password.
    pub password: String,
    /// The endpoint (folder) name.
    pub endpoint: String,
    /// Connected applications.
    pub apps: Vec<ConnectedApp>,
    /// Client-credentials tokens issued: token to expiry.
    pub tokens: Vec<(String, DateTime<Utc>)>,
    /// Variant switches.
    pub variants: variants::Variants,
    /// A fixed clock (for tests), else real time.
    pub clock: Option<DateTime<Utc>>,
    /// Customers (BPCUSTOMER).
    pub customers: Vec<Customer>,
    /// Products (ITMMASTER).
    pub items: Vec<Item>,
    /// Stock per product and site (ITMMVT).
    pub stock: Vec<Stock>,
    /// Sales orders (SORDER).
    pub orders: Vec<Order>,
    /// Sales invoices (SIH).
    pub invoices: Vec<Invoice>,
    next_order: u64,
    next_invoice: u64,
}

impl State {
    /// The folder: [`Seed::Demo`] with the data of [`seed`], [`Seed::Empty`]
    /// with none.
    pub fn new(seed: Seed) -> State {
        let mut state = State {
            user: USER.into(),
            password: PASSWORD.into(),
            endpoint: ENDPOINT.into(),
            apps: vec![ConnectedApp {
                name: APP_NAME.into(),
                client_id: CLIENT_ID.into(),
                secret: SECRET.into(),
                allowed_user: USER.into(),
                active: true,
            }],
            tokens: Vec::new(),
            variants: variants::Variants::default(),
            clock: None,
            customers: Vec::new(),
            items: Vec::new(),
            stock: Vec::new(),
            orders: Vec::new(),
            invoices: Vec::new(),
            next_order: 0,
            next_invoice: 0,
        };
        if seed == Seed::Demo {
            seed::populate(&mut state);
        }
        state
    }

    /// Now, by the folder's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.unwrap_or_else(Utc::now)
    }

    /// The customer `code`.
    pub fn customer(&self, code: &str) -> Option<&Customer> {
        self.customers.iter().find(|c| c.code == code)
    }

    /// The product `code`.
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }

    /// Adds a customer; refuses a duplicate or incomplete one.
    pub fn create_customer(&mut self, customer: Customer) -> Result<(), String> {
        if customer.code.trim().is_empty() {
            return Err("BPCNUM: mandatory field".into());
        }
        if customer.code.len() > 15 {
            return Err(format!(
                "BPCNUM: {}: longer than 15 characters",
                customer.code
            ));
        }
        if customer.name.trim().is_empty() {
            return Err("BPCNAM: mandatory field".into());
        }
        if self.customer(&customer.code).is_some() {
            return Err(format!("{}: record already exists", customer.code));
        }
        self.customers.push(customer);
        Ok(())
    }

    fn lines(&self, draft: &Draft) -> Result<Vec<Line>, String> {
        if draft.lines.is_empty() {
            return Err("At least one line is required".into());
        }
        let mut lines = Vec::new();
        for (i, (number, code, quantity, price)) in draft.lines.iter().enumerate() {
            let Some(item) = self.item(code) else {
                return Err(format!("ITMREF: {code}: record does not exist"));
            };
            if !item.active {
                return Err(format!("ITMREF: {code}: product is not active"));
            }
            if *quantity <= 0.0 || !quantity.is_finite() {
                return Err(format!("QTY: {quantity}: the quantity must be positive"));
            }
            let price = price.unwrap_or(item.price);
            lines.push(Line {
                number: if *number > 0 {
                    *number
                } else {
                    (i as i64 + 1) * 1000
                },
                item: item.code.clone(),
                description: item.description.clone(),
                quantity: *quantity,
                unit: item.unit.clone(),
                gross_price: price,
                net_price: price,
            });
        }
        Ok(lines)
    }

    fn check_header(&self, draft: &Draft) -> Result<(String, String), String> {
        let Some(customer) = self.customer(&draft.customer) else {
            return Err(if draft.customer.is_empty() {
                "BPCORD: mandatory field".to_string()
            } else {
                format!("BPCORD: {}: record does not exist", draft.customer)
            });
        };
        if !customer.active {
            return Err(format!(
                "BPCORD: {}: customer is not active",
                draft.customer
            ));
        }
        let site = if draft.site.is_empty() {
            SITE.to_string()
        } else {
            draft.site.clone()
        };
        if !SITES.contains(&site.as_str()) {
            return Err(format!("SALFCY: {site}: record does not exist"));
        }
        let currency = if draft.currency.is_empty() {
            customer.currency.clone()
        } else {
            draft.currency.clone()
        };
        Ok((site, currency))
    }

    fn date(&self, text: &str) -> Result<String, String> {
        if text.is_empty() {
            return Ok(self.now().format("%Y-%m-%d").to_string());
        }
        let day = text.get(..10).unwrap_or(text);
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map(|d| d.format("%Y-%m-%d").to_string())
            .map_err(|_| format!("{text}: invalid date"))
    }

    /// Creates a sales order; allocates its quantities at the site (ALLSTO).
    /// Returns its number.
    pub fn create_order(&mut self, draft: Draft) -> Result<String, String> {
        let (site, currency) = self.check_header(&draft)?;
        let lines = self.lines(&draft)?;
        let date = self.date(&draft.date)?;
        let number = if draft.number.is_empty() {
            self.next_order += 1;
            format!("SON{site}{:06}", self.next_order)
        } else {
            draft.number.clone()
        };
        if self.orders.iter().any(|o| o.number == number) {
            return Err(format!("SOHNUM: {number}: record already exists"));
        }
        let now = self.now();
        for line in &lines {
            if let Some(s) = self
                .stock
                .iter_mut()
                .find(|s| s.item == line.item && s.site == site)
            {
                s.allocated += line.quantity;
                s.updated = now;
            }
        }
        self.orders.push(Order {
            number: number.clone(),
            order_type: "SON".into(),
            site,
            customer: draft.customer,
            date,
            currency,
            reference: draft.reference,
            lines,
            created: now,
            updated: now,
        });
        Ok(number)
    }

    /// Creates a sales invoice (a direct invoice, or one naming its order).
    /// Returns its number. Stock is not moved (decision: shipments are not
    /// simulated).
    pub fn create_invoice(&mut self, draft: Draft) -> Result<String, String> {
        let (site, currency) = self.check_header(&draft)?;
        if !draft.order.is_empty() && !self.orders.iter().any(|o| o.number == draft.order) {
            return Err(format!("SOHNUM: {}: record does not exist", draft.order));
        }
        let lines = self.lines(&draft)?;
        let date = self.date(&draft.date)?;
        let number = if draft.number.is_empty() {
            self.next_invoice += 1;
            format!("INV{site}{:06}", self.next_invoice)
        } else {
            draft.number.clone()
        };
        if self.invoices.iter().any(|o| o.number == number) {
            return Err(format!("NUM: {number}: record already exists"));
        }
        let now = self.now();
        self.invoices.push(Invoice {
            number: number.clone(),
            invoice_type: "INV".into(),
            site,
            customer: draft.customer,
            date,
            currency,
            reference: draft.reference,
            order: draft.order,
            lines,
            created: now,
            updated: now,
        });
        Ok(number)
    }
}

/// The API routes, under `/sagex3`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api1/x3/erp/{endpoint}/{resource}",
        web::route().to(api1::handle),
    )
    .route(
        "/api1/x3/erp/{endpoint}/{resource}/{facet}",
        web::get().to(api1::handle_facet),
    )
    .route(
        "/api1/x3/{contract}/{dotted}",
        web::route().to(api1::handle),
    )
    .route("/xtrem/api", web::post().to(graphql::handle))
    .route("/xtrem/api", web::get().to(graphql::handle))
    .route("/v1/token", web::post().to(auth::token))
    .route(
        "/v1/service/{endpoint}/api",
        web::post().to(graphql::handle_gateway),
    )
    .route(
        "/v1/service/{endpoint}/api",
        web::get().to(graphql::handle_gateway),
    )
    .default_service(web::to(not_found));
}

async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    errors::api1(
        StatusCode::NOT_FOUND,
        &format!("{}: resource not found", req.path()),
    )
}

/// The control routes, under `/_sandbox/sagex3` (see [`control`]).
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    control::routes(cfg);
}

/// What a client needs besides the base URL, named as X3 names them: the
/// Syracuse `user`/`password` (api1 Basic), the `endpoint` (the folder, also
/// the `x-xtrem-endpoint` header) and the connected app's `client_id` and
/// `secret`.
pub fn credentials(world: &World) -> serde_json::Value {
    let state = world.sagex3();
    let app = state.apps.first().cloned();
    serde_json::json!({
        "user": state.user,
        "password": state.password,
        "endpoint": state.endpoint,
        "folder": state.endpoint,
        "client_id": app.as_ref().map(|a| a.client_id.clone()),
        "secret": app.as_ref().map(|a| a.secret.clone()),
        "connected_app": app.as_ref().map(|a| a.name.clone()),
        "api1_path": format!("api1/x3/erp/{}/", state.endpoint),
        "graphql_path": "xtrem/api",
    })
}

/// An error in X3's shape (see [`errors`]).
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    errors::error_response(status, message)
}
