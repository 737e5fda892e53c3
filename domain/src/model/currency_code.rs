//! ISO 4217 currency code.

use std::fmt;
use std::str::FromStr;

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

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CurrencyCode {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for CurrencyCode {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<CurrencyCode> for String {
    fn from(code: CurrencyCode) -> Self {
        code.0
    }
}

impl AsRef<str> for CurrencyCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

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
