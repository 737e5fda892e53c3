//! Independent clients drive the sandbox: the official Python libraries of
//! the systems (installed into `.venv` by `scripts/test`, see
//! `tests/python/requirements.txt`), run against a sandbox on a free port.

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
