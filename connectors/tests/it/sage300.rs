//! The Sage 300 connector against the sandbox's Sage 300 Web API.

use std::str::FromStr;

use chrono::NaiveDate;
use mlc_connectors::sage300::Sage300;
use mlc_connectors::{ConnectorError, Erp};
use mlc_domain::mapping::{ErpCreditNote, ErpCustomer, ErpOrder, ErpOrderLine};
use mlc_domain::model::{Address, CurrencyCode, Email};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::json;

use crate::support::{sage, sage_settings, sandbox, Control};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn order(reference: &str) -> ErpOrder {
    ErpOrder {
        reference: reference.into(),
        customer_number: "2000".into(),
        order_date: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(),
        currency: CurrencyCode::new("CAD").unwrap(),
        bill_to: None,
        ship_to: Some(Address {
            first_name: "Olivia".into(),
            last_name: "Smith".into(),
            company: None,
            line1: "1 Main St".into(),
            line2: None,
            city: "Vancouver".into(),
            region: Some("BC".into()),
            postal_code: Some("V6B 1A1".into()),
            country: "CA".into(),
            phone: None,
        }),
        lines: vec![
            ErpOrderLine {
                item_number: "A1-100/0".into(),
                sku: "A1-100/0".into(),
                description: "Mug".into(),
                quantity: dec("2"),
                unit_price: dec("12.50"),
            },
            ErpOrderLine {
                item_number: "A2-150/0".into(),
                sku: "A2-150/0".into(),
                description: "Candle".into(),
                quantity: dec("1"),
                unit_price: dec("7.25"),
            },
        ],
        shipping_total: dec("5"),
        discount_total: Decimal::ZERO,
        payment_code: None,
        ship_via: None,
        comment: Some("Leave at the door".into()),
    }
}

#[tokio::test]
async fn ping_works_and_credentials_are_sent_upper_case() {
    let sb = sandbox().await;
    sage(&sb).ping().await.unwrap();

    // Lower-case credentials in the settings still sign on: they are sent
    // upper-case (the seed's rule).
    let mut lower = sage_settings(&sb);
    lower.username = lower.username.to_lowercase();
    lower.password = SecretString::from("webapi");
    Sage300::new(lower).unwrap().ping().await.unwrap();

    // The sandbox itself refuses a lower-case pair.
    let url = format!(
        "{}SAMLTD/IC/ICLocations",
        sb.manifest()["sage300"]["base_url"].as_str().unwrap()
    );
    let status = reqwest::Client::new()
        .get(url)
        .basic_auth("webapi", Some("webapi"))
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    // A wrong password is Unauthorized and says nothing of the password.
    let mut wrong = sage_settings(&sb);
    wrong.password = SecretString::from("NOT-IT");
    let err = Sage300::new(wrong).unwrap().ping().await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains("NOT-IT"));

    // ADMIN has no Web API access by default: 403.
    let mut admin = sage_settings(&sb);
    admin.username = "ADMIN".into();
    admin.password = SecretString::from("ADMIN");
    let err = Sage300::new(admin).unwrap().ping().await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Unauthorized { status: 403, .. }),
        "{err}"
    );

    // An unknown company cannot be signed on to.
    let mut company = sage_settings(&sb);
    company.company = "NOPE".into();
    let err = Sage300::new(company).unwrap().ping().await.unwrap_err();
    assert!(matches!(err, ConnectorError::Unauthorized { .. }), "{err}");
}

