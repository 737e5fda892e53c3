//! The state of one item of one instance and the rules that change it.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{ItemCommand, ItemError, ItemEvent};
use crate::mapping::ErpItemState;
use crate::model::{DocumentId, InstanceId, Sku};

/// One item of one instance: what the ERP last said about it and what the
/// channel last received. Aggregate id: `{instance}/item/{sku}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDocument {
    id: Option<DocumentId>,
    observed: Option<ObservedItem>,
    pushed: Option<PushedItem>,
    not_in_channel: bool,
    last_failure: Option<String>,
}

/// The item as the ERP last described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedItem {
    /// The ERP item number (the SKU).
    pub sku: String,
    /// The description.
    pub description: String,
    /// Price on the configured price list, if synced.
    pub price: Option<Decimal>,
    /// Quantity available, if synced.
    pub quantity_available: Option<Decimal>,
    /// The ERP's `DateLastMaintained`.
    pub last_maintained: NaiveDate,
    /// When the poll read it.
    pub observed_at: DateTime<Utc>,
}

/// What the channel's product last received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedItem {
    /// The price it carries.
    pub price: Option<Decimal>,
    /// The stock quantity it carries.
    pub stock_quantity: Option<Decimal>,
    /// The channel's product id.
    pub product_id: String,
    /// When.
    pub pushed_at: DateTime<Utc>,
}

impl ItemDocument {
    /// The aggregate id of `sku`'s document in `instance`.
    pub fn id_of(instance: &InstanceId, sku: &str) -> Result<DocumentId, ItemError> {
        let sku = Sku::new(sku)?;
        Ok(DocumentId::item(instance.clone(), sku.as_str())?)
    }

    /// The document's id, once observed.
    pub fn id(&self) -> Option<&DocumentId> {
        self.id.as_ref()
    }

    /// The last ERP observation.
    pub fn observed(&self) -> Option<&ObservedItem> {
        self.observed.as_ref()
    }

    /// The last successful push.
    pub fn pushed(&self) -> Option<&PushedItem> {
        self.pushed.as_ref()
    }

    /// Whether the channel was found to have no product with this SKU since
    /// the item last changed.
    pub fn is_not_in_channel(&self) -> bool {
        self.not_in_channel
    }

    /// Why the last push failed, if it did and nothing succeeded since.
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    /// Whether the channel should receive the last observed price or stock:
    /// they differ from what was last pushed (or nothing was), and the
    /// channel is not known to lack the product.
    pub fn pending_push(&self) -> bool {
        let Some(observed) = &self.observed else {
            return false;
        };
        if self.not_in_channel {
            return false;
        }
        match &self.pushed {
            None => true,
            Some(pushed) => {
                pushed.price != observed.price
                    || pushed.stock_quantity != observed.quantity_available
            }
        }
    }

    /// Decides which events `command` produces, without applying them. An
    /// empty list means the command changes nothing.
    pub fn decide(&self, command: ItemCommand) -> Result<Vec<ItemEvent>, ItemError> {
        match command {
            ItemCommand::ObserveErpItem {
                instance,
                state,
                observed_at,
            } => self.observe(&instance, state, observed_at),
            ItemCommand::RecordPushed {
                price,
                stock_quantity,
                product_id,
                pushed_at,
            } => {
                self.observed.as_ref().ok_or(ItemError::NotObserved)?;
                not_blank("product_id", &product_id)?;
                let same = self.pushed.as_ref().is_some_and(|p| {
                    p.price == price
                        && p.stock_quantity == stock_quantity
                        && p.product_id == product_id
                });
                Ok(
                    if same && !self.not_in_channel && self.last_failure.is_none() {
                        vec![]
                    } else {
                        vec![ItemEvent::PushedToChannel {
                            price,
                            stock_quantity,
                            product_id,
                            pushed_at,
                        }]
                    },
                )
            }
            ItemCommand::RecordPushFailed {
                reason,
                retryable,
                failed_at,
            } => {
                self.observed.as_ref().ok_or(ItemError::NotObserved)?;
                not_blank("reason", &reason)?;
                // The same failure again on the next poll is not news.
                Ok(if self.last_failure.as_deref() == Some(reason.as_str()) {
                    vec![]
                } else {
                    vec![ItemEvent::PushFailed {
                        reason,
                        retryable,
                        failed_at,
                    }]
                })
            }
            ItemCommand::RecordNotInChannel { sku, checked_at } => {
                self.observed.as_ref().ok_or(ItemError::NotObserved)?;
                not_blank("sku", &sku)?;
                Ok(if self.not_in_channel {
                    vec![]
                } else {
                    vec![ItemEvent::NotInChannel { sku, checked_at }]
                })
            }
        }
    }

