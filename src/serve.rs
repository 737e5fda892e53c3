//! `ml-connector serve`: every component in one process until SIGTERM or
//! Ctrl-C, then an orderly stop: HTTP requests in flight finish, and each
//! subscriber stops between events (what it was handling is redone from its
//! checkpoint on the next start).

use anyhow::Context;
use mlc_domain::integration::{Integration, IntegrationCommand};
use mlc_domain::model::InstanceId;
use mlc_gateway::{Gateway, GatewayState};
use mlc_projections::EventLog;
use mlc_store::{EventStore, Subscription, SubscriptionOptions};
use tokio_util::sync::CancellationToken;

use crate::settings::Settings;
use crate::signals::Signals;

/// Events between snapshots of an instance's `Integration` aggregate.
const INTEGRATION_SNAPSHOT_EVERY: usize = 50;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    // Signals are caught from here on: one that arrives while starting up
    // stops the service in order too, instead of killing it.
    let signals = Signals::catch()?;
    let store = settings.open_store().await?;
    tracing::info!(store = store.display_url(), backend = %store.backend(), "event store open");
    configure_instances(&store, &settings).await?;

    let shutdown = CancellationToken::new();
    let event_log = Subscription::new(
        store.clone(),
        EventLog::NAME,
        EventLog,
        SubscriptionOptions::default(),
    );
    let state = GatewayState {
        store: store.clone(),
        subscriptions: vec![event_log.status()],
    };
    let gateway = Gateway::bind(settings.listen, state)?;
    tracing::info!(listen = %gateway.local_addr(), "serving HTTP (/healthz, /readyz)");
    println!("ml-connector listening on http://{}", gateway.local_addr());

    let signals = tokio::spawn(signals.stop(shutdown.clone()));
    let (http, log) = tokio::join!(
        gateway.run(shutdown.clone()),
        event_log.run(shutdown.clone())
    );
    signals.abort();
    store.close().await;
    http?;
    log?;
    tracing::info!("stopped");
    Ok(())
}

/// Records each configured instance's configuration in its `Integration`
/// aggregate: a changed configuration is a new version, an unchanged one
/// records nothing.
async fn configure_instances(store: &EventStore, settings: &Settings) -> anyhow::Result<()> {
    let cqrs = store.snapshot_cqrs::<Integration>(vec![], INTEGRATION_SNAPSHOT_EVERY, ());
    for (name, instance) in &settings.config.instances {
        let id = InstanceId::new(name).with_context(|| format!("instance {name}"))?;
        let command = IntegrationCommand::Configure {
            instance: id,
            fingerprint: instance.fingerprint(),
        };
        cqrs.execute(name, command)
            .await
            .with_context(|| format!("cannot record the configuration of instance {name}"))?;
        tracing::info!(instance = %name, erp = instance.erp_kind().as_str(), channel = instance.channel_kind().as_str(), "instance configured");
    }
    Ok(())
}
