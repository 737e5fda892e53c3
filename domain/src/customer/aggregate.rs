//! The state of one customer document and the rules that move it.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{CustomerCommand, CustomerDocumentStatus, CustomerError, CustomerEvent};
use crate::model::{Customer, DocumentId, InstanceId};

/// The last failed sync attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFailure {
    /// Which attempt failed.
    pub attempt: u32,
    /// What went wrong.
    pub reason: String,
    /// Whether trying again may succeed.
    pub retryable: bool,
    /// When it failed.
    pub failed_at: DateTime<Utc>,
}

/// One channel customer of one instance, kept in sync with the ERP's
/// customer master. Aggregate id: its [`DocumentId`],
/// `{instance}/customer/{source_id}`. Serializes completely (snapshots).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDocument {
    id: Option<DocumentId>,
    status: Option<CustomerDocumentStatus>,
    customer: Option<Customer>,
    modified_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    content_version: u64,
    erp_customer_id: Option<String>,
    synced_version: u64,
    synced_at: Option<DateTime<Utc>>,
    attempts: u32,
    last_failure: Option<SyncFailure>,
    not_before: Option<DateTime<Utc>>,
    park_reason: Option<String>,
    version: u64,
}

impl CustomerDocument {
    /// The document id, once received.
    pub fn id(&self) -> Option<&DocumentId> {
        self.id.as_ref()
    }

    /// The status, once received.
    pub fn status(&self) -> Option<CustomerDocumentStatus> {
        self.status
    }

    /// The latest profile received.
    pub fn customer(&self) -> Option<&Customer> {
        self.customer.as_ref()
    }

    /// The channel's modification time of the latest profile, if known.
    pub fn modified_at(&self) -> Option<DateTime<Utc>> {
        self.modified_at
    }

    /// When the customer was first received.
    pub fn received_at(&self) -> Option<DateTime<Utc>> {
        self.received_at
    }

    /// The version whose event carried the latest profile: what a sync must send.
    pub fn content_version(&self) -> u64 {
        self.content_version
    }

    /// The ERP customer number, once synced.
    pub fn erp_customer_id(&self) -> Option<&str> {
        self.erp_customer_id.as_deref()
    }

    /// The version of the profile last synced (0 before the first sync).
    pub fn synced_version(&self) -> u64 {
        self.synced_version
    }

    /// When the last sync was accepted.
    pub fn synced_at(&self) -> Option<DateTime<Utc>> {
        self.synced_at
    }

    /// Failed sync attempts since the last success, revision or replay.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last failed attempt since the last success, revision or replay.
    pub fn last_failure(&self) -> Option<&SyncFailure> {
        self.last_failure.as_ref()
    }

    /// When the next attempt is due, while a retry is scheduled.
    pub fn not_before(&self) -> Option<DateTime<Utc>> {
        self.not_before
    }

    /// Why the document is parked, while it is.
    pub fn park_reason(&self) -> Option<&str> {
        self.park_reason.as_deref()
    }

