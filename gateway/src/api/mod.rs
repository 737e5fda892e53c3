//! The operator API under `/api/v1` (JSON), over the shared
//! [`Operator`](mlc_actors::operator::Operator):
//!
//! | route | what it does |
//! |---|---|
//! | `GET /api/v1/documents?instance=&status=&kind=&q=&offset=&limit=` | a page of documents, most recently changed first: `{"items": [...], "total"}` |
//! | `GET /api/v1/documents/{id}` | the document and its timeline: `{"document", "events": [...]}` |
//! | `GET /api/v1/documents/{id}/preview` | what posting the order would send to the ERP: `{"document_id", "erp_order", "request", "notes"}`; nothing is sent |
//! | `POST /api/v1/documents/{id}/replay` `{"reason"}` | replay a parked or failed document: the events recorded |
//! | `POST /api/v1/documents/{id}/rewind` `{"to_sequence", "reason"}` | rewind an order document: the events recorded |
//! | `POST /api/v1/replay` `{"filter": {"instance", "status", "reason_contains", "kind"}, "dry_run", "reason"}` | bulk replay (status `parked` by default); `dry_run` must be given |
//!
//! Document ids contain `/` (`shop/order/1042`), so they are written as they
//! are in the path (`/api/v1/documents/shop/order/1042/replay`); the last
//! segment names the verb. A source id that itself ends in `/replay`,
//! `/rewind` or `/preview` can be written with its slashes percent-encoded
//! (`%2F`).
//!
//! Errors are `{"code", "detail"}` with one status per kind: `invalid` 400,
//! `not_found` 404, `refused` 409 (the document's own words, nothing
//! recorded), `unmapped` 422, `unavailable` 503, and from the token check
//! `unauthorized` 401 and `forbidden` 403 (see [`crate::auth`]). Commands are
//! attributed to the token: `token:{name}`.

mod error;

use actix_web::{web, HttpResponse};
use mlc_actors::operator::{BulkFilter, Operator};
use mlc_projections::{DocumentFilter, Page};
use serde::Deserialize;

use crate::auth::{Principal, RequireRole, Role};

pub use error::ApiError;

fn viewer_role() -> RequireRole {
    RequireRole(Role::Viewer)
}

fn operator_role() -> RequireRole {
    RequireRole(Role::Operator)
}

/// Serves the operator API through `operator`.
pub fn configure(cfg: &mut web::ServiceConfig, operator: Operator) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(web::Data::new(operator))
            .app_data(
                web::JsonConfig::default()
                    .limit(64 * 1024)
                    .error_handler(|e, _| ApiError::invalid(e.to_string()).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| ApiError::invalid(e.to_string()).into()),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ApiError::invalid(e.to_string()).into()),
            )
            .route("/documents", web::get().to(list).wrap(viewer_role()))
            .route(
                "/documents/{id:.*}",
                web::get().to(show).wrap(viewer_role()),
            )
            .route(
                "/documents/{id:.*}",
                web::post().to(act).wrap(operator_role()),
            )
            .route("/replay", web::post().to(bulk_replay).wrap(operator_role())),
    );
}

/// Query of `GET /api/v1/documents`.
#[derive(Debug, Deserialize)]
struct ListQuery {
    instance: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    q: Option<String>,
    offset: Option<u64>,
    limit: Option<u64>,
}

async fn list(
    operator: web::Data<Operator>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = DocumentFilter {
        instance: non_empty(query.instance),
        status: non_empty(query.status),
        kind: non_empty(query.kind),
        search: non_empty(query.q),
    };
    let default = Page::default();
    let page = Page {
        offset: query.offset.unwrap_or(default.offset),
        limit: query.limit.unwrap_or(default.limit).clamp(1, 1000),
    };
    Ok(HttpResponse::Ok().json(operator.list(&filter, page).await?))
}

/// `GET .../{id}` and `GET .../{id}/preview`.
async fn show(
    operator: web::Data<Operator>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    match path.strip_suffix("/preview") {
        Some(id) => Ok(HttpResponse::Ok().json(operator.preview(id).await?)),
        None => Ok(HttpResponse::Ok().json(operator.timeline(&path).await?)),
    }
}

/// Body of `POST .../{id}/replay` and `.../{id}/rewind`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    reason: Option<String>,
    to_sequence: Option<u64>,
}

/// `POST .../{id}/replay` and `POST .../{id}/rewind`.
async fn act(
    principal: Principal,
    operator: web::Data<Operator>,
    path: web::Path<String>,
    body: Option<web::Json<ActBody>>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let reason = required_reason(body.reason)?;
    if let Some(id) = path.strip_suffix("/replay") {
        let events = operator
            .replay(id, &principal.requested_by(), &reason)
            .await?;
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "events": events })));
    }
    if let Some(id) = path.strip_suffix("/rewind") {
        let to_sequence = body
            .to_sequence
            .ok_or_else(|| ApiError::invalid("to_sequence is required"))?;
        let events = operator
            .rewind(id, to_sequence, &principal.requested_by(), &reason)
            .await?;
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "events": events })));
    }
    Err(ApiError::invalid(format!(
        "POST /api/v1/documents/{path}: the path must end in /replay or /rewind"
    )))
}

/// Body of `POST /api/v1/replay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    #[serde(default)]
    filter: BulkFilterBody,
    dry_run: Option<bool>,
    reason: Option<String>,
}

/// The `filter` of a bulk replay.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkFilterBody {
    instance: Option<String>,
    status: Option<String>,
    reason_contains: Option<String>,
    kind: Option<String>,
}

async fn bulk_replay(
    principal: Principal,
    operator: web::Data<Operator>,
    body: web::Json<BulkBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let dry_run = body.dry_run.ok_or_else(|| {
        ApiError::invalid(
            "dry_run is required: true to see what would be replayed, false to replay",
        )
    })?;
    let reason = if dry_run {
        body.reason.unwrap_or_default()
    } else {
        required_reason(body.reason)?
    };
    let filter = BulkFilter {
        instance: non_empty(body.filter.instance),
        status: non_empty(body.filter.status),
        reason_contains: non_empty(body.filter.reason_contains),
        kind: non_empty(body.filter.kind),
    };
    let report = operator
        .bulk_replay(&filter, dry_run, &principal.requested_by(), &reason)
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

fn required_reason(reason: Option<String>) -> Result<String, ApiError> {
    non_empty(reason).ok_or_else(|| ApiError::invalid("reason is required"))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}
