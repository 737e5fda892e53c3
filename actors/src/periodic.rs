//! The loop every poller runs: a step now, then one after each interval (or
//! wake-up), until shutdown; the last good result is kept for status pages.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mlc_domain::model::InstanceId;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The last good output of a periodic actor, shared with its handle.
pub(crate) type Last<T> = Arc<Mutex<Option<T>>>;

/// One run of a periodic actor.
pub(crate) trait Step: Send + Sync + 'static {
    /// What a good run reports.
    type Output: Send + 'static;
    /// Why a run failed (logged; the next run tries again).
    type Error: std::fmt::Display;
    /// Names the failure in the log, e.g. "stock poll failed".
    const FAILED: &'static str;
    /// The instance, for the log.
    fn instance(&self) -> &InstanceId;
    /// One run.
    fn step(&self) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;
}

/// Runs `actor` now and then every `interval` (or at once when `wake` is
/// notified) until `shutdown`; returns the task and its last good output.
pub(crate) fn spawn<S: Step>(
    actor: S,
    interval: Duration,
    wake: Option<Arc<Notify>>,
    shutdown: CancellationToken,
) -> (JoinHandle<()>, Last<S::Output>) {
    let last = Arc::new(Mutex::new(None));
    let last_in_task = last.clone();
    let task = tokio::spawn(async move {
        let wake = wake.unwrap_or_default();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                result = actor.step() => match result {
                    Ok(output) => {
                        if let Ok(mut last) = last_in_task.lock() {
                            *last = Some(output);
                        }
                    }
                    Err(e) => tracing::warn!(instance = %actor.instance(), error = %e, "{}", S::FAILED),
                },
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(interval) => {}
                _ = wake.notified() => {}
            }
        }
    });
    (task, last)
}
