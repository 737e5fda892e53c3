//! Sage 300 through its Web API (REST/OData, shared/systems/sage.md §1).
//!
//! - URL: `{base_url}{company}/{module}/{resource}` where `base_url` ends with
//!   the tenant segment `.../v1.0/-/`.
//! - Every request carries `Authorization: Basic` with the user ID and
//!   password upper-cased (the seed page's rule) and
//!   `Content-Type: application/json` (a missing one is a 500, GET included).
//! - Feeds are read with `$filter`/`$select`/`$top`/`$skip`: the connector
//!   asks for large pages, reads `@odata.count` (or v3's `odata.count`, a
//!   string) and pages with `$skip` until it has them all, a next link is
//!   absent and the page is short, or a page is empty.
//! - Errors are OData bodies `{"error":{"code","message":{"lang","value"}}}`,
//!   decided on `code` as Sage asks ([`ConnectorError`]).
//! - Writes are never retried here: the process actors look with
//!   [`Erp::find_order`] / [`Erp::find_credit_note`] before each create.

mod feed;
mod payload;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::NaiveDate;
use mlc_domain::mapping::{ErpCreditNote, ErpCustomer, ErpItemState, ErpOrder};
use mlc_domain::model::Email;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::http::{self, encode_query_value, outside_call, retry_after, shorten};
use crate::{ConnectorError, Erp, OutsideCall, PreparedRequest};

pub use payload::odata_string;

/// The system's name in messages.
const SYSTEM: &str = "Sage 300";

/// Records asked for per page. Sage's default and maximum is 100, raised
/// with `PageSize` in `Web.config` (Sage recommends 1000 for large reads,
/// facts §1.6); a server with a smaller page answers fewer and is paged.
pub const PAGE_SIZE: usize = 1000;

/// How a Sage 300 connection is reached.
#[derive(Debug, Clone)]
pub struct Sage300Settings {
    /// The Web API root up to and including the tenant segment, e.g.
    /// `https://erp.example.com/Sage300WebApi/v1.0/-/`.
    pub base_url: Url,
    /// The company (organisation) ID, e.g. `SAMLTD`.
    pub company: String,
    /// The Sage 300 user ID (sent upper-case).
    pub username: String,
    /// Its password (sent upper-case; may be empty when security is off).
    pub password: SecretString,
    /// How long one request may take.
    pub timeout: Duration,
    /// The order field that carries our reference (default `OrderReference`).
    pub reference_field: String,
}

impl Sage300Settings {
    /// Settings with a 30-second timeout and `OrderReference` as the
    /// reference field.
    pub fn new(
        base_url: Url,
        company: impl Into<String>,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        Sage300Settings {
            base_url,
            company: company.into(),
            username: username.into(),
            password,
            timeout: Duration::from_secs(30),
            reference_field: "OrderReference".into(),
        }
    }
}

/// Optional miscellaneous charge codes (`OEMiscellaneousCharges`): without
/// them, shipping is not put on orders and an amount-only refund cannot be
/// credited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MiscellaneousCharges {
    /// The charge code for the shipping line of an order.
    pub shipping: Option<String>,
    /// The charge code for the amount of a refund without item lines.
    pub refund: Option<String>,
}

/// Which `$filter` date literal the server takes (facts §1.6: the Developer
/// Reference writes `datetime'...'`, the Postman collection bare ISO).
const LITERAL_UNKNOWN: u8 = 0;
const LITERAL_BARE: u8 = 1;
const LITERAL_DATETIME: u8 = 2;

/// The Sage 300 Web API client: an [`Erp`].
pub struct Sage300 {
    http: reqwest::Client,
    /// `{base_url}{company}/`.
    root: Url,
    company: String,
    auth: HeaderValue,
    reference_field: String,
    charges: MiscellaneousCharges,
    date_literal: AtomicU8,
}

impl std::fmt::Debug for Sage300 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sage300")
            .field("root", &self.root.as_str())
            .field("reference_field", &self.reference_field)
            .finish_non_exhaustive()
    }
}

fn invalid(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::Invalid {
        system: SYSTEM,
        detail: detail.into(),
    }
}

/// An OData property name: letters, digits and `_`, so it can go into a
/// `$filter` unquoted.
fn check_property(name: &str) -> Result<(), ConnectorError> {
    let ok = !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "'{name}' is not a property name (letters, digits and '_')"
        )))
    }
}

