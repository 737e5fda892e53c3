//! The REST router (facts §3.1): `/rest/{store_code}/V1/...` and
//! `/rest/V1/...` (store `default`). As Magento's `PathProcessor` does, a
//! first segment that is not a store code (nor `all`) stays in the path,
//! which then matches no route: 404 "Request does not match any route.".
//! Path segments are matched raw and then `rawurldecode`d, so a SKU with a
//! `/` must be sent as `%2F` (facts §3.4, pain point 3); a bare `/` makes
//! another path.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::auth::{self, Caller};
use super::search::{Criteria, Fields};
use super::{catalog, customers, percent_decode, query_pairs, sales, MageError, State};
use crate::World;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/rest/{tail:.*}", web::route().to(handle))
        .default_service(web::to(no_route));
}

async fn no_route() -> HttpResponse {
    MageError::no_route().error_response()
}

async fn handle(req: HttpRequest, body: web::Bytes, world: web::Data<World>) -> HttpResponse {
    let mut state = world.adobe_commerce();
    match dispatch(&req, &body, &mut state) {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(Refusal::Error(e)) => e.error_response(),
        Err(Refusal::Limited(secs, header_on)) => {
            let mut r = super::error_response(
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
            );
            if header_on {
                r.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            r
        }
    }
}

enum Refusal {
    Error(MageError),
    /// 429: seconds to wait, whether `Retry-After` is sent.
    Limited(u64, bool),
}

impl From<MageError> for Refusal {
    fn from(e: MageError) -> Self {
        Refusal::Error(e)
    }
}

/// The ACL resource each route needs (facts §3.2 names
/// `Magento_Sales::actions_view` for orders).
fn resource(segs: &[String]) -> &'static str {
    match segs.first().map(String::as_str) {
        Some("orders") if segs.len() == 3 => "Magento_Sales::comment",
        Some("orders") => "Magento_Sales::actions_view",
        Some("order") => match segs.get(2).map(String::as_str) {
            Some("invoice") => "Magento_Sales::sales_invoice",
            Some("ship") => "Magento_Sales::ship",
            _ => "Magento_Sales::creditmemo",
        },
        Some("invoices") => "Magento_Sales::sales_invoice",
        Some("creditmemos" | "creditmemo") => "Magento_Sales::sales_creditmemo",
        Some("stockItems") => "Magento_CatalogInventory::cataloginventory",
        Some("products") if segs.len() >= 3 => "Magento_CatalogInventory::cataloginventory",
        Some("products") => "Magento_Catalog::products",
        Some("inventory") => "Magento_InventoryApi::source_item",
        Some("customers") => "Magento_Customer::customer",
        _ => "Magento_Backend::admin",
    }
}

