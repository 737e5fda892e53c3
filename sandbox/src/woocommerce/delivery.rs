//! Outgoing webhook deliveries (facts §1.9) and pings (§1.10).
//!
//! An event queues a job per active webhook of its topic (coalesced while
//! one for the same webhook and resource is pending); one worker task per
//! webhook sends them in order. The payload is built when the job runs
//! (the resource as it is then), PHP-`json_encode`d (`\/`, `\uXXXX`), and
//! signed: `X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body)).
//! Success is 200..=302 and resets the failure count; any other answer or
//! no answer: `if failure_count > 5 { disabled } else { failure_count += 1 }`,
//! so the 7th consecutive failure disables the hook. Nothing is retried.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::web;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::mpsc;

use super::{api_base, customers, orders, products, webhooks, State, WC_VERSION, WP_VERSION};
use crate::{System, World};

/// One queued delivery.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    webhook_id: u64,
    topic: String,
    resource_id: u64,
}

/// A request the store sent (a delivery or a ping), for inspection.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    /// Order of sending, from 1.
    pub seq: u64,
    /// `delivery` or `ping`.
    pub kind: &'static str,
    /// The webhook.
    pub webhook_id: u64,
    /// The topic (deliveries only).
    pub topic: Option<String>,
    /// The resource's id (deliveries only).
    pub resource_id: Option<u64>,
    /// Where it was sent.
    pub delivery_url: String,
    /// The request headers.
    pub headers: BTreeMap<String, String>,
    /// The raw request body.
    pub body: String,
    /// The receiver's status; 0 when there was none.
    pub response_status: u16,
    /// Why there was no answer.
    pub error: Option<String>,
    /// Whether a `delivery_failure` fault decided the outcome.
    pub fault_injected: bool,
    /// Whether it counted as a success.
    pub success: bool,
    /// The webhook's failure count after this one (deliveries only).
    pub failure_count: u32,
    /// The webhook's status after this one.
    pub webhook_status: String,
    /// When it was sent.
    pub at: DateTime<Utc>,
}

/// The store's User-Agent.
fn user_agent() -> String {
    format!("WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})")
}

