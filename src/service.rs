//! The composition root: every component of the service, built once from the
//! settings and run side by side in one process until the shutdown token
//! fires. `serve` and `demo` both run it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mlc_actors::backfill::{OrderBackfill, OrderBackfillDeps};
use mlc_actors::operator::{InstanceOps, Operator};
use mlc_actors::orders::{OrderWorker, OrderWorkerDeps, RetrySettings};
use mlc_actors::stock::{StockPoller, StockPollerDeps};
use mlc_actors::webhooks::{WebhookHealth, WebhookHealthDeps};
use mlc_config::{ChannelConnection, ErpConnection, InstanceConfig};
use mlc_connectors::sage300::{Sage300, Sage300Settings};
use mlc_connectors::woocommerce::{WooCommerce, WooCommerceSettings};
use mlc_connectors::{Erp, Storefront};
use mlc_domain::customer::CustomerDocument;
use mlc_domain::integration::{Integration, IntegrationCommand};
use mlc_domain::item::ItemDocument;
use mlc_domain::mapping::MappingRules;
use mlc_domain::model::InstanceId;
use mlc_gateway::api::{Connectivity, InstanceConnectors};
use mlc_gateway::webhooks::WebhookIntake;
use mlc_gateway::{Gateway, GatewayState};
use mlc_projections::DocumentsView;
use mlc_projections::EventLog;
use mlc_store::{CommandBus, CommandBusOptions, EventStore, Subscription, SubscriptionOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::settings::Settings;

/// Events between snapshots of an instance's `Integration` aggregate.
const INTEGRATION_SNAPSHOT_EVERY: usize = 50;
/// How long a call to an outside system may take before it counts as lost.
const OUTSIDE_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Webhook topics every WooCommerce instance registers.
const WOOCOMMERCE_TOPICS: [&str; 4] = [
    "order.created",
    "order.updated",
    "customer.created",
    "customer.updated",
];
/// Sage requests in flight at once per instance (the ERP's connection budget).
const ORDER_CONCURRENCY: usize = 16;

/// A running service.
pub struct Service {
    addr: SocketAddr,
    store: EventStore,
    documents: DocumentsView,
    tasks: JoinHandle<anyhow::Result<()>>,
}

/// Where an instance's documents stand, for progress displays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Order documents received.
    pub received: usize,
    /// Posted to the ERP.
    pub posted: usize,
    /// Waiting for a retry.
    pub retrying: usize,
    /// Parked for an operator.
    pub parked: usize,
    /// Order documents still moving (not posted nor parked), plus refunds
    /// waiting for a credit note and customers waiting for a sync.
    pub in_flight: usize,
    /// Refunds waiting for their credit note.
    pub refunds_pending: usize,
}