    fn observe(
        &self,
        instance: &InstanceId,
        state: ErpItemState,
        observed_at: DateTime<Utc>,
    ) -> Result<Vec<ItemEvent>, ItemError> {
        let id = Self::id_of(instance, &state.item_number)?;
        if let Some(current) = &self.id {
            if *current != id {
                return Err(ItemError::WrongDocument {
                    current: current.clone(),
                    requested: id,
                });
            }
        }
        let unchanged = self.observed.as_ref().is_some_and(|o| {
            o.price == state.price
                && o.quantity_available == state.quantity_available
                && o.description == state.description
        });
        if unchanged {
            return Ok(vec![]);
        }
        Ok(vec![ItemEvent::ErpItemChanged {
            sku: id.source_id().to_owned(),
            id,
            description: state.description,
            price: state.price,
            quantity_available: state.quantity_available,
            last_maintained: state.last_maintained,
            observed_at,
        }])
    }
}

fn not_blank(field: &'static str, value: &str) -> Result<(), ItemError> {
    if value.trim().is_empty() {
        Err(ItemError::Blank { field })
    } else {
        Ok(())
    }
}

impl Aggregate for ItemDocument {
    const TYPE: &'static str = "item_document";
    type Command = ItemCommand;
    type Event = ItemEvent;
    type Error = ItemError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ItemEvent::ErpItemChanged {
                id,
                sku,
                description,
                price,
                quantity_available,
                last_maintained,
                observed_at,
            } => {
                self.id = Some(id);
                self.observed = Some(ObservedItem {
                    sku,
                    description,
                    price,
                    quantity_available,
                    last_maintained,
                    observed_at,
                });
                // A changed item is worth another look in the channel.
                self.not_in_channel = false;
            }
            ItemEvent::PushedToChannel {
                price,
                stock_quantity,
                product_id,
                pushed_at,
            } => {
                self.pushed = Some(PushedItem {
                    price,
                    stock_quantity,
                    product_id,
                    pushed_at,
                });
                self.not_in_channel = false;
                self.last_failure = None;
            }
            ItemEvent::PushFailed { reason, .. } => self.last_failure = Some(reason),
            ItemEvent::NotInChannel { .. } => self.not_in_channel = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use cqrs_es::test::TestFramework;
    use cqrs_es::DomainEvent;

    use super::*;
    use crate::test_fixtures::{at, instance};

    type Framework = TestFramework<ItemDocument>;

    const SKU: &str = "A1-100/0";

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn state(price: &str, quantity: &str) -> ErpItemState {
        ErpItemState {
            item_number: SKU.into(),
            description: "Stapler".into(),
            price: Some(dec(price)),
            quantity_available: Some(dec(quantity)),
            last_maintained: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        }
    }

    fn observe(price: &str, quantity: &str) -> ItemCommand {
        ItemCommand::ObserveErpItem {
            instance: instance(),
            state: state(price, quantity),
            observed_at: at(2, 10),
        }
    }

    fn changed(price: &str, quantity: &str) -> ItemEvent {
        ItemEvent::ErpItemChanged {
            id: DocumentId::item(instance(), SKU).unwrap(),
            sku: SKU.into(),
            description: "Stapler".into(),
            price: Some(dec(price)),
            quantity_available: Some(dec(quantity)),
            last_maintained: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            observed_at: at(2, 10),
        }
    }

