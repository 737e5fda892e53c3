//! The one error every validated newtype returns.

use std::fmt;

/// Longest part of the rejected input echoed back in a message, so a huge
/// payload cannot flood logs and API answers.
const MAX_ECHO_CHARS: usize = 80;

/// A value was rejected by a validated newtype; the message names the type,
/// the offending input and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    what: &'static str,
    value: String,
    problem: String,
}

impl ValidationError {
    /// Builds the error for a `what` (e.g. "instance id") whose `value` has `problem`.
    pub fn new(what: &'static str, value: &str, problem: impl Into<String>) -> Self {
        let value = if value.chars().count() > MAX_ECHO_CHARS {
            let mut cut: String = value.chars().take(MAX_ECHO_CHARS).collect();
            cut.push('…');
            cut
        } else {
            value.to_owned()
        };
        Self {
            what,
            value,
            problem: problem.into(),
        }
    }

    /// The kind of value that was rejected, e.g. "email".
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The rejected input (shortened when very long).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What is wrong with the input.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} '{}': {}",
            self.what, self.value, self.problem
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_type_value_and_problem() {
        let err = ValidationError::new("sku", "", "must not be empty");
        assert_eq!(err.to_string(), "invalid sku '': must not be empty");
    }

    #[test]
    fn long_values_are_shortened_in_the_message() {
        let err = ValidationError::new("sku", &"x".repeat(500), "too long");
        assert_eq!(err.value().chars().count(), MAX_ECHO_CHARS + 1);
    }
}
