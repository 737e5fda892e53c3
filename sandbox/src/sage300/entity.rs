//! What every simulated entity set shares: its name, module and key
//! properties (facts §1.1), its JSON shape (the property names of facts
//! §1.5, which `$filter`/`$select` check against), and the generic ways a
//! payload becomes an entity. Enum values are strings, not ints (facts §1.5).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::errors::SageError;
use super::odata::Key;

/// An entity set of the simulated company.
pub trait Entity: Serialize + DeserializeOwned + Default + Clone {
    /// The entity set, e.g. `ARCustomers`.
    const SET: &'static str;
    /// The module in the URL, e.g. `AR`.
    const MODULE: &'static str;
    /// The key properties in metadata order.
    const KEYS: &'static [&'static str];

    /// The entity as a JSON object.
    fn row(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// Records a change made today (`DateLastMaintained`, no time of day).
    fn touch(&mut self, _today: &str) {}

    /// The value of a text property looked up often by `eq` (a reference,
    /// a number, an e-mail), read without building the JSON row, so that a
    /// lookup among many records does not convert every one of them; `None`
    /// for any other property. It must equal the property in [`Entity::row`].
    fn indexed(&self, _property: &str) -> Option<&str> {
        None
    }

    /// The property names (of the entity with every default).
    fn fields() -> Vec<String> {
        Self::default().row().keys().cloned().collect()
    }
}

/// The position of the entity with `key`.
pub fn find<T: Entity>(rows: &[T], key: &Key) -> Result<Option<usize>, SageError> {
    for (i, row) in rows.iter().enumerate() {
        if key.matches(T::KEYS, &row.row())? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Parses a request body to a JSON object, dropping OData annotations a
/// client may echo back.
pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, SageError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        SageError::invalid_payload(format!("The request body is not valid JSON: {e}"))
    })?;
    match value {
        Value::Object(mut map) => {
            map.retain(|k, _| !k.starts_with("@odata.") && !k.starts_with("odata."));
            Ok(map)
        }
        _ => Err(SageError::invalid_payload(
            "The request body must be a JSON object.",
        )),
    }
}

/// The entity a payload describes; an unknown property or a value of the
/// wrong type is `InvalidPayload`.
pub fn from_payload<T: Entity>(payload: Map<String, Value>) -> Result<T, SageError> {
    serde_json::from_value(Value::Object(payload)).map_err(|e| {
        SageError::invalid_payload(format!("The payload is not a valid {}: {e}", T::SET))
    })
}

/// PATCH (facts §1.4): the existing entity with the payload's properties
/// put over it; the key cannot change.
pub fn merge<T: Entity>(existing: &T, payload: Map<String, Value>) -> Result<T, SageError> {
    let mut row = existing.row();
    for key in T::KEYS {
        if let Some(value) = payload.get(*key) {
            if row.get(*key) != Some(value) {
                return Err(SageError::invalid_payload(format!(
                    "The key property {key} cannot be changed."
                )));
            }
        }
    }
    for (k, v) in payload {
        row.insert(k, v);
    }
    from_payload(row)
}

/// `"Yes"`/`"No"`, as ARCustomers writes `OnHold` and `PrintStatements`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum YesNo {
    /// Yes.
    Yes,
    /// No.
    #[default]
    No,
}

/// Rounds money to cents.
pub fn money(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}
