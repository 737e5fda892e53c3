//! The state of one integration instance and the rules that change it.

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{
    IntegrationCommand, IntegrationError, IntegrationEvent, PollCursor, WebhookStatus,
    WebhookSubscription,
};
use crate::model::InstanceId;

/// One configured integration instance. Aggregate id: the instance id.
///
/// Serializes completely (snapshots); maps are ordered so snapshots of equal
/// states are byte-identical.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    instance: Option<InstanceId>,
    config_version: u64,
    config_fingerprint: String,
    pause_reason: Option<String>,
    cursors: BTreeMap<String, PollCursor>,
    webhooks: BTreeMap<String, WebhookSubscription>,
}

impl Integration {
    /// The instance, once configured.
    pub fn instance(&self) -> Option<&InstanceId> {
        self.instance.as_ref()
    }

    /// Whether `Configure` has been recorded.
    pub fn is_configured(&self) -> bool {
        self.instance.is_some()
    }

    /// The configuration version: 0 before the first `Configured`, then 1, 2, ...
    pub fn config_version(&self) -> u64 {
        self.config_version
    }

    /// The fingerprint of the current configuration ("" before configuration).
    pub fn config_fingerprint(&self) -> &str {
        &self.config_fingerprint
    }

    /// Whether the instance is paused.
    pub fn is_paused(&self) -> bool {
        self.pause_reason.is_some()
    }

    /// Why the instance is paused, if it is.
    pub fn pause_reason(&self) -> Option<&str> {
        self.pause_reason.as_deref()
    }

    /// The cursor of a pull source, if the poller has advanced it yet.
    pub fn cursor(&self, source: &str) -> Option<&PollCursor> {
        self.cursors.get(source)
    }

    /// Every poll cursor, by source name.
    pub fn cursors(&self) -> &BTreeMap<String, PollCursor> {
        &self.cursors
    }

    /// The webhook subscription of a topic, if registered.
    pub fn webhook(&self, topic: &str) -> Option<&WebhookSubscription> {
        self.webhooks.get(topic)
    }

    /// Every webhook subscription, by topic.
    pub fn webhooks(&self) -> &BTreeMap<String, WebhookSubscription> {
        &self.webhooks
    }

    /// Decides which events `command` produces, without applying them: the
    /// same decision `handle` makes, for callers that batch many aggregates.
    /// An empty list means the command was a repeat and changes nothing.
    pub fn decide(
        &self,
        command: IntegrationCommand,
    ) -> Result<Vec<IntegrationEvent>, IntegrationError> {
        match command {
            IntegrationCommand::Configure {
                instance,
                fingerprint,
            } => self.configure(instance, fingerprint),
            _ if !self.is_configured() => Err(IntegrationError::NotConfigured),
            IntegrationCommand::Pause { reason } => {
                not_blank("reason", &reason)?;
                // Pausing a paused instance keeps the first reason: it explains the pause.
                Ok(if self.is_paused() {
                    vec![]
                } else {
                    vec![IntegrationEvent::Paused { reason }]
                })
            }
            IntegrationCommand::Resume => Ok(if self.is_paused() {
                vec![IntegrationEvent::Resumed]
            } else {
                vec![]
            }),
            IntegrationCommand::AdvanceCursor { source, cursor } => {
                self.advance_cursor(source, cursor)
            }
            IntegrationCommand::RegisterWebhook {
                topic,
                remote_id,
                delivery_url,
            } => {
                not_blank("topic", &topic)?;
                not_blank("remote_id", &remote_id)?;
                not_blank("delivery_url", &delivery_url)?;
                let unchanged = self.webhooks.get(&topic).is_some_and(|hook| {
                    hook.remote_id == remote_id && hook.delivery_url == delivery_url
                });
                Ok(if unchanged {
                    vec![]
                } else {
                    vec![IntegrationEvent::WebhookRegistered {
                        topic,
                        remote_id,
                        delivery_url,
                    }]
                })
            }
            IntegrationCommand::RecordWebhookHealth {
                topic,
                status,
                consecutive_failures,
                checked_at,
            } => {
                let hook =
                    self.webhooks
                        .get(&topic)
                        .ok_or_else(|| IntegrationError::UnknownWebhook {
                            topic: topic.clone(),
                        })?;
                // Only changes are written, so periodic checks do not grow the stream.
                Ok(if hook.status == status {
                    vec![]
                } else {
                    vec![IntegrationEvent::WebhookStatusChanged {
                        topic,
                        previous: hook.status,
                        status,
                        consecutive_failures,
                        checked_at,
                    }]
                })
            }
        }
    }

