//! The eBWS operations (facts §3.1). Each call is stateless and atomic: it
//! signs on with its `Logon` and `companyCode`, checks the three enablement
//! levels and the role task, and either applies entirely or not at all.
//! Fault messages are the sandbox's own wording (the facts give only
//! "An exception occurred."), listed in [`messages`].

use serde_json::{json, Value};

use super::model::{self, money, number, text, Record, CUSTOMER, SALES_ORDER};
use super::soap::Fault;
use super::wsdl::OPERATIONS;
use super::xml::{esc, Element};
use super::{State, DEFAULT_DIVISION, DEFAULT_WAREHOUSE};

/// The fault messages (decisions: the facts do not give them).
pub mod messages {
    /// Wrong user name or password.
    pub const LOGON_FAILED: &str = "Logon failed. The user name or password is invalid.";
    /// System level off.
    pub const SYSTEM_DISABLED: &str = "Web Services are not enabled in System Configuration.";
    /// Diagnostics are for Sage support, remote access off (facts §3.1).
    pub const DIAGNOSTICS_OFF: &str = "Remote access to diagnostic information is disabled.";
}

/// The version `GetContractInformation` reports.
pub const CONTRACT_VERSION: u32 = 1;
/// The assembly version `GetContractInformation` reports.
pub const ASSEMBLY_VERSION: &str = "7.10.0.0";

/// A sales order number as Sage keys it: numeric numbers are zero-filled
/// to seven digits (`123` is `0000123`).
pub fn normalize_order_no(number: &str) -> String {
    let number = number.trim();
    if !number.is_empty() && number.len() < 7 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("{number:0>7}")
    } else {
        number.to_ascii_uppercase()
    }
}

fn param<'a>(call: &'a Element, name: &str) -> &'a str {
    call.child(name).map(|e| e.text.as_str()).unwrap_or("")
}

/// Signs on: enablement, `Logon`, company, then the role task.
fn sign_on(state: &State, call: &Element, task: &str) -> Result<(), Fault> {
    if !state.settings.system_web_services {
        return Err(Fault::client(messages::SYSTEM_DISABLED));
    }
    let logon = call.child("logon");
    // `Logon` member names are UNVERIFIED: only the configured one is read.
    let username = logon
        .and_then(|l| l.child(state.settings.logon_user_element.name()))
        .map(|e| e.text.as_str())
        .unwrap_or("");
    let password = logon
        .and_then(|l| l.child("Password"))
        .map(|e| e.text.as_str())
        .unwrap_or("");
    let Some(user) = state
        .users
        .iter()
        .find(|u| u.username.eq_ignore_ascii_case(username) && u.password == password)
    else {
        return Err(Fault::client(messages::LOGON_FAILED));
    };
    if !user.web_services_enabled {
        return Err(Fault::client(format!(
            "User {} is not enabled for Web Services.",
            user.username
        )));
    }
    let company = param(call, "companyCode");
    if !company.eq_ignore_ascii_case(&state.company_code) {
        return Err(Fault::client(format!("Company code {company} is invalid.")));
    }
    if !state.settings.company_web_services {
        return Err(Fault::client(format!(
            "Web Services are not enabled for company {}.",
            state.company_code
        )));
    }
    if user.denied_tasks.iter().any(|t| t == task) {
        return Err(Fault::client(format!(
            "User {} does not have the security rights for this task ({task}).",
            user.username
        )));
    }
    Ok(())
}

fn result(operation: &str, inner: &str) -> String {
    format!("<{operation}Result>{inner}</{operation}Result>")
}

fn object(operation: &str, record: &Record, fields: &[model::Field]) -> String {
    let mut inner = String::new();
    model::write(record, fields, &mut inner);
    result(operation, &inner)
}

fn read(
    state: &State,
    call: &Element,
    name: &str,
    fields: &[model::Field],
) -> Result<Record, Fault> {
    let element = call
        .child(name)
        .ok_or_else(|| Fault::client(format!("The {name} parameter is required.")))?;
    model::read(element, fields, state.settings.truncate_long_values)
        .map_err(|e| Fault::client(e.0))
}

