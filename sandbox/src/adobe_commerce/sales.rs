//! Orders, invoices and credit memos (facts §3.4, §3.5): `GET /V1/orders`,
//! `GET /V1/orders/{id}` (id = `entity_id`), `POST /V1/orders/{id}/comments`,
//! `POST /V1/order/{orderId}/invoice` (the whole order), `POST
//! /V1/order/{orderId}/ship` (with tracks), `POST
//! /V1/order/{orderId}/refund` (offline credit memo), `GET
//! /V1/invoices`, `GET /V1/invoices/{id}`, `GET /V1/creditmemos`, `GET
//! /V1/creditmemo/{id}`.
//!
//! Money is kept in cents and answered as JSON numbers; dates are
//! `YYYY-MM-DD HH:MM:SS` in UTC. Unset totals (`total_paid` before an
//! invoice, `total_refunded` before a refund) are absent, as Magento leaves
//! null fields out.

use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::customers::Address;
use super::search::Criteria;
use super::{amount, fmt_date, now, qty_of, MageError, State};

/// An order line.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub item_id: u64,
    pub product_id: u64,
    pub sku: String,
    pub name: String,
    pub qty_ordered: i64,
    pub qty_invoiced: i64,
    pub qty_shipped: i64,
    pub qty_refunded: i64,
    pub qty_canceled: i64,
    /// Unit price, cents, excluding tax.
    pub price: i64,
    pub tax_percent: f64,
    pub tax_amount: i64,
    pub discount_amount: i64,
}

impl Item {
    fn row_total(&self) -> i64 {
        self.price * self.qty_ordered
    }

    fn price_incl_tax(&self) -> i64 {
        self.price + (self.tax_amount as f64 / self.qty_ordered.max(1) as f64).round() as i64
    }
}

/// A comment in the order's history.
#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub entity_id: u64,
    pub comment: String,
    pub status: String,
    pub is_customer_notified: bool,
    pub is_visible_on_front: bool,
    pub created_at: NaiveDateTime,
}

