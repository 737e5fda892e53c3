//! What posting an order document would send to the ERP, built the way the
//! order worker builds it, and not sent.

use std::collections::BTreeSet;

use mlc_domain::mapping::map_order;
use mlc_domain::model::Sku;
use mlc_domain::order::{OrderDocument, OrderDocumentStatus};

use super::{InstanceOps, OperatorError, Preview};

/// The customer number shown while the order's customer is not resolved.
pub const NEW_CUSTOMER: &str = "(new customer)";

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
        Some(number) => number.to_owned(),
        None => match &order.customer.email {
            Some(email) => match ops.erp.find_customer_by_email(email).await? {
                Some(number) => {
                    notes.push(format!(
                        "customer not resolved yet: {erp} customer {number} has the e-mail {} \
                         and would be matched",
                        email.as_str()
                    ));
                    number
                }
                None => {
                    notes.push(format!(
                        "customer not resolved yet: no {erp} customer has the e-mail {}; a new \
                         customer would be created and its number used here",
                        email.as_str()
                    ));
                    NEW_CUSTOMER.to_owned()
                }
            },
            None => {
                notes.push(format!(
                    "customer not resolved yet and without e-mail; a new {erp} customer would be \
                     created and its number used here"
                ));
                NEW_CUSTOMER.to_owned()
            }
        },
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
    let erp_order = map_order(order, &customer, &ops.rules, resolve).map_err(|e| {
        OperatorError::Unmapped(format!(
            "{e}: add it to the instance's mapping.skus or create the item in {erp}"
        ))
    })?;
    let request = ops
        .erp
        .prepare_order(&erp_order)
        .map_err(|e| OperatorError::Unmapped(format!("the {erp} request cannot be built: {e}")))?;
    Ok(Preview {
        document_id: id.to_owned(),
        erp_order,
        request,
        notes,
    })
}
