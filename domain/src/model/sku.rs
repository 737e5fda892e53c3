//! A stock keeping unit: the key that ties an item across ERP and channel.

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// Longest SKU accepted; longer than any ERP item number field we map to.
const MAX_LEN: usize = 64;

/// A SKU: trimmed, non-empty, at most 64 characters, no control characters.
/// Case is kept as given, because some ERPs treat item numbers case-sensitively.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    /// Trims and validates `value`.
    pub fn new(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let raw = value.as_ref();
        let trimmed = raw.trim();
        let problem = |p: String| Err(ValidationError::new("sku", raw, p));
        if trimmed.is_empty() {
            return problem("must not be empty".into());
        }
        let len = trimmed.chars().count();
        if len > MAX_LEN {
            return problem(format!("must be at most {MAX_LEN} characters, got {len}"));
        }
        if trimmed.chars().any(char::is_control) {
            return problem("must not contain control characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The SKU as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_text!(Sku);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_case() {
        assert_eq!(Sku::new("  WidGet-01 ").unwrap().as_str(), "WidGet-01");
        assert_eq!(Sku::new("x".repeat(64)).unwrap().as_str().len(), 64);
    }

    #[test]
    fn rejects_empty_long_and_control_characters() {
        assert!(Sku::new(" \t")
            .unwrap_err()
            .to_string()
            .contains("must not be empty"));
        let err = Sku::new("x".repeat(65)).unwrap_err();
        assert!(
            err.problem().contains("at most 64 characters, got 65"),
            "{err}"
        );
        assert!(Sku::new("a\u{0}b")
            .unwrap_err()
            .problem()
            .contains("control"));
    }

    #[test]
    fn serde_goes_through_validation() {
        let sku: Sku = serde_json::from_str("\" A-1 \"").unwrap();
        assert_eq!(serde_json::to_string(&sku).unwrap(), "\"A-1\"");
        let err = serde_json::from_str::<Sku>("\"\"").unwrap_err();
        assert!(err.to_string().contains("invalid sku"), "{err}");
    }
}
