//! Request bodies, with properties in the order Sage puts them to its views
//! (facts §1.4: property order matters), so they are built as ordered lists
//! rather than maps.

use mlc_domain::mapping::{ErpCreditNote, ErpCustomer, ErpOrder, ErpOrderLine};
use mlc_domain::model::Address;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{invalid, MiscellaneousCharges};
use crate::ConnectorError;

/// A string as an OData literal: in single quotes, a quote doubled.
pub fn odata_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A JSON object whose properties keep their order.
#[derive(Debug, Default, Clone)]
pub(super) struct Body(Vec<(String, Field)>);

#[derive(Debug, Clone)]
enum Field {
    Value(Value),
    Rows(Vec<Body>),
}

impl Body {
    fn put(&mut self, name: &str, value: impl Into<Value>) {
        self.0.push((name.to_owned(), Field::Value(value.into())));
    }

    fn put_text(&mut self, name: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.put(name, truncate(name, v, max));
        }
    }

    fn rows(&mut self, name: &str, rows: Vec<Body>) {
        self.0.push((name.to_owned(), Field::Rows(rows)));
    }

    /// The body as sent.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing strings, numbers and booleans cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The body as a JSON value (for previews; a map does not keep order).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Value(v) => v.serialize(s),
            Field::Rows(rows) => {
                let mut seq = s.serialize_seq(Some(rows.len()))?;
                for r in rows {
                    seq.serialize_element(r)?;
                }
                seq.end()
            }
        }
    }
}

/// Text cut to a Sage field's length, with a warning (names and addresses
/// should not block a document).
fn truncate(field: &str, text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    tracing::warn!(field, max, "value cut to the field's length");
    text.chars().take(max).collect()
}

/// An amount or quantity as a JSON number (Sage's decimals are numbers).
fn number(field: &str, d: Decimal) -> Result<Value, ConnectorError> {
    d.to_f64()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| invalid(format!("{field} {d} is not a representable number")))
}

/// A text that must be sent exactly (a key or our reference).
fn exact(field: &str, text: &str, max: usize) -> Result<String, ConnectorError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(invalid(format!("{field} is empty")));
    }
    if t.chars().count() > max {
        return Err(invalid(format!(
            "{field} '{t}' is longer than the {max} characters Sage 300 keeps"
        )));
    }
    Ok(t.to_owned())
}

fn customer_number(number: &str) -> Result<String, ConnectorError> {
    let n = exact("customer number", number, 12)?;
    if n.chars().any(|c| c.is_whitespace() || c.is_lowercase()) {
        return Err(invalid(format!(
            "customer number '{n}' must be upper-case without spaces"
        )));
    }
    Ok(n)
}

fn full_name(a: &Address) -> String {
    format!("{} {}", a.first_name.trim(), a.last_name.trim())
        .trim()
        .to_owned()
}

/// `POST OE/OEOrders`: header, ship-to, then the item lines at our prices
/// (`OrderUnitPrice` with `PriceOverride`, facts §1.5) and shipping as a
/// miscellaneous line when a charge code is configured.
pub(super) fn order(
    order: &ErpOrder,
    reference_field: &str,
    charges: &MiscellaneousCharges,
) -> Result<Body, ConnectorError> {
    if order.lines.is_empty() {
        return Err(invalid(format!("order {} has no lines", order.reference)));
    }
    let mut b = Body::default();
    b.put("CustomerNumber", customer_number(&order.customer_number)?);
    b.put("OrderDate", order.order_date.format("%Y-%m-%d").to_string());
    b.put(
        reference_field,
        exact("order reference", &order.reference, 60)?,
    );
    b.put(
        "OrderDescription",
        truncate(
            "OrderDescription",
            &format!("Web order {}", order.reference),
            60,
        ),
    );
    if let Some(bill) = &order.bill_to {
        let name = bill
            .company
            .clone()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| full_name(bill));
        b.put_text("BillToName", Some(&name), 60);
    }
    if let Some(ship) = &order.ship_to {
        b.put_text("ShipToName", Some(&full_name(ship)), 60);
        b.put_text("ShipToAddressLine1", Some(&ship.line1), 60);
        b.put_text("ShipToAddressLine2", ship.line2.as_deref(), 60);
        b.put_text("ShipToCity", Some(&ship.city), 30);
        b.put_text("ShipToStateProvince", ship.region.as_deref(), 30);
        b.put_text("ShipToZipPostalCode", ship.postal_code.as_deref(), 20);
        b.put_text("ShipToCountry", Some(&ship.country), 30);
    }
    b.put_text("ShipViaCode", order.ship_via.as_deref(), 6);
    b.put_text("OrderComment", order.comment.as_deref(), 250);
    let mut lines = Vec::with_capacity(order.lines.len() + 1);
    for (i, line) in order.lines.iter().enumerate() {
        lines.push(order_line(i, line)?);
    }
    if let Some(code) = charges.shipping.as_deref() {
        if order.shipping_total > Decimal::ZERO {
            let mut l = Body::default();
            l.put("LineType", "Miscellaneous");
            l.put("MiscellaneousChargesCode", code);
            l.put("ExtendedAmount", number("shipping", order.shipping_total)?);
            lines.push(l);
        }
    }
    b.rows("OrderDetails", lines);
    Ok(b)
}