impl Service {
    /// Opens the store, records each instance's configuration, and starts
    /// the gateway, the projections and every instance's actors.
    pub async fn start(settings: Settings, shutdown: CancellationToken) -> anyhow::Result<Service> {
        let store = settings.open_store().await?;
        tracing::info!(store = store.display_url(), backend = %store.backend(), "event store open");
        configure_instances(&store, &settings).await?;

        let bus_options = CommandBusOptions::default();
        let intake = WebhookIntake::start(
            &store,
            WebhookIntake::registry_from_config(&settings.config),
            bus_options.clone(),
        )?;
        let orders = intake.orders().clone();
        let customers: CommandBus<CustomerDocument> = intake.customers().clone();
        let items: CommandBus<ItemDocument> = CommandBus::start(store.clone(), bus_options);

        let documents = DocumentsView::new(store.clone());
        let event_log = Subscription::new(
            store.clone(),
            EventLog::NAME,
            EventLog,
            SubscriptionOptions::default(),
        );
        // Every read model (documents, audit, failures, health, counters),
        // each fed by its own checkpointed subscription.
        let projections: Vec<_> = mlc_projections::all_with_documents(documents.clone())
            .into_iter()
            .map(|spec| {
                spec.subscription(SubscriptionOptions {
                    poll_interval: Duration::from_millis(200),
                    ..SubscriptionOptions::default()
                })
            })
            .collect();
        let mut subscriptions = vec![event_log.status()];
        subscriptions.extend(projections.iter().map(|p| p.status()));
        let state = GatewayState {
            store: store.clone(),
            subscriptions,
            webhooks: Some(intake),
            operator: Some(Operator::new(
                store.clone(),
                documents.clone(),
                orders.clone(),
                customers.clone(),
                operator_instances(&settings.config)?,
            )),
        };
        // "Check connectivity" pings both sides of each instance.
        let mut connectivity = HashMap::new();
        for (name, instance) in &settings.config.instances {
            connectivity.insert(
                name.clone(),
                InstanceConnectors {
                    erp: erp_connector(instance)?,
                    storefront: storefront_connector(instance)?,
                },
            );
        }
        let gateway = Gateway::bind_with_connectivity(
            settings.listen,
            state,
            Connectivity::new(connectivity),
        )?;
        let addr = gateway.local_addr();
        tracing::info!(listen = %addr, "serving HTTP");
        let public_url = match &settings.config.service.public_url {
            Some(url) => url.to_string(),
            None => format!("http://{addr}/"),
        };

        let mut actors: Vec<JoinHandle<()>> = Vec::new();
        for (name, instance) in &settings.config.instances {
            if instance.paused {
                tracing::info!(instance = %name, "paused: no actors started");
                continue;
            }
            let id = InstanceId::new(name).with_context(|| format!("instance {name}"))?;
            let Some((erp, storefront)) = connectors(instance)? else {
                tracing::warn!(instance = %name, erp = instance.erp_kind().as_str(), channel = instance.channel_kind().as_str(), "this pair has no connectors yet: nothing is synced");
                continue;
            };
            let ChannelConnection::WooCommerce(woo) = &instance.channel else {
                continue;
            };
            let backfill = OrderBackfill::start(
                OrderBackfillDeps {
                    bus: Some(orders.clone()),
                    ..OrderBackfillDeps::new(
                        store.clone(),
                        id.clone(),
                        storefront.clone(),
                        instance.schedules.order_backfill,
                    )
                },
                shutdown.clone(),
            );
            let health = WebhookHealth::start(
                WebhookHealthDeps {
                    store: store.clone(),
                    instance: id.clone(),
                    storefront: storefront.clone(),
                    delivery_url: format!("{public_url}webhooks/{name}"),
                    webhook_secret: woo.webhook_secret.clone(),
                    topics: WOOCOMMERCE_TOPICS.iter().map(|t| t.to_string()).collect(),
                    interval: instance.schedules.webhook_health,
                    on_repaired: Some(backfill.wake()),
                },
                shutdown.clone(),
            );
            let stock = StockPoller::start(
                StockPollerDeps {
                    store: store.clone(),
                    instance: id.clone(),
                    erp: erp.clone(),
                    storefront: storefront.clone(),
                    interval: instance
                        .schedules
                        .stock_poll
                        .min(instance.schedules.price_poll),
                    price_list: instance.mapping.price_list.clone(),
                    locations: instance.mapping.locations.clone(),
                    bus: Some(items.clone()),
                },
                shutdown.clone(),
            );
            let worker = OrderWorker::start(
                OrderWorkerDeps {
                    store: store.clone(),
                    bus: orders.clone(),
                    customers: customers.clone(),
                    documents: documents.clone(),
                    instance: id.clone(),
                    erp,
                    storefront,
                    rules: mapping_rules(instance),
                    retry: RetrySettings {
                        max_attempts: instance.retry.max_attempts,
                        initial_backoff: instance.retry.initial_backoff,
                        max_backoff: instance.retry.max_backoff,
                        jitter: instance.retry.jitter,
                    },
                    concurrency: ORDER_CONCURRENCY,
                    poll_interval: Duration::from_secs(1),
                },
                shutdown.clone(),
            );
            actors.push(tokio::spawn(async move {
                tokio::join!(backfill.join(), health.join(), stock.join(), worker.join());
            }));
            tracing::info!(instance = %name, "instance running");
        }

        let tasks = tokio::spawn(async move {
            let projections =
                futures::future::join_all(projections.into_iter().map(|p| p.run(shutdown.clone())));
            let (http, log, read_models) = tokio::join!(
                gateway.run(shutdown.clone()),
                event_log.run(shutdown.clone()),
                projections,
            );
            for actor in actors {
                let _ = actor.await;
            }
            http?;
            log?;
            for read_model in read_models {
                read_model?;
            }
            Ok(())
        });
        Ok(Service {
            addr,
            store,
            documents,
            tasks,
        })
    }

