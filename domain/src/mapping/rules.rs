//! The instance's mapping table and the functions that turn channel
//! documents into ERP documents with it.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{ErpCreditNote, ErpCustomer, ErpOrder, ErpOrderLine};
use crate::model::{Customer, Order, Refund, RefundLine, Sku};

/// Longest customer number Sage 300 takes (`IDCUST`, 12 characters).
pub const MAX_CUSTOMER_NUMBER_LEN: usize = 12;

/// How an instance maps channel values to ERP values: the part of the
/// configuration's `mapping` section the order flow needs (the binary
/// converts `mlc_config::Mapping` into this).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingRules {
    /// Channel SKU -> ERP item number, for SKUs that differ.
    pub skus: BTreeMap<String, String>,
    /// Channel payment method -> ERP payment code.
    pub payment_methods: BTreeMap<String, String>,
    /// Channel shipping method -> ERP ship-via code.
    pub shipping_methods: BTreeMap<String, String>,
    /// Channel customer group -> ERP customer group.
    pub customer_groups: BTreeMap<String, String>,
    /// ERP customer group for new customers whose group is not mapped.
    pub default_customer_group: Option<String>,
    /// Put before every reference written to the ERP (order and credit
    /// note), to keep several stores of one company apart.
    pub reference_prefix: Option<String>,
}

/// Why a channel document cannot be mapped. Retrying does not help: the
/// mapping (or the ERP's item master) must change first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// A line's SKU is neither in the mapping table nor an ERP item number.
    #[error("SKU '{sku}' is not mapped to an ERP item")]
    UnmappedSku {
        /// The channel's SKU.
        sku: String,
    },
    /// The customer has neither a channel id nor an e-mail address, so no
    /// stable ERP customer number can be chosen.
    #[error("customer has neither a channel id nor an e-mail address; cannot choose an ERP customer number")]
    NoCustomerKey,
}

impl MappingRules {
    /// The ERP item number of `sku`: the explicit table wins; otherwise
    /// `resolve_item` (the ERP item numbers known to exist, identity mapping).
    pub fn item_number(
        &self,
        sku: &Sku,
        resolve_item: &impl Fn(&Sku) -> Option<String>,
    ) -> Result<String, MappingError> {
        if let Some(item) = self.skus.get(sku.as_str()) {
            return Ok(item.clone());
        }
        resolve_item(sku).ok_or_else(|| MappingError::UnmappedSku {
            sku: sku.as_str().to_owned(),
        })
    }

    /// The reference of a channel order: its number without a leading `#`,
    /// after the configured prefix.
    pub fn order_reference(&self, order: &Order) -> String {
        let number = order.number.trim().trim_start_matches('#');
        let number = if number.is_empty() {
            order.source_id.as_str()
        } else {
            number
        };
        format!("{}{number}", self.reference_prefix.as_deref().unwrap_or(""))
    }

    /// The reference of a refund's credit note: `{order reference}-R{refund id}`.
    pub fn credit_note_reference(&self, order: &Order, refund: &Refund) -> String {
        format!("{}-R{}", self.order_reference(order), refund.source_id)
    }
}

/// Maps a channel order to the ERP sales order for customer `customer_number`.
pub fn map_order(
    order: &Order,
    customer_number: &str,
    rules: &MappingRules,
    resolve_item: impl Fn(&Sku) -> Option<String>,
) -> Result<ErpOrder, MappingError> {
    let lines = order
        .lines
        .iter()
        .map(|line| {
            Ok(ErpOrderLine {
                item_number: rules.item_number(&line.sku, &resolve_item)?,
                sku: line.sku.as_str().to_owned(),
                description: line.name.clone(),
                quantity: line.quantity,
                unit_price: line.unit_price.amount,
            })
        })
        .collect::<Result<Vec<_>, MappingError>>()?;
    Ok(ErpOrder {
        reference: rules.order_reference(order),
        customer_number: customer_number.to_owned(),
        order_date: order.created_at.date_naive(),
        currency: order.currency.clone(),
        bill_to: order.billing_address.clone(),
        ship_to: order.shipping_address.clone(),
        lines,
        shipping_total: order.shipping_total.amount,
        discount_total: order.discount_total.amount,
        payment_code: order
            .payment_method
            .as_ref()
            .and_then(|method| rules.payment_methods.get(method).cloned()),
        // The canonical order carries no shipping method yet.
        ship_via: None,
        comment: order.notes.clone(),
    })
}

