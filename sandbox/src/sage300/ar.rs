//! AR/ARCustomers (facts §1.3: all five verbs; fields §1.5).
//!
//! The address and e-mail property names are UNVERIFIED in the facts (read
//! them from `AR/$metadata`); the simulator decides on `AddressLine1..4`,
//! `City`, `StateProvince`, `ZipPostalCode`, `Country`, `PhoneNumber`,
//! `ContactName` and `Email`.

use serde::{Deserialize, Serialize};

use super::entity::{Entity, YesNo};
use super::errors::SageError;

/// `Status` of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CustomerStatus {
    /// Active.
    #[default]
    Active,
    /// Inactive.
    Inactive,
}

/// `AccountType` of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AccountType {
    /// Open item.
    #[default]
    OpenItem,
    /// Balance forward.
    BalanceForward,
}

/// One row of `CustomerOptionalFieldValues`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct CustomerOptionalFieldValue {
    /// The customer.
    pub customer_number: String,
    /// The optional field.
    pub optional_field: String,
    /// Its value.
    pub value: String,
    /// Its type, e.g. `Text`.
    pub customer_optional_field_value_type: String,
    /// PATCH detail operation (facts §1.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_operation: Option<String>,
}

/// An AR customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct Customer {
    /// The entity key.
    pub customer_number: String,
    /// Short name (10 characters).
    pub short_name: String,
    /// Name.
    pub customer_name: String,
    /// Customer group.
    pub group_code: String,
    /// National account.
    pub national_account: String,
    /// `Active` or `Inactive`.
    pub status: CustomerStatus,
    /// `Yes` or `No`.
    pub on_hold: YesNo,
    /// When made inactive.
    pub inactive_date: Option<String>,
    /// Date of the last change, no time of day (facts §1.6).
    pub date_last_maintained: String,
    /// Address line 1.
    pub address_line1: String,
    /// Address line 2.
    pub address_line2: String,
    /// Address line 3.
    pub address_line3: String,
    /// Address line 4.
    pub address_line4: String,
    /// City.
    pub city: String,
    /// State or province.
    pub state_province: String,
    /// Zip or postal code.
    pub zip_postal_code: String,
    /// Country.
    pub country: String,
    /// Telephone.
    pub phone_number: String,
    /// Contact.
    pub contact_name: String,
    /// E-mail.
    pub email: String,
    /// Account set.
    pub account_set: String,
    /// `OpenItem` or `BalanceForward`.
    pub account_type: AccountType,
    /// Billing cycle.
    pub billing_cycle: String,
    /// Interest profile.
    pub interest_profile: String,
    /// Currency.
    pub currency_code: String,
    /// `Yes` or `No`.
    pub print_statements: YesNo,
    /// Terms code.
    pub terms: String,
    /// Tax group.
    pub tax_group: String,
    /// Credit limit.
    pub credit_limit_customer_currency: f64,
    /// Price list used for the customer's orders.
    pub customer_price_list: String,
    /// Average days to pay.
    pub number_of_days_to_pay: i64,
    /// Amount past due.
    pub amount_past_due: f64,
    /// Balance.
    pub balance_due_in_customer_currency: f64,
    /// Date of the last invoice.
    pub date_of_last_invoice: Option<String>,
    /// Optional fields.
    pub customer_optional_field_values: Vec<CustomerOptionalFieldValue>,
}

impl Default for Customer {
    fn default() -> Self {
        Customer {
            customer_number: String::new(),
            short_name: String::new(),
            customer_name: String::new(),
            group_code: "RTL".into(),
            national_account: String::new(),
            status: CustomerStatus::Active,
            on_hold: YesNo::No,
            inactive_date: None,
            date_last_maintained: String::new(),
            address_line1: String::new(),
            address_line2: String::new(),
            address_line3: String::new(),
            address_line4: String::new(),
            city: String::new(),
            state_province: String::new(),
            zip_postal_code: String::new(),
            country: String::new(),
            phone_number: String::new(),
            contact_name: String::new(),
            email: String::new(),
            account_set: "RETAIL".into(),
            account_type: AccountType::OpenItem,
            billing_cycle: "MTH".into(),
            interest_profile: "RTL".into(),
            currency_code: super::HOME_CURRENCY.into(),
            print_statements: YesNo::Yes,
            terms: "NET30".into(),
            tax_group: "BC".into(),
            credit_limit_customer_currency: 5000.0,
            customer_price_list: super::PRICE_LIST.into(),
            number_of_days_to_pay: 0,
            amount_past_due: 0.0,
            balance_due_in_customer_currency: 0.0,
            date_of_last_invoice: None,
            customer_optional_field_values: Vec::new(),
        }
    }
}

impl Entity for Customer {
    const SET: &'static str = "ARCustomers";
    const MODULE: &'static str = "AR";
    const KEYS: &'static [&'static str] = &["CustomerNumber"];

    fn indexed(&self, property: &str) -> Option<&str> {
        match property {
            "CustomerNumber" => Some(&self.customer_number),
            "Email" => Some(&self.email),
            _ => None,
        }
    }

    fn touch(&mut self, today: &str) {
        self.date_last_maintained = today.to_string();
    }
}

impl Customer {
    /// Checks what the AR view would refuse on insert or update.
    pub fn validate(&mut self) -> Result<(), SageError> {
        let number = &self.customer_number;
        if number.trim().is_empty() {
            return Err(SageError::field_invalid("Customer Number cannot be blank."));
        }
        // Sage key fields are upper-case letters, digits and a few symbols,
        // at most 12 characters.
        if number.len() > 12
            || number
                .chars()
                .any(|c| c.is_ascii_lowercase() || c.is_whitespace())
        {
            return Err(SageError::field_invalid(format!(
                "Customer Number {number} is invalid: use up to 12 upper-case characters without spaces."
            )));
        }
        if self.customer_name.chars().count() > 60 {
            return Err(SageError::field_invalid(
                "Customer Name is longer than 60 characters.",
            ));
        }
        if self.short_name.is_empty() {
            self.short_name = self
                .customer_name
                .chars()
                .take(10)
                .collect::<String>()
                .to_uppercase();
        }
        for row in &mut self.customer_optional_field_values {
            row.customer_number = self.customer_number.clone();
            row.update_operation = None;
        }
        for field in ["InactiveDate", "DateOfLastInvoice"] {
            let slot = if field == "InactiveDate" {
                &mut self.inactive_date
            } else {
                &mut self.date_of_last_invoice
            };
            if let Some(value) = slot.as_ref() {
                *slot = Some(super::dates::normalise(field, value)?).filter(|s| !s.is_empty());
            }
        }
        Ok(())
    }
}
