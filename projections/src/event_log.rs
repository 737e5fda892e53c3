use mlc_store::{Handler, HandlerError, StoredEvent};

/// Writes one log line per recorded event, in global order: what `serve`
/// shows of the work as it happens. Its checkpoint keeps a restart from
/// repeating the whole history.
#[derive(Debug, Default)]
pub struct EventLog;

impl EventLog {
    /// The subscriber name its checkpoint is stored under.
    pub const NAME: &'static str = "event-log";
}

impl Handler for EventLog {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        tracing::info!(
            target: "mlc::events",
            position = event.position.global,
            instance = event.instance(),
            document = %event.aggregate_id,
            sequence = event.sequence,
            "{}",
            event.event_type
        );
        Ok(())
    }
}
