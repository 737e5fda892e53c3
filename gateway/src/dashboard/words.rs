//! Plain words for the back office: statuses, sentences about a document,
//! times (rendered in UTC, shown in the browser's time zone by the script).

use chrono::{DateTime, Utc};
use maud::{html, Markup};
use mlc_projections::DocumentRow;

/// A status as a short label and the badge's colour class.
pub(crate) fn status_label(kind: &str, status: &str) -> (&'static str, &'static str) {
    match (kind, status) {
        (_, "posted") => ("Posted", "ok"),
        (_, "synced") => ("Synced", "ok"),
        (_, "parked") => ("Needs attention", "bad"),
        (_, "retry_scheduled") => ("Waiting to retry", "warn"),
        (_, "failed") => ("Failed, retrying", "warn"),
        ("customer", "pending") => ("Waiting to sync", "info"),
        (_, "received") => ("Received", "info"),
        (_, "customer_resolved") => ("Customer found", "info"),
        _ => ("Unknown", "info"),
    }
}

/// A status badge.
pub(crate) fn badge(kind: &str, status: &str) -> Markup {
    let (label, class) = status_label(kind, status);
    html! { span class={ "badge " (class) } data-status=(status) { (label) } }
}

/// What a document is, e.g. "Order #1042" or "Customer jane@example.com".
pub(crate) fn title(row: &DocumentRow) -> String {
    let source = row.id.rsplit('/').next().unwrap_or(&row.id);
    match row.kind.as_str() {
        "order" => format!(
            "Order {}",
            row.channel_number
                .clone()
                .unwrap_or_else(|| format!("#{source}"))
        ),
        "customer" => format!(
            "Customer {}",
            row.customer.clone().unwrap_or_else(|| source.to_owned())
        ),
        other => format!("{other} {source}"),
    }
}

/// One sentence saying where a document stands.
pub(crate) fn sentence(row: &DocumentRow, erp: &str) -> Markup {
    let reason = row.last_reason.as_deref().unwrap_or("no reason recorded");
    match row.status.as_str() {
        "posted" => html! {
            "Posted to " (erp) " as " strong { (row.erp_number.as_deref().unwrap_or("?")) }
            @if row.refunds_pending > 0 {
                " — " (row.refunds_pending) " refund(s) waiting for a credit note"
            }
        },
        "synced" => html! {
            "Synced to " (erp) " as customer " strong { (row.erp_customer.as_deref().unwrap_or("?")) }
        },
        "parked" => html! { "Needs attention: " (reason) },
        "retry_scheduled" => html! {
            "Waiting to retry (attempt " (row.attempts + 1) ")"
            @if let Some(at) = row.not_before { " at " (time(at)) }
            " — " (reason)
        },
        "failed" => html! { "The last attempt failed and will be retried — " (reason) },
        "received" => html! { "Received from the store, waiting to be posted to " (erp) },
        "customer_resolved" => html! {
            "Customer found in " (erp)
            @if let Some(c) = &row.erp_customer { " (" (c) ")" }
            ", waiting to be posted"
        },
        "pending" => html! { "Waiting to be synced to " (erp) },
        other => html! { (other) },
    }
}

/// A moment, shown as date and time in the browser's zone.
pub(crate) fn when(t: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339()) data-show="datetime" { (t.format("%Y-%m-%d %H:%M UTC")) }
    }
}

/// A moment expected soon, shown as a time of day (with the date when not today).
pub(crate) fn time(t: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339()) data-show="time" { (t.format("%H:%M UTC")) }
    }
}

/// A moment in the past, shown as "5 minutes ago" (the exact time on hover).
pub(crate) fn ago(t: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339()) data-show="ago" title=(t.format("%Y-%m-%d %H:%M:%S UTC")) {
            (ago_text(Utc::now() - t))
        }
    }
}

fn ago_text(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds();
    match s {
        i64::MIN..=44 => "just now".into(),
        45..=5399 => format!("{} min ago", (s + 30) / 60),
        5400..=129_599 => format!("{} h ago", (s + 1800) / 3600),
        _ => format!("{} days ago", (s + 43_200) / 86_400),
    }
}

/// The path of a document's page.
pub(crate) fn href(id: &str) -> String {
    format!("/documents/{}", encode_path(id))
}

/// `id` made safe in a path, keeping its `/`.
pub(crate) fn encode_path(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_slashes_and_lose_the_rest() {
        assert_eq!(href("shop/order/1042"), "/documents/shop/order/1042");
        assert_eq!(href("shop/order/a b?"), "/documents/shop/order/a%20b%3F");
    }

    #[test]
    fn ages_read_like_people_talk() {
        assert_eq!(ago_text(chrono::TimeDelta::seconds(3)), "just now");
        assert_eq!(ago_text(chrono::TimeDelta::seconds(300)), "5 min ago");
        assert_eq!(ago_text(chrono::TimeDelta::hours(3)), "3 h ago");
        assert_eq!(ago_text(chrono::TimeDelta::days(4)), "4 days ago");
    }
}
