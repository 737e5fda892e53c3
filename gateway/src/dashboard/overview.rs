//! The overview: one card per instance (health, throughput of the last
//! seven days, what waits) and the most recent orders.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use mlc_projections::{DayCounters, DocumentFilter, FailureFilter, InstanceHealth, Page};

use super::layout::{self, Nav};
use super::session::SignedIn;
use super::words::{self, ago, badge, sentence, title};
use super::{Dashboard, DashboardError};

/// Days of throughput shown.
const DAYS: u32 = 7;

pub(crate) async fn page(
    dashboard: web::Data<Dashboard>,
    user: SignedIn,
) -> Result<HttpResponse, DashboardError> {
    let instances = dashboard.health.all().await.map_err(DashboardError::read)?;
    let mut cards = Vec::new();
    for health in &instances {
        let days = dashboard
            .counters
            .for_instance(&health.instance, DAYS)
            .await
            .map_err(DashboardError::read)?;
        let counts = dashboard
            .documents
            .count_map(&health.instance)
            .await
            .map_err(DashboardError::read)?;
        let waiting = ["order/retry_scheduled", "order/failed"]
            .iter()
            .filter_map(|k| counts.get(*k))
            .sum::<u64>();
        let parked = counts.get("order/parked").copied().unwrap_or(0)
            + counts.get("customer/parked").copied().unwrap_or(0);
        cards.push(card(&dashboard, health, &days, waiting, parked));
    }
    let attention = dashboard
        .failures
        .list(
            &FailureFilter {
                status: Some("parked".into()),
                ..Default::default()
            },
            Page {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .map_err(DashboardError::read)?
        .total;
    let recent = dashboard
        .documents
        .list(
            &DocumentFilter {
                kind: Some("order".into()),
                ..Default::default()
            },
            Page {
                offset: 0,
                limit: 8,
            },
        )
        .await
        .map_err(DashboardError::read)?;
    let body = html! {
        div.pagehead {
            h1 { "Overview" }
            @if attention > 0 {
                a.alert.bad href="/failures?status=parked" {
                    strong { (attention) } " document(s) need attention — open the failure queue"
                }
            } @else {
                p.alert.ok { "Nothing needs attention." }
            }
        }
        @if instances.is_empty() {
            section.card { p.muted { "No store connection has reported anything yet." } }
        }
        div.grid { @for c in &cards { (c) } }
        section.card {
            h2 { "Latest orders" }
            @if recent.items.is_empty() {
                p.muted { "No orders yet." }
            } @else {
                table.list {
                    thead { tr { th { "Order" } th { "Status" } th { "Where it stands" } th { "Changed" } } }
                    tbody {
                        @for row in &recent.items {
                            tr {
                                td { a href=(words::href(&row.id)) { (title(row)) } br; span.muted.small { (row.instance) } }
                                td { (badge(&row.kind, &row.status)) }
                                td { (sentence(row, &dashboard.erp)) }
                                td.nowrap { (ago(row.updated_at)) }
                            }
                        }
                    }
                }
                p { a href="/documents" { "All orders →" } }
            }
        }
    };
    Ok(super::html(
        StatusCode::OK,
        layout::page("Overview", Some(&user), Nav::Overview, true, body),
    ))
}

fn card(
    dashboard: &Dashboard,
    health: &InstanceHealth,
    days: &[DayCounters],
    waiting: u64,
    parked: u64,
) -> Markup {
    let webhooks_down: Vec<&String> = health
        .webhooks
        .iter()
        .filter(|(_, w)| w.status != "active")
        .map(|(topic, _)| topic)
        .collect();
    let (state, class) = if health.paused {
        ("Paused", "warn")
    } else if parked > 0 || !webhooks_down.is_empty() || health.error_rate >= 0.2 {
        ("Needs attention", "bad")
    } else if waiting > 0 || health.error_rate > 0.0 {
        ("Working, some retries", "warn")
    } else {
        ("Healthy", "ok")
    };
    let today = days
        .last()
        .filter(|d| d.day == chrono::Utc::now().date_naive());
    let posted_week: u64 = days.iter().map(|d| d.orders_posted).sum();
    let received_week: u64 = days.iter().map(|d| d.orders_received).sum();
    html! {
        section.card.instance data-instance=(health.instance) {
            div.cardhead {
                h2 { (health.instance) }
                span class={ "badge " (class) } { (state) }
            }
            @if let Some(reason) = &health.pause_reason { p.muted { "Paused: " (reason) } }
            div.stats {
                (stat("Posted today", today.map_or(0, |d| d.orders_posted), "ok"))
                (stat("Received today", today.map_or(0, |d| d.orders_received), ""))
                (stat("Waiting to retry", waiting, if waiting > 0 { "warn" } else { "" }))
                (stat("Need attention", parked, if parked > 0 { "bad" } else { "" }))
            }
            p.small.muted.caption { "Orders posted to " (dashboard.erp) " per day" }
            (chart(days))
            p.small.muted {
                "Last " (DAYS) " days: " (received_week) " orders received, "
                (posted_week) " posted to " (dashboard.erp) "."
                @if health.backlog > 0 { " " (health.backlog) " in progress." }
            }
            dl.facts {
                dt { "Store notifications" }
                dd {
                    @if health.webhooks.is_empty() { span.muted { "none registered" } }
                    @for (topic, hook) in &health.webhooks {
                        span class={ "chip " (if hook.status == "active" { "ok" } else { "bad" }) } title=(topic) {
                            (topic_label(topic)) ": " (if hook.status == "active" { "on" } else { hook.status.as_str() })
                        }
                    }
                }
                dt { "Last checks" }
                dd {
                    @if health.last_polls.is_empty() { span.muted { "none yet" } }
                    @for (what, at) in &health.last_polls {
                        span.chip { (poll_label(what)) " " (ago(*at)) }
                    }
                }
                @if let (Some(error), Some(at)) = (&health.last_error, health.last_error_at) {
                    dt { "Last problem" }
                    dd { (error) " " span.muted { "(" (ago(at)) ")" } }
                }
            }
            p.links {
                a href={ "/documents?instance=" (health.instance) } { "Orders" }
                " · "
                a href={ "/failures?instance=" (health.instance) } { "Failures" }
            }
        }
    }
}

fn stat(label: &str, value: u64, class: &str) -> Markup {
    html! {
        div class={ "stat " (class) } {
            span.value { (value) }
            span.label { (label) }
        }
    }
}

/// Posted orders per day as bars (heights in tenths, by class: the page's
/// security policy allows no inline style).
fn chart(days: &[DayCounters]) -> Markup {
    let today = chrono::Utc::now().date_naive();
    let all: Vec<(chrono::NaiveDate, u64)> = (0..DAYS)
        .rev()
        .map(|back| {
            let day = today - chrono::Days::new(u64::from(back));
            let posted = days
                .iter()
                .find(|d| d.day == day)
                .map_or(0, |d| d.orders_posted);
            (day, posted)
        })
        .collect();
    let max = all.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    html! {
        div.chart role="img" aria-label="Orders posted per day, last 7 days" {
            @for (day, n) in &all {
                div.bar title={ (day.format("%a %e %b")) ": " (n) " posted" } {
                    span class={ "fill h" (if *n == 0 { 0 } else { (n * 10).div_ceil(max) }) } {}
                    span.day { (day.format("%a")) }
                }
            }
        }
    }
}

fn topic_label(topic: &str) -> String {
    match topic {
        "order.created" => "New orders".into(),
        "order.updated" => "Order changes".into(),
        "order.deleted" => "Order deletions".into(),
        "customer.created" => "New customers".into(),
        "customer.updated" => "Customer changes".into(),
        other => other.into(),
    }
}

fn poll_label(what: &str) -> String {
    match what {
        "stock" | "erp-items" => "Stock and prices".into(),
        "orders" | "order_backfill" | "backfill" => "Missed orders".into(),
        other => other.replace('_', " "),
    }
}
