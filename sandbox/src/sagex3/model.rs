//! The folder's records, and how each is shown: in api1 with X3's field
//! codes (facts §2.1: `BPCNUM`, `BPCNAM`, `SOHNUM`, `SOHSOP[]`, `ITMREF`,
//! `CREDATTIM`; the others are the standard X3 column names, a decision
//! where the facts are silent) and in GraphQL with camelCase node fields
//! (facts §2.2: `code`, `isActive`, `soldToCustomer`, `orderDate`,
//! `lines { edges { node { lineNumber product { code } ... } } }`,
//! `grossPrice`, `quantityInSalesUnitOrdered`).
//!
//! Decisions: decimals are JSON numbers in api1 and strings in GraphQL
//! (facts §2.2: "Decimals are sent as strings"); dates are `YYYY-MM-DD`,
//! timestamps `YYYY-MM-DDTHH:MM:SSZ`; no tax is computed (the
//! tax-inclusive totals equal the net ones).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// A timestamp as X3 writes it (`$etag` example `"2015-08-18T08:14:25Z"`).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A decimal as GraphQL writes it: a string.
pub fn dec(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0');
    let text = text.strip_suffix('.').unwrap_or(text);
    text.to_string()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A customer (BPCUSTOMER) with its default address.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// `BPCNUM`.
    pub code: String,
    /// `BPCNAM`.
    pub name: String,
    /// `BPCSHO`.
    pub short_name: String,
    /// `BCGCOD`, the customer category.
    pub category: String,
    /// `CUR`.
    pub currency: String,
    /// `BPCSTA` (local menu: 2 = active, 1 = inactive).
    pub active: bool,
    /// `BPAADD`, the default address code.
    pub address_code: String,
    /// `BPAADDLIG`, three address lines.
    pub address_lines: [String; 3],
    /// `CTY`.
    pub city: String,
    /// `POSCOD`.
    pub zip: String,
    /// `SAT`, state or region.
    pub region: String,
    /// `CRY`.
    pub country: String,
    /// `TEL`.
    pub phone: String,
    /// `WEB`, the address's e-mail.
    pub email: String,
    /// `CREDATTIM`.
    pub created: DateTime<Utc>,
    /// `UPDDATTIM`.
    pub updated: DateTime<Utc>,
}

impl Customer {
    /// The api1 representation `BPCUSTOMER`.
    pub fn api1(&self) -> Value {
        json!({
            "BPCNUM": self.code,
            "BPCNAM": self.name,
            "BPCSHO": self.short_name,
            "BCGCOD": self.category,
            "CUR": self.currency,
            "BPCSTA": if self.active { 2 } else { 1 },
            "BPAADD": self.address_code,
            "BPAADDLIG": self.address_lines,
            "CTY": self.city,
            "POSCOD": self.zip,
            "SAT": self.region,
            "CRY": self.country,
            "TEL": self.phone,
            "WEB": self.email,
            "CREDATTIM": stamp(self.created),
            "UPDDATTIM": stamp(self.updated),
        })
    }

    /// The GraphQL `customer` node (`businessPartner` shows the same code,
    /// name and flags).
    pub fn node(&self, delta: &str) -> Value {
        let mut v = json!({
            "__typename": "Customer",
            "_id": self.code,
            "code": self.code,
            "companyName": self.name,
            "shortCompanyName": self.short_name,
            "isActive": self.active,
            "category": { "__typename": "CustomerCategory", "code": self.category },
            "currency": { "__typename": "Currency", "code": self.currency },
            "country": { "__typename": "Country", "code": self.country },
            "defaultAddress": {
                "__typename": "Address",
                "code": self.address_code,
                "addressLine1": self.address_lines[0],
                "addressLine2": self.address_lines[1],
                "addressLine3": self.address_lines[2],
                "city": self.city,
                "zip": self.zip,
                "region": self.region,
                "country": { "__typename": "Country", "code": self.country },
                "countryName": country_name(&self.country),
                "email": self.email,
                "phoneNumber": self.phone,
            },
            "_createStamp": stamp(self.created),
        });
        v[delta] = stamp(self.updated).into();
        v
    }
}

/// The country names the demo uses.
pub fn country_name(code: &str) -> &'static str {
    match code {
        "US" => "United States",
        "CA" => "Canada",
        "FR" => "France",
        "DE" => "Deutschland",
        "GB" => "United Kingdom",
        _ => "",
    }
}

