//! Outgoing webhook deliveries (§2.8-§2.10).
//!
//! An event makes one message per active hook whose scope matches: the
//! light payload `{scope, store_id, data, hash, created_at, producer}`
//! (`hash` = SHA-1 hex of the JSON-encoded `data`), sent as JSON with the
//! hook's custom `headers` and the Standard Webhooks headers (§2.9):
//! `webhook-id` (the same on every attempt of a message),
//! `webhook-timestamp` (unix seconds of the attempt) and
//! `webhook-signature` = `v1,` base64(HMAC-SHA256(key, "{id}.{ts}.{body}")),
//! the key being the raw bytes of the owning account's client secret.
//!
//! Any 2xx is a success. A failure is retried after each delay of
//! `retry_delays_ms` (§2.10: 60 s ... 86400 s); when the last retry fails
//! the hook is deactivated (`is_active` false) and a notice is recorded
//! for the admin e-mails. Per (client, destination domain) the success
//! ratio over a sliding window is watched: past the minimum number of
//! requests and under the ratio, the domain is blocklisted for a while;
//! attempts meanwhile are not sent and go to the retry queue.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use actix_web::web;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use sha2::Sha256;

use super::{webhooks, State, STORE_HASH, STORE_ID};
use crate::{System, World};

/// One attempt to deliver a message, for inspection.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    /// Order of attempts, from 1.
    pub seq: u64,
    /// The hook.
    pub hook_id: u64,
    /// The event's scope.
    pub scope: String,
    /// `webhook-id` of the message.
    pub message_id: String,
    /// 0 for the first attempt, then 1.. for retries.
    pub attempt: usize,
    /// Where it went.
    pub destination: String,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
    /// Raw body.
    pub body: String,
    /// The receiver's status; 0 when none.
    pub response_status: u16,
    /// Why there was no answer.
    pub error: Option<String>,
    /// A `delivery_failure` fault decided the outcome.
    pub fault_injected: bool,
    /// Not sent: the domain was blocklisted.
    pub blocked: bool,
    /// 2xx.
    pub success: bool,
    /// Whether the hook is still active after this attempt.
    pub hook_active: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// Delivery results of one (client, domain).
#[derive(Debug, Default)]
pub struct DomainStats {
    results: VecDeque<(Instant, bool)>,
    blocked_until: Option<Instant>,
    reasons: Vec<Value>,
}

/// The blocklisted domains of `client` (for `/hooks/admin`).
pub(crate) fn blocked_domains(st: &State, client: &str) -> Vec<Value> {
    let now = Instant::now();
    st.domains
        .iter()
        .filter(|((c, _), _)| c == client)
        .filter_map(|((_, domain), s)| {
            let until = s.blocked_until.filter(|u| *u > now)?;
            Some(json!({
                "destination": domain,
                "time_left": until.duration_since(now).as_secs(),
                "reasons": s.reasons,
            }))
        })
        .collect()
}