impl Sage300 {
    /// Builds the client (one connection pool per instance). Fails when the
    /// base URL cannot take a company or the reference field is not a
    /// property name.
    pub fn new(settings: Sage300Settings) -> Result<Self, ConnectorError> {
        let mut base = settings.base_url.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "base_url {} is not an http(s) URL",
                settings.base_url
            )));
        }
        let company = settings.company.trim().to_owned();
        if company.is_empty() || !company.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid(format!(
                "company '{company}' must be letters and digits, e.g. SAMLTD"
            )));
        }
        let root = base
            .join(&format!("{company}/"))
            .map_err(|e| invalid(format!("base_url cannot take the company: {e}")))?;
        check_property(&settings.reference_field)?;
        let pair = format!(
            "{}:{}",
            settings.username.trim().to_uppercase(),
            settings.password.expose_secret().to_uppercase()
        );
        let mut auth = HeaderValue::from_str(&format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
        .map_err(|_| invalid("the credentials cannot be put in a header"))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Sage300 {
            http,
            root,
            company,
            auth,
            reference_field: settings.reference_field,
            charges: MiscellaneousCharges::default(),
            date_literal: AtomicU8::new(LITERAL_UNKNOWN),
        })
    }

    /// The same client with miscellaneous charge codes for shipping and
    /// amount-only refunds.
    pub fn with_charges(mut self, charges: MiscellaneousCharges) -> Self {
        self.charges = charges;
        self
    }

    /// The company this client works in.
    pub fn company(&self) -> &str {
        &self.company
    }

    /// `{root}{resource}` with the query options, encoded as OData likes.
    fn url(&self, resource: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.root.clone();
        url.set_path(&format!("{}{}", self.root.path(), resource));
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{k}={}", encode_query_value(v)))
                .collect();
            url.set_query(Some(&q.join("&")));
        }
        url
    }

    /// Sends one request; a 2xx answer's body, else the decoded error.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Vec<u8>), ConnectorError> {
        let call = outside_call(method_name(&method), &url);
        let mut request = self
            .http
            .request(method, url)
            .header(AUTHORIZATION, self.auth.clone());
        if let Some(body) = body {
            request = request.body(body);
        }
        let http::Response {
            status,
            headers,
            body: bytes,
        } = http::send(SYSTEM, &call, request).await?;
        if (200..300).contains(&status) {
            return Ok((status, bytes));
        }
        Err(decode_error(call, status, &headers, &bytes))
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(&self, url: Url) -> Result<T, ConnectorError> {
        let call = outside_call("GET", &url);
        let (_, body) = self.send(Method::GET, url, None).await?;
        serde_json::from_slice(&body).map_err(|e| ConnectorError::Decode {
            system: SYSTEM,
            call,
            detail: e.to_string(),
        })
    }

    /// Every record of `resource` matching `filter`, with `select`ed
    /// properties, all pages.
    async fn feed(
        &self,
        resource: &str,
        filter: Option<&str>,
        select: &str,
    ) -> Result<Vec<BTreeMap<String, Value>>, ConnectorError> {
        let mut rows: Vec<BTreeMap<String, Value>> = Vec::new();
        let mut total: Option<usize> = None;
        loop {
            let mut query: Vec<(&str, String)> = Vec::new();
            if let Some(filter) = filter {
                query.push(("$filter", filter.to_owned()));
            }
            query.push(("$select", select.to_owned()));
            query.push(("$top", PAGE_SIZE.to_string()));
            if !rows.is_empty() {
                query.push(("$skip", rows.len().to_string()));
            }
            if total.is_none() {
                query.push(("$count", "true".into()));
            }
            let url = self.url(resource, &query);
            let call = outside_call("GET", &url);
            let page: feed::Page = self.get_json(url).await?;
            let count = page.count().map_err(|detail| ConnectorError::Decode {
                system: SYSTEM,
                call: call.clone(),
                detail,
            })?;
            if total.is_none() {
                total = count;
            }
            let got = page.value.len();
            let more_linked = page.has_next_link();
            rows.extend(page.value);
            let done = got == 0
                || match total {
                    Some(total) => rows.len() >= total,
                    None => !more_linked && got < PAGE_SIZE,
                };
            if done {
                return Ok(rows);
            }
        }
    }

    /// The first record matching `filter`, if any (one request).
    async fn first(
        &self,
        resource: &str,
        filter: &str,
        select: &str,
    ) -> Result<Option<BTreeMap<String, Value>>, ConnectorError> {
        let url = self.url(
            resource,
            &[
                ("$filter", filter.to_owned()),
                ("$select", select.to_owned()),
                ("$top", "1".into()),
            ],
        );
        let page: feed::Page = self.get_json(url).await?;
        Ok(page.value.into_iter().next())
    }

    async fn post(&self, resource: &str, body: Vec<u8>) -> Result<Value, ConnectorError> {
        let url = self.url(resource, &[]);
        let call = outside_call("POST", &url);
        let (_, bytes) = self.send(Method::POST, url, Some(body)).await?;
        serde_json::from_slice(&bytes).map_err(|e| ConnectorError::Decode {
            system: SYSTEM,
            call,
            detail: format!("the created record is unreadable: {e}"),
        })
    }

    /// A filter on `DateLastMaintained`, in the literal form the server
    /// takes (learnt on first use).
    fn date_filter(&self, since: NaiveDate, form: u8) -> String {
        let day = since.format("%Y-%m-%d");
        if form == LITERAL_DATETIME {
            format!("DateLastMaintained ge datetime'{day}T00:00:00'")
        } else {
            format!("DateLastMaintained ge {day}T00:00:00Z")
        }
    }

    /// A feed filtered on `DateLastMaintained ge since`, trying the other
    /// date literal form once when the server refuses the first (400).
    async fn changed_feed(
        &self,
        resource: &str,
        since: Option<NaiveDate>,
        extra: Option<&str>,
        select: &str,
    ) -> Result<Vec<BTreeMap<String, Value>>, ConnectorError> {
        let combine = |date: Option<String>| match (date, extra) {
            (Some(d), Some(e)) => Some(format!("{d} and {e}")),
            (Some(d), None) => Some(d),
            (None, Some(e)) => Some(e.to_owned()),
            (None, None) => None,
        };
        let Some(since) = since else {
            return self.feed(resource, combine(None).as_deref(), select).await;
        };
        let known = self.date_literal.load(Ordering::Relaxed);
        let first = if known == LITERAL_UNKNOWN {
            LITERAL_BARE
        } else {
            known
        };
        let filter = combine(Some(self.date_filter(since, first)));
        match self.feed(resource, filter.as_deref(), select).await {
            Ok(rows) => {
                self.date_literal.store(first, Ordering::Relaxed);
                Ok(rows)
            }
            Err(ConnectorError::Refused { status: 400, .. }) if known == LITERAL_UNKNOWN => {
                let other = LITERAL_DATETIME;
                let filter = combine(Some(self.date_filter(since, other)));
                let rows = self.feed(resource, filter.as_deref(), select).await?;
                self.date_literal.store(other, Ordering::Relaxed);
                Ok(rows)
            }
            Err(e) => Err(e),
        }
    }

    fn prepared_headers(&self) -> Vec<(String, String)> {
        vec![
            ("Authorization".into(), "<redacted>".into()),
            ("Content-Type".into(), "application/json".into()),
            ("Accept".into(), "application/json".into()),
        ]
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

#[derive(Deserialize)]
struct ODataError {
    error: ODataErrorBody,
}

#[derive(Deserialize)]
struct ODataErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<ODataMessage>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ODataMessage {
    Text(String),
    Lang { value: String },
}

/// Sage's error codes after which the same request may succeed later.
fn code_is_retryable(code: &str) -> bool {
    matches!(
        code,
        "DBLinkError" | "InternalServerError" | "TooManyRequests" | "SessionError"
    )
}

/// Messages of the business layer that mean "busy", not "wrong".
fn message_is_transient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "lock",
        "in use by another",
        "deadlock",
        "try again",
        "timeout",
    ]
    .iter()
    .any(|w| m.contains(w))
}

