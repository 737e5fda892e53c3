//! The WooCommerce connector against the sandbox's store, over plain HTTP
//! (OAuth 1.0a).

use std::str::FromStr;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use mlc_connectors::woocommerce::WooCommerce;
use mlc_connectors::{ConnectorError, ProductUpdate, Storefront, WebhookStatus};
use mlc_domain::model::{OrderStatus, Sku};
use reqwest::Method;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::json;

use crate::support::{sandbox, woo, woo_settings, Control};

fn sku(s: &str) -> Sku {
    Sku::new(s).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

async fn place(ctl: &Control, customer_id: u64, lines: serde_json::Value) -> u64 {
    ctl.post(
        "/woocommerce/orders",
        json!({"customer_id": customer_id, "lines": lines, "shipping_total": "5.00", "tax_rate": 5}),
    )
    .await["id"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn oauth_signs_over_http_and_bad_keys_are_unauthorized() {
    let sb = sandbox().await;
    let store = woo(&sb);
    store.ping().await.unwrap();
    // Many calls in a row: every nonce is fresh.
    for _ in 0..5 {
        store.ping().await.unwrap();
    }

    let mut wrong = woo_settings(&sb);
    wrong.consumer_secret = SecretString::from("cs_wrong_secret".to_owned());
    let err = WooCommerce::new(wrong).unwrap().ping().await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        !text.contains("cs_wrong_secret") && !text.contains("oauth_signature"),
        "{text}"
    );
    assert!(
        !text.contains("oauth_consumer_key") && !text.contains("ck_"),
        "{text}"
    );

    let mut unknown = woo_settings(&sb);
    unknown.consumer_key = SecretString::from("ck_nobody".to_owned());
    let err = WooCommerce::new(unknown).unwrap().ping().await.unwrap_err();
    assert!(matches!(err, ConnectorError::Unauthorized { .. }), "{err}");
}

#[tokio::test]
async fn orders_customers_and_refunds_are_read() {
    let sb = sandbox().await;
    let store = woo(&sb);
    let ctl = Control::new(&sb);
    let id = place(
        &ctl,
        3,
        json!([{"sku": "A1-101/0", "quantity": 3}, {"sku": "A4-199/0", "quantity": 1}]),
    )
    .await;
    let order = store.order(&id.to_string()).await.unwrap();
    assert_eq!(order.source_id, id.to_string());
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].sku.as_str(), "A1-101/0");
    assert_eq!(order.lines[0].quantity, dec("3"));
    assert_eq!(order.customer.source_id.as_deref(), Some("3"));
    order.check_totals().unwrap();

    let customer = store.customer("3").await.unwrap();
    assert_eq!(customer.source_id.as_deref(), Some("3"));
    assert!(customer.email.is_some());

    ctl.post(
        &format!("/woocommerce/orders/{id}/refunds"),
        json!({"reason": "Damaged", "lines": [{"sku": "A1-101/0", "quantity": 1}]}),
    )
    .await;
    let refunds = store.refunds(&id.to_string()).await.unwrap();
    assert_eq!(refunds.len(), 1);
    let r = &refunds[0];
    assert_eq!(r.order_source_id, id.to_string());
    assert_eq!(r.reason.as_deref(), Some("Damaged"));
    assert_eq!(r.lines.len(), 1);
    assert_eq!(r.lines[0].sku.as_str(), "A1-101/0");
    assert_eq!(r.lines[0].quantity, dec("1"));
    assert!(r.amount.amount > Decimal::ZERO);
    assert_eq!(r.amount.currency, order.currency);

    // Unknown ids: 404, not retryable.
    let err = store.order("999999").await.unwrap_err();
    assert!(
        matches!(
            err,
            ConnectorError::Refused {
                status: 404,
                retryable: false,
                ..
            }
        ),
        "{err}"
    );
    let err = store.order("abc").await.unwrap_err();
    assert!(matches!(err, ConnectorError::Invalid { .. }), "{err}");
}

#[tokio::test]
async fn orders_modified_after_reads_every_page_oldest_first() {
    let sb = sandbox().await;
    let store = woo(&sb);
    let ctl = Control::new(&sb);
    let everything = store
        .orders_modified_after(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap())
        .await
        .unwrap();
    assert!(!everything.is_empty());
    // More than a page: place orders until the store has over 100.
    for i in 0..(101usize.saturating_sub(everything.len()) + 5) {
        place(
            &ctl,
            2 + (i as u64 % 5),
            json!([{"sku": "A2-120/0", "quantity": 1}]),
        )
        .await;
    }
    let all = store
        .orders_modified_after(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap())
        .await
        .unwrap();
    assert!(all.len() > 100, "{}", all.len());
    assert!(all.windows(2).all(|w| w[0].modified_at <= w[1].modified_at));
    let mut ids: Vec<&str> = all.iter().map(|o| o.source_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len());

    // Only what changed after a point.
    let id = place(&ctl, 4, json!([{"sku": "A3-130/0", "quantity": 2}])).await;
    ctl.call(
        Method::PUT,
        &format!("/woocommerce/orders/{id}"),
        json!({"status": "completed", "date_modified_gmt": "2035-06-01T10:00:00"}),
    )
    .await;
    let recent = store
        .orders_modified_after(Utc.with_ymd_and_hms(2035, 1, 1, 0, 0, 0).unwrap())
        .await
        .unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].source_id, id.to_string());
    assert_eq!(recent[0].status, OrderStatus::Completed);
}

