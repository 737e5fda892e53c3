//! Logs: `tracing` to stderr, as text or JSON lines, filtered by `RUST_LOG`
//! or else by `service.log_level`.

use mlc_config::LogFormat;
use tracing_subscriber::EnvFilter;

use crate::settings::Settings;

pub fn init(settings: &Settings) {
    // sqlx reports every PostgreSQL notice at info; keep those for debugging.
    let level = if settings.log_level.contains("sqlx") {
        settings.log_level.clone()
    } else {
        format!("{},sqlx=warn", settings.log_level)
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
