//! Webhook subscriptions of both versions.
//!
//! V1 (facts §4.4): `POST /webhooks/subscribe {"target_url", "event",
//! "store_id"?, "friendly_name"?}` → 200 `{"WebHookID", "HookType", "Url",
//! "Name"}` (plus `id`, a decision); `GET /webhooks` and
//! `DELETE /webhooks/{webhookId}` (paths UNVERIFIED). Webhooks cannot be
//! modified through the API.
//!
//! V2 (facts §4.5): `GET|POST /v2/environment/webhooks`,
//! `GET|PUT|DELETE /v2/environment/webhooks/{webhook_id}`; body `{"name",
//! "event", "url", "headers": [{"key", "value"}], "store_id"}`; object
//! `{"webhook_id": "se-…", "url", "event", "headers", "name", "store_id"}`.
//! `event` takes the UI names (`TRACK_EVENT_V2`…) or the lowercase API
//! values (`track`…, exact enum UNVERIFIED); it is kept as sent, and the
//! deliveries' `resource_type` is the UI name.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::{json, Value};

use super::errors::{V1Error, V2Error};
use super::orders::json_body;
use crate::World;

/// The V1 events (§4.4).
pub const V1_EVENTS: [&str; 6] = [
    "ORDER_NOTIFY",
    "ITEM_ORDER_NOTIFY",
    "SHIP_NOTIFY",
    "ITEM_SHIP_NOTIFY",
    "FULFILLMENT_SHIPPED",
    "FULFILLMENT_REJECTED",
];

/// The V2 events: (lowercase API value, UI name).
pub const V2_EVENTS: [(&str, &str); 6] = [
    ("batch", "BATCH_PROCESSED_V2"),
    ("track", "TRACK_EVENT_V2"),
    ("shipment_created", "SHIPMENT_CREATED_V2"),
    ("label_created", "LABEL_CREATED_V2"),
    ("fulfillment_shipped", "FULFILLMENT_SHIPPED_V2"),
    ("fulfillment_rejected", "FULFILLMENT_REJECTED_V2"),
];

/// The UI name of a V2 event given either way.
pub fn v2_event(given: &str) -> Option<&'static str> {
    V2_EVENTS
        .iter()
        .find(|(api, ui)| given.eq_ignore_ascii_case(api) || given.eq_ignore_ascii_case(ui))
        .map(|(_, ui)| *ui)
}

/// A V1 subscription.
#[derive(Debug, Clone, Serialize)]
pub struct V1Hook {
    pub id: u64,
    pub event: String,
    pub url: String,
    pub name: Option<String>,
    pub store_id: Option<u64>,
}

/// A V2 subscription.
#[derive(Debug, Clone, Serialize)]
pub struct V2Hook {
    pub id: u64,
    pub event: String,
    pub url: String,
    pub name: Option<String>,
    pub headers: Vec<(String, String)>,
    pub store_id: Option<Value>,
}

impl V2Hook {
    /// `se-{id}`.
    pub fn webhook_id(&self) -> String {
        format!("se-{}", self.id)
    }

    /// The V2 representation.
    pub fn render(&self) -> Value {
        let headers: Vec<Value> = self
            .headers
            .iter()
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect();
        json!({
            "webhook_id": self.webhook_id(),
            "url": self.url,
            "event": self.event,
            "headers": headers,
            "name": self.name,
            "store_id": self.store_id,
        })
    }
}

fn is_http_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && s.len() > "https://".len()
}

pub(crate) fn v1_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks", web::get().to(v1_list))
        .route("/webhooks/subscribe", web::post().to(v1_subscribe))
        .route("/webhooks/{id}", web::delete().to(v1_unsubscribe));
}

fn v1_render(h: &V1Hook) -> Value {
    json!({
        "IsLabelAPIHook": false,
        "WebHookID": h.id,
        "SellerID": super::seed::SELLER_ID,
        "StoreID": h.store_id,
        "HookType": h.event,
        "MessageFormat": "Json",
        "Url": h.url,
        "Name": h.name,
        "BulkCopyBatchID": null,
        "BulkCopyRecordID": null,
        "Active": true,
        "WebhookLogs": [],
        "Seller": null,
        "Store": null,
    })
}

