//! Following the event log for orders whose refunds must be fetched.

use std::collections::BTreeSet;
use std::sync::Arc;

use cqrs_es::Aggregate;
use mlc_connectors::Storefront;
use mlc_domain::model::{InstanceId, OrderStatus};
use mlc_domain::order::{OrderCommand, OrderDocument, OrderEvent};
use mlc_store::{CommandBus, EventStore, Handler, HandlerError, StoredEvent};
use serde_json::{json, Value};

/// A subscriber (named by [`super::OrderWorker::refunds_subscriber`]) that,
/// when an order of its instance lists a refund it has not recorded (on
/// receipt of a revision, or once posted), reads the order's refunds from the store and
/// records each new one (`RecordRefund`). The order worker then posts their
/// credit notes. A storefront failure that may pass is retried by the
/// subscription; a permanent one is logged and the event passed over.
pub struct RefundWatcher {
    store: EventStore,
    bus: CommandBus<OrderDocument>,
    instance: InstanceId,
    storefront: Arc<dyn Storefront>,
}

impl RefundWatcher {
    /// A watcher of `instance`'s orders.
    pub fn new(
        store: EventStore,
        bus: CommandBus<OrderDocument>,
        instance: InstanceId,
        storefront: Arc<dyn Storefront>,
    ) -> Self {
        RefundWatcher {
            store,
            bus,
            instance,
            storefront,
        }
    }

    /// The document, and every refund id any delivered version of its order
    /// listed: deliveries with the same modification time can arrive out of
    /// order, so the latest version may list fewer refunds than an earlier one.
    async fn document(&self, id: &str) -> Result<(OrderDocument, BTreeSet<String>), HandlerError> {
        let mut streams = self.store.load_streams(OrderDocument::TYPE, &[id]).await?;
        let mut document = OrderDocument::default();
        let mut listed = BTreeSet::new();
        for event in streams.remove(id).unwrap_or_default() {
            let event = event.payload_as::<OrderEvent>()?;
            if let OrderEvent::OrderReceived { order, .. }
            | OrderEvent::OrderRevised { order, .. }
            | OrderEvent::OrderRevisedAfterPosting { order, .. } = &event
            {
                listed.extend(order.refund_ids.iter().cloned());
            }
            document.apply(event);
        }
        Ok((document, listed))
    }
}

impl Handler for RefundWatcher {
    async fn handle(&mut self, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != OrderDocument::TYPE
            || event.instance() != self.instance.as_str()
            || !matches!(
                event.event_type.as_str(),
                "OrderRevisedAfterPosting" | "OrderRevised" | "PostedToErp"
            )
        {
            return Ok(());
        }
        let (document, listed) = self.document(&event.aggregate_id).await?;
        let Some(order) = document.order() else {
            return Ok(());
        };
        let latest = document.revision_after_posting().unwrap_or(order);
        // The channel lists its refunds' ids on the order: read them only
        // when one is not recorded yet (or a refunded order lists none).
        let unknown = listed.iter().any(|id| document.refund(id).is_none());
        let refunded_unlisted = latest.status == OrderStatus::Refunded
            && listed.is_empty()
            && document.refunds().is_empty();
        if !unknown && !refunded_unlisted {
            return Ok(());
        }
        let refunds = match self.storefront.refunds(&order.source_id).await {
            Ok(refunds) => refunds,
            Err(e) if e.is_retryable() => return Err(Box::new(e)),
            Err(e) => {
                tracing::warn!(document = %event.aggregate_id, error = %e, "refunds cannot be read; passing over");
                return Ok(());
            }
        };
        for refund in refunds {
            if document.refund(&refund.source_id).is_some() {
                continue;
            }
            let Value::Object(metadata) = json!({
                "actor": "order-worker",
                "cause": format!("{} at sequence {}", event.event_type, event.sequence),
                "request": format!("{}: refunds of order {}", self.storefront.system(), order.source_id),
                "response": format!("refund {} of {} {}", refund.source_id, refund.amount.amount, refund.amount.currency),
            }) else {
                unreachable!("a JSON object literal");
            };
            self.bus
                .execute(
                    &event.aggregate_id,
                    OrderCommand::RecordRefund { refund },
                    metadata,
                )
                .await?;
        }
        Ok(())
    }
}