#[tokio::test]
async fn find_before_create_finds_the_posted_order() {
    let sb = sandbox().await;
    let erp = sage(&sb);
    let ctl = Control::new(&sb);
    let order = order("WC-O'Neil-1001");
    assert_eq!(erp.find_order(&order.reference).await.unwrap(), None);

    let prepared = erp.prepare_order(&order).unwrap();
    assert_eq!(prepared.method, "POST");
    assert!(
        prepared.url.ends_with("/SAMLTD/OE/OEOrders"),
        "{}",
        prepared.url
    );
    assert!(prepared
        .headers
        .iter()
        .any(|(k, v)| k == "Authorization" && v == "<redacted>"));
    assert_eq!(prepared.body["OrderReference"], "WC-O'Neil-1001");
    assert_eq!(prepared.body["OrderDetails"][0]["Item"], "A1-100/0");
    assert_eq!(prepared.body["OrderDetails"][0]["PriceOverride"], true);

    let number = erp.post_order(&order).await.unwrap();
    assert!(!number.is_empty());
    assert_eq!(
        erp.find_order(&order.reference).await.unwrap(),
        Some(number.clone())
    );
    // What Sage stored: our prices, our reference, the ship-to.
    let orders = ctl.get("/sage300/orders").await;
    let stored = orders
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["OrderNumber"] == number.as_str())
        .unwrap();
    assert_eq!(stored["OrderReference"], "WC-O'Neil-1001");
    assert_eq!(stored["OrderDetails"][0]["OrderUnitPrice"], 12.5);
    assert_eq!(stored["OrderDetails"][0]["QuantityOrdered"], 2.0);
    assert_eq!(stored["ShipToCity"], "Vancouver");
    assert_eq!(stored["OrderComment"], "Leave at the door");
    // Another reference is not found.
    assert_eq!(erp.find_order("WC-O'Neil-1002").await.unwrap(), None);
}

#[tokio::test]
async fn errors_are_decoded() {
    let sb = sandbox().await;
    let erp = sage(&sb);
    let ctl = Control::new(&sb);

    // A 500 on OEOrders: retryable Refused.
    ctl.fault(json!({"system": "sage300", "type": "status", "status": 500,
        "method": "POST", "path_contains": "OEOrders", "times": 1}))
        .await;
    let err = erp.post_order(&order("R-500")).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Refused { status: 500, .. }),
        "{err}"
    );
    assert!(err.is_retryable() && !err.outcome_unknown());

    // A validation error (unknown item, 409 FieldInvalid): not retryable.
    let mut bad = order("R-409");
    bad.lines[0].item_number = "ZZ-999/9".into();
    let err = erp.post_order(&bad).await.unwrap_err();
    match &err {
        ConnectorError::Refused {
            code,
            retryable,
            message,
            ..
        } => {
            assert_eq!(code.as_deref(), Some("FieldInvalid"));
            assert!(message.contains("ZZ-999/9"), "{message}");
            assert!(!retryable);
        }
        other => panic!("{other}"),
    }

    // An injected 400: not retryable.
    ctl.fault(json!({"system": "sage300", "type": "status", "status": 400,
        "path_contains": "ARCustomers", "times": 1}))
        .await;
    let err = erp.customer_exists("2000").await.unwrap_err();
    assert!(
        matches!(
            err,
            ConnectorError::Refused {
                status: 400,
                retryable: false,
                ..
            }
        ),
        "{err}"
    );

    // 429 with Retry-After.
    ctl.fault(
        json!({"system": "sage300", "type": "rate_limit", "retry_after_secs": 7, "times": 1}),
    )
    .await;
    let err = erp.ping().await.unwrap_err();
    assert_eq!(
        err.retry_after(),
        Some(std::time::Duration::from_secs(7)),
        "{err}"
    );
    assert!(err.is_retryable());

    // The database is offline: DBLinkError, retryable.
    ctl.post("/sage300/variants", json!({"offline": true}))
        .await;
    let err = erp.ping().await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Refused { code: Some(c), retryable: true, .. } if c == "DBLinkError"),
        "{err}"
    );
    ctl.post("/sage300/variants", json!({"offline": false}))
        .await;

    // Malformed JSON: Decode, outcome unknown.
    ctl.fault(json!({"system": "sage300", "type": "malformed", "times": 1}))
        .await;
    let err = erp.ping().await.unwrap_err();
    assert!(matches!(err, ConnectorError::Decode { .. }), "{err}");
}

