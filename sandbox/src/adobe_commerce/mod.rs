//! The Adobe Commerce (Magento 2) simulator: the REST web API
//! (`/rest/{store_code}/V1/...` and `/rest/V1/...`), written from
//! `shared/systems/commerce.md` §0 and §3.
//!
//! The store URL is `{sandbox}/adobe_commerce/` ([`BASE_PATH`] is `/`), so
//! the API is at `{store}/rest/default/V1/orders` as on a real store.
//! Integrations sign every request with OAuth 1.0a (four credentials, §3.2);
//! listings take `searchCriteria` (§3.3). Magento Open Source has no order
//! webhooks (§3.6): clients poll, so there are no deliveries to simulate.
//! Controls (seeding, placing orders, refunds, settings) are under
//! `/_sandbox/adobe_commerce/` (see [`control_routes`]).

mod api;
mod auth;
mod catalog;
mod control;
mod customers;
mod errors;
mod ratelimit;
mod sales;
mod search;
mod seed;

use std::collections::{BTreeMap, HashMap};

use actix_web::web;
use chrono::{NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use errors::{error_response, MageError};

use crate::{Seed, World};

/// The path under `/adobe_commerce` that a client takes as its store URL.
pub const BASE_PATH: &str = "/";

/// What `searchCriteria[currentPage]` past the last page answers (facts
/// §3.7 pain point 1: older versions repeat the last page; the issue is
/// labelled fixed in 2.4.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PastEnd {
    /// The last page again (the default: the behaviour clients must survive).
    #[default]
    LastPage,
    /// An empty `items` list.
    Empty,
}

/// The OAuth signature methods accepted (facts §3.2: the code supports both,
/// the docs say "Must be HMAC-SHA256").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignatureMethods {
    /// `HMAC-SHA1` and `HMAC-SHA256` (`getSupportedSignatureMethods`).
    #[default]
    Both,
    /// `HMAC-SHA256` only, as the docs say.
    Sha256Only,
}

/// How the signature base string orders its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ParamSort {
    /// By encoded name, then value, byte order (RFC 5849 §3.4.1.3.2, what
    /// the facts §3.2 say and OAuth libraries do).
    #[default]
    Rfc5849,
    /// `uksort($params, 'strnatcmp')` on the encoded names, as Magento's
    /// Laminas signer does: digit runs compare as numbers, so
    /// `filter_groups][2]` sorts before `filter_groups][10]`. Differs from
    /// RFC 5849 only when indices of different lengths meet.
    Natural,
}

/// The opt-in rate limit (facts §3.6: none in core; 2.4.7+ limits order
/// placement; a CDN/WAF may throttle anything).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u32,
    /// The window, in seconds.
    #[serde(default = "one_minute")]
    pub window_secs: u64,
    /// Only requests whose path (after `/V1`) contains this; all when absent.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Whether a 429 carries `Retry-After` (the facts do not say; default on).
    #[serde(default = "yes")]
    pub retry_after: bool,
}

fn one_minute() -> u64 {
    60
}

fn yes() -> bool {
    true
}

/// Per-store options, `GET`/`PUT /_sandbox/adobe_commerce/settings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `oauth/consumer/enable_integration_as_bearer` (facts §0.5, §3.2):
    /// whether the integration access token alone works as a Bearer token.
    /// Off by default since 2.4.4.
    pub integration_as_bearer: bool,
    /// The OAuth signature methods accepted.
    pub signature_methods: SignatureMethods,
    /// How the base string orders its parameters.
    pub param_sort: ParamSort,
    /// How far in the future `oauth_timestamp` may be (Magento's
    /// `NonceGenerator::TIME_DEVIATION`, 600 s).
    pub timestamp_deviation_secs: i64,
    /// How long a used nonce is remembered (Magento's OAuth cleanup cron;
    /// the sandbox's choice: 2 h).
    pub nonce_retention_secs: i64,
    /// How old `oauth_timestamp` may be; `None` (the default) accepts any
    /// past timestamp, as Magento checks only the future bound.
    pub max_timestamp_age_secs: Option<i64>,
    /// What a page past the end answers.
    pub past_end: PastEnd,
    /// Web API input limits (facts §3.3; disabled by default).
    pub input_limit_enabled: bool,
    /// Maximum `pageSize` when input limits are on (300).
    pub max_page_size: u64,
    /// `pageSize` when none is given and input limits are on (20).
    pub default_page_size: u64,
    /// Lifetime of admin tokens (facts §3.2: 4 h).
    pub admin_token_lifetime_secs: i64,
    /// The opt-in rate limit; none by default.
    pub rate_limit: Option<RateLimit>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            integration_as_bearer: false,
            signature_methods: SignatureMethods::Both,
            param_sort: ParamSort::Rfc5849,
            timestamp_deviation_secs: 600,
            nonce_retention_secs: 7200,
            max_timestamp_age_secs: None,
            past_end: PastEnd::LastPage,
            input_limit_enabled: false,
            max_page_size: 300,
            default_page_size: 20,
            admin_token_lifetime_secs: 4 * 3600,
            rate_limit: None,
        }
    }
}

/// A store view.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoreView {
    pub id: u64,
    pub code: String,
    pub name: String,
    pub website_id: u64,
}

