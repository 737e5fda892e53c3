use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ml_connector;

/// `ml-connector sandbox --seed demo --manifest FILE`: every base URL in the
/// manifest answers a request authenticated as that system wants, with the
/// credentials the manifest names.
#[tokio::test]
async fn the_sandbox_command_writes_a_manifest_whose_systems_answer() {
    let dir = tempfile::tempdir().unwrap();
    let manifest_file = dir.path().join("m.json");
    let started = Instant::now();
    let mut child = ml_connector()
        .args(["sandbox", "--seed", "demo", "--manifest"])
        .arg(&manifest_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let manifest: Value = loop {
        if let Ok(text) = std::fs::read_to_string(&manifest_file) {
            if let Ok(manifest) = serde_json::from_str(&text) {
                break manifest;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no manifest written"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    eprintln!(
        "sandbox manifest written {:?} after start",
        started.elapsed()
    );
    let client = reqwest::Client::new();

    let sage = &manifest["sage300"];
    let items = client
        .get(format!(
            "{}{}/IC/ICItems?$top=1",
            sage["base_url"].as_str().unwrap(),
            sage["company"].as_str().unwrap()
        ))
        .basic_auth(
            sage["username"].as_str().unwrap(),
            sage["password"].as_str(),
        )
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(items.status(), 200);
    let items: Value = items.json().await.unwrap();
    assert_eq!(items["value"].as_array().unwrap().len(), 1);

    let woo = &manifest["woocommerce"];
    let products = client
        .get(format!(
            "{}wp-json/wc/v3/products",
            woo["base_url"].as_str().unwrap()
        ))
        .query(&[
            ("per_page", "1"),
            ("consumer_key", woo["consumer_key"].as_str().unwrap()),
            ("consumer_secret", woo["consumer_secret"].as_str().unwrap()),
        ])
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(products.status(), 200);
    let total: u32 = products.headers()["x-wp-total"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total >= 300, "demo shop has {total} products");

    let refused = client
        .get(format!(
            "{}wp-json/wc/v3/products",
            woo["base_url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "no credentials, no products");

    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(child.wait().unwrap().success());
}