/// A non-2xx answer as a [`ConnectorError`], decided on Sage's error code
/// first, then on the status.
fn decode_error(
    call: OutsideCall,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> ConnectorError {
    let parsed: Option<ODataError> = serde_json::from_slice(body).ok();
    let code = parsed.as_ref().and_then(|e| e.error.code.clone());
    let message = parsed
        .and_then(|e| e.error.message)
        .map(|m| match m {
            ODataMessage::Text(t) => t,
            ODataMessage::Lang { value } => value,
        })
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            if text.trim().is_empty() {
                format!("HTTP {status}")
            } else {
                shorten(&text)
            }
        });
    // An unknown company is a 401 SessionError in the sandbox and a
    // configuration error either way.
    if status == 401 || status == 403 {
        return ConnectorError::Unauthorized {
            system: SYSTEM,
            call,
            status,
            message,
        };
    }
    if status == 429 || code.as_deref() == Some("TooManyRequests") {
        return ConnectorError::RateLimited {
            system: SYSTEM,
            call,
            retry_after: retry_after(headers),
        };
    }
    if status == 502 || status == 504 {
        // A gateway gave up waiting: the request may have been applied.
        return ConnectorError::Unreachable {
            system: SYSTEM,
            call,
            detail: format!("gateway answered {status}: {message}"),
        };
    }
    let retryable = status >= 500
        || status == 408
        || code.as_deref().is_some_and(code_is_retryable)
        || (status == 409 && message_is_transient(&message));
    ConnectorError::Refused {
        system: SYSTEM,
        call,
        status,
        code,
        message,
        retryable,
    }
}