/// A sales order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub entity_id: u64,
    pub increment_id: String,
    pub state: String,
    pub status: String,
    pub store_id: u64,
    pub customer_id: Option<u64>,
    pub customer_email: String,
    pub customer_firstname: String,
    pub customer_lastname: String,
    pub currency: String,
    pub items: Vec<Item>,
    pub shipping_amount: i64,
    pub shipping_refunded: i64,
    pub total_paid: Option<i64>,
    pub total_refunded: Option<i64>,
    pub billing: Address,
    pub shipping: Address,
    pub payment_method: String,
    pub histories: Vec<Comment>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Order {
    /// Sum of the lines' row totals.
    pub fn subtotal(&self) -> i64 {
        self.items.iter().map(Item::row_total).sum()
    }

    /// Sum of the lines' tax.
    pub fn tax_amount(&self) -> i64 {
        self.items.iter().map(|i| i.tax_amount).sum()
    }

    /// Sum of the lines' discounts.
    pub fn discount_amount(&self) -> i64 {
        self.items.iter().map(|i| i.discount_amount).sum()
    }

    /// subtotal + shipping + tax - discount.
    pub fn grand_total(&self) -> i64 {
        self.subtotal() + self.shipping_amount + self.tax_amount() - self.discount_amount()
    }

    fn address_json(&self, a: &Address, kind: &str) -> Value {
        // Address entity ids: 2n-1 billing, 2n shipping.
        let entity_id = if kind == "billing" {
            self.entity_id * 2 - 1
        } else {
            self.entity_id * 2
        };
        json!({
            "address_type": kind,
            "city": a.city,
            "company": a.company,
            "country_id": a.country_id,
            "email": if a.email.is_empty() { &self.customer_email } else { &a.email },
            "entity_id": entity_id,
            "firstname": a.firstname,
            "lastname": a.lastname,
            "parent_id": self.entity_id,
            "postcode": a.postcode,
            "region": a.region,
            "region_code": a.region_code,
            "region_id": a.region_id,
            "street": a.street,
            "telephone": a.telephone,
        })
    }

    fn item_json(&self, i: &Item) -> Value {
        let date = fmt_date(self.created_at);
        json!({
            "item_id": i.item_id,
            "order_id": self.entity_id,
            "product_id": i.product_id,
            "product_type": "simple",
            "sku": i.sku,
            "name": i.name,
            "qty_ordered": i.qty_ordered,
            "qty_invoiced": i.qty_invoiced,
            "qty_shipped": i.qty_shipped,
            "qty_refunded": i.qty_refunded,
            "qty_canceled": i.qty_canceled,
            "price": amount(i.price),
            "base_price": amount(i.price),
            "original_price": amount(i.price),
            "base_original_price": amount(i.price),
            "price_incl_tax": amount(i.price_incl_tax()),
            "base_price_incl_tax": amount(i.price_incl_tax()),
            "row_total": amount(i.row_total()),
            "base_row_total": amount(i.row_total()),
            "row_total_incl_tax": amount(i.row_total() + i.tax_amount),
            "base_row_total_incl_tax": amount(i.row_total() + i.tax_amount),
            "tax_amount": amount(i.tax_amount),
            "base_tax_amount": amount(i.tax_amount),
            "tax_percent": i.tax_percent,
            "discount_amount": amount(i.discount_amount),
            "base_discount_amount": amount(i.discount_amount),
            "amount_refunded": amount(i.price * i.qty_refunded),
            "is_virtual": 0,
            "store_id": self.store_id,
            "created_at": date,
            "updated_at": fmt_date(self.updated_at),
        })
    }

    /// `OrderInterface` as the API answers it (facts §3.5).
    pub fn json(&self) -> Value {
        let grand = self.grand_total();
        let items: Vec<Value> = self.items.iter().map(|i| self.item_json(i)).collect();
        let qty: i64 = self.items.iter().map(|i| i.qty_ordered).sum();
        let mut v = json!({
            "entity_id": self.entity_id,
            "increment_id": self.increment_id,
            "state": self.state,
            "status": self.status,
            "store_id": self.store_id,
            "store_name": "Main Website\nMain Website Store\nDefault Store View",
            "customer_email": self.customer_email,
            "customer_firstname": self.customer_firstname,
            "customer_lastname": self.customer_lastname,
            "customer_is_guest": u8::from(self.customer_id.is_none()),
            "customer_group_id": if self.customer_id.is_some() { 1 } else { 0 },
            "customer_note_notify": 1,
            "base_currency_code": self.currency,
            "global_currency_code": self.currency,
            "order_currency_code": self.currency,
            "store_currency_code": self.currency,
            "base_to_global_rate": 1,
            "base_to_order_rate": 1,
            "subtotal": amount(self.subtotal()),
            "base_subtotal": amount(self.subtotal()),
            "subtotal_incl_tax": amount(self.subtotal() + self.tax_amount()),
            "tax_amount": amount(self.tax_amount()),
            "base_tax_amount": amount(self.tax_amount()),
            "shipping_amount": amount(self.shipping_amount),
            "base_shipping_amount": amount(self.shipping_amount),
            "shipping_incl_tax": amount(self.shipping_amount),
            "shipping_description": "Flat Rate - Fixed",
            "discount_amount": amount(-self.discount_amount()),
            "base_discount_amount": amount(-self.discount_amount()),
            "grand_total": amount(grand),
            "base_grand_total": amount(grand),
            "total_qty_ordered": qty,
            "total_item_count": self.items.len(),
            "total_due": amount(grand - self.total_paid.unwrap_or(0)),
            "base_total_due": amount(grand - self.total_paid.unwrap_or(0)),
        });
        let more = json!({
            "weight": qty,
            "is_virtual": 0,
            "email_sent": 1,
            "protect_code": format!("{:06x}", self.entity_id * 7919),
            "quote_id": self.entity_id,
            "created_at": fmt_date(self.created_at),
            "updated_at": fmt_date(self.updated_at),
            "items": items,
            "billing_address_id": self.entity_id * 2 - 1,
            "billing_address": self.address_json(&self.billing, "billing"),
            "payment": {
                "entity_id": self.entity_id,
                "parent_id": self.entity_id,
                "method": self.payment_method,
                "amount_ordered": amount(grand),
                "base_amount_ordered": amount(grand),
                "shipping_amount": amount(self.shipping_amount),
                "account_status": null,
                "additional_information": [],
            },
            "status_histories": self.histories.iter().rev().map(|h| json!({
                "entity_id": h.entity_id,
                "parent_id": self.entity_id,
                "comment": h.comment,
                "status": h.status,
                "entity_name": "order",
                "is_customer_notified": u8::from(h.is_customer_notified),
                "is_visible_on_front": u8::from(h.is_visible_on_front),
                "created_at": fmt_date(h.created_at),
            })).collect::<Vec<_>>(),
            "extension_attributes": {
                "shipping_assignments": [{
                    "shipping": {
                        "address": self.address_json(&self.shipping, "shipping"),
                        "method": "flatrate_flatrate",
                        "total": {
                            "shipping_amount": amount(self.shipping_amount),
                            "base_shipping_amount": amount(self.shipping_amount),
                            "shipping_incl_tax": amount(self.shipping_amount),
                            "shipping_tax_amount": 0,
                        },
                    },
                    "items": items,
                }],
            },
        });
        if let (Some(o), Value::Object(m)) = (v.as_object_mut(), more) {
            o.extend(m);
        }
        if let Some(id) = self.customer_id {
            v["customer_id"] = id.into();
        }
        if let Some(paid) = self.total_paid {
            v["total_paid"] = amount(paid);
            v["base_total_paid"] = amount(paid);
            v["total_invoiced"] = amount(paid);
            v["base_total_invoiced"] = amount(paid);
            v["payment"]["amount_paid"] = amount(paid);
            v["payment"]["base_amount_paid"] = amount(paid);
        }
        if let Some(refunded) = self.total_refunded {
            v["total_refunded"] = amount(refunded);
            v["base_total_refunded"] = amount(refunded);
            v["total_offline_refunded"] = amount(refunded);
            v["shipping_refunded"] = amount(self.shipping_refunded);
            v["payment"]["amount_refunded"] = amount(refunded);
        }
        v
    }

    /// The flat row searchCriteria filters on (`sales_order` columns).
    fn row(&self) -> Value {
        let mut v = self.json();
        if self.customer_id.is_none() {
            v["customer_id"] = Value::Null;
        }
        v
    }
}

