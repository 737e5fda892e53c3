//! Bringing the `documents` read model up to date once, without running its
//! subscription: what a short-lived process (the CLI) does before it reads.

use mlc_projections::{DocumentsProjection, DocumentsView};
use mlc_store::{EventStore, Handler};

use super::OperatorError;

/// Events read per batch while catching up.
const BATCH: usize = 1000;

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
    loop {
        let batch = store.read_after(position, BATCH).await?;
        let Some(last) = batch.last() else {
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

fn projection_failed(e: mlc_store::HandlerError) -> OperatorError {
    OperatorError::Unavailable(format!("the documents read model cannot be updated: {e}"))
}