fn dispatch(req: &HttpRequest, body: &[u8], state: &mut State) -> Result<Value, Refusal> {
    let path = req.uri().path();
    let Some((_, rest)) = path.split_once("/rest/") else {
        return Err(MageError::no_route().into());
    };
    let raw: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    // Store code (facts §3.1): omitted means `default`.
    let tail = match raw.as_slice() {
        ["V1", tail @ ..] => tail,
        [store, "V1", tail @ ..] if *store == "all" || state.store(store).is_some() => tail,
        _ => return Err(MageError::no_route().into()),
    };
    let segs: Vec<String> = tail.iter().map(|s| percent_decode(s, false)).collect();
    if let Some(limit) = state.settings.rate_limit.clone() {
        let sub = format!("/V1/{}", tail.join("/"));
        if let Some(secs) = state.rate.hit(&limit, &sub) {
            return Err(Refusal::Limited(secs, limit.retry_after));
        }
    }
    let method = req.method().as_str().to_string();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let known = matches!(
        (method.as_str(), s.as_slice()),
        ("GET", ["orders"])
            | ("GET", ["orders", _])
            | ("POST", ["orders", _, "comments"])
            | ("POST", ["order", _, "refund"])
            | ("POST", ["order", _, "invoice"])
            | ("POST", ["order", _, "ship"])
            | ("GET", ["invoices"])
            | ("GET", ["invoices", _])
            | ("GET", ["creditmemos"])
            | ("GET", ["creditmemo", _])
            | ("GET", ["products"])
            | ("POST", ["products"])
            | ("GET", ["products", _])
            | ("PUT", ["products", _])
            | ("PUT", ["products", _, "stockItems", _])
            | ("GET", ["stockItems", _])
            | ("GET", ["inventory", "source-items"])
            | ("POST", ["inventory", "source-items"])
            | ("GET", ["customers", "search"])
            | ("GET", ["customers", _])
            | ("POST", ["integration", "admin", "token"])
    );
    if !known {
        return Err(MageError::no_route().into());
    }
    // A body needs its Content-Type (Magento's `Rest\Request::getContentType`
    // and deserializer factory); only JSON is understood here.
    let json_body = || -> Result<Value, MageError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if media.is_empty() {
            return Err(MageError::new(400, "Content-Type header is empty."));
        }
        if !media.eq_ignore_ascii_case("application/json") {
            return Err(MageError::new(
                400,
                "Server cannot understand Content-Type HTTP header media type %1",
            )
            .with(json!([media])));
        }
        serde_json::from_slice(body).map_err(|_| MageError::new(400, "Decoding error."))
    };
    // The admin token route is anonymous.
    if s.as_slice() == ["integration", "admin", "token"] {
        let b = json_body()?;
        let token = auth::admin_token(
            state,
            b.get("username").and_then(Value::as_str),
            b.get("password").and_then(Value::as_str),
        )?;
        return Ok(Value::String(token));
    }
    let caller = auth::authenticate(req, state)?;
    let Some(Caller::Integration | Caller::Admin) = caller else {
        return Err(MageError::not_authorized(resource(&segs)).into());
    };
    let pairs = query_pairs(req.query_string());
    let criteria = |state: &State| Criteria::parse(&pairs, &state.settings);
    let out = match (method.as_str(), s.as_slice()) {
        ("GET", ["orders"]) => sales::list(state, &criteria(state)?)?,
        ("GET", ["orders", id]) => sales::get(state, id)?,
        ("POST", ["orders", id, "comments"]) => sales::comment(state, id, &json_body()?)?,
        ("POST", ["order", id, "refund"]) => {
            let id: u64 = id.parse().map_err(|_| MageError::no_entity())?;
            let r = sales::RefundRequest::from_api(&json_body()?)?;
            json!(sales::refund(state, id, r)?)
        }
        ("POST", ["order", id, "invoice"]) => {
            let id: u64 = id.parse().map_err(|_| MageError::no_entity())?;
            json_body()?;
            json!(sales::invoice(state, id)?)
        }
        ("POST", ["order", id, "ship"]) => {
            let id: u64 = id.parse().map_err(|_| MageError::no_entity())?;
            json!(sales::ship(state, id, &json_body()?)?)
        }
        ("GET", ["invoices"]) => sales::list_invoices(state, &criteria(state)?)?,
        ("GET", ["invoices", id]) => sales::get_invoice(state, id)?,
        ("GET", ["creditmemos"]) => sales::list_creditmemos(state, &criteria(state)?)?,
        ("GET", ["creditmemo", id]) => sales::get_creditmemo(state, id)?,
        ("GET", ["products"]) => catalog::list(state, &criteria(state)?)?,
        ("POST", ["products"]) => catalog::save(state, None, &json_body()?)?,
        ("GET", ["products", sku]) => catalog::get(state, sku)?,
        ("PUT", ["products", sku]) => catalog::save(state, Some(sku), &json_body()?)?,
        ("PUT", ["products", sku, "stockItems", _]) => {
            catalog::put_stock(state, sku, &json_body()?)?
        }
        ("GET", ["stockItems", sku]) => catalog::get_stock(state, sku)?,
        ("GET", ["inventory", "source-items"]) => {
            catalog::list_source_items(state, &criteria(state)?)?
        }
        ("POST", ["inventory", "source-items"]) => {
            catalog::save_source_items(state, &json_body()?)?
        }
        ("GET", ["customers", "search"]) => customers::search(state, &criteria(state)?)?,
        ("GET", ["customers", id]) => customers::get(state, id)?,
        _ => return Err(MageError::no_route().into()),
    };
    // `fields=` projection (facts §3.3) on reads.
    let fields = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "fields")
        .and_then(|(_, v)| Fields::parse(v));
    Ok(match fields {
        Some(f) if method == "GET" => f.apply(&out),
        _ => out,
    })
}
