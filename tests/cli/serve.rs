use std::io::{BufRead, BufReader};
use std::process::Stdio;

use mlc_store::testing::TestDatabase;
use mlc_store::{EventStore, NewEvent, StoreOptions};

use crate::{ml_connector, write_config, KillOnDrop, Server};

fn events_of(db_args: &[&str], extra: &[&str]) -> String {
    let out = ml_connector()
        .args(db_args)
        .arg("events")
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn serve_records_instances_and_stops_gracefully(backend: &str) {
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
    let with_config = [&db_args[..], &["--config", config.to_str().unwrap()]].concat();

    let out = ml_connector()
        .args(db_args)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let server = Server::start(&with_config);
    let health: serde_json::Value = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["subscriptions"][0]["name"], "event-log");
    let (status, stderr) = server.terminate();
    assert!(status.success(), "exit {status}:\n{stderr}");
    assert!(
        stderr.contains("SIGTERM: stopping") && stderr.contains("stopped"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("never_shown") && !stderr.contains("never-shown"),
        "a secret was logged:\n{stderr}"
    );

    let listed = events_of(&db_args, &["--instance", "shop-eu", "--json"]);
    let events: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{listed}");
    assert_eq!(events[0]["event_type"], "Configured");
    assert_eq!(events[0]["aggregate_id"], "shop-eu");

    // A restart with the same configuration records nothing new.
    let server = Server::start(&with_config);
    let (status, _) = server.terminate();
    assert!(status.success());
    assert_eq!(
        events_of(&db_args, &["--type", "Configured"])
            .lines()
            .count(),
        1
    );
    assert!(events_of(&db_args, &["--type", "Parked"]).is_empty());
    assert!(
        !events_of(&db_args, &[]).contains("never_shown"),
        "a secret reached the event log"
    );
}

#[tokio::test]
async fn serve_records_instances_and_stops_gracefully_sqlite() {
    serve_records_instances_and_stops_gracefully("sqlite").await
}

#[tokio::test]
async fn serve_records_instances_and_stops_gracefully_postgres() {
    serve_records_instances_and_stops_gracefully("postgres").await
}

#[tokio::test]
async fn the_default_store_is_an_sqlite_file_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("state");
    let out = ml_connector()
        .args(["--data-dir", data_dir.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data_dir.join("ml-connector.db").exists());
}

/// The lines a child prints, as they come.
fn lines_of(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

async fn events_follow_prints_new_events(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = EventStore::connect(&db.url, StoreOptions::default())
        .await
        .unwrap();
    store
        .append(&[NewEvent::new(
            "test",
            "shop/order/1",
            1,
            "OrderReceived",
            serde_json::json!({}),
        )])
        .await
        .unwrap();
    let mut follow = KillOnDrop(
        ml_connector()
            .args([
                "--database-url",
                &db.url,
                "events",
                "--follow",
                "--after",
                "0",
                "--instance",
                "shop",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = lines_of(follow.0.stdout.take().unwrap());
    let next = || {
        lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a line within 30 s")
    };
    let first = next();
    assert!(
        first.contains("shop/order/1#1") && first.contains("OrderReceived"),
        "{first}"
    );
    store
        .append(&[
            NewEvent::new(
                "test",
                "other/order/9",
                1,
                "OrderReceived",
                serde_json::json!({}),
            ),
            NewEvent::new(
                "test",
                "shop/order/1",
                2,
                "Parked",
                serde_json::json!({ "reason": "unmapped SKU X" }),
            ),
        ])
        .await
        .unwrap();
    let second = next();
    assert!(
        second.contains("shop/order/1#2")
            && second.contains("Parked")
            && second.contains("unmapped SKU X"),
        "{second}"
    );
    drop(follow);
}

#[tokio::test]
async fn events_follow_prints_new_events_sqlite() {
    events_follow_prints_new_events("sqlite").await
}

#[tokio::test]
async fn events_follow_prints_new_events_postgres() {
    events_follow_prints_new_events("postgres").await
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let out = ml_connector()
        .args(["--database-url", "mysql://db/x", "migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("expected sqlite:PATH or postgres://"),
        "{stderr}"
    );
}
