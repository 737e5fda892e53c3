//! An email address, normalised so that it can be used as a matching key.

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// Longest address SMTP can carry (RFC 5321 path limit).
const MAX_LEN: usize = 254;
/// Longest local part (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;

/// An email address, trimmed and lowercased, with a basic shape check
/// (`local@domain.tld`, no spaces). Customers are matched by email across
/// systems, so two spellings of one address must compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Trims, lowercases and checks the shape of `value`.
    pub fn new(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let raw = value.as_ref();
        let normalised = raw.trim().to_lowercase();
        let problem = |p: &str| Err(ValidationError::new("email", raw, p));
        if normalised.is_empty() {
            return problem("must not be empty");
        }
        if normalised.chars().count() > MAX_LEN {
            return problem("must be at most 254 characters");
        }
        if normalised
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return problem("must not contain spaces or control characters");
        }
        let Some((local, domain)) = normalised.split_once('@') else {
            return problem("must contain '@'");
        };
        if domain.contains('@') {
            return problem("must contain exactly one '@'");
        }
        if local.is_empty() {
            return problem("is missing the part before '@'");
        }
        if local.len() > MAX_LOCAL_LEN {
            return problem("the part before '@' must be at most 64 characters");
        }
        if domain.is_empty() {
            return problem("is missing the domain after '@'");
        }
        if !domain.contains('.') {
            return problem("the domain must contain a '.'");
        }
        if domain.starts_with(['.', '-']) || domain.ends_with(['.', '-']) || domain.contains("..") {
            return problem("the domain is malformed");
        }
        Ok(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after '@'.
    pub fn domain(&self) -> &str {
        // Invariant: constructed values always hold exactly one '@'.
        self.0.rsplit('@').next().unwrap_or_default()
    }
}

validated_text!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases() {
        let email = Email::new("  Jane.Doe+shop@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "jane.doe+shop@example.com");
        assert_eq!(email.domain(), "example.com");
        assert_eq!(email, Email::new("jane.doe+shop@example.com").unwrap());
    }

    #[test]
    fn rejects_bad_shapes_with_a_reason() {
        let cases = [
            ("", "must not be empty"),
            ("   ", "must not be empty"),
            ("jane", "must contain '@'"),
            ("jane@@example.com", "exactly one '@'"),
            ("a@b@example.com", "exactly one '@'"),
            ("@example.com", "before '@'"),
            ("jane@", "missing the domain"),
            ("jane@localhost", "must contain a '.'"),
            ("jane@.example.com", "malformed"),
            ("jane@example..com", "malformed"),
            ("jane@example.com.", "malformed"),
            ("jane doe@example.com", "spaces"),
        ];
        for (input, expected) in cases {
            let err = Email::new(input).unwrap_err();
            assert!(err.to_string().contains(expected), "{input:?}: {err}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::new(long).unwrap_err().problem().contains("64"));
    }

    #[test]
    fn serde_normalises_and_validates() {
        let email: Email = serde_json::from_str("\" JANE@example.com\"").unwrap();
        assert_eq!(
            serde_json::to_string(&email).unwrap(),
            "\"jane@example.com\""
        );
        let err = serde_json::from_str::<Email>("\"not-an-email\"").unwrap_err();
        assert!(
            err.to_string().contains("invalid email 'not-an-email'"),
            "{err}"
        );
    }
}
