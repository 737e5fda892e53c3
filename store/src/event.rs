use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// JSON text, checked when made: an event's payload or metadata as it is
/// written. Events are serialized once, straight from the typed event, and
/// handed to the database as text (building a `serde_json::Value` first,
/// then printing and dropping it, cost more than the database's insert).
#[derive(Debug, Clone)]
pub struct JsonText(Box<RawValue>);

impl JsonText {
    /// `value` as JSON text.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Result<JsonText, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(JsonText)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The text parsed into `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl From<Value> for JsonText {
    fn from(value: Value) -> JsonText {
        JsonText::of(&value).expect("a serde_json::Value always serializes")
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for JsonText {}

impl std::fmt::Display for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    pub payload: JsonText,
    /// Context: trace id, cause, actor.
    pub metadata: JsonText,
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
            payload: payload.into(),
            metadata: Value::Object(Default::default()).into(),
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