/// The signature header value: `v1,` + base64(HMAC-SHA256).
pub fn sign(secret: &[u8], msg_id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The payload of §2.8 (`created_at` unless the store omits it).
fn payload(scope: &str, data: &Value, created_at: bool) -> String {
    let data_json = serde_json::to_string(data).unwrap_or_default();
    let hash: String = Sha1::digest(data_json.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut p = json!({
        "scope": scope,
        "store_id": STORE_ID,
        "data": data,
        "hash": hash,
        "producer": format!("stores/{STORE_HASH}"),
    });
    if created_at {
        p["created_at"] = Utc::now().timestamp().into();
    }
    p.to_string()
}

/// Queues a message of `scope` with `data` to every active hook whose scope
/// matches. Call with the state locked; nothing is awaited.
pub(crate) fn fire(world: &web::Data<World>, st: &mut State, scope: &str, data: Value) {
    let targets: Vec<u64> = st
        .hooks
        .values()
        .filter(|h| h.is_active && webhooks::scope_matches(&h.scope, scope))
        .map(|h| h.id)
        .collect();
    if targets.is_empty() {
        return;
    }
    let body = payload(scope, &data, st.settings.payload_created_at);
    let t = Utc::now().timestamp();
    for id in &targets {
        if let Some(h) = st.hooks.get_mut(id) {
            h.last_event_at = t;
        }
    }
    for hook_id in targets {
        let msg = Message {
            hook_id,
            scope: scope.to_string(),
            body: body.clone(),
            id: uuid::Uuid::new_v4().to_string(),
        };
        tokio::spawn(run(world.clone(), msg));
    }
}

struct Message {
    hook_id: u64,
    scope: String,
    body: String,
    id: String,
}

fn domain_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

/// Attempts a message until it succeeds, the retries run out (the hook is
/// deactivated), or the hook is gone or switched off.
async fn run(world: web::Data<World>, msg: Message) {
    let mut attempt = 0usize;
    loop {
        let prepared = {
            let st = world.bigcommerce();
            let Some(hook) = st.hooks.get(&msg.hook_id).filter(|h| h.is_active) else {
                return;
            };
            let domain = domain_of(&hook.destination);
            let blocked = st
                .domains
                .get(&(hook.client_id.clone(), domain.clone()))
                .and_then(|d| d.blocked_until)
                .is_some_and(|u| u > Instant::now());
            let mut headers = BTreeMap::new();
            headers.insert("content-type".to_string(), "application/json".to_string());
            headers.insert(
                "user-agent".to_string(),
                "BigCommerce-Webhooks/1.0 (mlc-sandbox)".to_string(),
            );
            if let Some(custom) = &hook.headers {
                for (k, v) in custom {
                    if let Some(v) = v.as_str() {
                        headers.insert(k.clone(), v.to_string());
                    }
                }
            }
            if st.settings.sign_deliveries {
                let secret = st
                    .accounts
                    .iter()
                    .find(|a| a.client_id == hook.client_id)
                    .map(|a| a.client_secret.clone())
                    .unwrap_or_default();
                let ts = Utc::now().timestamp();
                headers.insert("webhook-id".to_string(), msg.id.clone());
                headers.insert("webhook-timestamp".to_string(), ts.to_string());
                headers.insert(
                    "webhook-signature".to_string(),
                    sign(secret.as_bytes(), &msg.id, ts, &msg.body),
                );
            }
            (
                hook.destination.clone(),
                (hook.client_id.clone(), domain),
                blocked,
                headers,
                st.http.clone(),
                Duration::from_millis(st.settings.delivery_timeout_ms),
            )
        };
        let (url, key, blocked, headers, client, timeout) = prepared;
        let mut struck = None;
        let (status, error) = if blocked {
            (0, Some("destination domain is blocklisted".to_string()))
        } else {
            struck = world.faults.strike_delivery(System::Bigcommerce, &url);
            match struck {
                Some(0) => (0, Some("injected fault: connection failure".to_string())),
                Some(s) => (s, None),
                None => {
                    let mut request = client.post(&url).timeout(timeout).body(msg.body.clone());
                    for (k, v) in &headers {
                        request = request.header(k.as_str(), v.as_str());
                    }
                    match request.send().await {
                        Ok(r) => (r.status().as_u16(), None),
                        Err(e) => (0, Some(e.to_string())),
                    }
                }
            }
        };
        let success = (200..300).contains(&status);
        let delay = {
            let mut st = world.bigcommerce();
            if !blocked {
                watch_domain(&mut st, key, success, status, error.as_deref());
            }
            let retries = st.settings.retry_delays_ms.clone();
            let mut delay = None;
            let mut hook_active = st.hooks.get(&msg.hook_id).is_some_and(|h| h.is_active);
            if !success && hook_active {
                match retries.get(attempt) {
                    Some(ms) => delay = Some(Duration::from_millis(*ms)),
                    None => {
                        deactivate(&mut st, msg.hook_id, "failed deliveries");
                        hook_active = false;
                    }
                }
            }
            let seq = st.deliveries.len() as u64 + 1;
            st.deliveries.push(DeliveryRecord {
                seq,
                hook_id: msg.hook_id,
                scope: msg.scope.clone(),
                message_id: msg.id.clone(),
                attempt,
                destination: url,
                headers,
                body: msg.body.clone(),
                response_status: status,
                error,
                fault_injected: struck.is_some(),
                blocked,
                success,
                hook_active,
                at: Utc::now(),
            });
            delay
        };
        match delay {
            Some(d) => {
                tokio::time::sleep(d).await;
                attempt += 1;
            }
            None => return,
        }
    }
}

/// Days without events after which a hook is deactivated (§2.7).
pub const INACTIVITY_DAYS: i64 = 90;

/// Moves every hook's last event `days` into the past, then deactivates
/// the active hooks idle for [`INACTIVITY_DAYS`] (§2.7); returns their ids.
pub(crate) fn age_hooks(st: &mut State, days: i64) -> Vec<u64> {
    let now = Utc::now().timestamp();
    let mut idle = Vec::new();
    for h in st.hooks.values_mut() {
        h.last_event_at -= days * 86_400;
        if h.is_active && now - h.last_event_at >= INACTIVITY_DAYS * 86_400 {
            idle.push(h.id);
        }
    }
    for id in &idle {
        deactivate(st, *id, "inactivity");
    }
    idle
}

/// After the final retry (or 90 idle days): `is_active` false, status
/// `deactivated`, and the e-mail notice (§2.10).
fn deactivate(st: &mut State, hook_id: u64, reason: &str) {
    let emails = st.admin_emails.clone();
    if let Some(h) = st.hooks.get_mut(&hook_id) {
        h.is_active = false;
        h.status = "deactivated".into();
        h.updated_at = Utc::now().timestamp();
        let notice = json!({
            "to": emails,
            "hook_id": hook_id,
            "scope": h.scope,
            "destination": h.destination,
            "subject": "Your webhook has been deactivated",
            "reason": reason,
            "at": Utc::now().to_rfc3339(),
        });
        st.notices.push(notice);
    }
}

/// Records a result for the domain and blocklists it when the ratio of
/// successes in the window falls under the threshold (§2.10).
fn watch_domain(
    st: &mut State,
    key: (String, String),
    success: bool,
    status: u16,
    error: Option<&str>,
) {
    let now = Instant::now();
    let window = Duration::from_millis(st.settings.blocklist_window_ms);
    let (min, ratio, block) = (
        st.settings.blocklist_min_requests as usize,
        st.settings.blocklist_min_success_ratio,
        Duration::from_millis(st.settings.blocklist_ms),
    );
    let stats = st.domains.entry(key).or_default();
    stats.results.push_back((now, success));
    while stats
        .results
        .front()
        .is_some_and(|(t, _)| now.duration_since(*t) > window)
    {
        stats.results.pop_front();
    }
    if !success {
        let description = match error {
            Some(e) => e.to_string(),
            None => format!("HTTP {status}"),
        };
        match stats
            .reasons
            .iter_mut()
            .find(|r| r["failure_description"] == description.as_str())
        {
            Some(r) => {
                r["count"] = (r["count"].as_u64().unwrap_or(0) + 1).into();
                r["timestamp"] = Utc::now().timestamp().into();
            }
            None => stats.reasons.push(json!({
                "failure_description": description,
                "count": 1,
                "timestamp": Utc::now().timestamp(),
            })),
        }
    }
    let n = stats.results.len();
    if n >= min && n > 0 {
        let ok = stats.results.iter().filter(|(_, s)| *s).count();
        if (ok as f64) / (n as f64) < ratio {
            stats.blocked_until = Some(now + block);
            stats.results.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_with_a_wildcard_match_below_it() {
        assert!(webhooks::scope_matches(
            "store/order/*",
            "store/order/refund/created"
        ));
        assert!(!webhooks::scope_matches("store/order/*", "store/orders"));
        assert!(webhooks::scope_matches(
            "store/order/created",
            "store/order/created"
        ));
    }

    #[test]
    fn signature_is_v1_base64() {
        let s = sign(b"secret", "msg_1", 1_700_000_000, "{}");
        assert!(s.starts_with("v1,"));
        assert_eq!(s.len(), 3 + 44);
    }
}
