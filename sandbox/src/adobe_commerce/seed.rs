//! The demo store (`Seed::Demo`): 400 simple products `A1-100/0` ..
//! `A4-199/0` with prices and stock, 300 customers with one address each,
//! 60 past orders (most invoiced, a few refunded). Deterministic
//! (arithmetic only).

use chrono::{NaiveDate, NaiveDateTime};

use super::catalog::Product;
use super::customers::{Address, Customer};
use super::sales::{self, NewLine, NewOrder, RefundRequest};
use super::State;

/// Products in the demo store.
pub const DEMO_PRODUCTS: u64 = 400;
/// Customers in the demo store.
pub const DEMO_CUSTOMERS: u64 = 300;
/// Past orders in the demo store.
pub const DEMO_ORDERS: u64 = 60;

/// The SKU of demo product `n` (1-based): the demo ERP's formatted item
/// numbers (`A{group}-{100..199}/0`), so store and ERP sell the same things.
pub fn sku(n: u64) -> String {
    let n = n.saturating_sub(1);
    format!("A{}-{}/0", n / 100 + 1, 100 + n % 100)
}

const ADJECTIVES: [&str; 10] = [
    "Classic", "Organic", "Deluxe", "Compact", "Rustic", "Premium", "Everyday", "Vintage",
    "Modern", "Handmade",
];
const NOUNS: [&str; 10] = [
    "Coffee Mug",
    "Water Bottle",
    "Notebook",
    "Backpack",
    "Desk Lamp",
    "T-Shirt",
    "Hoodie",
    "Candle",
    "Tea Set",
    "Cutting Board",
];
const FIRST: [&str; 12] = [
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "James", "Mia", "Lucas", "Harper",
    "Henry",
];
const LAST: [&str; 13] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Moore", "Martin",
];
const REGIONS: [(&str, &str, &str, u64, &str); 6] = [
    ("Austin", "Texas", "TX", 57, "73301"),
    ("Seattle", "Washington", "WA", 62, "98101"),
    ("Denver", "Colorado", "CO", 13, "80202"),
    ("Chicago", "Illinois", "IL", 23, "60601"),
    ("Boston", "Massachusetts", "MA", 32, "02108"),
    ("Miami", "Florida", "FL", 18, "33101"),
];

fn at(day_offset: u64, minutes: u64) -> NaiveDateTime {
    let start = NaiveDate::from_ymd_opt(2024, 1, 3)
        .and_then(|d| d.and_hms_opt(8, 30, 0))
        .unwrap_or_default();
    start + chrono::Duration::days(day_offset as i64) + chrono::Duration::minutes(minutes as i64)
}

/// Fills `state` with the demo store.
pub(crate) fn demo(state: &mut State) {
    for n in 1..=DEMO_PRODUCTS {
        let name = format!(
            "{} {} {}",
            ADJECTIVES[(n % 10) as usize],
            NOUNS[((n / 10) % 10) as usize],
            sku(n)
        );
        let price = (4 + (n * 3779 % 196) as i64) * 100 + if n % 2 == 0 { 99 } else { 50 };
        let qty = if n % 17 == 0 {
            0
        } else {
            (n * 7919 % 150) as i64
        };
        let id = state.product_id();
        let mut p = Product::new(id, &sku(n), &name, price, qty, at(n / 4, n * 7 % 600));
        p.weight = (n % 5) as f64 * 0.25 + 0.25;
        state.products.insert(id, p);
    }
    for n in 1..=DEMO_CUSTOMERS {
        let first = FIRST[(n % 12) as usize];
        let last = LAST[((n / 12 + n) % 13) as usize];
        let email = format!(
            "{}.{}{n}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let (city, region, code, region_id, zip) = REGIONS[(n % 6) as usize];
        let id = state.customer_id();
        let address_id = state.address_id();
        let created = at(n / 2, n * 13 % 600);
        state.customers.insert(
            id,
            Customer {
                id,
                email,
                firstname: first.into(),
                lastname: last.into(),
                dob: (n % 3 == 0).then(|| format!("19{}-0{}-1{}", 60 + n % 40, 1 + n % 9, n % 10)),
                group_id: 1,
                store_id: 1,
                address: Some((
                    address_id,
                    Address {
                        firstname: first.into(),
                        lastname: last.into(),
                        street: vec![format!("{} Market Street", 100 + n * 7)],
                        city: city.into(),
                        region: region.into(),
                        region_code: code.into(),
                        region_id,
                        postcode: zip.into(),
                        country_id: "US".into(),
                        telephone: format!("555-{:04}", n),
                        ..Address::default()
                    },
                )),
                created_at: created,
                updated_at: created,
            },
        );
    }
    for n in 1..=DEMO_ORDERS {
        let lines = (0..1 + n % 3)
            .map(|k| NewLine {
                sku: sku(1 + (n * 53 + k * 101) % DEMO_PRODUCTS),
                qty: (1 + (n + k) % 3) as i64,
                price: None,
            })
            .collect();
        let guest = n % 7 == 0;
        let new = NewOrder {
            customer_id: (!guest).then_some(1 + n * 37 % DEMO_CUSTOMERS),
            email: guest.then(|| format!("guest{n}@example.org")),
            lines,
            shipping_amount: if n % 4 == 0 { 0 } else { 1000 },
            tax_percent: 8.25,
            paid: n % 9 != 0,
            created_at: Some(at(300 + n * 2, n * 11 % 600)),
            decrement_stock: false,
            ..NewOrder::default()
        };
        if let Ok(id) = sales::place(state, new) {
            if n % 6 == 0 {
                if let Some(o) = state.orders.get_mut(&id) {
                    o.state = "complete".into();
                    o.status = "complete".into();
                    for i in &mut o.items {
                        i.qty_shipped = i.qty_ordered;
                    }
                }
            }
            if n % 10 == 0 {
                if let Ok(memo) = sales::refund(state, id, RefundRequest::default()) {
                    // Keep the demo deterministic: the refund a day later.
                    let when = at(301 + n * 2, n * 11 % 600);
                    if let Some(m) = state.creditmemos.get_mut(&memo) {
                        m.created_at = when;
                    }
                    if let Some(o) = state.orders.get_mut(&id) {
                        o.updated_at = when;
                    }
                }
            }
        }
    }
}
