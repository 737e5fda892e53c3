//! Why an operator verb did not take effect.

use mlc_connectors::ConnectorError;
use mlc_domain::customer::CustomerError;
use mlc_domain::mapping::MappingError;
use mlc_domain::order::OrderError;
use mlc_projections::ProjectionError;
use mlc_store::{CommandError, StoreError};

/// Why an operator verb did not take effect. Each variant is one kind of
/// answer (the HTTP API gives each its own status); no variant ever carries
/// a secret.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The document (or the instance) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The document's aggregate refused the command, in its own words;
    /// nothing was recorded.
    #[error("{0}")]
    Refused(String),
    /// The request itself is wrong: an unknown status or kind, a malformed
    /// document id, a bad sequence, a blank reason.
    #[error("{0}")]
    Invalid(String),
    /// The document cannot be mapped to the ERP (an unmapped SKU); the
    /// mapping or the ERP's item master must change first.
    #[error("{0}")]
    Unmapped(String),
    /// The event store, the read model or the ERP did not answer; trying
    /// again later may succeed.
    #[error("{0}")]
    Unavailable(String),
}

impl OperatorError {
    /// A short stable code for the kind: `not_found`, `refused`, `invalid`,
    /// `unmapped`, `unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            OperatorError::NotFound(_) => "not_found",
            OperatorError::Refused(_) => "refused",
            OperatorError::Invalid(_) => "invalid",
            OperatorError::Unmapped(_) => "unmapped",
            OperatorError::Unavailable(_) => "unavailable",
        }
    }
}

impl From<StoreError> for OperatorError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "operator: the event store failed");
        OperatorError::Unavailable(format!("the event store is unavailable: {e}"))
    }
}

impl From<ProjectionError> for OperatorError {
    fn from(e: ProjectionError) -> Self {
        tracing::warn!(error = %e, "operator: the documents read model failed");
        OperatorError::Unavailable(format!("the documents read model is unavailable: {e}"))
    }
}

impl From<MappingError> for OperatorError {
    fn from(e: MappingError) -> Self {
        OperatorError::Unmapped(e.to_string())
    }
}

impl From<ConnectorError> for OperatorError {
    fn from(e: ConnectorError) -> Self {
        OperatorError::Unavailable(e.to_string())
    }
}

/// A refusal of the order aggregate: bad input is [`OperatorError::Invalid`],
/// a document never received is [`OperatorError::NotFound`], the rest is
/// [`OperatorError::Refused`].
pub(crate) fn order_refusal(id: &str, e: CommandError<OrderError>) -> OperatorError {
    match e {
        CommandError::Refused(OrderError::NotReceived) => {
            OperatorError::NotFound(format!("no document '{id}'"))
        }
        CommandError::Refused(
            e @ (OrderError::InvalidRewindTarget { .. } | OrderError::Blank { .. }),
        ) => OperatorError::Invalid(e.to_string()),
        CommandError::Refused(e) => OperatorError::Refused(e.to_string()),
        other => unavailable(other),
    }
}

/// A refusal of the customer aggregate, sorted like [`order_refusal`].
pub(crate) fn customer_refusal(id: &str, e: CommandError<CustomerError>) -> OperatorError {
    match e {
        CommandError::Refused(CustomerError::NotReceived) => {
            OperatorError::NotFound(format!("no document '{id}'"))
        }
        CommandError::Refused(e @ CustomerError::Blank { .. }) => {
            OperatorError::Invalid(e.to_string())
        }
        CommandError::Refused(e) => OperatorError::Refused(e.to_string()),
        other => unavailable(other),
    }
}

fn unavailable<E: std::error::Error>(e: CommandError<E>) -> OperatorError {
    tracing::warn!(error = %e, "operator: a command could not be recorded");
    OperatorError::Unavailable(e.to_string())
}
