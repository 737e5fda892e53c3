//! The operator API under `/api/v1` (JSON), over the shared
//! [`Operator`](mlc_actors::operator::Operator), the read models and the
//! instances' `Integration` aggregates. [`ROUTES`] lists every route with the
//! role it needs; the OpenAPI document (`GET /api/openapi.json`,
//! [`crate::openapi`]) describes each.
//!
//! | route | role | what it does |
//! |---|---|---|
//! | `GET /api/v1/instances` | viewer | every instance: paused, failure count, health |
//! | `GET /api/v1/instances/{name}` | viewer | one instance |
//! | `POST /api/v1/instances/{name}/pause` `{"reason"}` | operator | pause the instance |
//! | `POST /api/v1/instances/{name}/resume` | operator | resume it |
//! | `POST /api/v1/instances/{name}/check` | operator | ping the ERP and the web store with the instance's credentials; failures in the system's words |
//! | `GET /api/v1/documents?instance=&status=&kind=&q=&offset=&limit=` | viewer | a page of documents, most recently changed first: `{"items": [...], "total"}` |
//! | `GET /api/v1/documents/{id}` | viewer | the document and its timeline: `{"document", "events": [...]}` |
//! | `GET /api/v1/documents/{id}/preview` | viewer | what posting the order would send to the ERP; nothing is sent |
//! | `POST /api/v1/documents/{id}/replay` `{"reason"}` | operator | replay a parked or failed document: the events recorded |
//! | `POST /api/v1/documents/{id}/rewind` `{"to_sequence", "reason"}` | operator | rewind an order document: the events recorded |
//! | `GET /api/v1/failures?instance=&status=&kind=&offset=&limit=` | viewer | the failure queue: `{"items", "total"}` |
//! | `POST /api/v1/replay` `{"filter", "dry_run", "reason"}` | operator | bulk replay: a dry run answers counts and a sample (200); a run answers a job at once (202) |
//! | `GET /api/v1/replay/{job}` | viewer | a bulk replay job's progress |
//! | `DELETE /api/v1/replay/{job}` | operator | cancel the job between documents |
//! | `GET /api/v1/tokens` | admin | the API tokens (never a secret) |
//! | `POST /api/v1/tokens` `{"role", "name"}` | admin | create a token: its secret is in this answer only (201) |
//! | `DELETE /api/v1/tokens/{id}` | admin | revoke a token |
//! | `GET /api/openapi.json` | viewer | the OpenAPI 3 document of all of the above |
//!
//! Document ids contain `/` (`shop/order/1042`), so they are written as they
//! are in the path (`/api/v1/documents/shop/order/1042/replay`); the last
//! segment names the verb. A source id that itself ends in `/replay`,
//! `/rewind` or `/preview` can be written with its slashes percent-encoded
//! (`%2F`).
//!
//! Errors are `{"code", "detail"}` with one status per kind: `invalid` 400,
//! `unauthorized` 401 (no, unknown or revoked token), `forbidden` 403 (the
//! token's role is too weak), `not_found` 404, `refused` 409 (the
//! document's own words, nothing recorded), `unmapped` 422, `unavailable`
//! 503. Commands are attributed to the token: `token:{name}`.

mod error;
pub(crate) mod instances;
pub(crate) mod jobs;
pub(crate) mod tokens;

use actix_web::{web, HttpResponse};
use mlc_actors::operator::Operator;
use mlc_projections::{DocumentFilter, FailureFilter, FailuresView, Page};
use mlc_store::EventStore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Principal, RequireRole, Role, TokenStore};

pub use error::ApiError;
pub use instances::{Connectivity, InstanceConnectors};

/// A route the API serves, as the OpenAPI document writes it, and the role
/// it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedRoute {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The path with `{parameters}`, e.g. `/api/v1/instances/{name}`.
    pub path: &'static str,
    /// The weakest role let through.
    pub role: Role,
}

const fn route(method: &'static str, path: &'static str, role: Role) -> ServedRoute {
    ServedRoute { method, path, role }
}

/// Every route under `/api` and the role it needs. Routes are registered
/// through this table (a route missing from it panics at start-up), and the
/// tests check that the OpenAPI document lists exactly these.
pub const ROUTES: &[ServedRoute] = &[
    route("GET", "/api/openapi.json", Role::Viewer),
    route("GET", "/api/v1/instances", Role::Viewer),
    route("GET", "/api/v1/instances/{name}", Role::Viewer),
    route("POST", "/api/v1/instances/{name}/pause", Role::Operator),
    route("POST", "/api/v1/instances/{name}/resume", Role::Operator),
    route("POST", "/api/v1/instances/{name}/check", Role::Operator),
    route("GET", "/api/v1/documents", Role::Viewer),
    route("GET", "/api/v1/documents/{id}", Role::Viewer),
    route("GET", "/api/v1/documents/{id}/preview", Role::Viewer),
    route("POST", "/api/v1/documents/{id}/replay", Role::Operator),
    route("POST", "/api/v1/documents/{id}/rewind", Role::Operator),
    route("GET", "/api/v1/failures", Role::Viewer),
    route("POST", "/api/v1/replay", Role::Operator),
    route("GET", "/api/v1/replay/{job}", Role::Viewer),
    route("DELETE", "/api/v1/replay/{job}", Role::Operator),
    route("GET", "/api/v1/tokens", Role::Admin),
    route("POST", "/api/v1/tokens", Role::Admin),
    route("DELETE", "/api/v1/tokens/{id}", Role::Admin),
];