/// A product (ITMMASTER) with its base sales price.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// `ITMREF`, e.g. `A1-100/0`.
    pub code: String,
    /// `ITMDES1`.
    pub description: String,
    /// `TCLCOD`, the product category.
    pub category: String,
    /// `STU`, the stock unit (also the sales unit).
    pub unit: String,
    /// `ITMSTA` (1 = active).
    pub active: bool,
    /// `BASPRI`, the base sales price in the folder currency.
    pub price: f64,
    /// `ITMWEI`, kg.
    pub weight: f64,
    /// `EANCOD`.
    pub ean: String,
    /// `CREDATTIM`.
    pub created: DateTime<Utc>,
    /// `UPDDATTIM`: bumped by a price change.
    pub updated: DateTime<Utc>,
}

impl Item {
    /// The api1 representation `ITMMASTER`.
    pub fn api1(&self, currency: &str) -> Value {
        json!({
            "ITMREF": self.code,
            "ITMDES1": self.description,
            "TCLCOD": self.category,
            "STU": self.unit,
            "SAU": self.unit,
            "ITMSTA": if self.active { 1 } else { 6 },
            "BASPRI": self.price,
            "CUR": currency,
            "ITMWEI": self.weight,
            "EANCOD": self.ean,
            "CREDATTIM": stamp(self.created),
            "UPDDATTIM": stamp(self.updated),
        })
    }

    /// The GraphQL `product` node (node name UNVERIFIED, facts §2.2).
    pub fn node(&self, delta: &str, currency: &str) -> Value {
        let mut v = json!({
            "__typename": "Product",
            "_id": self.code,
            "code": self.code,
            "description1": self.description,
            "isActive": self.active,
            "productCategory": { "__typename": "ProductCategory", "code": self.category },
            "stockUnit": { "__typename": "UnitOfMeasure", "code": self.unit },
            "salesUnit": { "__typename": "UnitOfMeasure", "code": self.unit },
            "basePrice": dec(self.price),
            "currency": { "__typename": "Currency", "code": currency },
            "weight": dec(self.weight),
            "eanCode": self.ean,
            "_createStamp": stamp(self.created),
        });
        v[delta] = stamp(self.updated).into();
        v
    }
}

/// Stock of a product at a site (ITMMVT).
#[derive(Debug, Clone, PartialEq)]
pub struct Stock {
    /// `ITMREF`.
    pub item: String,
    /// `STOFCY`, the stock site.
    pub site: String,
    /// `PHYSTO`, physical stock.
    pub physical: f64,
    /// `ALLSTO`, allocated to orders.
    pub allocated: f64,
    /// `UPDDATTIM`: bumped by a stock change.
    pub updated: DateTime<Utc>,
}

impl Stock {
    /// The record key, `ITMREF~STOFCY` (composite keys joined by `~`, facts
    /// §2.1 [X3-DET]).
    pub fn key(&self) -> String {
        format!("{}~{}", self.item, self.site)
    }

    /// The api1 representation `ITMMVT`.
    pub fn api1(&self) -> Value {
        json!({
            "ITMREF": self.item,
            "STOFCY": self.site,
            "PHYSTO": self.physical,
            "ALLSTO": self.allocated,
            "AVAILSTO": self.physical - self.allocated,
            "UPDDATTIM": stamp(self.updated),
        })
    }

    /// The GraphQL `stock` node (name UNVERIFIED, facts §2.2).
    pub fn node(&self, delta: &str) -> Value {
        let mut v = json!({
            "__typename": "Stock",
            "_id": self.key(),
            "product": { "__typename": "Product", "code": self.item },
            "stockSite": { "__typename": "Site", "code": self.site },
            "physicalStock": dec(self.physical),
            "allocatedStock": dec(self.allocated),
            "availableStock": dec(self.physical - self.allocated),
        });
        v[delta] = stamp(self.updated).into();
        v
    }
}

/// A sales order or invoice line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// `SOPLIN` / `SIDLIN` (1000, 2000, ...).
    pub number: i64,
    /// `ITMREF`.
    pub item: String,
    /// `ITMDES`.
    pub description: String,
    /// `QTY`.
    pub quantity: f64,
    /// `SAU`.
    pub unit: String,
    /// `GROPRI`.
    pub gross_price: f64,
    /// `NETPRI` (no discounts: equal to the gross price).
    pub net_price: f64,
}

