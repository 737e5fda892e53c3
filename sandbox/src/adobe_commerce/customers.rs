//! Customers (facts §3.4): `GET /V1/customers/search?searchCriteria...`
//! (items with `id, group_id, default_billing, default_shipping,
//! created_at, updated_at, created_in, dob, email, firstname, lastname,
//! store_id, website_id, addresses[]`) and `GET /V1/customers/{id}`.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::search::Criteria;
use super::{fmt_date, MageError, State};

/// A postal address as Magento keeps it (`street` is a list of lines).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct Address {
    pub firstname: String,
    pub lastname: String,
    pub company: String,
    pub street: Vec<String>,
    pub city: String,
    pub region: String,
    pub region_code: String,
    pub region_id: u64,
    pub postcode: String,
    pub country_id: String,
    pub telephone: String,
    pub email: String,
}

/// A customer account with one address (default billing and shipping).
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub id: u64,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub dob: Option<String>,
    pub group_id: u64,
    pub store_id: u64,
    pub address: Option<(u64, Address)>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Customer {
    /// `CustomerInterface` as the API answers it.
    pub fn json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "group_id": self.group_id,
            "created_at": fmt_date(self.created_at),
            "updated_at": fmt_date(self.updated_at),
            "created_in": "Default Store View",
            "email": self.email,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "store_id": self.store_id,
            "website_id": 1,
            "addresses": [],
            "disable_auto_group_change": 0,
            "extension_attributes": { "is_subscribed": false },
        });
        if let Some(dob) = &self.dob {
            v["dob"] = dob.clone().into();
        }
        if let Some((id, a)) = &self.address {
            // default_billing/default_shipping are address ids as strings.
            v["default_billing"] = id.to_string().into();
            v["default_shipping"] = id.to_string().into();
            v["addresses"] = json!([{
                "id": id,
                "customer_id": self.id,
                "region": {
                    "region_code": a.region_code,
                    "region": a.region,
                    "region_id": a.region_id,
                },
                "region_id": a.region_id,
                "country_id": a.country_id,
                "street": a.street,
                "company": a.company,
                "telephone": a.telephone,
                "postcode": a.postcode,
                "city": a.city,
                "firstname": a.firstname,
                "lastname": a.lastname,
                "default_shipping": true,
                "default_billing": true,
            }]);
        }
        v
    }
}

const FIELDS: [&str; 12] = [
    "id",
    "group_id",
    "created_at",
    "updated_at",
    "created_in",
    "email",
    "firstname",
    "lastname",
    "store_id",
    "website_id",
    "dob",
    "default_billing",
];

/// `GET /V1/customers/search?searchCriteria...`
pub(crate) fn search(state: &State, c: &Criteria) -> Result<Value, MageError> {
    let rows = state.customers.values().map(Customer::json).collect();
    c.answer(rows, "id", &FIELDS, &state.settings)
}

/// `GET /V1/customers/{id}`
pub(crate) fn get(state: &State, id: &str) -> Result<Value, MageError> {
    let no_such = || {
        MageError::new(404, "No such entity with %fieldName = %fieldValue")
            .with(json!({ "fieldName": "customerId", "fieldValue": id }))
    };
    let id: u64 = id.parse().map_err(|_| no_such())?;
    state
        .customers
        .get(&id)
        .map(Customer::json)
        .ok_or_else(no_such)
}