const ORDER_FIELDS: [&str; 21] = [
    "entity_id",
    "increment_id",
    "state",
    "status",
    "store_id",
    "customer_id",
    "customer_email",
    "customer_firstname",
    "customer_lastname",
    "customer_is_guest",
    "customer_group_id",
    "base_grand_total",
    "grand_total",
    "subtotal",
    "tax_amount",
    "shipping_amount",
    "total_paid",
    "total_refunded",
    "order_currency_code",
    "created_at",
    "updated_at",
];

/// `GET /V1/orders?searchCriteria...`
pub(crate) fn list(state: &State, c: &Criteria) -> Result<Value, MageError> {
    let rows = state.orders.values().map(Order::row).collect();
    let mut out = c.answer(rows, "entity_id", &ORDER_FIELDS, &state.settings)?;
    // The rows were flattened for filtering: guests have no customer_id.
    if let Some(items) = out["items"].as_array_mut() {
        for item in items {
            if item["customer_id"].is_null() {
                if let Some(o) = item.as_object_mut() {
                    o.remove("customer_id");
                }
            }
        }
    }
    Ok(out)
}

fn order_id(id: &str) -> Result<u64, MageError> {
    id.parse().map_err(|_| MageError::no_entity())
}

/// `GET /V1/orders/{id}`
pub(crate) fn get(state: &State, id: &str) -> Result<Value, MageError> {
    let id = order_id(id)?;
    state
        .orders
        .get(&id)
        .map(Order::json)
        .ok_or_else(MageError::no_entity)
}

/// `POST /V1/orders/{id}/comments` with `{"statusHistory": {"comment",
/// "status"?, "is_customer_notified"?, "is_visible_on_front"?}}`: answers
/// `true`.
pub(crate) fn comment(state: &mut State, id: &str, body: &Value) -> Result<Value, MageError> {
    let id = order_id(id)?;
    let Some(h) = body.get("statusHistory").filter(|h| h.is_object()) else {
        return Err(MageError::required("statusHistory"));
    };
    let next = state
        .orders
        .values()
        .map(|o| o.histories.len() as u64)
        .sum::<u64>()
        + 1;
    let order = state.orders.get_mut(&id).ok_or_else(MageError::no_entity)?;
    let status = h
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or(&order.status)
        .to_string();
    let flag = |name: &str| {
        h.get(name)
            .is_some_and(|v| v.as_bool().unwrap_or_else(|| qty_of(v) == Some(1)))
    };
    order.histories.push(Comment {
        entity_id: next,
        comment: h
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        status: status.clone(),
        is_customer_notified: flag("is_customer_notified"),
        is_visible_on_front: flag("is_visible_on_front"),
        created_at: now(),
    });
    order.status = status;
    order.updated_at = now();
    Ok(json!(true))
}

/// An invoice (made when an order is paid).
#[derive(Debug, Clone)]
pub(crate) struct Invoice {
    pub entity_id: u64,
    pub increment_id: String,
    pub order_id: u64,
    pub created_at: NaiveDateTime,
}