fn text_of(row: &BTreeMap<String, Value>, name: &str) -> Option<String> {
    match row.get(name)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn decode_missing(call: OutsideCall, what: &str) -> ConnectorError {
    ConnectorError::Decode {
        system: SYSTEM,
        call,
        detail: format!("the answer has no {what}"),
    }
}

#[async_trait]
impl Erp for Sage300 {
    fn system(&self) -> &'static str {
        SYSTEM
    }

    async fn ping(&self) -> Result<(), ConnectorError> {
        let url = self.url(
            "IC/ICLocations",
            &[("$select", "Location".into()), ("$top", "1".into())],
        );
        let _: feed::Page = self.get_json(url).await?;
        Ok(())
    }

    async fn find_customer_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<String>, ConnectorError> {
        let filter = format!("Email eq {}", odata_string(email.as_str()));
        let row = self
            .first("AR/ARCustomers", &filter, "CustomerNumber,Email")
            .await?;
        Ok(row.and_then(|r| text_of(&r, "CustomerNumber")))
    }

    async fn customer_exists(&self, number: &str) -> Result<bool, ConnectorError> {
        let filter = format!("CustomerNumber eq {}", odata_string(number));
        Ok(self
            .first("AR/ARCustomers", &filter, "CustomerNumber")
            .await?
            .is_some())
    }

    async fn create_customer(&self, customer: &ErpCustomer) -> Result<String, ConnectorError> {
        let body = payload::customer(customer, true)?;
        let created = self.post("AR/ARCustomers", body.to_bytes()).await?;
        Ok(created
            .get("CustomerNumber")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| customer.number.clone()))
    }

    async fn update_customer(&self, customer: &ErpCustomer) -> Result<(), ConnectorError> {
        let body = payload::customer(customer, false)?;
        let resource = format!(
            "AR/ARCustomers({})",
            encode_query_value(&odata_string(&customer.number))
        );
        let url = self.url(&resource, &[]);
        self.send(Method::PATCH, url, Some(body.to_bytes())).await?;
        Ok(())
    }

    async fn item_exists(&self, item_number: &str) -> Result<bool, ConnectorError> {
        let quoted = odata_string(item_number);
        let filter = format!("ItemNumber eq {quoted} or UnformattedItemNumber eq {quoted}");
        Ok(self
            .first("IC/ICItems", &filter, "ItemNumber")
            .await?
            .is_some())
    }

    async fn find_order(&self, reference: &str) -> Result<Option<String>, ConnectorError> {
        let filter = format!("{} eq {}", self.reference_field, odata_string(reference));
        let select = format!("OrderNumber,{}", self.reference_field);
        let url = self.url(
            "OE/OEOrders",
            &[
                ("$filter", filter.clone()),
                ("$select", select.clone()),
                ("$top", "1".into()),
            ],
        );
        let call = outside_call("GET", &url);
        match self.first("OE/OEOrders", &filter, &select).await? {
            None => Ok(None),
            Some(row) => text_of(&row, "OrderNumber")
                .map(Some)
                .ok_or_else(|| decode_missing(call, "OrderNumber")),
        }
    }

    fn prepare_order(&self, order: &ErpOrder) -> Result<PreparedRequest, ConnectorError> {
        let body = payload::order(order, &self.reference_field, &self.charges)?;
        Ok(PreparedRequest {
            method: "POST".into(),
            url: self.url("OE/OEOrders", &[]).to_string(),
            headers: self.prepared_headers(),
            body: body.to_value(),
        })
    }

    async fn post_order(&self, order: &ErpOrder) -> Result<String, ConnectorError> {
        let body = payload::order(order, &self.reference_field, &self.charges)?;
        let url = self.url("OE/OEOrders", &[]);
        let call = outside_call("POST", &url);
        tracing::info!(system = SYSTEM, reference = %order.reference, "posting order");
        let created = self.post("OE/OEOrders", body.to_bytes()).await?;
        created
            .get("OrderNumber")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| decode_missing(call, "OrderNumber"))
    }

    async fn find_credit_note(&self, reference: &str) -> Result<Option<String>, ConnectorError> {
        let filter = format!("Reference eq {}", odata_string(reference));
        let row = self
            .first(
                "OE/OECreditDebitNotes",
                &filter,
                "CreditDebitNoteNumber,Reference",
            )
            .await?;
        Ok(row.and_then(|r| text_of(&r, "CreditDebitNoteNumber")))
    }

    async fn post_credit_note(&self, note: &ErpCreditNote) -> Result<String, ConnectorError> {
        let body = payload::credit_note(note, &self.charges)?;
        let url = self.url("OE/OECreditDebitNotes", &[]);
        let call = outside_call("POST", &url);
        tracing::info!(system = SYSTEM, reference = %note.reference, "posting credit note");
        let created = self.post("OE/OECreditDebitNotes", body.to_bytes()).await?;
        created
            .get("CreditDebitNoteNumber")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| decode_missing(call, "CreditDebitNoteNumber"))
    }

    async fn items_changed_since(
        &self,
        since: Option<NaiveDate>,
        price_list: Option<&str>,
        locations: &[String],
    ) -> Result<Vec<ErpItemState>, ConnectorError> {
        let price_filter = price_list.map(|l| format!("PriceListCode eq {}", odata_string(l)));
        let location_filter = (!locations.is_empty()).then(|| {
            let parts: Vec<String> = locations
                .iter()
                .map(|l| format!("Location eq {}", odata_string(l)))
                .collect();
            format!("({})", parts.join(" or "))
        });
        // Which items changed: their own record, their price or their
        // quantities (three small feeds, read at once).
        let (items, prices, quantities) = futures::try_join!(
            self.changed_feed(
                "IC/ICItems",
                since,
                None,
                "UnformattedItemNumber,ItemNumber,Description,DateLastMaintained",
            ),
            async {
                match price_filter.as_deref() {
                    Some(f) => {
                        self.changed_feed(
                            "IC/ICItemPricing",
                            since,
                            Some(f),
                            "UnformattedItemNumber,ItemNumber,CurrencyCode,PriceListCode,DateLastMaintained,ItemPricingDetails",
                        )
                        .await
                    }
                    None => Ok(Vec::new()),
                }
            },
            self.changed_feed(
                "IC/ICItemLocations",
                since,
                location_filter.as_deref(),
                "UnformattedItemNumber,ItemNumber,Location,QuantityOnHand,QuantityOnSalesOrder,DateLastMaintained",
            ),
        )?;
        let mut merge = feed::ItemMerge::default();
        merge.items(&items);
        merge.prices(&prices);
        merge.quantities(&quantities);
        if since.is_none() {
            // Everything was read in full.
            return Ok(merge.finish(price_list.is_some()));
        }
        // Complete the changed items with what did not change: the item
        // record, the price and every published location's quantities.
        let changed = merge.changed_keys();
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let mut complete = feed::ItemMerge::default();
        for chunk in changed.chunks(40) {
            let keys: Vec<String> = chunk
                .iter()
                .map(|k| format!("UnformattedItemNumber eq {}", odata_string(k)))
                .collect();
            let keys = format!("({})", keys.join(" or "));
            let and = |extra: Option<&String>| match extra {
                Some(e) => format!("{keys} and {e}"),
                None => keys.clone(),
            };
            let price_keys = and(price_filter.as_ref());
            let location_keys = and(location_filter.as_ref());
            let (items, prices, quantities) = futures::try_join!(
                self.feed(
                    "IC/ICItems",
                    Some(&keys),
                    "UnformattedItemNumber,ItemNumber,Description,DateLastMaintained",
                ),
                async {
                    match price_filter.as_ref() {
                        Some(_) => {
                            self.feed(
                                "IC/ICItemPricing",
                                Some(&price_keys),
                                "UnformattedItemNumber,ItemNumber,CurrencyCode,PriceListCode,DateLastMaintained,ItemPricingDetails",
                            )
                            .await
                        }
                        None => Ok(Vec::new()),
                    }
                },
                self.feed(
                    "IC/ICItemLocations",
                    Some(&location_keys),
                    "UnformattedItemNumber,ItemNumber,Location,QuantityOnHand,QuantityOnSalesOrder,DateLastMaintained",
                ),
            )?;
            complete.items(&items);
            complete.prices(&prices);
            complete.quantities(&quantities);
        }
        Ok(complete.finish(price_list.is_some()))
    }
}

/// A decimal from a JSON number or string.
fn decimal_of(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Decimal::from(i))
            } else {
                n.as_f64()
                    .and_then(|f| f.to_string().parse::<Decimal>().ok())
            }
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
