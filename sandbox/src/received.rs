//! Every write each system accepted (method, path, body, time), so that a
//! test can count how many times an order reached the ERP:
//! `GET /_sandbox/{system}/received`.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::System;

/// One accepted write.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Write {
    /// The system that accepted it.
    pub system: System,
    /// HTTP method.
    pub method: String,
    /// Path and query, from the system's root (its prefix removed).
    pub path: String,
    /// The request body: JSON when it parses as JSON, else the text.
    pub body: serde_json::Value,
    /// The response status the system answered.
    pub status: u16,
    /// When it was accepted.
    pub at: DateTime<Utc>,
}

/// The log of accepted writes.
#[derive(Debug, Default)]
pub struct Log {
    writes: Mutex<Vec<Write>>,
}

impl Log {
    /// Records an accepted write.
    pub fn record(&self, system: System, method: &str, path: &str, body: &[u8], status: u16) {
        let body = serde_json::from_slice(body).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(body).into_owned())
        });
        self.lock().push(Write {
            system,
            method: method.to_string(),
            path: path.to_string(),
            body,
            status,
            at: Utc::now(),
        });
    }

    /// The writes `system` accepted, oldest first.
    pub fn of(&self, system: System) -> Vec<Write> {
        self.lock()
            .iter()
            .filter(|w| w.system == system)
            .cloned()
            .collect()
    }

    /// Forgets the writes of `system`.
    pub fn clear(&self, system: System) {
        self.lock().retain(|w| w.system != system);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Write>> {
        self.writes.lock().unwrap_or_else(|e| e.into_inner())
    }
}
