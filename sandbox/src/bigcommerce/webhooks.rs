//! Webhooks v3 management (§2.7): `/hooks` CRUD scoped to the calling
//! API account's `client_id`, `/hooks/admin`, the limits (10 hooks per
//! client and scope, one per client, scope and destination), and the
//! destination rule (HTTPS on 443 when `strict_destinations`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{json, Value};

use super::paging::{v3_list, Page};
use super::{auth, json_body, now, param, query_pairs, Api, BcError, State, STORE_HASH};
use crate::World;

const V3: Api = Api::V3;

/// A webhook subscription.
#[derive(Debug, Clone, Serialize)]
pub struct Hook {
    /// Id.
    pub id: u64,
    /// The API account that owns it (and whose secret signs it).
    pub client_id: String,
    /// Event scope, e.g. `store/order/created` or `store/order/*`.
    pub scope: String,
    /// Where deliveries go.
    pub destination: String,
    /// Custom headers sent with every delivery.
    pub headers: Option<serde_json::Map<String, Value>>,
    /// Active.
    pub is_active: bool,
    /// `active`, `inactive` (switched off) or `deactivated` (by failures).
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Unix seconds of the last event sent to it (or of its creation): 90
    /// days without one deactivates it (§2.7).
    pub last_event_at: i64,
}

/// The hook as the API answers it.
pub(crate) fn render(h: &Hook) -> Value {
    json!({
        "id": h.id,
        "client_id": h.client_id,
        "store_hash": STORE_HASH,
        "scope": h.scope,
        "destination": h.destination,
        "headers": h.headers,
        "is_active": h.is_active,
        "created_at": h.created_at,
        "updated_at": h.updated_at,
    })
}

/// Whether a hook of `hook_scope` receives `event` (`store/order/*` takes
/// every `store/order/...` event).
pub(crate) fn scope_matches(hook_scope: &str, event: &str) -> bool {
    match hook_scope.strip_suffix("/*") {
        Some(prefix) => event.starts_with(&format!("{prefix}/")),
        None => hook_scope == event,
    }
}

/// The scopes the sandbox knows (§2.7) and their wildcards.
const SCOPES: [&str; 26] = [
    "store/order/*",
    "store/order/created",
    "store/order/updated",
    "store/order/archived",
    "store/order/statusUpdated",
    "store/order/message/created",
    "store/order/refund/created",
    "store/order/transaction/created",
    "store/order/transaction/updated",
    "store/product/*",
    "store/product/created",
    "store/product/updated",
    "store/product/deleted",
    "store/product/inventory/updated",
    "store/product/inventory/order/updated",
    "store/sku/*",
    "store/sku/inventory/updated",
    "store/sku/inventory/order/updated",
    "store/customer/*",
    "store/customer/created",
    "store/customer/updated",
    "store/customer/deleted",
    "store/shipment/*",
    "store/shipment/created",
    "store/shipment/updated",
    "store/app/uninstalled",
];

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/hooks", web::get().to(list))
        .route("/hooks", web::post().to(create))
        .route("/hooks/admin", web::get().to(admin))
        .route("/hooks/admin", web::put().to(put_admin))
        .route("/hooks/{id}", web::get().to(get))
        .route("/hooks/{id}", web::put().to(update))
        .route("/hooks/{id}", web::delete().to(delete));
}

/// `{"data": ..., "meta": {}}`, or the bare object when the store answers
/// as the docs' examples do (`hooks_unwrapped`, §2.7).
fn one(st: &State, data: Value) -> HttpResponse {
    if st.settings.hooks_unwrapped {
        HttpResponse::Ok().json(data)
    } else {
        HttpResponse::Ok().json(json!({ "data": data, "meta": {} }))
    }
}

