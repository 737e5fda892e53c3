//! WooCommerce webhook deliveries: signature check, ping detection and the
//! decoding of order and customer payloads into the canonical model.
//!
//! A delivery's body is exactly the REST representation of the resource
//! (`GET /wp-json/wc/v3/orders/{id}`), so [`parse_order`] also decodes what
//! the REST client reads. Decoding uses typed, borrowing serde structs: it
//! runs on the webhook hot path. When a body does not decode, it is decoded a
//! second time with path tracking so the error names the field; the fast
//! path pays nothing for that.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use mlc_domain::model::{
    Address, CurrencyCode, Customer, Email, Money, Order, OrderLine, OrderStatus, Sku,
};
use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use sha2::Sha256;

/// The header carrying a delivery's signature.
pub const SIGNATURE_HEADER: &str = "X-WC-Webhook-Signature";

/// Why a delivery's signature was refused. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature header was absent or empty.
    #[error("the X-WC-Webhook-Signature header is missing")]
    Missing,
    /// The header is not base64.
    #[error("the X-WC-Webhook-Signature header is not base64")]
    NotBase64,
    /// The header is base64 but not the HMAC-SHA256 of the body with the secret.
    #[error("the X-WC-Webhook-Signature does not match the body")]
    Mismatch,
    /// No secret is configured, so nothing can be verified.
    #[error("no webhook secret is configured")]
    NoSecret,
}

/// Checks `signature_header` (the `X-WC-Webhook-Signature` value) against
/// base64(HMAC-SHA256(secret, body)), over the raw bytes as received, in
/// constant time.
///
/// WooCommerce HTML-entity-decodes the secret before signing (`&amp;` ->
/// `&`); pass the secret as it was registered, which for secrets we generate
/// (alphanumeric) is the same.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    signature_header: &str,
) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let sig = signature_header.trim();
    if sig.is_empty() {
        return Err(SignatureError::Missing);
    }
    let expected = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .map_err(|_| SignatureError::NotBase64)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SignatureError::NoSecret)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// base64(HMAC-SHA256(secret, body)): the signature WooCommerce sends, for
/// tests and for simulating deliveries.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The webhook id of WooCommerce's unsigned ping (form body `webhook_id=N`,
/// sent when a webhook is created), or `None` when `body` is not a ping.
pub fn is_ping(body: &[u8]) -> Option<u64> {
    let body = std::str::from_utf8(body).ok()?.trim();
    let rest = body.strip_prefix("webhook_id=")?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// Why a webhook (or REST) payload could not be decoded; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookParseError {
    /// The body is not JSON of the expected shape.
    #[error("{what}: {field}: {detail}")]
    Json {
        /// "order" or "customer".
        what: &'static str,
        /// The JSON path of the offending field (`.` when the body itself).
        field: String,
        /// What serde said.
        detail: String,
    },
    /// A field holds a value the canonical model refuses.
    #[error("{what} {id}: field {field}: {detail}")]
    Field {
        /// "order" or "customer".
        what: &'static str,
        /// The resource id, for locating it in the store.
        id: u64,
        /// The field, e.g. `line_items[2].sku` or `total`.
        field: String,
        /// What is wrong.
        detail: String,
    },
}

// ---------------------------------------------------------------------------
// Wire structs: the fields we read, borrowed from the body where possible.

type Text<'a> = Cow<'a, str>;

#[derive(Deserialize)]
struct WireOrder<'a> {
    id: u64,
    #[serde(borrow, deserialize_with = "string_or_number")]
    number: Text<'a>,
    #[serde(borrow)]
    status: Text<'a>,
    #[serde(borrow)]
    currency: Text<'a>,
    #[serde(borrow, default)]
    date_created_gmt: Option<Text<'a>>,
    #[serde(borrow, default)]
    date_modified_gmt: Option<Text<'a>>,
    #[serde(borrow, default)]
    discount_total: Option<Text<'a>>,
    #[serde(borrow, default)]
    shipping_total: Option<Text<'a>>,
    #[serde(borrow, default)]
    total_tax: Option<Text<'a>>,
    #[serde(borrow)]
    total: Text<'a>,
    #[serde(default)]
    customer_id: u64,
    #[serde(borrow, default)]
    customer_note: Option<Text<'a>>,
    #[serde(borrow, default)]
    billing: Option<WireAddress<'a>>,
    #[serde(borrow, default)]
    shipping: Option<WireAddress<'a>>,
    #[serde(borrow, default)]
    payment_method: Option<Text<'a>>,
    #[serde(borrow, default)]
    line_items: Vec<WireLine<'a>>,
    #[serde(default)]
    refunds: Vec<WireRefundRef>,
}