/// A credit memo (an offline refund).
#[derive(Debug, Clone)]
pub(crate) struct CreditMemo {
    pub entity_id: u64,
    pub increment_id: String,
    pub order_id: u64,
    pub invoice_id: Option<u64>,
    /// (order item id, qty, refunded tax cents).
    pub lines: Vec<(u64, i64, i64)>,
    pub shipping_amount: i64,
    pub adjustment_positive: i64,
    pub adjustment_negative: i64,
    pub comment: Option<String>,
    pub created_at: NaiveDateTime,
}

impl CreditMemo {
    fn subtotal(&self, order: &Order) -> i64 {
        self.lines
            .iter()
            .map(|(id, qty, _)| {
                order
                    .items
                    .iter()
                    .find(|i| i.item_id == *id)
                    .map_or(0, |i| i.price * qty)
            })
            .sum()
    }

    fn tax(&self) -> i64 {
        self.lines.iter().map(|l| l.2).sum()
    }

    /// subtotal + tax + shipping + adjustment_positive - adjustment_negative.
    pub fn grand_total(&self, order: &Order) -> i64 {
        self.subtotal(order) + self.tax() + self.shipping_amount + self.adjustment_positive
            - self.adjustment_negative
    }

    /// `CreditmemoInterface` as the API answers it.
    pub fn json(&self, order: &Order) -> Value {
        let items: Vec<Value> = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(n, (id, qty, tax))| {
                let i = order.items.iter().find(|i| i.item_id == *id)?;
                Some(json!({
                    "entity_id": self.entity_id * 1000 + n as u64 + 1,
                    "parent_id": self.entity_id,
                    "order_item_id": id,
                    "product_id": i.product_id,
                    "sku": i.sku,
                    "name": i.name,
                    "qty": qty,
                    "price": amount(i.price),
                    "base_price": amount(i.price),
                    "row_total": amount(i.price * qty),
                    "base_row_total": amount(i.price * qty),
                    "tax_amount": amount(*tax),
                    "discount_amount": 0,
                }))
            })
            .collect();
        let grand = self.grand_total(order);
        let mut v = json!({
            "entity_id": self.entity_id,
            "increment_id": self.increment_id,
            "order_id": self.order_id,
            "store_id": order.store_id,
            "state": 2,
            "creditmemo_status": 2,
            "order_currency_code": order.currency,
            "base_currency_code": order.currency,
            "subtotal": amount(self.subtotal(order)),
            "base_subtotal": amount(self.subtotal(order)),
            "tax_amount": amount(self.tax()),
            "base_tax_amount": amount(self.tax()),
            "shipping_amount": amount(self.shipping_amount),
            "base_shipping_amount": amount(self.shipping_amount),
            "adjustment_positive": amount(self.adjustment_positive),
            "adjustment_negative": amount(self.adjustment_negative),
            "adjustment": amount(self.adjustment_positive - self.adjustment_negative),
            "grand_total": amount(grand),
            "base_grand_total": amount(grand),
            "billing_address_id": order.entity_id * 2 - 1,
            "shipping_address_id": order.entity_id * 2,
            "email_sent": 0,
            "created_at": fmt_date(self.created_at),
            "updated_at": fmt_date(self.created_at),
            "items": items,
            "comments": self.comment.iter().map(|c| json!({
                "comment": c,
                "parent_id": self.entity_id,
                "is_customer_notified": 0,
                "is_visible_on_front": 0,
                "created_at": fmt_date(self.created_at),
            })).collect::<Vec<_>>(),
        });
        if let Some(id) = self.invoice_id {
            v["invoice_id"] = id.into();
        }
        v
    }
}

impl Invoice {
    /// `InvoiceInterface` as the API answers it (the whole order billed).
    pub fn json(&self, order: &Order) -> Value {
        let items: Vec<Value> = order
            .items
            .iter()
            .map(|i| {
                json!({
                    "entity_id": i.item_id,
                    "parent_id": self.entity_id,
                    "order_item_id": i.item_id,
                    "product_id": i.product_id,
                    "sku": i.sku,
                    "name": i.name,
                    "qty": i.qty_ordered,
                    "price": amount(i.price),
                    "base_price": amount(i.price),
                    "row_total": amount(i.row_total()),
                    "base_row_total": amount(i.row_total()),
                    "tax_amount": amount(i.tax_amount),
                    "base_tax_amount": amount(i.tax_amount),
                })
            })
            .collect();
        let grand = order.grand_total();
        json!({
            "entity_id": self.entity_id,
            "increment_id": self.increment_id,
            "order_id": self.order_id,
            "store_id": order.store_id,
            "state": 2,
            "billing_address_id": order.entity_id * 2 - 1,
            "shipping_address_id": order.entity_id * 2,
            "order_currency_code": order.currency,
            "base_currency_code": order.currency,
            "subtotal": amount(order.subtotal()),
            "base_subtotal": amount(order.subtotal()),
            "tax_amount": amount(order.tax_amount()),
            "base_tax_amount": amount(order.tax_amount()),
            "shipping_amount": amount(order.shipping_amount),
            "base_shipping_amount": amount(order.shipping_amount),
            "discount_amount": amount(-order.discount_amount()),
            "grand_total": amount(grand),
            "base_grand_total": amount(grand),
            "total_qty": order.items.iter().map(|i| i.qty_ordered).sum::<i64>(),
            "email_sent": 1,
            "created_at": fmt_date(self.created_at),
            "updated_at": fmt_date(self.created_at),
            "items": items,
            "comments": [],
        })
    }
}