async fn list(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, BcError> {
    let q = query_pairs(&req);
    let client = auth::client_id(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V3)?;
    let active = param(&q, "is_active").map(|s| s == "true" || s == "1");
    let scope = param(&q, "scope");
    let dest = param(&q, "destination");
    let all: Vec<Value> = st
        .hooks
        .values()
        .filter(|h| h.client_id == client)
        .filter(|h| active.is_none_or(|a| h.is_active == a))
        .filter(|h| scope.is_none_or(|s| h.scope == s))
        .filter(|h| dest.is_none_or(|d| h.destination == d))
        .map(render)
        .collect();
    Ok(v3_list(&all, page, json!({})))
}

/// Checks a destination URL (§2.7: HTTPS on port 443 only, when strict).
fn check_destination(st: &State, dest: &str) -> Result<(), BcError> {
    let Ok(url) = reqwest::Url::parse(dest) else {
        return Err(BcError::invalid(
            V3,
            "destination",
            "destination must be a valid URL",
        ));
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(BcError::invalid(
            V3,
            "destination",
            "destination must be a valid URL",
        ));
    }
    if st.settings.strict_destinations
        && (url.scheme() != "https" || url.port().is_some_and(|p| p != 443))
    {
        return Err(BcError::invalid(
            V3,
            "destination",
            "destination must use HTTPS on port 443; custom ports are not supported",
        ));
    }
    Ok(())
}

fn check_scope(scope: &str) -> Result<(), BcError> {
    if SCOPES.contains(&scope) {
        Ok(())
    } else {
        Err(BcError::invalid(
            V3,
            "scope",
            format!("scope {scope} is not a valid webhook scope"),
        ))
    }
}

fn headers_of(v: &Value) -> Result<Option<serde_json::Map<String, Value>>, BcError> {
    match v.get("headers") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(Some(m.clone())),
        Some(_) => Err(BcError::invalid(
            V3,
            "headers",
            "headers must be an object of strings",
        )),
    }
}

/// The limits of §2.7 for a hook of `client` on `scope` to `dest`.
fn check_limits(
    st: &State,
    client: &str,
    scope: &str,
    dest: &str,
    except: u64,
) -> Result<(), BcError> {
    let same_scope = st
        .hooks
        .values()
        .filter(|h| h.id != except && h.client_id == client && h.scope == scope);
    if same_scope.clone().any(|h| h.destination == dest) {
        return Err(BcError::invalid(
            V3,
            "destination",
            "A webhook with this scope and destination already exists",
        ));
    }
    if same_scope.count() >= 10 {
        return Err(BcError::invalid(
            V3,
            "scope",
            "The limit of 10 webhooks for this scope is reached",
        ));
    }
    Ok(())
}

async fn create(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let v = json_body(&body, V3)?;
    let client = auth::client_id(&req);
    let mut st = world.bigcommerce();
    let scope = v.get("scope").and_then(Value::as_str).unwrap_or("");
    let dest = v.get("destination").and_then(Value::as_str).unwrap_or("");
    let mut e = BcError::new(V3, 422, "Unprocessable Entity");
    if scope.is_empty() {
        e = e.with("scope", "scope is required");
    }
    if dest.is_empty() {
        e = e.with("destination", "destination is required");
    }
    if !e.errors.is_empty() {
        return Err(e);
    }
    check_scope(scope)?;
    check_destination(&st, dest)?;
    let headers = headers_of(&v)?;
    let is_active = match v.get("is_active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(BcError::invalid(
                V3,
                "is_active",
                "is_active must be a boolean",
            ))
        }
    };
    check_limits(&st, &client, scope, dest, 0)?;
    let id = st.id("hook");
    let t = now().timestamp();
    let hook = Hook {
        id,
        client_id: client,
        scope: scope.to_string(),
        destination: dest.to_string(),
        headers,
        is_active,
        status: if is_active { "active" } else { "inactive" }.into(),
        created_at: t,
        updated_at: t,
        last_event_at: t,
    };
    let out = render(&hook);
    st.hooks.insert(id, hook);
    Ok(one(&st, out))
}