/// Runs one operation; returns the inside of its `{op}Response` element.
pub fn call(state: &mut State, operation: &str, call: &Element) -> Result<String, Fault> {
    if !OPERATIONS.iter().any(|o| o.name == operation) {
        return Err(Fault::client(format!(
            "The operation '{operation}' is not part of the service contract."
        )));
    }
    match operation {
        "GetContractInformation" => Ok(result(
            operation,
            &format!(
                "<AssemblyVersion>{ASSEMBLY_VERSION}</AssemblyVersion><ContractVersion>{CONTRACT_VERSION}</ContractVersion><NullDateTime>{}</NullDateTime>",
                model::NULL_DATETIME
            ),
        )),
        "GetDiagnosticInformation" => Err(Fault::client(messages::DIAGNOSTICS_OFF)),
        "GetNextCustomerNo" => {
            sign_on(state, call, "customer_create")?;
            Ok(result(operation, &esc(&next_customer_no(state, division(param(call, "arDivisionNo"))))))
        }
        "GetCustomer" => {
            sign_on(state, call, "customer_view")?;
            let (div, no) = (division(param(call, "arDivisionNo")), param(call, "customerNo"));
            let customer = state
                .customer(div, no)
                .ok_or_else(|| Fault::client(customer_not_found(div, no)))?;
            Ok(object(operation, customer, CUSTOMER))
        }
        "CreateCustomer" => {
            sign_on(state, call, "customer_create")?;
            let customer = read(state, call, "customer", CUSTOMER)?;
            let number = create_customer(state, customer)?;
            Ok(result(operation, &esc(&number)))
        }
        "UpdateCustomer" => {
            sign_on(state, call, "customer_modify")?;
            let changes = read(state, call, "customer", CUSTOMER)?;
            update_customer(state, changes)?;
            Ok(String::new())
        }
        "GetNextSalesOrderNo" => {
            sign_on(state, call, "sales_order_create")?;
            Ok(result(operation, &next_sales_order_no(state)))
        }
        "GetSalesOrderTemplate" => {
            sign_on(state, call, "sales_order_create")?;
            let template = json!({
                "OrderDate": format!("{}T00:00:00", &state.now_text()[..10]),
                "OrderType": "S",
                "ARDivisionNo": DEFAULT_DIVISION,
                "WarehouseCode": DEFAULT_WAREHOUSE,
                "Lines": [],
            });
            let template = template.as_object().cloned().unwrap_or_default();
            Ok(object(operation, &template, SALES_ORDER))
        }
        "PreviewSalesOrder" => {
            sign_on(state, call, "sales_order_create")?;
            let order = read(state, call, "salesOrder", SALES_ORDER)?;
            let order = complete_order(state, order)?;
            Ok(object(operation, &order, SALES_ORDER))
        }
        "CreateSalesOrder" => {
            sign_on(state, call, "sales_order_create")?;
            let order = read(state, call, "salesOrder", SALES_ORDER)?;
            let number = create_sales_order(state, order)?;
            Ok(result(operation, &esc(&number)))
        }
        "GetSalesOrder" => {
            sign_on(state, call, "sales_order_view")?;
            let number = param(call, "salesOrderNo");
            let order = state
                .order(number)
                .ok_or_else(|| Fault::client(order_not_found(number)))?;
            Ok(object(operation, order, SALES_ORDER))
        }
        "UpdateSalesOrder" => {
            sign_on(state, call, "sales_order_modify")?;
            let changes = read(state, call, "salesOrder", SALES_ORDER)?;
            update_sales_order(state, changes)?;
            Ok(String::new())
        }
        _ => Err(Fault::server(super::soap::EXCEPTION_OCCURRED)),
    }
}

fn division(text: &str) -> &str {
    if text.trim().is_empty() {
        DEFAULT_DIVISION
    } else {
        text.trim()
    }
}

/// "Customer 01-0002000 was not found."
pub fn customer_not_found(division: &str, number: &str) -> String {
    format!("Customer {division}-{number} was not found.")
}

/// "Sales order 0000123 was not found."
pub fn order_not_found(number: &str) -> String {
    format!("Sales order {} was not found.", normalize_order_no(number))
}

