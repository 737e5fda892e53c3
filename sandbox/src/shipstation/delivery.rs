//! Outgoing webhook deliveries.
//!
//! V1 (facts §4.4): `POST` of `{"resource_url", "resource_type"}`, a
//! pointer the receiver fetches with the same Basic credentials (it counts
//! against the 40 a minute, §4.6 #2); **not signed**. For SHIP_NOTIFY the
//! URL is `{v1}/shipments?storeID=…&batchId=…`, for ORDER_NOTIFY
//! `{v1}/orders?storeID=…&importBatch=…`; the ITEM_ variants add
//! `includeShipmentItems=true` / `includeOrderItems=true`.
//!
//! V2 (facts §4.5): `{"resource_url", "resource_type", "data"?}` signed
//! with RSA-SHA256 (PKCS#1 v1.5) over `"{x-shipengine-timestamp}.{body}"`;
//! headers `x-shipengine-rsa-sha256-key-id`,
//! `x-shipengine-rsa-sha256-signature` (base64) and `x-shipengine-timestamp`
//! (ISO-8601 UTC), plus the hook's own `headers`.
//!
//! Neither version documents retries or deactivation: the sandbox sends
//! each delivery once (a 2xx is a success), never disables a hook, and logs
//! every attempt (`GET /_sandbox/shipstation/deliveries`).

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::{keys, State};
use crate::{System, World};

/// One delivery attempt.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    /// Order of sending, from 1.
    pub seq: u64,
    /// `v1` or `v2`.
    pub api: &'static str,
    /// The subscription (`WebHookID`, or the number of `se-…`).
    pub webhook_id: u64,
    /// The event (`SHIP_NOTIFY`, `TRACK_EVENT_V2`...).
    pub event: String,
    /// Where it was sent.
    pub url: String,
    /// The request headers.
    pub headers: BTreeMap<String, String>,
    /// The raw body.
    pub body: String,
    /// The receiver's status; 0 when there was none.
    pub response_status: u16,
    /// Why there was no answer.
    pub error: Option<String>,
    /// Whether a `delivery_failure` fault decided the outcome.
    pub fault_injected: bool,
    /// 2xx.
    pub success: bool,
    /// When it was sent.
    pub at: DateTime<Utc>,
}

struct Outgoing {
    api: &'static str,
    webhook_id: u64,
    event: String,
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
    /// Sign at send time with this key (V2).
    sign_with: Option<usize>,
    timestamp_offset: i64,
    timeout: Duration,
    client: reqwest::Client,
}

/// Queues V1 deliveries of `event` to the hooks subscribed to it (and to
/// `store_id`, when a hook names a store). Call with the state locked.
pub(crate) fn fire_v1(
    world: &web::Data<World>,
    st: &State,
    event: &str,
    store_id: u64,
    resource_url: &str,
) {
    let body = json!({ "resource_url": resource_url, "resource_type": event }).to_string();
    let targets: Vec<_> = st
        .v1_hooks
        .values()
        .filter(|h| h.event == event && h.store_id.is_none_or(|s| s == store_id))
        .cloned()
        .collect();
    for hook in targets {
        let mut headers = BTreeMap::new();
        headers.insert("Content-Type".to_string(), "application/json".to_string());
        spawn(
            world,
            Outgoing {
                api: "v1",
                webhook_id: hook.id,
                event: event.to_string(),
                url: hook.url,
                headers,
                body: body.clone(),
                sign_with: None,
                timestamp_offset: 0,
                timeout: Duration::from_millis(st.settings.delivery_timeout_ms),
                client: st.http.clone(),
            },
        );
    }
}

/// Queues signed V2 deliveries of `event` (its UI name) to the hooks
/// subscribed to it. Call with the state locked.
pub(crate) fn fire_v2(
    world: &web::Data<World>,
    st: &State,
    event: &str,
    resource_url: &str,
    data: Option<Value>,
) {
    let mut payload = json!({ "resource_url": resource_url, "resource_type": event });
    if let Some(data) = data {
        payload["data"] = data;
    }
    let body = payload.to_string();
    let targets: Vec<_> = st
        .v2_hooks
        .values()
        .filter(|h| super::webhooks::v2_event(&h.event) == Some(event))
        .cloned()
        .collect();
    for hook in targets {
        let mut headers = BTreeMap::new();
        for (k, v) in &hook.headers {
            headers.insert(k.clone(), v.clone());
        }
        headers.insert("content-type".to_string(), "application/json".to_string());
        spawn(
            world,
            Outgoing {
                api: "v2",
                webhook_id: hook.id,
                event: event.to_string(),
                url: hook.url,
                headers,
                body: body.clone(),
                sign_with: Some(st.signing_key),
                timestamp_offset: st.settings.signature_timestamp_offset_secs,
                timeout: Duration::from_millis(st.settings.delivery_timeout_ms),
                client: st.http.clone(),
            },
        );
    }
}

fn spawn(world: &web::Data<World>, out: Outgoing) {
    let world = world.clone();
    tokio::spawn(async move { deliver(&world, out).await });
}

async fn deliver(world: &web::Data<World>, mut out: Outgoing) {
    if let Some(key) = out.sign_with {
        let at = Utc::now() + chrono::Duration::seconds(out.timestamp_offset);
        let timestamp = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let message = format!("{timestamp}.{}", out.body);
        let signature = keys::sign(key, message.as_bytes());
        out.headers.insert(
            "x-shipengine-rsa-sha256-key-id".into(),
            keys::KIDS[key].to_string(),
        );
        out.headers
            .insert("x-shipengine-rsa-sha256-signature".into(), signature);
        out.headers
            .insert("x-shipengine-timestamp".into(), timestamp);
    }
    let struck = world.faults.strike_delivery(System::Shipstation, &out.url);
    let (status, error) = match struck {
        Some(0) => (0, Some("injected fault: connection failure".to_string())),
        Some(status) => (status, None),
        None => {
            let mut request = out
                .client
                .post(&out.url)
                .timeout(out.timeout)
                .body(out.body.clone());
            for (k, v) in &out.headers {
                request = request.header(k.as_str(), v.as_str());
            }
            match request.send().await {
                Ok(response) => (response.status().as_u16(), None),
                Err(e) => (0, Some(e.to_string())),
            }
        }
    };
    let mut st = world.shipstation();
    let seq = st.deliveries.len() as u64 + 1;
    st.deliveries.push(DeliveryRecord {
        seq,
        api: out.api,
        webhook_id: out.webhook_id,
        event: out.event,
        url: out.url,
        headers: out.headers,
        body: out.body,
        response_status: status,
        error,
        fault_injected: struck.is_some(),
        success: (200..300).contains(&status),
        at: Utc::now(),
    });
}
