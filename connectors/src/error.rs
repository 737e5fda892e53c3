//! The one error type every connector returns.

use std::time::Duration;

/// Why a call to an outside system failed, decoded from that system's own
/// error shape. [`ConnectorError::is_retryable`] tells the process actors
/// whether to schedule another attempt or park the document.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// No answer in time, or the connection broke: the far side may or may
    /// not have applied the request, so the caller must look before it writes
    /// again (GET-before-create).
    #[error("{system}: no answer from {call}: {detail}")]
    Unreachable {
        /// The system, e.g. "Sage 300".
        system: &'static str,
        /// What was called, without credentials.
        call: OutsideCall,
        /// What the transport said.
        detail: String,
    },
    /// The system asked us to slow down (429), optionally saying for how long.
    #[error("{system}: rate limited on {call}{}", retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The system.
        system: &'static str,
        /// What was called.
        call: OutsideCall,
        /// How long the system asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The system answered with an error.
    #[error("{system}: {call} answered {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Refused {
        /// The system.
        system: &'static str,
        /// What was called.
        call: OutsideCall,
        /// The HTTP status.
        status: u16,
        /// The system's error code, if its error body has one.
        code: Option<String>,
        /// The system's message, in its own words.
        message: String,
        /// Whether the same request may succeed later (5xx, lock and
        /// connection errors of the ERP) or never will (validation).
        retryable: bool,
    },
    /// Credentials were refused (401/403): nothing will work until the
    /// configuration is fixed.
    #[error("{system}: credentials refused on {call} ({status}): {message}")]
    Unauthorized {
        /// The system.
        system: &'static str,
        /// What was called.
        call: OutsideCall,
        /// 401 or 403.
        status: u16,
        /// The system's message.
        message: String,
    },
    /// The answer could not be read (broken JSON, a missing field).
    #[error("{system}: unreadable answer from {call}: {detail}")]
    Decode {
        /// The system.
        system: &'static str,
        /// What was called.
        call: OutsideCall,
        /// What was wrong with it.
        detail: String,
    },
    /// Our own input could not be turned into a request (for instance a
    /// value too long for the ERP's field). Nothing was sent.
    #[error("{system}: cannot build the request: {detail}")]
    Invalid {
        /// The system.
        system: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl ConnectorError {
    /// Whether the same call may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            ConnectorError::Unreachable { .. }
            | ConnectorError::RateLimited { .. }
            | ConnectorError::Decode { .. } => true,
            ConnectorError::Refused { retryable, .. } => *retryable,
            ConnectorError::Unauthorized { .. } | ConnectorError::Invalid { .. } => false,
        }
    }

    /// How long the far side asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ConnectorError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the request may have been applied although no answer came:
    /// the caller must check before writing again.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            ConnectorError::Unreachable { .. } | ConnectorError::Decode { .. }
        )
    }
}

/// A call to an outside system, for messages and the audit trail: method and
/// path, never the query string's credentials nor any header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideCall {
    /// HTTP method.
    pub method: &'static str,
    /// Path (and query without credentials).
    pub path: String,
}

impl std::fmt::Display for OutsideCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}
