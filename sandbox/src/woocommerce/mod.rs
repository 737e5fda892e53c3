//! The WooCommerce simulator: REST API v3 (`/wp-json/wc/v3/...`) and
//! webhooks, written from `shared/systems/commerce.md` §0 and §1.
//!
//! The store URL is `{sandbox}/woocommerce/` ([`BASE_PATH`] is `/`), so the
//! REST API is at `{store}/wp-json/wc/v3/{resource}` as on a real store.
//! Controls (seeding, placing orders, refunds, settings, the deliveries log)
//! are under `/_sandbox/woocommerce/` (see [`control_routes`]).

mod auth;
mod control;
mod customers;
mod delivery;
mod errors;
mod orders;
mod paging;
mod products;
mod refunds;
mod seed;
mod webhooks;

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::{web, HttpRequest};
use chrono::{NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use errors::{error_response, WcError};

use crate::{Seed, System, World};

/// The path under `/woocommerce` that a client takes as its store URL.
pub const BASE_PATH: &str = "/";

/// Where the REST API lives under the store URL.
pub const API_PREFIX: &str = "/wp-json/wc/v3";

/// The WooCommerce version the sandbox claims (User-Agent of deliveries).
pub const WC_VERSION: &str = "9.8.5";

/// The WordPress version the sandbox claims.
pub const WP_VERSION: &str = "6.8.1";

/// How the sandbox decides whether a request came over HTTPS, which decides
/// the accepted authentication methods (facts §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// Default: Basic and query-string keys are accepted (as over HTTPS) and
    /// OAuth 1.0a too; the OAuth base string uses the scheme the client
    /// used (`https` when `X-Forwarded-Proto: https`, else `http`).
    #[default]
    Auto,
    /// Every request is HTTPS (`is_ssl()` true): Basic, query string, then
    /// OAuth 1.0a with an `https://` base string.
    Https,
    /// Plain HTTP: OAuth 1.0a only, unless the request carries
    /// `X-Forwarded-Proto: https`.
    Http,
}

/// Per-store options, `GET`/`PUT /_sandbox/woocommerce/settings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTPS or plain HTTP rules for authentication.
    pub transport: Transport,
    /// The site's time zone as minutes east of UTC (dates without `_gmt`
    /// are in it). Default -180, as in the docs' order example.
    pub site_utc_offset_minutes: i32,
    /// Coalesce deliveries: an event for a (webhook, resource) that is
    /// already queued and not yet sent adds nothing (facts §1.9).
    pub coalesce_deliveries: bool,
    /// Whether `PUT /webhooks/{id} {"status":"active"}` resets the failure
    /// count (the facts do not say; default false).
    pub reset_failures_on_activate: bool,
    /// Delivery timeout (facts §1.9: 60 s).
    pub delivery_timeout_ms: u64,
    /// Ping timeout (WordPress's default for `wp_safe_remote_post`, 5 s).
    pub ping_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            transport: Transport::Auto,
            site_utc_offset_minutes: -180,
            coalesce_deliveries: true,
            reset_failures_on_activate: false,
            delivery_timeout_ms: 60_000,
            ping_timeout_ms: 5_000,
        }
    }
}