fn rows_of<T>(
    state: &State,
    all: impl Iterator<Item = T>,
    json: impl Fn(&T, &Order) -> Value,
    order_of: impl Fn(&T) -> u64,
) -> Vec<Value> {
    all.filter_map(|x| {
        let order = state.orders.get(&order_of(&x))?;
        Some(json(&x, order))
    })
    .collect()
}

const DOC_FIELDS: [&str; 9] = [
    "entity_id",
    "increment_id",
    "order_id",
    "store_id",
    "state",
    "grand_total",
    "created_at",
    "updated_at",
    "invoice_id",
];

/// `GET /V1/invoices?searchCriteria...`
pub(crate) fn list_invoices(state: &State, c: &Criteria) -> Result<Value, MageError> {
    let rows = rows_of(
        state,
        state.invoices.values(),
        |i, o| i.json(o),
        |i| i.order_id,
    );
    c.answer(rows, "entity_id", &DOC_FIELDS, &state.settings)
}

/// `GET /V1/invoices/{id}`
pub(crate) fn get_invoice(state: &State, id: &str) -> Result<Value, MageError> {
    let id = order_id(id)?;
    let invoice = state.invoices.get(&id).ok_or_else(MageError::no_entity)?;
    let order = state
        .orders
        .get(&invoice.order_id)
        .ok_or_else(MageError::no_entity)?;
    Ok(invoice.json(order))
}

/// `GET /V1/creditmemos?searchCriteria...`
pub(crate) fn list_creditmemos(state: &State, c: &Criteria) -> Result<Value, MageError> {
    let rows = rows_of(
        state,
        state.creditmemos.values(),
        |m, o| m.json(o),
        |m| m.order_id,
    );
    c.answer(rows, "entity_id", &DOC_FIELDS, &state.settings)
}

/// `GET /V1/creditmemo/{id}`
pub(crate) fn get_creditmemo(state: &State, id: &str) -> Result<Value, MageError> {
    let id = order_id(id)?;
    let memo = state
        .creditmemos
        .get(&id)
        .ok_or_else(MageError::no_entity)?;
    let order = state
        .orders
        .get(&memo.order_id)
        .ok_or_else(MageError::no_entity)?;
    Ok(memo.json(order))
}

/// A line of a new order.
#[derive(Debug, Clone)]
pub(crate) struct NewLine {
    pub sku: String,
    pub qty: i64,
    /// Unit price in cents; the product's price when absent.
    pub price: Option<i64>,
}

/// What places an order (the control route; the storefront checkout is
/// not simulated).
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub customer_id: Option<u64>,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub billing: Option<Address>,
    pub shipping: Option<Address>,
    pub lines: Vec<NewLine>,
    pub shipping_amount: i64,
    pub tax_percent: f64,
    pub discount_amount: i64,
    /// Paid orders are invoiced (state `processing`); unpaid are `new`/`pending`.
    pub paid: bool,
    pub store_id: u64,
    pub currency: String,
    pub payment_method: String,
    pub created_at: Option<NaiveDateTime>,
    /// Take the ordered quantities off stock.
    pub decrement_stock: bool,
}

impl Default for NewOrder {
    fn default() -> Self {
        NewOrder {
            customer_id: None,
            email: None,
            firstname: None,
            lastname: None,
            billing: None,
            shipping: None,
            lines: Vec::new(),
            shipping_amount: 500,
            tax_percent: 0.0,
            discount_amount: 0,
            paid: true,
            store_id: 1,
            currency: "USD".into(),
            payment_method: "checkmo".into(),
            created_at: None,
            decrement_stock: true,
        }
    }
}

