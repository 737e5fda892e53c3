//! SIGTERM and Ctrl-C, for the commands that run until stopped.

use anyhow::Context;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// SIGTERM and Ctrl-C (SIGINT), caught from the moment this is made.
pub struct Signals {
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    pub fn catch() -> anyhow::Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?,
        })
    }

    /// Waits for either signal.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => tracing::info!("Ctrl-C: stopping"),
            _ = self.terminate.recv() => tracing::info!("SIGTERM: stopping"),
        }
    }

    /// Waits for either signal, then cancels `shutdown`.
    pub async fn stop(mut self, shutdown: CancellationToken) {
        self.recv().await;
        shutdown.cancel();
    }
}
