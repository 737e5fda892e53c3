//! A postal address as every connector maps it.

use serde::{Deserialize, Serialize};

/// A postal address (billing or shipping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Given name of the addressee.
    pub first_name: String,
    /// Family name of the addressee.
    pub last_name: String,
    /// Company at the address, if any.
    pub company: Option<String>,
    /// First street line.
    pub line1: String,
    /// Second street line, if any.
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or region code, if the country uses one.
    pub region: Option<String>,
    /// Postal or ZIP code, if the country uses one.
    pub postal_code: Option<String>,
    /// Country, ISO 3166-1 alpha-2 (e.g. "CA").
    pub country: String,
    /// Phone number at the address, if given.
    pub phone: Option<String>,
}
