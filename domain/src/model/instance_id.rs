//! The slug that names one configured integration instance.

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// Longest allowed instance id: the pattern `^[a-z0-9][a-z0-9_-]{0,62}$`.
const MAX_LEN: usize = 63;

/// Identifies an integration instance; a slug matching `^[a-z0-9][a-z0-9_-]{0,62}$`.
///
/// It is also the aggregate id of the instance's `Integration` and the first
/// part of every `DocumentId` in its namespace, so it must stay URL- and
/// path-safe.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceId(String);

impl InstanceId {
    /// Validates `value` as an instance slug.
    pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
        let value = value.into();
        let problem = |p: String| Err(ValidationError::new("instance id", &value, p));
        let Some(first) = value.chars().next() else {
            return problem("must not be empty".into());
        };
        let len = value.chars().count();
        if len > MAX_LEN {
            return problem(format!("must be at most {MAX_LEN} characters, got {len}"));
        }
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return problem("must start with a lowercase letter or a digit".into());
        }
        if let Some((pos, c)) = value.chars().enumerate().find(|(_, c)| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        }) {
            return problem(format!(
                "character {c:?} at position {pos} is not allowed; use lowercase letters, digits, '_' and '-'"
            ));
        }
        Ok(Self(value))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_text!(InstanceId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_slugs() {
        for ok in ["a", "0", "shop-1", "sage300_woo", &"a".repeat(63)] {
            assert_eq!(InstanceId::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_non_slugs_with_a_reason() {
        let cases = [
            ("", "must not be empty"),
            ("-shop", "must start with a lowercase letter or a digit"),
            ("_shop", "must start with a lowercase letter or a digit"),
            ("Shop", "must start with a lowercase letter or a digit"),
            ("shop/1", "character '/' at position 4 is not allowed"),
            ("shop 1", "character ' ' at position 4 is not allowed"),
            ("shopÉ", "character 'É' at position 4 is not allowed"),
        ];
        for (input, expected) in cases {
            let err = InstanceId::new(input).unwrap_err();
            assert!(err.to_string().contains(expected), "{input:?}: {err}");
            assert_eq!(err.what(), "instance id");
        }
        let err = InstanceId::new("a".repeat(64)).unwrap_err();
        assert!(
            err.problem().contains("at most 63 characters, got 64"),
            "{err}"
        );
    }

    #[test]
    fn serde_goes_through_validation() {
        let id: InstanceId = serde_json::from_str("\"woo-main\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"woo-main\"");
        let err = serde_json::from_str::<InstanceId>("\"Woo Main\"").unwrap_err();
        assert!(
            err.to_string().contains("invalid instance id 'Woo Main'"),
            "{err}"
        );
    }
}
