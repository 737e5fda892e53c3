//! The BigCommerce simulator: REST v2 (orders) and v3 (catalog, inventory,
//! customers, transactions, refunds, webhooks), written from
//! `shared/systems/commerce.md` §0 and §2.
//!
//! The base URL is `{sandbox}/bigcommerce/` ([`BASE_PATH`]), standing for
//! `https://api.bigcommerce.com/`: a client calls
//! `{base}stores/{store_hash}/v2/orders` or `.../v3/catalog/products` with
//! `X-Auth-Token`. Every authenticated answer carries the rate-limit headers
//! of §2.2. Controls are under `/_sandbox/bigcommerce/` (see [`control_routes`]).

mod auth;
mod catalog;
mod control;
mod customers;
mod delivery;
mod errors;
mod orders;
mod paging;
mod ratelimit;
mod refunds;
mod seed;
mod webhooks;

use std::collections::{BTreeMap, HashMap};

use actix_web::{web, HttpRequest};
use chrono::{DateTime, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use errors::{error_response, Api, BcError};

use crate::{Seed, System, World};

/// The path under `/bigcommerce` that a client takes as its base URL (the
/// stand-in for `https://api.bigcommerce.com/`).
pub const BASE_PATH: &str = "/";

/// The store's permanent id (`store_hash`) in the manifest.
pub const STORE_HASH: &str = "mlc7sbx1";

/// The numeric store id that webhook payloads carry as `store_id`.
pub const STORE_ID: &str = "1025646";

/// Per-store options, `GET`/`PUT /_sandbox/bigcommerce/settings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Requests per window (§2.2: Standard/Plus plans 150).
    pub rate_limit_quota: u32,
    /// The window (§2.2: 30 s).
    pub rate_limit_window_ms: u64,
    /// Whether a 429 carries the `X-Rate-Limit-*` headers. Off plays the
    /// platform-wide load shedding of §2.2 (a 429 without them).
    pub rate_limit_headers_on_429: bool,
    /// `limit` above 250: true answers 413 (§2.1 status codes), false
    /// clamps to 250.
    pub over_max_limit_is_413: bool,
    /// Hook destinations must be `https://` on port 443 (§2.7). Off by
    /// default so local receivers work; on refuses others with 422.
    pub strict_destinations: bool,
    /// Answer `/hooks` as the docs' examples do (the bare hook) instead of
    /// the spec's `{"data": ..., "meta": {}}` (§2.7 sources disagree).
    pub hooks_unwrapped: bool,
    /// Include `created_at` in webhook payloads (§2.8: some docs examples
    /// omit it).
    pub payload_created_at: bool,
    /// Sign deliveries with the Standard Webhooks headers (§2.9). Off plays
    /// the older docs: custom `headers` and TLS only.
    pub sign_deliveries: bool,
    /// Delays before each retry of a failed delivery, in ms (§2.10: 60 s,
    /// 180 s, ... 86400 s). After the last retry fails the hook is
    /// deactivated. Tests shorten it.
    pub retry_delays_ms: Vec<u64>,
    /// The blocklist's sliding window (§2.10: 2 minutes).
    pub blocklist_window_ms: u64,
    /// Requests in the window before the ratio is evaluated (§2.10: 100).
    pub blocklist_min_requests: u32,
    /// The success ratio under which a domain is blocklisted (§2.10: 0.9).
    pub blocklist_min_success_ratio: f64,
    /// How long a domain stays blocklisted (§2.10: 3 minutes).
    pub blocklist_ms: u64,
    /// Timeout of one delivery.
    pub delivery_timeout_ms: u64,
}

/// The retry schedule of §2.10, in seconds.
pub const RETRY_SCHEDULE_SECS: [u64; 11] = [
    60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400, 86400,
];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rate_limit_quota: 150,
            rate_limit_window_ms: 30_000,
            rate_limit_headers_on_429: true,
            over_max_limit_is_413: true,
            strict_destinations: false,
            hooks_unwrapped: false,
            payload_created_at: true,
            sign_deliveries: true,
            retry_delays_ms: RETRY_SCHEDULE_SECS.iter().map(|s| s * 1000).collect(),
            blocklist_window_ms: 120_000,
            blocklist_min_requests: 100,
            blocklist_min_success_ratio: 0.9,
            blocklist_ms: 180_000,
            delivery_timeout_ms: 10_000,
        }
    }
}