fn order_line(i: usize, line: &ErpOrderLine) -> Result<Body, ConnectorError> {
    if line.quantity <= Decimal::ZERO {
        return Err(invalid(format!(
            "line {} ({}) has quantity {}",
            i + 1,
            line.item_number,
            line.quantity
        )));
    }
    let mut l = Body::default();
    l.put("LineType", "Item");
    l.put("Item", exact("item number", &line.item_number, 24)?);
    l.put("QuantityOrdered", number("quantity", line.quantity)?);
    l.put("OrderUnitPrice", number("unit price", line.unit_price)?);
    l.put("PriceOverride", true);
    Ok(l)
}

/// `POST`/`PATCH AR/ARCustomers`: the number only on create (it is the key).
pub(super) fn customer(c: &ErpCustomer, create: bool) -> Result<Body, ConnectorError> {
    let mut b = Body::default();
    let number = customer_number(&c.number)?;
    if create {
        b.put("CustomerNumber", number);
    }
    b.put_text("CustomerName", Some(&c.name), 60);
    b.put_text("GroupCode", c.group.as_deref(), 6);
    if let Some(a) = &c.address {
        b.put_text("AddressLine1", Some(&a.line1), 60);
        b.put_text("AddressLine2", a.line2.as_deref(), 60);
        b.put_text("City", Some(&a.city), 30);
        b.put_text("StateProvince", a.region.as_deref(), 30);
        b.put_text("ZipPostalCode", a.postal_code.as_deref(), 20);
        b.put_text("Country", Some(&a.country), 30);
    }
    let phone = c
        .phone
        .as_deref()
        .or_else(|| c.address.as_ref().and_then(|a| a.phone.as_deref()));
    b.put_text("PhoneNumber", phone, 30);
    b.put_text("ContactName", c.contact.as_deref(), 60);
    b.put_text("Email", c.email.as_ref().map(|e| e.as_str()), 50);
    Ok(b)
}

/// `POST OE/OECreditDebitNotes`: item lines returned at their price, or,
/// for an amount-only refund, one miscellaneous line (needs a charge code).
pub(super) fn credit_note(
    note: &ErpCreditNote,
    charges: &MiscellaneousCharges,
) -> Result<Body, ConnectorError> {
    let mut b = Body::default();
    b.put("CustomerNumber", customer_number(&note.customer_number)?);
    b.put(
        "Reference",
        exact("credit note reference", &note.reference, 60)?,
    );
    let description = match note
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(reason) => format!("Order {}: {reason}", note.order_number),
        None => format!("Refund of order {}", note.order_number),
    };
    b.put_text("Description", Some(&description), 60);
    b.put(
        "CreditDebitNoteDate",
        note.date.format("%Y-%m-%d").to_string(),
    );
    b.put("CreditDebitNoteType", "CreditNote");
    let mut lines = Vec::new();
    for (i, line) in note.lines.iter().enumerate() {
        if line.quantity < Decimal::ZERO {
            return Err(invalid(format!(
                "credit line {} ({}) has a negative quantity",
                i + 1,
                line.item_number
            )));
        }
        let mut l = Body::default();
        l.put("LineType", "Item");
        l.put("Item", exact("item number", &line.item_number, 24)?);
        l.put("QuantityReturned", number("quantity", line.quantity)?);
        l.put("UnitPrice", number("unit price", line.unit_price)?);
        lines.push(l);
    }
    if lines.is_empty() {
        let Some(code) = charges.refund.as_deref() else {
            return Err(invalid(format!(
                "credit note {} has no item lines and no miscellaneous charge code \
                 is configured for amount-only refunds",
                note.reference
            )));
        };
        let mut l = Body::default();
        l.put("LineType", "Miscellaneous");
        l.put("MiscellaneousChargesCode", code);
        l.put(
            "ExtendedAmountMiscellaneousCharge",
            number("amount", note.amount)?,
        );
        lines.push(l);
    }
    b.rows("CreditDebitDetails", lines);
    Ok(b)
}