    fn configure(
        &self,
        instance: InstanceId,
        fingerprint: String,
    ) -> Result<Vec<IntegrationEvent>, IntegrationError> {
        not_blank("fingerprint", &fingerprint)?;
        if let Some(configured) = &self.instance {
            if *configured != instance {
                return Err(IntegrationError::InstanceMismatch {
                    configured: configured.clone(),
                    requested: instance,
                });
            }
            if self.config_fingerprint == fingerprint {
                return Ok(vec![]);
            }
        }
        Ok(vec![IntegrationEvent::Configured {
            instance,
            version: self.config_version + 1,
            fingerprint,
        }])
    }

    fn advance_cursor(
        &self,
        source: String,
        cursor: PollCursor,
    ) -> Result<Vec<IntegrationEvent>, IntegrationError> {
        not_blank("source", &source)?;
        if let Some(current) = self.cursors.get(&source) {
            if cursor == *current {
                return Ok(vec![]);
            }
            if cursor < *current {
                // Moving back would re-import what was already handled.
                return Err(IntegrationError::CursorBackwards {
                    source_name: source,
                    current: current.clone(),
                    proposed: cursor,
                });
            }
        }
        Ok(vec![IntegrationEvent::CursorAdvanced { source, cursor }])
    }
}

fn not_blank(field: &'static str, value: &str) -> Result<(), IntegrationError> {
    if value.trim().is_empty() {
        Err(IntegrationError::Blank { field })
    } else {
        Ok(())
    }
}

