//! The cqrs-es repositories (sqlite-es, postgres-es) work on the store's
//! tables, and what they write reaches subscribers in global order.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use mlc_store::testing::TestDatabase;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
struct Tally {
    total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum TallyEvent {
    Added { amount: u64 },
}

impl DomainEvent for TallyEvent {
    fn event_type(&self) -> String {
        "Added".into()
    }
    fn event_version(&self) -> String {
        "1.0".into()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TallyError(String);

impl Aggregate for Tally {
    const TYPE: &'static str = "tally";
    type Command = u64;
    type Event = TallyEvent;
    type Error = TallyError;
    type Services = ();

    async fn handle(
        &mut self,
        amount: u64,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), TallyError> {
        if amount == 0 {
            return Err(TallyError("nothing to add".into()));
        }
        sink.write(TallyEvent::Added { amount }, self).await;
        Ok(())
    }

    fn apply(&mut self, event: TallyEvent) {
        let TallyEvent::Added { amount } = event;
        self.total += amount;
    }
}

async fn cqrs_writes_to_the_store(backend: &str) {
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let plain = store.cqrs::<Tally>(vec![], ());
    let snapshotting = store.snapshot_cqrs::<Tally>(vec![], 3, ());
    for amount in 1..=5 {
        plain.execute("inst/tally/a", amount).await.unwrap();
        snapshotting.execute("inst/tally/b", amount).await.unwrap();
    }
    assert!(plain.execute("inst/tally/a", 0).await.is_err());
    store.append(&crate::events("own", 2)).await.unwrap();
    let all = store.list(&Default::default(), 0, 100).await.unwrap();
    assert_eq!(all.len(), 12);
    assert!(all.windows(2).all(|w| w[0].position < w[1].position));
    let a: Vec<i64> = all
        .iter()
        .filter(|e| e.aggregate_id == "inst/tally/a")
        .map(|e| e.sequence)
        .collect();
    assert_eq!(a, [1, 2, 3, 4, 5]);
    assert_eq!(all[0].event_type, "Added");
    assert_eq!(
        all[0].payload_as::<TallyEvent>().unwrap(),
        TallyEvent::Added { amount: 1 }
    );
    // The snapshotting framework reloads from its snapshot and goes on.
    let reloaded = store.snapshot_cqrs::<Tally>(vec![], 3, ());
    reloaded.execute("inst/tally/b", 10).await.unwrap();
    let b: Vec<String> = store
        .list(
            &mlc_store::EventFilter {
                aggregate_id: Some("inst/tally/b".into()),
                ..Default::default()
            },
            0,
            100,
        )
        .await
        .unwrap()
        .iter()
        .map(|e| e.payload.clone())
        .collect();
    assert_eq!(b.len(), 6);
    assert!(b[5].contains("10"), "{b:?}");
}

#[tokio::test]
async fn cqrs_writes_to_the_store_sqlite() {
    cqrs_writes_to_the_store("sqlite").await
}

#[tokio::test]
async fn cqrs_writes_to_the_store_postgres() {
    cqrs_writes_to_the_store("postgres").await
}

/// Two writers of the same aggregate at the same sequence: the second gets
/// cqrs-es's optimistic-lock error, which the framework reports as a
/// conflict to retry, on both backends' primary keys.
async fn a_second_writer_at_the_same_sequence_conflicts(backend: &str) {
    use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
    let db = TestDatabase::of(backend).await;
    let store = db.store().await;
    let event = |amount: u64| {
        SerializedEvent::new(
            "inst/tally/c".into(),
            1,
            "tally".into(),
            "Added".into(),
            "1.0".into(),
            serde_json::to_value(TallyEvent::Added { amount }).unwrap(),
            serde_json::json!({}),
        )
    };
    let repository = store.repository();
    repository
        .persist::<Tally>(&[event(1)], None)
        .await
        .unwrap();
    let second = repository.persist::<Tally>(&[event(2)], None).await;
    assert!(
        matches!(second, Err(PersistenceError::OptimisticLockError)),
        "{second:?}"
    );
    assert_eq!(store.count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_second_writer_at_the_same_sequence_conflicts_sqlite() {
    a_second_writer_at_the_same_sequence_conflicts("sqlite").await
}

#[tokio::test]
async fn a_second_writer_at_the_same_sequence_conflicts_postgres() {
    a_second_writer_at_the_same_sequence_conflicts("postgres").await
}
