//! The state of one order document and the rules that move it.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{OrderCommand, OrderDocumentStatus, OrderError, OrderEvent, StatusHistory};
use crate::model::{DocumentId, InstanceId, Order, Refund};

/// The last failed post attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostFailure {
    /// Which attempt failed.
    pub attempt: u32,
    /// What went wrong.
    pub reason: String,
    /// Whether trying again may succeed.
    pub retryable: bool,
    /// When it failed.
    pub failed_at: DateTime<Utc>,
}

/// The planned next post attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledRetry {
    /// The attempt planned.
    pub attempt: u32,
    /// Not before this time.
    pub not_before: DateTime<Utc>,
}

/// A refund of the order and where its credit note stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    /// The refund as the channel issued it.
    pub refund: Refund,
    /// The ERP credit note number, once posted.
    pub credit_note_number: Option<String>,
    /// When the ERP accepted the credit note, once posted.
    pub posted_at: Option<DateTime<Utc>>,
    /// Credit note attempts that failed.
    pub attempts: u32,
    /// The last failed attempt, if any.
    pub last_failure: Option<PostFailure>,
    /// When the next attempt may be made, after a retryable failure.
    pub not_before: Option<DateTime<Utc>>,
    /// Why the credit note is parked, if it is.
    pub park_reason: Option<String>,
}

impl RefundRecord {
    /// Whether the refund still needs a credit note: not posted and not parked.
    pub fn is_pending(&self) -> bool {
        self.credit_note_number.is_none() && self.park_reason.is_none()
    }
}

/// One order of one instance on its way to the ERP. Aggregate id: its
/// [`DocumentId`], `{instance}/order/{source_id}`.
///
/// Besides the business state it keeps its own version (events applied) and
/// a [`StatusHistory`], so that a rewind can be decided from the state alone.
/// Serializes completely (snapshots).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDocument {
    id: Option<DocumentId>,
    status: Option<OrderDocumentStatus>,
    order: Option<Order>,
    received_at: Option<DateTime<Utc>>,
    revision_after_posting: Option<Order>,
    erp_customer_id: Option<String>,
    erp_document_number: Option<String>,
    posted_at: Option<DateTime<Utc>>,
    attempts: u32,
    last_failure: Option<PostFailure>,
    scheduled_retry: Option<ScheduledRetry>,
    park_reason: Option<String>,
    version: u64,
    history: StatusHistory,
    #[serde(default)]
    refunds: Vec<RefundRecord>,
}

impl OrderDocument {
    /// The document id, once received.
    pub fn id(&self) -> Option<&DocumentId> {
        self.id.as_ref()
    }

    /// The status, once received.
    pub fn status(&self) -> Option<OrderDocumentStatus> {
        self.status
    }

    /// The order to post (or that was posted): the latest version received before posting.
    pub fn order(&self) -> Option<&Order> {
        self.order.as_ref()
    }

    /// When the order was first received.
    pub fn received_at(&self) -> Option<DateTime<Utc>> {
        self.received_at
    }

    /// The latest version of the order received after it was posted, if any;
    /// the ERP document does not reflect it.
    pub fn revision_after_posting(&self) -> Option<&Order> {
        self.revision_after_posting.as_ref()
    }

    /// The ERP customer the order is for, once resolved.
    pub fn erp_customer_id(&self) -> Option<&str> {
        self.erp_customer_id.as_deref()
    }

    /// The ERP document number, once posted.
    pub fn erp_document_number(&self) -> Option<&str> {
        self.erp_document_number.as_deref()
    }

    /// When the ERP accepted the order, once posted.
    pub fn posted_at(&self) -> Option<DateTime<Utc>> {
        self.posted_at
    }

    /// Post attempts finished since receipt (or the last replay or rewind).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last failed attempt since receipt (or the last replay or rewind).
    pub fn last_failure(&self) -> Option<&PostFailure> {
        self.last_failure.as_ref()
    }

    /// The planned next attempt, while the status is `RetryScheduled`.
    pub fn scheduled_retry(&self) -> Option<&ScheduledRetry> {
        self.scheduled_retry.as_ref()
    }

    /// Why the document is parked, while it is.
    pub fn park_reason(&self) -> Option<&str> {
        self.park_reason.as_deref()
    }

    /// Events applied so far; equals the sequence of the last event.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The status after each version.
    pub fn history(&self) -> &StatusHistory {
        &self.history
    }

    /// Every refund recorded, in the order they arrived.
    pub fn refunds(&self) -> &[RefundRecord] {
        &self.refunds
    }

    /// The refund with this `source_id`, if recorded.
    pub fn refund(&self, refund_id: &str) -> Option<&RefundRecord> {
        self.refunds
            .iter()
            .find(|r| r.refund.source_id == refund_id)
    }

    /// Refunds still waiting for a credit note (neither posted nor parked).
    /// Their credit notes are due once the order is posted.
    pub fn pending_refunds(&self) -> impl Iterator<Item = &RefundRecord> {
        self.refunds.iter().filter(|r| r.is_pending())
    }