/// An entry of an order's `refunds` list: `{id, reason, total}`.
#[derive(Deserialize)]
struct WireRefundRef {
    id: u64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireAddress<'a> {
    #[serde(borrow)]
    first_name: Option<Text<'a>>,
    #[serde(borrow)]
    last_name: Option<Text<'a>>,
    #[serde(borrow)]
    company: Option<Text<'a>>,
    #[serde(borrow)]
    address_1: Option<Text<'a>>,
    #[serde(borrow)]
    address_2: Option<Text<'a>>,
    #[serde(borrow)]
    city: Option<Text<'a>>,
    #[serde(borrow)]
    state: Option<Text<'a>>,
    #[serde(borrow)]
    postcode: Option<Text<'a>>,
    #[serde(borrow)]
    country: Option<Text<'a>>,
    #[serde(borrow)]
    email: Option<Text<'a>>,
    #[serde(borrow)]
    phone: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct WireLine<'a> {
    id: u64,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(deserialize_with = "decimal_any")]
    quantity: Decimal,
    #[serde(borrow)]
    subtotal: Text<'a>,
    #[serde(borrow, default)]
    total_tax: Option<Text<'a>>,
    #[serde(borrow, default)]
    sku: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct WireCustomer<'a> {
    id: u64,
    #[serde(borrow, default)]
    email: Option<Text<'a>>,
    #[serde(borrow, default)]
    first_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    last_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    role: Option<Text<'a>>,
    #[serde(borrow, default)]
    billing: Option<WireAddress<'a>>,
    #[serde(borrow, default)]
    shipping: Option<WireAddress<'a>>,
}

/// A string, or a number written as a string (order numbers from plugins).
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or an integer")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }
    }
    d.deserialize_any(V)
}

/// A JSON number or decimal string as an exact decimal (quantities are
/// integers in WooCommerce, decimals with some plugins).
fn decimal_any<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number or a decimal string")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            // Through the shortest decimal text, so 1.1 stays 1.1.
            Decimal::from_str(&v.to_string()).map_err(E::custom)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            Decimal::from_str(v.trim()).map_err(E::custom)
        }
    }
    d.deserialize_any(V)
}

// ---------------------------------------------------------------------------
// Conversion.

struct Ctx {
    what: &'static str,
    id: u64,
}

impl Ctx {
    fn err(&self, field: impl Into<String>, detail: impl fmt::Display) -> WebhookParseError {
        WebhookParseError::Field {
            what: self.what,
            id: self.id,
            field: field.into(),
            detail: detail.to_string(),
        }
    }

    fn decimal(&self, field: &str, v: Option<&Text<'_>>) -> Result<Decimal, WebhookParseError> {
        match v.map(|s| s.trim()) {
            None | Some("") => Ok(Decimal::ZERO),
            Some(s) => Decimal::from_str(s)
                .map_err(|e| self.err(field, format!("'{s}' is not a decimal amount: {e}"))),
        }
    }

    fn date(&self, field: &str, v: Option<&Text<'_>>) -> Result<DateTime<Utc>, WebhookParseError> {
        let Some(s) = v.map(|s| s.trim()).filter(|s| !s.is_empty()) else {
            return Err(self.err(field, "is missing"));
        };
        parse_gmt(s).ok_or_else(|| {
            self.err(
                field,
                format!("'{s}' is not a date (expected YYYY-MM-DDTHH:MM:SS, UTC)"),
            )
        })
    }
}

