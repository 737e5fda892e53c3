//! The periodic check of an instance's webhooks at its store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use mlc_connectors::{ChannelWebhook, ConnectorError, Storefront, WebhookStatus as ChannelStatus};
use mlc_domain::integration::{Integration, IntegrationCommand, WebhookStatus};
use mlc_domain::model::InstanceId;
use mlc_store::EventStore;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::periodic::{self, Step};
use crate::stock::documents::{DocumentError, Documents};

/// The topics an order and customer integration subscribes to.
pub const DEFAULT_TOPICS: [&str; 4] = [
    "order.created",
    "order.updated",
    "customer.created",
    "customer.updated",
];

/// What a [`WebhookHealth`] needs.
#[derive(Clone)]
pub struct WebhookHealthDeps {
    /// The event store.
    pub store: EventStore,
    /// The instance; its `Integration` must be configured.
    pub instance: InstanceId,
    /// The store whose webhooks are checked.
    pub storefront: Arc<dyn Storefront>,
    /// Where the store delivers (our gateway's webhook URL for the instance).
    pub delivery_url: String,
    /// The secret new hooks are signed with; never logged nor recorded.
    pub webhook_secret: SecretString,
    /// The topics to keep subscribed, e.g. [`DEFAULT_TOPICS`].
    pub topics: Vec<String>,
    /// Time between checks.
    pub interval: Duration,
    /// Woken when a hook was re-activated or re-created, so that the
    /// backfill fetches at once what the store did not deliver meanwhile
    /// (e.g. [`OrderBackfillHandle::wake`](crate::backfill::OrderBackfillHandle::wake)).
    pub on_repaired: Option<Arc<Notify>>,
}

/// What one check found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookCheck {
    /// Topics whose hook was missing and was created.
    pub created: Vec<String>,
    /// Topics whose hook was disabled or paused and was re-activated.
    pub reactivated: Vec<String>,
    /// Topics whose hook was active.
    pub healthy: Vec<String>,
}

/// Why a check stopped. What it did before stopping stays done and recorded.
#[derive(Debug, thiserror::Error)]
pub enum WebhookHealthError {
    /// The store refused or did not answer.
    #[error("webhooks of the store: {0}")]
    Storefront(#[from] ConnectorError),
    /// The event store failed or refused.
    #[error(transparent)]
    Document(#[from] DocumentError),
}

/// Keeps an instance's webhooks registered and active.
///
/// Every check lists the store's webhooks first, so a restart never creates
/// a second hook for a topic: a hook with our delivery URL is adopted
/// (recorded with `RegisterWebhook`), one that is disabled or paused is set
/// active again, and only a topic with none gets a new hook. Status changes
/// are recorded with `RecordWebhookHealth`.
pub struct WebhookHealth {
    deps: WebhookHealthDeps,
    integration: Documents<Integration>,
}

/// A running [`WebhookHealth`].
pub struct WebhookHealthHandle {
    task: JoinHandle<()>,
    last: Arc<Mutex<Option<WebhookCheck>>>,
}

impl WebhookHealthHandle {
    /// What the last completed check found.
    pub fn last_check(&self) -> Option<WebhookCheck> {
        self.last.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits until the checker has stopped (after its shutdown token fired).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

impl WebhookHealth {
    /// A checker over `deps`; [`WebhookHealth::check_once`] runs one check.
    pub fn new(deps: WebhookHealthDeps) -> Self {
        Self {
            integration: Documents::new(&deps.store),
            deps,
        }
    }

    /// Checks now and then every `interval` until `shutdown` fires.
    pub fn start(deps: WebhookHealthDeps, shutdown: CancellationToken) -> WebhookHealthHandle {
        let interval = deps.interval;
        let (task, last) = periodic::spawn(Self::new(deps), interval, None, shutdown);
        WebhookHealthHandle { task, last }
    }

    /// One check of every topic.
    pub async fn check_once(&self) -> Result<WebhookCheck, WebhookHealthError> {
        let instance = self.deps.instance.as_str();
        let integration = self.integration.load(instance).await?;
        let mut check = WebhookCheck::default();
        if integration.is_paused() {
            return Ok(check);
        }
        let hooks = self.deps.storefront.webhooks().await?;
        let url = self.deps.delivery_url.as_str();
        for topic in &self.deps.topics {
            let ours: Vec<&ChannelWebhook> = hooks
                .iter()
                .filter(|h| h.topic == *topic && same_url(&h.delivery_url, url))
                .collect();
            if ours.len() > 1 {
                tracing::warn!(%instance, %topic, count = ours.len(), "the store has several hooks for one topic; keeping the first active one");
            }
            let chosen = ours
                .iter()
                .find(|h| h.status == ChannelStatus::Active)
                .or(ours.first());
            match chosen {
                None => {
                    let hook = self
                        .deps
                        .storefront
                        .create_webhook(topic, url, self.deps.webhook_secret.expose_secret())
                        .await?;
                    self.register(topic, &hook.id).await?;
                    tracing::info!(%instance, %topic, remote_id = %hook.id, "webhook created");
                    check.created.push(topic.clone());
                }
                Some(hook) => {
                    self.register(topic, &hook.id).await?;
                    let status = status_of(hook.status);
                    self.record_health(topic, status).await?;
                    if status == WebhookStatus::Active {
                        check.healthy.push(topic.clone());
                        continue;
                    }
                    let activated = self.deps.storefront.activate_webhook(&hook.id).await?;
                    self.record_health(topic, status_of(activated.status))
                        .await?;
                    tracing::info!(%instance, %topic, remote_id = %hook.id, was = %status, "webhook re-activated");
                    check.reactivated.push(topic.clone());
                }
            }
        }
        if !(check.created.is_empty() && check.reactivated.is_empty()) {
            if let Some(notify) = &self.deps.on_repaired {
                notify.notify_one();
            }
        }
        Ok(check)
    }

    async fn register(&self, topic: &str, remote_id: &str) -> Result<(), DocumentError> {
        let command = IntegrationCommand::RegisterWebhook {
            topic: topic.to_owned(),
            remote_id: remote_id.to_owned(),
            delivery_url: self.deps.delivery_url.clone(),
        };
        self.integration
            .execute(self.deps.instance.as_str(), |i| i.decide(command.clone()))
            .await?;
        Ok(())
    }

    async fn record_health(&self, topic: &str, status: WebhookStatus) -> Result<(), DocumentError> {
        let command = IntegrationCommand::RecordWebhookHealth {
            topic: topic.to_owned(),
            status,
            consecutive_failures: 0,
            checked_at: Utc::now(),
        };
        self.integration
            .execute(self.deps.instance.as_str(), |i| i.decide(command.clone()))
            .await?;
        Ok(())
    }
}

fn status_of(status: ChannelStatus) -> WebhookStatus {
    match status {
        ChannelStatus::Active => WebhookStatus::Active,
        ChannelStatus::Paused => WebhookStatus::Paused,
        ChannelStatus::Disabled => WebhookStatus::Disabled,
    }
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl Step for WebhookHealth {
    type Output = WebhookCheck;
    type Error = WebhookHealthError;
    const FAILED: &'static str = "webhook check failed";
    fn instance(&self) -> &InstanceId {
        &self.deps.instance
    }
    fn step(
        &self,
    ) -> impl std::future::Future<Output = Result<WebhookCheck, WebhookHealthError>> + Send {
        self.check_once()
    }
}