/// The role guard of a route in [`ROUTES`].
///
/// # Panics
/// When the route is not in [`ROUTES`] (a programming error caught by every test).
pub fn guard(method: &str, path: &str) -> RequireRole {
    let found = ROUTES
        .iter()
        .find(|r| r.method == method && r.path == path)
        .unwrap_or_else(|| panic!("{method} {path} is not in mlc_gateway::api::ROUTES"));
    RequireRole(found.role)
}

/// What the API's handlers share.
#[derive(Clone)]
pub(crate) struct ApiState {
    pub(crate) store: EventStore,
    pub(crate) operator: Operator,
    pub(crate) tokens: TokenStore,
    pub(crate) jobs: jobs::Jobs,
    pub(crate) connectivity: Connectivity,
}

/// The operator API, built once per server (its bulk replay jobs are
/// shared by every worker). Cheap to clone.
#[derive(Clone)]
pub struct Api {
    state: web::Data<ApiState>,
}

impl Api {
    /// The API over `operator`, with the tokens and read models of `store`,
    /// checking connectivity with `connectivity`'s connectors.
    pub fn new(store: EventStore, operator: Operator, connectivity: Connectivity) -> Api {
        Api {
            state: web::Data::new(ApiState {
                tokens: TokenStore::new(store.clone()),
                store,
                operator,
                jobs: jobs::Jobs::default(),
                connectivity,
            }),
        }
    }
}

/// Serves the operator API and its OpenAPI document.
pub fn configure(cfg: &mut web::ServiceConfig, api: Api) {
    let g = guard;
    cfg.service(
        web::resource("/api/openapi.json").route(
            web::get()
                .to(crate::openapi::serve)
                .wrap(g("GET", "/api/openapi.json")),
        ),
    );
    cfg.service(
        web::scope("/api/v1")
            .app_data(api.state.clone())
            .app_data(web::Data::new(api.state.operator.clone()))
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
            .route(
                "/instances",
                web::get()
                    .to(instances::list)
                    .wrap(g("GET", "/api/v1/instances")),
            )
            .route(
                "/instances/{name}",
                web::get()
                    .to(instances::show)
                    .wrap(g("GET", "/api/v1/instances/{name}")),
            )
            .route(
                "/instances/{name}/pause",
                web::post()
                    .to(instances::pause)
                    .wrap(g("POST", "/api/v1/instances/{name}/pause")),
            )
            .route(
                "/instances/{name}/resume",
                web::post()
                    .to(instances::resume)
                    .wrap(g("POST", "/api/v1/instances/{name}/resume")),
            )
            .route(
                "/instances/{name}/check",
                web::post()
                    .to(instances::check)
                    .wrap(g("POST", "/api/v1/instances/{name}/check")),
            )
            .route(
                "/documents",
                web::get().to(list).wrap(g("GET", "/api/v1/documents")),
            )
            // Show and preview, replay and rewind share a route (ids hold
            // `/`); the table gives them one role each.
            .route(
                "/documents/{id:.*}",
                web::get().to(show).wrap(same_role(&[
                    ("GET", "/api/v1/documents/{id}"),
                    ("GET", "/api/v1/documents/{id}/preview"),
                ])),
            )
            .route(
                "/documents/{id:.*}",
                web::post().to(act).wrap(same_role(&[
                    ("POST", "/api/v1/documents/{id}/replay"),
                    ("POST", "/api/v1/documents/{id}/rewind"),
                ])),
            )
            .route(
                "/failures",
                web::get().to(failures).wrap(g("GET", "/api/v1/failures")),
            )
            .route(
                "/replay",
                web::post()
                    .to(jobs::start)
                    .wrap(g("POST", "/api/v1/replay")),
            )
            .route(
                "/replay/{job}",
                web::get()
                    .to(jobs::show)
                    .wrap(g("GET", "/api/v1/replay/{job}")),
            )
            .route(
                "/replay/{job}",
                web::delete()
                    .to(jobs::cancel)
                    .wrap(g("DELETE", "/api/v1/replay/{job}")),
            )
            .route(
                "/tokens",
                web::get().to(tokens::list).wrap(g("GET", "/api/v1/tokens")),
            )
            .route(
                "/tokens",
                web::post()
                    .to(tokens::create)
                    .wrap(g("POST", "/api/v1/tokens")),
            )
            .route(
                "/tokens/{id}",
                web::delete()
                    .to(tokens::revoke)
                    .wrap(g("DELETE", "/api/v1/tokens/{id}")),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::not_found(
                    "no such route under /api/v1 (see /api/openapi.json)",
                ))
            })),
    );
}