/// A `*_gmt` date: ISO-8601 without offset, meaning UTC; an explicit offset
/// is accepted too.
fn parse_gmt(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(naive) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(naive.and_utc());
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(naive.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn non_empty(v: &Option<Text<'_>>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn text(v: &Option<Text<'_>>) -> String {
    v.as_deref().map(str::trim).unwrap_or_default().to_owned()
}

fn status(s: &str) -> OrderStatus {
    match s {
        "pending" => OrderStatus::Pending,
        "processing" => OrderStatus::Processing,
        "on-hold" => OrderStatus::OnHold,
        "completed" => OrderStatus::Completed,
        "cancelled" => OrderStatus::Cancelled,
        "refunded" => OrderStatus::Refunded,
        "failed" => OrderStatus::Failed,
        other => OrderStatus::Other(other.to_owned()),
    }
}

impl WireAddress<'_> {
    /// `None` when the address has no street, city or country at all (a
    /// store that does not ask for a shipping address sends empty strings).
    fn to_address(&self) -> Option<Address> {
        let line1 = text(&self.address_1);
        let city = text(&self.city);
        let country = text(&self.country);
        if line1.is_empty() && city.is_empty() && country.is_empty() {
            return None;
        }
        Some(Address {
            first_name: text(&self.first_name),
            last_name: text(&self.last_name),
            company: non_empty(&self.company),
            line1,
            line2: non_empty(&self.address_2),
            city,
            region: non_empty(&self.state),
            postal_code: non_empty(&self.postcode),
            country,
            phone: non_empty(&self.phone),
        })
    }
}

fn email(ctx: &Ctx, field: &str, v: &Option<Text<'_>>) -> Result<Option<Email>, WebhookParseError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Email::new(s)
            .map(Some)
            .map_err(|e| ctx.err(field, e.problem())),
    }
}

/// Decodes `body` with serde; on failure decodes it again with path tracking
/// so the error names the field.
fn decode<'a, T: Deserialize<'a>>(
    what: &'static str,
    body: &'a [u8],
) -> Result<T, WebhookParseError> {
    match serde_json::from_slice::<T>(body) {
        Ok(v) => Ok(v),
        Err(first) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let (field, detail) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => (e.path().to_string(), e.into_inner().to_string()),
                Ok(_) => (".".to_owned(), first.to_string()),
            };
            Err(WebhookParseError::Json {
                what,
                field,
                detail,
            })
        }
    }
}

/// Decodes a WooCommerce order (a webhook delivery's body or a
/// `GET orders/{id}` answer) into the canonical [`Order`].
///
/// Line totals are WooCommerce's `subtotal` (before the order-level
/// discount), the unit price `subtotal / quantity`, the line tax its
/// `total_tax`; a line without SKU is an error naming the line.
pub fn parse_order(body: &[u8]) -> Result<Order, WebhookParseError> {
    let w: WireOrder<'_> = decode("order", body)?;
    order_from_wire(&w)
}

