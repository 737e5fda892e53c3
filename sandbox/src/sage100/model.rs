//! The eBWS data contracts (facts §3.1): `Customer`, `SalesOrder` and
//! `SalesOrderLine`, with the AR_Customer / SO_SalesOrder column names and
//! lengths the facts list (UNVERIFIED against a real WSDL, so the names are
//! the BOI's). One table per contract drives the WSDL schema, the XML read
//! and written, and the length checks.

use serde_json::{Map, Value};

use super::xml::{esc, Element};

/// A record: field name to value (strings, numbers, and `Lines` as an array
/// of records).
pub type Record = Map<String, Value>;

/// The XML Schema type of a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// `xs:string` of at most this many characters (the column length).
    Str(usize),
    /// `xs:decimal`.
    Decimal,
    /// `xs:dateTime`.
    DateTime,
    /// The order's lines (`ArrayOfSalesOrderLine`).
    Lines,
}

/// One field of a contract.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The element name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Set by Sage; ignored on input.
    pub read_only: bool,
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        read_only: false,
    }
}

const fn ro(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        read_only: true,
    }
}

use Kind::{DateTime, Decimal, Lines, Str};

/// `Customer` (AR_Customer; lengths from facts §3.1 [MBABSI]).
pub const CUSTOMER: &[Field] = &[
    f("ARDivisionNo", Str(2)),
    f("CustomerNo", Str(20)),
    f("CustomerName", Str(30)),
    f("AddressLine1", Str(30)),
    f("AddressLine2", Str(30)),
    f("AddressLine3", Str(30)),
    f("City", Str(20)),
    f("State", Str(2)),
    f("ZipCode", Str(10)),
    f("CountryCode", Str(3)),
    f("TelephoneNo", Str(17)),
    f("EmailAddress", Str(250)),
    f("URLAddress", Str(50)),
    f("ShipMethod", Str(15)),
    f("TaxSchedule", Str(9)),
    f("TermsCode", Str(2)),
    f("SalespersonDivisionNo", Str(2)),
    f("SalespersonNo", Str(4)),
    f("PriceLevel", Str(1)),
    ro("DateCreated", DateTime),
    ro("DateUpdated", DateTime),
];

/// `SalesOrder` (SO_SalesOrder header; the BOI field names of facts §3.2).
pub const SALES_ORDER: &[Field] = &[
    f("SalesOrderNo", Str(7)),
    f("OrderDate", DateTime),
    f("OrderType", Str(1)),
    ro("OrderStatus", Str(1)),
    f("ARDivisionNo", Str(2)),
    f("CustomerNo", Str(20)),
    f("CustomerPONo", Str(15)),
    f("BillToName", Str(30)),
    f("BillToAddress1", Str(30)),
    f("BillToAddress2", Str(30)),
    f("BillToCity", Str(20)),
    f("BillToState", Str(2)),
    f("BillToZipCode", Str(10)),
    f("BillToCountryCode", Str(3)),
    f("ShipToCode", Str(4)),
    f("ShipToName", Str(30)),
    f("ShipToAddress1", Str(30)),
    f("ShipToAddress2", Str(30)),
    f("ShipToAddress3", Str(30)),
    f("ShipToCity", Str(20)),
    f("ShipToState", Str(2)),
    f("ShipToZipCode", Str(10)),
    f("ShipToCountryCode", Str(3)),
    f("ShipExpireDate", DateTime),
    f("ShipVia", Str(15)),
    f("EmailAddress", Str(250)),
    f("WarehouseCode", Str(3)),
    f("TermsCode", Str(2)),
    f("TaxSchedule", Str(9)),
    f("Comment", Str(30)),
    f("FreightAmt", Decimal),
    ro("TaxableAmt", Decimal),
    ro("NonTaxableAmt", Decimal),
    ro("SalesTaxAmt", Decimal),
    ro("DateCreated", DateTime),
    ro("DateUpdated", DateTime),
    f("Lines", Lines),
];

/// `SalesOrderLine` (SO_SalesOrderDetail; `ItemCode` first, facts §3.2).
pub const SALES_ORDER_LINE: &[Field] = &[
    ro("LineKey", Str(6)),
    f("ItemCode", Str(30)),
    f("ItemType", Str(1)),
    f("ItemCodeDesc", Str(30)),
    f("WarehouseCode", Str(3)),
    f("UnitOfMeasure", Str(4)),
    f("QuantityOrdered", Decimal),
    f("UnitPrice", Decimal),
    ro("ExtensionAmt", Decimal),
];