    /// Decides which events `command` produces, without applying them: the
    /// same decision `handle` makes, for callers that batch many aggregates.
    /// An empty list means the command was a repeat and changes nothing.
    pub fn decide(&self, command: OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        match (command, self.status) {
            (
                OrderCommand::ReceiveOrder {
                    instance,
                    order,
                    received_at,
                },
                _,
            ) => self.receive(instance, order, received_at),
            // Every other command needs the order first.
            (_, None) => Err(OrderError::NotReceived),
            (OrderCommand::MatchCustomer { erp_customer_id }, Some(status)) => self
                .resolve_customer(status, erp_customer_id, "match a customer")
                .map(|id| {
                    id.map(|erp_customer_id| OrderEvent::CustomerMatched { erp_customer_id })
                        .into_iter()
                        .collect()
                }),
            (OrderCommand::CreateCustomer { erp_customer_id }, Some(status)) => self
                .resolve_customer(status, erp_customer_id, "record a created customer")
                .map(|id| {
                    id.map(|erp_customer_id| OrderEvent::CustomerCreated { erp_customer_id })
                        .into_iter()
                        .collect()
                }),
            (
                OrderCommand::RecordPosted {
                    erp_document_number,
                    posted_at,
                    attempt,
                },
                Some(_),
            ) => {
                self.not_posted()?;
                not_blank("erp_document_number", &erp_document_number)?;
                if attempt == 0 {
                    return Err(OrderError::InvalidAttempt);
                }
                // A success is a fact of the ERP: recorded whatever the status, so a
                // park or failure noted meanwhile can never lead to a second posting.
                Ok(vec![OrderEvent::PostedToErp {
                    erp_document_number,
                    posted_at,
                    attempt,
                }])
            }
            (
                OrderCommand::RecordPostFailed {
                    attempt,
                    reason,
                    retryable,
                    failed_at,
                },
                Some(status),
            ) => {
                self.not_posted()?;
                not_blank("reason", &reason)?;
                if attempt == 0 {
                    return Err(OrderError::InvalidAttempt);
                }
                if attempt <= self.attempts {
                    return Ok(vec![]);
                }
                self.next_attempt_is(attempt)?;
                match status {
                    OrderDocumentStatus::CustomerResolved
                    | OrderDocumentStatus::RetryScheduled
                    | OrderDocumentStatus::Failed => Ok(vec![OrderEvent::PostFailed {
                        attempt,
                        reason,
                        retryable,
                        failed_at,
                    }]),
                    _ => Err(OrderError::InvalidTransition {
                        action: "record a post failure",
                        status,
                    }),
                }
            }
            (
                OrderCommand::ScheduleRetry {
                    attempt,
                    not_before,
                },
                Some(status),
            ) => self.schedule_retry(status, attempt, not_before),
            (OrderCommand::Park { reason }, Some(status)) => {
                self.not_posted()?;
                not_blank("reason", &reason)?;
                Ok(if status == OrderDocumentStatus::Parked {
                    vec![]
                } else {
                    vec![OrderEvent::Parked { reason }]
                })
            }
            (
                OrderCommand::RequestReplay {
                    requested_by,
                    reason,
                },
                Some(status),
            ) => {
                self.not_posted()?;
                not_blank("requested_by", &requested_by)?;
                not_blank("reason", &reason)?;
                match status {
                    OrderDocumentStatus::Parked
                    | OrderDocumentStatus::Failed
                    | OrderDocumentStatus::RetryScheduled => {
                        Ok(vec![OrderEvent::ReplayRequested {
                            requested_by,
                            reason,
                        }])
                    }
                    _ => Err(OrderError::InvalidTransition {
                        action: "request a replay",
                        status,
                    }),
                }
            }
            (
                OrderCommand::Rewind {
                    to_sequence,
                    requested_by,
                    reason,
                },
                Some(_),
            ) => self.rewind(to_sequence, requested_by, reason),
            (OrderCommand::RecordRefund { refund }, Some(_)) => self.record_refund(refund),
            (
                OrderCommand::RecordCreditNotePosted {
                    refund_id,
                    erp_document_number,
                    posted_at,
                },
                Some(status),
            ) => {
                not_blank("erp_document_number", &erp_document_number)?;
                let record = self.known_refund(&refund_id)?;
                if let Some(existing) = &record.credit_note_number {
                    return if *existing == erp_document_number {
                        Ok(vec![])
                    } else {
                        Err(OrderError::CreditNoteAlreadyPosted {
                            refund_id,
                            erp_document_number: existing.clone(),
                        })
                    };
                }
                if status != OrderDocumentStatus::Posted {
                    return Err(OrderError::InvalidTransition {
                        action: "record a credit note",
                        status,
                    });
                }
                // Like an order's posting, a credit note in the ERP is a fact:
                // recorded even when the credit note was parked meanwhile.
                Ok(vec![OrderEvent::CreditNotePosted {
                    refund_id,
                    erp_document_number,
                    posted_at,
                }])
            }
            (
                OrderCommand::RecordCreditNoteFailed {
                    refund_id,
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
                    return Err(OrderError::InvalidAttempt);
                }
                let record = self.known_refund(&refund_id)?;
                if let Some(existing) = &record.credit_note_number {
                    return Err(OrderError::CreditNoteAlreadyPosted {
                        refund_id,
                        erp_document_number: existing.clone(),
                    });
                }
                if attempt <= record.attempts {
                    return Ok(vec![]);
                }
                if let Some(park_reason) = &record.park_reason {
                    return Err(OrderError::CreditNoteIsParked {
                        refund_id,
                        reason: park_reason.clone(),
                    });
                }
                let expected = record.attempts.saturating_add(1);
                if attempt != expected {
                    return Err(OrderError::AttemptOutOfOrder {
                        expected,
                        got: attempt,
                    });
                }
                if status != OrderDocumentStatus::Posted {
                    return Err(OrderError::InvalidTransition {
                        action: "record a credit note failure",
                        status,
                    });
                }
                let park = !retryable || attempt >= max_attempts;
                let mut events = vec![OrderEvent::CreditNoteFailed {
                    refund_id: refund_id.clone(),
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
                    events.push(OrderEvent::CreditNoteParked { refund_id, reason });
                }
                Ok(events)
            }
        }
    }

    fn record_refund(&self, refund: Refund) -> Result<Vec<OrderEvent>, OrderError> {
        not_blank("refund source_id", &refund.source_id)?;
        let order = self.order.as_ref().ok_or(OrderError::NotReceived)?;
        if refund.order_source_id != order.source_id {
            return Err(OrderError::RefundOfAnotherOrder {
                refund_id: refund.source_id,
                refund_order: refund.order_source_id,
                order: order.source_id.clone(),
            });
        }
        if self.refund(&refund.source_id).is_some() {
            return Ok(vec![]);
        }
        Ok(vec![OrderEvent::RefundReceived { refund }])
    }

    fn known_refund(&self, refund_id: &str) -> Result<&RefundRecord, OrderError> {
        self.refund(refund_id)
            .ok_or_else(|| OrderError::UnknownRefund {
                refund_id: refund_id.to_owned(),
            })
    }

    fn receive(
        &self,
        instance: InstanceId,
        order: Box<Order>,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let delivered = DocumentId::order(instance, order.source_id.clone())
            .map_err(OrderError::InvalidOrderId)?;
        let (Some(existing), Some(current)) = (&self.id, &self.order) else {
            return Ok(vec![OrderEvent::OrderReceived {
                id: delivered,
                order,
                received_at,
            }]);
        };
        if *existing != delivered {
            return Err(OrderError::DocumentMismatch {
                existing: existing.clone(),
                delivered,
            });
        }
        let latest = self.revision_after_posting.as_ref().unwrap_or(current);
        // Older: it arrived out of order. Same time and content: a duplicate
        // delivery. Same time, other content: a change within the channel's
        // one-second clock (a refund right after the order), so a revision.
        if order.modified_at < latest.modified_at
            || (order.modified_at == latest.modified_at && *order == *latest)
        {
            return Ok(vec![]);
        }
        Ok(vec![if self.erp_document_number.is_some() {
            OrderEvent::OrderRevisedAfterPosting { order, received_at }
        } else {
            OrderEvent::OrderRevised { order, received_at }
        }])
    }

    /// The ERP customer id to record, `None` for a repeat of the recorded one.
    fn resolve_customer(
        &self,
        status: OrderDocumentStatus,
        erp_customer_id: String,
        action: &'static str,
    ) -> Result<Option<String>, OrderError> {
        not_blank("erp_customer_id", &erp_customer_id)?;
        // Received is where customers are resolved, including again after a replay.
        if status == OrderDocumentStatus::Received {
            return Ok(Some(erp_customer_id));
        }
        match &self.erp_customer_id {
            Some(existing) if *existing == erp_customer_id => Ok(None),
            _ if status == OrderDocumentStatus::Posted => Err(self.already_posted()),
            Some(existing) => Err(OrderError::CustomerAlreadyResolved {
                existing: existing.clone(),
                requested: erp_customer_id,
            }),
            None => Err(OrderError::InvalidTransition { action, status }),
        }
    }

    fn schedule_retry(
        &self,
        status: OrderDocumentStatus,
        attempt: u32,
        not_before: DateTime<Utc>,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        self.not_posted()?;
        if attempt == 0 {
            return Err(OrderError::InvalidAttempt);
        }
        let requested = ScheduledRetry {
            attempt,
            not_before,
        };
        if status == OrderDocumentStatus::RetryScheduled
            && self.scheduled_retry.as_ref() == Some(&requested)
        {
            return Ok(vec![]);
        }
        if !matches!(
            status,
            OrderDocumentStatus::Failed | OrderDocumentStatus::RetryScheduled
        ) {
            return Err(OrderError::InvalidTransition {
                action: "schedule a retry",
                status,
            });
        }
        self.next_attempt_is(attempt)?;
        match &self.last_failure {
            Some(failure) if failure.retryable => Ok(vec![OrderEvent::RetryScheduled {
                attempt,
                not_before,
            }]),
            Some(failure) => Err(OrderError::NotRetryable {
                reason: failure.reason.clone(),
            }),
            None => Err(OrderError::InvalidTransition {
                action: "schedule a retry",
                status,
            }),
        }
    }

    fn rewind(
        &self,
        to_sequence: u64,
        requested_by: String,
        reason: String,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        // Rewinding a posted order would re-drive it into a second posting.
        self.not_posted()?;
        not_blank("requested_by", &requested_by)?;
        not_blank("reason", &reason)?;
        let invalid = OrderError::InvalidRewindTarget {
            to_sequence,
            version: self.version,
        };
        if to_sequence < 1 || to_sequence >= self.version {
            return Err(invalid);
        }
        let restored_status = self.history.rewind_target_at(to_sequence).ok_or(invalid)?;
        Ok(vec![OrderEvent::Rewound {
            to_sequence,
            from_sequence: self.version,
            restored_status,
            requested_by,
            reason,
        }])
    }

    fn next_attempt_is(&self, attempt: u32) -> Result<(), OrderError> {
        let expected = self.attempts.saturating_add(1);
        if attempt == expected {
            Ok(())
        } else {
            Err(OrderError::AttemptOutOfOrder {
                expected,
                got: attempt,
            })
        }
    }

    fn not_posted(&self) -> Result<(), OrderError> {
        if self.erp_document_number.is_some() {
            Err(self.already_posted())
        } else {
            Ok(())
        }
    }

    fn already_posted(&self) -> OrderError {
        OrderError::AlreadyPosted {
            erp_document_number: self.erp_document_number.clone().unwrap_or_default(),
        }
    }

    /// Back to a point to drive from: nothing of the previous attempts carries over.
    fn reset_attempts(&mut self) {
        self.attempts = 0;
        self.last_failure = None;
        self.scheduled_retry = None;
        self.park_reason = None;
    }

    fn refund_mut(&mut self, refund_id: &str) -> Option<&mut RefundRecord> {
        self.refunds
            .iter_mut()
            .find(|r| r.refund.source_id == refund_id)
    }
}

fn not_blank(field: &'static str, value: &str) -> Result<(), OrderError> {
    if value.trim().is_empty() {
        Err(OrderError::Blank { field })
    } else {
        Ok(())
    }
}

impl Aggregate for OrderDocument {
    const TYPE: &'static str = "order_document";
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;
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
            OrderEvent::OrderReceived {
                id,
                order,
                received_at,
            } => {
                self.id = Some(id);
                self.order = Some(*order);
                self.received_at = Some(received_at);
                self.status = Some(OrderDocumentStatus::Received);
            }
            OrderEvent::OrderRevised { order, .. } => self.order = Some(*order),
            OrderEvent::OrderRevisedAfterPosting { order, .. } => {
                self.revision_after_posting = Some(*order);
            }
            OrderEvent::CustomerMatched { erp_customer_id }
            | OrderEvent::CustomerCreated { erp_customer_id } => {
                self.erp_customer_id = Some(erp_customer_id);
                self.status = Some(OrderDocumentStatus::CustomerResolved);
            }
            OrderEvent::PostedToErp {
                erp_document_number,
                posted_at,
                attempt,
            } => {
                self.erp_document_number = Some(erp_document_number);
                self.posted_at = Some(posted_at);
                self.attempts = attempt;
                self.scheduled_retry = None;
                self.park_reason = None;
                self.status = Some(OrderDocumentStatus::Posted);
            }
            OrderEvent::PostFailed {
                attempt,
                reason,
                retryable,
                failed_at,
            } => {
                self.attempts = attempt;
                self.last_failure = Some(PostFailure {
                    attempt,
                    reason,
                    retryable,
                    failed_at,
                });
                self.scheduled_retry = None;
                self.status = Some(OrderDocumentStatus::Failed);
            }
            OrderEvent::RetryScheduled {
                attempt,
                not_before,
            } => {
                self.scheduled_retry = Some(ScheduledRetry {
                    attempt,
                    not_before,
                });
                self.status = Some(OrderDocumentStatus::RetryScheduled);
            }
            OrderEvent::Parked { reason } => {
                self.park_reason = Some(reason);
                self.scheduled_retry = None;
                self.status = Some(OrderDocumentStatus::Parked);
            }
            OrderEvent::ReplayRequested { .. } => {
                self.reset_attempts();
                self.status = Some(OrderDocumentStatus::Received);
            }
            OrderEvent::Rewound {
                restored_status, ..
            } => {
                self.reset_attempts();
                self.status = Some(restored_status);
            }
            OrderEvent::RefundReceived { refund } => self.refunds.push(RefundRecord {
                refund,
                credit_note_number: None,
                posted_at: None,
                attempts: 0,
                last_failure: None,
                not_before: None,
                park_reason: None,
            }),
            OrderEvent::CreditNotePosted {
                refund_id,
                erp_document_number,
                posted_at,
            } => {
                if let Some(record) = self.refund_mut(&refund_id) {
                    record.credit_note_number = Some(erp_document_number);
                    record.posted_at = Some(posted_at);
                    record.not_before = None;
                    record.park_reason = None;
                }
            }
            OrderEvent::CreditNoteFailed {
                refund_id,
                attempt,
                reason,
                retryable,
                failed_at,
                not_before,
            } => {
                if let Some(record) = self.refund_mut(&refund_id) {
                    record.attempts = attempt;
                    record.last_failure = Some(PostFailure {
                        attempt,
                        reason,
                        retryable,
                        failed_at,
                    });
                    record.not_before = not_before;
                }
            }
            OrderEvent::CreditNoteParked { refund_id, reason } => {
                if let Some(record) = self.refund_mut(&refund_id) {
                    record.park_reason = Some(reason);
                    record.not_before = None;
                }
            }
        }
        if let Some(status) = self.status {
            self.history.record(self.version, status);
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use cqrs_es::DomainEvent;

    use super::*;
    use crate::model::DocumentKind;
    use crate::test_fixtures::{at, instance, sample_order};

    type Framework = TestFramework<OrderDocument>;

    fn doc_id() -> DocumentId {
        DocumentId::order(instance(), "1001").unwrap()
    }

    fn order_modified(day: u32) -> Box<Order> {
        let mut order = sample_order();
        order.modified_at = at(day, 9);
        Box::new(order)
    }

    fn received() -> OrderEvent {
        OrderEvent::OrderReceived {
            id: doc_id(),
            order: order_modified(1),
            received_at: at(1, 10),
        }
    }

    fn receive(day: u32) -> OrderCommand {
        OrderCommand::ReceiveOrder {
            instance: instance(),
            order: order_modified(day),
            received_at: at(day, 10),
        }
    }

    fn matched(id: &str) -> OrderEvent {
        OrderEvent::CustomerMatched {
            erp_customer_id: id.into(),
        }
    }

    fn posted(attempt: u32) -> OrderEvent {
        OrderEvent::PostedToErp {
            erp_document_number: "SO-500".into(),
            posted_at: at(2, 8),
            attempt,
        }
    }

    fn failed(attempt: u32, retryable: bool) -> OrderEvent {
        OrderEvent::PostFailed {
            attempt,
            reason: "ERP timed out".into(),
            retryable,
            failed_at: at(2, 8),
        }
    }

    fn record_failed(attempt: u32) -> OrderCommand {
        OrderCommand::RecordPostFailed {
            attempt,
            reason: "ERP timed out".into(),
            retryable: true,
            failed_at: at(2, 8),
        }
    }

    fn retry_scheduled(attempt: u32) -> OrderEvent {
        OrderEvent::RetryScheduled {
            attempt,
            not_before: at(2, 9),
        }
    }

    fn schedule(attempt: u32) -> OrderCommand {
        OrderCommand::ScheduleRetry {
            attempt,
            not_before: at(2, 9),
        }
    }

    fn parked() -> OrderEvent {
        OrderEvent::Parked {
            reason: "unknown SKU".into(),
        }
    }

    fn replay() -> OrderCommand {
        OrderCommand::RequestReplay {
            requested_by: "ops@example.com".into(),
            reason: "SKU added in ERP".into(),
        }
    }

    fn replay_requested() -> OrderEvent {
        OrderEvent::ReplayRequested {
            requested_by: "ops@example.com".into(),
            reason: "SKU added in ERP".into(),
        }
    }

    fn rewind(to_sequence: u64) -> OrderCommand {
        OrderCommand::Rewind {
            to_sequence,
            requested_by: "ops@example.com".into(),
            reason: "wrong customer".into(),
        }
    }

    fn rewound(to_sequence: u64, from_sequence: u64, status: OrderDocumentStatus) -> OrderEvent {
        OrderEvent::Rewound {
            to_sequence,
            from_sequence,
            restored_status: status,
            requested_by: "ops@example.com".into(),
            reason: "wrong customer".into(),
        }
    }

    fn state(events: Vec<OrderEvent>) -> OrderDocument {
        let mut document = OrderDocument::default();
        for event in events {
            document.apply(event);
        }
        document
    }

    // --- ReceiveOrder

    #[tokio::test]
    async fn first_delivery_creates_the_document() {
        Framework::with(())
            .given_no_previous_events()
            .when_async(receive(1))
            .await
            .then_expect_events(vec![received()]);
    }

    #[tokio::test]
    async fn duplicate_delivery_changes_nothing() {
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::ReceiveOrder {
                instance: instance(),
                order: order_modified(1),
                received_at: at(5, 0),
            })
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn change_within_the_same_second_revises_the_order() {
        // A refund right after the order: the channel's clock has whole
        // seconds, so only the content tells the deliveries apart.
        let mut refunded = order_modified(1);
        refunded.refund_ids = vec!["55".into()];
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::ReceiveOrder {
                instance: instance(),
                order: refunded.clone(),
                received_at: at(5, 0),
            })
            .await
            .then_expect_events(vec![OrderEvent::OrderRevised {
                order: refunded,
                received_at: at(5, 0),
            }]);
    }

