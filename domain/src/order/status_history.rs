//! The status an order document had at each version, kept compactly.

use serde::{Deserialize, Serialize};

use super::OrderDocumentStatus;

/// From version `since` on (until the next span) the document had `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSpan {
    /// The first version (event sequence, from 1) with this status.
    pub since: u64,
    /// The status.
    pub status: OrderDocumentStatus,
}

/// The status after every version, as spans: a new span starts only when the
/// status changes, so the history stays as short as the list of transitions.
/// Appended to, never rewritten; a rewind adds a span like any other event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusHistory {
    spans: Vec<StatusSpan>,
}

impl StatusHistory {
    /// Notes that after event `version` the status is `status`.
    pub(crate) fn record(&mut self, version: u64, status: OrderDocumentStatus) {
        if self.spans.last().map(|span| span.status) != Some(status) {
            self.spans.push(StatusSpan {
                since: version,
                status,
            });
        }
    }

    /// The status right after event `version`, if the document existed then.
    pub fn at(&self, version: u64) -> Option<OrderDocumentStatus> {
        self.spans
            .iter()
            .rev()
            .find(|span| span.since <= version)
            .map(|span| span.status)
    }

    /// The latest status at or before `version` that a rewind can restore
    /// (see [`OrderDocumentStatus::is_rewind_target`]).
    pub fn rewind_target_at(&self, version: u64) -> Option<OrderDocumentStatus> {
        self.spans
            .iter()
            .rev()
            .filter(|span| span.since <= version)
            .map(|span| span.status)
            .find(|status| status.is_rewind_target())
    }

    /// The spans, oldest first.
    pub fn spans(&self) -> &[StatusSpan] {
        &self.spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderDocumentStatus::*;

    fn history(statuses: &[OrderDocumentStatus]) -> StatusHistory {
        let mut history = StatusHistory::default();
        for (i, status) in statuses.iter().enumerate() {
            history.record(i as u64 + 1, *status);
        }
        history
    }

    #[test]
    fn only_changes_start_a_span() {
        let history = history(&[Received, Received, CustomerResolved, Failed, Failed]);
        assert_eq!(
            history.spans(),
            &[
                StatusSpan {
                    since: 1,
                    status: Received
                },
                StatusSpan {
                    since: 3,
                    status: CustomerResolved
                },
                StatusSpan {
                    since: 4,
                    status: Failed
                },
            ]
        );
        assert_eq!(history.at(0), None);
        assert_eq!(history.at(2), Some(Received));
        assert_eq!(history.at(3), Some(CustomerResolved));
        assert_eq!(history.at(5), Some(Failed));
        assert_eq!(history.at(9), Some(Failed));
    }

    #[test]
    fn rewind_target_skips_failure_and_park_states() {
        let history = history(&[
            Received,
            Parked,
            Received,
            CustomerResolved,
            Failed,
            RetryScheduled,
        ]);
        assert_eq!(history.rewind_target_at(2), Some(Received));
        assert_eq!(history.rewind_target_at(4), Some(CustomerResolved));
        assert_eq!(history.rewind_target_at(6), Some(CustomerResolved));
        assert_eq!(history.rewind_target_at(0), None);
    }
}
