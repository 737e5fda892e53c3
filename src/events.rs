//! `ml-connector events`: the event log, listed or followed.

use std::io::Write;
use std::time::Duration;

use mlc_store::{EventFilter, EventStore, Position, StoredEvent};

use crate::cli::EventsArgs;
use crate::settings::Settings;

pub async fn run(settings: &Settings, args: &EventsArgs) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    let filter = EventFilter {
        instance: args.instance.clone(),
        aggregate_id: args.document.clone(),
        event_type: args.event_type.clone(),
    };
    let mut out = std::io::stdout().lock();
    if !args.follow {
        let events = store
            .list(&filter, args.after.unwrap_or(0), args.limit)
            .await?;
        for event in &events {
            print_event(&mut out, event, args.json)?;
        }
        if events.is_empty() {
            eprintln!("no events match");
        }
        return Ok(());
    }
    drop(out);
    follow(&store, &filter, args).await
}

/// Prints events in the order subscribers see them, until Ctrl-C.
async fn follow(store: &EventStore, filter: &EventFilter, args: &EventsArgs) -> anyhow::Result<()> {
    let mut changes = store.changes();
    // The head is a position in subscriber order; a bare --after N is not,
    // so it starts from the beginning and skips what is at or before N.
    let (mut position, after) = match args.after {
        Some(after) => (Position::START, after),
        None => (store.head().await?, 0),
    };
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        changes.borrow_and_update();
        let batch = store.read(filter, position, 1000).await?;
        {
            let mut out = std::io::stdout().lock();
            for event in &batch {
                if event.position.global > after {
                    print_event(&mut out, event, args.json)?;
                }
            }
            out.flush()?;
        }
        // Filtered reads may return nothing while the store moves on: the
        // next read still starts after the last event shown.
        if let Some(last) = batch.last() {
            position = last.position;
            continue;
        }
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            _ = changes.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

fn print_event(out: &mut impl Write, event: &StoredEvent, json: bool) -> std::io::Result<()> {
    if json {
        let payload: serde_json::Value =
            serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
        let metadata: serde_json::Value =
            serde_json::from_str(&event.metadata).unwrap_or(serde_json::Value::Null);
        let line = serde_json::json!({
            "position": event.position.global,
            "recorded_at": event.recorded_at,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "sequence": event.sequence,
            "event_type": event.event_type,
            "event_version": event.event_version,
            "payload": payload,
            "metadata": metadata,
        });
        writeln!(out, "{line}")
    } else {
        let mut payload = event.payload.clone();
        if payload.len() > 120 {
            let cut = (0..=117)
                .rev()
                .find(|i| payload.is_char_boundary(*i))
                .unwrap_or(0);
            payload.truncate(cut);
            payload.push_str("...");
        }
        writeln!(
            out,
            "{:>8}  {}  {}#{}  {}  {}",
            event.position.global,
            event.recorded_at.format("%Y-%m-%d %H:%M:%S%.3f"),
            event.aggregate_id,
            event.sequence,
            event.event_type,
            payload
        )
    }
}
