//! A sales order from a channel, and the check that its totals add up.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Address, CurrencyCode, Customer, Money, MoneyError, OrderLine};

/// The status of an order in the channel that took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, awaiting payment.
    Pending,
    /// Paid, to be fulfilled.
    Processing,
    /// Held by the merchant.
    OnHold,
    /// Fulfilled.
    Completed,
    /// Cancelled.
    Cancelled,
    /// Refunded in full.
    Refunded,
    /// Payment failed.
    Failed,
    /// A status the canonical model has no name for, as the channel spells it.
    Other(String),
}

/// A sales order taken by a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The order's id in the channel (stable, used in the document id).
    pub source_id: String,
    /// The order number as the shop shows it to the buyer.
    pub number: String,
    /// The channel's status of the order.
    pub status: OrderStatus,
    /// The currency of every amount on the order.
    pub currency: CurrencyCode,
    /// Who placed the order.
    pub customer: Customer,
    /// Billing address of this order.
    pub billing_address: Option<Address>,
    /// Shipping address of this order.
    pub shipping_address: Option<Address>,
    /// The lines.
    pub lines: Vec<OrderLine>,
    /// Shipping charged.
    pub shipping_total: Money,
    /// Tax charged (lines and shipping).
    pub tax_total: Money,
    /// Order-level discount, as a positive amount.
    pub discount_total: Money,
    /// What the buyer pays.
    pub grand_total: Money,
    /// When the order was placed.
    pub created_at: DateTime<Utc>,
    /// When the channel last changed it; orders later deliveries of the same order.
    pub modified_at: DateTime<Utc>,
    /// The payment method as the channel names it, if any.
    pub payment_method: Option<String>,
    /// The buyer's note, if any.
    pub notes: Option<String>,
    /// The ids of the refunds the channel has made on the order so far: a
    /// partial refund changes neither status nor total, only this list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refund_ids: Vec<String>,
}

/// Why an order's totals do not add up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderTotalsError {
    /// An amount is not in the order's currency.
    #[error("order {order_number}: {field} is in {found} but the order is in {expected}")]
    CurrencyMismatch {
        /// The order number as the shop shows it.
        order_number: String,
        /// Which amount, e.g. "line '3' total" or "shipping total".
        field: String,
        /// The order's currency.
        expected: CurrencyCode,
        /// The currency of that amount.
        found: CurrencyCode,
    },
    /// The amounts are too large to add up.
    #[error("order {order_number}: totals cannot be computed: {source}")]
    Arithmetic {
        /// The order number as the shop shows it.
        order_number: String,
        /// The arithmetic failure.
        source: MoneyError,
    },
    /// Lines, shipping, tax and discount do not give the grand total.
    #[error("order {order_number}: {breakdown}")]
    Mismatch {
        /// The order number as the shop shows it.
        order_number: String,
        /// The amounts that were added up (boxed: errors travel in `Result`s).
        breakdown: Box<TotalsBreakdown>,
    },
}

/// The parts of an order's totals check, for a [`OrderTotalsError::Mismatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsBreakdown {
    /// The currency of every amount.
    pub currency: CurrencyCode,
    /// Sum of the line totals.
    pub lines: Decimal,
    /// Shipping total.
    pub shipping: Decimal,
    /// Tax total.
    pub tax: Decimal,
    /// Discount total.
    pub discount: Decimal,
    /// lines + shipping + tax - discount.
    pub computed: Decimal,
    /// The grand total the order states.
    pub grand_total: Decimal,
}

impl fmt::Display for TotalsBreakdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lines {} + shipping {} + tax {} - discount {} = {} {}, but the grand total is {} {}",
            self.lines,
            self.shipping,
            self.tax,
            self.discount,
            self.computed,
            self.currency,
            self.grand_total,
            self.currency
        )
    }
}