/// Places an order: totals computed from the lines (tax per line, rounded
/// to the cent; discount spread over the first line), an invoice when paid.
pub(crate) fn place(state: &mut State, new: NewOrder) -> Result<u64, String> {
    if new.lines.is_empty() {
        return Err("an order needs at least one line".into());
    }
    let customer = match new.customer_id {
        Some(id) => Some(
            state
                .customers
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("no customer {id}"))?,
        ),
        None => None,
    };
    let at = new.created_at.unwrap_or_else(now);
    let mut items = Vec::new();
    for (n, line) in new.lines.iter().enumerate() {
        let pid = state
            .product_by_sku(&line.sku)
            .ok_or_else(|| format!("no product with SKU {}", line.sku))?;
        if line.qty <= 0 {
            return Err(format!("line {}: qty must be positive", n + 1));
        }
        let (sku, name, price) = {
            let p = &state.products[&pid];
            (p.sku.clone(), p.name.clone(), line.price.unwrap_or(p.price))
        };
        let row = price * line.qty;
        let item_id = state.item_id();
        items.push(Item {
            item_id,
            product_id: pid,
            sku,
            name,
            qty_ordered: line.qty,
            qty_invoiced: if new.paid { line.qty } else { 0 },
            qty_shipped: 0,
            qty_refunded: 0,
            qty_canceled: 0,
            price,
            tax_percent: new.tax_percent,
            tax_amount: (row as f64 * new.tax_percent / 100.0).round() as i64,
            discount_amount: if n == 0 { new.discount_amount } else { 0 },
        });
        if new.decrement_stock {
            if let Some(p) = state.products.get_mut(&pid) {
                p.qty -= line.qty;
                p.is_in_stock = p.qty > 0;
            }
        }
    }
    let email = new
        .email
        .or_else(|| customer.as_ref().map(|c| c.email.clone()))
        .unwrap_or_else(|| "guest@example.com".into());
    let firstname = new
        .firstname
        .or_else(|| customer.as_ref().map(|c| c.firstname.clone()))
        .unwrap_or_else(|| "Guest".into());
    let lastname = new
        .lastname
        .or_else(|| customer.as_ref().map(|c| c.lastname.clone()))
        .unwrap_or_else(|| "Shopper".into());
    let default_address = customer
        .as_ref()
        .and_then(|c| c.address.as_ref().map(|a| a.1.clone()))
        .unwrap_or_else(|| Address {
            firstname: firstname.clone(),
            lastname: lastname.clone(),
            street: vec!["1 Main Street".into()],
            city: "Austin".into(),
            region: "Texas".into(),
            region_code: "TX".into(),
            region_id: 57,
            postcode: "73301".into(),
            country_id: "US".into(),
            telephone: "555-0100".into(),
            ..Address::default()
        });
    let billing = new.billing.unwrap_or_else(|| default_address.clone());
    let shipping = new.shipping.unwrap_or(default_address);
    let id = state.order_id();
    let mut order = Order {
        entity_id: id,
        increment_id: format!("{id:09}"),
        state: "new".into(),
        status: "pending".into(),
        store_id: new.store_id,
        customer_id: customer.as_ref().map(|c| c.id),
        customer_email: email,
        customer_firstname: firstname,
        customer_lastname: lastname,
        currency: new.currency,
        items,
        shipping_amount: new.shipping_amount,
        shipping_refunded: 0,
        total_paid: None,
        total_refunded: None,
        billing,
        shipping,
        payment_method: new.payment_method,
        histories: Vec::new(),
        created_at: at,
        updated_at: at,
    };
    if new.paid {
        order.state = "processing".into();
        order.status = "processing".into();
        order.total_paid = Some(order.grand_total());
        let invoice_id = state.invoice_id();
        state.invoices.insert(
            invoice_id,
            Invoice {
                entity_id: invoice_id,
                increment_id: format!("{invoice_id:09}"),
                order_id: id,
                created_at: at,
            },
        );
    }
    state.orders.insert(id, order);
    Ok(id)
}

/// A refund: lines by order item id, shipping to refund (the rest of it
/// when absent), adjustments.
#[derive(Debug, Clone, Default)]
pub(crate) struct RefundRequest {
    pub items: Vec<(u64, i64)>,
    pub shipping_amount: Option<i64>,
    pub adjustment_positive: i64,
    pub adjustment_negative: i64,
    pub comment: Option<String>,
}

