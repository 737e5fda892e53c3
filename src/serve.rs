//! `ml-connector serve`: every component in one process until SIGTERM or
//! Ctrl-C, then an orderly stop: HTTP requests in flight finish, and each
//! subscriber and actor stops between steps (what it was doing is redone
//! from its checkpoint or the documents' state on the next start).

use tokio_util::sync::CancellationToken;

use crate::service::Service;
use crate::settings::Settings;
use crate::signals::Signals;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    // Signals are caught from here on: one that arrives while starting up
    // stops the service in order too, instead of killing it.
    let signals = Signals::catch()?;
    let shutdown = CancellationToken::new();
    let service = Service::start(settings, shutdown.clone()).await?;
    println!("ml-connector listening on http://{}", service.addr());
    let signals = tokio::spawn(signals.stop(shutdown.clone()));
    let result = service.wait().await;
    signals.abort();
    tracing::info!("stopped");
    result
}
