//! The ShipStation simulator: API V1 (`ssapi.shipstation.com`, Basic
//! `apiKey:apiSecret`) and API V2 (`api.shipstation.com/v2`, `API-Key`
//! header), written from `shared/systems/commerce.md` §0 and §4.
//!
//! URL layout under `/shipstation`:
//! - `/v1/...` plays the V1 host root ([`BASE_PATH`]): `orders`,
//!   `orders/createorder`, `shipments`, `webhooks/subscribe`, ...
//! - `/v2/...` plays `https://api.shipstation.com/v2/...`: the V2 host root
//!   is `/shipstation` (manifest `v2_base_url`), so a client appends
//!   `/v2/shipments` exactly as it would to the real host.
//! - `/jwks` plays the JWKS that verifies V2 webhook signatures
//!   (manifest `jwks_url`).
//!
//! One store of data serves both versions, following the terminology map of
//! facts §4.0: a V1 *order* is a V2 *shipment* (`se-{orderId}`), a V1
//! *shipment* is a V2 *label* (`se-{shipmentId}`).
//!
//! Served: V1 orders ([`orders`]), shipments ([`shipments`]), webhooks
//! ([`webhooks`], deliveries in [`delivery`]), products and customers
//! ([`seed`]), stores, warehouses and carriers ([`reference`]); V2 shipments
//! and labels ([`v2`]), webhooks, warehouses, carriers and inventory
//! ([`inventory`]); the JWKS ([`keys`]). Authentication and rate limits are
//! in [`auth`], the switches in [`Settings`], the controls in [`control`].

mod auth;
mod control;
mod dates;
mod delivery;
mod errors;
mod inventory;
mod keys;
mod orders;
mod paging;
mod reference;
mod seed;
mod shipments;
mod v2;
mod webhooks;

use std::collections::{BTreeMap, HashMap};

use actix_web::web;
use chrono::{NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use errors::error_response;

use crate::{Seed, System, World};

/// The path under `/shipstation` that a V1 client takes as its base URL
/// (the V1 host root, `https://ssapi.shipstation.com/`, facts §4.1).
pub const BASE_PATH: &str = "/v1/";

/// The V1 API key (the user name of Basic auth).
pub const V1_API_KEY: &str = "ss_sandbox_api_key";
/// The V1 API secret (the password of Basic auth).
pub const V1_API_SECRET: &str = "ss_sandbox_api_secret";
/// The V2 API key (`API-Key` header); V1 and V2 credentials differ (§4.0).
pub const V2_API_KEY: &str = "TEST_ss_sandbox_v2_api_key";

/// The store orders belong to when they name none.
pub const DEFAULT_STORE_ID: u64 = 310_001;
/// The warehouse orders ship from when they name none.
pub const DEFAULT_WAREHOUSE_ID: u64 = 410_001;

/// How V1 reads and writes dates without offset (facts §4.1: Pacific time,
/// UNVERIFIED, so switchable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum V1TimeZone {
    /// `America/Los_Angeles` (PST/PDT), the default.
    #[default]
    Pacific,
    /// UTC.
    Utc,
}

/// Switches, `GET`/`PUT /_sandbox/shipstation/settings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// V1 requests per window per key pair (facts §4.1: 40 a minute).
    pub v1_rate_limit: u32,
    /// V2 requests per window per API key (facts §4.5: 200 a minute).
    pub v2_rate_limit: u32,
    /// The rate window in seconds (60).
    pub rate_window_secs: u64,
    /// The time zone of V1 dates.
    pub v1_timezone: V1TimeZone,
    /// Added to `x-shipengine-timestamp` of V2 deliveries (seconds), to test
    /// a receiver's 5-minute rule (facts §4.5); 0 by default.
    pub signature_timestamp_offset_secs: i64,
    /// How long a delivery waits for the receiver.
    pub delivery_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            v1_rate_limit: 40,
            v2_rate_limit: 200,
            rate_window_secs: 60,
            v1_timezone: V1TimeZone::Pacific,
            signature_timestamp_offset_secs: 0,
            delivery_timeout_ms: 10_000,
        }
    }
}

/// The account's data in memory.
pub struct State {
    pub(crate) settings: Settings,
    pub(crate) orders: BTreeMap<u64, orders::Order>,
    pub(crate) shipments: BTreeMap<u64, shipments::Shipment>,
    pub(crate) products: BTreeMap<u64, seed::Product>,
    pub(crate) customers: BTreeMap<u64, seed::Customer>,
    pub(crate) inventory: inventory::Levels,
    pub(crate) v1_hooks: BTreeMap<u64, webhooks::V1Hook>,
    pub(crate) v2_hooks: BTreeMap<u64, webhooks::V2Hook>,
    pub(crate) deliveries: Vec<delivery::DeliveryRecord>,
    /// Rate windows: (api, key) → (window start, requests counted).
    pub(crate) windows: HashMap<(auth::Api, String), (std::time::Instant, u32)>,
    /// Which embedded key signs V2 deliveries (0 or 1).
    pub(crate) signing_key: usize,
    /// Whether the key has been rotated (the JWKS then lists both).
    pub(crate) rotated: bool,
    pub(crate) http: reqwest::Client,
    next_order_id: u64,
    next_item_id: u64,
    next_shipment_id: u64,
    next_batch_id: u64,
    next_hook_id: u64,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("shipstation::State")
            .field("orders", &self.orders.len())
            .field("shipments", &self.shipments.len())
            .field("v1_hooks", &self.v1_hooks.len())
            .field("v2_hooks", &self.v2_hooks.len())
            .finish()
    }
}