impl Order {
    /// Checks that every amount is in the order's currency and that
    /// `sum(line totals) + shipping + tax - discount == grand total`, exactly.
    pub fn check_totals(&self) -> Result<(), OrderTotalsError> {
        let same_currency = |field: String, money: &Money| {
            if money.currency == self.currency {
                Ok(())
            } else {
                Err(OrderTotalsError::CurrencyMismatch {
                    order_number: self.number.clone(),
                    field,
                    expected: self.currency.clone(),
                    found: money.currency.clone(),
                })
            }
        };
        for line in &self.lines {
            same_currency(
                format!("line '{}' unit price", line.line_id),
                &line.unit_price,
            )?;
            same_currency(format!("line '{}' tax", line.line_id), &line.tax)?;
            same_currency(format!("line '{}' total", line.line_id), &line.total)?;
        }
        same_currency("shipping total".into(), &self.shipping_total)?;
        same_currency("tax total".into(), &self.tax_total)?;
        same_currency("discount total".into(), &self.discount_total)?;
        same_currency("grand total".into(), &self.grand_total)?;

        let arithmetic = |source| OrderTotalsError::Arithmetic {
            order_number: self.number.clone(),
            source,
        };
        let lines = self
            .lines
            .iter()
            .try_fold(Money::zero(self.currency.clone()), |sum, line| {
                sum.checked_add(&line.total)
            })
            .map_err(arithmetic)?;
        let computed = lines
            .checked_add(&self.shipping_total)
            .and_then(|m| m.checked_add(&self.tax_total))
            .and_then(|m| m.checked_sub(&self.discount_total))
            .map_err(arithmetic)?;
        // Decimal equality is numeric: 10.0 == 10.00.
        if computed.amount == self.grand_total.amount {
            return Ok(());
        }
        Err(OrderTotalsError::Mismatch {
            order_number: self.number.clone(),
            breakdown: Box::new(TotalsBreakdown {
                currency: self.currency.clone(),
                lines: lines.amount,
                shipping: self.shipping_total.amount,
                tax: self.tax_total.amount,
                discount: self.discount_total.amount,
                computed: computed.amount,
                grand_total: self.grand_total.amount,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{money, sample_order};

    #[test]
    fn sample_order_adds_up() {
        sample_order().check_totals().unwrap();
    }

    #[test]
    fn equal_amounts_with_different_scales_add_up() {
        let mut order = sample_order();
        order.grand_total = money("103.000");
        order.check_totals().unwrap();
    }

    #[test]
    fn mismatch_names_every_part() {
        let mut order = sample_order();
        order.grand_total = money("104.00");
        let err = order.check_totals().unwrap_err();
        assert_eq!(
            err.to_string(),
            "order #1001: lines 90.00 + shipping 10.00 + tax 5.00 - discount 2.00 \
             = 103.00 USD, but the grand total is 104.00 USD"
        );
    }

    #[test]
    fn foreign_currency_is_named() {
        let mut order = sample_order();
        order.lines[1].total.currency = CurrencyCode::new("EUR").unwrap();
        let err = order.check_totals().unwrap_err();
        assert_eq!(
            err.to_string(),
            "order #1001: line '2' total is in EUR but the order is in USD"
        );
    }

    #[test]
    fn decimals_serialize_as_strings() {
        let json = serde_json::to_value(sample_order()).unwrap();
        assert_eq!(json["lines"][0]["quantity"], "2");
        assert_eq!(json["lines"][0]["unit_price"]["amount"], "20.00");
        assert_eq!(json["grand_total"]["amount"], "103.00");
        assert_eq!(json["status"], "processing");
        let back: Order = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample_order());
    }

    #[test]
    fn unknown_channel_status_round_trips() {
        let mut order = sample_order();
        order.status = OrderStatus::Other("wc-awaiting-pickup".into());
        let json = serde_json::to_string(&order).unwrap();
        assert_eq!(serde_json::from_str::<Order>(&json).unwrap(), order);
    }
}