#[tokio::test]
async fn products_are_found_by_sku_and_batch_updates_are_visible() {
    let sb = sandbox().await;
    let store = woo(&sb);
    let found = store
        .products_by_sku(&[sku("A1-100/0"), sku("A3-150/0"), sku("NOPE-1")])
        .await
        .unwrap();
    let skus: Vec<&str> = found.iter().map(|p| p.sku.as_str()).collect();
    assert_eq!(skus, ["A1-100/0", "A3-150/0"]);
    assert!(found
        .iter()
        .all(|p| p.price.is_some() && p.stock_quantity.is_some()));

    // 150 products: two batch calls.
    let wanted: Vec<Sku> = (0..150)
        .map(|i| sku(&format!("A{}-{}/0", 1 + i / 100, 100 + i % 100)))
        .collect();
    let products = store.products_by_sku(&wanted).await.unwrap();
    assert_eq!(products.len(), 150);
    let updates: Vec<ProductUpdate> = products
        .iter()
        .enumerate()
        .map(|(i, p)| ProductUpdate {
            product: p.clone(),
            price: Some(dec("19.90") + Decimal::from(i as u64)),
            stock_quantity: Some(Decimal::from(i as u64 % 7)),
        })
        .collect();
    store.update_products(&updates).await.unwrap();
    let after = store.products_by_sku(&wanted).await.unwrap();
    for u in &updates {
        let p = after.iter().find(|p| p.id == u.product.id).unwrap();
        assert_eq!(p.price, u.price, "{}", p.sku);
        assert_eq!(p.stock_quantity, u.stock_quantity, "{}", p.sku);
    }
    let received = Control::new(&sb).get("/woocommerce/received").await;
    let batches = received
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.contains("products/batch"))
        })
        .count();
    assert_eq!(batches, 2);
}

#[tokio::test]
async fn webhooks_are_created_listed_and_reactivated() {
    let sb = sandbox().await;
    let store = woo(&sb);
    let ctl = Control::new(&sb);
    // Deliveries to a closed port fail; the seventh failure disables it.
    let hook = store
        .create_webhook(
            "order.created",
            "http://127.0.0.1:9/hooks/wc",
            "s3cret-Value",
        )
        .await
        .unwrap();
    assert_eq!(hook.topic, "order.created");
    assert_eq!(hook.status, WebhookStatus::Active);
    let listed = store.webhooks().await.unwrap();
    assert!(listed
        .iter()
        .any(|w| w.id == hook.id && w.delivery_url == "http://127.0.0.1:9/hooks/wc"));
    let secrets = ctl.get("/woocommerce/webhooks").await;
    assert!(secrets
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["secret"] == "s3cret-Value"));

    for _ in 0..7 {
        place(&ctl, 2, json!([{"sku": "A1-100/0", "quantity": 1}])).await;
    }
    let mut status = WebhookStatus::Active;
    for _ in 0..100 {
        status = store
            .webhooks()
            .await
            .unwrap()
            .into_iter()
            .find(|w| w.id == hook.id)
            .unwrap()
            .status;
        if status == WebhookStatus::Disabled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, WebhookStatus::Disabled);
    let again = store.activate_webhook(&hook.id).await.unwrap();
    assert_eq!(again.status, WebhookStatus::Active);

    // A bad topic is the store's 400, not retryable.
    let err = store
        .create_webhook("order.exploded", "http://127.0.0.1:9/x", "s")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Refused { status: 400, code: Some(c), retryable: false, .. } if c == "woocommerce_rest_shop_webhook_invalid_topic"),
        "{err}"
    );
}

#[tokio::test]
async fn store_errors_are_decoded() {
    let sb = sandbox().await;
    let store = woo(&sb);
    let ctl = Control::new(&sb);
    ctl.fault(json!({"system": "woocommerce", "type": "status", "status": 503, "times": 1}))
        .await;
    let err = store.ping().await.unwrap_err();
    assert!(
        matches!(
            err,
            ConnectorError::Refused {
                status: 503,
                retryable: true,
                ..
            }
        ),
        "{err}"
    );
    ctl.fault(
        json!({"system": "woocommerce", "type": "rate_limit", "retry_after_secs": 3, "times": 1}),
    )
    .await;
    let err = store.ping().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    ctl.fault(json!({"system": "woocommerce", "type": "drop", "times": 1}))
        .await;
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err}");
    assert!(!err.to_string().contains("oauth_signature"), "{err}");
}
