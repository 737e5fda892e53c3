//! A small client of the sandbox's control API.

use serde::Deserialize;
use serde_json::{json, Value};

/// Why a call to the sandbox failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The sandbox could not be reached or answered garbage.
    #[error("sandbox {call}: {source}")]
    Http {
        /// What was called.
        call: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// The sandbox refused the call.
    #[error("sandbox {call} answered {status}: {body}")]
    Refused {
        /// What was called.
        call: String,
        /// HTTP status.
        status: u16,
        /// The answer.
        body: String,
    },
}

/// One write a simulated system accepted, from `/_sandbox/{system}/received`.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    /// HTTP method.
    pub method: String,
    /// Path after the system's prefix.
    pub path: String,
    /// The request body (JSON, or null).
    #[serde(default)]
    pub body: Value,
    /// The status answered (or that would have been, for writes whose answer was lost).
    pub status: u16,
}

/// The control API of one running sandbox.
#[derive(Debug, Clone)]
pub struct SandboxControl {
    root: String,
    http: reqwest::Client,
}

impl SandboxControl {
    /// The sandbox at `root` (e.g. `http://127.0.0.1:4010`).
    pub fn new(root: impl Into<String>) -> Self {
        SandboxControl {
            root: root.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// The sandbox's root URL.
    pub fn root(&self) -> &str {
        &self.root
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WorkloadError> {
        let call = format!("{method} {path}");
        let send = || {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.root));
            if let Some(body) = &body {
                request = request.json(body);
            }
            request.send()
        };
        let response = match send().await {
            // A pooled connection the server closed meanwhile: a read is
            // safe to send again.
            Err(_) if method == reqwest::Method::GET => send().await,
            other => other,
        }
        .map_err(|source| WorkloadError::Http {
            call: call.clone(),
            source,
        })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|source| WorkloadError::Http {
                call: call.clone(),
                source,
            })?;
        if !status.is_success() {
            return Err(WorkloadError::Refused {
                call,
                status: status.as_u16(),
                body: text,
            });
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST` to a control route.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, WorkloadError> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// `PUT` to a control route.
    pub async fn put(&self, path: &str, body: Value) -> Result<Value, WorkloadError> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    /// `GET` a control route.
    pub async fn get(&self, path: &str) -> Result<Value, WorkloadError> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// `DELETE` a control route.
    pub async fn delete(&self, path: &str) -> Result<Value, WorkloadError> {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    /// Adds a fault rule; returns its id.
    pub async fn add_fault(&self, rule: Value) -> Result<u64, WorkloadError> {
        let answer = self.post("/_sandbox/faults", rule).await?;
        Ok(answer.get("id").and_then(Value::as_u64).unwrap_or(0))
    }

    /// Removes every fault rule.
    pub async fn clear_faults(&self) -> Result<(), WorkloadError> {
        self.delete("/_sandbox/faults").await.map(|_| ())
    }

    /// Every write `system` accepted so far.
    pub async fn received(&self, system: &str) -> Result<Vec<Received>, WorkloadError> {
        let answer = self.get(&format!("/_sandbox/{system}/received")).await?;
        let list = answer.get("received").cloned().unwrap_or(answer);
        Ok(serde_json::from_value(list).unwrap_or_default())
    }

    /// The Sage 300 customers (control view, with e-mail addresses).
    pub async fn sage300_customers(&self) -> Result<Vec<Value>, WorkloadError> {
        let answer = self.get("/_sandbox/sage300/customers").await?;
        Ok(as_list(answer, "customers"))
    }

    /// Sets an item's quantity on hand at a location in Sage 300.
    pub async fn set_sage300_quantity(
        &self,
        item_number: &str,
        location: &str,
        quantity_on_hand: f64,
    ) -> Result<(), WorkloadError> {
        self.post(
            "/_sandbox/sage300/quantities",
            json!([{"item_number": item_number, "location": location, "quantity_on_hand": quantity_on_hand}]),
        )
        .await
        .map(|_| ())
    }

    /// Sets an item's price on a price list in Sage 300.
    pub async fn set_sage300_price(
        &self,
        item_number: &str,
        price_list: &str,
        price: f64,
    ) -> Result<(), WorkloadError> {
        self.post(
            "/_sandbox/sage300/prices",
            json!([{"item_number": item_number, "price_list": price_list, "price": price}]),
        )
        .await
        .map(|_| ())
    }

    /// The WooCommerce webhooks with their status and failure counts.
    pub async fn woocommerce_webhooks(&self) -> Result<Vec<Value>, WorkloadError> {
        let answer = self.get("/_sandbox/woocommerce/webhooks").await?;
        Ok(as_list(answer, "webhooks"))
    }
}

fn as_list(answer: Value, key: &str) -> Vec<Value> {
    match answer {
        Value::Array(list) => list,
        Value::Object(mut map) => match map.remove(key) {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}
