//! Independent clients drive the sandbox: the official Python libraries of
//! the systems (installed into `.venv` by `scripts/test`, see
//! `tests/python/requirements.txt`), run against a sandbox on a free port:
//! `woocommerce` lists, pages and creates; `bigcommerce` lists orders (v2,
//! through its 204 at the end) and products (v3) and `standardwebhooks`
//! verifies a delivery the sandbox signed (facts 2.9); `zeep` reads the
//! Sage 100 WSDL and calls its operations.

use std::path::PathBuf;
use std::process::Command;

use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use serde_json::Value;

/// The Python with the clients installed: `MLC_TEST_PYTHON`, else the
/// workspace's `.venv`. Missing is a failure, never a skip.
fn python() -> PathBuf {
    if let Ok(python) = std::env::var("MLC_TEST_PYTHON") {
        return python.into();
    }
    let venv = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python"));
    assert!(venv.exists(), "no Python clients: run scripts/test, which creates .venv from sandbox/tests/python/requirements.txt");
    venv
}

/// Runs `script` with the sandbox's manifest; returns the JSON it prints.
async fn run_client(sandbox: &Sandbox, script: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.json");
    std::fs::write(&manifest, sandbox.manifest().to_string()).unwrap();
    let script = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let python = python();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(&script)
            .arg(&manifest)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test]
async fn the_official_woocommerce_library_lists_pages_and_creates() {
    let sandbox = Sandbox::start(SandboxOptions {
        seed: Seed::Demo,
        ..Default::default()
    })
    .await
    .unwrap();
    let summary = run_client(&sandbox, "woocommerce_client.py").await;
    let total = summary["total"].as_u64().unwrap();
    assert!(total >= 300, "{summary}");
    assert_eq!(
        summary["seen"].as_u64().unwrap(),
        total,
        "paging reached every product: {summary}"
    );
    assert_eq!(summary["pages"].as_u64().unwrap(), total.div_ceil(50));
    assert_eq!(summary["past_the_end"], 0);
    assert_eq!(summary["created_price"], "12.50");
    assert_eq!(summary["found"], serde_json::json!([summary["created_id"]]));
    assert_eq!(summary["refused_status"], 401);
    assert!(
        summary["refused_code"]
            .as_str()
            .unwrap()
            .starts_with("woocommerce_rest"),
        "{summary}"
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn the_official_bigcommerce_library_lists_and_standardwebhooks_verifies() {
    let sandbox = Sandbox::start(SandboxOptions {
        seed: Seed::Demo,
        ..Default::default()
    })
    .await
    .unwrap();
    let s = run_client(&sandbox, "bigcommerce_client.py").await;
    // Orders v2: iterall stops at the 204; 60 demo orders in pages of 25.
    assert_eq!(s["orders_iterated"], 60, "{s}");
    assert_eq!(s["orders_paged"], 60, "{s}");
    assert_eq!(s["order_pages"], 3, "{s}");
    assert_eq!(s["rate_limit"]["requests_quota"], 150, "{s}");
    assert_eq!(s["rate_limit"]["window_size_ms"], 30000, "{s}");
    assert!(s["first_order_lines"].as_u64().unwrap() >= 1, "{s}");
    // Products v3 with meta.pagination.
    assert_eq!(s["products_total"], 400, "{s}");
    assert_eq!(s["products_seen"], 400, "{s}");
    assert_eq!(
        s["product_skus"],
        serde_json::json!(["A1-100/0", "A4-199/0"])
    );
    assert_eq!(s["refused_status"], 401, "{s}");
    // The delivery verified with the docs' recipe.
    assert_eq!(s["verified_scope"], "store/order/created", "{s}");
    assert_eq!(s["verified_order"], s["placed_order"], "{s}");
    assert_eq!(s["wrong_secret_rejected"], true, "{s}");
    sandbox.stop().await;
}

#[tokio::test]
async fn zeep_reads_the_wsdl_and_creates_and_reads_a_sales_order() {
    let sandbox = Sandbox::start(SandboxOptions {
        seed: Seed::Demo,
        ..Default::default()
    })
    .await
    .unwrap();
    let summary = run_client(&sandbox, "sage100_client.py").await;
    assert!(
        summary["contract_version"].as_i64().unwrap() >= 1,
        "{summary}"
    );
    assert_eq!(summary["null_datetime"], "0001-01-01T00:00:00");
    assert_eq!(summary["customer_no"], "0002000");
    assert!(summary["customer_email"].as_str().unwrap().contains('@'));
    assert_eq!(summary["created_customer"], "PYZEEP1");
    assert_eq!(summary["created"], summary["next_number"]);
    assert_eq!(summary["order_no"], summary["next_number"]);
    assert_eq!(summary["order_customer"], "PYZEEP1");
    assert_eq!(summary["order_po"], "PY-1001");
    assert_eq!(summary["order_date"], "2025-03-01T00:00:00");
    assert_eq!(summary["lines"][0][0], "A1-100/0");
    assert_eq!(summary["lines"][0][2], "25");
    assert_eq!(summary["lines"][1][0], "A4-199/0");
    assert_eq!(summary["updated_comment"], "Leave at the door");
    assert_eq!(summary["updated_lines"], 2);
    assert_eq!(summary["updated_ship_expire"], "0001-01-01T00:00:00");
    assert!(
        summary["refused"]
            .as_str()
            .unwrap()
            .contains("user name or password"),
        "{summary}"
    );
    assert!(summary["missing"].as_str().unwrap().contains("9999999"));
    sandbox.stop().await;
}
