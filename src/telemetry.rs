//! Logs, traces and metrics of the process (see `docs/operations.md`).
//!
//! - Logs: `tracing` to stderr, as text or JSON lines, filtered by
//!   `RUST_LOG` or else by `service.log_level`.
//! - Traces: the spans of the `mlc_*` crates (webhook receipt, driving an
//!   order, each outside HTTP call) exported by OTLP over HTTP/protobuf to
//!   `{service.otlp_endpoint}/v1/traces`, or where the standard
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//!   say; no endpoint, no traces. Only spans are exported, never log events,
//!   and no span field carries a secret.
//! - Metrics: the global OpenTelemetry meter exports to the Prometheus
//!   registry the gateway serves at `/metrics`.

use std::sync::Mutex;

use mlc_config::LogFormat;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::settings::Settings;

/// The providers to flush and stop at exit.
static PROVIDERS: Mutex<Option<(Option<SdkTracerProvider>, Option<SdkMeterProvider>)>> =
    Mutex::new(None);

/// Sets up logs, traces and metrics for the process. Problems with traces
/// or metrics are logged and leave them off; the service runs regardless.
pub fn init(settings: &Settings) {
    // sqlx reports every PostgreSQL notice at info; keep those for debugging.
    let level = if settings.log_level.contains("sqlx") {
        settings.log_level.clone()
    } else {
        format!("{},sqlx=warn", settings.log_level)
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match settings.log_format {
        LogFormat::Json => fmt.json().with_filter(filter).boxed(),
        LogFormat::Text => fmt.with_filter(filter).boxed(),
    };
    let (tracer_provider, trace_problem) = match tracer_provider(settings) {
        Ok(provider) => (provider, None),
        Err(problem) => (None, Some(problem)),
    };
    let traces = tracer_provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("ml-connector"))
            .with_filter(
                tracing_subscriber::filter::filter_fn(|meta| {
                    meta.is_span()
                        && *meta.level() <= tracing::Level::INFO
                        && (meta.target().starts_with("mlc_")
                            || meta.target().starts_with("ml_connector"))
                })
                // Debug and trace callsites stay off for this layer.
                .with_max_level_hint(tracing::level_filters::LevelFilter::INFO),
            )
    });
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init()
        .is_ok();
    if !installed {
        // A subscriber was set already (a second init in one process).
        return;
    }
    if let Some(problem) = trace_problem {
        tracing::warn!(%problem, "traces are not exported");
    }
    if let Some(provider) = &tracer_provider {
        opentelemetry::global::set_tracer_provider(provider.clone());
        tracing::info!("exporting traces by OTLP");
    }
    let meter_provider = match mlc_gateway::metrics::install() {
        Ok(provider) => Some(provider),
        Err(error) => {
            tracing::warn!(%error, "metrics are not exported");
            None
        }
    };
    *PROVIDERS.lock().unwrap_or_else(|e| e.into_inner()) = Some((tracer_provider, meter_provider));
}

/// Flushes the spans not yet exported and stops the exporters.
pub fn shutdown() {
    let providers = PROVIDERS.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some((tracer, meter)) = providers {
        if let Some(tracer) = tracer {
            if let Err(error) = tracer.shutdown() {
                tracing::warn!(%error, "traces not all exported at exit");
            }
        }
        if let Some(meter) = meter {
            let _ = meter.shutdown();
        }
    }
}

/// The OTLP trace pipeline, when an endpoint is configured: the
/// `service.otlp_endpoint` setting, else the standard environment variables.
fn tracer_provider(settings: &Settings) -> Result<Option<SdkTracerProvider>, String> {
    let configured = settings
        .config
        .service
        .otlp_endpoint
        .as_ref()
        .map(|url| format!("{}/v1/traces", url.as_str().trim_end_matches('/')));
    let from_env = [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()));
    if configured.is_none() && !from_env {
        return Ok(None);
    }
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
    if let Some(endpoint) = configured {
        exporter = exporter.with_endpoint(endpoint);
    }
    let exporter = exporter.build().map_err(|e| e.to_string())?;
    let resource = Resource::builder()
        .with_service_name("ml-connector")
        .build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build(),
    ))
}