impl Aggregate for Integration {
    const TYPE: &'static str = "integration";
    type Command = IntegrationCommand;
    type Event = IntegrationEvent;
    type Error = IntegrationError;
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
            IntegrationEvent::Configured {
                instance,
                version,
                fingerprint,
            } => {
                self.instance = Some(instance);
                self.config_version = version;
                self.config_fingerprint = fingerprint;
            }
            IntegrationEvent::Paused { reason } => self.pause_reason = Some(reason),
            IntegrationEvent::Resumed => self.pause_reason = None,
            IntegrationEvent::CursorAdvanced { source, cursor } => {
                self.cursors.insert(source, cursor);
            }
            IntegrationEvent::WebhookRegistered {
                topic,
                remote_id,
                delivery_url,
            } => {
                self.webhooks.insert(
                    topic,
                    WebhookSubscription {
                        remote_id,
                        delivery_url,
                        status: WebhookStatus::Active,
                        consecutive_failures: 0,
                        last_checked_at: None,
                    },
                );
            }
            IntegrationEvent::WebhookStatusChanged {
                topic,
                status,
                consecutive_failures,
                checked_at,
                ..
            } => {
                if let Some(hook) = self.webhooks.get_mut(&topic) {
                    hook.status = status;
                    hook.consecutive_failures = consecutive_failures;
                    hook.last_checked_at = Some(checked_at);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use cqrs_es::DomainEvent;

    use super::*;
    use crate::test_fixtures::{at, instance};

    type Framework = TestFramework<Integration>;

    fn configured() -> IntegrationEvent {
        IntegrationEvent::Configured {
            instance: instance(),
            version: 1,
            fingerprint: "fp-1".into(),
        }
    }

    fn cursor_advanced(day: u32, tie_break: &str) -> IntegrationEvent {
        IntegrationEvent::CursorAdvanced {
            source: "orders".into(),
            cursor: PollCursor::new(at(day, 0), tie_break),
        }
    }

    fn advance(day: u32, tie_break: &str) -> IntegrationCommand {
        IntegrationCommand::AdvanceCursor {
            source: "orders".into(),
            cursor: PollCursor::new(at(day, 0), tie_break),
        }
    }

    fn registered(remote_id: &str) -> IntegrationEvent {
        IntegrationEvent::WebhookRegistered {
            topic: "order.created".into(),
            remote_id: remote_id.into(),
            delivery_url: "https://mlc.example.com/hooks/woo-main".into(),
        }
    }

    fn register(remote_id: &str, url: &str) -> IntegrationCommand {
        IntegrationCommand::RegisterWebhook {
            topic: "order.created".into(),
            remote_id: remote_id.into(),
            delivery_url: url.into(),
        }
    }

    fn health(topic: &str, status: WebhookStatus) -> IntegrationCommand {
        IntegrationCommand::RecordWebhookHealth {
            topic: topic.into(),
            status,
            consecutive_failures: 5,
            checked_at: at(3, 12),
        }
    }

    // --- Configure

    #[tokio::test]
    async fn first_configure_is_version_1() {
        Framework::with(())
            .given_no_previous_events()
            .when_async(IntegrationCommand::Configure {
                instance: instance(),
                fingerprint: "fp-1".into(),
            })
            .await
            .then_expect_events(vec![configured()]);
    }

    #[tokio::test]
    async fn new_fingerprint_bumps_the_version() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(IntegrationCommand::Configure {
                instance: instance(),
                fingerprint: "fp-2".into(),
            })
            .await
            .then_expect_events(vec![IntegrationEvent::Configured {
                instance: instance(),
                version: 2,
                fingerprint: "fp-2".into(),
            }]);
    }

    #[tokio::test]
    async fn same_fingerprint_changes_nothing() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(IntegrationCommand::Configure {
                instance: instance(),
                fingerprint: "fp-1".into(),
            })
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn configure_for_another_instance_is_refused() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(IntegrationCommand::Configure {
                instance: InstanceId::new("other").unwrap(),
                fingerprint: "fp-2".into(),
            })
            .await
            .then_expect_error_message("this integration is instance 'woo-main', not 'other'");
    }

    #[tokio::test]
    async fn blank_fingerprint_is_refused() {
        Framework::with(())
            .given_no_previous_events()
            .when_async(IntegrationCommand::Configure {
                instance: instance(),
                fingerprint: " ".into(),
            })
            .await
            .then_expect_error_message("fingerprint must not be blank");
    }

    #[tokio::test]
    async fn every_other_command_needs_configuration_first() {
        let commands = vec![
            IntegrationCommand::Pause { reason: "x".into() },
            IntegrationCommand::Resume,
            advance(1, "1"),
            register("1", "https://x.example.com"),
            health("order.created", WebhookStatus::Active),
        ];
        for command in commands {
            Framework::with(())
                .given_no_previous_events()
                .when_async(command)
                .await
                .then_expect_error_message(
                    "integration instance is not configured yet; configure it first",
                );
        }
    }

    // --- Pause / Resume

