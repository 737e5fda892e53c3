//! A standard SOAP client drives the Sage 100 eBusiness Web Services of the
//! sandbox: Python's `zeep` (installed into `.venv` by `scripts/test`, see
//! `tests/python/requirements.txt`) loads the served WSDL and calls it.

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