/// The next free customer number in a division (zero-filled, 7 digits).
pub fn next_customer_no(state: &State, division: &str) -> String {
    let highest = state
        .customers
        .iter()
        .filter(|c| text(c, "ARDivisionNo") == division)
        .filter_map(|c| text(c, "CustomerNo").parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("{:07}", highest + 1)
}

/// Hands out the next sales order number (each call uses one up, as the
/// BOI's `nGetNextSalesOrderNo` does).
pub fn next_sales_order_no(state: &mut State) -> String {
    loop {
        state.last_sales_order_no += 1;
        let number = format!("{:07}", state.last_sales_order_no);
        if state.order(&number).is_none() {
            return number;
        }
    }
}

/// Adds a customer; returns its number. A blank number takes the next one;
/// `CustomerName` is required.
pub fn create_customer(state: &mut State, mut customer: Record) -> Result<String, Fault> {
    let div = division(text(&customer, "ARDivisionNo")).to_string();
    let mut number = text(&customer, "CustomerNo").trim().to_ascii_uppercase();
    if number.is_empty() {
        number = next_customer_no(state, &div);
    }
    if state.customer(&div, &number).is_some() {
        return Err(Fault::client(format!(
            "Customer {div}-{number} already exists."
        )));
    }
    if text(&customer, "CustomerName").trim().is_empty() {
        return Err(Fault::client("The CustomerName is required."));
    }
    let now = state.now_text();
    customer.insert("ARDivisionNo".into(), div.into());
    customer.insert("CustomerNo".into(), number.clone().into());
    for (field, default) in [("TermsCode", "01"), ("CountryCode", "USA")] {
        if text(&customer, field).is_empty() {
            customer.insert(field.into(), default.into());
        }
    }
    customer.insert("DateCreated".into(), now.clone().into());
    customer.insert("DateUpdated".into(), now.into());
    state.customers.push(customer);
    Ok(number)
}

/// Changes the fields sent of an existing customer.
pub fn update_customer(state: &mut State, changes: Record) -> Result<(), Fault> {
    let div = division(text(&changes, "ARDivisionNo")).to_string();
    let number = text(&changes, "CustomerNo").trim().to_string();
    let now = state.now_text();
    let customer = state
        .customers
        .iter_mut()
        .find(|c| {
            text(c, "ARDivisionNo") == div && text(c, "CustomerNo").eq_ignore_ascii_case(&number)
        })
        .ok_or_else(|| Fault::client(customer_not_found(&div, &number)))?;
    for (k, v) in changes {
        if k != "ARDivisionNo" && k != "CustomerNo" {
            customer.insert(k, v);
        }
    }
    customer.insert("DateUpdated".into(), now.into());
    Ok(())
}

/// Checks an order and fills what Sage fills: bill-to and ship-to from the
/// customer, line descriptions, default prices (`StandardUnitPrice`),
/// extensions and totals (no tax is computed: every line is non-taxable).
pub fn complete_order(state: &State, mut order: Record) -> Result<Record, Fault> {
    let div = division(text(&order, "ARDivisionNo")).to_string();
    let customer_no = text(&order, "CustomerNo").trim().to_string();
    if customer_no.is_empty() {
        return Err(Fault::client("The CustomerNo is required."));
    }
    let customer = state
        .customer(&div, &customer_no)
        .ok_or_else(|| Fault::client(customer_not_found(&div, &customer_no)))?
        .clone();
    order.insert("ARDivisionNo".into(), div.into());
    order.insert("CustomerNo".into(), text(&customer, "CustomerNo").into());
    let defaults = [
        ("OrderType", "S".to_string()),
        ("OrderDate", format!("{}T00:00:00", &state.now_text()[..10])),
        ("WarehouseCode", DEFAULT_WAREHOUSE.to_string()),
        ("BillToName", text(&customer, "CustomerName").to_string()),
        (
            "BillToAddress1",
            text(&customer, "AddressLine1").to_string(),
        ),
        (
            "BillToAddress2",
            text(&customer, "AddressLine2").to_string(),
        ),
        ("BillToCity", text(&customer, "City").to_string()),
        ("BillToState", text(&customer, "State").to_string()),
        ("BillToZipCode", text(&customer, "ZipCode").to_string()),
        (
            "BillToCountryCode",
            text(&customer, "CountryCode").to_string(),
        ),
        ("ShipToName", text(&customer, "CustomerName").to_string()),
        (
            "ShipToAddress1",
            text(&customer, "AddressLine1").to_string(),
        ),
        ("ShipToCity", text(&customer, "City").to_string()),
        ("ShipToState", text(&customer, "State").to_string()),
        ("ShipToZipCode", text(&customer, "ZipCode").to_string()),
        (
            "ShipToCountryCode",
            text(&customer, "CountryCode").to_string(),
        ),
        ("ShipVia", text(&customer, "ShipMethod").to_string()),
        ("TermsCode", text(&customer, "TermsCode").to_string()),
        ("TaxSchedule", text(&customer, "TaxSchedule").to_string()),
        ("EmailAddress", text(&customer, "EmailAddress").to_string()),
    ];
    for (field, value) in defaults {
        if text(&order, field).is_empty() {
            order.insert(field.into(), value.into());
        }
    }
    let warehouse = text(&order, "WarehouseCode").to_string();
    let lines = order
        .get("Lines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if lines.is_empty() {
        return Err(Fault::client("A sales order must have at least one line."));
    }
    let mut completed = Vec::new();
    let mut total = 0.0;
    for (i, line) in lines.into_iter().enumerate() {
        let mut line = line.as_object().cloned().unwrap_or_default();
        let code = text(&line, "ItemCode").to_string();
        let item = state
            .item(&code)
            .ok_or_else(|| Fault::client(format!("Item code {code} is invalid.")))?;
        let quantity = number(&line, "QuantityOrdered");
        if quantity <= 0.0 {
            return Err(Fault::client(format!(
                "The QuantityOrdered of item {code} must be greater than zero."
            )));
        }
        let price = match line.get("UnitPrice") {
            Some(p) => p.as_f64().unwrap_or(0.0),
            None => item.standard_unit_price,
        };
        let line_warehouse = match text(&line, "WarehouseCode") {
            "" => warehouse.clone(),
            w => w.to_string(),
        };
        if !state.warehouses.iter().any(|(w, _)| *w == line_warehouse) {
            return Err(Fault::client(format!(
                "Warehouse code {line_warehouse} is invalid."
            )));
        }
        let extension = money(quantity * price);
        total += extension;
        line.insert("LineKey".into(), format!("{:06}", i + 1).into());
        line.insert("ItemCode".into(), item.item_code.clone().into());
        line.insert("ItemType".into(), item.item_type.clone().into());
        if text(&line, "ItemCodeDesc").is_empty() {
            line.insert("ItemCodeDesc".into(), item.item_code_desc.clone().into());
        }
        if text(&line, "UnitOfMeasure").is_empty() {
            line.insert(
                "UnitOfMeasure".into(),
                item.standard_unit_of_measure.clone().into(),
            );
        }
        line.insert("WarehouseCode".into(), line_warehouse.into());
        line.insert("UnitPrice".into(), price.into());
        line.insert("ExtensionAmt".into(), extension.into());
        completed.push(Value::Object(line));
    }
    order.insert("Lines".into(), Value::Array(completed));
    order.insert("TaxableAmt".into(), 0.0.into());
    order.insert("NonTaxableAmt".into(), money(total).into());
    order.insert("SalesTaxAmt".into(), 0.0.into());
    order.insert("OrderStatus".into(), "O".into());
    Ok(order)
}

fn commit_quantities(state: &mut State, order: &Record, sign: f64) {
    let now = state.now();
    for line in order
        .get("Lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(line) = line.as_object() else {
            continue;
        };
        let (code, warehouse) = (text(line, "ItemCode"), text(line, "WarehouseCode"));
        if let Some(row) = state
            .quantities
            .iter_mut()
            .find(|q| q.item_code == code && q.warehouse_code == warehouse)
        {
            row.quantity_on_sales_order += sign * number(line, "QuantityOrdered");
            row.updated = now;
        }
    }
}