impl RefundRequest {
    /// From the body of `POST /V1/order/{id}/refund`: `{"items":
    /// [{"order_item_id", "qty"}], "notify", "arguments": {"shipping_amount",
    /// "adjustment_positive", "adjustment_negative"}, "comment": {...}}`.
    pub fn from_api(body: &Value) -> Result<RefundRequest, MageError> {
        let mut r = RefundRequest::default();
        if let Some(items) = body.get("items").and_then(Value::as_array) {
            for item in items {
                let id = item
                    .get("order_item_id")
                    .and_then(qty_of)
                    .ok_or_else(|| MageError::required("order_item_id"))?;
                let qty = item
                    .get("qty")
                    .and_then(qty_of)
                    .ok_or_else(|| MageError::required("qty"))?;
                r.items.push((id.max(0) as u64, qty));
            }
        }
        let args = body.get("arguments").cloned().unwrap_or(Value::Null);
        let money = |name: &str| -> Result<Option<i64>, MageError> {
            match args.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => super::cents_of(v)
                    .map(Some)
                    .ok_or_else(|| MageError::invalid(name, &v.to_string())),
            }
        };
        r.shipping_amount = money("shipping_amount")?;
        r.adjustment_positive = money("adjustment_positive")?.unwrap_or(0);
        r.adjustment_negative = money("adjustment_negative")?.unwrap_or(0);
        r.comment = body
            .pointer("/comment/comment")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(r)
    }
}

/// Creates an offline credit memo on order `id`; answers its id. Refused
/// when the order was not paid, an item or quantity is not refundable, or
/// the total exceeds what was paid and not yet refunded.
pub(crate) fn refund(state: &mut State, id: u64, r: RefundRequest) -> Result<u64, MageError> {
    let order = state.orders.get(&id).ok_or_else(MageError::no_entity)?;
    let paid = order.total_paid.unwrap_or(0);
    if paid == 0 || matches!(order.state.as_str(), "closed" | "canceled" | "holded") {
        return Err(MageError::new(
            400,
            "The order does not allow a creditmemo to be created.",
        ));
    }
    // No lines given: everything not yet refunded.
    let wanted: Vec<(u64, i64)> = if r.items.is_empty() {
        order
            .items
            .iter()
            .filter(|i| i.qty_invoiced > i.qty_refunded)
            .map(|i| (i.item_id, i.qty_invoiced - i.qty_refunded))
            .collect()
    } else {
        r.items.clone()
    };
    let mut lines = Vec::new();
    for (item_id, qty) in wanted {
        let Some(item) = order.items.iter().find(|i| i.item_id == item_id) else {
            return Err(
                MageError::new(400, "The creditmemo contains wrong order item id %1.")
                    .with(json!([item_id.to_string()])),
            );
        };
        if qty < 0 || qty > item.qty_invoiced - item.qty_refunded {
            return Err(MageError::new(
                400,
                "The quantity to creditmemo must not be greater than the unrefunded quantity for %1.",
            )
            .with(json!([item.sku])));
        }
        if qty == 0 {
            continue;
        }
        let tax = (item.tax_amount as f64 * qty as f64 / item.qty_ordered as f64).round() as i64;
        lines.push((item_id, qty, tax));
    }
    let shipping_left = order.shipping_amount - order.shipping_refunded;
    let shipping = r.shipping_amount.unwrap_or(shipping_left);
    if shipping > shipping_left {
        return Err(
            MageError::new(400, "Maximum shipping amount allowed to refund is: %1")
                .with(json!([format!("{:.2}", shipping_left as f64 / 100.0)])),
        );
    }
    let invoice_id = state
        .invoices
        .values()
        .find(|i| i.order_id == id)
        .map(|i| i.entity_id);
    let mut memo = CreditMemo {
        entity_id: 0,
        increment_id: String::new(),
        order_id: id,
        invoice_id,
        lines,
        shipping_amount: shipping,
        adjustment_positive: r.adjustment_positive,
        adjustment_negative: r.adjustment_negative,
        comment: r.comment,
        created_at: now(),
    };
    let order = state.orders.get(&id).ok_or_else(MageError::no_entity)?;
    let total = memo.grand_total(order);
    let available = paid - order.total_refunded.unwrap_or(0);
    if total <= 0 && memo.lines.is_empty() {
        return Err(MageError::new(
            400,
            "The credit memo's total must be positive.",
        ));
    }
    if total > available {
        return Err(
            MageError::new(400, "The most money available to refund is %1.")
                .with(json!([format!("{:.2}", available as f64 / 100.0)])),
        );
    }
    let memo_id = state.creditmemo_id();
    memo.entity_id = memo_id;
    memo.increment_id = format!("{memo_id:09}");
    let order = state.orders.get_mut(&id).ok_or_else(MageError::no_entity)?;
    for (item_id, qty, _) in &memo.lines {
        if let Some(i) = order.items.iter_mut().find(|i| i.item_id == *item_id) {
            i.qty_refunded += qty;
        }
    }
    order.shipping_refunded += shipping;
    order.total_refunded = Some(order.total_refunded.unwrap_or(0) + total);
    let fully = order.items.iter().all(|i| i.qty_refunded >= i.qty_ordered)
        || order.total_refunded >= order.total_paid;
    if fully {
        order.state = "closed".into();
        order.status = "closed".into();
    }
    order.updated_at = memo.created_at;
    state.creditmemos.insert(memo_id, memo);
    Ok(memo_id)
}