/// Maps a refund of `order` (posted as `order_number` for `customer_number`)
/// to an ERP credit note. Lines are mapped like the order's; the unit price
/// of a line is its refunded amount divided by its quantity.
pub fn map_credit_note(
    order: &Order,
    refund: &Refund,
    order_number: &str,
    customer_number: &str,
    rules: &MappingRules,
    resolve_item: impl Fn(&Sku) -> Option<String>,
) -> Result<ErpCreditNote, MappingError> {
    // A full refund made without lines credits every line of the order:
    // the ERP then books the goods back instead of a bare amount.
    let full_refund_lines;
    let refund_lines = if refund.lines.is_empty()
        && refund.amount.amount.abs() >= order.grand_total.amount
        && !order.lines.is_empty()
    {
        full_refund_lines = order
            .lines
            .iter()
            .map(|l| RefundLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
                amount: l.total.clone(),
            })
            .collect::<Vec<_>>();
        &full_refund_lines
    } else {
        &refund.lines
    };
    let lines = refund_lines
        .iter()
        .map(|line| {
            let quantity = line.quantity.abs();
            let amount = line.amount.amount.abs();
            let description = order
                .lines
                .iter()
                .find(|l| l.sku == line.sku)
                .map_or_else(|| line.sku.as_str().to_owned(), |l| l.name.clone());
            Ok(ErpOrderLine {
                item_number: rules.item_number(&line.sku, &resolve_item)?,
                sku: line.sku.as_str().to_owned(),
                description,
                quantity,
                unit_price: if quantity.is_zero() {
                    amount
                } else {
                    (amount / quantity).round_dp(6)
                },
            })
        })
        .collect::<Result<Vec<_>, MappingError>>()?;
    Ok(ErpCreditNote {
        reference: rules.credit_note_reference(order, refund),
        customer_number: customer_number.to_owned(),
        order_number: order_number.to_owned(),
        date: refund.created_at.date_naive(),
        lines,
        amount: refund.amount.amount.abs(),
        reason: refund.reason.clone(),
    })
}

/// The ERP customer number for a new customer, stable for the same channel
/// customer so that a retried create finds the first: `W` + the channel id
/// for a registered customer, `G` + the first 10 hex digits (upper case) of
/// SHA-256 of the lower-cased e-mail for a guest. An id too long for 12
/// characters is hashed like a guest's e-mail, after `W`.
pub fn new_customer_number(customer: &Customer) -> Result<String, MappingError> {
    if let Some(id) = customer.source_id.as_deref().map(str::trim) {
        if !id.is_empty() && id != "0" {
            let candidate = format!("W{}", id.to_uppercase());
            if candidate.chars().count() <= MAX_CUSTOMER_NUMBER_LEN
                && candidate
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Ok(candidate);
            }
            return Ok(format!("W{}", short_hash(id)));
        }
    }
    let email = customer.email.as_ref().ok_or(MappingError::NoCustomerKey)?;
    Ok(format!("G{}", short_hash(&email.as_str().to_lowercase())))
}

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(5).map(|b| format!("{b:02X}")).collect()
}