    /// Events applied so far.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Decides which events `command` produces, without applying them. An
    /// empty list means the command was a repeat and changes nothing.
    pub fn decide(&self, command: CustomerCommand) -> Result<Vec<CustomerEvent>, CustomerError> {
        match (command, self.status) {
            (
                CustomerCommand::ReceiveCustomer {
                    instance,
                    customer,
                    modified_at,
                    received_at,
                },
                _,
            ) => self.receive(instance, customer, modified_at, received_at),
            (_, None) => Err(CustomerError::NotReceived),
            (
                CustomerCommand::RecordErpSynced {
                    erp_customer_id,
                    created,
                    synced_version,
                    synced_at,
                },
                Some(_),
            ) => {
                not_blank("erp_customer_id", &erp_customer_id)?;
                if synced_version == 0 || synced_version > self.version {
                    return Err(CustomerError::UnknownVersion {
                        synced_version,
                        version: self.version,
                    });
                }
                if synced_version <= self.synced_version
                    && self.erp_customer_id.as_deref() == Some(erp_customer_id.as_str())
                {
                    return Ok(vec![]);
                }
                // A customer in the ERP is a fact: recorded whatever the status.
                Ok(vec![CustomerEvent::ErpCustomerSynced {
                    erp_customer_id,
                    created,
                    synced_version,
                    synced_at,
                }])
            }
            (
                CustomerCommand::RecordSyncFailed {
                    attempt,
                    reason,
                    retryable,
                    failed_at,
                    max_attempts,
                    not_before,
                },
                Some(status),
            ) => {
                not_blank("reason", &reason)?;
                if attempt == 0 {
                    return Err(CustomerError::InvalidAttempt);
                }
                if attempt <= self.attempts {
                    return Ok(vec![]);
                }
                if !matches!(
                    status,
                    CustomerDocumentStatus::Pending | CustomerDocumentStatus::RetryScheduled
                ) {
                    return Err(CustomerError::InvalidTransition {
                        action: "record a sync failure",
                        status,
                    });
                }
                let expected = self.attempts.saturating_add(1);
                if attempt != expected {
                    return Err(CustomerError::AttemptOutOfOrder {
                        expected,
                        got: attempt,
                    });
                }
                let park = !retryable || attempt >= max_attempts;
                let mut events = vec![CustomerEvent::CustomerSyncFailed {
                    attempt,
                    reason: reason.clone(),
                    retryable,
                    failed_at,
                    not_before: (!park).then_some(not_before),
                }];
                if park {
                    let reason = if retryable {
                        format!("gave up after {attempt} attempts: {reason}")
                    } else {
                        reason
                    };
                    events.push(CustomerEvent::CustomerSyncParked { reason });
                }
                Ok(events)
            }
            (
                CustomerCommand::RequestReplay {
                    requested_by,
                    reason,
                },
                Some(status),
            ) => {
                not_blank("requested_by", &requested_by)?;
                not_blank("reason", &reason)?;
                match status {
                    CustomerDocumentStatus::Parked | CustomerDocumentStatus::RetryScheduled => {
                        Ok(vec![CustomerEvent::CustomerReplayRequested {
                            requested_by,
                            reason,
                        }])
                    }
                    _ => Err(CustomerError::InvalidTransition {
                        action: "request a replay",
                        status,
                    }),
                }
            }
        }
    }

    fn receive(
        &self,
        instance: InstanceId,
        customer: Box<Customer>,
        modified_at: Option<DateTime<Utc>>,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        let source_id = customer
            .source_id
            .clone()
            .ok_or(CustomerError::NoSourceId)?;
        let delivered =
            DocumentId::customer(instance, source_id).map_err(CustomerError::InvalidCustomerId)?;
        let (Some(existing), Some(current)) = (&self.id, &self.customer) else {
            return Ok(vec![CustomerEvent::CustomerReceived {
                id: delivered,
                customer,
                modified_at,
                received_at,
            }]);
        };
        if *existing != delivered {
            return Err(CustomerError::DocumentMismatch {
                existing: existing.clone(),
                delivered,
            });
        }
        let older = matches!((modified_at, self.modified_at), (Some(new), Some(old)) if new < old);
        let repeat = modified_at == self.modified_at && *customer == *current;
        if older || repeat {
            return Ok(vec![]);
        }
        Ok(vec![CustomerEvent::CustomerRevised {
            customer,
            modified_at,
            received_at,
        }])
    }

    fn reset_attempts(&mut self) {
        self.attempts = 0;
        self.last_failure = None;
        self.not_before = None;
        self.park_reason = None;
    }
}

fn not_blank(field: &'static str, value: &str) -> Result<(), CustomerError> {
    if value.trim().is_empty() {
        Err(CustomerError::Blank { field })
    } else {
        Ok(())
    }
}