#[tokio::test]
async fn a_lost_answer_is_unreachable_and_find_order_then_finds_it() {
    let sb = sandbox().await;
    let mut settings = sage_settings(&sb);
    settings.timeout = std::time::Duration::from_millis(500);
    let erp = Sage300::new(settings).unwrap();
    let ctl = Control::new(&sb);
    ctl.fault(
        json!({"system": "sage300", "type": "timeout_after_write", "ms": 3000,
        "method": "POST", "path_contains": "OEOrders", "times": 1}),
    )
    .await;
    let first = order("WC-LOST-1");
    let err = erp.post_order(&first).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err}");
    assert!(err.outcome_unknown() && err.is_retryable());
    // The write was applied: the look before the retry finds it.
    assert!(erp.find_order(&first.reference).await.unwrap().is_some());

    // A dropped connection after the write: the same.
    ctl.fault(json!({"system": "sage300", "type": "drop_after_write",
        "method": "POST", "path_contains": "OEOrders", "times": 1}))
        .await;
    let second = order("WC-LOST-2");
    let err = erp.post_order(&second).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    assert!(erp.find_order(&second.reference).await.unwrap().is_some());
}

#[tokio::test]
async fn credit_notes_are_found_before_they_are_created() {
    let sb = sandbox().await;
    let erp = sage(&sb);
    let number = erp.post_order(&order("WC-2001")).await.unwrap();
    let note = ErpCreditNote {
        reference: "WC-2001-R1".into(),
        customer_number: "2000".into(),
        order_number: number.clone(),
        date: NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(),
        lines: vec![ErpOrderLine {
            item_number: "A1-100/0".into(),
            sku: "A1-100/0".into(),
            description: "Mug".into(),
            quantity: dec("1"),
            unit_price: dec("12.50"),
        }],
        amount: dec("12.50"),
        reason: Some("Broken".into()),
    };
    assert_eq!(erp.find_credit_note(&note.reference).await.unwrap(), None);
    let cn = erp.post_credit_note(&note).await.unwrap();
    assert_eq!(
        erp.find_credit_note(&note.reference).await.unwrap(),
        Some(cn)
    );
    let stored = Control::new(&sb).get("/sage300/credit_notes").await;
    let stored = &stored.as_array().unwrap()[0];
    assert_eq!(stored["Reference"], "WC-2001-R1");
    assert_eq!(stored["CreditDebitDetails"][0]["QuantityReturned"], 1.0);
    assert!(stored["Description"].as_str().unwrap().contains(&number));

    // An amount-only refund needs a charge code; without one nothing is sent.
    let amount_only = ErpCreditNote {
        reference: "WC-2001-R2".into(),
        lines: vec![],
        ..note
    };
    let err = erp.post_credit_note(&amount_only).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Invalid { .. }), "{err}");
}

#[tokio::test]
async fn customers_are_created_found_and_updated() {
    let sb = sandbox().await;
    let erp = sage(&sb);
    // A demo customer by e-mail.
    let email = Email::new("olivia.smith0@example.com").unwrap();
    assert_eq!(
        erp.find_customer_by_email(&email).await.unwrap(),
        Some("2000".into())
    );
    assert!(erp.customer_exists("2000").await.unwrap());
    assert!(!erp.customer_exists("WEB0001").await.unwrap());

    let mut customer = ErpCustomer {
        number: "WEB0001".into(),
        name: "Zoë O'Hara".into(),
        email: Some(Email::new("zoe.ohara@example.com").unwrap()),
        phone: Some("604-555-0100".into()),
        contact: Some("Zoë O'Hara".into()),
        address: Some(Address {
            first_name: "Zoë".into(),
            last_name: "O'Hara".into(),
            company: None,
            line1: "9 Oak Ave".into(),
            line2: None,
            city: "Victoria".into(),
            region: Some("BC".into()),
            postal_code: Some("V8W 1A1".into()),
            country: "CA".into(),
            phone: None,
        }),
        group: None,
    };
    assert_eq!(erp.create_customer(&customer).await.unwrap(), "WEB0001");
    assert!(erp.customer_exists("WEB0001").await.unwrap());
    assert_eq!(
        erp.find_customer_by_email(customer.email.as_ref().unwrap())
            .await
            .unwrap(),
        Some("WEB0001".into())
    );
    // Creating it again is a duplicate, not retryable.
    let err = erp.create_customer(&customer).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Refused { code: Some(c), retryable: false, .. } if c == "RecordDuplicate"),
        "{err}"
    );

    customer.address.as_mut().unwrap().city = "Nanaimo".into();
    customer.phone = Some("250-555-0199".into());
    erp.update_customer(&customer).await.unwrap();
    let all = Control::new(&sb).get("/sage300/customers").await;
    let stored = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["CustomerNumber"] == "WEB0001")
        .unwrap();
    assert_eq!(stored["City"], "Nanaimo");
    assert_eq!(stored["PhoneNumber"], "250-555-0199");
    assert_eq!(stored["Email"], "zoe.ohara@example.com");
    assert_eq!(stored["CustomerName"], "Zoë O'Hara");

    // An invalid number is refused before anything is sent.
    customer.number = "web 1".into();
    assert!(matches!(
        erp.create_customer(&customer).await,
        Err(ConnectorError::Invalid { .. })
    ));
}

