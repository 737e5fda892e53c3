//! Bringing the `documents` read model up to date once, without running its
//! subscription: what a short-lived process (the CLI) does before it reads.

use mlc_projections::{DocumentsProjection, DocumentsView};
use std::time::Duration;

use mlc_store::{EventFilter, EventStore, Handler, Position};

use super::OperatorError;

/// Events read per batch while catching up.
const BATCH: usize = 1000;

/// How long to wait for events committed but held back by an open transaction.
const HELD_BACK_WAIT: Duration = Duration::from_secs(10);

/// Hands every event after the `documents` subscriber's checkpoint to the
/// [`DocumentsProjection`], batch by batch, saving the checkpoint after each,
/// until the store has no more; returns how many events were handled. Safe
/// while `serve` runs the same subscriber: rows only move to higher versions,
/// and an event handled twice changes nothing.
pub async fn catch_up_documents(
    store: &EventStore,
    view: &DocumentsView,
) -> Result<u64, OperatorError> {
    let mut projection = DocumentsProjection::new(view.clone());
    let mut position = store.checkpoint(DocumentsProjection::NAME).await?;
    let mut handled = 0u64;
    let deadline = tokio::time::Instant::now() + HELD_BACK_WAIT;
    loop {
        let batch = store.read_after(position, BATCH).await?;
        let Some(last) = batch.last() else {
            // On PostgreSQL, ordered reads hold back events committed while
            // an older transaction (of any database of the server) is still
            // open; wait for those that were committed already.
            if committed_but_held_back(store, position).await? {
                if tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                tracing::warn!(
                    "documents catch-up: events are still held back by an open transaction; \
                     the read model may miss the latest of them"
                );
            }
            break;
        };
        for event in &batch {
            projection.handle(event).await.map_err(projection_failed)?;
        }
        projection.flush().await.map_err(projection_failed)?;
        position = last.position;
        store
            .save_checkpoint(DocumentsProjection::NAME, position)
            .await?;
        handled += batch.len() as u64;
    }
    Ok(handled)
}

/// Whether events after `position` are committed but not yet visible to
/// ordered reads.
async fn committed_but_held_back(
    store: &EventStore,
    position: Position,
) -> Result<bool, OperatorError> {
    let committed = store
        .list(&EventFilter::default(), position.global, BATCH)
        .await?;
    Ok(committed.iter().any(|e| e.position > position))
}

fn projection_failed(e: mlc_store::HandlerError) -> OperatorError {
    OperatorError::Unavailable(format!("the documents read model cannot be updated: {e}"))
}