fn order_from_wire(w: &WireOrder<'_>) -> Result<Order, WebhookParseError> {
    let ctx = Ctx {
        what: "order",
        id: w.id,
    };
    let currency = CurrencyCode::new(w.currency.trim()).map_err(|e| ctx.err("currency", e))?;
    let money = |amount: Decimal| Money::new(amount, currency.clone());
    let mut lines = Vec::with_capacity(w.line_items.len());
    for (i, l) in w.line_items.iter().enumerate() {
        let field = |name: &str| format!("line_items[{i}].{name}");
        let sku_text = l.sku.as_deref().map(str::trim).unwrap_or_default();
        if sku_text.is_empty() {
            return Err(ctx.err(
                field("sku"),
                format!(
                    "line {} ('{}') has no SKU",
                    l.id,
                    l.name.as_deref().unwrap_or_default()
                ),
            ));
        }
        let sku = Sku::new(sku_text).map_err(|e| ctx.err(field("sku"), e.problem()))?;
        let subtotal = ctx.decimal(&field("subtotal"), Some(&l.subtotal))?;
        let tax = ctx.decimal(&field("total_tax"), l.total_tax.as_ref())?;
        let unit = if l.quantity.is_zero() {
            Decimal::ZERO
        } else {
            (subtotal / l.quantity).round_dp(4).normalize()
        };
        lines.push(OrderLine {
            line_id: l.id.to_string(),
            sku,
            name: text(&l.name),
            quantity: l.quantity,
            unit_price: money(unit),
            tax: money(tax),
            total: money(subtotal),
        });
    }
    let billing = w.billing.as_ref();
    let customer = Customer {
        source_id: (w.customer_id > 0).then(|| w.customer_id.to_string()),
        email: match billing {
            Some(b) => email(&ctx, "billing.email", &b.email)?,
            None => None,
        },
        first_name: billing.map(|b| text(&b.first_name)).unwrap_or_default(),
        last_name: billing.map(|b| text(&b.last_name)).unwrap_or_default(),
        company: billing.and_then(|b| non_empty(&b.company)),
        phone: billing.and_then(|b| non_empty(&b.phone)),
        billing_address: billing.and_then(WireAddress::to_address),
        shipping_address: w.shipping.as_ref().and_then(WireAddress::to_address),
        group: None,
    };
    Ok(Order {
        source_id: w.id.to_string(),
        number: w.number.trim().to_owned(),
        status: status(w.status.trim()),
        billing_address: customer.billing_address.clone(),
        shipping_address: customer.shipping_address.clone(),
        customer,
        lines,
        shipping_total: money(ctx.decimal("shipping_total", w.shipping_total.as_ref())?),
        tax_total: money(ctx.decimal("total_tax", w.total_tax.as_ref())?),
        discount_total: money(ctx.decimal("discount_total", w.discount_total.as_ref())?),
        grand_total: money(ctx.decimal("total", Some(&w.total))?),
        created_at: ctx.date("date_created_gmt", w.date_created_gmt.as_ref())?,
        modified_at: ctx.date("date_modified_gmt", w.date_modified_gmt.as_ref())?,
        payment_method: non_empty(&w.payment_method),
        notes: non_empty(&w.customer_note),
        refund_ids: w.refunds.iter().map(|r| r.id.to_string()).collect(),
        currency,
    })
}