#[tokio::test]
async fn items_changed_since_merges_items_prices_and_quantities() {
    let sb = sandbox().await;
    let erp = sage(&sb);
    let ctl = Control::new(&sb);
    assert!(erp.item_exists("A1-100/0").await.unwrap());
    assert!(!erp.item_exists("ZZ-000/0").await.unwrap());

    // Everything: 400 demo items over several pages of every feed.
    let all = erp
        .items_changed_since(None, Some("STD"), &[])
        .await
        .unwrap();
    assert_eq!(all.len(), 400);
    assert!(all
        .iter()
        .all(|i| i.item_number.contains('-') && i.item_number.contains('/')));
    assert!(all.iter().all(|i| i.price.is_some()));

    // Nothing changed since a later day.
    ctl.post("/sage300/clock", json!({"today": "2030-01-15"}))
        .await;
    let since = NaiveDate::from_ymd_opt(2030, 1, 10).unwrap();
    assert!(erp
        .items_changed_since(Some(since), Some("STD"), &[])
        .await
        .unwrap()
        .is_empty());

    // A price change and a quantity change, on two items.
    ctl.post(
        "/sage300/prices",
        json!([{"item_number": "A1-105/0", "price": 42.5}]),
    )
    .await;
    ctl.post(
        "/sage300/quantities",
        json!([{"item_number": "A3-120/0", "location": "2", "quantity_on_hand": 17}]),
    )
    .await;
    let changed = erp
        .items_changed_since(Some(since), Some("STD"), &["1".into(), "2".into()])
        .await
        .unwrap();
    let numbers: Vec<&str> = changed.iter().map(|i| i.item_number.as_str()).collect();
    assert_eq!(numbers, ["A1-105/0", "A3-120/0"]);
    let today = NaiveDate::from_ymd_opt(2030, 1, 15).unwrap();
    assert_eq!(changed[0].price, Some(dec("42.5")));
    assert_eq!(changed[0].last_maintained, today);
    assert!(!changed[0].description.is_empty());
    assert_eq!(changed[1].last_maintained, today);
    assert!(changed[1].price.is_some());
    // Its quantity is the sum over locations 1 and 2 (on hand less open
    // sales orders), read from the full location rows.
    let before = all.iter().find(|i| i.item_number == "A3-120/0").unwrap();
    assert!(before.quantity_available.is_some());
    let q = changed[1].quantity_available.unwrap();
    assert!(q >= dec("17"), "{q}");

    // The v3 spellings: `odata.count` as a string, `datetime'...'` only.
    ctl.post(
        "/sage300/variants",
        json!({"count_style": "v3", "date_literals": "v3", "next_link": false}),
    )
    .await;
    let erp_v3 = sage(&sb);
    let changed_v3 = erp_v3
        .items_changed_since(Some(since), Some("STD"), &["1".into(), "2".into()])
        .await
        .unwrap();
    assert_eq!(changed_v3, changed);
    let all_v3 = erp_v3.items_changed_since(None, None, &[]).await.unwrap();
    assert_eq!(all_v3.len(), 400);
    assert!(all_v3.iter().all(|i| i.price.is_none()));
}

#[tokio::test]
async fn paging_reads_every_page_with_small_server_pages() {
    let sb = sandbox().await;
    let ctl = Control::new(&sb);
    ctl.post(
        "/sage300/variants",
        json!({"page_size": 7, "next_link": false}),
    )
    .await;
    let all = sage(&sb)
        .items_changed_since(None, Some("STD"), &[])
        .await
        .unwrap();
    assert_eq!(all.len(), 400);
}