async fn v1_subscribe(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, V1Error> {
    let body = json_body(&body)?;
    let url = body
        .get("target_url")
        .and_then(Value::as_str)
        .filter(|u| is_http_url(u))
        .ok_or_else(|| V1Error::bad("target_url is required and must be an http(s) URL."))?;
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .filter(|e| V1_EVENTS.contains(e))
        .ok_or_else(|| V1Error::bad(format!("event must be one of {}.", V1_EVENTS.join(", "))))?;
    let store_id = match body.get("store_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| V1Error::bad("store_id must be an integer."))?,
        ),
    };
    let name = body
        .get("friendly_name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut st = world.shipstation();
    let id = st.hook_id();
    let hook = V1Hook {
        id,
        event: event.to_string(),
        url: url.to_string(),
        name,
        store_id,
    };
    let out = json!({ "id": id, "WebHookID": id, "HookType": hook.event, "Url": hook.url, "Name": hook.name });
    st.v1_hooks.insert(id, hook);
    Ok(HttpResponse::Ok().json(out))
}

async fn v1_list(world: web::Data<World>) -> HttpResponse {
    let st = world.shipstation();
    let hooks: Vec<Value> = st.v1_hooks.values().map(v1_render).collect();
    HttpResponse::Ok().json(json!({ "webhooks": hooks }))
}

async fn v1_unsubscribe(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V1Error> {
    let id: u64 = path
        .parse()
        .map_err(|_| V1Error::bad(format!("The value '{path}' is not valid for webhookId.")))?;
    let mut st = world.shipstation();
    if st.v1_hooks.remove(&id).is_none() {
        return Err(V1Error::not_found(format!("Webhook {id} was not found.")));
    }
    Ok(HttpResponse::Ok().finish())
}

pub(crate) fn v2_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/environment/webhooks", web::get().to(v2_list))
        .route("/environment/webhooks", web::post().to(v2_create))
        .route("/environment/webhooks/{id}", web::get().to(v2_get))
        .route("/environment/webhooks/{id}", web::put().to(v2_update))
        .route("/environment/webhooks/{id}", web::delete().to(v2_delete));
}

fn v2_json(body: &[u8]) -> Result<Value, V2Error> {
    serde_json::from_slice(body)
        .map_err(|_| V2Error::invalid("body", "The request body is not valid JSON."))
}

fn v2_headers(v: Option<&Value>) -> Result<Option<Vec<(String, String)>>, V2Error> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(list)) => list
            .iter()
            .map(|h| {
                let k = h.get("key").and_then(Value::as_str);
                let v = h.get("value").and_then(Value::as_str);
                match (k, v) {
                    (Some(k), Some(v))
                        if actix_web::http::header::HeaderName::try_from(k).is_ok() =>
                    {
                        Ok((k.to_string(), v.to_string()))
                    }
                    _ => Err(V2Error::invalid(
                        "headers",
                        "Each header needs a valid key and a value.",
                    )),
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(V2Error::invalid("headers", "headers must be an array.")),
    }
}

fn v2_id(path: &str) -> Result<u64, V2Error> {
    path.strip_prefix("se-")
        .unwrap_or(path)
        .parse()
        .map_err(|_| V2Error::not_found(format!("Webhook {path} was not found.")))
}

async fn v2_create(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, V2Error> {
    let body = v2_json(&body)?;
    let url = body
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| is_http_url(u))
        .ok_or_else(|| V2Error::invalid("url", "url is required and must be an http(s) URL."))?;
    let event = body
        .get("event")
        .and_then(Value::as_str)
        .filter(|e| v2_event(e).is_some())
        .ok_or_else(|| {
            V2Error::invalid(
                "event",
                "event is required and must be a known webhook event.",
            )
        })?;
    let headers = v2_headers(body.get("headers"))?.unwrap_or_default();
    let mut st = world.shipstation();
    let id = st.hook_id();
    let hook = V2Hook {
        id,
        event: event.to_string(),
        url: url.to_string(),
        name: body.get("name").and_then(Value::as_str).map(str::to_string),
        headers,
        store_id: body.get("store_id").filter(|v| !v.is_null()).cloned(),
    };
    let out = hook.render();
    st.v2_hooks.insert(id, hook);
    Ok(HttpResponse::Created().json(out))
}

async fn v2_list(world: web::Data<World>) -> HttpResponse {
    let st = world.shipstation();
    let hooks: Vec<Value> = st.v2_hooks.values().map(V2Hook::render).collect();
    HttpResponse::Ok().json(hooks)
}

async fn v2_get(world: web::Data<World>, path: web::Path<String>) -> Result<HttpResponse, V2Error> {
    let id = v2_id(&path)?;
    let st = world.shipstation();
    let hook = st
        .v2_hooks
        .get(&id)
        .ok_or_else(|| V2Error::not_found(format!("Webhook {path} was not found.")))?;
    Ok(HttpResponse::Ok().json(hook.render()))
}

/// `PUT`: `url`, `name`, `headers` and `store_id` change; 204.
async fn v2_update(
    world: web::Data<World>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, V2Error> {
    let id = v2_id(&path)?;
    let body = v2_json(&body)?;
    let url = match body.get("url") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .filter(|u| is_http_url(u))
                .ok_or_else(|| V2Error::invalid("url", "url must be an http(s) URL."))?
                .to_string(),
        ),
    };
    let headers = v2_headers(body.get("headers"))?;
    let mut st = world.shipstation();
    let hook = st
        .v2_hooks
        .get_mut(&id)
        .ok_or_else(|| V2Error::not_found(format!("Webhook {path} was not found.")))?;
    if let Some(url) = url {
        hook.url = url;
    }
    if let Some(headers) = headers {
        hook.headers = headers;
    }
    if let Some(name) = body.get("name").and_then(Value::as_str) {
        hook.name = Some(name.to_string());
    }
    if let Some(store) = body.get("store_id").filter(|v| !v.is_null()) {
        hook.store_id = Some(store.clone());
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn v2_delete(
    world: web::Data<World>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let id = v2_id(&path)?;
    let mut st = world.shipstation();
    if st.v2_hooks.remove(&id).is_none() {
        return Err(V2Error::not_found(format!("Webhook {path} was not found.")));
    }
    Ok(HttpResponse::NoContent().finish())
}
