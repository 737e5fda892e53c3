//! What posting an order document would send to the ERP, built the way the
//! order worker builds it, and not sent.

use std::collections::BTreeSet;

use mlc_domain::mapping::{map_order, new_customer_number};
use mlc_domain::model::Sku;
use mlc_domain::order::{OrderDocument, OrderDocumentStatus};

use super::{InstanceOps, OperatorError, Preview};

/// The customer number shown when the order's customer is not resolved and
/// no number can be foreseen for it (no channel id, no e-mail).
pub const NEW_CUSTOMER: &str = "(new customer)";

/// A number the ERP's request builder accepts, replaced by [`NEW_CUSTOMER`]
/// in what is shown.
const STAND_IN: &str = "NEWCUSTOMER";

/// The ERP customer number a preview uses.
enum Customer {
    /// Known, matched by e-mail, or the stable number it would be created under.
    Resolved(String),
    /// Not foreseeable.
    Placeholder,
}

impl Customer {
    fn number(&self) -> &str {
        match self {
            Customer::Resolved(number) => number,
            Customer::Placeholder => STAND_IN,
        }
    }
}

/// What the order worker would do for an unresolved customer: match it by
/// e-mail, else create it under its stable new-customer number.
async fn unresolved_customer(
    customer: &mlc_domain::model::Customer,
    ops: &InstanceOps,
    notes: &mut Vec<String>,
) -> Result<Customer, OperatorError> {
    let erp = ops.erp.system();
    if let Some(email) = &customer.email {
        if let Some(number) = ops.erp.find_customer_by_email(email).await? {
            notes.push(format!(
                "customer not resolved yet: {erp} customer {number} has the e-mail {} and \
                 would be matched",
                email.as_str()
            ));
            return Ok(Customer::Resolved(number));
        }
    }
    match new_customer_number(customer) {
        Ok(number) => {
            notes.push(format!(
                "customer not resolved yet: no {erp} customer has this e-mail; a new customer \
                 would be created as {number}"
            ));
            Ok(Customer::Resolved(number))
        }
        Err(e) => {
            notes.push(format!(
                "customer not resolved yet and no customer number can be chosen ({e}); shown as \
                 {NEW_CUSTOMER}"
            ));
            Ok(Customer::Placeholder)
        }
    }
}

fn replace_string(value: &mut serde_json::Value, from: &str, to: &str) {
    match value {
        serde_json::Value::String(s) if s == from => *s = to.to_owned(),
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|v| replace_string(v, from, to))
        }
        serde_json::Value::Object(map) => {
            map.values_mut().for_each(|v| replace_string(v, from, to))
        }
        _ => {}
    }
}

pub(super) async fn preview(
    id: &str,
    document: &OrderDocument,
    ops: &InstanceOps,
) -> Result<Preview, OperatorError> {
    let erp = ops.erp.system();
    let order = document
        .order()
        .ok_or_else(|| OperatorError::NotFound(format!("no order recorded for '{id}'")))?;
    let mut notes = Vec::new();
    if document.status() == Some(OrderDocumentStatus::Posted) {
        notes.push(format!(
            "already posted to {erp} as {}; the order worker will not post it again",
            document.erp_document_number().unwrap_or("?")
        ));
    }
    if document.revision_after_posting().is_some() {
        notes.push(
            "a newer version of the order arrived after posting; it is not what was posted"
                .to_owned(),
        );
    }
    let customer = match document.erp_customer_id() {
        Some(number) => Customer::Resolved(number.to_owned()),
        None => unresolved_customer(&order.customer, ops, &mut notes).await?,
    };
    // SKUs not in the mapping table are used as they are when the ERP has
    // such an item (as the order worker does).
    let mut existing = BTreeSet::new();
    for line in &order.lines {
        let sku = line.sku.as_str();
        if ops.rules.skus.contains_key(sku) || existing.contains(sku) {
            continue;
        }
        if ops.erp.item_exists(sku).await? {
            existing.insert(sku.to_owned());
        }
    }
    let resolve = |sku: &Sku| {
        existing
            .contains(sku.as_str())
            .then(|| sku.as_str().to_owned())
    };
    let mut erp_order = map_order(order, customer.number(), &ops.rules, resolve).map_err(|e| {
        OperatorError::Unmapped(format!(
            "{e}: add it to the instance's mapping.skus or create the item in {erp}"
        ))
    })?;
    let mut request = ops
        .erp
        .prepare_order(&erp_order)
        .map_err(|e| OperatorError::Unmapped(format!("the {erp} request cannot be built: {e}")))?;
    if let Customer::Placeholder = customer {
        // Built with a stand-in number the ERP accepts; shown as what it is.
        erp_order.customer_number = NEW_CUSTOMER.to_owned();
        replace_string(&mut request.body, STAND_IN, NEW_CUSTOMER);
    }
    Ok(Preview {
        document_id: id.to_owned(),
        erp_order,
        request,
        notes,
    })
}