/// PHP's `json_encode` with default flags: `/` as `\/`, non-ASCII as
/// `\uXXXX` (surrogate pairs beyond the BMP).
pub(crate) fn php_json(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

/// `wp_specialchars_decode($secret, ENT_QUOTES)`.
fn specialchars_decode(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// base64(HMAC-SHA256(secret, body)).
pub(crate) fn signature(secret: &str, body: &str) -> String {
    let key = specialchars_decode(secret);
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `wp_hash($id . strtotime('now'))`: 32 hex digits, the same for two
/// deliveries of one webhook within a second (facts §1.9).
fn delivery_id(webhook_id: u64) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(b"mlc-sandbox wp_hash salt").expect("any key length");
    mac.update(format!("{webhook_id}{}", Utc::now().timestamp()).as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Queues deliveries of `topic` for `resource_id` to every active webhook
/// of that topic. Call with the state locked; nothing is awaited.
pub(crate) fn fire(world: &web::Data<World>, state: &mut State, topic: &str, resource_id: u64) {
    // Orders in draft statuses never trigger webhooks (facts §1.8).
    if topic.starts_with("order.")
        && state.orders.get(&resource_id).is_some_and(|o| {
            matches!(
                o.status.as_str(),
                "checkout-draft" | "draft" | "auto-draft" | "new"
            )
        })
    {
        return;
    }
    let targets: Vec<u64> = state
        .webhooks
        .values()
        .filter(|w| w.status == "active" && w.topic == topic)
        .map(|w| w.id)
        .collect();
    for webhook_id in targets {
        let key = (webhook_id, resource_id, topic.to_string());
        if state.settings.coalesce_deliveries && state.pending.contains(&key) {
            continue;
        }
        state.pending.insert(key);
        let job = Job {
            webhook_id,
            topic: topic.to_string(),
            resource_id,
        };
        let sender = state.queues.entry(webhook_id).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(worker(world.clone(), rx));
            tx
        });
        if let Err(mpsc::error::SendError(job)) = sender.send(job) {
            // The worker is gone (its runtime stopped): start another.
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(worker(world.clone(), rx));
            let _ = tx.send(job);
            state.queues.insert(webhook_id, tx);
        }
    }
}

async fn worker(world: web::Data<World>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        deliver(&world, job).await;
    }
}

/// The payload: the REST answer of the resource, `{"id"}` for `deleted`
/// (or when it is gone), `{"action","arg"}` for actions.
fn payload(state: &State, api: &str, topic: &str, id: u64) -> Value {
    let (resource, event) = webhooks::split_topic(topic);
    if resource == "action" {
        return json!({ "action": event, "arg": id });
    }
    if event == "deleted" {
        return json!({ "id": id });
    }
    let rendered = match resource {
        "order" => state.orders.get(&id).map(|o| orders::render(state, api, o)),
        "product" => state
            .products
            .get(&id)
            .map(|p| products::render(state, api, p)),
        "customer" => state
            .customers
            .get(&id)
            .map(|c| customers::render(state, api, c)),
        _ => None,
    };
    rendered.unwrap_or_else(|| json!({ "id": id }))
}

struct Outgoing {
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
    timeout: Duration,
    client: reqwest::Client,
}

async fn send(out: &Outgoing) -> (u16, Option<String>) {
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

async fn deliver(world: &web::Data<World>, job: Job) {
    let api = api_base(world);
    let source = world.base_url(System::Woocommerce);
    let out = {
        let mut st = world.woocommerce();
        st.pending
            .remove(&(job.webhook_id, job.resource_id, job.topic.clone()));
        let Some(hook) = st.webhooks.get(&job.webhook_id) else {
            return;
        };
        if hook.status != "active" || hook.topic != job.topic {
            return;
        }
        let body = php_json(&payload(&st, &api, &job.topic, job.resource_id));
        let (resource, event) = webhooks::split_topic(&job.topic);
        let mut headers = BTreeMap::new();
        headers.insert("User-Agent".to_string(), user_agent());
        headers.insert("Content-Type".to_string(), "application/json".to_string());
        headers.insert("X-WC-Webhook-Source".to_string(), source);
        headers.insert("X-WC-Webhook-Topic".to_string(), job.topic.clone());
        headers.insert("X-WC-Webhook-Resource".to_string(), resource.to_string());
        headers.insert("X-WC-Webhook-Event".to_string(), event.to_string());
        headers.insert(
            "X-WC-Webhook-Signature".to_string(),
            signature(&hook.secret, &body),
        );
        headers.insert("X-WC-Webhook-ID".to_string(), hook.id.to_string());
        headers.insert("X-WC-Webhook-Delivery-ID".to_string(), delivery_id(hook.id));
        Outgoing {
            url: hook.delivery_url.clone(),
            headers,
            body,
            timeout: Duration::from_millis(st.settings.delivery_timeout_ms),
            client: st.http.clone(),
        }
    };
    let struck = world.faults.strike_delivery(System::Woocommerce, &out.url);
    let (status, error) = match struck {
        Some(0) => (0, Some("injected fault: connection failure".to_string())),
        Some(status) => (status, None),
        None => send(&out).await,
    };
    let success = (200..303).contains(&status);
    let mut st = world.woocommerce();
    let (failure_count, webhook_status) = match st.webhooks.get_mut(&job.webhook_id) {
        Some(hook) => {
            if success {
                hook.failure_count = 0;
            } else if hook.failure_count > 5 {
                // filter woocommerce_max_webhook_delivery_failures = 5.
                hook.status = "disabled".into();
            } else {
                hook.failure_count += 1;
            }
            (hook.failure_count, hook.status.clone())
        }
        None => (0, "deleted".into()),
    };
    let seq = st.deliveries.len() as u64 + 1;
    st.deliveries.push(DeliveryRecord {
        seq,
        kind: "delivery",
        webhook_id: job.webhook_id,
        topic: Some(job.topic),
        resource_id: Some(job.resource_id),
        delivery_url: out.url,
        headers: out.headers,
        body: out.body,
        response_status: status,
        error,
        fault_injected: struck.is_some(),
        success,
        failure_count,
        webhook_status,
        at: Utc::now(),
    });
}

/// The ping after creation: form body `webhook_id=N`, no `X-WC-Webhook-*`
/// headers, no signature; success is exactly 200 and only recorded (it does
/// not touch the failure count). Delivery faults do not apply to pings.
pub(crate) async fn ping(world: &World, webhook_id: u64) {
    let out = {
        let st = world.woocommerce();
        let Some(hook) = st.webhooks.get(&webhook_id) else {
            return;
        };
        let mut headers = BTreeMap::new();
        headers.insert("User-Agent".to_string(), user_agent());
        // Transport default for a string body (UNVERIFIED in the facts).
        headers.insert(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        );
        Outgoing {
            url: hook.delivery_url.clone(),
            headers,
            body: format!("webhook_id={webhook_id}"),
            timeout: Duration::from_millis(st.settings.ping_timeout_ms),
            client: st.http.clone(),
        }
    };
    let (status, error) = send(&out).await;
    let error = error.or_else(|| {
        (status != 200).then(|| format!("Error: Delivery URL returned response code: {status}"))
    });
    let mut st = world.woocommerce();
    let (failure_count, webhook_status) = st
        .webhooks
        .get(&webhook_id)
        .map_or((0, "deleted".to_string()), |h| {
            (h.failure_count, h.status.clone())
        });
    let seq = st.deliveries.len() as u64 + 1;
    st.deliveries.push(DeliveryRecord {
        seq,
        kind: "ping",
        webhook_id,
        topic: None,
        resource_id: None,
        delivery_url: out.url,
        headers: out.headers,
        body: out.body,
        response_status: status,
        error,
        fault_injected: false,
        success: status == 200,
        failure_count,
        webhook_status,
        at: Utc::now(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_json_escapes_slashes_and_non_ascii() {
        let v = json!({ "href": "https://x/y", "name": "Café 😀" });
        assert_eq!(
            php_json(&v),
            r#"{"href":"https:\/\/x\/y","name":"Caf\u00e9 \ud83d\ude00"}"#
        );
    }

    #[test]
    fn secret_is_entity_decoded() {
        assert_eq!(signature("a&amp;b", "x"), signature("a&b", "x"));
    }
}
