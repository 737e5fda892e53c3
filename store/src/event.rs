use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Where an event stands in the global order: the writing transaction's id
/// (PostgreSQL; always 0 on SQLite) and the global position. Events are
/// delivered in ascending `Position`, and a checkpoint is a `Position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Position {
    /// The id of the transaction that wrote the event (0 on SQLite).
    pub tx: i64,
    /// The event's global position, unique across the store.
    pub global: i64,
}

impl Position {
    /// Before the first event.
    pub const START: Position = Position { tx: 0, global: 0 };
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.tx == 0 {
            write!(f, "{}", self.global)
        } else {
            write!(f, "{}@{}", self.global, self.tx)
        }
    }
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The aggregate's type, e.g. `order_document`.
    pub aggregate_type: String,
    /// The aggregate's id, e.g. `shop-eu/order/1042`.
    pub aggregate_id: String,
    /// The event's sequence within its aggregate, from 1.
    pub sequence: i64,
    /// The event's type, e.g. `OrderReceived`.
    pub event_type: String,
    /// The event's schema version.
    pub event_version: String,
    /// The event itself.
    pub payload: Value,
    /// Context: trace id, cause, actor.
    pub metadata: Value,
}

impl NewEvent {
    /// An event with empty metadata.
    pub fn new(
        aggregate_type: impl Into<String>,
        aggregate_id: impl Into<String>,
        sequence: i64,
        event_type: impl Into<String>,
        payload: Value,
    ) -> Self {
        NewEvent {
            aggregate_type: aggregate_type.into(),
            aggregate_id: aggregate_id.into(),
            sequence,
            event_type: event_type.into(),
            event_version: "1.0".into(),
            payload,
            metadata: Value::Object(Default::default()),
        }
    }
}

/// An event as stored, with its place in the global order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// Its place in the global order.
    pub position: Position,
    /// When the store recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// The sequence within the aggregate.
    pub sequence: i64,
    /// The event's type.
    pub event_type: String,
    /// The event's schema version.
    pub event_version: String,
    /// The payload as JSON text; parsed only by the handlers that need it.
    pub payload: String,
    /// The metadata as JSON text.
    pub metadata: String,
}

impl StoredEvent {
    /// The payload parsed into `T`.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }

    /// The instance an event belongs to: the aggregate id up to its first `/`
    /// (an `Integration` aggregate's id is the instance itself).
    pub fn instance(&self) -> &str {
        self.aggregate_id
            .split_once('/')
            .map_or(self.aggregate_id.as_str(), |(instance, _)| instance)
    }
}