/// The store's data in memory.
pub struct State {
    pub(crate) settings: Settings,
    pub(crate) accounts: Vec<auth::ApiAccount>,
    pub(crate) rate: ratelimit::Window,
    pub(crate) products: BTreeMap<u64, catalog::Product>,
    pub(crate) customers: BTreeMap<u64, customers::Customer>,
    pub(crate) orders: BTreeMap<u64, orders::Order>,
    pub(crate) refunds: BTreeMap<u64, refunds::Refund>,
    pub(crate) transactions: BTreeMap<u64, refunds::Transaction>,
    pub(crate) hooks: BTreeMap<u64, webhooks::Hook>,
    pub(crate) admin_emails: Vec<String>,
    pub(crate) deliveries: Vec<delivery::DeliveryRecord>,
    pub(crate) notices: Vec<Value>,
    pub(crate) domains: HashMap<(String, String), delivery::DomainStats>,
    pub(crate) http: reqwest::Client,
    next: HashMap<&'static str, u64>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("bigcommerce::State")
            .field("products", &self.products.len())
            .field("customers", &self.customers.len())
            .field("orders", &self.orders.len())
            .field("hooks", &self.hooks.len())
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
            accounts: vec![auth::ApiAccount::primary()],
            rate: ratelimit::Window::default(),
            products: BTreeMap::new(),
            customers: BTreeMap::new(),
            orders: BTreeMap::new(),
            refunds: BTreeMap::new(),
            transactions: BTreeMap::new(),
            hooks: BTreeMap::new(),
            admin_emails: Vec::new(),
            deliveries: Vec::new(),
            notices: Vec::new(),
            domains: HashMap::new(),
            http,
            next: HashMap::new(),
        };
        if seed == Seed::Demo {
            seed::demo(&mut state);
        }
        state
    }

    /// The next id of a kind (`product`, `variant`, `order`, ...). Orders
    /// start at 100 as on a fresh store; the others at 1.
    pub(crate) fn id(&mut self, kind: &'static str) -> u64 {
        let start = match kind {
            "order" => 100,
            _ => 1,
        };
        let next = self.next.entry(kind).or_insert(start);
        let id = *next;
        *next += 1;
        id
    }
}

/// The system's API routes, under `/bigcommerce`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/stores/{store_hash}")
            .wrap_fn(auth::gate)
            .service(
                web::scope("/v2")
                    .configure(orders::routes)
                    .default_service(web::to(errors::no_route_v2)),
            )
            .service(
                web::scope("/v3")
                    .configure(catalog::routes)
                    .configure(customers::routes)
                    .configure(refunds::routes)
                    .configure(webhooks::routes)
                    .default_service(web::to(errors::no_route_v3)),
            )
            .default_service(web::to(errors::no_route_v3)),
    )
    .default_service(web::to(errors::no_route_v3));
}

/// The system's control routes, under `/_sandbox/bigcommerce`.
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    control::routes(cfg);
}

/// What a client needs besides the base URL, named as BigCommerce names it
/// (§2.1): `store_hash`, `access_token` (sent as `X-Auth-Token`),
/// `client_id`, `client_secret` (the webhook signing key, §2.9).
pub fn credentials(world: &World) -> Value {
    let state = world.bigcommerce();
    let a = &state.accounts[0];
    json!({
        "store_hash": STORE_HASH,
        "access_token": a.access_token,
        "client_id": a.client_id,
        "client_secret": a.client_secret,
    })
}

/// Now, in UTC, to the second.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.with_nanosecond(0).unwrap_or(now)
}

/// A fixed instant `days` days and `minutes` minutes after 2025-01-06.
pub(crate) fn at(days: u64, minutes: u64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
        .single()
        .unwrap_or_default();
    base + chrono::Duration::days(days as i64) + chrono::Duration::minutes(minutes as i64)
}

/// RFC 2822 as v2 answers: `Wed, 05 Dec 2018 20:16:55 +0000` (§2.3).
pub(crate) fn rfc2822(d: DateTime<Utc>) -> String {
    d.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// ISO 8601 as v3 answers: `2018-12-05T20:16:55+00:00`.
pub(crate) fn iso(d: DateTime<Utc>) -> String {
    d.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// A date filter value: RFC 2822, ISO 8601 with or without offset or
/// fraction, a bare date, or unix seconds (§2.3, §2.5).
pub(crate) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(d.and_utc());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    }
    s.parse::<i64>()
        .ok()
        .and_then(|t| Utc.timestamp_opt(t, 0).single())
}

/// Cents as v2's 4-decimal money string (`"361.9500"`, §2.3).
pub(crate) fn money4(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}00", c / 100, c % 100)
}

/// Cents as a JSON number (v3 prices are numbers).
pub(crate) fn number(cents: i64) -> Value {
    json!(cents as f64 / 100.0)
}

/// A money value given as a number or a decimal string, to cents.
pub(crate) fn cents_of(v: &Value) -> Option<i64> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    f.is_finite().then(|| (f * 100.0).round() as i64)
}

/// The query string as pairs.
pub(crate) fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

/// The first value of query parameter `name`.
pub(crate) fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A comma-separated `:in` list of integers.
pub(crate) fn id_list(s: &str) -> Vec<u64> {
    s.split(',').filter_map(|p| p.trim().parse().ok()).collect()
}

/// `{base}stores/{hash}` as a client would see it.
pub(crate) fn store_url(world: &World) -> String {
    format!("{}stores/{STORE_HASH}", world.base_url(System::Bigcommerce))
}

/// A JSON body; 400 in the API's shape when it is not JSON.
pub(crate) fn json_body(body: &[u8], api: Api) -> Result<Value, BcError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BcError::new(api, 400, "The request body is empty."));
    }
    serde_json::from_slice(body)
        .map_err(|_| BcError::new(api, 400, "The request body is not valid JSON."))
}
