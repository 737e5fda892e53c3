//! An amount of money in one currency; exact decimals, never floats.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::CurrencyCode;

/// An exact amount in a currency.
///
/// The amount is (de)serialized as a JSON string (`"12.50"`) and a JSON number
/// is refused, so no value ever passes through a binary float on its way in or
/// out. The scale is kept as given ("12.50" stays "12.50").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount; may be negative (refunds, discounts expressed as negatives).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The currency the amount is in.
    pub currency: CurrencyCode,
}

/// Arithmetic on [`Money`] that cannot give a meaningful result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Two amounts in different currencies were combined.
    #[error("cannot combine {left} with {right}: different currencies")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: CurrencyCode,
        /// The currency of the right operand.
        right: CurrencyCode,
    },
    /// The result does not fit in a `Decimal`.
    #[error("amount overflow computing {left} {op} {right}")]
    Overflow {
        /// The left operand.
        left: Decimal,
        /// "+" or "-".
        op: &'static str,
        /// The right operand.
        right: Decimal,
    },
}

impl Money {
    /// An amount in a currency.
    pub fn new(amount: Decimal, currency: CurrencyCode) -> Self {
        Self { amount, currency }
    }

    /// Zero in `currency`.
    pub fn zero(currency: CurrencyCode) -> Self {
        Self::new(Decimal::ZERO, currency)
    }

    /// `self + other`, refusing mixed currencies and overflow.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.combine(other, "+", Decimal::checked_add)
    }

    /// `self - other`, refusing mixed currencies and overflow.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.combine(other, "-", Decimal::checked_sub)
    }

    fn combine(
        &self,
        other: &Money,
        op: &'static str,
        f: fn(Decimal, Decimal) -> Option<Decimal>,
    ) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency.clone(),
                right: other.currency.clone(),
            });
        }
        let amount = f(self.amount, other.amount).ok_or(MoneyError::Overflow {
            left: self.amount,
            op,
            right: other.amount,
        })?;
        Ok(Money::new(amount, self.currency.clone()))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn usd(amount: &str) -> Money {
        Money::new(
            Decimal::from_str(amount).unwrap(),
            CurrencyCode::new("USD").unwrap(),
        )
    }

    #[test]
    fn serializes_amount_as_a_string_keeping_scale() {
        let json = serde_json::to_string(&usd("12.50")).unwrap();
        assert_eq!(json, r#"{"amount":"12.50","currency":"USD"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, usd("12.50"));
        assert_eq!(back.amount.to_string(), "12.50");
    }

    #[test]
    fn refuses_json_numbers_for_amounts() {
        let err = serde_json::from_str::<Money>(r#"{"amount":12.5,"currency":"USD"}"#);
        assert!(err.is_err());
    }

    #[test]
    fn refuses_invalid_currency_when_deserializing() {
        let err = serde_json::from_str::<Money>(r#"{"amount":"1","currency":"usd"}"#).unwrap_err();
        assert!(
            err.to_string().contains("invalid currency code 'usd'"),
            "{err}"
        );
    }

    #[test]
    fn adds_and_subtracts_exactly() {
        let sum = usd("0.10").checked_add(&usd("0.20")).unwrap();
        assert_eq!(sum, usd("0.30"));
        assert_eq!(sum.checked_sub(&usd("0.30")).unwrap().amount, Decimal::ZERO);
        assert_eq!(usd("1.5").to_string(), "1.5 USD");
    }

    #[test]
    fn refuses_mixed_currencies_and_overflow() {
        let eur = Money::new(Decimal::ONE, CurrencyCode::new("EUR").unwrap());
        assert_eq!(
            usd("1").checked_add(&eur).unwrap_err().to_string(),
            "cannot combine USD with EUR: different currencies"
        );
        let max = Money::new(Decimal::MAX, CurrencyCode::new("USD").unwrap());
        assert!(matches!(
            max.checked_add(&usd("1")),
            Err(MoneyError::Overflow { .. })
        ));
    }
}
