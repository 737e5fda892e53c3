//! What the order worker reports beyond its events: the counters of its
//! outcomes and the trace each document's webhook started.

use std::sync::OnceLock;

use opentelemetry::metrics::Counter;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::KeyValue;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// `mlc_erp_posts_total{instance,outcome}`, `mlc_retries_total{instance}`,
/// `mlc_parked_total{instance}`.
struct Counters {
    posts: Counter<u64>,
    retries: Counter<u64>,
    parked: Counter<u64>,
}

fn counters() -> &'static Counters {
    static COUNTERS: OnceLock<Counters> = OnceLock::new();
    COUNTERS.get_or_init(|| {
        let meter = opentelemetry::global::meter("mlc-actors");
        Counters {
            posts: meter
                .u64_counter("mlc_erp_posts")
                .with_description(
                    "Order post attempts to the ERP by outcome: posted, already_posted (found by reference), failed",
                )
                .build(),
            retries: meter
                .u64_counter("mlc_retries")
                .with_description("Order posts scheduled for another attempt")
                .build(),
            parked: meter
                .u64_counter("mlc_parked")
                .with_description("Orders parked for an operator")
                .build(),
        }
    })
}

/// The instance of a document id `{instance}/{kind}/{source id}`.
fn instance_of(document: &str) -> &str {
    document.split('/').next().unwrap_or_default()
}

/// Counts one post attempt of `document` with `outcome`.
pub(super) fn post(document: &str, outcome: &'static str) {
    counters().posts.add(
        1,
        &[
            KeyValue::new("instance", instance_of(document).to_owned()),
            KeyValue::new("outcome", outcome),
        ],
    );
}

/// Counts one retry scheduled for `document`.
pub(super) fn retry(document: &str) {
    let instance = KeyValue::new("instance", instance_of(document).to_owned());
    counters().retries.add(1, &[instance]);
}

/// Counts `document` parked.
pub(super) fn parked(document: &str) {
    let instance = KeyValue::new("instance", instance_of(document).to_owned());
    counters().parked.add(1, &[instance]);
}

/// The span context stored in an event's metadata (`trace_id`, `span_id`,
/// hex, as the webhook intake writes them), if any.
pub(super) fn stored_span_context(metadata: &str) -> Option<SpanContext> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(metadata).ok()?;
    let trace_id = TraceId::from_hex(map.get("trace_id")?.as_str()?).ok()?;
    let span_id = SpanId::from_hex(map.get("span_id")?.as_str()?).ok()?;
    let context = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

/// A span `drive order` for `document` that continues the trace its
/// webhook started (`parent`, a remote span context), or a new trace.
pub(super) fn drive_span(document: &str, parent: Option<SpanContext>) -> tracing::Span {
    let span =
        tracing::info_span!(parent: None, "drive order", otel.name = "drive order", document);
    if let Some(parent) = parent {
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent));
    }
    span
}
