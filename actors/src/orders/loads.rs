//! Loads of the documents driven at once, asked of the store together.

use std::collections::HashMap;

use mlc_store::{EventStore, StoredEvent};
use tokio::sync::{mpsc, oneshot};

/// Loads waiting at most, per query.
const MOST_PER_QUERY: usize = 500;

/// One document's stream, or `None` when the query failed (the caller then
/// loads on its own and gets the store's error).
type Reply = oneshot::Sender<Option<Vec<StoredEvent>>>;

/// Hands the streams of many documents out of one query: the worker drives
/// dozens of documents at once and each starts by loading its own, so
/// whatever loads wait together go to the store as one `load_streams`
/// (group commit for reads, no added wait). The task stops when the last
/// handle is dropped.
#[derive(Clone)]
pub(crate) struct StreamLoader {
    tx: mpsc::Sender<(&'static str, String, Reply)>,
}

impl StreamLoader {
    /// Starts the loading task on the current tokio runtime.
    pub(crate) fn start(store: EventStore) -> StreamLoader {
        let (tx, rx) = mpsc::channel(MOST_PER_QUERY * 4);
        tokio::spawn(run(store, rx));
        StreamLoader { tx }
    }

    /// The events of aggregate `id` of type `aggregate_type`, in order;
    /// `None` when the shared query failed or the task stopped.
    pub(crate) async fn load(
        &self,
        aggregate_type: &'static str,
        id: &str,
    ) -> Option<Vec<StoredEvent>> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((aggregate_type, id.to_owned(), reply))
            .await
            .ok()?;
        answer.await.ok().flatten()
    }
}

async fn run(store: EventStore, mut rx: mpsc::Receiver<(&'static str, String, Reply)>) {
    let mut waiting = Vec::with_capacity(MOST_PER_QUERY);
    while rx.recv_many(&mut waiting, MOST_PER_QUERY).await > 0 {
        let mut by_type: HashMap<&'static str, Vec<(String, Reply)>> = HashMap::new();
        for (aggregate_type, id, reply) in waiting.drain(..) {
            by_type.entry(aggregate_type).or_default().push((id, reply));
        }
        for (aggregate_type, loads) in by_type {
            let mut ids: Vec<&str> = loads.iter().map(|(id, _)| id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            match store.load_streams(aggregate_type, &ids).await {
                Ok(mut streams) => {
                    // A stream asked for twice is copied for all but its last asker.
                    let mut askers: HashMap<String, usize> = HashMap::new();
                    for (id, _) in &loads {
                        *askers.entry(id.clone()).or_default() += 1;
                    }
                    for (id, reply) in loads {
                        let left = askers.get_mut(&id).expect("counted above");
                        *left -= 1;
                        let stream = if *left == 0 {
                            streams.remove(&id)
                        } else {
                            streams.get(&id).cloned()
                        };
                        let _ = reply.send(Some(stream.unwrap_or_default()));
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "loading documents together failed; each loads alone");
                    for (_, reply) in loads {
                        let _ = reply.send(None);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StreamLoader;
    use mlc_store::testing::TestDatabase;
    use mlc_store::NewEvent;
    use serde_json::json;

    /// Loads asked at once each get their own stream, in order; a store
    /// that fails answers `None` (the caller then loads alone).
    #[tokio::test]
    async fn loads_asked_together_each_get_their_own_stream() {
        let db = TestDatabase::sqlite();
        let store = db.store().await;
        let events: Vec<NewEvent> = (0..40)
            .flat_map(|doc| {
                (1..=3).map(move |seq| {
                    NewEvent::new(
                        "order_document",
                        format!("shop/order/{doc}"),
                        seq,
                        "Step",
                        json!({ "doc": doc, "seq": seq }),
                    )
                })
            })
            .collect();
        store.append(&events).await.unwrap();
        let loader = StreamLoader::start(store.clone());
        let loads = (0..41).map(|doc| {
            let loader = loader.clone();
            async move {
                (
                    doc,
                    loader
                        .load("order_document", &format!("shop/order/{doc}"))
                        .await,
                )
            }
        });
        for (doc, stream) in futures::future::join_all(loads).await {
            let stream = stream.expect("the query succeeded");
            if doc == 40 {
                assert!(stream.is_empty(), "a document without events");
                continue;
            }
            let seqs: Vec<i64> = stream.iter().map(|e| e.sequence).collect();
            assert_eq!(seqs, [1, 2, 3], "document {doc}");
            assert!(stream
                .iter()
                .all(|e| e.aggregate_id == format!("shop/order/{doc}")));
        }
        store.close().await;
        assert!(loader
            .load("order_document", "shop/order/1")
            .await
            .is_none());
    }
}
