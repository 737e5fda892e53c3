//! The failure queue (parked and retrying documents, with a replay button
//! each) and bulk replay: a preview of what would be replayed first, then
//! the replay itself.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use mlc_actors::operator::{BulkFilter, BulkReport};
use mlc_projections::{FailureFilter, Page};
use serde::Deserialize;

use super::layout::{self, Nav};
use super::session::SignedIn;
use super::words::{self, ago, badge, time};
use super::{Dashboard, DashboardError};
use crate::auth::Role;

/// Rows shown on one page of the queue.
const PAGE: u64 = 100;

/// Query of `GET /failures`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueQuery {
    instance: Option<String>,
    status: Option<String>,
}

/// Query of `GET /failures/bulk` and fields of `POST /failures/bulk`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct BulkQuery {
    instance: Option<String>,
    status: Option<String>,
    reason_contains: Option<String>,
}

/// Body of `POST /failures/bulk`.
#[derive(Debug, Deserialize)]
pub(crate) struct BulkForm {
    csrf: String,
    #[serde(flatten)]
    filter: BulkQuery,
    reason: String,
}

pub(crate) async fn queue(
    dashboard: web::Data<Dashboard>,
    user: SignedIn,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, DashboardError> {
    let query = query.into_inner();
    let instance = non_empty(query.instance);
    let status = non_empty(query.status);
    let page = dashboard
        .failures
        .list(
            &FailureFilter {
                instance: instance.clone(),
                status: status.clone(),
                kind: None,
            },
            Page {
                offset: 0,
                limit: PAGE,
            },
        )
        .await
        .map_err(DashboardError::read)?;
    let mut rows = Vec::with_capacity(page.items.len());
    for failure in page.items {
        let document = dashboard
            .documents
            .get(&failure.id)
            .await
            .map_err(DashboardError::read)?;
        rows.push((failure, document));
    }
    let instances = instance_names(&dashboard).await?;
    let operator = user.may(Role::Operator);
    let here = format!(
        "/failures{}",
        query_string(&[
            ("instance", instance.as_deref()),
            ("status", status.as_deref())
        ])
    );
    let tab = |value: Option<&str>, label: &str| {
        let href = format!(
            "/failures{}",
            query_string(&[("instance", instance.as_deref()), ("status", value)])
        );
        html! { a href=(href) class=@if status.as_deref() == value { "active" } { (label) } }
    };
    let body = html! {
        div.pagehead {
            h1 { "Failure queue" }
            p.muted { "Orders and customers that did not reach " (dashboard.erp) " yet. "
                "“Needs attention” waits for someone to fix the cause and replay it; "
                "“Waiting to retry” is retried automatically." }
        }
        section.card {
            div.toolbar {
                nav.tabs {
                    (tab(None, "All"))
                    (tab(Some("parked"), "Needs attention"))
                    (tab(Some("retry_scheduled"), "Waiting to retry"))
                }
                span.muted { (page.total) " in the queue" @if page.total > PAGE { ", the latest " (PAGE) " shown" } }
            }
            @if rows.is_empty() {
                p.empty { "The queue is empty. Everything reached " (dashboard.erp) "." }
            } @else {
                table.list id="failures" {
                    thead { tr {
                        th { "Document" } th { "Status" } th { "Why" } th { "Attempts" }
                        th { "Next try" } th { "Since" }
                        @if operator { th {} }
                    } }
                    tbody {
                        @for (failure, document) in &rows {
                            tr data-id=(failure.id) {
                                td {
                                    a href=(words::href(&failure.id)) {
                                        @if let Some(d) = document { (words::title(d)) } @else { (failure.id) }
                                    }
                                    br; span.muted.small { (failure.instance)
                                        @if let Some(r) = &failure.refund_id { " · refund " (r) } }
                                }
                                td { (badge(&failure.kind, &failure.status)) }
                                td.reason { (failure.reason.as_deref().unwrap_or("—")) }
                                td.num { (failure.attempts) }
                                td.nowrap { @if let Some(t) = failure.next_retry { (time(t)) } @else { "—" } }
                                td.nowrap { (ago(failure.since)) }
                                @if operator {
                                    td {
                                        @if failure.status != "retry_scheduled" {
                                            (replay_form(&user, &failure.id, &here, "Replay"))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card id="bulk" {
            h2 { "Replay many at once" }
            p.muted { "Pick which documents to replay, look at the preview, then confirm. "
                "Nothing is replayed until you confirm on the next page." }
            form.inline method="get" action="/failures/bulk" {
                label { "Store " select name="instance" {
                    option value="" { "All stores" }
                    @for name in &instances {
                        option value=(name) selected[instance.as_deref() == Some(name.as_str())] { (name) }
                    }
                } }
                label { "Status " select name="status" {
                    option value="parked" { "Needs attention" }
                    option value="failed" { "Failed" }
                } }
                label { "Reason contains " input type="text" name="reason_contains" placeholder="e.g. not mapped"; }
                button.primary type="submit" id="bulk-preview" { "Preview" }
            }
        }
    };
    Ok(super::html(
        StatusCode::OK,
        layout::page("Failure queue", Some(&user), Nav::Failures, true, body),
    ))
}

pub(crate) async fn bulk_preview(
    dashboard: web::Data<Dashboard>,
    user: SignedIn,
    query: web::Query<BulkQuery>,
) -> Result<HttpResponse, DashboardError> {
    let query = query.into_inner();
    let filter = filter(&query);
    let report = dashboard
        .operator
        .bulk_replay(&filter, true, &user.requested_by(), "")
        .await?;
    let body = html! {
        div.pagehead {
            h1 { "Bulk replay — preview" }
            p.muted { "Nothing has been changed yet." }
        }
        section.card id="preview" {
            p.big { strong id="matched" { (report.matched) } " document(s) would be replayed" }
            p.muted { (describe(&filter)) }
            (sample(&report))
            @if report.matched == 0 {
                p { a href="/failures" { "Back to the failure queue" } }
            } @else if user.may(Role::Operator) {
                form method="post" action="/failures/bulk" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="instance" value=(filter.instance.as_deref().unwrap_or(""));
                    input type="hidden" name="status" value=(filter.status.as_deref().unwrap_or(""));
                    input type="hidden" name="reason_contains" value=(filter.reason_contains.as_deref().unwrap_or(""));
                    label for="reason" { "Why (kept in each document's history)" }
                    input id="reason" type="text" name="reason" required
                        value="Cause fixed; replayed from the dashboard";
                    div.actions {
                        button.primary type="submit" id="bulk-run" { "Replay " (report.matched) " document(s)" }
                        a href="/failures" { "Cancel" }
                    }
                }
            } @else {
                p.alert.warn { "You are signed in read-only; an operator can run this replay." }
            }
        }
    };
    Ok(super::html(
        StatusCode::OK,
        layout::page(
            "Bulk replay preview",
            Some(&user),
            Nav::Failures,
            false,
            body,
        ),
    ))
}

pub(crate) async fn bulk_run(
    dashboard: web::Data<Dashboard>,
    user: SignedIn,
    form: web::Form<BulkForm>,
) -> Result<HttpResponse, DashboardError> {
    user.require(Role::Operator)?;
    user.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let filter = filter(&form.filter);
    let report = dashboard
        .operator
        .bulk_replay(&filter, false, &user.requested_by(), form.reason.trim())
        .await?;
    let body = html! {
        div.pagehead { h1 { "Bulk replay — done" } }
        section.card id="result" {
            p.big { strong id="replayed" { (report.replayed) } " of " (report.matched) " document(s) replayed." }
            p.muted { "They are being sent to " (dashboard.erp) " now; watch them in the failure queue or on the overview." }
            @if !report.refused.is_empty() {
                h2 { (report.refused.len()) " could not be replayed" }
                ul { @for r in &report.refused {
                    li { a href=(words::href(&r.id)) { (r.id) } ": " (r.reason) }
                } }
            }
            p { a.button href="/failures" { "Back to the failure queue" } }
        }
    };
    Ok(super::html(
        StatusCode::OK,
        layout::page("Bulk replay", Some(&user), Nav::Failures, false, body),
    ))
}

/// The form that replays one document and comes back to `back`.
pub(crate) fn replay_form(user: &SignedIn, id: &str, back: &str, label: &str) -> Markup {
    html! {
        form.replay method="post" action={ (words::href(id)) "/replay" } {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="back" value=(back);
            button.primary.small type="submit" { (label) }
        }
    }
}

fn sample(report: &BulkReport) -> Markup {
    html! {
        @if !report.sample.is_empty() {
            table.list {
                thead { tr { th { "Document" } th { "Store" } th { "Why it stopped" } th { "Attempts" } } }
                tbody { @for row in &report.sample {
                    tr {
                        td { a href=(words::href(&row.id)) { (words::title(row)) } }
                        td { (row.instance) }
                        td.reason { (row.last_reason.as_deref().unwrap_or("—")) }
                        td.num { (row.attempts) }
                    }
                } }
            }
            @if report.matched > report.sample.len() as u64 {
                p.muted { "… and " (report.matched - report.sample.len() as u64) " more." }
            }
        }
    }
}

fn describe(filter: &BulkFilter) -> String {
    let status = match filter.status.as_deref() {
        Some("failed") => "failed",
        _ => "needing attention",
    };
    let mut text = format!("Documents {status}");
    if let Some(i) = &filter.instance {
        text.push_str(&format!(" in store {i}"));
    }
    if let Some(r) = &filter.reason_contains {
        text.push_str(&format!(" whose reason contains “{r}”"));
    }
    text.push('.');
    text
}

fn filter(query: &BulkQuery) -> BulkFilter {
    BulkFilter {
        instance: non_empty(query.instance.clone()),
        status: non_empty(query.status.clone()),
        reason_contains: non_empty(query.reason_contains.clone()),
        kind: None,
    }
}

async fn instance_names(dashboard: &Dashboard) -> Result<Vec<String>, DashboardError> {
    Ok(dashboard
        .health
        .all()
        .await
        .map_err(DashboardError::read)?
        .into_iter()
        .map(|h| h.instance)
        .collect())
}

pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `?a=1&b=2` of the pairs with a value, or nothing.
pub(crate) fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.map(|v| format!("{k}={}", words::encode_path(v).replace('/', "%2F")))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}