/// The guard of routes served by one handler, which must need one role.
fn same_role(routes: &[(&str, &str)]) -> RequireRole {
    let guards: Vec<RequireRole> = routes.iter().map(|(m, p)| guard(m, p)).collect();
    assert!(
        guards.windows(2).all(|w| w[0].0 == w[1].0),
        "routes served by one handler need one role: {routes:?}"
    );
    guards[0]
}

/// The error answer of every route: `{"code", "detail"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `invalid`, `unauthorized`, `forbidden`, `not_found`, `refused`,
    /// `unmapped` or `unavailable`.
    pub code: String,
    /// What went wrong, for people (never a secret).
    pub detail: String,
}

/// Query of `GET /api/v1/documents`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only this instance.
    instance: Option<String>,
    /// Only this status.
    status: Option<String>,
    /// Only this kind (`order`, `customer`).
    kind: Option<String>,
    /// Search by channel order number, ERP number or customer.
    q: Option<String>,
    /// Rows to skip (default 0).
    offset: Option<u64>,
    /// Rows to answer (1 to 1000, default 50).
    limit: Option<u64>,
}

fn page(offset: Option<u64>, limit: Option<u64>) -> Page {
    let default = Page::default();
    Page {
        offset: offset.unwrap_or(default.offset),
        limit: limit.unwrap_or(default.limit).clamp(1, 1000),
    }
}

/// A page of documents, most recently changed first.
#[utoipa::path(get, path = "/api/v1/documents", tag = "documents",
    params(ListQuery),
    responses((status = 200, description = "`{items: [document], total}`", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = ["viewer"])))]
pub(crate) async fn list(
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
    let page = page(query.offset, query.limit);
    Ok(HttpResponse::Ok().json(operator.list(&filter, page).await?))
}

/// Query of `GET /api/v1/failures`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FailuresQuery {
    /// Only this instance.
    instance: Option<String>,
    /// Only this status (`parked`, `failed`, `retry_scheduled`, `credit_note_parked`, ...).
    status: Option<String>,
    /// Only this kind (`order`, `customer`).
    kind: Option<String>,
    /// Rows to skip (default 0).
    offset: Option<u64>,
    /// Rows to answer (1 to 1000, default 50).
    limit: Option<u64>,
}

/// The failure queue: parked and failed documents and those waiting for a
/// retry, with reasons, attempts and the next retry; most recently changed first.
#[utoipa::path(get, path = "/api/v1/failures", tag = "failures",
    params(FailuresQuery),
    responses((status = 200, description = "`{items: [failure], total}`", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = ["viewer"])))]
pub(crate) async fn failures(
    state: web::Data<ApiState>,
    query: web::Query<FailuresQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = FailureFilter {
        instance: non_empty(query.instance),
        status: non_empty(query.status),
        kind: non_empty(query.kind),
    };
    let found = FailuresView::new(state.store.clone())
        .list(&filter, page(query.offset, query.limit))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "api: the failure queue cannot be read");
            ApiError::unavailable(e.to_string())
        })?;
    Ok(HttpResponse::Ok().json(found))
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
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    /// Why (required).
    pub reason: Option<String>,
    /// Rewind only: the sequence to rewind to (required).
    pub to_sequence: Option<u64>,
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

/// OpenAPI descriptions of the document routes that share handlers.
pub(crate) mod docs {
    use super::{ActBody, Problem};

    /// A document and its timeline, from webhook to ERP.
    #[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents",
        params(("id" = String, Path, description = "The document id, `{instance}/{kind}/{source_id}`, slashes as they are")),
        responses((status = 200, description = "`{document, events: [timeline entry]}`", body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
        security(("bearer" = ["viewer"])))]
    #[allow(dead_code)]
    pub(crate) fn show() {}

    /// What posting the order would send to the ERP now; nothing is sent.
    #[utoipa::path(get, path = "/api/v1/documents/{id}/preview", tag = "documents",
        params(("id" = String, Path, description = "The order document id")),
        responses((status = 200, description = "`{document_id, erp_order, request, notes}`", body = Object), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)),
        security(("bearer" = ["viewer"])))]
    #[allow(dead_code)]
    pub(crate) fn preview() {}

    /// Replays a parked or failed document: the events recorded.
    #[utoipa::path(post, path = "/api/v1/documents/{id}/replay", tag = "documents",
        params(("id" = String, Path, description = "The document id")),
        request_body = ActBody,
        responses((status = 200, description = "`{events: [...]}`", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
        security(("bearer" = ["operator"])))]
    #[allow(dead_code)]
    pub(crate) fn replay() {}

    /// Rewinds an order document to an earlier sequence: the events recorded.
    #[utoipa::path(post, path = "/api/v1/documents/{id}/rewind", tag = "documents",
        params(("id" = String, Path, description = "The order document id")),
        request_body = ActBody,
        responses((status = 200, description = "`{events: [...]}`", body = Object), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
        security(("bearer" = ["operator"])))]
    #[allow(dead_code)]
    pub(crate) fn rewind() {}
}

fn required_reason(reason: Option<String>) -> Result<String, ApiError> {
    non_empty(reason).ok_or_else(|| ApiError::invalid("reason is required"))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}