    fn pushed(price: &str, quantity: &str) -> ItemEvent {
        ItemEvent::PushedToChannel {
            price: Some(dec(price)),
            stock_quantity: Some(dec(quantity)),
            product_id: "17".into(),
            pushed_at: at(2, 11),
        }
    }

    fn record_pushed(price: &str, quantity: &str) -> ItemCommand {
        ItemCommand::RecordPushed {
            price: Some(dec(price)),
            stock_quantity: Some(dec(quantity)),
            product_id: "17".into(),
            pushed_at: at(2, 11),
        }
    }

    fn not_in_channel() -> ItemEvent {
        ItemEvent::NotInChannel {
            sku: SKU.into(),
            checked_at: at(2, 11),
        }
    }

    fn replay(events: Vec<ItemEvent>) -> ItemDocument {
        let mut item = ItemDocument::default();
        for e in events {
            item.apply(e);
        }
        item
    }

    #[tokio::test]
    async fn first_observation_is_always_recorded() {
        Framework::with(())
            .given_no_previous_events()
            .when_async(observe("12.50", "10"))
            .await
            .then_expect_events(vec![changed("12.50", "10")]);
    }

    #[tokio::test]
    async fn same_state_again_records_nothing() {
        // 12.5 and 12.50 are the same price.
        Framework::with(())
            .given(vec![changed("12.50", "10")])
            .when_async(observe("12.5", "10.0"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn a_new_price_quantity_or_description_is_recorded() {
        Framework::with(())
            .given(vec![changed("12.50", "10")])
            .when_async(observe("13.00", "10"))
            .await
            .then_expect_events(vec![changed("13.00", "10")]);
        Framework::with(())
            .given(vec![changed("12.50", "10")])
            .when_async(observe("12.50", "7"))
            .await
            .then_expect_events(vec![changed("12.50", "7")]);
        let mut renamed = state("12.50", "10");
        renamed.description = "Big stapler".into();
        let mut expected = changed("12.50", "10");
        if let ItemEvent::ErpItemChanged { description, .. } = &mut expected {
            *description = "Big stapler".into();
        }
        Framework::with(())
            .given(vec![changed("12.50", "10")])
            .when_async(ItemCommand::ObserveErpItem {
                instance: instance(),
                state: renamed,
                observed_at: at(2, 10),
            })
            .await
            .then_expect_events(vec![expected]);
    }

    #[tokio::test]
    async fn another_item_is_refused() {
        let mut other = state("1", "1");
        other.item_number = "B2".into();
        Framework::with(())
            .given(vec![changed("12.50", "10")])
            .when_async(ItemCommand::ObserveErpItem {
                instance: instance(),
                state: other,
                observed_at: at(2, 10),
            })
            .await
            .then_expect_error_message(
                "this document is woo-main/item/A1-100/0, not woo-main/item/B2",
            );
    }

    #[tokio::test]
    async fn blank_item_number_is_refused() {
        let mut blank = state("1", "1");
        blank.item_number = " ".into();
        let err = ItemDocument::default()
            .decide(ItemCommand::ObserveErpItem {
                instance: instance(),
                state: blank,
                observed_at: at(2, 10),
            })
            .unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
    }

    #[tokio::test]
    async fn push_is_recorded_and_repeats_are_not() {
        Framework::with(())
            .given(vec![changed("12.50", "10")])
            .when_async(record_pushed("12.50", "10"))
            .await
            .then_expect_events(vec![pushed("12.50", "10")]);
        Framework::with(())
            .given(vec![changed("12.50", "10"), pushed("12.50", "10")])
            .when_async(record_pushed("12.50", "10"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn push_before_observation_is_refused() {
        Framework::with(())
            .given_no_previous_events()
            .when_async(record_pushed("1", "1"))
            .await
            .then_expect_error_message("the item has not been observed in the ERP yet");
    }

    #[tokio::test]
    async fn failures_are_recorded_once_each() {
        let fail = || ItemCommand::RecordPushFailed {
            reason: "WooCommerce: 500".into(),
            retryable: true,
            failed_at: at(2, 11),
        };
        let failed = ItemEvent::PushFailed {
            reason: "WooCommerce: 500".into(),
            retryable: true,
            failed_at: at(2, 11),
        };
        Framework::with(())
            .given(vec![changed("12.50", "10")])
            .when_async(fail())
            .await
            .then_expect_events(vec![failed.clone()]);
        Framework::with(())
            .given(vec![changed("12.50", "10"), failed])
            .when_async(fail())
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn not_in_channel_is_recorded_once() {
        let cmd = || ItemCommand::RecordNotInChannel {
            sku: SKU.into(),
            checked_at: at(2, 11),
        };
        Framework::with(())
            .given(vec![changed("12.50", "10")])
            .when_async(cmd())
            .await
            .then_expect_events(vec![not_in_channel()]);
        Framework::with(())
            .given(vec![changed("12.50", "10"), not_in_channel()])
            .when_async(cmd())
            .await
            .then_expect_events(vec![]);
    }

    #[test]
    fn pending_push_follows_observation_and_push() {
        assert!(!ItemDocument::default().pending_push());
        assert!(replay(vec![changed("12.50", "10")]).pending_push());
        assert!(!replay(vec![changed("12.50", "10"), pushed("12.5", "10")]).pending_push());
        assert!(replay(vec![
            changed("12.50", "10"),
            pushed("12.50", "10"),
            changed("13", "10")
        ])
        .pending_push());
        // Missing in the channel: not retried until the item changes again.
        let missing = replay(vec![changed("12.50", "10"), not_in_channel()]);
        assert!(!missing.pending_push());
        assert!(missing.is_not_in_channel());
        assert!(replay(vec![
            changed("12.50", "10"),
            not_in_channel(),
            changed("13", "10")
        ])
        .pending_push());
    }

    #[test]
    fn state_exposes_what_was_recorded() {
        let item = replay(vec![
            changed("12.50", "10"),
            ItemEvent::PushFailed {
                reason: "boom".into(),
                retryable: false,
                failed_at: at(2, 11),
            },
        ]);
        assert_eq!(item.id().unwrap().to_string(), "woo-main/item/A1-100/0");
        assert_eq!(item.observed().unwrap().price, Some(dec("12.50")));
        assert_eq!(item.last_failure(), Some("boom"));
        assert!(item.pushed().is_none());
        let item = replay(vec![
            changed("12.50", "10"),
            ItemEvent::PushFailed {
                reason: "boom".into(),
                retryable: false,
                failed_at: at(2, 11),
            },
            pushed("12.50", "10"),
        ]);
        assert_eq!(item.last_failure(), None);
        assert_eq!(item.pushed().unwrap().product_id, "17");
    }

    #[test]
    fn id_of_keeps_slashes_in_the_sku() {
        let id = ItemDocument::id_of(&instance(), " A1-100/0 ").unwrap();
        assert_eq!(id.to_string(), "woo-main/item/A1-100/0");
        let parsed: DocumentId = id.to_string().parse().unwrap();
        assert_eq!(parsed.source_id(), "A1-100/0");
    }

    #[test]
    fn events_round_trip_and_are_named() {
        let events = vec![
            changed("12.50", "10"),
            pushed("12.50", "10"),
            ItemEvent::PushFailed {
                reason: "x".into(),
                retryable: true,
                failed_at: at(2, 11),
            },
            not_in_channel(),
        ];
        let names = [
            "ErpItemChanged",
            "PushedToChannel",
            "PushFailed",
            "NotInChannel",
        ];
        for (event, name) in events.into_iter().zip(names) {
            assert_eq!(event.event_type(), name);
            assert_eq!(event.event_version(), "1.0");
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<ItemEvent>(&json).unwrap(), event);
        }
        assert_eq!(ItemDocument::TYPE, "item_document");
    }
}
