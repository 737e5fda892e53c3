//! No configured secret leaks: after a full run (refunds, Sage 300 faults,
//! a webhook outage, refused deliveries) with distinctive secrets, neither
//! the event store (every row of every table: events, projections,
//! checkpoints, tokens), nor the service's debug logs, nor any API
//! response holds a secret or its base64 / URL-encoded forms.

use std::collections::BTreeSet;
use std::fs::File;
use std::process::Stdio;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use mlc_store::testing::TestDatabase;
use mlc_workload::{verify, Expectations, FaultProfile, Workload};
use serde_json::{json, Value};
use sqlx::{Column, Row};

use crate::{config_for, ml_connector, s, sandbox, wait_for_webhooks, Options, Service};

/// Each secret and the forms it could leak in.
fn forms(secrets: &[(String, String)]) -> Vec<(String, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut out = Vec::new();
    for (what, secret) in secrets {
        out.push((what.clone(), secret.clone()));
        out.push((format!("{what} (base64)"), b64.encode(secret)));
        out.push((format!("{what} (base64url)"), b64url.encode(secret)));
        out.push((format!("{what} (URL-encoded)"), url_encode(secret)));
        // Inside JSON, a secret with characters JSON escapes.
        let json = serde_json::to_string(secret).unwrap();
        out.push((format!("{what} (JSON)"), json[1..json.len() - 1].to_owned()));
    }
    out.sort();
    out.dedup();
    out
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every place a secret was found, as "where: which form".
fn scan(place: &str, text: &str, forms: &[(String, String)], found: &mut BTreeSet<String>) {
    for (what, form) in forms {
        if text.contains(form.as_str()) {
            found.insert(format!("{place}: {what}"));
        }
    }
}

/// Every text (and blob, read as text) of every row of every table.
async fn scan_database(
    url: &str,
    forms: &[(String, String)],
    found: &mut BTreeSet<String>,
) -> usize {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t == "events"), "{tables:?}");
    let mut rows_scanned = 0;
    for table in &tables {
        let rows = sqlx::query(&format!("SELECT * FROM \"{table}\""))
            .fetch_all(&pool)
            .await
            .unwrap();
        for row in rows {
            rows_scanned += 1;
            for column in row.columns() {
                let i = column.ordinal();
                let text = if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                    text
                } else if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>, _>(i) {
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    continue;
                };
                scan(
                    &format!("table {table}.{}", column.name()),
                    &text,
                    forms,
                    found,
                );
            }
        }
    }
    pool.close().await;
    rows_scanned
}

