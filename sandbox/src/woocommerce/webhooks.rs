//! Webhook resources (facts §1.8): create (201 + `Location`, then the ping
//! of §1.10, awaited inside the request and its result ignored), list,
//! get, update (re-enable with `{"status":"active"}`), delete (`force`
//! required), batch.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use rand::Rng;
use serde_json::{json, Value};

use super::auth::{
    authorize, CANNOT_BATCH, CANNOT_CREATE, CANNOT_DELETE, CANNOT_EDIT, CANNOT_LIST, CANNOT_VIEW,
};
use super::paging::{respond, ListParams};
use super::products::{check_batch_size, item_error};
use super::{api_base, body_params, delivery, field_str, links, now, State, WcError};
use crate::World;

/// A webhook.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub topic: String,
    pub delivery_url: String,
    pub secret: String,
    pub failure_count: u32,
    pub date_created: NaiveDateTime,
    pub date_modified: NaiveDateTime,
}

/// `wc_is_webhook_valid_topic` (facts §1.8).
pub(crate) fn valid_topic(topic: &str) -> bool {
    if let Some(action) = topic.strip_prefix("action.") {
        let excluded = [
            "woocommerce_login_credentials",
            "woocommerce_product_csv_importer_check_import_file_path",
            "woocommerce_webhook_should_deliver",
        ];
        return (action.starts_with("woocommerce_") || action.starts_with("wc_"))
            && !excluded.contains(&action);
    }
    match topic.split_once('.') {
        Some((resource, event)) => {
            matches!(resource, "coupon" | "customer" | "order" | "product")
                && matches!(event, "created" | "updated" | "deleted" | "restored")
        }
        None => false,
    }
}

/// `wc_get_webhook_statuses`.
pub(crate) fn valid_status(status: &str) -> bool {
    matches!(status, "active" | "paused" | "disabled")
}

/// `(resource, event)` of a topic.
pub(crate) fn split_topic(topic: &str) -> (&str, &str) {
    topic.split_once('.').unwrap_or((topic, ""))
}

/// The hooks behind a topic (`get_default_topic_hooks`, facts §1.8).
fn hooks(topic: &str) -> Vec<&str> {
    match topic {
        "order.created" => vec!["woocommerce_new_order"],
        "order.updated" => vec![
            "woocommerce_update_order",
            "woocommerce_order_refunded",
            "woocommerce_delete_order_refund",
        ],
        "order.deleted" => vec!["wp_trash_post", "woocommerce_trash_order"],
        "order.restored" => vec!["untrashed_post", "woocommerce_untrash_order"],
        "product.created" => vec![
            "woocommerce_process_product_meta",
            "woocommerce_new_product",
            "woocommerce_new_product_variation",
        ],
        "product.updated" => vec![
            "woocommerce_process_product_meta",
            "woocommerce_update_product",
            "woocommerce_update_product_variation",
        ],
        "product.deleted" => vec!["wp_trash_post"],
        "product.restored" => vec!["untrashed_post"],
        "customer.created" => vec![
            "user_register",
            "woocommerce_created_customer",
            "woocommerce_new_customer",
        ],
        "customer.updated" => vec!["profile_update", "woocommerce_update_customer"],
        "customer.deleted" => vec!["delete_user"],
        "coupon.created" => vec![
            "woocommerce_process_shop_coupon_meta",
            "woocommerce_new_coupon",
        ],
        "coupon.updated" => vec![
            "woocommerce_process_shop_coupon_meta",
            "woocommerce_update_coupon",
        ],
        "coupon.deleted" => vec!["wp_trash_post"],
        "coupon.restored" => vec!["untrashed_post"],
        t => t
            .strip_prefix("action.")
            .map(|a| vec![a])
            .unwrap_or_default(),
    }
}