fn hook_id(s: &str) -> Result<u64, BcError> {
    s.parse().map_err(|_| BcError::not_found(V3))
}

async fn get(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = hook_id(&path.1)?;
    let client = auth::client_id(&req);
    let st = world.bigcommerce();
    let h = st
        .hooks
        .get(&id)
        .filter(|h| h.client_id == client)
        .ok_or_else(|| BcError::not_found(V3))?;
    Ok(one(&st, render(h)))
}

async fn update(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let id = hook_id(&path.1)?;
    let v = json_body(&body, V3)?;
    let client = auth::client_id(&req);
    let mut st = world.bigcommerce();
    let h = st
        .hooks
        .get(&id)
        .filter(|h| h.client_id == client)
        .cloned()
        .ok_or_else(|| BcError::not_found(V3))?;
    let scope = v
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or(&h.scope)
        .to_string();
    let dest = v
        .get("destination")
        .and_then(Value::as_str)
        .unwrap_or(&h.destination)
        .to_string();
    check_scope(&scope)?;
    check_destination(&st, &dest)?;
    check_limits(&st, &client, &scope, &dest, id)?;
    let headers = if v.get("headers").is_some() {
        headers_of(&v)?
    } else {
        h.headers.clone()
    };
    let active = match v.get("is_active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(BcError::invalid(
                V3,
                "is_active",
                "is_active must be a boolean",
            ))
        }
    };
    let hook = st
        .hooks
        .get_mut(&id)
        .ok_or_else(|| BcError::not_found(V3))?;
    hook.scope = scope;
    hook.destination = dest;
    hook.headers = headers;
    if let Some(a) = active {
        // Re-activate with `PUT {"is_active": true}` (§2.7).
        hook.is_active = a;
        hook.status = if a { "active" } else { "inactive" }.into();
        if a {
            hook.last_event_at = now().timestamp();
        }
    }
    hook.updated_at = now().timestamp();
    let out = render(hook);
    Ok(one(&st, out))
}

/// Delete answers 200 with the deleted hook (§2.7).
async fn delete(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = hook_id(&path.1)?;
    let client = auth::client_id(&req);
    let mut st = world.bigcommerce();
    if st.hooks.get(&id).is_none_or(|h| h.client_id != client) {
        return Err(BcError::not_found(V3));
    }
    let h = st.hooks.remove(&id).ok_or_else(|| BcError::not_found(V3))?;
    Ok(one(&st, render(&h)))
}

/// `GET /hooks/admin?is_active=`: notification e-mails, the caller's hooks
/// with their status, and blocklisted domains (§2.7, §2.10).
async fn admin(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, BcError> {
    let q = query_pairs(&req);
    let client = auth::client_id(&req);
    let st = world.bigcommerce();
    let active = param(&q, "is_active").map(|s| s == "true" || s == "1");
    let hooks: Vec<Value> = st
        .hooks
        .values()
        .filter(|h| h.client_id == client)
        .filter(|h| active.is_none_or(|a| h.is_active == a))
        .map(|h| {
            let mut v = render(h);
            v["status"] = h.status.clone().into();
            v
        })
        .collect();
    let blocked = super::delivery::blocked_domains(&st, &client);
    Ok(one(
        &st,
        json!({ "emails": st.admin_emails, "hooks_list": hooks, "blocked_domains": blocked }),
    ))
}

/// `PUT /hooks/admin {"emails": [...]}`: 204.
async fn put_admin(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, BcError> {
    let v = json_body(&body, V3)?;
    let emails = v
        .get("emails")
        .and_then(Value::as_array)
        .ok_or_else(|| BcError::invalid(V3, "emails", "emails must be an array"))?;
    let emails: Vec<String> = emails
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    world.bigcommerce().admin_emails = emails;
    Ok(HttpResponse::NoContent().finish())
}