impl State {
    /// The data to start with.
    pub fn new(seed: Seed) -> State {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let mut state = State {
            settings: Settings::default(),
            orders: BTreeMap::new(),
            shipments: BTreeMap::new(),
            products: BTreeMap::new(),
            customers: BTreeMap::new(),
            inventory: BTreeMap::new(),
            v1_hooks: BTreeMap::new(),
            v2_hooks: BTreeMap::new(),
            deliveries: Vec::new(),
            windows: HashMap::new(),
            signing_key: 0,
            rotated: false,
            http,
            next_order_id: 100_000_001,
            next_item_id: 200_000_001,
            next_shipment_id: 50_000_001,
            next_batch_id: 9_001,
            next_hook_id: 70_001,
        };
        if seed == Seed::Demo {
            seed::demo(&mut state);
        }
        state
    }

    pub(crate) fn order_id(&mut self) -> u64 {
        self.next_order_id += 1;
        self.next_order_id - 1
    }

    pub(crate) fn item_id(&mut self) -> u64 {
        self.next_item_id += 1;
        self.next_item_id - 1
    }

    pub(crate) fn shipment_id(&mut self) -> u64 {
        self.next_shipment_id += 1;
        self.next_shipment_id - 1
    }

    pub(crate) fn batch_id(&mut self) -> u64 {
        self.next_batch_id += 1;
        self.next_batch_id - 1
    }

    pub(crate) fn hook_id(&mut self) -> u64 {
        self.next_hook_id += 1;
        self.next_hook_id - 1
    }
}

/// The system's API routes, under `/shipstation`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use actix_web::dev::Service as _;
    use futures::future::{ready, Either};
    cfg.route("/jwks", web::get().to(keys::jwks))
        .service(
            web::scope("/v1")
                .wrap_fn(|req, srv| match auth::gate(auth::Api::V1, &req) {
                    Err(refused) => Either::Left(ready(Ok(req.into_response(*refused)))),
                    Ok(headers) => {
                        let call = srv.call(req);
                        Either::Right(async move {
                            let mut res = call.await?;
                            auth::add_headers(res.headers_mut(), headers);
                            Ok(res)
                        })
                    }
                })
                .configure(orders::routes)
                .configure(shipments::routes)
                .configure(webhooks::v1_routes)
                .configure(seed::routes)
                .configure(reference::v1_routes)
                .default_service(web::to(errors::v1_not_found)),
        )
        .service(
            web::scope("/v2")
                .wrap_fn(|req, srv| match auth::gate(auth::Api::V2, &req) {
                    Err(refused) => Either::Left(ready(Ok(req.into_response(*refused)))),
                    Ok(headers) => {
                        let call = srv.call(req);
                        Either::Right(async move {
                            let mut res = call.await?;
                            auth::add_headers(res.headers_mut(), headers);
                            Ok(res)
                        })
                    }
                })
                .configure(v2::routes)
                .configure(webhooks::v2_routes)
                .configure(reference::v2_routes)
                .configure(inventory::routes)
                .default_service(web::to(errors::v2_not_found)),
        )
        .default_service(web::to(errors::v1_not_found));
}

/// The system's control routes, under `/_sandbox/shipstation`.
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    control::routes(cfg);
}

/// What a client needs besides the base URL, named as ShipStation names
/// it: the V1 key pair, the V2 API key, the V2 host root and the JWKS.
pub fn credentials(world: &World) -> serde_json::Value {
    json!({
        "api_key": V1_API_KEY,
        "api_secret": V1_API_SECRET,
        "v2_api_key": V2_API_KEY,
        "v2_base_url": v2_root(world),
        "jwks_url": format!("{}/jwks", v2_root(world)),
    })
}

/// The V1 host root, ending in `/` (`{sandbox}/shipstation/v1/`).
pub(crate) fn v1_root(world: &World) -> String {
    world.base_url(System::Shipstation)
}

/// The V2 host root, without a trailing `/` (`{sandbox}/shipstation`);
/// resources are under `{root}/v2/...`.
pub(crate) fn v2_root(world: &World) -> String {
    let v1 = v1_root(world);
    v1.trim_end_matches('/')
        .trim_end_matches("/v1")
        .trim_end_matches('/')
        .to_string()
}

/// Now in UTC, to the second.
pub(crate) fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(0).unwrap_or(now)
}

/// The query string as pairs.
pub(crate) fn query_pairs(req: &actix_web::HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default()
}
