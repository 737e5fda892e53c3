//! The sandbox's common machinery: manifest, fault rules, received log, and
//! its independence from the connectors it checks.

use mlc_sandbox::{Sandbox, SandboxOptions, System};
use serde_json::{json, Value};

#[tokio::test]
async fn the_manifest_names_a_base_url_per_system() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let manifest: Value = reqwest::get(format!("http://{}/_sandbox/manifest", sandbox.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest, sandbox.manifest());
    for system in sandbox.world().systems() {
        let base = manifest[system.prefix()]["base_url"].as_str().unwrap();
        assert!(
            base.starts_with(&format!("http://{}/{}/", sandbox.addr(), system.prefix())),
            "{base}"
        );
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn fault_rules_strike_the_matching_requests_only() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let control = format!("http://{}/_sandbox", sandbox.addr());
    let client = reqwest::Client::new();
    let rule = json!({ "system": "sage300", "type": "status", "status": 503, "path_contains": "/faulty", "times": 2 });
    let created: Value = client
        .post(format!("{control}/faults"))
        .json(&rule)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_u64().unwrap();
    let listed: Value = client
        .get(format!("{control}/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["times"], 2);

    let faulty = format!("http://{}/sage300/faulty", sandbox.addr());
    assert_eq!(client.get(&faulty).send().await.unwrap().status(), 503);
    let other = format!("http://{}/sage300/elsewhere", sandbox.addr());
    assert_ne!(
        client.get(&other).send().await.unwrap().status(),
        503,
        "another path is not struck"
    );
    assert_eq!(client.get(&faulty).send().await.unwrap().status(), 503);
    assert_ne!(
        client.get(&faulty).send().await.unwrap().status(),
        503,
        "spent after two strikes"
    );
    let listed: Value = client
        .get(format!("{control}/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));

    let id = sandbox.world().faults.add(
        serde_json::from_value(
            json!({ "system": "woocommerce", "type": "rate_limit", "retry_after_secs": 7 }),
        )
        .unwrap(),
    );
    let limited = client
        .get(format!("http://{}/woocommerce/anything", sandbox.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "7");
    assert_eq!(
        client
            .delete(format!("{control}/faults/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        client
            .delete(format!("{control}/faults/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn a_dropped_connection_is_an_error_for_the_client() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    sandbox
        .world()
        .faults
        .add(serde_json::from_value(json!({ "system": "sage300", "type": "drop" })).unwrap());
    let result = async {
        reqwest::get(format!("http://{}/sage300/x", sandbox.addr()))
            .await?
            .bytes()
            .await
    }
    .await;
    assert!(result.is_err(), "the body must break off: {result:?}");
    sandbox.stop().await;
}

#[tokio::test]
async fn unknown_systems_are_named_in_the_error() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let response = reqwest::get(format!(
        "http://{}/_sandbox/sage400/received",
        sandbox.addr()
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unknown system 'sage400'"),
        "{body}"
    );
    let received: Value = reqwest::get(format!(
        "http://{}/_sandbox/sage300/received",
        sandbox.addr()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(received, json!([]));
    sandbox.stop().await;
}

#[test]
fn every_system_has_a_distinct_prefix() {
    let mut prefixes: Vec<&str> = System::ALL.iter().map(|s| s.prefix()).collect();
    prefixes.sort();
    prefixes.dedup();
    assert_eq!(prefixes.len(), 7);
    assert!(System::ALL
        .iter()
        .all(|s| System::from_prefix(s.prefix()) == Some(*s)));
}

/// The sandbox plays the outside world for the connectors: sharing their code
/// or wire types would make it agree with them by construction.
#[test]
fn the_sandbox_does_not_depend_on_the_connectors() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let manifest = std::fs::read_to_string(format!("{dir}/Cargo.toml")).unwrap();
    let dependencies: Vec<&str> = manifest
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter(|l| {
            l.contains("connectors") || l.contains("mlc-domain") || l.contains("mlc-config")
        })
        .collect();
    assert!(
        dependencies.is_empty(),
        "sandbox/Cargo.toml depends on our code: {dependencies:?}"
    );
    let mut stack = vec![std::path::PathBuf::from(format!("{dir}/src"))];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for forbidden in ["mlc_connectors", "mlc_domain", "mlc_config"] {
                assert!(
                    !text.contains(forbidden),
                    "{} uses {forbidden}",
                    path.display()
                );
            }
        }
    }
}