/// Decodes a WooCommerce customer (a `customer.*` delivery or a
/// `GET customers/{id}` answer) into the canonical [`Customer`]. The e-mail
/// is the customer's own, else the billing one; names likewise; the role
/// becomes the group.
pub fn parse_customer(body: &[u8]) -> Result<Customer, WebhookParseError> {
    let w: WireCustomer<'_> = decode("customer", body)?;
    let ctx = Ctx {
        what: "customer",
        id: w.id,
    };
    let billing = w.billing.as_ref();
    let email = match email(&ctx, "email", &w.email)? {
        Some(e) => Some(e),
        None => match billing {
            Some(b) => email(&ctx, "billing.email", &b.email)?,
            None => None,
        },
    };
    let pick = |own: &Option<Text<'_>>, from_billing: fn(&WireAddress<'_>) -> String| {
        let own = text(own);
        if own.is_empty() {
            billing.map(from_billing).unwrap_or_default()
        } else {
            own
        }
    };
    Ok(Customer {
        source_id: Some(w.id.to_string()),
        email,
        first_name: pick(&w.first_name, |b| text(&b.first_name)),
        last_name: pick(&w.last_name, |b| text(&b.last_name)),
        company: billing.and_then(|b| non_empty(&b.company)),
        phone: billing.and_then(|b| non_empty(&b.phone)),
        billing_address: billing.and_then(WireAddress::to_address),
        shipping_address: w.shipping.as_ref().and_then(WireAddress::to_address),
        group: non_empty(&w.role),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documentation's `GET /orders/727` (facts §1.4), lines without SKU.
    const DOCS_ORDER: &str = include_str!("fixtures/docs_order_727.json");
    /// An order placed in the sandbox (`POST /_sandbox/woocommerce/orders`)
    /// and read back with `GET wp-json/wc/v3/orders/{id}`, bytes as served.
    const SANDBOX_ORDER: &str = include_str!("fixtures/sandbox_order.json");
    /// A sandbox customer, `GET wp-json/wc/v3/customers/{id}`.
    const SANDBOX_CUSTOMER: &str = include_str!("fixtures/sandbox_customer.json");

    fn with_skus(body: &str) -> String {
        body.replacen(r#""sku":"""#, r#""sku":"WOO-1""#, 1)
            .replacen(r#""sku":"""#, r#""sku":"SHIP-IDEA-M""#, 1)
    }

    #[test]
    fn signature_round_trips_and_is_checked_over_raw_bytes() {
        let body = DOCS_ORDER.as_bytes();
        let sig = sign(b"s3cr3t", body);
        assert_eq!(sig.len(), 44);
        verify_signature(b"s3cr3t", body, &sig).unwrap();
        verify_signature(b"s3cr3t", body, &format!(" {sig} ")).unwrap();
        assert_eq!(
            verify_signature(b"other", body, &sig),
            Err(SignatureError::Mismatch)
        );
        let mut changed = body.to_vec();
        changed[10] ^= 1;
        assert_eq!(
            verify_signature(b"s3cr3t", &changed, &sig),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"s3cr3t", body, ""),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(b"s3cr3t", body, "not base64!"),
            Err(SignatureError::NotBase64)
        );
        assert_eq!(
            verify_signature(b"", body, &sig),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn known_signature_vector() {
        // base64(HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog")).
        verify_signature(
            b"key",
            b"The quick brown fox jumps over the lazy dog",
            "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=",
        )
        .unwrap();
    }

    #[test]
    fn ping_is_recognised() {
        assert_eq!(is_ping(b"webhook_id=42"), Some(42));
        assert_eq!(is_ping(b"webhook_id=42\n"), Some(42));
        assert_eq!(is_ping(b"webhook_id="), None);
        assert_eq!(is_ping(b"webhook_id=4x"), None);
        assert_eq!(is_ping(b"{\"id\":1}"), None);
        assert_eq!(is_ping(DOCS_ORDER.as_bytes()), None);
    }

    #[test]
    fn docs_order_decodes() {
        let order = parse_order(with_skus(DOCS_ORDER).as_bytes()).unwrap();
        assert_eq!(order.source_id, "727");
        assert_eq!(order.number, "727");
        assert_eq!(order.status, OrderStatus::Processing);
        assert_eq!(order.currency.as_str(), "USD");
        assert_eq!(order.customer.source_id, None);
        assert_eq!(
            order.customer.email.as_ref().map(Email::as_str),
            Some("john.doe@example.com")
        );
        assert_eq!(order.customer.phone.as_deref(), Some("(555) 555-5555"));
        let ship = order.shipping_address.as_ref().unwrap();
        assert_eq!(ship.line1, "969 Market");
        assert_eq!(ship.region.as_deref(), Some("CA"));
        assert_eq!(ship.company, None);
        assert_eq!(order.lines.len(), 2);
        let l = &order.lines[0];
        assert_eq!(l.line_id, "315");
        assert_eq!(l.sku.as_str(), "WOO-1");
        assert_eq!(l.quantity, Decimal::from(2));
        assert_eq!(l.unit_price.amount.to_string(), "3");
        assert_eq!(l.total.amount.to_string(), "6.00");
        assert_eq!(l.tax.amount.to_string(), "0.45");
        assert_eq!(order.shipping_total.amount.to_string(), "10.00");
        assert_eq!(order.tax_total.amount.to_string(), "1.35");
        assert_eq!(order.grand_total.amount.to_string(), "29.35");
        assert_eq!(order.created_at.to_rfc3339(), "2017-03-22T19:28:02+00:00");
        assert_eq!(order.modified_at.to_rfc3339(), "2017-03-22T19:28:08+00:00");
        assert_eq!(order.payment_method.as_deref(), Some("bacs"));
        assert_eq!(order.notes, None);
        order.check_totals().unwrap();
    }

    #[test]
    fn missing_sku_names_the_line() {
        let err = parse_order(DOCS_ORDER.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "order 727: field line_items[0].sku: line 315 ('Woo Single #1') has no SKU"
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        let body = with_skus(DOCS_ORDER).replace(r#""total":"29.35""#, r#""total":"29,35""#);
        let err = parse_order(body.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("order 727: field total: '29,35'"),
            "{err}"
        );

        let body = with_skus(DOCS_ORDER).replace(r#""currency":"USD""#, r#""currency":"usd""#);
        let err = parse_order(body.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("field currency"), "{err}");

        let body = with_skus(DOCS_ORDER).replace(r#""quantity":2"#, r#""quantity":true"#);
        let err = parse_order(body.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("order: line_items[0].quantity: invalid type"),
            "{err}"
        );

        let body = with_skus(DOCS_ORDER).replace(r#""id":727,"#, "");
        let err = parse_order(body.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");

        let body = with_skus(DOCS_ORDER).replace(
            r#""date_modified_gmt":"2017-03-22T19:28:08""#,
            r#""date_modified_gmt":"yesterday""#,
        );
        let err = parse_order(body.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("field date_modified_gmt"), "{err}");

        let err = parse_order(b"webhook_id=1").unwrap_err();
        assert!(matches!(err, WebhookParseError::Json { .. }), "{err}");
    }

    #[test]
    fn unknown_status_is_kept() {
        let body =
            with_skus(DOCS_ORDER).replace(r#""status":"processing""#, r#""status":"on-hold""#);
        assert_eq!(
            parse_order(body.as_bytes()).unwrap().status,
            OrderStatus::OnHold
        );
        let body = with_skus(DOCS_ORDER)
            .replace(r#""status":"processing""#, r#""status":"ready-for-pickup""#);
        assert_eq!(
            parse_order(body.as_bytes()).unwrap().status,
            OrderStatus::Other("ready-for-pickup".into())
        );
    }

    #[test]
    fn sandbox_order_decodes_and_adds_up() {
        let order = parse_order(SANDBOX_ORDER.as_bytes()).unwrap();
        let raw: serde_json::Value = serde_json::from_str(SANDBOX_ORDER).unwrap();
        assert_eq!(order.source_id, raw["id"].to_string());
        assert_eq!(
            order.lines.len(),
            raw["line_items"].as_array().unwrap().len()
        );
        for (line, raw) in order
            .lines
            .iter()
            .zip(raw["line_items"].as_array().unwrap())
        {
            assert_eq!(line.sku.as_str(), raw["sku"].as_str().unwrap());
        }
        assert_eq!(
            order.grand_total.amount.to_string(),
            raw["total"].as_str().unwrap()
        );
        order.check_totals().unwrap();
    }

    #[test]
    fn sandbox_customer_decodes() {
        let customer = parse_customer(SANDBOX_CUSTOMER.as_bytes()).unwrap();
        let raw: serde_json::Value = serde_json::from_str(SANDBOX_CUSTOMER).unwrap();
        assert_eq!(customer.source_id, Some(raw["id"].to_string()));
        assert_eq!(
            customer.email.as_ref().map(Email::as_str),
            raw["email"].as_str()
        );
        assert_eq!(customer.first_name, raw["first_name"].as_str().unwrap());
        assert_eq!(customer.group.as_deref(), Some("customer"));
    }

    #[test]
    fn customer_falls_back_to_billing() {
        let body = br#"{"id":5,"email":"","first_name":"","last_name":"",
            "billing":{"first_name":"Ann","last_name":"Lee","email":"ANN@Example.com",
            "address_1":"1 Main","city":"Quebec","country":"CA","state":"QC","postcode":"G1A 1A1"},
            "shipping":{"first_name":"","last_name":"","address_1":"","city":"","country":""}}"#;
        let c = parse_customer(body).unwrap();
        assert_eq!(c.email.unwrap().as_str(), "ann@example.com");
        assert_eq!(c.first_name, "Ann");
        assert_eq!(
            c.billing_address.unwrap().postal_code.as_deref(),
            Some("G1A 1A1")
        );
        assert_eq!(c.shipping_address, None);
    }
}

#[cfg(test)]
mod throughput {
    /// `cargo test -p mlc-connectors --release --lib throughput -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn parses_and_verifies_fast() {
        let body = include_bytes!("fixtures/sandbox_order.json");
        let sig = super::sign(b"secret", body);
        let n = 20_000;
        let started = std::time::Instant::now();
        for _ in 0..n {
            super::verify_signature(b"secret", body, &sig).unwrap();
            super::parse_order(body).unwrap();
        }
        let per_sec = n as f64 / started.elapsed().as_secs_f64();
        println!("{per_sec:.0} verified and parsed orders per second");
    }
}