/// `wp_generate_password(50, true, true)`.
fn generate_secret() -> String {
    const CHARS: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|";
    let mut rng = rand::rng();
    (0..50)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// The REST representation; `secret` only in the `edit` context.
pub(crate) fn render(state: &State, api: &str, w: &Webhook, edit: bool) -> Value {
    let (created, created_gmt) = state.dates(w.date_created);
    let (modified, modified_gmt) = state.dates(w.date_modified);
    let (resource, event) = split_topic(&w.topic);
    let mut v = json!({
        "id": w.id,
        "name": w.name,
        "status": w.status,
        "topic": w.topic,
        "resource": resource,
        "event": event,
        "hooks": hooks(&w.topic),
        "delivery_url": w.delivery_url,
        "date_created": created,
        "date_created_gmt": created_gmt,
        "date_modified": modified,
        "date_modified_gmt": modified_gmt,
        "_links": links(api, "webhooks", w.id),
    });
    if edit {
        v["secret"] = w.secret.clone().into();
    }
    v
}

fn invalid_topic() -> WcError {
    WcError::new(
        400,
        "woocommerce_rest_shop_webhook_invalid_topic",
        "Webhook topic is required and must be valid.",
    )
}

fn check_url(url: &str) -> Result<(), WcError> {
    if (url.starts_with("http://") || url.starts_with("https://"))
        && reqwest::Url::parse(url).is_ok()
    {
        Ok(())
    } else {
        Err(WcError::new(
            400,
            "woocommerce_rest_shop_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
        ))
    }
}

fn invalid_status() -> WcError {
    WcError::new(
        400,
        "woocommerce_rest_webhook_invalid_status",
        "Webhook status must be valid.",
    )
}

/// Creates a webhook from a REST body; its id (the caller pings).
pub(crate) fn create(state: &mut State, body: &Value) -> Result<u64, WcError> {
    let topic = field_str(body, "topic")?.unwrap_or_default();
    if !valid_topic(&topic) {
        return Err(invalid_topic());
    }
    let url = field_str(body, "delivery_url")?.unwrap_or_default();
    check_url(&url)?;
    let status = field_str(body, "status")?.unwrap_or_else(|| "active".into());
    if !valid_status(&status) {
        return Err(invalid_status());
    }
    let at = now();
    let name = field_str(body, "name")?
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            format!(
                "Webhook created on {}",
                state.local(at).format("%b %d, %Y @ %I:%M %p")
            )
        });
    let secret = field_str(body, "secret")?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(generate_secret);
    let id = state.webhook_id();
    state.webhooks.insert(
        id,
        Webhook {
            id,
            name,
            status,
            topic,
            delivery_url: url,
            secret,
            failure_count: 0,
            date_created: at,
            date_modified: at,
        },
    );
    Ok(id)
}

/// Updates webhook `id` from a REST body.
pub(crate) fn update(state: &mut State, id: u64, body: &Value) -> Result<(), WcError> {
    let reset = state.settings.reset_failures_on_activate;
    let Some(mut w) = state.webhooks.get(&id).cloned() else {
        return Err(WcError::new(
            400,
            "woocommerce_rest_shop_webhook_invalid_id",
            "ID is invalid.",
        ));
    };
    if let Some(topic) = field_str(body, "topic")? {
        if !valid_topic(&topic) {
            return Err(invalid_topic());
        }
        w.topic = topic;
    }
    if let Some(url) = field_str(body, "delivery_url")? {
        check_url(&url)?;
        w.delivery_url = url;
    }
    if let Some(secret) = field_str(body, "secret")? {
        w.secret = secret;
    }
    if let Some(name) = field_str(body, "name")? {
        w.name = name;
    }
    if let Some(status) = field_str(body, "status")? {
        if !valid_status(&status) {
            return Err(invalid_status());
        }
        if status == "active" && w.status != "active" && reset {
            w.failure_count = 0;
        }
        w.status = status;
    }
    w.date_modified = now();
    state.webhooks.insert(id, w);
    Ok(())
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks/batch", web::post().to(batch))
        .route("/webhooks/batch", web::put().to(batch))
        .route("/webhooks/batch", web::patch().to(batch))
        .route("/webhooks", web::get().to(list))
        .route("/webhooks", web::post().to(create_one))
        .route("/webhooks/{id:\\d+}", web::get().to(get))
        .route("/webhooks/{id:\\d+}", web::put().to(update_one))
        .route("/webhooks/{id:\\d+}", web::post().to(update_one))
        .route("/webhooks/{id:\\d+}", web::patch().to(update_one))
        .route("/webhooks/{id:\\d+}", web::delete().to(delete_one));
}