/// An admin token from `ml-connector tokens create`, when the binary has
/// API tokens.
fn create_token(database_url: &str, dir: &std::path::Path) -> Option<String> {
    let output = ml_connector()
        .args(["--data-dir", dir.to_str().unwrap()])
        .args(["--database-url", database_url])
        .args([
            "tokens",
            "create",
            "--role",
            "admin",
            "--name",
            "secrets-scan",
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
}

/// `GET` paths of the OpenAPI document, with path parameters filled in
/// from `values` (a route whose parameter has no value is skipped).
fn get_routes(openapi: &Value, values: &[(&str, String)]) -> Vec<String> {
    let mut routes = Vec::new();
    let Some(paths) = openapi["paths"].as_object() else {
        return routes;
    };
    'paths: for (path, item) in paths {
        if item.get("get").is_none() {
            continue;
        }
        let mut filled = path.clone();
        while let Some(start) = filled.find('{') {
            let end = filled[start..].find('}').unwrap() + start;
            let name = filled[start + 1..end].to_owned();
            let Some((_, value)) = values.iter().find(|(k, _)| name.contains(k)) else {
                continue 'paths;
            };
            filled.replace_range(start..=end, value);
        }
        routes.push(filled);
    }
    routes
}

#[tokio::test(flavor = "multi_thread")]
async fn no_configured_secret_leaks_into_the_store_the_logs_or_the_api() {
    let (sandbox, control) = sandbox().await;
    let manifest = sandbox.manifest();
    // A key pair of its own for this run: distinctive strings to look for.
    let key = control
        .post(
            "/_sandbox/woocommerce/keys",
            json!({"permissions": "read_write"}),
        )
        .await
        .unwrap();
    let consumer_key = s(&key, "consumer_key").to_owned();
    let consumer_secret = s(&key, "consumer_secret").to_owned();
    let webhook_secret = "whsec_Scan-9f3K/q+7?&Zt=telemetry".to_owned();
    let sage = &manifest["sage300"];
    let sage_basic = format!("{}:{}", s(sage, "username"), s(sage, "password"));

    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(&db.url, dir.path());
    assert!(token.is_some(), "ml-connector tokens create failed");
    let mut secrets = vec![
        ("WooCommerce consumer key".to_owned(), consumer_key.clone()),
        (
            "WooCommerce consumer secret".to_owned(),
            consumer_secret.clone(),
        ),
        ("webhook secret".to_owned(), webhook_secret.clone()),
        (
            "WooCommerce key pair (Basic)".to_owned(),
            format!("{consumer_key}:{consumer_secret}"),
        ),
        ("Sage 300 credentials (Basic)".to_owned(), sage_basic),
    ];
    if let Some(token) = &token {
        secrets.push(("API token".to_owned(), token.clone()));
    }
    let forms = forms(&secrets);

    let config = config_for(
        &manifest,
        &Options {
            consumer_key: consumer_key.clone(),
            consumer_secret: consumer_secret.clone(),
            webhook_secret: webhook_secret.clone(),
            log_level: "debug",
            otlp_endpoint: None,
        },
    );
    let log_path = dir.path().join("service.log");
    let service = Service::start(
        dir.path(),
        &config,
        &db.url,
        Stdio::from(File::create(&log_path).unwrap()),
        &[],
    );
    wait_for_webhooks(&control).await;

    // Refusals: a bad signature, an unknown instance.
    let http = reqwest::Client::new();
    let refused = http
        .post(service.url("/webhooks/shop"))
        .header("X-WC-Webhook-Topic", "order.created")
        .header("X-WC-Webhook-Signature", "bm90IGEgc2lnbmF0dXJl")
        .body(r#"{"id": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let unknown = http
        .post(service.url("/webhooks/nobody"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let mut bodies = vec![
        (
            "POST /webhooks/shop (bad signature)".to_owned(),
            refused.text().await.unwrap(),
        ),
        (
            "POST /webhooks/nobody".to_owned(),
            unknown.text().await.unwrap(),
        ),
    ];

    let workload = Workload {
        orders: 30,
        concurrency: 6,
        refund_ratio: 0.3,
        customer_edit_ratio: 0.1,
        faults: FaultProfile::Chaos,
        seed: 13,
        run_tag: "secrets".into(),
        ..Workload::default()
    };
    let ledger = workload
        .run(&control, Arc::new(AtomicUsize::new(0)))
        .await
        .unwrap();
    assert!(ledger.errors.is_empty(), "{:?}", ledger.errors);
    let expectations = Expectations {
        order_reference: Box::new(|o| format!("WC-{}", o.number)),
        credit_note_reference: Box::new(|r| format!("WC-{}-R{}", r.order.number, r.id)),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let verdict = verify(&control, &ledger, &expectations).await.unwrap();
        if verdict.is_exact() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not finish: {verdict}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Every API response: the OpenAPI document's GET routes (with real ids),
    // health, readiness and metrics.
    let get = |path: String| {
        let mut request = http.get(service.url(&path));
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (path, status, response.text().await.unwrap())
        }
    };
    let order = &ledger.orders[0];
    let document = format!("shop/order/{}", order.id);
    let mut routes = vec![
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/metrics".to_owned(),
        "/api/openapi.json".to_owned(),
    ];
    let (_, status, openapi) = get("/api/openapi.json".to_owned()).await;
    if status == 200 {
        let openapi: Value = serde_json::from_str(&openapi).unwrap();
        routes.extend(get_routes(
            &openapi,
            &[
                ("instance", "shop".to_owned()),
                ("document", url_encode(&document)),
                ("id", url_encode(&document)),
                ("number", order.number.clone()),
            ],
        ));
    } else {
        // Without the OpenAPI document: the documented operator routes.
        routes.extend(
            [
                "/api/v1/documents".to_owned(),
                "/api/v1/documents?instance=shop".to_owned(),
                format!("/api/v1/documents/{}", url_encode(&document)),
                format!("/api/v1/documents/{}/timeline", url_encode(&document)),
                "/api/v1/failures".to_owned(),
                "/api/v1/instances".to_owned(),
                "/api/v1/instances/shop".to_owned(),
            ]
            .into_iter(),
        );
    }
    let mut answered = 0;
    for path in routes {
        let (path, status, body) = get(path).await;
        if status < 400 {
            answered += 1;
        }
        bodies.push((format!("GET {path} ({status})"), body));
    }
    assert!(answered >= 4, "{bodies:?}");

    service.stop();

    // The scan sees the secrets where they are meant to be: the configuration.
    let mut control_scan = BTreeSet::new();
    let config_text = std::fs::read_to_string(dir.path().join("ml-connector.toml")).unwrap();
    scan("configuration", &config_text, &forms, &mut control_scan);
    assert!(control_scan.len() >= 3, "{control_scan:?}");

    let mut found = BTreeSet::new();
    for (route, body) in &bodies {
        scan(&format!("response of {route}"), body, &forms, &mut found);
    }
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("DEBUG"),
        "the service logged at debug level: {} bytes",
        logs.len()
    );
    scan("service logs", &logs, &forms, &mut found);
    let rows = scan_database(&db.url, &forms, &mut found).await;
    assert!(rows > 100, "{rows} rows scanned");
    assert!(
        found.is_empty(),
        "secrets found:\n{}",
        found.into_iter().collect::<Vec<_>>().join("\n")
    );

    sandbox.stop().await;
}

#[test]
fn the_scan_finds_each_form_of_a_secret() {
    let forms = forms(&[("s".to_owned(), "a/b c+d".to_owned())]);
    for text in ["x a/b c+d y", "YS9iIGMrZA==", "a%2Fb%20c%2Bd"] {
        let mut found = BTreeSet::new();
        scan("t", text, &forms, &mut found);
        assert!(!found.is_empty(), "{text}");
    }
}
