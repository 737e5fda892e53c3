//! The batching command path: every command lands, in order per aggregate,
//! a refusal fails only its caller, the events are those cqrs-es writes, and
//! a conflict with another writer is resolved by deciding again.

use std::sync::atomic::{AtomicBool, Ordering};

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use futures::future::join_all;
use mlc_store::testing::TestDatabase;
use mlc_store::{
    CommandBus, CommandBusOptions, CommandError, EventFilter, EventStore, StoredEvent,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Default, Serialize, Deserialize)]
struct Counter {
    total: u64,
    steps: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CounterEvent {
    Added { amount: u64 },
    Stepped { n: u64 },
}

impl DomainEvent for CounterEvent {
    fn event_type(&self) -> String {
        match self {
            CounterEvent::Added { .. } => "Added".into(),
            CounterEvent::Stepped { .. } => "Stepped".into(),
        }
    }
    fn event_version(&self) -> String {
        "1.0".into()
    }
}

#[derive(Debug, Clone)]
enum CounterCommand {
    /// Adds; 0 is refused.
    Add(u64),
    /// Must be the next step; a step already taken changes nothing.
    Step(u64),
    /// Writes an event, then refuses.
    AddThenRefuse(u64),
    /// Adds, but the first time has another writer append to `id` first.
    Interfere { id: String, amount: u64 },
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CounterError(String);

/// Asks a task outside the bus to write to an aggregate with cqrs-es.
#[derive(Default)]
struct Interloper {
    requests: Option<mpsc::UnboundedSender<(String, oneshot::Sender<()>)>>,
    fired: AtomicBool,
}

impl Aggregate for Counter {
    const TYPE: &'static str = "counter";
    type Command = CounterCommand;
    type Event = CounterEvent;
    type Error = CounterError;
    type Services = Interloper;

