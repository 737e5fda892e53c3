//! Where a poller stopped reading a source.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The position of a poller in one source: the modification time of the last
/// record read plus the record's id, because many records share one timestamp
/// and a timestamp alone would skip or repeat them.
///
/// Cursors are ordered by timestamp, then by tie-break. Tie-breaks made only
/// of digits compare as numbers (so "9" < "17", as source ids are usually
/// numeric); other tie-breaks compare as text and sort after numeric ones,
/// which keeps the order total.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PollCursor {
    /// Modification time of the last record read.
    pub timestamp: DateTime<Utc>,
    /// Id of the last record read at that timestamp.
    pub tie_break: String,
}

impl PollCursor {
    /// A cursor at `timestamp` / `tie_break`.
    pub fn new(timestamp: DateTime<Utc>, tie_break: impl Into<String>) -> Self {
        Self {
            timestamp,
            tie_break: tie_break.into(),
        }
    }
}

impl Ord for PollCursor {
    fn cmp(&self, other: &Self) -> Ordering {
        self.timestamp
            .cmp(&other.timestamp)
            .then_with(|| compare_tie_breaks(&self.tie_break, &other.tie_break))
    }
}

impl PartialOrd for PollCursor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn is_numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn compare_tie_breaks(a: &str, b: &str) -> Ordering {
    match (is_numeric(a), is_numeric(b)) {
        (true, true) => {
            // Compare digit strings as numbers without parsing, so any length works.
            let (ta, tb) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            ta.len()
                .cmp(&tb.len())
                .then_with(|| ta.cmp(tb))
                // "007" and "7" are equal as numbers but not as values; keep Ord consistent with Eq.
                .then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

impl fmt::Display for PollCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            self.tie_break
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::at;

    #[test]
    fn orders_by_timestamp_then_tie_break() {
        assert!(PollCursor::new(at(1, 0), "99") < PollCursor::new(at(2, 0), "1"));
        assert!(PollCursor::new(at(1, 0), "9") < PollCursor::new(at(1, 0), "17"));
        assert!(PollCursor::new(at(1, 0), "17") < PollCursor::new(at(1, 0), "170"));
        assert!(PollCursor::new(at(1, 0), "abc") < PollCursor::new(at(1, 0), "abd"));
        assert!(PollCursor::new(at(1, 0), "99") < PollCursor::new(at(1, 0), "a"));
        assert!(PollCursor::new(at(1, 0), "") < PollCursor::new(at(1, 0), "a"));
        assert_eq!(
            PollCursor::new(at(1, 0), "7").cmp(&PollCursor::new(at(1, 0), "7")),
            Ordering::Equal
        );
        assert_ne!(
            PollCursor::new(at(1, 0), "007").cmp(&PollCursor::new(at(1, 0), "7")),
            Ordering::Equal
        );
    }

    #[test]
    fn displays_as_rfc3339_and_tie_break() {
        assert_eq!(
            PollCursor::new(at(2, 0), "17").to_string(),
            "2026-01-02T00:00:00Z/17"
        );
    }
}