/// The store's data in memory.
pub struct State {
    pub(crate) settings: Settings,
    pub(crate) keys: Vec<auth::ApiKey>,
    /// (consumer key, nonce) → timestamp it was used at.
    pub(crate) nonces: HashMap<(String, String), i64>,
    pub(crate) products: BTreeMap<u64, products::Product>,
    pub(crate) customers: BTreeMap<u64, customers::Customer>,
    pub(crate) orders: BTreeMap<u64, orders::Order>,
    pub(crate) refunds: BTreeMap<u64, refunds::Refund>,
    pub(crate) webhooks: BTreeMap<u64, webhooks::Webhook>,
    pub(crate) deliveries: Vec<delivery::DeliveryRecord>,
    pub(crate) queues: HashMap<u64, tokio::sync::mpsc::UnboundedSender<delivery::Job>>,
    pub(crate) pending: HashSet<(u64, u64, String)>,
    pub(crate) http: reqwest::Client,
    next_post_id: u64,
    next_customer_id: u64,
    next_item_id: u64,
    next_webhook_id: u64,
    next_meta_id: u64,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("woocommerce::State")
            .field("products", &self.products.len())
            .field("customers", &self.customers.len())
            .field("orders", &self.orders.len())
            .field("webhooks", &self.webhooks.len())
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
            keys: vec![auth::ApiKey::primary()],
            nonces: HashMap::new(),
            products: BTreeMap::new(),
            customers: BTreeMap::new(),
            orders: BTreeMap::new(),
            refunds: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            deliveries: Vec::new(),
            queues: HashMap::new(),
            pending: HashSet::new(),
            http,
            next_post_id: 10,
            next_customer_id: 2,
            next_item_id: 1,
            next_webhook_id: 1,
            next_meta_id: 1000,
        };
        if seed == Seed::Demo {
            seed::demo(&mut state);
        }
        state
    }

    /// The next WordPress post id (products, orders and refunds share them).
    pub(crate) fn post_id(&mut self) -> u64 {
        let id = self.next_post_id;
        self.next_post_id += 1;
        id
    }

    pub(crate) fn customer_id(&mut self) -> u64 {
        let id = self.next_customer_id;
        self.next_customer_id += 1;
        id
    }

    pub(crate) fn item_id(&mut self) -> u64 {
        let id = self.next_item_id;
        self.next_item_id += 1;
        id
    }

    pub(crate) fn webhook_id(&mut self) -> u64 {
        let id = self.next_webhook_id;
        self.next_webhook_id += 1;
        id
    }

    pub(crate) fn meta_id(&mut self) -> u64 {
        let id = self.next_meta_id;
        self.next_meta_id += 1;
        id
    }

    /// `gmt` in the site's time zone.
    pub(crate) fn local(&self, gmt: NaiveDateTime) -> NaiveDateTime {
        gmt + chrono::Duration::minutes(i64::from(self.settings.site_utc_offset_minutes))
    }

    /// `(local, gmt)` strings of `gmt`, without offset (facts §1.4).
    pub(crate) fn dates(&self, gmt: NaiveDateTime) -> (Value, Value) {
        (fmt_date(self.local(gmt)).into(), fmt_date(gmt).into())
    }

    /// Like [`State::dates`] for an optional date (`null` both).
    pub(crate) fn opt_dates(&self, gmt: Option<NaiveDateTime>) -> (Value, Value) {
        gmt.map_or((Value::Null, Value::Null), |d| self.dates(d))
    }
}

/// The system's API routes, under `/woocommerce`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(API_PREFIX)
            .configure(orders::routes)
            .configure(refunds::routes)
            .configure(products::routes)
            .configure(customers::routes)
            .configure(webhooks::routes)
            .default_service(web::to(errors::no_route)),
    )
    .default_service(web::to(errors::no_route));
}

/// The system's control routes, under `/_sandbox/woocommerce`.
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    control::routes(cfg);
}

/// What a client needs besides the base URL, named as WooCommerce names it.
pub fn credentials(world: &World) -> serde_json::Value {
    let state = world.woocommerce();
    let key = &state.keys[0];
    json!({ "consumer_key": key.consumer_key, "consumer_secret": key.consumer_secret })
}

/// Now, in UTC, to the second (WordPress stores seconds).
pub(crate) fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond(0).unwrap_or(now)
}

/// ISO-8601 without offset, as WooCommerce answers.
pub(crate) fn fmt_date(d: NaiveDateTime) -> String {
    d.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Cents as WooCommerce's money string (`"29.35"`, `"-5.00"`).
pub(crate) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// A decimal string (or number) to cents, rounded half away from zero.
pub(crate) fn parse_money(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    Some((v * 100.0).round() as i64)
}

/// `{store}/wp-json/wc/v3`, for `_links`.
pub(crate) fn api_base(world: &World) -> String {
    format!(
        "{}{}",
        world.base_url(System::Woocommerce).trim_end_matches('/'),
        API_PREFIX
    )
}

/// `_links` of a resource.
pub(crate) fn links(api: &str, collection: &str, id: u64) -> Value {
    json!({
        "self": [{ "href": format!("{api}/{collection}/{id}") }],
        "collection": [{ "href": format!("{api}/{collection}") }],
    })
}

/// The query string as pairs, decoded as PHP decodes `$_GET`.
pub(crate) fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    form_pairs(req.query_string())
}

