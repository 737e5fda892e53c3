//! One webhook delivery answered without touching a document.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{DeliveryCommand, DeliveryError, DeliveryEvent};
use crate::model::InstanceId;

/// The instance part of the stream id of a delivery whose instance name is
/// unknown or not a valid instance id. It cannot collide with an instance:
/// instance ids never start with `_`.
pub const UNKNOWN_INSTANCE: &str = "_unknown";

/// The aggregate id of delivery `delivery` (a UUID, as text) received for
/// `instance`: `{instance}/delivery/{delivery}`, with [`UNKNOWN_INSTANCE`]
/// when the instance is `None` (unknown or invalid).
pub fn delivery_stream_id(
    instance: Option<&InstanceId>,
    delivery: impl std::fmt::Display,
) -> String {
    let instance = instance.map_or(UNKNOWN_INSTANCE, InstanceId::as_str);
    format!("{instance}/delivery/{delivery}")
}

/// One webhook delivery that was a ping or was refused. Recorded once; the
/// same command again changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    outcome: Option<DeliveryEvent>,
}

impl WebhookDelivery {
    /// What was recorded, if anything.
    pub fn outcome(&self) -> Option<&DeliveryEvent> {
        self.outcome.as_ref()
    }

    /// Decides which events `command` produces, without applying them. An
    /// empty list means the same outcome is already recorded.
    pub fn decide(&self, command: DeliveryCommand) -> Result<Vec<DeliveryEvent>, DeliveryError> {
        let event = match command {
            DeliveryCommand::RecordPing {
                webhook_id,
                received_at,
            } => DeliveryEvent::PingReceived {
                webhook_id,
                received_at,
            },
            DeliveryCommand::RecordRejection {
                status,
                reason,
                topic,
                size,
                body_sha256,
                received_at,
            } => {
                if !(400..=599).contains(&status) {
                    return Err(DeliveryError::NotAnErrorStatus { status });
                }
                if reason.trim().is_empty() {
                    return Err(DeliveryError::BlankReason);
                }
                DeliveryEvent::DeliveryRejected {
                    status,
                    reason,
                    topic,
                    size,
                    body_sha256,
                    received_at,
                }
            }
        };
        match &self.outcome {
            None => Ok(vec![event]),
            Some(recorded) if *recorded == event => Ok(vec![]),
            Some(_) => Err(DeliveryError::AlreadyRecorded),
        }
    }
}

impl Aggregate for WebhookDelivery {
    const TYPE: &'static str = "webhook_delivery";
    type Command = DeliveryCommand;
    type Event = DeliveryEvent;
    type Error = DeliveryError;
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
        self.outcome = Some(event);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cqrs_es::test::TestFramework;

    use super::*;

    type Given = TestFramework<WebhookDelivery>;

    fn at() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap()
    }

    fn rejection(status: u16, reason: &str) -> DeliveryCommand {
        DeliveryCommand::RecordRejection {
            status,
            reason: reason.into(),
            topic: Some("order.created".into()),
            size: 12,
            body_sha256: "ab".repeat(32),
            received_at: at(),
        }
    }

    fn rejected() -> DeliveryEvent {
        DeliveryEvent::DeliveryRejected {
            status: 401,
            reason: "bad signature".into(),
            topic: Some("order.created".into()),
            size: 12,
            body_sha256: "ab".repeat(32),
            received_at: at(),
        }
    }

    #[test]
    fn a_ping_is_recorded() {
        Given::with(())
            .given_no_previous_events()
            .when(DeliveryCommand::RecordPing {
                webhook_id: 7,
                received_at: at(),
            })
            .then_expect_events(vec![DeliveryEvent::PingReceived {
                webhook_id: 7,
                received_at: at(),
            }]);
    }

    #[test]
    fn a_rejection_is_recorded_once() {
        Given::with(())
            .given_no_previous_events()
            .when(rejection(401, "bad signature"))
            .then_expect_events(vec![rejected()]);
        Given::with(())
            .given(vec![rejected()])
            .when(rejection(401, "bad signature"))
            .then_expect_events(vec![]);
        Given::with(())
            .given(vec![rejected()])
            .when(rejection(400, "malformed"))
            .then_expect_error(DeliveryError::AlreadyRecorded);
    }

    #[test]
    fn a_rejection_needs_an_error_status_and_a_reason() {
        Given::with(())
            .given_no_previous_events()
            .when(rejection(200, "fine"))
            .then_expect_error(DeliveryError::NotAnErrorStatus { status: 200 });
        Given::with(())
            .given_no_previous_events()
            .when(rejection(400, " "))
            .then_expect_error(DeliveryError::BlankReason);
    }

    #[test]
    fn stream_ids_name_the_instance_or_unknown() {
        let instance = InstanceId::new("woo-main").unwrap();
        assert_eq!(
            delivery_stream_id(Some(&instance), "0190-ab"),
            "woo-main/delivery/0190-ab"
        );
        assert_eq!(delivery_stream_id(None, "x"), "_unknown/delivery/x");
        assert!(InstanceId::new(UNKNOWN_INSTANCE).is_err());
    }
}
