//! Finding a document (by WooCommerce order number, ERP number or customer)
//! and its page: where it stands, and its timeline from the webhook to the
//! ERP, with a replay button when it needs one.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use mlc_actors::operator::{OperatorError, TimelineEntry};
use mlc_projections::{DocumentFilter, Page};
use serde::Deserialize;

use super::failures::{non_empty, query_string};
use super::layout::{self, Nav};
use super::session::SignedIn;
use super::words::{self, ago, badge, sentence, title, when};
use super::{Dashboard, DashboardError};
use crate::auth::Role;

/// Rows on one page of search results.
const PAGE: u64 = 50;

/// Query of `GET /documents`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
    instance: Option<String>,
    status: Option<String>,
    offset: Option<u64>,
}

/// Body of `POST /documents/{id}/replay`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReplayForm {
    csrf: String,
    back: Option<String>,
    reason: Option<String>,
}

pub(crate) async fn search(
    dashboard: web::Data<Dashboard>,
    user: SignedIn,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, DashboardError> {
    let query = query.into_inner();
    let q = non_empty(query.q).map(|q| q.trim_start_matches('#').to_owned());
    let instance = non_empty(query.instance);
    let status = non_empty(query.status);
    let offset = query.offset.unwrap_or(0);
    let filter = DocumentFilter {
        instance: instance.clone(),
        status: status.clone(),
        kind: None,
        search: q.clone(),
    };
    let page = dashboard
        .operator
        .list(
            &filter,
            Page {
                offset,
                limit: PAGE,
            },
        )
        .await?;
    // A search that finds exactly one document opens it.
    if q.is_some() && page.total == 1 && offset == 0 {
        return Ok(super::see_other(&words::href(&page.items[0].id)));
    }
    let more = |offset: u64| {
        format!(
            "/documents{}",
            query_string(&[
                ("q", q.as_deref()),
                ("instance", instance.as_deref()),
                ("status", status.as_deref()),
                ("offset", Some(&offset.to_string())),
            ])
        )
    };
    let heading = match &q {
        Some(q) => format!("Search: “{q}”"),
        None => "Orders and customers".to_owned(),
    };
    let body = html! {
        div.pagehead {
            h1 { (heading) }
            p.muted { "Search by WooCommerce order number (e.g. 1042), " (dashboard.erp)
                " number (e.g. ORD000123), customer e-mail or document id." }
        }
        section.card {
            form.inline.bigsearch method="get" action="/documents" role="search" {
                input type="search" name="q" value=(q.as_deref().unwrap_or("")) autofocus
                    placeholder="Order no., Sage 300 no. or e-mail" aria-label="Search";
                @if let Some(i) = &instance { input type="hidden" name="instance" value=(i); }
                button.primary type="submit" { "Search" }
            }
            @if page.items.is_empty() {
                p.empty { "Nothing found."
                    @if q.is_some() { " Check the number, or search for part of it." } }
            } @else {
                p.muted { (page.total) " found" }
                table.list id="results" {
                    thead { tr { th { "Document" } th { "Store" } th { "Status" } th { "Where it stands" } th { "Changed" } } }
                    tbody { @for row in &page.items {
                        tr {
                            td { a href=(words::href(&row.id)) { (title(row)) } }
                            td { (row.instance) }
                            td { (badge(&row.kind, &row.status)) }
                            td { (sentence(row, &dashboard.erp)) }
                            td.nowrap { (ago(row.updated_at)) }
                        }
                    } }
                }
                div.pager {
                    @if offset > 0 { a href=(more(offset.saturating_sub(PAGE))) { "← Newer" } }
                    @if offset + PAGE < page.total { a href=(more(offset + PAGE)) { "Older →" } }
                }
            }
        }
    };
    Ok(super::html(
        StatusCode::OK,
        layout::page("Orders", Some(&user), Nav::Documents, q.is_none(), body),
    ))
}

pub(crate) async fn show(
    dashboard: web::Data<Dashboard>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, DashboardError> {
    let id = path.into_inner();
    let timeline = match dashboard.operator.timeline(&id).await {
        Ok(t) => t,
        Err(OperatorError::NotFound(_)) | Err(OperatorError::Invalid(_)) => {
            return Err(DashboardError::NotFound(format!(
                "There is no document “{id}”. Search for it by its order number."
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let row = &timeline.document;
    let replayable = matches!(row.status.as_str(), "parked" | "failed");
    let here = words::href(&row.id);
    let erp = &dashboard.erp;
    let body = html! {
        div.pagehead {
            p.crumbs { a href="/documents" { "Orders" } " › " (row.instance) }
            h1 { (title(row)) " " (badge(&row.kind, &row.status)) }
        }
        section.card.summary {
            p.sentence id="status-sentence" data-status=(row.status) { (sentence(row, erp)) }
            dl.facts.columns {
                dt { "Store" } dd { (row.instance) }
                @if let Some(n) = &row.channel_number { dt { "WooCommerce number" } dd { (n) } }
                dt { (erp) " number" } dd id="erp-number" { (row.erp_number.as_deref().unwrap_or("not yet")) }
                @if let Some(c) = &row.customer { dt { "Customer" } dd { (c) } }
                @if let Some(c) = &row.erp_customer { dt { (erp) " customer" } dd { (c) } }
                dt { "Attempts" } dd { (row.attempts) }
                @if let Some(t) = row.received_at { dt { "Received" } dd { (when(t)) } }
                dt { "Last change" } dd { (when(row.updated_at)) }
                dt { "Document id" } dd { code { (row.id) } }
            }
            @if replayable {
                @if user.may(Role::Operator) {
                    div.callout {
                        p { "Fixed the cause (for example mapped the SKU)? Replay sends this "
                            (row.kind) " to " (erp) " again." }
                        form.replay.inline method="post" action={ (here) "/replay" } {
                            input type="hidden" name="csrf" value=(user.csrf);
                            input type="hidden" name="back" value=(here);
                            input type="text" name="reason" aria-label="Why"
                                value="Cause fixed; replayed from the dashboard";
                            button.primary type="submit" id="replay" { "Replay" }
                        }
                    }
                } @else {
                    p.muted.small { "An operator can replay this document once its cause is fixed." }
                }
            }
        }
        section.card {
            h2 { "What happened" }
            ol.timeline {
                @for entry in &timeline.events { (event(entry)) }
            }
        }
    };
    Ok(super::html(
        StatusCode::OK,
        layout::page(&title(row), Some(&user), Nav::Documents, true, body),
    ))
}

fn event(entry: &TimelineEntry) -> Markup {
    let class = match entry.event_type.as_str() {
        "PostedToErp" | "CreditNotePosted" | "ErpCustomerSynced" | "CustomerMatched"
        | "CustomerCreated" => "ok",
        "Parked" | "CreditNoteParked" | "CustomerSyncParked" => "bad",
        "PostFailed" | "RetryScheduled" | "CreditNoteFailed" | "CustomerSyncFailed" => "warn",
        "ReplayRequested" | "CustomerReplayRequested" | "Rewound" => "op",
        _ => "info",
    };
    let cause = entry
        .metadata
        .get("requested_by")
        .or_else(|| entry.metadata.get("actor"))
        .and_then(|v| v.as_str());
    html! {
        li class={ "event " (class) } data-type=(entry.event_type) {
            div.when { (when(entry.recorded_at)) }
            div.what {
                p.summary { (entry.summary) }
                p.muted.small { (label(&entry.event_type)) " · step " (entry.sequence)
                    @if let Some(c) = cause { " · by " (c) } }
                details {
                    summary { "Technical details" }
                    pre { (pretty(&entry.payload)) }
                    @if !entry.metadata.as_object().is_some_and(|m| m.is_empty()) {
                        pre { (pretty(&entry.metadata)) }
                    }
                }
            }
        }
    }
}

/// `PostedToErp` as "Posted to ERP".
fn label(event_type: &str) -> String {
    let mut out = String::new();
    for (i, c) in event_type.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out.replace("to erp", "to ERP").replace("erp ", "ERP ")
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

pub(crate) async fn act(
    dashboard: web::Data<Dashboard>,
    user: SignedIn,
    path: web::Path<String>,
    form: web::Form<ReplayForm>,
) -> Result<HttpResponse, DashboardError> {
    user.require(Role::Operator)?;
    user.check_csrf(&form.csrf)?;
    let path = path.into_inner();
    let Some(id) = path.strip_suffix("/replay") else {
        return Err(DashboardError::NotFound(format!(
            "There is nothing to do at /documents/{path}."
        )));
    };
    let form = form.into_inner();
    let reason = non_empty(form.reason).unwrap_or_else(|| "Replayed from the dashboard".into());
    dashboard
        .operator
        .replay(id, &user.requested_by(), &reason)
        .await?;
    let back = match form.back.as_deref() {
        Some(b) if b.starts_with('/') && !b.starts_with("//") => b.to_owned(),
        _ => words::href(id),
    };
    Ok(super::see_other(&back))
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_types_read_as_words() {
        assert_eq!(super::label("PostedToErp"), "Posted to ERP");
        assert_eq!(super::label("ReplayRequested"), "Replay requested");
    }
}
