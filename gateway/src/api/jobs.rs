//! Bulk replay: a dry run answers at once with counts and a sample; a real
//! run starts a background job (`POST /api/v1/replay` answers 202 with its
//! id) whose progress `GET /api/v1/replay/{job}` shows and which `DELETE
//! /api/v1/replay/{job}` cancels between documents. Jobs live in this
//! process's memory: the replays they did are events, the job itself is
//! forgotten at restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use mlc_actors::operator::{BulkFilter, BulkRefusal, Operator, OperatorError};
use mlc_projections::{DocumentFilter, Page};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use super::{non_empty, required_reason, ApiError, ApiState};
use crate::auth::Principal;

/// Documents replayed at once between two looks at the cancel flag.
const STEP: usize = 8;

/// Refusals a job keeps in detail (all are counted).
const REFUSALS_KEPT: usize = 200;

/// Ended jobs kept for `GET /api/v1/replay/{job}` (the oldest are forgotten).
const ENDED_KEPT: usize = 100;

/// Body of `POST /api/v1/replay`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// Which documents; `status` defaults to `parked`.
    #[serde(default)]
    pub filter: BulkFilterBody,
    /// Required: `true` to see what would be replayed (counts and a sample),
    /// `false` to start the replay as a background job.
    pub dry_run: Option<bool>,
    /// Why (required unless `dry_run`).
    pub reason: Option<String>,
}

/// The `filter` of a bulk replay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkFilterBody {
    /// Only this instance.
    pub instance: Option<String>,
    /// Only this status (default `parked`).
    pub status: Option<String>,
    /// Only documents whose last reason contains this (any case).
    pub reason_contains: Option<String>,
    /// Only this kind (`order`, `customer`).
    pub kind: Option<String>,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Replaying.
    Running,
    /// Every selected document was tried.
    Completed,
    /// Stopped by `DELETE /api/v1/replay/{job}` before the end.
    Cancelled,
    /// Stopped because the store or a command bus did not answer.
    Failed,
}

/// A bulk replay job and its progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Job {
    /// The job's id.
    pub id: String,
    /// Where it is.
    pub status: JobStatus,
    /// Who started it (`token:{name}`).
    pub requested_by: String,
    /// Why.
    pub reason: String,
    /// Documents selected when it started.
    pub matched: u64,
    /// Documents tried so far (replayed + refused).
    pub done: u64,
    /// Documents replayed.
    pub replayed: u64,
    /// Documents whose replay was refused, in all.
    pub refused_count: u64,
    /// The first refusals with the document's reason.
    #[schema(value_type = Vec<Object>)]
    pub refused: Vec<BulkRefusal>,
    /// Why the job failed, if it did.
    pub error: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

struct Entry {
    job: Job,
    cancel: CancellationToken,
}

/// The jobs of this process. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Jobs {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Jobs {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut Job)) {
        self.with(|jobs| {
            if let Some(entry) = jobs.get_mut(id) {
                f(&mut entry.job);
            }
        });
    }
}

/// Keeps at most [`ENDED_KEPT`] ended jobs, forgetting the oldest.
fn forget_oldest_ended(jobs: &mut HashMap<String, Entry>) {
    let mut ended: Vec<(DateTime<Utc>, String)> = jobs
        .values()
        .filter(|e| e.job.status != JobStatus::Running)
        .map(|e| (e.job.started_at, e.job.id.clone()))
        .collect();
    if ended.len() < ENDED_KEPT {
        return;
    }
    ended.sort();
    for (_, id) in ended.iter().take(ended.len() + 1 - ENDED_KEPT) {
        jobs.remove(id);
    }
}

/// Selects the documents as the operator's bulk replay does (status
/// `parked` by default, reason filter case-insensitive).
async fn select(operator: &Operator, filter: &BulkFilter) -> Result<Vec<String>, OperatorError> {
    let list_filter = DocumentFilter {
        instance: filter.instance.clone(),
        status: Some(filter.status.clone().unwrap_or_else(|| "parked".into())),
        kind: filter.kind.clone(),
        search: None,
    };
    let needle = filter.reason_contains.as_deref().map(str::to_lowercase);
    let mut ids = Vec::new();
    let mut page = Page {
        offset: 0,
        limit: 1000,
    };
    loop {
        let found = operator.list(&list_filter, page).await?;
        let count = found.items.len() as u64;
        ids.extend(
            found
                .items
                .into_iter()
                .filter(|row| match &needle {
                    None => true,
                    Some(n) => row
                        .last_reason
                        .as_deref()
                        .is_some_and(|r| r.to_lowercase().contains(n)),
                })
                .map(|row| row.id),
        );
        page.offset += count;
        if count < page.limit || page.offset >= found.total {
            break;
        }
    }
    Ok(ids)
}

/// Replays in bulk. With `dry_run: true` answers 200 with what would be
/// replayed (`matched`, a `sample`), changing nothing; with `dry_run:
/// false` starts a background job and answers 202 with it at once.
#[utoipa::path(post, path = "/api/v1/replay", tag = "replay",
    request_body = BulkBody,
    responses(
        (status = 200, description = "Dry run: what would be replayed (`matched`, `replayed` 0, `sample`)", body = Object),
        (status = 202, description = "The job started", body = Job),
        (status = 400, body = super::Problem), (status = 401, body = super::Problem), (status = 403, body = super::Problem)),
    security(("bearer" = ["operator"])))]