impl Line {
    fn amount(&self) -> f64 {
        round2(self.quantity * self.net_price)
    }
}

/// A sales order (SORDER, representation SOH).
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// `SOHNUM`.
    pub number: String,
    /// `SOHTYP` (`SON`).
    pub order_type: String,
    /// `SALFCY`.
    pub site: String,
    /// `BPCORD`, the sold-to customer.
    pub customer: String,
    /// `ORDDAT`.
    pub date: String,
    /// `CUR`.
    pub currency: String,
    /// `CUSORDREF`, the customer's order reference.
    pub reference: String,
    /// `SOHSOP[]`.
    pub lines: Vec<Line>,
    /// `CREDATTIM`.
    pub created: DateTime<Utc>,
    /// `UPDDATTIM`.
    pub updated: DateTime<Utc>,
}

impl Order {
    /// `ORDNOT`.
    pub fn total(&self) -> f64 {
        round2(self.lines.iter().map(Line::amount).sum())
    }

    /// The api1 representation `SOH` (the `$query` facet leaves out the lines).
    pub fn api1(&self, details: bool) -> Value {
        let mut v = json!({
            "SOHNUM": self.number,
            "SOHTYP": self.order_type,
            "SALFCY": self.site,
            "BPCORD": self.customer,
            "ORDDAT": self.date,
            "CUR": self.currency,
            "CUSORDREF": self.reference,
            "ORDNOT": self.total(),
            "ORDATI": self.total(),
            "CREDATTIM": stamp(self.created),
            "UPDDATTIM": stamp(self.updated),
        });
        if details {
            v["SOHSOP"] = self
                .lines
                .iter()
                .map(|l| {
                    json!({
                        "SOPLIN": l.number, "ITMREF": l.item, "ITMDES": l.description,
                        "QTY": l.quantity, "SAU": l.unit, "GROPRI": l.gross_price,
                        "NETPRI": l.net_price, "LINAMT": l.amount(),
                    })
                })
                .collect();
        }
        v
    }

    /// The GraphQL `salesOrder` node.
    pub fn node(&self, delta: &str, customer: Option<&Customer>) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                json!({ "cursor": format!("[{}]#{}", l.number, i), "node": {
                    "__typename": "SalesOrderLine",
                    "_id": format!("{}~{}", self.number, l.number),
                    "lineNumber": l.number,
                    "sequenceNumber": i + 1,
                    "product": { "__typename": "Product", "code": l.item, "description1": l.description },
                    "salesUnit": { "__typename": "UnitOfMeasure", "code": l.unit },
                    "quantityInSalesUnitOrdered": dec(l.quantity),
                    "grossPrice": dec(l.gross_price),
                    "netPrice": dec(l.net_price),
                    "lineAmountExcludingTax": dec(l.amount()),
                }})
            })
            .collect();
        let mut v = json!({
            "__typename": "SalesOrder",
            "_id": self.number,
            "id": self.number,
            "orderType": self.order_type,
            "category": "normal",
            "salesSite": { "__typename": "Site", "code": self.site },
            "soldToCustomer": customer_ref(&self.customer, customer, delta),
            "orderDate": self.date,
            "currency": { "__typename": "Currency", "code": self.currency },
            "customerOrderReference": self.reference,
            "totalAmountExcludingTax": dec(self.total()),
            "totalAmountIncludingTax": dec(self.total()),
            "lines": connection(lines, "SalesOrderLine"),
            "_createStamp": stamp(self.created),
        });
        v[delta] = stamp(self.updated).into();
        v
    }
}

/// A sales invoice (SIH).
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// `NUM`.
    pub number: String,
    /// `SIVTYP` (`INV`).
    pub invoice_type: String,
    /// `SALFCY`.
    pub site: String,
    /// `BPCINV`, the bill-to customer.
    pub customer: String,
    /// `INVDAT`.
    pub date: String,
    /// `CUR`.
    pub currency: String,
    /// `CUSORDREF`.
    pub reference: String,
    /// `SOHNUM`, the order invoiced (may be empty: a direct invoice).
    pub order: String,
    /// `SID[]`.
    pub lines: Vec<Line>,
    /// `CREDATTIM`.
    pub created: DateTime<Utc>,
    /// `UPDDATTIM`.
    pub updated: DateTime<Utc>,
}

impl Invoice {
    /// `AMTNOT`.
    pub fn total(&self) -> f64 {
        round2(self.lines.iter().map(Line::amount).sum())
    }

