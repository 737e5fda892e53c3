//! Sample values shared by the tests of several modules.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use crate::model::{
    Address, CurrencyCode, Customer, Email, InstanceId, Money, Order, OrderLine, OrderStatus, Sku,
};

pub fn instance() -> InstanceId {
    InstanceId::new("woo-main").unwrap()
}

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, day, hour, 0, 0).unwrap()
}

pub fn money(amount: &str) -> Money {
    Money::new(
        Decimal::from_str(amount).unwrap(),
        CurrencyCode::new("USD").unwrap(),
    )
}

fn line(id: &str, sku: &str, quantity: &str, unit: &str, total: &str) -> OrderLine {
    OrderLine {
        line_id: id.into(),
        sku: Sku::new(sku).unwrap(),
        name: format!("Item {sku}"),
        quantity: Decimal::from_str(quantity).unwrap(),
        unit_price: money(unit),
        tax: money("2.50"),
        total: money(total),
    }
}

/// Order #1001: lines 40 + 50, shipping 10, tax 5, discount 2 = 103.
pub fn sample_order() -> Order {
    let address = Address {
        first_name: "Jane".into(),
        last_name: "Doe".into(),
        company: None,
        line1: "1 Main St".into(),
        line2: None,
        city: "Vancouver".into(),
        region: Some("BC".into()),
        postal_code: Some("V6B 1A1".into()),
        country: "CA".into(),
        phone: None,
    };
    Order {
        source_id: "1001".into(),
        number: "#1001".into(),
        status: OrderStatus::Processing,
        currency: CurrencyCode::new("USD").unwrap(),
        customer: Customer {
            source_id: Some("77".into()),
            email: Some(Email::new("jane@example.com").unwrap()),
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            company: None,
            phone: None,
            billing_address: Some(address.clone()),
            shipping_address: Some(address.clone()),
            group: None,
        },
        billing_address: Some(address.clone()),
        shipping_address: Some(address),
        lines: vec![
            line("1", "WIDGET-1", "2", "20.00", "40.00"),
            line("2", "GADGET-2", "1", "50.00", "50.00"),
        ],
        shipping_total: money("10.00"),
        tax_total: money("5.00"),
        discount_total: money("2.00"),
        grand_total: money("103.00"),
        created_at: at(1, 9),
        modified_at: at(1, 9),
        payment_method: Some("card".into()),
        refund_ids: Vec::new(),
        notes: None,
    }
}
