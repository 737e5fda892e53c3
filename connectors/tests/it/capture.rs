//! Not a test: captures sandbox JSON for the unit-test fixtures
//! (`cargo test -p mlc-connectors --test it capture -- --ignored --nocapture`).

use crate::support::sandbox;
use mlc_sandbox::System;

#[tokio::test]
#[ignore]
async fn capture() {
    let sb = sandbox().await;
    let manifest = sb.manifest();
    let wc = &manifest["woocommerce"];

    let http = reqwest::Client::new();
    let ctl = format!("http://{}/_sandbox/woocommerce", sb.addr());
    let placed: serde_json::Value = http
        .post(format!("{ctl}/orders"))
        .json(&serde_json::json!({
            "customer_id": 2,
            "lines": [{"sku": "A1-100/0", "quantity": 2}, {"sku": "A2-150/0", "quantity": 1}],
            "shipping_total": "7.50",
            "tax_rate": 13,
            "customer_note": "Leave at the door / merci — thanks",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = placed["id"].as_u64().unwrap();
    let base = sb.base_url(System::Woocommerce);
    let key = wc["consumer_key"].as_str().unwrap_or("").to_string();
    let secret = wc["consumer_secret"].as_str().unwrap_or("").to_string();
    for path in [format!("orders/{id}"), "customers/2".to_string()] {
        let body = http
            .get(format!("{base}wp-json/wc/v3/{path}"))
            .query(&[("consumer_key", &key), ("consumer_secret", &secret)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        println!("BODY {path}\n{body}");
    }
}
