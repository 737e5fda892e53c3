//! `/api/v1/instances`: health, pause, resume and the connectivity check.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use actix_web::{web, HttpResponse};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{AggregateError, EventStore as _};
use mlc_connectors::{Erp, Storefront};
use mlc_domain::integration::{Integration, IntegrationCommand, IntegrationError};
use mlc_projections::{FailureFilter, FailuresView, HealthView, InstanceHealth, Page};
use mlc_store::EventStore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{non_empty, required_reason, ApiError, ApiState};
use crate::auth::Principal;

/// The outside systems' connectors of each instance, for `POST
/// /api/v1/instances/{name}/check`. Cheap to clone.
#[derive(Clone, Default)]
pub struct Connectivity {
    instances: Arc<HashMap<String, InstanceConnectors>>,
}

/// One instance's connectors.
#[derive(Clone, Default)]
pub struct InstanceConnectors {
    /// The ERP's (e.g. Sage 300), if the instance has one.
    pub erp: Option<Arc<dyn Erp>>,
    /// The web store's (e.g. WooCommerce), if the instance has one.
    pub storefront: Option<Arc<dyn Storefront>>,
}

impl Connectivity {
    /// The connectors of each instance by name.
    pub fn new(instances: HashMap<String, InstanceConnectors>) -> Connectivity {
        Connectivity {
            instances: Arc::new(instances),
        }
    }

    fn names(&self) -> impl Iterator<Item = &String> {
        self.instances.keys()
    }
}

/// How often the Integration aggregate is snapshotted (as the service does).
const SNAPSHOT_EVERY: usize = 50;

/// An instance as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceView {
    /// The instance's name.
    pub name: String,
    /// Whether the instance is paused (its workers and pollers drive no work).
    pub paused: bool,
    /// Why it was paused.
    pub pause_reason: Option<String>,
    /// Documents in the failure queue (parked, failed, waiting for a retry).
    pub failures: u64,
    /// The instance's health read model (last polls, cursors, webhooks,
    /// posts, error rate, backlog); `null` before it recorded anything.
    #[schema(value_type = Option<Object>)]
    pub health: Option<InstanceHealth>,
}

/// `GET /api/v1/instances`: a list of instances.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceList {
    /// Every instance, by name.
    pub items: Vec<InstanceView>,
}

/// Body of `POST /api/v1/instances/{name}/pause`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// Why (required): shown to other operators.
    pub reason: Option<String>,
}

/// What a pause or resume did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PauseOutcome {
    /// The instance.
    pub instance: String,
    /// Whether it is paused now.
    pub paused: bool,
    /// Whether this request changed it (`false`: it already was).
    pub changed: bool,
}

/// One side's connectivity check.
#[derive(Debug, Serialize, ToSchema)]
pub struct SystemCheck {
    /// `erp` or `storefront`.
    pub side: &'static str,
    /// The system's name, e.g. `Sage 300`, `WooCommerce`.
    pub system: &'static str,
    /// Whether it answered with the configured credentials.
    pub ok: bool,
    /// What went wrong, in the system's words (never a secret).
    pub detail: Option<String>,
}

/// `POST /api/v1/instances/{name}/check`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckReport {
    /// The instance.
    pub instance: String,
    /// Whether every side answered.
    pub ok: bool,
    /// One entry per side.
    pub checks: Vec<SystemCheck>,
}

async fn view(state: &ApiState, name: &str) -> Result<Option<InstanceView>, ApiError> {
    let health = HealthView::new(state.store.clone())
        .get(name)
        .await
        .map_err(read_model)?;
    let known = health.is_some() || state.connectivity.instances.contains_key(name);
    if !known {
        return Ok(None);
    }
    let failures = FailuresView::new(state.store.clone())
        .list(
            &FailureFilter {
                instance: Some(name.to_owned()),
                ..FailureFilter::default()
            },
            Page {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .map_err(read_model)?
        .total;
    Ok(Some(InstanceView {
        name: name.to_owned(),
        paused: health.as_ref().is_some_and(|h| h.paused),
        pause_reason: health.as_ref().and_then(|h| h.pause_reason.clone()),
        failures,
        health,
    }))
}

fn read_model(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "api: a read model failed");
    ApiError::unavailable(e.to_string())
}

/// Lists every instance: those with recorded events and those this server
/// has connectors for.
#[utoipa::path(get, path = "/api/v1/instances", tag = "instances",
    responses((status = 200, body = InstanceList), (status = 401, body = super::Problem), (status = 403, body = super::Problem)),
    security(("bearer" = ["viewer"])))]
pub(crate) async fn list(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let health = HealthView::new(state.store.clone())
        .all()
        .await
        .map_err(read_model)?;
    let names: BTreeSet<String> = health
        .into_iter()
        .map(|h| h.instance)
        .chain(state.connectivity.names().cloned())
        .collect();
    let mut items = Vec::with_capacity(names.len());
    for name in names {
        if let Some(v) = view(&state, &name).await? {
            items.push(v);
        }
    }
    Ok(HttpResponse::Ok().json(InstanceList { items }))
}

/// One instance.
#[utoipa::path(get, path = "/api/v1/instances/{name}", tag = "instances",
    params(("name" = String, Path, description = "The instance's name")),
    responses((status = 200, body = InstanceView), (status = 401, body = super::Problem), (status = 403, body = super::Problem), (status = 404, body = super::Problem)),
    security(("bearer" = ["viewer"])))]
pub(crate) async fn show(
    state: web::Data<ApiState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    match view(&state, &name).await? {
        Some(v) => Ok(HttpResponse::Ok().json(v)),
        None => Err(ApiError::not_found(format!(
            "no instance is named '{name}'"
        ))),
    }
}

