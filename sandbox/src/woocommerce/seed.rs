//! The demo shop (`Seed::Demo`): 400 products `A1-100/0`..`A4-199/0` with prices
//! and managed stock, 250 customers, 60 past orders. Deterministic
//! (arithmetic only).

use chrono::{NaiveDate, NaiveDateTime};

use super::customers::Customer;
use super::orders::{self, NewLine, NewOrder};
use super::products::Product;
use super::{Address, State};

/// Products in the demo shop.
pub const DEMO_PRODUCTS: u64 = 400;
/// Customers in the demo shop.
pub const DEMO_CUSTOMERS: u64 = 250;
/// Past orders in the demo shop.
pub const DEMO_ORDERS: u64 = 60;

/// The SKU of demo product `n` (1-based): the formatted item numbers of the
/// demo ERP companies (`A{group}-{100..199}/0`, four groups of a hundred), so
/// that the demo's store and ERP sell the same things.
pub fn sku(n: u64) -> String {
    let n = n.saturating_sub(1);
    format!("A{}-{}/0", n / 100 + 1, 100 + n % 100)
}

const ADJECTIVES: [&str; 20] = [
    "Classic",
    "Organic",
    "Deluxe",
    "Compact",
    "Rustic",
    "Premium",
    "Everyday",
    "Vintage",
    "Modern",
    "Handmade",
    "Sturdy",
    "Light",
    "Heavy-Duty",
    "Eco",
    "Nordic",
    "Urban",
    "Alpine",
    "Coastal",
    "Smart",
    "Mini",
];
const NOUNS: [&str; 20] = [
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
    "Headphones",
    "Phone Case",
    "Yoga Mat",
    "Scarf",
    "Wallet",
    "Umbrella",
    "Plant Pot",
    "Blanket",
    "Sunglasses",
    "Travel Mug",
];
const FIRST: [&str; 20] = [
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mason", "Amelia", "Ethan", "Harper", "Logan", "Evelyn", "Jacob", "Abigail", "Henry",
];
const LAST: [&str; 25] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
];
const CITIES: [(&str, &str, &str); 8] = [
    ("San Francisco", "CA", "94103"),
    ("Austin", "TX", "73301"),
    ("Seattle", "WA", "98101"),
    ("Denver", "CO", "80202"),
    ("Chicago", "IL", "60601"),
    ("Boston", "MA", "02108"),
    ("Portland", "OR", "97201"),
    ("Miami", "FL", "33101"),
];

fn at(day_offset: u64, minutes: u64) -> NaiveDateTime {
    let start = NaiveDate::from_ymd_opt(2024, 1, 2)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .unwrap_or_default();
    start + chrono::Duration::days(day_offset as i64) + chrono::Duration::minutes(minutes as i64)
}

/// Fills `state` with the demo shop.
pub(crate) fn demo(state: &mut State) {
    for n in 1..=DEMO_PRODUCTS {
        let name = format!(
            "{} {}",
            ADJECTIVES[(n % 20) as usize],
            NOUNS[((n / 20) % 20) as usize]
        );
        let id = state.post_id();
        let mut p = Product::new(
            id,
            &format!("{name} {}", sku(n)),
            &sku(n),
            at(n / 4, n * 7 % 600),
        );
        let dollars = 4 + (n * 3779 % 196) as i64;
        p.regular_price = Some(dollars * 100 + if n % 2 == 0 { 99 } else { 50 });
        if n % 10 == 0 {
            p.sale_price = p.regular_price.map(|r| r * 8 / 10);
        }
        p.manage_stock = true;
        p.stock_quantity = Some(if n % 17 == 0 {
            0
        } else {
            (n * 7919 % 150) as i64
        });
        p.weight = format!("{}", (n % 5) as f64 * 0.25 + 0.25);
        p.sync_stock_status();
        state.products.insert(id, p);
    }
    for n in 1..=DEMO_CUSTOMERS {
        let first = FIRST[(n % 20) as usize];
        let last = LAST[((n / 20 + n) % 25) as usize];
        let email = format!(
            "{}.{}{n}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let id = state.customer_id();
        let mut c = Customer::new(id, &email, first, last, at(n / 2, n * 13 % 600));
        let (city, st, zip) = CITIES[(n % 8) as usize];
        let address = Address {
            first_name: first.into(),
            last_name: last.into(),
            address_1: format!("{} Market Street", 100 + n * 7),
            city: city.into(),
            state: st.into(),
            postcode: zip.into(),
            country: "US".into(),
            email: email.clone(),
            phone: format!("(555) 555-{:04}", n),
            ..Address::default()
        };
        c.billing = address.clone();
        c.shipping = Address {
            email: String::new(),
            phone: String::new(),
            ..address
        };
        state.customers.insert(id, c);
    }
    let product_ids: Vec<u64> = state.products.keys().copied().collect();
    let customer_ids: Vec<u64> = state.customers.keys().copied().collect();
    let statuses = [
        "completed",
        "completed",
        "processing",
        "completed",
        "on-hold",
        "cancelled",
    ];
    for n in 1..=DEMO_ORDERS {
        let customer = &state.customers[&customer_ids[(n * 37 % DEMO_CUSTOMERS) as usize]];
        let lines = (0..1 + n % 3)
            .map(|k| NewLine {
                product_id: product_ids[((n * 53 + k * 101) % DEMO_PRODUCTS) as usize],
                quantity: (1 + (n + k) % 3) as i64,
                price: None,
            })
            .collect();
        let new = NewOrder {
            customer_id: customer.id,
            billing: customer.billing.clone(),
            shipping: customer.shipping.clone(),
            lines,
            status: statuses[(n % 6) as usize].into(),
            shipping_total: if n % 4 == 0 { 0 } else { 1000 },
            tax_rate_percent: 7.5,
            payment_method: "stripe".into(),
            payment_method_title: "Credit Card (Stripe)".into(),
            transaction_id: format!("ch_demo{n:06}"),
            created_via: "checkout".into(),
            date_created: Some(at(300 + n * 2, n * 11 % 600)),
            ..NewOrder::default()
        };
        let _ = orders::build(state, new);
    }
}
