//! `projections list` and `projections rebuild` on SQLite and PostgreSQL.

use mlc_store::testing::TestDatabase;
use mlc_store::NewEvent;
use serde_json::json;

use crate::ml_connector;

fn run(db_args: &[&str], args: &[&str]) -> String {
    let out = ml_connector().args(db_args).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `rebuilt NAME: N events in X.Ys (R events/s)`, parsed.
fn speed_line(line: &str) -> Option<(String, u64, f64, f64)> {
    let rest = line.strip_prefix("rebuilt ")?;
    let (name, rest) = rest.split_once(": ")?;
    let (events, rest) = rest.split_once(" events in ")?;
    let (secs, rest) = rest.split_once("s (")?;
    let rate = rest.strip_suffix(" events/s)")?;
    Some((
        name.to_owned(),
        events.parse().ok()?,
        secs.parse().ok()?,
        rate.parse().ok()?,
    ))
}

async fn rebuild_prints_its_speed(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let mut events = vec![NewEvent::new(
        "integration",
        "shop-eu",
        1,
        "Paused",
        json!({"Paused": {"reason": "maintenance"}}),
    )];
    for n in 0..1000 {
        let id = format!("shop-eu/order/{n}");
        events.push(NewEvent {
            metadata: json!({"actor": "order-worker", "password": "never-shown"}).into(),
            ..NewEvent::new(
                "order_document",
                &id,
                1,
                "PostFailed",
                json!({"PostFailed": {"attempt": 1, "reason": "Sage 300 answered 503", "retryable": false, "failed_at": "2026-01-05T08:00:00Z"}}),
            )
        });
        events.push(NewEvent::new(
            "order_document",
            &id,
            2,
            "Parked",
            json!({"Parked": {"reason": "Sage 300 answered 503"}}),
        ));
    }
    store.append(&events).await.unwrap();
    let total = events.len() as u64;
    let db_args = ["--database-url", db.url.as_str()];

    let out = run(&db_args, &["projections", "rebuild"]);
    let lines: Vec<_> = out.lines().filter_map(speed_line).collect();
    let names: Vec<_> = lines.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        names,
        ["documents", "audit", "failures", "health", "counters"],
        "{out}"
    );
    for (name, events, secs, rate) in &lines {
        assert_eq!(*events, total, "{name}");
        assert!(*secs >= 0.0 && *rate > 0.0, "{out}");
    }

    let out = run(&db_args, &["projections", "rebuild", "failures"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(speed_line(out.trim()).unwrap().1, total);

    let list = run(&db_args, &["projections", "list"]);
    for name in ["documents", "audit", "failures", "health", "counters"] {
        let row = list
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from\n{list}"));
        let columns: Vec<_> = row.split_whitespace().collect();
        assert_eq!(columns[2], "0", "lag of {name}: {list}");
    }
    let failures = mlc_projections::FailuresView::new(store.clone())
        .list(&Default::default(), Default::default())
        .await
        .unwrap();
    assert_eq!(failures.total, 1000);

    let out = ml_connector()
        .args(db_args)
        .args(["projections", "rebuild", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no projection is named 'nope'"));
}

#[tokio::test]
async fn projections_rebuild_prints_its_speed_sqlite() {
    rebuild_prints_its_speed("sqlite").await;
}

#[tokio::test]
async fn projections_rebuild_prints_its_speed_postgres() {
    rebuild_prints_its_speed("postgres").await;
}