async fn paused(store: &EventStore, name: &str) -> Result<Integration, ApiError> {
    let events = PersistedEventStore::<_, Integration>::new_snapshot_store(
        store.repository(),
        SNAPSHOT_EVERY,
    );
    let context = events
        .load_aggregate(name)
        .await
        .map_err(|e| ApiError::unavailable(format!("cannot load instance {name}: {e}")))?;
    let integration = context.aggregate;
    if !integration.is_configured() {
        return Err(ApiError::not_found(format!(
            "no instance is named '{name}' (it has no recorded configuration)"
        )));
    }
    Ok(integration)
}

async fn command(
    store: &EventStore,
    name: &str,
    command: IntegrationCommand,
    principal: &Principal,
    reason: &str,
) -> Result<(), ApiError> {
    let cqrs = store.snapshot_cqrs::<Integration>(vec![], SNAPSHOT_EVERY, ());
    let metadata = HashMap::from([
        ("requested_by".to_owned(), principal.requested_by()),
        ("reason".to_owned(), reason.to_owned()),
    ]);
    cqrs.execute_with_metadata(name, command, metadata)
        .await
        .map_err(|e| match e {
            AggregateError::UserError(IntegrationError::NotConfigured) => {
                ApiError::not_found(format!("no instance is named '{name}'"))
            }
            AggregateError::UserError(e) => ApiError::invalid(e.to_string()),
            AggregateError::AggregateConflict => ApiError::unavailable(format!(
                "instance {name} changed at the same time; try again"
            )),
            other => ApiError::unavailable(format!("instance {name}: {other}")),
        })
}

/// Pauses an instance: its workers and pollers stop driving work until it
/// is resumed. Pausing a paused instance keeps the first reason.
#[utoipa::path(post, path = "/api/v1/instances/{name}/pause", tag = "instances",
    params(("name" = String, Path, description = "The instance's name")),
    request_body = PauseBody,
    responses((status = 200, body = PauseOutcome), (status = 400, body = super::Problem), (status = 401, body = super::Problem), (status = 403, body = super::Problem), (status = 404, body = super::Problem)),
    security(("bearer" = ["operator"])))]
pub(crate) async fn pause(
    principal: Principal,
    state: web::Data<ApiState>,
    name: web::Path<String>,
    body: Option<web::Json<PauseBody>>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let reason = required_reason(body.and_then(|b| b.into_inner().reason))?;
    let before = paused(&state.store, &name).await?;
    command(
        &state.store,
        &name,
        IntegrationCommand::Pause {
            reason: reason.clone(),
        },
        &principal,
        &reason,
    )
    .await?;
    tracing::info!(instance = %name, requested_by = %principal.requested_by(), %reason, "operator: instance paused");
    Ok(HttpResponse::Ok().json(PauseOutcome {
        instance: name,
        paused: true,
        changed: !before.is_paused(),
    }))
}

/// Resumes a paused instance.
#[utoipa::path(post, path = "/api/v1/instances/{name}/resume", tag = "instances",
    params(("name" = String, Path, description = "The instance's name")),
    request_body(content = PauseBody, description = "An optional reason"),
    responses((status = 200, body = PauseOutcome), (status = 401, body = super::Problem), (status = 403, body = super::Problem), (status = 404, body = super::Problem)),
    security(("bearer" = ["operator"])))]
pub(crate) async fn resume(
    principal: Principal,
    state: web::Data<ApiState>,
    name: web::Path<String>,
    body: Option<web::Json<PauseBody>>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let reason = body
        .and_then(|b| non_empty(b.into_inner().reason))
        .unwrap_or_default();
    let before = paused(&state.store, &name).await?;
    command(
        &state.store,
        &name,
        IntegrationCommand::Resume,
        &principal,
        &reason,
    )
    .await?;
    tracing::info!(instance = %name, requested_by = %principal.requested_by(), "operator: instance resumed");
    Ok(HttpResponse::Ok().json(PauseOutcome {
        instance: name,
        paused: false,
        changed: before.is_paused(),
    }))
}

/// Checks that both outside systems of an instance answer with its
/// credentials: reads something cheap from each and explains a failure in
/// the system's words. Operator role: it calls the outside systems but
/// changes nothing.
#[utoipa::path(post, path = "/api/v1/instances/{name}/check", tag = "instances",
    params(("name" = String, Path, description = "The instance's name")),
    responses((status = 200, description = "The check ran (see `ok`)", body = CheckReport), (status = 401, body = super::Problem), (status = 403, body = super::Problem), (status = 404, body = super::Problem)),
    security(("bearer" = ["operator"])))]
pub(crate) async fn check(
    state: web::Data<ApiState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let Some(connectors) = state.connectivity.instances.get(&name) else {
        return Err(ApiError::not_found(format!(
            "this server has no connectors for an instance named '{name}'"
        )));
    };
    let mut checks = Vec::new();
    if let Some(erp) = &connectors.erp {
        let outcome = erp.ping().await;
        checks.push(SystemCheck {
            side: "erp",
            system: erp.system(),
            ok: outcome.is_ok(),
            detail: outcome.err().map(|e| e.to_string()),
        });
    }
    if let Some(storefront) = &connectors.storefront {
        let outcome = storefront.ping().await;
        checks.push(SystemCheck {
            side: "storefront",
            system: storefront.system(),
            ok: outcome.is_ok(),
            detail: outcome.err().map(|e| e.to_string()),
        });
    }
    let ok = checks.iter().all(|c| c.ok);
    Ok(HttpResponse::Ok().json(CheckReport {
        instance: name,
        ok,
        checks,
    }))
}