pub(crate) async fn start(
    principal: Principal,
    state: web::Data<ApiState>,
    body: web::Json<BulkBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let dry_run = body.dry_run.ok_or_else(|| {
        ApiError::invalid(
            "dry_run is required: true to see what would be replayed, false to replay",
        )
    })?;
    let filter = BulkFilter {
        instance: non_empty(body.filter.instance),
        status: non_empty(body.filter.status),
        reason_contains: non_empty(body.filter.reason_contains),
        kind: non_empty(body.filter.kind),
    };
    let by = principal.requested_by();
    if dry_run {
        let reason = body.reason.unwrap_or_default();
        let report = state
            .operator
            .bulk_replay(&filter, true, &by, &reason)
            .await?;
        return Ok(HttpResponse::Ok().json(report));
    }
    let reason = required_reason(body.reason)?;
    // A dry run first: it checks the filter (kind, status) in the operator's words.
    state
        .operator
        .bulk_replay(&filter, true, &by, &reason)
        .await?;
    let ids = select(&state.operator, &filter).await?;
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let job = Job {
        id: id.clone(),
        status: JobStatus::Running,
        requested_by: by.clone(),
        reason: reason.clone(),
        matched: ids.len() as u64,
        done: 0,
        replayed: 0,
        refused_count: 0,
        refused: Vec::new(),
        error: None,
        started_at: Utc::now(),
        finished_at: None,
    };
    let cancel = CancellationToken::new();
    state.jobs.with(|jobs| {
        forget_oldest_ended(jobs);
        jobs.insert(
            id.clone(),
            Entry {
                job: job.clone(),
                cancel: cancel.clone(),
            },
        )
    });
    tracing::info!(job = %id, matched = ids.len(), requested_by = %by, %reason, "operator: bulk replay started");
    let jobs = state.jobs.clone();
    let operator = state.operator.clone();
    tokio::spawn(run(jobs, operator, id, ids, by, reason, cancel));
    Ok(HttpResponse::Accepted().json(job))
}

async fn run(
    jobs: Jobs,
    operator: Operator,
    id: String,
    ids: Vec<String>,
    by: String,
    reason: String,
    cancel: CancellationToken,
) {
    let mut status = JobStatus::Completed;
    let (by, reason, operator) = (&by, &reason, &operator);
    for chunk in ids.chunks(STEP) {
        if cancel.is_cancelled() {
            status = JobStatus::Cancelled;
            break;
        }
        let outcomes = futures::future::join_all(
            chunk
                .iter()
                .map(|doc| async move { (doc, operator.replay(doc, by, reason).await) }),
        )
        .await;
        let mut failed = None;
        jobs.update(&id, |job| {
            for (doc, outcome) in outcomes {
                job.done += 1;
                match outcome {
                    Ok(_) => job.replayed += 1,
                    Err(e @ OperatorError::Unavailable(_)) => failed = Some(e.to_string()),
                    Err(e) => {
                        job.refused_count += 1;
                        if job.refused.len() < REFUSALS_KEPT {
                            job.refused.push(BulkRefusal {
                                id: doc.clone(),
                                reason: e.to_string(),
                            });
                        }
                    }
                }
            }
            if let Some(error) = &failed {
                job.error = Some(error.clone());
            }
        });
        if failed.is_some() {
            status = JobStatus::Failed;
            break;
        }
    }
    jobs.update(&id, |job| {
        job.status = status;
        job.finished_at = Some(Utc::now());
        tracing::info!(job = %id, status = ?status, replayed = job.replayed, refused = job.refused_count, "operator: bulk replay ended");
    });
}

/// A bulk replay job's progress.
#[utoipa::path(get, path = "/api/v1/replay/{job}", tag = "replay",
    params(("job" = String, Path, description = "The job's id")),
    responses((status = 200, body = Job), (status = 401, body = super::Problem), (status = 403, body = super::Problem), (status = 404, body = super::Problem)),
    security(("bearer" = ["viewer"])))]
pub(crate) async fn show(
    state: web::Data<ApiState>,
    job: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = job.into_inner();
    state
        .jobs
        .with(|jobs| jobs.get(&job).map(|e| e.job.clone()))
        .map(|j| HttpResponse::Ok().json(j))
        .ok_or_else(|| ApiError::not_found(format!("no bulk replay job has the id '{job}'")))
}

/// Cancels a running bulk replay job: it stops before the next documents
/// (those being replayed finish). Answers the job; cancelling an ended job
/// changes nothing.
#[utoipa::path(delete, path = "/api/v1/replay/{job}", tag = "replay",
    params(("job" = String, Path, description = "The job's id")),
    responses((status = 200, body = Job), (status = 401, body = super::Problem), (status = 403, body = super::Problem), (status = 404, body = super::Problem)),
    security(("bearer" = ["operator"])))]
pub(crate) async fn cancel(
    principal: Principal,
    state: web::Data<ApiState>,
    job: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = job.into_inner();
    let found = state.jobs.with(|jobs| {
        jobs.get(&job).map(|e| {
            e.cancel.cancel();
            e.job.clone()
        })
    });
    match found {
        Some(j) => {
            tracing::info!(job = %job, requested_by = %principal.requested_by(), "operator: bulk replay cancel asked");
            Ok(HttpResponse::Ok().json(j))
        }
        None => Err(ApiError::not_found(format!(
            "no bulk replay job has the id '{job}'"
        ))),
    }
}