/// The `NullDateTime` of `GetContractInformation`: .NET's
/// `DateTime.MinValue` (decision; the facts give no value). Sent in a date
/// field it blanks the date; a blank date is written as it.
pub const NULL_DATETIME: &str = "0001-01-01T00:00:00";

/// A string field of a record ("" when absent).
pub fn text<'a>(record: &'a Record, name: &str) -> &'a str {
    record.get(name).and_then(Value::as_str).unwrap_or("")
}

/// A number field of a record (0 when absent).
pub fn number(record: &Record, name: &str) -> f64 {
    record.get(name).and_then(Value::as_f64).unwrap_or(0.0)
}

/// Rounds to cents.
pub fn money(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// A value written as `xs:dateTime` (`YYYY-MM-DDTHH:MM:SS`, no offset, as a
/// .NET `DateTime` of kind Unspecified is written) from what a client sent.
pub fn parse_datetime(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(d.naive_local().format("%Y-%m-%dT%H:%M:%S").to_string());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(d.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
    }
    for format in ["%Y-%m-%d", "%Y%m%d"] {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(text, format) {
            return Some(format!("{}T00:00:00", d.format("%Y-%m-%d")));
        }
    }
    None
}

/// What is wrong with a value a client sent.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError(pub String);

/// Reads a contract from XML: only the fields sent, read-only ones skipped.
/// Over-long strings are refused, or cut when `truncate` is on.
pub fn read(element: &Element, fields: &[Field], truncate: bool) -> Result<Record, FieldError> {
    let mut record = Record::new();
    for field in fields {
        let Some(child) = element.child(field.name) else {
            continue;
        };
        if field.read_only || child.is_nil() {
            continue;
        }
        let value = match field.kind {
            Str(max) => {
                let mut value = child.text.clone();
                if value.chars().count() > max {
                    if !truncate {
                        return Err(FieldError(format!(
                            "The {} is too long. The maximum length is {max}.",
                            field.name
                        )));
                    }
                    value = value.chars().take(max).collect();
                }
                Value::String(value)
            }
            Decimal => {
                let n: f64 = child.text.trim().parse().map_err(|_| {
                    FieldError(format!("The {} is not a valid number.", field.name))
                })?;
                Value::from(n)
            }
            DateTime => {
                let d = parse_datetime(&child.text).ok_or_else(|| {
                    FieldError(format!("The {} is not a valid date.", field.name))
                })?;
                Value::String(if d == NULL_DATETIME { String::new() } else { d })
            }
            Lines => {
                let mut lines = Vec::new();
                for line in child.children.iter().filter(|c| c.name == "SalesOrderLine") {
                    lines.push(Value::Object(read(line, SALES_ORDER_LINE, truncate)?));
                }
                Value::Array(lines)
            }
        };
        record.insert(field.name.to_string(), value);
    }
    Ok(record)
}

fn decimal(n: f64) -> String {
    let text = format!("{n:.4}");
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_string()
}

/// Writes a contract's fields as child elements, in schema order (a missing
/// string is written empty, a missing number as 0, a missing date as
/// [`NULL_DATETIME`]).
pub fn write(record: &Record, fields: &[Field], out: &mut String) {
    for field in fields {
        let name = field.name;
        match field.kind {
            Str(_) => out.push_str(&format!("<{name}>{}</{name}>", esc(text(record, name)))),
            Decimal => out.push_str(&format!(
                "<{name}>{}</{name}>",
                decimal(number(record, name))
            )),
            // A blank date is written as `NullDateTime` (facts §3.1:
            // `GetContractInformation` gives the value that blanks a date).
            DateTime => {
                let d = record
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|d| !d.is_empty())
                    .unwrap_or(NULL_DATETIME);
                out.push_str(&format!("<{name}>{}</{name}>", esc(d)))
            }
            Lines => {
                out.push_str("<Lines>");
                for line in record
                    .get(name)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(line) = line.as_object() {
                        out.push_str("<SalesOrderLine>");
                        write(line, SALES_ORDER_LINE, out);
                        out.push_str("</SalesOrderLine>");
                    }
                }
                out.push_str("</Lines>");
            }
        }
    }
}
