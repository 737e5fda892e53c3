use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{ml_connector, KillOnDrop};

/// `ml-connector sandbox --seed demo --manifest FILE`: every base URL in the
/// manifest answers a request authenticated as that system wants, with the
/// credentials the manifest names.
#[tokio::test]
async fn the_sandbox_command_writes_a_manifest_whose_systems_answer() {
    let dir = tempfile::tempdir().unwrap();
    let manifest_file = dir.path().join("m.json");
    let started = Instant::now();
    let mut child = KillOnDrop(
        ml_connector()
            .args(["sandbox", "--seed", "demo", "--manifest"])
            .arg(&manifest_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
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

    let x3 = &manifest["sagex3"];
    let customers = client
        .get(format!(
            "{}{}BPCUSTOMER",
            x3["base_url"].as_str().unwrap(),
            x3["api1_path"].as_str().unwrap()
        ))
        .query(&[("representation", "BPCUSTOMER.$query"), ("count", "1")])
        .basic_auth(x3["user"].as_str().unwrap(), x3["password"].as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(customers.status(), 200);
    let customers: Value = customers.json().await.unwrap();
    assert_eq!(customers["$resources"].as_array().unwrap().len(), 1);

    let s100 = &manifest["sage100"];
    // The agent presents a self-signed certificate: trust the one in the manifest.
    let pem = s100["agent_certificate_pem"].as_str().unwrap();
    let agent = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let items = agent
        .get(format!(
            "{}/items",
            s100["agent_base_url"].as_str().unwrap()
        ))
        .query(&[("pageSize", "1")])
        .header(
            s100["agent_api_key_header"].as_str().unwrap(),
            s100["agent_api_key"].as_str().unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(items.status(), 200);
    let wsdl = client
        .get(s100["wsdl_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        wsdl.contains("CreateSalesOrder"),
        "the WSDL names the operations"
    );

    let adobe = &manifest["adobe_commerce"];
    let token: String = client
        .post(format!("{}rest/V1/integration/admin/token", adobe["base_url"].as_str().unwrap()))
        .json(&serde_json::json!({ "username": adobe["admin_username"], "password": adobe["admin_password"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let products = client
        .get(format!(
            "{}rest/V1/products",
            adobe["base_url"].as_str().unwrap()
        ))
        .query(&[("searchCriteria[pageSize]", "1")])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(products.status(), 200);
    let products: Value = products.json().await.unwrap();
    assert!(
        products["total_count"].as_u64().unwrap() >= 300,
        "{products}"
    );

    let bc = &manifest["bigcommerce"];
    let catalog = client
        .get(format!(
            "{}stores/{}/v3/catalog/products",
            bc["base_url"].as_str().unwrap(),
            bc["store_hash"].as_str().unwrap()
        ))
        .query(&[("limit", "1")])
        .header("X-Auth-Token", bc["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(catalog.status(), 200);
    assert!(catalog.headers().contains_key("x-rate-limit-requests-left"));
    let catalog: Value = catalog.json().await.unwrap();
    assert!(catalog["meta"]["pagination"]["total"].as_u64().unwrap() >= 300);

    let ss = &manifest["shipstation"];
    let orders = client
        .get(format!("{}orders", ss["base_url"].as_str().unwrap()))
        .query(&[("pageSize", "1")])
        .basic_auth(ss["api_key"].as_str().unwrap(), ss["api_secret"].as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(orders.status(), 200);
    assert!(orders.headers().contains_key("x-rate-limit-remaining"));
    let shipments = client
        .get(format!(
            "{}/v2/shipments",
            ss["v2_base_url"].as_str().unwrap()
        ))
        .header("API-Key", ss["v2_api_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(shipments.status(), 200);

    for system in [
        "sage300",
        "sagex3",
        "sage100",
        "woocommerce",
        "adobe_commerce",
        "bigcommerce",
        "shipstation",
    ] {
        assert!(
            manifest[system]["base_url"].as_str().is_some(),
            "{system} in the manifest"
        );
    }

    let refused = client
        .get(format!(
            "{}wp-json/wc/v3/products",
            woo["base_url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "no credentials, no products");

    let pid = child.0.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(child.0.wait().unwrap().success());
}