    #[tokio::test]
    async fn newer_delivery_revises_the_order() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(receive(3))
            .await
            .then_expect_events(vec![OrderEvent::OrderRevised {
                order: order_modified(3),
                received_at: at(3, 10),
            }]);
    }

    #[tokio::test]
    async fn older_delivery_changes_nothing() {
        Framework::with(())
            .given(vec![
                received(),
                OrderEvent::OrderRevised {
                    order: order_modified(3),
                    received_at: at(3, 10),
                },
            ])
            .when_async(receive(2))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn newer_delivery_after_posting_is_kept_aside() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(receive(3))
            .await
            .then_expect_events(vec![OrderEvent::OrderRevisedAfterPosting {
                order: order_modified(3),
                received_at: at(3, 10),
            }]);
    }

    #[tokio::test]
    async fn repeat_of_a_revision_after_posting_changes_nothing() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                posted(1),
                OrderEvent::OrderRevisedAfterPosting {
                    order: order_modified(3),
                    received_at: at(3, 10),
                },
            ])
            .when_async(receive(3))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn delivery_of_another_order_is_refused() {
        let mut other = order_modified(3);
        other.source_id = "1002".into();
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::ReceiveOrder {
                instance: instance(),
                order: other,
                received_at: at(3, 10),
            })
            .await
            .then_expect_error_message(
                "document 'woo-main/order/1001' cannot take a delivery of 'woo-main/order/1002'",
            );
    }

    #[tokio::test]
    async fn delivery_through_another_instance_is_refused() {
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::ReceiveOrder {
                instance: InstanceId::new("bc-main").unwrap(),
                order: order_modified(3),
                received_at: at(3, 10),
            })
            .await
            .then_expect_error_message(
                "document 'woo-main/order/1001' cannot take a delivery of 'bc-main/order/1001'",
            );
    }

    #[tokio::test]
    async fn order_without_a_usable_source_id_is_refused() {
        let mut order = order_modified(1);
        order.source_id = String::new();
        Framework::with(())
            .given_no_previous_events()
            .when_async(OrderCommand::ReceiveOrder {
                instance: instance(),
                order,
                received_at: at(1, 10),
            })
            .await
            .then_expect_error_message(
                "order cannot be identified: invalid source id '': must not be empty",
            );
    }

    #[tokio::test]
    async fn every_other_command_needs_the_order_first() {
        let commands = vec![
            OrderCommand::MatchCustomer {
                erp_customer_id: "C-1".into(),
            },
            OrderCommand::CreateCustomer {
                erp_customer_id: "C-1".into(),
            },
            OrderCommand::RecordPosted {
                erp_document_number: "SO-1".into(),
                posted_at: at(1, 0),
                attempt: 1,
            },
            record_failed(1),
            schedule(1),
            OrderCommand::Park { reason: "x".into() },
            replay(),
            rewind(1),
        ];
        for command in commands {
            Framework::with(())
                .given_no_previous_events()
                .when_async(command)
                .await
                .then_expect_error_message("no order has been received for this document yet");
        }
    }

    // --- MatchCustomer / CreateCustomer

    #[tokio::test]
    async fn match_customer_resolves_it() {
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::MatchCustomer {
                erp_customer_id: "C-1".into(),
            })
            .await
            .then_expect_events(vec![matched("C-1")]);
    }

    #[tokio::test]
    async fn create_customer_resolves_it() {
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::CreateCustomer {
                erp_customer_id: "C-9".into(),
            })
            .await
            .then_expect_events(vec![OrderEvent::CustomerCreated {
                erp_customer_id: "C-9".into(),
            }]);
    }

    #[tokio::test]
    async fn resolving_the_same_customer_again_changes_nothing() {
        for command in [
            OrderCommand::MatchCustomer {
                erp_customer_id: "C-1".into(),
            },
            OrderCommand::CreateCustomer {
                erp_customer_id: "C-1".into(),
            },
        ] {
            Framework::with(())
                .given(vec![received(), matched("C-1")])
                .when_async(command)
                .await
                .then_expect_events(vec![]);
        }
    }

    #[tokio::test]
    async fn resolving_another_customer_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(OrderCommand::CreateCustomer {
                erp_customer_id: "C-2".into(),
            })
            .await
            .then_expect_error_message(
                "customer is already resolved to ERP customer 'C-1'; refusing to change it to \
                 'C-2' (replay the document to resolve it again)",
            );
    }

    #[tokio::test]
    async fn customer_can_be_resolved_again_after_a_replay() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                parked(),
                replay_requested(),
            ])
            .when_async(OrderCommand::MatchCustomer {
                erp_customer_id: "C-1".into(),
            })
            .await
            .then_expect_events(vec![matched("C-1")]);
    }

    #[tokio::test]
    async fn customer_of_a_posted_order_cannot_change() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(OrderCommand::MatchCustomer {
                erp_customer_id: "C-2".into(),
            })
            .await
            .then_expect_error_message("order is already posted to the ERP as 'SO-500'");
    }

    #[tokio::test]
    async fn customer_cannot_be_resolved_while_parked() {
        Framework::with(())
            .given(vec![received(), parked()])
            .when_async(OrderCommand::MatchCustomer {
                erp_customer_id: "C-1".into(),
            })
            .await
            .then_expect_error_message(
                "cannot match a customer while the order document is parked",
            );
    }

    #[tokio::test]
    async fn customer_id_must_not_be_blank() {
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::MatchCustomer {
                erp_customer_id: " ".into(),
            })
            .await
            .then_expect_error_message("erp_customer_id must not be blank");
    }

    // --- RecordPosted

    #[tokio::test]
    async fn posting_is_recorded() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(OrderCommand::RecordPosted {
                erp_document_number: "SO-500".into(),
                posted_at: at(2, 8),
                attempt: 1,
            })
            .await
            .then_expect_events(vec![posted(1)]);
    }

    #[tokio::test]
    async fn posting_is_recorded_even_if_parked_meanwhile() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), failed(1, true), parked()])
            .when_async(OrderCommand::RecordPosted {
                erp_document_number: "SO-500".into(),
                posted_at: at(2, 8),
                attempt: 2,
            })
            .await
            .then_expect_events(vec![posted(2)]);
    }

    #[tokio::test]
    async fn second_posting_is_refused_naming_the_first() {
        for number in ["SO-500", "SO-501"] {
            Framework::with(())
                .given(vec![received(), matched("C-1"), posted(1)])
                .when_async(OrderCommand::RecordPosted {
                    erp_document_number: number.into(),
                    posted_at: at(2, 9),
                    attempt: 2,
                })
                .await
                .then_expect_error(OrderError::AlreadyPosted {
                    erp_document_number: "SO-500".into(),
                });
        }
    }

    #[tokio::test]
    async fn posting_needs_a_number_and_an_attempt() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(OrderCommand::RecordPosted {
                erp_document_number: "".into(),
                posted_at: at(2, 8),
                attempt: 1,
            })
            .await
            .then_expect_error_message("erp_document_number must not be blank");
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(OrderCommand::RecordPosted {
                erp_document_number: "SO-1".into(),
                posted_at: at(2, 8),
                attempt: 0,
            })
            .await
            .then_expect_error_message("attempt numbers start at 1");
    }

    // --- RecordPostFailed

    #[tokio::test]
    async fn failure_is_recorded() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(record_failed(1))
            .await
            .then_expect_events(vec![failed(1, true)]);
    }

    #[tokio::test]
    async fn failure_of_a_scheduled_retry_is_recorded() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                failed(1, true),
                retry_scheduled(2),
            ])
            .when_async(record_failed(2))
            .await
            .then_expect_events(vec![failed(2, true)]);
    }

    #[tokio::test]
    async fn repeated_failure_changes_nothing() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), failed(1, true)])
            .when_async(record_failed(1))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn failure_skipping_an_attempt_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(record_failed(3))
            .await
            .then_expect_error_message("attempt 3 is out of order: the next attempt is 1");
    }

    #[tokio::test]
    async fn failure_before_the_customer_is_resolved_is_refused() {
        Framework::with(())
            .given(vec![received()])
            .when_async(record_failed(1))
            .await
            .then_expect_error_message(
                "cannot record a post failure while the order document is received",
            );
    }

    #[tokio::test]
    async fn failure_after_posting_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(record_failed(2))
            .await
            .then_expect_error_message("order is already posted to the ERP as 'SO-500'");
    }

    #[tokio::test]
    async fn failure_needs_a_reason_and_an_attempt() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(OrderCommand::RecordPostFailed {
                attempt: 1,
                reason: "".into(),
                retryable: true,
                failed_at: at(2, 8),
            })
            .await
            .then_expect_error_message("reason must not be blank");
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(record_failed(0))
            .await
            .then_expect_error_message("attempt numbers start at 1");
    }

    // --- ScheduleRetry

    #[tokio::test]
    async fn retry_is_scheduled_after_a_retryable_failure() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), failed(1, true)])
            .when_async(schedule(2))
            .await
            .then_expect_events(vec![retry_scheduled(2)]);
    }

    #[tokio::test]
    async fn same_schedule_again_changes_nothing() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                failed(1, true),
                retry_scheduled(2),
            ])
            .when_async(schedule(2))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn retry_can_be_rescheduled() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                failed(1, true),
                retry_scheduled(2),
            ])
            .when_async(OrderCommand::ScheduleRetry {
                attempt: 2,
                not_before: at(2, 11),
            })
            .await
            .then_expect_events(vec![OrderEvent::RetryScheduled {
                attempt: 2,
                not_before: at(2, 11),
            }]);
    }

    #[tokio::test]
    async fn retry_after_a_permanent_failure_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), failed(1, false)])
            .when_async(schedule(2))
            .await
            .then_expect_error_message(
                "the last failure is not retryable (ERP timed out); park or replay the document instead",
            );
    }

    #[tokio::test]
    async fn retry_of_the_wrong_attempt_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), failed(1, true)])
            .when_async(schedule(1))
            .await
            .then_expect_error_message("attempt 1 is out of order: the next attempt is 2");
        Framework::with(())
            .given(vec![received(), matched("C-1"), failed(1, true)])
            .when_async(schedule(0))
            .await
            .then_expect_error_message("attempt numbers start at 1");
    }

    #[tokio::test]
    async fn retry_without_a_failure_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(schedule(1))
            .await
            .then_expect_error_message(
                "cannot schedule a retry while the order document is customer resolved",
            );
    }

    #[tokio::test]
    async fn retry_after_posting_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(schedule(2))
            .await
            .then_expect_error_message("order is already posted to the ERP as 'SO-500'");
    }

    // --- Park

    #[tokio::test]
    async fn park_sets_the_document_aside() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), failed(1, false)])
            .when_async(OrderCommand::Park {
                reason: "unknown SKU".into(),
            })
            .await
            .then_expect_events(vec![parked()]);
    }

    #[tokio::test]
    async fn parking_a_parked_document_changes_nothing() {
        Framework::with(())
            .given(vec![received(), parked()])
            .when_async(OrderCommand::Park {
                reason: "other".into(),
            })
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn park_after_posting_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(OrderCommand::Park { reason: "x".into() })
            .await
            .then_expect_error_message("order is already posted to the ERP as 'SO-500'");
    }

    #[tokio::test]
    async fn park_needs_a_reason() {
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::Park { reason: "".into() })
            .await
            .then_expect_error_message("reason must not be blank");
    }

    // --- RequestReplay

    #[tokio::test]
    async fn replay_a_parked_document() {
        Framework::with(())
            .given(vec![received(), parked()])
            .when_async(replay())
            .await
            .then_expect_events(vec![replay_requested()]);
    }

    #[tokio::test]
    async fn replay_after_a_failure() {
        for given in [
            vec![received(), matched("C-1"), failed(1, false)],
            vec![
                received(),
                matched("C-1"),
                failed(1, true),
                retry_scheduled(2),
            ],
        ] {
            Framework::with(())
                .given(given)
                .when_async(replay())
                .await
                .then_expect_events(vec![replay_requested()]);
        }
    }

    #[tokio::test]
    async fn replay_of_a_document_in_progress_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(replay())
            .await
            .then_expect_error_message(
                "cannot request a replay while the order document is customer resolved",
            );
        Framework::with(())
            .given(vec![received(), parked(), replay_requested()])
            .when_async(replay())
            .await
            .then_expect_error_message(
                "cannot request a replay while the order document is received",
            );
    }

    #[tokio::test]
    async fn replay_of_a_posted_document_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(replay())
            .await
            .then_expect_error_message("order is already posted to the ERP as 'SO-500'");
    }

    #[tokio::test]
    async fn replay_needs_who_and_why() {
        Framework::with(())
            .given(vec![received(), parked()])
            .when_async(OrderCommand::RequestReplay {
                requested_by: "".into(),
                reason: "x".into(),
            })
            .await
            .then_expect_error_message("requested_by must not be blank");
    }

    #[test]
    fn replay_resets_attempts() {
        let document = state(vec![
            received(),
            matched("C-1"),
            failed(1, true),
            retry_scheduled(2),
            failed(2, false),
            parked(),
            replay_requested(),
        ]);
        assert_eq!(document.status(), Some(OrderDocumentStatus::Received));
        assert_eq!(document.attempts(), 0);
        assert_eq!(document.last_failure(), None);
        assert_eq!(document.scheduled_retry(), None);
        assert_eq!(document.park_reason(), None);
        assert_eq!(document.erp_customer_id(), Some("C-1"));
    }

    // --- Rewind

    #[tokio::test]
    async fn rewind_restores_the_status_at_that_point() {
        // 1 received, 2 customer resolved, 3 failed, 4 retry scheduled, 5 failed
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                failed(1, true),
                retry_scheduled(2),
                failed(2, true),
            ])
            .when_async(rewind(1))
            .await
            .then_expect_events(vec![rewound(1, 5, OrderDocumentStatus::Received)]);
    }

    #[tokio::test]
    async fn rewind_to_a_failure_restores_the_point_before_posting() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                failed(1, true),
                retry_scheduled(2),
                failed(2, false),
                parked(),
            ])
            .when_async(rewind(4))
            .await
            .then_expect_events(vec![rewound(4, 6, OrderDocumentStatus::CustomerResolved)]);
    }

    #[tokio::test]
    async fn rewind_target_must_be_before_the_current_version() {
        for to in [0, 3, 4] {
            Framework::with(())
                .given(vec![received(), matched("C-1"), parked()])
                .when_async(rewind(to))
                .await
                .then_expect_error_message(&format!(
                    "cannot rewind to sequence {to}: the target must be at least 1 and before the \
                     current sequence 3"
                ));
        }
    }

    #[tokio::test]
    async fn rewind_of_a_posted_document_is_refused() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(rewind(1))
            .await
            .then_expect_error_message("order is already posted to the ERP as 'SO-500'");
    }

    #[tokio::test]
    async fn rewind_needs_who_and_why() {
        Framework::with(())
            .given(vec![received(), matched("C-1")])
            .when_async(OrderCommand::Rewind {
                to_sequence: 1,
                requested_by: "ops".into(),
                reason: " ".into(),
            })
            .await
            .then_expect_error_message("reason must not be blank");
    }

    #[tokio::test]
    async fn rewinds_stack_on_the_history() {
        // After rewinding to 1 (at version 3), sequence 4 is the rewind itself;
        // rewinding to 2 restores what sequence 2 was, read from the appended history.
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                parked(),
                rewound(1, 3, OrderDocumentStatus::Received),
                matched("C-2"),
            ])
            .when_async(rewind(2))
            .await
            .then_expect_events(vec![rewound(2, 5, OrderDocumentStatus::CustomerResolved)]);
    }

    #[test]
    fn rewind_moves_state_and_appends_history() {
        let document = state(vec![
            received(),
            matched("C-1"),
            failed(1, true),
            retry_scheduled(2),
            rewound(2, 4, OrderDocumentStatus::CustomerResolved),
        ]);
        assert_eq!(document.version(), 5);
        assert_eq!(
            document.status(),
            Some(OrderDocumentStatus::CustomerResolved)
        );
        assert_eq!(document.attempts(), 0);
        assert_eq!(document.last_failure(), None);
        assert_eq!(document.scheduled_retry(), None);
        let statuses: Vec<_> = (1..=5).map(|v| document.history().at(v).unwrap()).collect();
        assert_eq!(
            statuses,
            [
                OrderDocumentStatus::Received,
                OrderDocumentStatus::CustomerResolved,
                OrderDocumentStatus::Failed,
                OrderDocumentStatus::RetryScheduled,
                OrderDocumentStatus::CustomerResolved,
            ]
        );
    }

    // --- State and snapshots

    #[test]
    fn state_follows_a_whole_story() {
        let document = state(vec![
            received(),
            OrderEvent::OrderRevised {
                order: order_modified(2),
                received_at: at(2, 10),
            },
            matched("C-1"),
            failed(1, true),
            retry_scheduled(2),
            posted(2),
            OrderEvent::OrderRevisedAfterPosting {
                order: order_modified(4),
                received_at: at(4, 10),
            },
        ]);
        assert_eq!(document.id(), Some(&doc_id()));
        assert_eq!(document.id().unwrap().kind(), DocumentKind::Order);
        assert_eq!(document.status(), Some(OrderDocumentStatus::Posted));
        assert_eq!(document.order(), Some(&*order_modified(2)));
        assert_eq!(document.revision_after_posting(), Some(&*order_modified(4)));
        assert_eq!(document.received_at(), Some(at(1, 10)));
        assert_eq!(document.erp_customer_id(), Some("C-1"));
        assert_eq!(document.erp_document_number(), Some("SO-500"));
        assert_eq!(document.posted_at(), Some(at(2, 8)));
        assert_eq!(document.attempts(), 2);
        assert_eq!(document.last_failure().unwrap().reason, "ERP timed out");
        assert_eq!(document.scheduled_retry(), None);
        assert_eq!(document.version(), 7);
    }

    #[test]
    fn snapshot_round_trips() {
        let document = state(vec![
            received(),
            matched("C-1"),
            failed(1, true),
            retry_scheduled(2),
            parked(),
        ]);
        assert_eq!(document.park_reason(), Some("unknown SKU"));
        let json = serde_json::to_string(&document).unwrap();
        let back: OrderDocument = serde_json::from_str(&json).unwrap();
        assert_eq!(back, document);
    }

    #[test]
    fn events_round_trip_and_are_named() {
        let events = vec![
            received(),
            OrderEvent::OrderRevised {
                order: order_modified(2),
                received_at: at(2, 10),
            },
            OrderEvent::OrderRevisedAfterPosting {
                order: order_modified(2),
                received_at: at(2, 10),
            },
            matched("C-1"),
            OrderEvent::CustomerCreated {
                erp_customer_id: "C-1".into(),
            },
            posted(1),
            failed(1, true),
            retry_scheduled(2),
            parked(),
            replay_requested(),
            rewound(1, 2, OrderDocumentStatus::Received),
        ];
        let names = [
            "OrderReceived",
            "OrderRevised",
            "OrderRevisedAfterPosting",
            "CustomerMatched",
            "CustomerCreated",
            "PostedToErp",
            "PostFailed",
            "RetryScheduled",
            "Parked",
            "ReplayRequested",
            "Rewound",
        ];
        for (event, name) in events.into_iter().zip(names) {
            assert_eq!(event.event_type(), name);
            assert_eq!(event.event_version(), "1.0");
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<OrderEvent>(&json).unwrap(), event);
        }
    }

    #[test]
    fn aggregate_type_is_stable() {
        assert_eq!(OrderDocument::TYPE, "order_document");
    }

    // --- Refunds and credit notes

    fn refund(id: &str) -> Refund {
        Refund {
            source_id: id.into(),
            order_source_id: "1001".into(),
            amount: crate::test_fixtures::money("20.00"),
            reason: Some("damaged".into()),
            lines: vec![],
            created_at: at(3, 9),
        }
    }

    fn refund_received(id: &str) -> OrderEvent {
        OrderEvent::RefundReceived { refund: refund(id) }
    }

    fn note_posted(id: &str) -> OrderEvent {
        OrderEvent::CreditNotePosted {
            refund_id: id.into(),
            erp_document_number: "CN-1".into(),
            posted_at: at(3, 10),
        }
    }

    fn record_note_posted(id: &str, number: &str) -> OrderCommand {
        OrderCommand::RecordCreditNotePosted {
            refund_id: id.into(),
            erp_document_number: number.into(),
            posted_at: at(3, 10),
        }
    }

    fn record_note_failed(attempt: u32, retryable: bool) -> OrderCommand {
        OrderCommand::RecordCreditNoteFailed {
            refund_id: "R1".into(),
            attempt,
            reason: "ERP busy".into(),
            retryable,
            failed_at: at(3, 10),
            max_attempts: 3,
            not_before: at(3, 11),
        }
    }

    fn note_failed(attempt: u32, retryable: bool, not_before: Option<DateTime<Utc>>) -> OrderEvent {
        OrderEvent::CreditNoteFailed {
            refund_id: "R1".into(),
            attempt,
            reason: "ERP busy".into(),
            retryable,
            failed_at: at(3, 10),
            not_before,
        }
    }

    #[tokio::test]
    async fn refund_is_recorded_once() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(OrderCommand::RecordRefund {
                refund: refund("R1"),
            })
            .await
            .then_expect_events(vec![refund_received("R1")]);
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                posted(1),
                refund_received("R1"),
            ])
            .when_async(OrderCommand::RecordRefund {
                refund: refund("R1"),
            })
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn refund_before_posting_is_recorded_and_waits() {
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::RecordRefund {
                refund: refund("R1"),
            })
            .await
            .then_expect_events(vec![refund_received("R1")]);
    }

    #[tokio::test]
    async fn refund_of_another_order_is_refused() {
        let mut other = refund("R1");
        other.order_source_id = "9".into();
        Framework::with(())
            .given(vec![received()])
            .when_async(OrderCommand::RecordRefund { refund: other })
            .await
            .then_expect_error_message("refund 'R1' is of order '9', not of order '1001'");
        Framework::with(())
            .given_no_previous_events()
            .when_async(OrderCommand::RecordRefund {
                refund: refund("R1"),
            })
            .await
            .then_expect_error_message("no order has been received for this document yet");
    }

    #[tokio::test]
    async fn credit_note_is_posted_once() {
        let given = vec![received(), matched("C-1"), posted(1), refund_received("R1")];
        Framework::with(())
            .given(given.clone())
            .when_async(record_note_posted("R1", "CN-1"))
            .await
            .then_expect_events(vec![note_posted("R1")]);
        let mut done = given;
        done.push(note_posted("R1"));
        Framework::with(())
            .given(done.clone())
            .when_async(record_note_posted("R1", "CN-1"))
            .await
            .then_expect_events(vec![]);
        Framework::with(())
            .given(done)
            .when_async(record_note_posted("R1", "CN-2"))
            .await
            .then_expect_error_message(
                "the credit note of refund 'R1' is already posted as 'CN-1'",
            );
    }

    #[tokio::test]
    async fn credit_note_needs_a_received_refund_of_a_posted_order() {
        Framework::with(())
            .given(vec![received(), matched("C-1"), posted(1)])
            .when_async(record_note_posted("R9", "CN-1"))
            .await
            .then_expect_error_message("no refund 'R9' has been recorded for this order");
        Framework::with(())
            .given(vec![received(), refund_received("R1")])
            .when_async(record_note_posted("R1", "CN-1"))
            .await
            .then_expect_error_message(
                "cannot record a credit note while the order document is received",
            );
    }

    #[tokio::test]
    async fn retryable_credit_note_failure_waits_for_the_next_attempt() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                posted(1),
                refund_received("R1"),
            ])
            .when_async(record_note_failed(1, true))
            .await
            .then_expect_events(vec![note_failed(1, true, Some(at(3, 11)))]);
    }

    #[tokio::test]
    async fn repeated_credit_note_failure_changes_nothing() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                posted(1),
                refund_received("R1"),
                note_failed(1, true, Some(at(3, 11))),
            ])
            .when_async(record_note_failed(1, true))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn permanent_credit_note_failure_parks_it() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                posted(1),
                refund_received("R1"),
            ])
            .when_async(record_note_failed(1, false))
            .await
            .then_expect_events(vec![
                note_failed(1, false, None),
                OrderEvent::CreditNoteParked {
                    refund_id: "R1".into(),
                    reason: "ERP busy".into(),
                },
            ]);
    }

    #[tokio::test]
    async fn last_credit_note_attempt_parks_it() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                posted(1),
                refund_received("R1"),
                note_failed(1, true, Some(at(3, 11))),
                note_failed(2, true, Some(at(3, 11))),
            ])
            .when_async(record_note_failed(3, true))
            .await
            .then_expect_events(vec![
                note_failed(3, true, None),
                OrderEvent::CreditNoteParked {
                    refund_id: "R1".into(),
                    reason: "gave up after 3 attempts: ERP busy".into(),
                },
            ]);
    }

    #[tokio::test]
    async fn credit_note_failure_out_of_order_is_refused() {
        Framework::with(())
            .given(vec![
                received(),
                matched("C-1"),
                posted(1),
                refund_received("R1"),
            ])
            .when_async(record_note_failed(2, true))
            .await
            .then_expect_error_message("attempt 2 is out of order: the next attempt is 1");
    }

    #[test]
    fn state_lists_refunds_pending_a_credit_note() {
        let document = state(vec![
            received(),
            matched("C-1"),
            posted(1),
            refund_received("R1"),
            refund_received("R2"),
            refund_received("R3"),
            note_posted("R1"),
            OrderEvent::CreditNoteParked {
                refund_id: "R3".into(),
                reason: "bad".into(),
            },
        ]);
        let pending: Vec<_> = document
            .pending_refunds()
            .map(|r| r.refund.source_id.as_str())
            .collect();
        assert_eq!(pending, ["R2"]);
        assert_eq!(
            document.refund("R1").unwrap().credit_note_number.as_deref(),
            Some("CN-1")
        );
        assert_eq!(document.refunds().len(), 3);
        let json = serde_json::to_string(&document).unwrap();
        assert_eq!(
            serde_json::from_str::<OrderDocument>(&json).unwrap(),
            document
        );
    }
}