    /// The api1 representation `SIH` (lines only in `$details`).
    pub fn api1(&self, details: bool) -> Value {
        let mut v = json!({
            "NUM": self.number,
            "SIVTYP": self.invoice_type,
            "SALFCY": self.site,
            "BPCINV": self.customer,
            "INVDAT": self.date,
            "CUR": self.currency,
            "CUSORDREF": self.reference,
            "SOHNUM": self.order,
            "AMTNOT": self.total(),
            "AMTATI": self.total(),
            "CREDATTIM": stamp(self.created),
            "UPDDATTIM": stamp(self.updated),
        });
        if details {
            v["SID"] = self
                .lines
                .iter()
                .map(|l| {
                    json!({
                        "SIDLIN": l.number, "ITMREF": l.item, "ITMDES": l.description,
                        "QTY": l.quantity, "SAU": l.unit, "GROPRI": l.gross_price,
                        "NETPRI": l.net_price, "AMTNOTLIN": l.amount(),
                    })
                })
                .collect();
        }
        v
    }

    /// The GraphQL `salesInvoice` node (name UNVERIFIED, facts §2.2).
    pub fn node(&self, delta: &str, customer: Option<&Customer>) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                json!({ "cursor": format!("[{}]#{}", l.number, i), "node": {
                    "__typename": "SalesInvoiceLine",
                    "_id": format!("{}~{}", self.number, l.number),
                    "lineNumber": l.number,
                    "product": { "__typename": "Product", "code": l.item, "description1": l.description },
                    "salesUnit": { "__typename": "UnitOfMeasure", "code": l.unit },
                    "quantityInSalesUnit": dec(l.quantity),
                    "grossPrice": dec(l.gross_price),
                    "netPrice": dec(l.net_price),
                    "lineAmountExcludingTax": dec(l.amount()),
                }})
            })
            .collect();
        let mut v = json!({
            "__typename": "SalesInvoice",
            "_id": self.number,
            "id": self.number,
            "invoiceType": self.invoice_type,
            "salesSite": { "__typename": "Site", "code": self.site },
            "billToCustomer": customer_ref(&self.customer, customer, delta),
            "invoiceDate": self.date,
            "currency": { "__typename": "Currency", "code": self.currency },
            "customerOrderReference": self.reference,
            "salesOrder": if self.order.is_empty() { Value::Null } else { json!({ "__typename": "SalesOrder", "id": self.order }) },
            "totalAmountExcludingTax": dec(self.total()),
            "totalAmountIncludingTax": dec(self.total()),
            "lines": connection(lines, "SalesInvoiceLine"),
            "_createStamp": stamp(self.created),
        });
        v[delta] = stamp(self.updated).into();
        v
    }
}

fn customer_ref(code: &str, customer: Option<&Customer>, delta: &str) -> Value {
    match customer {
        Some(c) => c.node(delta),
        None => json!({ "__typename": "Customer", "code": code }),
    }
}

fn connection(edges: Vec<Value>, of: &str) -> Value {
    let start = edges
        .first()
        .map(|e| e["cursor"].clone())
        .unwrap_or(Value::Null);
    let end = edges
        .last()
        .map(|e| e["cursor"].clone())
        .unwrap_or(Value::Null);
    let edges: Vec<Value> = edges
        .into_iter()
        .map(|mut e| {
            e["__typename"] = format!("{of}Edge").into();
            e
        })
        .collect();
    json!({
        "__typename": format!("{of}Connection"),
        "totalCount": edges.len(),
        "edges": edges,
        "pageInfo": { "__typename": "PageInfo", "startCursor": start, "endCursor": end,
                      "hasNextPage": false, "hasPreviousPage": false },
    })
}

/// A sales document to create (from api1 or GraphQL).
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Wanted number; empty: the next of the sequence.
    pub number: String,
    /// Sales site; empty: the folder's.
    pub site: String,
    /// Customer code (mandatory, must exist).
    pub customer: String,
    /// Date; empty: today.
    pub date: String,
    /// Currency; empty: the customer's.
    pub currency: String,
    /// Customer order reference.
    pub reference: String,
    /// Order invoiced (invoices only).
    pub order: String,
    /// Lines: (line number or 0, item, quantity, gross price or None: base price).
    pub lines: Vec<(i64, String, f64, Option<f64>)>,
}