/// Writes a new order; returns its number. A blank `SalesOrderNo` takes the
/// next number; an existing one is refused (no de-duplication beyond that:
/// the client's GET-before-create is what prevents doubles).
pub fn create_sales_order(state: &mut State, order: Record) -> Result<String, Fault> {
    let mut order = complete_order(state, order)?;
    let mut number = normalize_order_no(text(&order, "SalesOrderNo"));
    if number.is_empty() {
        number = next_sales_order_no(state);
    } else if state.order(&number).is_some() {
        return Err(Fault::client(format!(
            "Sales order {number} already exists."
        )));
    }
    let now = state.now_text();
    order.insert("SalesOrderNo".into(), number.clone().into());
    order.insert("DateCreated".into(), now.clone().into());
    order.insert("DateUpdated".into(), now.into());
    commit_quantities(state, &order, 1.0);
    state.orders.push(order);
    Ok(number)
}

/// Changes an existing order: the header fields sent, and the lines when
/// `Lines` is sent (it replaces them all).
pub fn update_sales_order(state: &mut State, changes: Record) -> Result<(), Fault> {
    let number = normalize_order_no(text(&changes, "SalesOrderNo"));
    let index = state
        .orders
        .iter()
        .position(|o| text(o, "SalesOrderNo") == number)
        .ok_or_else(|| Fault::client(order_not_found(&number)))?;
    let mut order = state.orders[index].clone();
    for (k, v) in changes {
        if k != "SalesOrderNo" {
            order.insert(k, v);
        }
    }
    let order = complete_order(state, order)?;
    let old = state.orders[index].clone();
    commit_quantities(state, &old, -1.0);
    commit_quantities(state, &order, 1.0);
    let mut order = order;
    order.insert("DateUpdated".into(), state.now_text().into());
    state.orders[index] = order;
    Ok(())
}
