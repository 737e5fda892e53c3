//! Prometheus metrics: `GET /metrics` in the text exposition format.
//!
//! Every component records through the OpenTelemetry metrics API (the global
//! meter); [`install`] makes that global meter export to a Prometheus
//! registry, which `/metrics` renders. Without [`install`] the instruments
//! are no-ops and `/metrics` answers an empty page.
//!
//! The gateway's own instruments are the webhook counters
//! ([`webhook_received`], [`webhook_refused`]) and two gauges measured at
//! each scrape: `mlc_subscription_lag_events{subscriber}`, the store's head
//! position minus the subscriber's checkpoint (an approximate count of the
//! events it has still to handle), and `mlc_poll_lag_seconds{instance,source}`,
//! the time since a poll of the source last found something (from the
//! instance health read model).
//!
//! `/metrics` needs no token, like `/healthz`: it carries counts, never
//! document contents or secrets. Expose it only to the scraper (an internal
//! port or a reverse proxy rule); see `docs/operations.md`.

use std::sync::{Mutex, OnceLock};

use actix_web::{web, HttpResponse};
use opentelemetry::metrics::{Counter, Gauge};
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use prometheus::{Encoder, Registry, TextEncoder};

use crate::GatewayState;

/// The registry `/metrics` renders and the provider feeding it, once installed.
static INSTALLED: OnceLock<(Registry, SdkMeterProvider)> = OnceLock::new();

/// Why the Prometheus exporter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The OpenTelemetry Prometheus exporter refused to build.
    #[error("cannot build the Prometheus exporter: {0}")]
    Exporter(String),
}

/// Makes the global OpenTelemetry meter export to the registry `/metrics`
/// renders, and returns its provider (shut it down at exit). Instruments
/// built before this call stay no-ops, so call it first thing. A second call
/// returns the provider of the first.
pub fn install() -> Result<SdkMeterProvider, MetricsError> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, provider)) = INSTALLED.get() {
        return Ok(provider.clone());
    }
    let registry = Registry::new();
    let exporter = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .without_scope_info()
        .without_target_info()
        .build()
        .map_err(|e| MetricsError::Exporter(e.to_string()))?;
    let provider = SdkMeterProvider::builder().with_reader(exporter).build();
    opentelemetry::global::set_meter_provider(provider.clone());
    let _ = INSTALLED.set((registry, provider.clone()));
    Ok(provider)
}

/// The webhook counters, built on first use (after [`install`]).
struct WebhookMetrics {
    received: Counter<u64>,
    refused: Counter<u64>,
    subscription_lag: Gauge<u64>,
    poll_lag: Gauge<f64>,
}

fn gateway_metrics() -> &'static WebhookMetrics {
    static METRICS: OnceLock<WebhookMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let meter = opentelemetry::global::meter("mlc-gateway");
        WebhookMetrics {
            received: meter
                .u64_counter("mlc_webhooks_received")
                .with_description("Webhook deliveries received, by instance and topic")
                .build(),
            refused: meter
                .u64_counter("mlc_webhooks_refused")
                .with_description(
                    "Webhook deliveries answered with an error, by instance and status",
                )
                .build(),
            subscription_lag: meter
                .u64_gauge("mlc_subscription_lag_events")
                .with_description(
                    "Events a subscriber has still to handle (store head minus its checkpoint)",
                )
                .build(),
            poll_lag: meter
                .f64_gauge("mlc_poll_lag")
                .with_unit("s")
                .with_description(
                    "Seconds since a poll of the source last found something (the instance health read model)",
                )
                .build(),
        }
    })
}

/// Counts one delivery received for `instance` (`_unknown` for a name not
/// configured) with `topic` (`ping` for a ping, `none` without a topic).
pub fn webhook_received(instance: &str, topic: &str) {
    gateway_metrics().received.add(
        1,
        &[
            KeyValue::new("instance", instance.to_owned()),
            KeyValue::new("topic", topic.to_owned()),
        ],
    );
}

/// Counts one delivery of `instance` answered with `status` (4xx or 5xx).
pub fn webhook_refused(instance: &str, status: u16) {
    gateway_metrics().refused.add(
        1,
        &[
            KeyValue::new("instance", instance.to_owned()),
            KeyValue::new("status", status.to_string()),
        ],
    );
}

/// Registers `GET /metrics` on `cfg`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

/// `GET /metrics`: the Prometheus text format (version 0.0.4).
async fn metrics(state: web::Data<GatewayState>) -> HttpResponse {
    if let Ok(head) = state.store.head().await {
        let lag = &gateway_metrics().subscription_lag;
        for status in &state.subscriptions {
            let (name, checkpoint) = {
                let s = status.lock().unwrap_or_else(|e| e.into_inner());
                (s.name.clone(), s.checkpoint)
            };
            let behind = (head.global - checkpoint.global).max(0) as u64;
            lag.record(behind, &[KeyValue::new("subscriber", name)]);
        }
    }
    match mlc_projections::HealthView::new(state.store.clone())
        .all()
        .await
    {
        Ok(instances) => {
            let now = chrono::Utc::now();
            for health in instances {
                for (source, at) in &health.last_polls {
                    let lag = (now - *at).num_milliseconds().max(0) as f64 / 1000.0;
                    gateway_metrics().poll_lag.record(
                        lag,
                        &[
                            KeyValue::new("instance", health.instance.clone()),
                            KeyValue::new("source", source.clone()),
                        ],
                    );
                }
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the instance health"),
    }
    let Some((registry, _)) = INSTALLED.get() else {
        return HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body("");
    };
    let encoder = TextEncoder::new();
    let mut body = Vec::new();
    if let Err(error) = encoder.encode(&registry.gather(), &mut body) {
        tracing::error!(%error, "cannot encode the metrics");
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type(encoder.format_type())
        .body(body)
}