async fn list(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_LIST)?;
    let params = ListParams::parse(&req)?;
    let status = params.get("status").unwrap_or("all").to_string();
    if status != "all" && !valid_status(&status) {
        return Err(WcError::invalid_param(
            "status",
            "status is not one of all, active, paused, and disabled.",
        ));
    }
    let search = params.search.as_ref().map(|s| s.to_lowercase());
    let mut items: Vec<&Webhook> = st
        .webhooks
        .values()
        .filter(|w| params.id_passes(w.id))
        .filter(|w| status == "all" || w.status == status)
        .filter(|w| {
            search
                .as_ref()
                .is_none_or(|s| w.name.to_lowercase().contains(s))
        })
        .filter(|w| {
            params.dates_pass(
                params.after,
                params.before,
                w.date_created,
                st.local(w.date_created),
            )
        })
        .collect();
    match params.orderby.as_deref().unwrap_or("date") {
        "id" => items.sort_by_key(|w| w.id),
        "title" => items.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        _ => items.sort_by_key(|w| (w.date_created, w.id)),
    }
    if !params.ascending.unwrap_or(false) {
        items.reverse();
    }
    let edit = params.get("context") == Some("edit");
    let items: Vec<Value> = items
        .into_iter()
        .map(|w| render(&st, &api, w, edit))
        .collect();
    Ok(respond(&req, &params, items))
}

async fn get(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_VIEW)?;
    let edit = ListParams::parse(&req)?.get("context") == Some("edit");
    let w = st.webhooks.get(&id).ok_or_else(|| {
        WcError::new(
            404,
            "woocommerce_rest_shop_webhook_invalid_id",
            "Invalid ID.",
        )
    })?;
    Ok(HttpResponse::Ok().json(render(&st, &api, w, edit)))
}

async fn create_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let (id, rendered) = {
        let mut st = world.woocommerce();
        authorize(&req, &body, &mut st, CANNOT_CREATE)?;
        let patch = body_params(&req, &body)?;
        let id = create(&mut st, &patch)?;
        let rendered = render(&st, &api, &st.webhooks[&id], true);
        (id, rendered)
    };
    // The ping is sent synchronously after the save; its result does not
    // change the 201 (facts §0 #3, §1.10).
    delivery::ping(&world, id).await;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{api}/webhooks/{id}")))
        .json(rendered))
}

async fn update_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_EDIT)?;
    let patch = body_params(&req, &body)?;
    update(&mut st, id, &patch)?;
    Ok(HttpResponse::Ok().json(render(&st, &api, &st.webhooks[&id], true)))
}

async fn delete_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_DELETE)?;
    let params = ListParams::parse(&req)?;
    if !matches!(params.get("force"), Some("true" | "1")) {
        return Err(WcError::new(
            501,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        ));
    }
    let Some(w) = st.webhooks.remove(&id) else {
        return Err(WcError::new(
            404,
            "woocommerce_rest_shop_webhook_invalid_id",
            "Invalid ID.",
        ));
    };
    st.queues.remove(&id);
    Ok(HttpResponse::Ok().json(render(&st, &api, &w, true)))
}

async fn batch(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut to_ping = Vec::new();
    let out = {
        let mut st = world.woocommerce();
        authorize(&req, &body, &mut st, CANNOT_BATCH)?;
        let patch = body_params(&req, &body)?;
        check_batch_size(&patch)?;
        let mut out = serde_json::Map::new();
        if let Some(items) = patch.get("create").and_then(Value::as_array) {
            let mut done = Vec::new();
            for item in items {
                match create(&mut st, item) {
                    Ok(id) => {
                        to_ping.push(id);
                        done.push(render(&st, &api, &st.webhooks[&id], true));
                    }
                    Err(e) => done.push(item_error(0, &e)),
                }
            }
            out.insert("create".into(), done.into());
        }
        if let Some(items) = patch.get("update").and_then(Value::as_array) {
            let mut done = Vec::new();
            for item in items {
                let id = item.get("id").and_then(Value::as_u64).unwrap_or(0);
                match update(&mut st, id, item) {
                    Ok(()) => done.push(render(&st, &api, &st.webhooks[&id], true)),
                    Err(e) => done.push(item_error(id, &e)),
                }
            }
            out.insert("update".into(), done.into());
        }
        if let Some(items) = patch.get("delete").and_then(Value::as_array) {
            let mut done = Vec::new();
            for item in items {
                let id = item.as_u64().unwrap_or(0);
                match st.webhooks.remove(&id) {
                    Some(w) => {
                        st.queues.remove(&id);
                        done.push(render(&st, &api, &w, true));
                    }
                    None => done.push(item_error(
                        id,
                        &WcError::new(
                            404,
                            "woocommerce_rest_shop_webhook_invalid_id",
                            "Invalid ID.",
                        ),
                    )),
                }
            }
            out.insert("delete".into(), done.into());
        }
        out
    };
    for id in to_ping {
        delivery::ping(&world, id).await;
    }
    Ok(HttpResponse::Ok().json(Value::Object(out)))
}
