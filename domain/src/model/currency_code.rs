//! ISO 4217 currency code.

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// A currency code: exactly three uppercase ASCII letters, e.g. `USD`.
///
/// Lowercase input is rejected rather than fixed, so that a connector that
/// maps currencies wrongly is noticed instead of silently patched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CurrencyCode(String);

impl CurrencyCode {
    /// Validates `value` as three uppercase letters.
    pub fn new(value: impl AsRef<str>) -> Result<Self, ValidationError> {
        let value = value.as_ref();
        if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(
                "currency code",
                value,
                "must be exactly three uppercase letters, e.g. 'USD'",
            ))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_text!(CurrencyCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_three_uppercase_letters() {
        assert_eq!(CurrencyCode::new("CAD").unwrap().as_str(), "CAD");
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "US", "USDX", "usd", "U5D", " USD", "ÉUR"] {
            let err = CurrencyCode::new(bad).unwrap_err();
            assert!(
                err.to_string()
                    .contains("must be exactly three uppercase letters"),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn serde_goes_through_validation() {
        let code: CurrencyCode = serde_json::from_str("\"EUR\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"EUR\"");
        assert!(serde_json::from_str::<CurrencyCode>("\"eur\"").is_err());
    }
}