    /// Where the HTTP server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The event store the service runs on.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Where `instance`'s documents stand.
    pub async fn progress(&self, instance: &str) -> anyhow::Result<Progress> {
        let mut progress = Progress::default();
        for count in self.documents.counts_by_status(instance).await? {
            let n = count.count as usize;
            match (count.kind.as_str(), count.status.as_str()) {
                ("order", status) => {
                    progress.received += n;
                    match status {
                        "posted" => progress.posted += n,
                        "parked" => progress.parked += n,
                        "retry_scheduled" | "failed" => {
                            progress.retrying += n;
                            progress.in_flight += n;
                        }
                        _ => progress.in_flight += n,
                    }
                }
                (_, "received" | "retry_scheduled" | "failed") => progress.in_flight += n,
                _ => {}
            }
        }
        progress.refunds_pending = refunds_pending(&self.store, instance).await? as usize;
        progress.in_flight += progress.refunds_pending;
        Ok(progress)
    }

    /// Waits until every component has stopped (after the shutdown token fired).
    pub async fn wait(self) -> anyhow::Result<()> {
        let result = self.tasks.await.context("the service's tasks panicked")?;
        self.store.close().await;
        result
    }
}

/// An instance's ERP and storefront connectors.
type Connectors = (Arc<dyn Erp>, Arc<dyn Storefront>);

/// The connectors of an instance, or `None` for a pair not built yet.
fn connectors(instance: &InstanceConfig) -> anyhow::Result<Option<Connectors>> {
    let (Some(erp), Some(storefront)) = (erp_connector(instance)?, storefront_connector(instance)?)
    else {
        return Ok(None);
    };
    Ok(Some((erp, storefront)))
}

/// The ERP connector of an instance, or `None` for an ERP not built yet.
pub fn erp_connector(instance: &InstanceConfig) -> anyhow::Result<Option<Arc<dyn Erp>>> {
    Ok(match &instance.erp {
        ErpConnection::Sage300(conn) => Some(Arc::new(Sage300::new(Sage300Settings {
            base_url: conn.base_url.clone(),
            company: conn.company.clone(),
            username: conn.username.clone(),
            password: conn.password.clone(),
            timeout: OUTSIDE_CALL_TIMEOUT,
            reference_field: instance.mapping.reference_field.clone(),
        })?)),
        _ => None,
    })
}

/// The storefront connector of an instance, or `None` for a channel not built yet.
pub fn storefront_connector(
    instance: &InstanceConfig,
) -> anyhow::Result<Option<Arc<dyn Storefront>>> {
    Ok(match &instance.channel {
        ChannelConnection::WooCommerce(conn) => {
            Some(Arc::new(WooCommerce::new(WooCommerceSettings {
                base_url: conn.base_url.clone(),
                consumer_key: conn.consumer_key.clone(),
                consumer_secret: conn.consumer_secret.clone(),
                timeout: OUTSIDE_CALL_TIMEOUT,
            })?))
        }
        _ => None,
    })
}

/// What the operator verbs need of each configured instance (previews build
/// the ERP request with its connector and mapping).
pub fn operator_instances(
    config: &mlc_config::Config,
) -> anyhow::Result<HashMap<String, InstanceOps>> {
    let mut instances = HashMap::new();
    for (name, instance) in &config.instances {
        if let Some(erp) = erp_connector(instance).with_context(|| format!("instance {name}"))? {
            let rules = mapping_rules(instance);
            instances.insert(name.clone(), InstanceOps { erp, rules });
        }
    }
    Ok(instances)
}

/// The domain's mapping rules from an instance's `[mapping]` table.
pub fn mapping_rules(instance: &InstanceConfig) -> MappingRules {
    let m = &instance.mapping;
    MappingRules {
        skus: m.skus.clone(),
        payment_methods: m.payment_methods.clone(),
        shipping_methods: m.shipping_methods.clone(),
        customer_groups: m.customer_groups.clone(),
        default_customer_group: m.default_customer_group.clone(),
        reference_prefix: m.reference_prefix.clone(),
    }
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

/// Refunds of `instance`'s orders still waiting for their credit note.
async fn refunds_pending(store: &EventStore, instance: &str) -> anyhow::Result<i64> {
    const SUM: &str =
        "SELECT CAST(COALESCE(SUM(refunds_pending), 0) AS BIGINT) FROM documents WHERE instance = $1";
    let sum = if let Some(pool) = store.postgres_pool() {
        sqlx::query_scalar(SUM)
            .bind(instance)
            .fetch_one(pool)
            .await?
    } else if let Some(pool) = store.sqlite_pool() {
        sqlx::query_scalar(SUM)
            .bind(instance)
            .fetch_one(pool)
            .await?
    } else {
        0
    };
    Ok(sum)
}