/// The ERP customer for `customer` under `number`: name (company, else
/// "first last"), e-mail, phone, contact, billing address and mapped group
/// (else the default group).
pub fn map_customer(customer: &Customer, number: &str, rules: &MappingRules) -> ErpCustomer {
    let person = format!(
        "{} {}",
        customer.first_name.trim(),
        customer.last_name.trim()
    )
    .trim()
    .to_owned();
    let name = match customer.company.as_deref().map(str::trim) {
        Some(company) if !company.is_empty() => company.to_owned(),
        _ if !person.is_empty() => person.clone(),
        _ => customer
            .email
            .as_ref()
            .map_or_else(|| number.to_owned(), |e| e.as_str().to_owned()),
    };
    ErpCustomer {
        number: number.to_owned(),
        name,
        email: customer.email.clone(),
        phone: customer.phone.clone(),
        contact: (!person.is_empty()).then_some(person),
        address: customer
            .billing_address
            .clone()
            .or_else(|| customer.shipping_address.clone()),
        group: customer
            .group
            .as_ref()
            .and_then(|g| rules.customer_groups.get(g).cloned())
            .or_else(|| rules.default_customer_group.clone()),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use rust_decimal::Decimal;

    use super::*;
    use crate::model::{Email, RefundLine};
    use crate::test_fixtures::{at, money, sample_order};

    fn erp_items(sku: &Sku) -> Option<String> {
        (sku.as_str() == "WIDGET-1").then(|| "WIDGET-1".to_owned())
    }

    fn rules() -> MappingRules {
        MappingRules {
            skus: [("GADGET-2".to_owned(), "A1-100/0".to_owned())].into(),
            payment_methods: [("card".to_owned(), "CC".to_owned())].into(),
            ..Default::default()
        }
    }

    #[test]
    fn order_maps_lines_reference_and_payment() {
        let order = sample_order();
        let erp = map_order(&order, "W77", &rules(), erp_items).unwrap();
        assert_eq!(erp.reference, "1001");
        assert_eq!(erp.customer_number, "W77");
        assert_eq!(erp.order_date, at(1, 9).date_naive());
        let items: Vec<_> = erp.lines.iter().map(|l| l.item_number.as_str()).collect();
        assert_eq!(items, ["WIDGET-1", "A1-100/0"]);
        assert_eq!(erp.lines[0].quantity, Decimal::from(2));
        assert_eq!(erp.lines[0].unit_price, Decimal::from_str("20.00").unwrap());
        assert_eq!(erp.payment_code.as_deref(), Some("CC"));
        assert_eq!(erp.shipping_total, Decimal::from_str("10.00").unwrap());
        assert_eq!(erp.discount_total, Decimal::from_str("2.00").unwrap());
    }

    #[test]
    fn explicit_mapping_wins_over_the_resolver() {
        let mut rules = rules();
        rules.skus.insert("WIDGET-1".into(), "B-9".into());
        let erp = map_order(&sample_order(), "W77", &rules, erp_items).unwrap();
        assert_eq!(erp.lines[0].item_number, "B-9");
    }

    #[test]
    fn unmapped_sku_is_named() {
        let err =
            map_order(&sample_order(), "W77", &MappingRules::default(), erp_items).unwrap_err();
        assert_eq!(
            err,
            MappingError::UnmappedSku {
                sku: "GADGET-2".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "SKU 'GADGET-2' is not mapped to an ERP item"
        );
    }

    #[test]
    fn reference_takes_the_prefix() {
        let rules = MappingRules {
            reference_prefix: Some("WEB-".into()),
            ..rules()
        };
        assert_eq!(rules.order_reference(&sample_order()), "WEB-1001");
    }

    #[test]
    fn credit_note_maps_refunded_lines() {
        let order = sample_order();
        let refund = Refund {
            source_id: "55".into(),
            order_source_id: "1001".into(),
            amount: money("40.00"),
            reason: Some("broken".into()),
            lines: vec![RefundLine {
                sku: Sku::new("WIDGET-1").unwrap(),
                quantity: Decimal::from(-2),
                amount: money("-40.00"),
            }],
            created_at: at(4, 9),
        };
        let note = map_credit_note(&order, &refund, "ORD-1", "W77", &rules(), erp_items).unwrap();
        assert_eq!(note.reference, "1001-R55");
        assert_eq!(note.order_number, "ORD-1");
        assert_eq!(note.amount, Decimal::from_str("40.00").unwrap());
        assert_eq!(note.lines.len(), 1);
        assert_eq!(note.lines[0].quantity, Decimal::from(2));
        assert_eq!(note.lines[0].unit_price, Decimal::from(20));
        assert_eq!(note.lines[0].description, "Item WIDGET-1");
    }

    #[test]
    fn full_refund_without_lines_credits_every_line() {
        let order = sample_order();
        let refund = Refund {
            source_id: "56".into(),
            order_source_id: "1001".into(),
            amount: order.grand_total.clone(),
            reason: None,
            lines: vec![],
            created_at: at(4, 9),
        };
        let note = map_credit_note(&order, &refund, "ORD-1", "W77", &rules(), erp_items).unwrap();
        assert_eq!(note.lines.len(), order.lines.len());
        for (credited, ordered) in note.lines.iter().zip(&order.lines) {
            assert_eq!(credited.sku, ordered.sku.as_str());
            assert_eq!(credited.quantity, ordered.quantity);
        }
        // A partial amount-only refund stays without lines.
        let partial = Refund {
            amount: money("1.00"),
            ..refund
        };
        let note = map_credit_note(&order, &partial, "ORD-1", "W77", &rules(), erp_items).unwrap();
        assert!(note.lines.is_empty());
    }

    #[test]
    fn new_customer_numbers_are_stable_and_short() {
        let mut customer = sample_order().customer;
        assert_eq!(new_customer_number(&customer).unwrap(), "W77");
        customer.source_id = None;
        let guest = new_customer_number(&customer).unwrap();
        assert_eq!(guest.len(), 11);
        assert!(guest.starts_with('G'));
        customer.email = Some(Email::new("JANE@Example.com").unwrap());
        assert_eq!(new_customer_number(&customer).unwrap(), guest);
        customer.source_id = Some("0".into());
        assert_eq!(new_customer_number(&customer).unwrap(), guest);
        customer.source_id = Some("123456789012345".into());
        let long = new_customer_number(&customer).unwrap();
        assert!(long.starts_with('W') && long.len() == 11, "{long}");
        customer.source_id = None;
        customer.email = None;
        assert_eq!(
            new_customer_number(&customer),
            Err(MappingError::NoCustomerKey)
        );
    }

    #[test]
    fn customer_maps_name_and_group() {
        let mut customer = sample_order().customer;
        customer.group = Some("wholesale".into());
        let rules = MappingRules {
            customer_groups: [("wholesale".to_owned(), "WHL".to_owned())].into(),
            default_customer_group: Some("RTL".into()),
            ..Default::default()
        };
        let erp = map_customer(&customer, "W77", &rules);
        assert_eq!(erp.name, "Jane Doe");
        assert_eq!(erp.group.as_deref(), Some("WHL"));
        assert_eq!(erp.address.unwrap().city, "Vancouver");
        customer.group = Some("other".into());
        customer.company = Some("Acme".into());
        let erp = map_customer(&customer, "W77", &rules);
        assert_eq!(erp.group.as_deref(), Some("RTL"));
        assert_eq!(erp.name, "Acme");
        assert_eq!(erp.contact.as_deref(), Some("Jane Doe"));
    }
}
