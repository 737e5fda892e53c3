//! A customer as every connector maps it.

use serde::{Deserialize, Serialize};

use super::{Address, Email};

/// A customer of a channel or an ERP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The customer's id in the source system; `None` for a guest checkout.
    pub source_id: Option<String>,
    /// The email address, the usual matching key; `None` when the source has none.
    pub email: Option<Email>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Company name, if any.
    pub company: Option<String>,
    /// Phone number, if any.
    pub phone: Option<String>,
    /// Default billing address, if known.
    pub billing_address: Option<Address>,
    /// Default shipping address, if known.
    pub shipping_address: Option<Address>,
    /// Customer group or class (price group, wholesale, ...), if any.
    pub group: Option<String>,
}