/// A form-encoded string as pairs.
pub(crate) fn form_pairs(s: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(s)
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

/// Whether the request body is form-encoded.
pub(crate) fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The request's parameters from its body: JSON, or a form (values as
/// strings); an empty body is `{}`. 400 `rest_invalid_json` otherwise.
pub(crate) fn body_params(req: &HttpRequest, body: &[u8]) -> Result<Value, WcError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    if is_form(req) {
        let mut map = serde_json::Map::new();
        for (k, v) in form_pairs(&String::from_utf8_lossy(body)) {
            map.insert(k, Value::String(v));
        }
        return Ok(Value::Object(map));
    }
    serde_json::from_slice(body)
        .map_err(|_| WcError::new(400, "rest_invalid_json", "Invalid JSON body passed."))
}

/// A string field: must be a JSON string when present (WP schema check).
pub(crate) fn field_str(obj: &Value, name: &str) -> Result<Option<String>, WcError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(WcError::invalid_param(
            name,
            format!("{name} is not of type string."),
        )),
    }
}

/// An integer field: a JSON integer or an integer string, as WP accepts.
pub(crate) fn field_int(obj: &Value, name: &str) -> Result<Option<i64>, WcError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
        Some(_) => Err(WcError::invalid_param(
            name,
            format!("{name} is not of type integer."),
        )),
    }
}

/// A boolean field: JSON bool or `"true"`/`"false"`/`"1"`/`"0"`.
pub(crate) fn field_bool(obj: &Value, name: &str) -> Result<Option<bool>, WcError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if matches!(s.as_str(), "true" | "1") => Ok(Some(true)),
        Some(Value::String(s)) if matches!(s.as_str(), "false" | "0" | "") => Ok(Some(false)),
        Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
        Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
        Some(_) => Err(WcError::invalid_param(
            name,
            format!("{name} is not of type boolean."),
        )),
    }
}

/// A postal address (`billing`, `shipping`): every member a string.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    pub email: String,
    pub phone: String,
}

impl Address {
    /// As `billing` (with email and phone).
    pub fn billing_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// As `shipping` (no email; phone, as newer versions have it).
    pub fn shipping_json(&self) -> Value {
        let mut v = self.billing_json();
        if let Value::Object(m) = &mut v {
            m.remove("email");
        }
        v
    }

    /// Applies the string members of `patch`; 400 when one is not a string.
    pub fn apply(&mut self, patch: &Value, field: &str) -> Result<(), WcError> {
        let Some(obj) = patch.as_object() else {
            return Err(WcError::invalid_param(
                field,
                format!("{field} is not of type object."),
            ));
        };
        for (k, v) in obj {
            let Some(s) = v.as_str() else {
                return Err(WcError::invalid_param(
                    field,
                    format!("{field}[{k}] is not of type string."),
                ));
            };
            let slot = match k.as_str() {
                "first_name" => &mut self.first_name,
                "last_name" => &mut self.last_name,
                "company" => &mut self.company,
                "address_1" => &mut self.address_1,
                "address_2" => &mut self.address_2,
                "city" => &mut self.city,
                "state" => &mut self.state,
                "postcode" => &mut self.postcode,
                "country" => &mut self.country,
                "email" => &mut self.email,
                "phone" => &mut self.phone,
                _ => continue,
            };
            *slot = s.to_string();
        }
        Ok(())
    }
}

/// A `meta_data` entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Meta {
    pub id: u64,
    pub key: String,
    pub value: Value,
}

/// Applies a `meta_data` array of `{key, value}` (or `{id, ...}`) to `metas`.
pub(crate) fn apply_meta(
    state: &mut State,
    metas: &mut Vec<Meta>,
    patch: &Value,
) -> Result<(), WcError> {
    let Some(items) = patch.as_array() else {
        return Err(WcError::invalid_param(
            "meta_data",
            "meta_data is not of type array.",
        ));
    };
    for item in items {
        let key = item
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let value = item.get("value").cloned().unwrap_or(Value::Null);
        let id = item.get("id").and_then(Value::as_u64);
        if let Some(existing) = metas
            .iter_mut()
            .find(|m| Some(m.id) == id || (id.is_none() && m.key == key))
        {
            existing.value = value;
        } else if !key.is_empty() {
            let id = state.meta_id();
            metas.push(Meta { id, key, value });
        }
    }
    Ok(())
}

/// Moves the members of object `extra` into object `v`.
pub(crate) fn merge(v: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(source)) = (v, extra) {
        target.extend(source);
    }
}