/// The store's data in memory.
pub struct State {
    pub(crate) settings: Settings,
    pub(crate) integration: auth::Integration,
    /// Nonces the integration has used and when (Magento keeps them in a
    /// table that a cron job empties after `nonce_retention_secs`).
    pub(crate) nonces: HashMap<String, i64>,
    /// Admin tokens and when each expires (unix seconds).
    pub(crate) admin_tokens: HashMap<String, i64>,
    pub(crate) stores: Vec<StoreView>,
    pub(crate) products: BTreeMap<u64, catalog::Product>,
    pub(crate) customers: BTreeMap<u64, customers::Customer>,
    pub(crate) orders: BTreeMap<u64, sales::Order>,
    pub(crate) invoices: BTreeMap<u64, sales::Invoice>,
    pub(crate) creditmemos: BTreeMap<u64, sales::CreditMemo>,
    pub(crate) shipments: Vec<sales::Shipment>,
    pub(crate) rate: ratelimit::Window,
    next_product_id: u64,
    next_customer_id: u64,
    next_order_id: u64,
    next_item_id: u64,
    next_invoice_id: u64,
    next_creditmemo_id: u64,
    next_address_id: u64,
    next_token: u64,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("adobe_commerce::State")
            .field("products", &self.products.len())
            .field("customers", &self.customers.len())
            .field("orders", &self.orders.len())
            .finish()
    }
}

impl State {
    /// The data to start with.
    pub fn new(seed: Seed) -> State {
        let mut state = State {
            settings: Settings::default(),
            integration: auth::Integration::primary(),
            nonces: HashMap::new(),
            admin_tokens: HashMap::new(),
            stores: vec![StoreView {
                id: 1,
                code: "default".into(),
                name: "Default Store View".into(),
                website_id: 1,
            }],
            products: BTreeMap::new(),
            customers: BTreeMap::new(),
            orders: BTreeMap::new(),
            invoices: BTreeMap::new(),
            creditmemos: BTreeMap::new(),
            shipments: Vec::new(),
            rate: ratelimit::Window::default(),
            next_product_id: 1,
            next_customer_id: 1,
            next_order_id: 1,
            next_item_id: 1,
            next_invoice_id: 1,
            next_creditmemo_id: 1,
            next_address_id: 1,
            next_token: 1,
        };
        if seed == Seed::Demo {
            seed::demo(&mut state);
        }
        state
    }

    pub(crate) fn product_id(&mut self) -> u64 {
        bump(&mut self.next_product_id)
    }

    pub(crate) fn customer_id(&mut self) -> u64 {
        bump(&mut self.next_customer_id)
    }

    pub(crate) fn order_id(&mut self) -> u64 {
        bump(&mut self.next_order_id)
    }

    pub(crate) fn item_id(&mut self) -> u64 {
        bump(&mut self.next_item_id)
    }

    pub(crate) fn invoice_id(&mut self) -> u64 {
        bump(&mut self.next_invoice_id)
    }

    pub(crate) fn creditmemo_id(&mut self) -> u64 {
        bump(&mut self.next_creditmemo_id)
    }

    pub(crate) fn address_id(&mut self) -> u64 {
        bump(&mut self.next_address_id)
    }

    pub(crate) fn token_serial(&mut self) -> u64 {
        bump(&mut self.next_token)
    }

    /// The store view with `code`.
    pub(crate) fn store(&self, code: &str) -> Option<&StoreView> {
        self.stores.iter().find(|s| s.code == code)
    }

    /// The product with `sku` (Magento SKUs are case-insensitive in lookups).
    pub(crate) fn product_by_sku(&self, sku: &str) -> Option<u64> {
        self.products
            .values()
            .find(|p| p.sku.eq_ignore_ascii_case(sku))
            .map(|p| p.id)
    }
}

fn bump(n: &mut u64) -> u64 {
    let id = *n;
    *n += 1;
    id
}

/// The system's API routes, under `/adobe_commerce`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    api::routes(cfg);
}

/// The system's control routes, under `/_sandbox/adobe_commerce`.
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    control::routes(cfg);
}

/// What a client needs besides the base URL, named as Adobe Commerce names
/// it: the integration's four OAuth credentials (facts §3.2) and the store
/// view code (§3.1), plus an admin user for the admin-token flow.
pub fn credentials(world: &World) -> Value {
    let state = world.adobe_commerce();
    let i = &state.integration;
    json!({
        "consumer_key": i.consumer_key,
        "consumer_secret": i.consumer_secret,
        "access_token": i.access_token,
        "access_token_secret": i.access_token_secret,
        "store_code": "default",
        "admin_username": auth::ADMIN_USERNAME,
        "admin_password": auth::ADMIN_PASSWORD,
    })
}

/// Now, in UTC, to the second.
pub(crate) fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(0).unwrap_or(now)
}

/// Magento's date format: `2017-08-21 22:22:20` (UTC, no zone; facts §3.5).
pub(crate) fn fmt_date(d: NaiveDateTime) -> String {
    d.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Parses `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DDTHH:MM:SS` or `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// Cents as a JSON number, as Magento answers money (`165`, `29.35`).
pub(crate) fn amount(cents: i64) -> Value {
    if cents % 100 == 0 {
        json!(cents / 100)
    } else {
        json!(cents as f64 / 100.0)
    }
}

/// A money value from JSON (number or numeric string) as cents.
pub(crate) fn cents_of(v: &Value) -> Option<i64> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    f.is_finite().then(|| (f * 100.0).round() as i64)
}

/// A quantity from JSON (number or numeric string), whole units.
pub(crate) fn qty_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f.round() as i64),
        _ => None,
    }
}

/// `rawurldecode` (`plus_is_space` false) or `urldecode` (true).
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `rawurlencode`: everything but `A-Za-z0-9-_.~` as `%XX`.
pub(crate) fn rawurlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query string as PHP's `explode('&')`/`urldecode` pairs, in order.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%2Fb+c%", true), "a/b c%");
        assert_eq!(percent_decode("a%2Fb+c", false), "a/b+c");
        assert_eq!(percent_decode("%4", false), "%4");
    }

    #[test]
    fn money() {
        assert_eq!(amount(16500), json!(165));
        assert_eq!(amount(2935), json!(29.35));
    }
}
