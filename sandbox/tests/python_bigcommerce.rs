//! Independent clients drive the BigCommerce sandbox: the official
//! `bigcommerce` Python library lists orders (v2, through its 204 at the
//! end) and products (v3), and the `standardwebhooks` library verifies a
//! delivery the sandbox signed (facts §2.9). Installed into `.venv` by
//! `scripts/test` from `tests/python/requirements.txt`.

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