    #[tokio::test]
    async fn pause_records_the_reason() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(IntegrationCommand::Pause {
                reason: "ERP upgrade".into(),
            })
            .await
            .then_expect_events(vec![IntegrationEvent::Paused {
                reason: "ERP upgrade".into(),
            }]);
    }

    #[tokio::test]
    async fn pausing_a_paused_instance_changes_nothing() {
        Framework::with(())
            .given(vec![
                configured(),
                IntegrationEvent::Paused {
                    reason: "ERP upgrade".into(),
                },
            ])
            .when_async(IntegrationCommand::Pause {
                reason: "again".into(),
            })
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn pause_needs_a_reason() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(IntegrationCommand::Pause { reason: "".into() })
            .await
            .then_expect_error_message("reason must not be blank");
    }

    #[tokio::test]
    async fn resume_a_paused_instance() {
        Framework::with(())
            .given(vec![
                configured(),
                IntegrationEvent::Paused {
                    reason: "ERP upgrade".into(),
                },
            ])
            .when_async(IntegrationCommand::Resume)
            .await
            .then_expect_events(vec![IntegrationEvent::Resumed]);
    }

    #[tokio::test]
    async fn resuming_a_running_instance_changes_nothing() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(IntegrationCommand::Resume)
            .await
            .then_expect_events(vec![]);
    }

    // --- AdvanceCursor

    #[tokio::test]
    async fn first_cursor_is_recorded() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(advance(2, "17"))
            .await
            .then_expect_events(vec![cursor_advanced(2, "17")]);
    }

    #[tokio::test]
    async fn cursor_moves_forward_by_tie_break_at_the_same_time() {
        Framework::with(())
            .given(vec![configured(), cursor_advanced(2, "9")])
            .when_async(advance(2, "17"))
            .await
            .then_expect_events(vec![cursor_advanced(2, "17")]);
    }

    #[tokio::test]
    async fn same_cursor_changes_nothing() {
        Framework::with(())
            .given(vec![configured(), cursor_advanced(2, "17")])
            .when_async(advance(2, "17"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn cursor_never_moves_backwards() {
        Framework::with(())
            .given(vec![configured(), cursor_advanced(2, "17")])
            .when_async(advance(1, "99"))
            .await
            .then_expect_error_message(
                "cursor for source 'orders' would move backwards from \
                 2026-01-02T00:00:00Z/17 to 2026-01-01T00:00:00Z/99",
            );
        Framework::with(())
            .given(vec![configured(), cursor_advanced(2, "17")])
            .when_async(advance(2, "9"))
            .await
            .then_expect_error_message(
                "cursor for source 'orders' would move backwards from \
                 2026-01-02T00:00:00Z/17 to 2026-01-02T00:00:00Z/9",
            );
    }

    #[tokio::test]
    async fn cursors_of_other_sources_are_independent() {
        Framework::with(())
            .given(vec![configured(), cursor_advanced(2, "17")])
            .when_async(IntegrationCommand::AdvanceCursor {
                source: "stock".into(),
                cursor: PollCursor::new(at(1, 0), "1"),
            })
            .await
            .then_expect_events(vec![IntegrationEvent::CursorAdvanced {
                source: "stock".into(),
                cursor: PollCursor::new(at(1, 0), "1"),
            }]);
    }

    #[tokio::test]
    async fn cursor_needs_a_source_name() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(IntegrationCommand::AdvanceCursor {
                source: "".into(),
                cursor: PollCursor::new(at(1, 0), "1"),
            })
            .await
            .then_expect_error_message("source must not be blank");
    }

    // --- RegisterWebhook

    #[tokio::test]
    async fn register_a_webhook() {
        Framework::with(())
            .given(vec![configured()])
            .when_async(register("12", "https://mlc.example.com/hooks/woo-main"))
            .await
            .then_expect_events(vec![registered("12")]);
    }

    #[tokio::test]
    async fn registering_the_same_webhook_again_changes_nothing() {
        Framework::with(())
            .given(vec![configured(), registered("12")])
            .when_async(register("12", "https://mlc.example.com/hooks/woo-main"))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn re_registering_with_a_new_remote_id_is_recorded() {
        Framework::with(())
            .given(vec![configured(), registered("12")])
            .when_async(register("13", "https://mlc.example.com/hooks/woo-main"))
            .await
            .then_expect_events(vec![registered("13")]);
    }

    #[tokio::test]
    async fn register_needs_every_field() {
        for (command, field) in [
            (register("", "https://x.example.com"), "remote_id"),
            (register("1", " "), "delivery_url"),
            (
                IntegrationCommand::RegisterWebhook {
                    topic: "".into(),
                    remote_id: "1".into(),
                    delivery_url: "https://x.example.com".into(),
                },
                "topic",
            ),
        ] {
            Framework::with(())
                .given(vec![configured()])
                .when_async(command)
                .await
                .then_expect_error_message(&format!("{field} must not be blank"));
        }
    }

    // --- RecordWebhookHealth

    #[tokio::test]
    async fn a_status_change_is_recorded() {
        Framework::with(())
            .given(vec![configured(), registered("12")])
            .when_async(health("order.created", WebhookStatus::Disabled))
            .await
            .then_expect_events(vec![IntegrationEvent::WebhookStatusChanged {
                topic: "order.created".into(),
                previous: WebhookStatus::Active,
                status: WebhookStatus::Disabled,
                consecutive_failures: 5,
                checked_at: at(3, 12),
            }]);
    }

    #[tokio::test]
    async fn an_unchanged_status_writes_nothing() {
        Framework::with(())
            .given(vec![configured(), registered("12")])
            .when_async(health("order.created", WebhookStatus::Active))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn health_of_an_unknown_topic_is_refused() {
        Framework::with(())
            .given(vec![configured(), registered("12")])
            .when_async(health("order.deleted", WebhookStatus::Active))
            .await
            .then_expect_error_message("no webhook is registered for topic 'order.deleted'");
    }

    // --- State and snapshots

    fn replay(events: Vec<IntegrationEvent>) -> Integration {
        let mut integration = Integration::default();
        for event in events {
            integration.apply(event);
        }
        integration
    }

    #[test]
    fn state_follows_the_events() {
        let integration = replay(vec![
            configured(),
            IntegrationEvent::Paused {
                reason: "upgrade".into(),
            },
            cursor_advanced(2, "17"),
            registered("12"),
            IntegrationEvent::WebhookStatusChanged {
                topic: "order.created".into(),
                previous: WebhookStatus::Active,
                status: WebhookStatus::Disabled,
                consecutive_failures: 5,
                checked_at: at(3, 12),
            },
        ]);
        assert_eq!(integration.instance(), Some(&instance()));
        assert!(integration.is_configured());
        assert_eq!(integration.config_version(), 1);
        assert_eq!(integration.config_fingerprint(), "fp-1");
        assert!(integration.is_paused());
        assert_eq!(integration.pause_reason(), Some("upgrade"));
        assert_eq!(
            integration.cursor("orders"),
            Some(&PollCursor::new(at(2, 0), "17"))
        );
        let hook = integration.webhook("order.created").unwrap();
        assert_eq!(hook.remote_id, "12");
        assert_eq!(hook.status, WebhookStatus::Disabled);
        assert_eq!(hook.consecutive_failures, 5);
        assert_eq!(hook.last_checked_at, Some(at(3, 12)));
        assert_eq!(integration.cursors().len(), 1);
        assert_eq!(integration.webhooks().len(), 1);

        let resumed = {
            let mut i = integration.clone();
            i.apply(IntegrationEvent::Resumed);
            i
        };
        assert!(!resumed.is_paused());
        assert_eq!(resumed.pause_reason(), None);
    }

    #[test]
    fn snapshot_round_trips() {
        let integration = replay(vec![
            configured(),
            cursor_advanced(2, "17"),
            registered("12"),
            IntegrationEvent::Paused {
                reason: "upgrade".into(),
            },
        ]);
        let json = serde_json::to_string(&integration).unwrap();
        let back: Integration = serde_json::from_str(&json).unwrap();
        assert_eq!(back, integration);
    }

    #[test]
    fn events_round_trip_and_are_named() {
        let events = vec![
            configured(),
            IntegrationEvent::Paused { reason: "x".into() },
            IntegrationEvent::Resumed,
            cursor_advanced(2, "17"),
            registered("12"),
            IntegrationEvent::WebhookStatusChanged {
                topic: "order.created".into(),
                previous: WebhookStatus::Active,
                status: WebhookStatus::Paused,
                consecutive_failures: 0,
                checked_at: at(3, 12),
            },
        ];
        let names = [
            "Configured",
            "Paused",
            "Resumed",
            "CursorAdvanced",
            "WebhookRegistered",
            "WebhookStatusChanged",
        ];
        for (event, name) in events.into_iter().zip(names) {
            assert_eq!(event.event_type(), name);
            assert_eq!(event.event_version(), "1.0");
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(
                serde_json::from_str::<IntegrationEvent>(&json).unwrap(),
                event
            );
        }
    }

    #[test]
    fn aggregate_type_is_stable() {
        assert_eq!(Integration::TYPE, "integration");
    }
}