/// `POST /V1/order/{orderId}/invoice`: bills the whole order (partial
/// invoices are not simulated); answers the invoice id.
pub(crate) fn invoice(state: &mut State, id: u64) -> Result<u64, MageError> {
    let order = state.orders.get(&id).ok_or_else(MageError::no_entity)?;
    if order.total_paid.is_some()
        || matches!(order.state.as_str(), "closed" | "canceled" | "holded")
    {
        return Err(MageError::new(
            400,
            "The order does not allow an invoice to be created.",
        ));
    }
    let invoice_id = state.invoice_id();
    let at = now();
    state.invoices.insert(
        invoice_id,
        Invoice {
            entity_id: invoice_id,
            increment_id: format!("{invoice_id:09}"),
            order_id: id,
            created_at: at,
        },
    );
    let order = state.orders.get_mut(&id).ok_or_else(MageError::no_entity)?;
    order.total_paid = Some(order.grand_total());
    let mut all_shipped = true;
    for i in &mut order.items {
        i.qty_invoiced = i.qty_ordered;
        all_shipped &= i.qty_shipped >= i.qty_ordered;
    }
    order.state = if all_shipped {
        "complete"
    } else {
        "processing"
    }
    .into();
    order.status = order.state.clone();
    order.updated_at = at;
    Ok(invoice_id)
}

/// A shipment (kept only to number them and hold their tracks; listed by
/// the control route `GET /shipments`).
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Shipment {
    pub order_id: u64,
    pub tracks: Vec<Value>,
}

/// `POST /V1/order/{orderId}/ship` with `{"items"?: [{"order_item_id",
/// "qty"}], "tracks"?: [{"track_number", "title", "carrier_code"}]}`:
/// ships the given lines (everything left when none); answers the shipment
/// id. An invoiced order fully shipped becomes `complete`.
pub(crate) fn ship(state: &mut State, id: u64, body: &Value) -> Result<u64, MageError> {
    let order = state.orders.get(&id).ok_or_else(MageError::no_entity)?;
    let refuse = || MageError::new(400, "The order does not allow a shipment to be created.");
    if matches!(order.state.as_str(), "closed" | "canceled" | "holded") {
        return Err(refuse());
    }
    let mut wanted = Vec::new();
    match body.get("items").and_then(Value::as_array) {
        Some(items) if !items.is_empty() => {
            for item in items {
                let item_id = item
                    .get("order_item_id")
                    .and_then(qty_of)
                    .ok_or_else(|| MageError::required("order_item_id"))?;
                let qty = item
                    .get("qty")
                    .and_then(qty_of)
                    .ok_or_else(|| MageError::required("qty"))?;
                let Some(line) = order.items.iter().find(|i| i.item_id as i64 == item_id) else {
                    return Err(refuse());
                };
                if qty <= 0 || qty > line.qty_ordered - line.qty_shipped - line.qty_refunded {
                    return Err(refuse());
                }
                wanted.push((line.item_id, qty));
            }
        }
        _ => {
            for i in &order.items {
                let left = i.qty_ordered - i.qty_shipped - i.qty_refunded;
                if left > 0 {
                    wanted.push((i.item_id, left));
                }
            }
        }
    }
    if wanted.is_empty() {
        return Err(refuse());
    }
    let tracks = body
        .get("tracks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let order = state.orders.get_mut(&id).ok_or_else(MageError::no_entity)?;
    for (item_id, qty) in wanted {
        if let Some(i) = order.items.iter_mut().find(|i| i.item_id == item_id) {
            i.qty_shipped += qty;
        }
    }
    let all_shipped = order
        .items
        .iter()
        .all(|i| i.qty_shipped + i.qty_refunded >= i.qty_ordered);
    if all_shipped && order.total_paid.is_some() {
        order.state = "complete".into();
        order.status = "complete".into();
    }
    order.updated_at = now();
    state.shipments.push(Shipment {
        order_id: id,
        tracks,
    });
    Ok(state.shipments.len() as u64)
}
