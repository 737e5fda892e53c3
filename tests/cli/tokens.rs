//! `ml-connector tokens` as an admin runs it, on SQLite and PostgreSQL: a
//! created token is alone on the last line, works against a running
//! `serve` with its role's rights, is listed without its secret, and is
//! refused (401) once revoked.

use std::process::Output;

use mlc_store::testing::TestDatabase;

use crate::{ml_connector, write_config, Server};

fn run(db_args: &[&str], args: &[&str]) -> Output {
    ml_connector().args(db_args).args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

async fn status(base: &str, method: reqwest::Method, path: &str, token: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new().request(method.clone(), format!("{base}{path}"));
    if method == reqwest::Method::POST {
        request = request.json(&serde_json::json!({"dry_run": true}));
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn tokens_are_created_used_listed_and_revoked(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let data_dir = dir.path().join("data");
    let db_args = [
        "--database-url",
        &db.url,
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];
    ok(&run(&db_args, &["migrate"]));

    let out = ok(&run(
        &db_args,
        &[
            "tokens",
            "create",
            "--role",
            "viewer",
            "--name",
            "back-office",
        ],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() >= 2, "a notice, then the token: {out}");
    let viewer = lines.last().unwrap().to_string();
    assert!(viewer.starts_with("mlc_") && !viewer.contains(' '), "{out}");
    assert_eq!(out.matches(&viewer).count(), 1, "shown once: {out}");
    let operator = ok(&run(&db_args, &["tokens", "create", "--role", "operator"]))
        .lines()
        .last()
        .unwrap()
        .to_string();
    let bad = run(&db_args, &["tokens", "create", "--role", "root"]);
    assert!(!bad.status.success());

    let server = Server::start(&[&db_args[..], &["--config", config.to_str().unwrap()]].concat());
    let base = server.base.clone();
    use reqwest::Method;
    assert_eq!(
        status(&base, Method::GET, "/api/v1/documents", None).await,
        401
    );
    assert_eq!(
        status(&base, Method::GET, "/api/v1/documents", Some(&viewer)).await,
        200
    );
    assert_eq!(
        status(&base, Method::GET, "/api/v1/instances", Some(&viewer)).await,
        200
    );
    assert_eq!(
        status(&base, Method::GET, "/api/openapi.json", Some(&viewer)).await,
        200
    );
    assert_eq!(
        status(&base, Method::POST, "/api/v1/replay", Some(&viewer)).await,
        403
    );
    assert_eq!(
        status(&base, Method::POST, "/api/v1/replay", Some(&operator)).await,
        200
    );
    assert_eq!(
        status(&base, Method::GET, "/api/v1/tokens", Some(&operator)).await,
        403
    );
    assert_eq!(status(&base, Method::GET, "/healthz", None).await, 200);

    let listed = ok(&run(&db_args, &["tokens", "list"]));
    assert!(listed.starts_with("ID"), "{listed}");
    assert!(!listed.contains("mlc_"), "no secret listed: {listed}");
    let row = listed
        .lines()
        .find(|l| l.contains("back-office"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("viewer"), "{row}");
    let id = row.split_whitespace().next().unwrap().to_string();
    // Used against the server: a last-used time, not revoked.
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(*columns.last().unwrap(), "-", "not revoked: {row}");
    // id, name, role, created (date time), last used (date time), revoked.
    assert_eq!(columns.len(), 8, "used, so a last-used time: {row}");

    let revoked = ok(&run(&db_args, &["tokens", "revoke", &id]));
    assert!(revoked.contains("revoked"), "{revoked}");
    assert_eq!(
        status(&base, Method::GET, "/api/v1/documents", Some(&viewer)).await,
        401
    );
    assert_eq!(
        status(&base, Method::GET, "/api/v1/documents", Some(&operator)).await,
        200
    );
    let listed = ok(&run(&db_args, &["tokens", "list"]));
    let row = listed.lines().find(|l| l.contains("back-office")).unwrap();
    assert_ne!(
        *row.split_whitespace().collect::<Vec<_>>().last().unwrap(),
        "-",
        "{row}"
    );

    let missing = run(&db_args, &["tokens", "revoke", "nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope"));

    let (exit, stderr) = server.terminate();
    assert!(exit.success(), "{stderr}");
    assert!(
        !stderr.contains(&viewer) && !stderr.contains(&operator),
        "a token was logged"
    );
}

#[tokio::test]
async fn tokens_are_created_used_listed_and_revoked_sqlite() {
    tokens_are_created_used_listed_and_revoked("sqlite").await;
}

#[tokio::test]
async fn tokens_are_created_used_listed_and_revoked_postgres() {
    tokens_are_created_used_listed_and_revoked("postgres").await;
}
