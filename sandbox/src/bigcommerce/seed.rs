//! The demo store (`Seed::Demo`): 400 products `A1-100/0`..`A4-199/0` with
//! prices and product-tracked stock (each with its base variant), 300
//! customers with e-mail addresses, 60 past orders. Deterministic.

use serde_json::json;

use super::customers;
use super::orders::{self, NewLine, NewOrder};
use super::{at, catalog, State};

/// Products in the demo store.
pub const DEMO_PRODUCTS: u64 = 400;
/// Customers in the demo store.
pub const DEMO_CUSTOMERS: u64 = 300;
/// Past orders in the demo store.
pub const DEMO_ORDERS: u64 = 60;

/// The SKU of demo product `n` (1-based): the demo ERPs' item numbers
/// (`A{group}-{100..199}/0`, four groups of a hundred).
pub fn sku(n: u64) -> String {
    let n = n.saturating_sub(1);
    format!("A{}-{}/0", n / 100 + 1, 100 + n % 100)
}

const KINDS: [&str; 4] = ["Hardware", "Apparel", "Kitchen", "Outdoor"];
const ADJECTIVES: [&str; 10] = [
    "Classic", "Compact", "Deluxe", "Rustic", "Modern", "Sturdy", "Light", "Urban", "Alpine",
    "Coastal",
];
const NOUNS: [&str; 10] = [
    "Widget", "Bracket", "Lantern", "Kettle", "Jacket", "Bottle", "Toolkit", "Blanket", "Tray",
    "Backpack",
];
const FIRST: [&str; 16] = [
    "Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Chloe", "Ethan", "Zoe", "Owen", "Leah", "Jack",
    "Nora", "Eli", "Ruby", "Finn",
];
const LAST: [&str; 15] = [
    "Tremblay", "Gagnon", "Roy", "Smith", "Brown", "Wilson", "Martin", "Lee", "Taylor", "Clark",
    "Walker", "Young", "King", "Scott", "Green",
];

pub(crate) fn demo(st: &mut State) {
    for n in 1..=DEMO_PRODUCTS {
        let group = ((n - 1) / 100) as usize;
        let i = (n - 1) % 100;
        let name = format!(
            "{} {} {} {}",
            ADJECTIVES[(i % 10) as usize],
            KINDS[group],
            NOUNS[(i / 10) as usize],
            sku(n)
        );
        let price = 499 + (n * 137 % 9500) as i64;
        let level = (n * 7 % 120) as i64;
        catalog::create_product(
            st,
            catalog::NewProduct {
                name: &name,
                sku: &sku(n),
                price,
                level,
                tracking: "product",
                variants: &[],
                at: at(n % 90, n),
            },
        );
    }
    for n in 1..=DEMO_CUSTOMERS {
        let first = FIRST[(n % 16) as usize];
        let last = LAST[((n / 16 + n) % 15) as usize];
        let email = format!(
            "{}.{}{n}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let company = if n % 4 == 0 {
            format!("{last} Trading Co.")
        } else {
            String::new()
        };
        let _ = customers::insert(
            st,
            &json!({ "email": email, "first_name": first, "last_name": last,
                     "company": company, "phone": format!("555-01{:02}", n % 100) }),
            at(n / 3, n * 11 % 600),
        );
    }
    for n in 1..=DEMO_ORDERS {
        let lines = (0..1 + n % 3)
            .map(|k| NewLine {
                sku: sku(1 + (n * 37 + k * 101) % DEMO_PRODUCTS),
                quantity: 1 + (n + k) % 4,
                price: None,
            })
            .collect();
        let status = [10, 2, 11, 9, 1][(n % 5) as usize];
        let placed = orders::place(
            None,
            st,
            NewOrder {
                customer_id: if n % 7 == 0 {
                    0
                } else {
                    1 + n * 13 % DEMO_CUSTOMERS
                },
                lines,
                status_id: Some(status),
                shipping_cost: 1000,
                at: Some(at(90 + n, n * 17 % 600)),
                ..NewOrder::default()
            },
        );
        // Shipped and completed orders have shipped every line.
        if let Some(o) = placed.ok().and_then(|id| st.orders.get_mut(&id)) {
            if matches!(o.status_id, 2 | 10) {
                o.date_shipped = Some(o.date_created + chrono::Duration::days(2));
                for l in &mut o.lines {
                    l.quantity_shipped = l.quantity;
                }
            }
        }
    }
}