impl Aggregate for CustomerDocument {
    const TYPE: &'static str = "customer_document";
    type Command = CustomerCommand;
    type Event = CustomerEvent;
    type Error = CustomerError;
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
        self.version += 1;
        match event {
            CustomerEvent::CustomerReceived {
                id,
                customer,
                modified_at,
                received_at,
            } => {
                self.id = Some(id);
                self.customer = Some(*customer);
                self.modified_at = modified_at;
                self.received_at = Some(received_at);
                self.content_version = self.version;
                self.status = Some(CustomerDocumentStatus::Pending);
            }
            CustomerEvent::CustomerRevised {
                customer,
                modified_at,
                ..
            } => {
                self.customer = Some(*customer);
                self.modified_at = modified_at;
                self.content_version = self.version;
                self.reset_attempts();
                self.status = Some(CustomerDocumentStatus::Pending);
            }
            CustomerEvent::ErpCustomerSynced {
                erp_customer_id,
                synced_version,
                synced_at,
                ..
            } => {
                self.erp_customer_id = Some(erp_customer_id);
                self.synced_version = self.synced_version.max(synced_version);
                self.synced_at = Some(synced_at);
                self.reset_attempts();
                self.status = Some(if self.synced_version >= self.content_version {
                    CustomerDocumentStatus::Synced
                } else {
                    CustomerDocumentStatus::Pending
                });
            }
            CustomerEvent::CustomerSyncFailed {
                attempt,
                reason,
                retryable,
                failed_at,
                not_before,
            } => {
                self.attempts = attempt;
                self.last_failure = Some(SyncFailure {
                    attempt,
                    reason,
                    retryable,
                    failed_at,
                });
                self.not_before = not_before;
                if not_before.is_some() {
                    self.status = Some(CustomerDocumentStatus::RetryScheduled);
                }
            }
            CustomerEvent::CustomerSyncParked { reason } => {
                self.park_reason = Some(reason);
                self.not_before = None;
                self.status = Some(CustomerDocumentStatus::Parked);
            }
            CustomerEvent::CustomerReplayRequested { .. } => {
                self.reset_attempts();
                self.status = Some(CustomerDocumentStatus::Pending);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use cqrs_es::DomainEvent;

    use super::*;
    use crate::test_fixtures::{at, instance, sample_order};

    type Framework = TestFramework<CustomerDocument>;

    fn customer() -> Box<Customer> {
        Box::new(sample_order().customer)
    }

    fn renamed() -> Box<Customer> {
        let mut c = customer();
        c.last_name = "Smith".into();
        c
    }

    fn doc_id() -> DocumentId {
        DocumentId::customer(instance(), "77").unwrap()
    }

    fn receive(customer: Box<Customer>, day: u32) -> CustomerCommand {
        CustomerCommand::ReceiveCustomer {
            instance: instance(),
            customer,
            modified_at: Some(at(day, 9)),
            received_at: at(day, 10),
        }
    }

    fn received() -> CustomerEvent {
        CustomerEvent::CustomerReceived {
            id: doc_id(),
            customer: customer(),
            modified_at: Some(at(1, 9)),
            received_at: at(1, 10),
        }
    }

    fn revised(day: u32) -> CustomerEvent {
        CustomerEvent::CustomerRevised {
            customer: renamed(),
            modified_at: Some(at(day, 9)),
            received_at: at(day, 10),
        }
    }

    fn synced(version: u64) -> CustomerEvent {
        CustomerEvent::ErpCustomerSynced {
            erp_customer_id: "W77".into(),
            created: true,
            synced_version: version,
            synced_at: at(2, 8),
        }
    }

    fn record_synced(version: u64) -> CustomerCommand {
        CustomerCommand::RecordErpSynced {
            erp_customer_id: "W77".into(),
            created: true,
            synced_version: version,
            synced_at: at(2, 8),
        }
    }

    fn record_failed(attempt: u32, retryable: bool) -> CustomerCommand {
        CustomerCommand::RecordSyncFailed {
            attempt,
            reason: "ERP busy".into(),
            retryable,
            failed_at: at(2, 8),
            max_attempts: 2,
            not_before: at(2, 9),
        }
    }

    fn failed(attempt: u32, retryable: bool, not_before: Option<DateTime<Utc>>) -> CustomerEvent {
        CustomerEvent::CustomerSyncFailed {
            attempt,
            reason: "ERP busy".into(),
            retryable,
            failed_at: at(2, 8),
            not_before,
        }
    }

    fn state(events: Vec<CustomerEvent>) -> CustomerDocument {
        let mut document = CustomerDocument::default();
        for event in events {
            document.apply(event);
        }
        document
    }

    #[tokio::test]
    async fn first_delivery_creates_the_document() {
        Framework::with(())
            .given_no_previous_events()
            .when_async(receive(customer(), 1))
            .await
            .then_expect_events(vec![received()]);
    }

    #[tokio::test]
    async fn same_profile_again_changes_nothing() {
        Framework::with(())
            .given(vec![received()])
            .when_async(receive(customer(), 1))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn older_delivery_changes_nothing() {
        Framework::with(())
            .given(vec![received(), revised(3)])
            .when_async(receive(customer(), 2))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn changed_profile_revises_the_document() {
        Framework::with(())
            .given(vec![received(), synced(1)])
            .when_async(receive(renamed(), 3))
            .await
            .then_expect_events(vec![revised(3)]);
    }

    #[tokio::test]
    async fn guest_and_other_customers_are_refused() {
        let mut guest = customer();
        guest.source_id = None;
        Framework::with(())
            .given_no_previous_events()
            .when_async(receive(guest, 1))
            .await
            .then_expect_error_message(
                "a customer without a channel id (a guest) has no customer document",
            );
        let mut other = customer();
        other.source_id = Some("78".into());
        Framework::with(())
            .given(vec![received()])
            .when_async(receive(other, 2))
            .await
            .then_expect_error_message(
                "document 'woo-main/customer/77' cannot take a delivery of 'woo-main/customer/78'",
            );
    }

    #[tokio::test]
    async fn sync_is_recorded_once() {
        Framework::with(())
            .given(vec![received()])
            .when_async(record_synced(1))
            .await
            .then_expect_events(vec![synced(1)]);
        Framework::with(())
            .given(vec![received(), synced(1)])
            .when_async(record_synced(1))
            .await
            .then_expect_events(vec![]);
        Framework::with(())
            .given(vec![received()])
            .when_async(record_synced(5))
            .await
            .then_expect_error_message("synced version 5 is beyond the document's version 1");
        Framework::with(())
            .given_no_previous_events()
            .when_async(record_synced(1))
            .await
            .then_expect_error_message("no customer has been received for this document yet");
    }

    #[test]
    fn sync_of_an_older_version_leaves_the_document_pending() {
        let document = state(vec![received(), revised(3), synced(1)]);
        assert_eq!(document.status(), Some(CustomerDocumentStatus::Pending));
        assert_eq!(document.content_version(), 2);
        let document = state(vec![received(), revised(3), synced(2)]);
        assert_eq!(document.status(), Some(CustomerDocumentStatus::Synced));
        assert_eq!(document.erp_customer_id(), Some("W77"));
    }

    #[tokio::test]
    async fn retryable_failure_schedules_the_next_attempt() {
        Framework::with(())
            .given(vec![received()])
            .when_async(record_failed(1, true))
            .await
            .then_expect_events(vec![failed(1, true, Some(at(2, 9)))]);
        Framework::with(())
            .given(vec![received(), failed(1, true, Some(at(2, 9)))])
            .when_async(record_failed(1, true))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn permanent_or_last_failure_parks() {
        Framework::with(())
            .given(vec![received()])
            .when_async(record_failed(1, false))
            .await
            .then_expect_events(vec![
                failed(1, false, None),
                CustomerEvent::CustomerSyncParked {
                    reason: "ERP busy".into(),
                },
            ]);
        Framework::with(())
            .given(vec![received(), failed(1, true, Some(at(2, 9)))])
            .when_async(record_failed(2, true))
            .await
            .then_expect_events(vec![
                failed(2, true, None),
                CustomerEvent::CustomerSyncParked {
                    reason: "gave up after 2 attempts: ERP busy".into(),
                },
            ]);
    }

    #[tokio::test]
    async fn failure_when_synced_or_out_of_order_is_refused() {
        Framework::with(())
            .given(vec![received(), synced(1)])
            .when_async(record_failed(1, true))
            .await
            .then_expect_error_message(
                "cannot record a sync failure while the customer document is synced",
            );
        Framework::with(())
            .given(vec![received()])
            .when_async(record_failed(2, true))
            .await
            .then_expect_error_message("attempt 2 is out of order: the next attempt is 1");
    }

    #[tokio::test]
    async fn replay_of_a_parked_document() {
        let parked = CustomerEvent::CustomerSyncParked {
            reason: "bad".into(),
        };
        let replay = || CustomerCommand::RequestReplay {
            requested_by: "ops".into(),
            reason: "fixed".into(),
        };
        Framework::with(())
            .given(vec![received(), failed(1, false, None), parked])
            .when_async(replay())
            .await
            .then_expect_events(vec![CustomerEvent::CustomerReplayRequested {
                requested_by: "ops".into(),
                reason: "fixed".into(),
            }]);
        Framework::with(())
            .given(vec![received()])
            .when_async(replay())
            .await
            .then_expect_error_message(
                "cannot request a replay while the customer document is pending",
            );
    }

    #[test]
    fn state_follows_a_story_and_round_trips() {
        let document = state(vec![
            received(),
            failed(1, true, Some(at(2, 9))),
            synced(1),
            revised(3),
        ]);
        assert_eq!(document.id(), Some(&doc_id()));
        assert_eq!(document.status(), Some(CustomerDocumentStatus::Pending));
        assert_eq!(document.attempts(), 0);
        assert_eq!(document.customer().unwrap().last_name, "Smith");
        assert_eq!(document.version(), 4);
        let json = serde_json::to_string(&document).unwrap();
        assert_eq!(
            serde_json::from_str::<CustomerDocument>(&json).unwrap(),
            document
        );
        for event in [received(), revised(2), synced(1), failed(1, true, None)] {
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<CustomerEvent>(&json).unwrap(), event);
            assert!(!event.event_type().is_empty());
        }
        assert_eq!(CustomerDocument::TYPE, "customer_document");
    }
}