    async fn handle(
        &mut self,
        command: CounterCommand,
        services: &Interloper,
        sink: &EventSink<Self>,
    ) -> Result<(), CounterError> {
        match command {
            CounterCommand::Add(0) => return Err(CounterError("nothing to add".into())),
            CounterCommand::Add(amount) => sink.write(CounterEvent::Added { amount }, self).await,
            CounterCommand::Step(n) if n <= self.steps => {}
            CounterCommand::Step(n) if n == self.steps + 1 => {
                sink.write(CounterEvent::Stepped { n }, self).await
            }
            CounterCommand::Step(n) => {
                return Err(CounterError(format!(
                    "step {n} out of order after {}",
                    self.steps
                )))
            }
            CounterCommand::AddThenRefuse(amount) => {
                sink.write(CounterEvent::Added { amount }, self).await;
                return Err(CounterError("changed my mind".into()));
            }
            CounterCommand::Interfere { id, amount } => {
                if let Some(requests) = &services.requests {
                    if !services.fired.swap(true, Ordering::SeqCst) {
                        let (done, wait) = oneshot::channel();
                        requests.send((id, done)).unwrap();
                        wait.await.unwrap();
                    }
                }
                sink.write(CounterEvent::Added { amount }, self).await
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: CounterEvent) {
        match event {
            CounterEvent::Added { amount } => self.total += amount,
            CounterEvent::Stepped { n } => self.steps = n,
        }
    }
}

fn bus(store: &EventStore) -> CommandBus<Counter> {
    CommandBus::start(store.clone(), CommandBusOptions::default())
}

async fn stream(store: &EventStore, id: &str) -> Vec<StoredEvent> {
    store
        .list(
            &EventFilter {
                aggregate_id: Some(id.into()),
                ..Default::default()
            },
            0,
            10_000,
        )
        .await
        .unwrap()
}

async fn many_commands_on_many_aggregates_all_land(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let bus = bus(&store);
    let tasks = (0..500).map(|a| {
        let bus = bus.clone();
        tokio::spawn(async move {
            let id = format!("inst/counter/{a}");
            for n in 1..=4 {
                let done = bus
                    .execute(&id, CounterCommand::Step(n), Default::default())
                    .await
                    .unwrap();
                assert_eq!(done.version, n);
                assert_eq!(done.events(), 1);
            }
        })
    });
    for task in join_all(tasks).await {
        task.unwrap();
    }
    assert_eq!(store.count().await.unwrap(), 2000);
    let all = store.list(&Default::default(), 0, 10_000).await.unwrap();
    for a in 0..500 {
        let id = format!("inst/counter/{a}");
        let sequences: Vec<i64> = all
            .iter()
            .filter(|e| e.aggregate_id == id)
            .map(|e| e.sequence)
            .collect();
        assert_eq!(sequences, [1, 2, 3, 4], "{id}");
    }
    let stats = bus.stats();
    assert_eq!(stats.commands, 2000);
    assert!(stats.batches < 2000, "commands were batched: {stats:?}");
    assert_eq!(stats.conflicts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_commands_on_many_aggregates_all_land_sqlite() {
    many_commands_on_many_aggregates_all_land("sqlite").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_commands_on_many_aggregates_all_land_postgres() {
    many_commands_on_many_aggregates_all_land("postgres").await
}

async fn commands_on_one_aggregate_apply_in_order(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let bus = bus(&store);
    // Sent back to back without waiting: queued together, decided in order.
    let results = join_all((1..=50).map(|n| {
        bus.execute(
            "inst/counter/x",
            CounterCommand::Step(n),
            Default::default(),
        )
    }))
    .await;
    for (n, result) in (1..=50).zip(results) {
        let done = result.unwrap();
        assert_eq!(done.version, n);
        assert_eq!(done.events(), 1);
        // Each caller gets its own command's events, to apply to its copy.
        let events: Vec<CounterEvent> = done.payloads.iter().map(|p| p.parse().unwrap()).collect();
        assert_eq!(events, [CounterEvent::Stepped { n }]);
    }
    assert!(bus.stats().batches < 50, "{:?}", bus.stats());
    let events = stream(&store, "inst/counter/x").await;
    let steps: Vec<u64> = events
        .iter()
        .map(|e| match e.payload_as::<CounterEvent>().unwrap() {
            CounterEvent::Stepped { n } => n,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(steps, (1..=50).collect::<Vec<_>>());
    // A repeat changes nothing and is a success.
    let again = bus
        .execute(
            "inst/counter/x",
            CounterCommand::Step(3),
            Default::default(),
        )
        .await
        .unwrap();
    assert!(again.is_duplicate());
    assert!(again.payloads.is_empty());
    assert_eq!(again.version, 50);
    assert_eq!(store.count().await.unwrap(), 50);
}

#[tokio::test]
async fn commands_on_one_aggregate_apply_in_order_sqlite() {
    commands_on_one_aggregate_apply_in_order("sqlite").await
}

#[tokio::test]
async fn commands_on_one_aggregate_apply_in_order_postgres() {
    commands_on_one_aggregate_apply_in_order("postgres").await
}

async fn a_refused_command_fails_only_its_caller(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let bus = bus(&store);
    let commands = [
        ("inst/counter/a", CounterCommand::Add(1)),
        ("inst/counter/b", CounterCommand::Add(0)),
        ("inst/counter/c", CounterCommand::Add(2)),
        ("inst/counter/a", CounterCommand::AddThenRefuse(50)),
        ("inst/counter/a", CounterCommand::Add(3)),
        ("inst/counter/c", CounterCommand::Step(7)),
    ];
    let results = join_all(
        commands
            .iter()
            .map(|(id, command)| bus.execute(id, command.clone(), Default::default())),
    )
    .await;
    let ok: Vec<bool> = results.iter().map(|r| r.is_ok()).collect();
    assert_eq!(ok, [true, false, true, false, true, false], "{results:?}");
    assert!(matches!(results[1], Err(CommandError::Refused(_))));
    assert_eq!(results[4].as_ref().unwrap().version, 2);
    let a: Vec<CounterEvent> = stream(&store, "inst/counter/a")
        .await
        .iter()
        .map(|e| e.payload_as().unwrap())
        .collect();
    assert_eq!(
        a,
        [
            CounterEvent::Added { amount: 1 },
            CounterEvent::Added { amount: 3 }
        ]
    );
    assert!(stream(&store, "inst/counter/b").await.is_empty());
    assert_eq!(stream(&store, "inst/counter/c").await.len(), 1);
    // The state the bus keeps is the one without the refused event.
    let next = bus
        .execute("inst/counter/a", CounterCommand::Add(4), Default::default())
        .await
        .unwrap();
    assert_eq!(next.version, 3);
    let cqrs = store.cqrs::<Counter>(vec![], Interloper::default());
    cqrs.execute("inst/counter/a", CounterCommand::Add(5))
        .await
        .unwrap();
    let total: u64 = stream(&store, "inst/counter/a")
        .await
        .iter()
        .map(|e| match e.payload_as().unwrap() {
            CounterEvent::Added { amount } => amount,
            CounterEvent::Stepped { .. } => 0,
        })
        .sum();
    assert_eq!(total, 1 + 3 + 4 + 5);
}

#[tokio::test]
async fn a_refused_command_fails_only_its_caller_sqlite() {
    a_refused_command_fails_only_its_caller("sqlite").await
}

#[tokio::test]
async fn a_refused_command_fails_only_its_caller_postgres() {
    a_refused_command_fails_only_its_caller("postgres").await
}

/// What matters of an event for interoperation: all but its position and time.
fn shape(
    e: &StoredEvent,
) -> (
    String,
    i64,
    String,
    String,
    serde_json::Value,
    serde_json::Value,
) {
    (
        e.aggregate_type.clone(),
        e.sequence,
        e.event_type.clone(),
        e.event_version.clone(),
        serde_json::from_str(&e.payload).unwrap(),
        serde_json::from_str(&e.metadata).unwrap(),
    )
}

async fn the_bus_and_cqrs_es_write_the_same_events(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let bus = bus(&store);
    let cqrs = store.cqrs::<Counter>(vec![], Interloper::default());
    let metadata = || {
        let mut m = serde_json::Map::new();
        m.insert("cause".into(), "test".into());
        m
    };
    let metadata_map = || std::collections::HashMap::from([("cause".into(), "test".into())]);
    // The same commands through the bus and through cqrs-es, interleaved on x.
    for (n, via_bus) in [(1, true), (2, true), (3, false), (4, true), (5, false)] {
        if via_bus {
            bus.execute("inst/counter/x", CounterCommand::Step(n), metadata())
                .await
                .unwrap();
        } else {
            cqrs.execute_with_metadata("inst/counter/x", CounterCommand::Step(n), metadata_map())
                .await
                .unwrap();
        }
        cqrs.execute_with_metadata("inst/counter/y", CounterCommand::Step(n), metadata_map())
            .await
            .unwrap();
    }
    // cqrs-es refuses an out-of-order step after the bus's steps: it loaded them.
    assert!(cqrs
        .execute("inst/counter/x", CounterCommand::Step(9))
        .await
        .is_err());
    let x: Vec<_> = stream(&store, "inst/counter/x")
        .await
        .iter()
        .map(shape)
        .collect();
    let y: Vec<_> = stream(&store, "inst/counter/y")
        .await
        .iter()
        .map(shape)
        .collect();
    assert_eq!(x.len(), 5);
    assert_eq!(x, y);
    assert_eq!(x[0].0, "counter");
}

#[tokio::test]
async fn the_bus_and_cqrs_es_write_the_same_events_sqlite() {
    the_bus_and_cqrs_es_write_the_same_events("sqlite").await
}

#[tokio::test]
async fn the_bus_and_cqrs_es_write_the_same_events_postgres() {
    the_bus_and_cqrs_es_write_the_same_events("postgres").await
}

async fn a_conflict_with_cqrs_es_is_resolved(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    // A task outside the bus that writes with cqrs-es when asked.
    let (requests, mut asked) = mpsc::unbounded_channel::<(String, oneshot::Sender<()>)>();
    let cqrs = store.cqrs::<Counter>(vec![], Interloper::default());
    tokio::spawn(async move {
        while let Some((id, done)) = asked.recv().await {
            cqrs.execute(&id, CounterCommand::Add(1000)).await.unwrap();
            let _ = done.send(());
        }
    });
    let bus = CommandBus::<Counter>::start_with_services(
        store.clone(),
        CommandBusOptions::default(),
        Interloper {
            requests: Some(requests),
            fired: AtomicBool::new(false),
        },
    );
    bus.execute("inst/counter/z", CounterCommand::Add(1), Default::default())
        .await
        .unwrap();
    // While the bus decides this batch, cqrs-es appends to z: the batch's
    // append conflicts and the bus decides again from the new state.
    let results = join_all([
        bus.execute(
            "inst/counter/z",
            CounterCommand::Interfere {
                id: "inst/counter/z".into(),
                amount: 7,
            },
            Default::default(),
        ),
        bus.execute("inst/counter/w", CounterCommand::Add(2), Default::default()),
        bus.execute("inst/counter/z", CounterCommand::Add(0), Default::default()),
    ])
    .await;
    assert_eq!(results[0].as_ref().unwrap().version, 3, "{results:?}");
    // Decided again one by one: the payloads are still the command's own.
    assert_eq!(
        results[0].as_ref().unwrap().payloads,
        [mlc_store::JsonText::of(&CounterEvent::Added { amount: 7 }).unwrap()]
    );
    assert_eq!(results[1].as_ref().unwrap().version, 1);
    assert!(matches!(results[2], Err(CommandError::Refused(_))));
    let z: Vec<CounterEvent> = stream(&store, "inst/counter/z")
        .await
        .iter()
        .map(|e| e.payload_as().unwrap())
        .collect();
    assert_eq!(
        z,
        [
            CounterEvent::Added { amount: 1 },
            CounterEvent::Added { amount: 1000 },
            CounterEvent::Added { amount: 7 }
        ]
    );
    assert_eq!(stream(&store, "inst/counter/w").await.len(), 1);
    // Decided again once: the refusal on z's cached state asks for a
    // recheck before the append would have conflicted.
    let stats = bus.stats();
    assert_eq!(stats.conflicts + stats.rechecks, 1, "{stats:?}");
    // And the bus goes on from the state it reloaded.
    let next = bus
        .execute("inst/counter/z", CounterCommand::Add(1), Default::default())
        .await
        .unwrap();
    assert_eq!(next.version, 4);
}

#[tokio::test]
async fn a_conflict_with_cqrs_es_is_resolved_sqlite() {
    a_conflict_with_cqrs_es_is_resolved("sqlite").await
}

#[tokio::test]
async fn a_conflict_with_cqrs_es_is_resolved_postgres() {
    a_conflict_with_cqrs_es_is_resolved("postgres").await
}

/// A command refused on a cached state that another writer has moved on
/// since is decided again on the store's state: the cache never makes the
/// bus refuse what the aggregate accepts.
async fn a_refusal_on_a_stale_cached_state_is_decided_again(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let bus = CommandBus::<Counter>::start(store.clone(), CommandBusOptions::default());
    let id = "inst/counter/s";
    bus.execute(id, CounterCommand::Step(1), Default::default())
        .await
        .unwrap();
    // Another writer takes step 2: the bus's cached state still says 1.
    let cqrs = store.cqrs::<Counter>(vec![], Interloper::default());
    cqrs.execute(id, CounterCommand::Step(2)).await.unwrap();
    // On the cached state, step 3 is out of order; on the store's, it is next.
    let done = bus
        .execute(id, CounterCommand::Step(3), Default::default())
        .await
        .unwrap();
    assert_eq!(done.version, 3);
    assert_eq!(bus.stats().rechecks, 1, "{:?}", bus.stats());
    // A step already taken elsewhere changes nothing, as the aggregate says.
    cqrs.execute(id, CounterCommand::Step(4)).await.unwrap();
    let again = bus
        .execute(id, CounterCommand::Step(4), Default::default())
        .await
        .unwrap();
    assert!(again.is_duplicate(), "{again:?}");
    assert_eq!(again.version, 4);
    assert_eq!(stream(&store, id).await.len(), 4);
}

#[tokio::test]
async fn a_refusal_on_a_stale_cached_state_is_decided_again_sqlite() {
    a_refusal_on_a_stale_cached_state_is_decided_again("sqlite").await
}

#[tokio::test]
async fn a_refusal_on_a_stale_cached_state_is_decided_again_postgres() {
    a_refusal_on_a_stale_cached_state_is_decided_again("postgres").await
}
