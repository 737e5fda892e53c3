//! The one line the audit trail shows for each event.

use std::collections::HashMap;

use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::Value;

/// Longest summary kept, in characters.
const MAX_CHARS: usize = 300;

/// The fields of a JSON object, each parsed only when asked for: an order
/// is over a kilobyte and most of it is not summarized.
#[derive(Default)]
struct Fields<'a>(HashMap<String, &'a RawValue>);

impl<'a> Fields<'a> {
    fn of(json: &'a str) -> Self {
        Fields(serde_json::from_str(json).unwrap_or_default())
    }

    fn get(&self, key: &str) -> Option<Value> {
        self.0
            .get(key)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
    }

    fn object(&self, key: &str) -> Fields<'a> {
        self.0
            .get(key)
            .map_or_else(Fields::default, |raw| Fields::of(raw.get()))
    }

    fn len(&self, key: &str) -> usize {
        self.0
            .get(key)
            .and_then(|raw| serde_json::from_str::<Vec<IgnoredAny>>(raw.get()).ok())
            .map_or(0, |items| items.len())
    }
}

/// What happened, in one line, from the event's type and payload (the
/// domain's externally tagged JSON, `{"PostedToErp": {..}}`).
pub(crate) fn summarize(event_type: &str, payload: &str) -> String {
    let body = Fields::of(payload).object(event_type);
    let s = |key: &str| text(body.get(key).as_ref());
    let line = match event_type {
        // Orders
        "OrderReceived" => {
            let order = body.object("order");
            let lines = order.len("lines");
            let total = order
                .get("grand_total")
                .map(|t| money(&t))
                .unwrap_or_default();
            format!(
                "order {} received: {lines} line{}, {total}",
                text(order.get("number").as_ref()),
                if lines == 1 { "" } else { "s" }
            )
        }
        "OrderRevised" => "a newer version of the order replaces the one to post".into(),
        "OrderRevisedAfterPosting" => {
            "a newer version of the order arrived after posting; the ERP document is unchanged"
                .into()
        }
        "CustomerMatched" => format!("customer matched to ERP customer {}", s("erp_customer_id")),
        "CustomerCreated" => format!("ERP customer {} created", s("erp_customer_id")),
        "PostedToErp" => format!(
            "posted to the ERP as {} (attempt {})",
            s("erp_document_number"),
            s("attempt")
        ),
        "PostFailed" => format!(
            "attempt {} failed{}: {}",
            s("attempt"),
            retryable(&body),
            s("reason")
        ),
        "RetryScheduled" => format!("attempt {} scheduled for {}", s("attempt"), s("not_before")),
        "Parked" | "CustomerSyncParked" => format!("parked: {}", s("reason")),
        "ReplayRequested" | "CustomerReplayRequested" => {
            format!("replay requested by {}: {}", s("requested_by"), s("reason"))
        }
        "Rewound" => format!(
            "rewound to sequence {} ({}) by {}: {}",
            s("to_sequence"),
            s("restored_status"),
            s("requested_by"),
            s("reason")
        ),
        "RefundReceived" => {
            let refund = body.object("refund");
            format!(
                "refund {} received: {}",
                text(refund.get("source_id").as_ref()),
                refund.get("amount").map(|a| money(&a)).unwrap_or_default()
            )
        }
        "CreditNotePosted" => format!(
            "credit note {} posted for refund {}",
            s("erp_document_number"),
            s("refund_id")
        ),
        "CreditNoteFailed" => format!(
            "credit note for refund {}: attempt {} failed{}: {}",
            s("refund_id"),
            s("attempt"),
            retryable(&body),
            s("reason")
        ),
        "CreditNoteParked" => format!(
            "credit note for refund {} parked: {}",
            s("refund_id"),
            s("reason")
        ),
        // Customers
        "CustomerReceived" | "CustomerRevised" => {
            let customer = body.object("customer");
            let who = match customer.get("email") {
                Some(Value::String(email)) => email,
                _ => format!(
                    "{} {}",
                    text(customer.get("first_name").as_ref()),
                    text(customer.get("last_name").as_ref())
                )
                .trim()
                .to_owned(),
            };
            let verb = if event_type == "CustomerReceived" {
                "received"
            } else {
                "revised"
            };
            format!("customer {who} {verb}")
        }
        "ErpCustomerSynced" => format!(
            "ERP customer {} {}",
            s("erp_customer_id"),
            if body.get("created").and_then(|c| c.as_bool()) == Some(true) {
                "created"
            } else {
                "updated"
            }
        ),
        "CustomerSyncFailed" => format!(
            "sync attempt {} failed{}: {}",
            s("attempt"),
            retryable(&body),
            s("reason")
        ),
        // Instances
        "Configured" => format!("configured (configuration version {})", s("version")),
        "Paused" => format!("paused: {}", s("reason")),
        "Resumed" => "resumed".into(),
        "CursorAdvanced" => {
            let cursor = body.object("cursor");
            format!(
                "{} read up to {} ({})",
                s("source"),
                text(cursor.get("timestamp").as_ref()),
                text(cursor.get("tie_break").as_ref())
            )
        }
        "WebhookRegistered" => format!("webhook {} registered", s("topic")),
        "WebhookStatusChanged" => format!(
            "webhook {}: {} -> {} after {} failed checks",
            s("topic"),
            s("previous"),
            s("status"),
            s("consecutive_failures")
        ),
        // Webhook deliveries
        "PingReceived" => format!("webhook {} pinged", s("webhook_id")),
        "DeliveryRejected" => format!(
            "delivery{} refused with {}: {}",
            match body.get("topic") {
                Some(Value::String(topic)) => format!(" of {topic}"),
                _ => String::new(),
            },
            s("status"),
            s("reason")
        ),
        // Items and anything newer than this code
        other => words(other),
    };
    one_line(&line)
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "?".into(),
        Some(other) => other.to_string(),
    }
}

fn money(value: &Value) -> String {
    match (value.get("amount"), value.get("currency")) {
        (Some(amount), Some(currency)) => {
            format!("{} {}", text(Some(amount)), text(Some(currency)))
        }
        _ => text(Some(value)),
    }
}

fn retryable(body: &Fields) -> &'static str {
    match body.get("retryable").and_then(|r| r.as_bool()) {
        Some(true) => " (retryable)",
        Some(false) => " (not retryable)",
        None => "",
    }
}

/// `ErpItemChanged` -> `erp item changed`.
fn words(event_type: &str) -> String {
    let mut out = String::new();
    for (i, c) in event_type.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn one_line(line: &str) -> String {
    let flat: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let redacted = super::redact_text(&flat);
    if redacted.chars().count() <= MAX_CHARS {
        return redacted;
    }
    let mut cut: String = redacted.chars().take(MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn summaries_name_what_happened() {
        assert_eq!(
            summarize(
                "PostedToErp",
                &json!({"PostedToErp": {"erp_document_number": "ORD000123", "attempt": 2, "posted_at": "2026-01-01T00:00:00Z"}}).to_string()
            ),
            "posted to the ERP as ORD000123 (attempt 2)"
        );
        assert_eq!(summarize("Resumed", "\"Resumed\""), "resumed");
        assert_eq!(summarize("ErpItemChanged", "{}"), "erp item changed");
        assert_eq!(
            summarize(
                "Parked",
                &json!({"Parked": {"reason": "line 1\nline 2"}}).to_string()
            ),
            "parked: line 1 line 2"
        );
    }
}
