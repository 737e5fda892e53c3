//! OE/OEOrders and OE/OECreditDebitNotes: GET and POST only (facts §1.3).
//!
//! The server assigns `OrderNumber` (`*** NEW ***`, facts §1.8) and the
//! `OrderUniquifier` key (UNVERIFIED as the key, facts §1.5). It does not
//! deduplicate: posting the same order twice creates two orders (facts
//! §1.8); a client prevents that with a `$filter` on `OrderReference` before
//! it posts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::entity::{self, money, Entity};
use super::errors::SageError;
use super::ic;
use super::State;

/// The placeholder a client sends for a number the server assigns.
pub const NEW: &str = "*** NEW ***";

/// `OrderType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum OrderType {
    /// Active.
    #[default]
    Active,
    /// Future.
    Future,
    /// Standing.
    Standing,
    /// Quote.
    Quote,
}

/// `LineType` of an order or credit note line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LineType {
    /// An inventory item.
    #[default]
    Item,
    /// A miscellaneous charge.
    Miscellaneous,
}

/// One optional field of an order header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct OrderOptionalField {
    /// The optional field.
    pub optional_field: String,
    /// Its value.
    pub value: String,
}

/// One optional field of an order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct OrderDetailOptionalField {
    /// The line.
    pub line_number: i64,
    /// The optional field.
    pub optional_field: String,
    /// Its value.
    pub value: String,
}

/// One line of `OrderDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct OrderLine {
    /// Steps by 32 (facts §1.5).
    pub line_number: i64,
    /// Detail number (1, 2, ...).
    pub detail_number: i64,
    /// `Item` or `Miscellaneous`.
    pub line_type: LineType,
    /// Formatted item number.
    pub item: String,
    /// Item description.
    pub description: String,
    /// Location.
    pub location: String,
    /// Quantity ordered.
    pub quantity_ordered: f64,
    /// Quantity shipped with this post.
    pub quantity_shipped: f64,
    /// Quantity on backorder.
    pub quantity_backordered: f64,
    /// Quantity committed.
    pub quantity_committed: f64,
    /// Order unit.
    pub order_unit_of_measure: String,
    /// Order unit conversion.
    pub order_unit_conversion: f64,
    /// Unit price in the order unit; forced with `PriceOverride` (facts §1.5:
    /// there is no plain `UnitPrice` on order lines).
    pub order_unit_price: f64,
    /// Whether `OrderUnitPrice` was forced.
    pub price_override: bool,
    /// Pricing unit.
    pub pricing_unit_of_measure: String,
    /// Price in the pricing unit.
    pub pricing_unit_price: f64,
    /// Pricing unit conversion.
    pub pricing_unit_conversion: f64,
    /// Line amount.
    pub extended_amount: f64,
    /// Miscellaneous charge code (misc lines).
    pub miscellaneous_charges_code: String,
    /// Tax authority 1.
    pub tax_authority1: String,
    /// Tax class 1.
    pub tax_class1: i64,
    /// Tax included 1.
    pub tax_included1: bool,
    /// PATCH detail operation (facts §1.4).
    pub update_operation: String,
    /// Line optional fields.
    pub order_detail_optional_fields: Vec<OrderDetailOptionalField>,
}

impl Default for OrderLine {
    fn default() -> Self {
        OrderLine {
            line_number: 0,
            detail_number: 0,
            line_type: LineType::Item,
            item: String::new(),
            description: String::new(),
            location: String::new(),
            quantity_ordered: 0.0,
            quantity_shipped: 0.0,
            quantity_backordered: 0.0,
            quantity_committed: 0.0,
            order_unit_of_measure: String::new(),
            order_unit_conversion: 1.0,
            order_unit_price: 0.0,
            price_override: false,
            pricing_unit_of_measure: String::new(),
            pricing_unit_price: 0.0,
            pricing_unit_conversion: 1.0,
            extended_amount: 0.0,
            miscellaneous_charges_code: String::new(),
            tax_authority1: String::new(),
            tax_class1: 1,
            tax_included1: false,
            update_operation: "Unspecified".into(),
            order_detail_optional_fields: Vec::new(),
        }
    }
}

/// An order header with its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct Order {
    /// The key, assigned by the server.
    pub order_uniquifier: i64,
    /// Assigned by the server when `*** NEW ***` or absent.
    pub order_number: String,
    /// The customer (must exist).
    pub customer_number: String,
    /// Customer group.
    pub customer_group_code: String,
    /// Bill-to name.
    pub bill_to_name: String,
    /// Ship-to location of the customer.
    pub ship_to_location_code: String,
    /// Ship-to name.
    pub ship_to_name: String,
    /// Ship-to address line 1.
    pub ship_to_address_line1: String,
    /// Ship-to address line 2.
    pub ship_to_address_line2: String,
    /// Ship-to city.
    pub ship_to_city: String,
    /// Ship-to state or province.
    pub ship_to_state_province: String,
    /// Ship-to zip or postal code.
    pub ship_to_zip_postal_code: String,
    /// Ship-to country.
    pub ship_to_country: String,
    /// Ship via.
    pub ship_via_code: String,
    /// The customer's PO number.
    pub purchase_order_number: String,
    /// The client's own reference, kept as sent (facts §1.8 c).
    pub order_reference: String,
    /// Description.
    pub order_description: String,
    /// Comment.
    pub order_comment: String,
    /// Order date (today when absent).
    pub order_date: String,
    /// Expected ship date.
    pub expected_ship_date: String,
    /// `Active`, `Future`, `Standing`, `Quote`.
    pub order_type: OrderType,
    /// On hold.
    pub on_hold: bool,
    /// e.g. `Base`.
    pub customer_discount_level: String,
    /// Price list (the customer's when absent).
    pub default_price_list_code: String,
    /// Location for lines without one.
    pub default_location_code: String,
    /// Terms.
    pub terms_code: String,
    /// Tax group.
    pub tax_group: String,
    /// Tax authority 1.
    pub tax_authority1: String,
    /// Tax class 1.
    pub tax_class1: i64,
    /// Home currency.
    pub order_home_currency: String,
    /// Source currency.
    pub order_source_currency: String,
    /// Rate type.
    pub order_rate_type: String,
    /// Rate.
    pub order_rate: f64,
    /// Fiscal year.
    pub order_fiscal_year: String,
    /// Fiscal period, `Num{n}`.
    pub order_fiscal_period: String,
    /// e.g. `IncompleteNotIncluded`.
    pub order_completed: String,
    /// Ship and invoice with this post (facts §1.3).
    pub invoice_will_be_produced: bool,
    /// Post the invoice.
    pub post_invoice: bool,
    /// Assigned when lines ship.
    pub last_shipment_number: String,
    /// Assigned when an invoice is produced.
    pub last_invoice_number: String,
    /// Number of lines.
    pub number_of_lines_on_order: i64,
    /// Sum of the line amounts.
    pub order_total: f64,
    /// Header optional fields.
    pub order_optional_fields: Vec<OrderOptionalField>,
    /// Lines.
    pub order_details: Vec<OrderLine>,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            order_uniquifier: 0,
            order_number: NEW.into(),
            customer_number: String::new(),
            customer_group_code: String::new(),
            bill_to_name: String::new(),
            ship_to_location_code: String::new(),
            ship_to_name: String::new(),
            ship_to_address_line1: String::new(),
            ship_to_address_line2: String::new(),
            ship_to_city: String::new(),
            ship_to_state_province: String::new(),
            ship_to_zip_postal_code: String::new(),
            ship_to_country: String::new(),
            ship_via_code: String::new(),
            purchase_order_number: String::new(),
            order_reference: String::new(),
            order_description: String::new(),
            order_comment: String::new(),
            order_date: String::new(),
            expected_ship_date: String::new(),
            order_type: OrderType::Active,
            on_hold: false,
            customer_discount_level: "Base".into(),
            default_price_list_code: String::new(),
            default_location_code: String::new(),
            terms_code: String::new(),
            tax_group: String::new(),
            tax_authority1: String::new(),
            tax_class1: 1,
            order_home_currency: super::HOME_CURRENCY.into(),
            order_source_currency: String::new(),
            order_rate_type: "SP".into(),
            order_rate: 1.0,
            order_fiscal_year: String::new(),
            order_fiscal_period: String::new(),
            order_completed: "IncompleteNotIncluded".into(),
            invoice_will_be_produced: false,
            post_invoice: false,
            last_shipment_number: String::new(),
            last_invoice_number: String::new(),
            number_of_lines_on_order: 0,
            order_total: 0.0,
            order_optional_fields: Vec::new(),
            order_details: Vec::new(),
        }
    }
}

impl Entity for Order {
    const SET: &'static str = "OEOrders";
    const MODULE: &'static str = "OE";
    const KEYS: &'static [&'static str] = &["OrderUniquifier"];

    fn indexed(&self, property: &str) -> Option<&str> {
        match property {
            "OrderReference" => Some(&self.order_reference),
            "OrderNumber" => Some(&self.order_number),
            "PurchaseOrderNumber" => Some(&self.purchase_order_number),
            "CustomerNumber" => Some(&self.customer_number),
            _ => None,
        }
    }
}

/// `CreditDebitNoteType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CreditDebitNoteType {
    /// A credit note (a refund or return).
    #[default]
    CreditNote,
    /// A debit note.
    DebitNote,
}

/// One line of `CreditDebitDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct CreditDebitDetail {
    /// Steps by 32.
    pub line_number: i64,
    /// `Item` or `Miscellaneous`.
    pub line_type: LineType,
    /// Formatted item number.
    pub item: String,
    /// Location.
    pub location: String,
    /// Quantity returned (back to stock).
    pub quantity_returned: f64,
    /// Unit.
    #[serde(rename = "CreditDebitNoteUOM")]
    pub credit_debit_note_uom: String,
    /// Unit price.
    pub unit_price: f64,
    /// Miscellaneous charge code.
    pub miscellaneous_charges_code: String,
    /// Amount of a miscellaneous line.
    pub extended_amount_miscellaneous_charge: f64,
}

impl Default for CreditDebitDetail {
    fn default() -> Self {
        CreditDebitDetail {
            line_number: 0,
            line_type: LineType::Item,
            item: String::new(),
            location: String::new(),
            quantity_returned: 0.0,
            credit_debit_note_uom: String::new(),
            unit_price: 0.0,
            miscellaneous_charges_code: String::new(),
            extended_amount_miscellaneous_charge: 0.0,
        }
    }
}

/// A credit or debit note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct CreditNote {
    /// The key, assigned by the server.
    #[serde(rename = "CNUniquifier")]
    pub cn_uniquifier: i64,
    /// Assigned by the server when `*** NEW ***` or absent.
    pub credit_debit_note_number: String,
    /// The customer (must exist).
    pub customer_number: String,
    /// The client's reference.
    pub reference: String,
    /// Description.
    pub description: String,
    /// Date (today when absent).
    pub credit_debit_note_date: String,
    /// `CreditNote` or `DebitNote`.
    pub credit_debit_note_type: CreditDebitNoteType,
    /// Lines.
    pub credit_debit_details: Vec<CreditDebitDetail>,
}

impl Default for CreditNote {
    fn default() -> Self {
        CreditNote {
            cn_uniquifier: 0,
            credit_debit_note_number: NEW.into(),
            customer_number: String::new(),
            reference: String::new(),
            description: String::new(),
            credit_debit_note_date: String::new(),
            credit_debit_note_type: CreditDebitNoteType::CreditNote,
            credit_debit_details: Vec::new(),
        }
    }
}

impl Entity for CreditNote {
    const SET: &'static str = "OECreditDebitNotes";
    const MODULE: &'static str = "OE";
    const KEYS: &'static [&'static str] = &["CNUniquifier"];

    fn indexed(&self, property: &str) -> Option<&str> {
        match property {
            "Reference" => Some(&self.reference),
            "CreditDebitNoteNumber" => Some(&self.credit_debit_note_number),
            "CustomerNumber" => Some(&self.customer_number),
            _ => None,
        }
    }
}

fn customer_checked<'a>(
    state: &'a State,
    number: &str,
) -> Result<&'a super::ar::Customer, SageError> {
    if number.is_empty() {
        return Err(SageError::field_invalid("Customer Number cannot be blank."));
    }
    let customer = state
        .customers
        .iter()
        .find(|c| c.customer_number == number)
        .ok_or_else(|| {
            SageError::field_invalid(format!("Customer number {number} does not exist."))
        })?;
    if customer.status == super::ar::CustomerStatus::Inactive {
        return Err(SageError::general(format!(
            "Customer {number} is inactive."
        )));
    }
    Ok(customer)
}

/// The item sent on a line, formatted or not.
fn item_checked<'a>(state: &'a State, item: &str) -> Result<&'a ic::Item, SageError> {
    let key = ic::unformat(item);
    state
        .items
        .iter()
        .find(|i| i.unformatted_item_number == key)
        // The message seen in the field (facts §1.7 [ARIOX]), with 409.
        .ok_or_else(|| {
            SageError::field_invalid(format!(
                "Item number {item} does not exist. Quantity on backorder has been increased."
            ))
        })
}

fn location_checked(state: &State, location: &str) -> Result<(), SageError> {
    if state.locations.iter().any(|l| l.location == location) {
        Ok(())
    } else {
        Err(SageError::field_invalid(format!(
            "Location {location} does not exist."
        )))
    }
}

/// POST OEOrders: validates everything first, then inserts one order,
/// commits the quantities, and answers the inserted order (facts §1.4).
pub fn create_order(state: &mut State, payload: Map<String, Value>) -> Result<Order, SageError> {
    let mut order: Order = entity::from_payload(payload)?;
    let today = state.today_text();
    let customer = customer_checked(state, &order.customer_number)?.clone();
    if order.order_number.is_empty() || order.order_number == NEW {
        order.order_number = String::new();
    } else if state
        .orders
        .iter()
        .any(|o| o.order_number == order.order_number)
    {
        return Err(SageError::duplicate(format!(
            "Order Number {} already exists.",
            order.order_number
        )));
    }
    order.order_date = if order.order_date.is_empty() {
        today.clone()
    } else {
        super::dates::normalise("OrderDate", &order.order_date)?
    };
    order.expected_ship_date = if order.expected_ship_date.is_empty() {
        order.order_date.clone()
    } else {
        super::dates::normalise("ExpectedShipDate", &order.expected_ship_date)?
    };
    let fill = |slot: &mut String, value: &str| {
        if slot.is_empty() {
            *slot = value.to_string();
        }
    };
    fill(&mut order.customer_group_code, &customer.group_code);
    fill(&mut order.bill_to_name, &customer.customer_name);
    fill(&mut order.ship_to_name, &customer.customer_name);
    fill(&mut order.terms_code, &customer.terms);
    fill(&mut order.tax_group, &customer.tax_group);
    fill(
        &mut order.default_price_list_code,
        &customer.customer_price_list,
    );
    fill(&mut order.default_location_code, super::DEFAULT_LOCATION);
    fill(&mut order.order_source_currency, &customer.currency_code);
    let year = &order.order_date[..4];
    fill(&mut order.order_fiscal_year, year);
    let month: u32 = order.order_date[5..7].parse().unwrap_or(1);
    fill(&mut order.order_fiscal_period, &format!("Num{month}"));
    location_checked(state, &order.default_location_code)?;

    let mut total = 0.0;
    let mut shipped_any = false;
    for (i, line) in order.order_details.iter_mut().enumerate() {
        line.detail_number = i as i64 + 1;
        if line.line_number == 0 {
            line.line_number = 32 * (i as i64 + 1);
        }
        line.update_operation = "Unspecified".into();
        match line.line_type {
            LineType::Item => {
                let item = item_checked(state, &line.item)?;
                line.item = item.item_number.clone();
                fill(&mut line.description, &item.description);
                fill(&mut line.location, &order.default_location_code);
                location_checked(state, &line.location)?;
                fill(
                    &mut line.order_unit_of_measure,
                    &item.stocking_unit_of_measure,
                );
                fill(
                    &mut line.pricing_unit_of_measure,
                    &item.stocking_unit_of_measure,
                );
                if line.quantity_ordered <= 0.0 {
                    return Err(SageError::field_invalid(format!(
                        "Quantity Ordered of line {} must be greater than zero.",
                        line.line_number
                    )));
                }
                if line.quantity_shipped < 0.0 || line.quantity_shipped > line.quantity_ordered {
                    return Err(SageError::field_invalid(format!(
                        "Quantity Shipped of line {} cannot exceed Quantity Ordered.",
                        line.line_number
                    )));
                }
                if !line.price_override {
                    let price = state
                        .pricing
                        .iter()
                        .find(|p| {
                            p.unformatted_item_number == item.unformatted_item_number
                                && p.price_list_code == order.default_price_list_code
                                && p.currency_code == order.order_source_currency
                        })
                        .and_then(|p| p.base_price())
                        .ok_or_else(|| {
                            SageError::field_invalid(format!(
                                "Item {} has no price on price list {} in {}.",
                                item.item_number,
                                order.default_price_list_code,
                                order.order_source_currency
                            ))
                        })?;
                    line.order_unit_price = price;
                }
                line.pricing_unit_price = line.order_unit_price;
                line.quantity_committed = line.quantity_ordered - line.quantity_shipped;
                line.quantity_backordered = 0.0;
                line.extended_amount = money(line.quantity_ordered * line.order_unit_price);
                shipped_any |= line.quantity_shipped > 0.0;
            }
            LineType::Miscellaneous => {
                if line.miscellaneous_charges_code.is_empty() {
                    return Err(SageError::field_invalid(format!(
                        "Miscellaneous Charges Code of line {} cannot be blank.",
                        line.line_number
                    )));
                }
                line.extended_amount = money(line.extended_amount);
            }
        }
        total += line.extended_amount;
    }

    // Everything is valid: assign the numbers and apply.
    state.next_order += 1;
    order.order_uniquifier = state.next_order as i64;
    if order.order_number.is_empty() {
        order.order_number = format!("ORD{:012}", state.next_order);
    }
    if shipped_any {
        state.next_shipment += 1;
        order.last_shipment_number = format!("SH{:012}", state.next_shipment);
        if order.invoice_will_be_produced {
            state.next_invoice += 1;
            order.last_invoice_number = format!("IN{:012}", state.next_invoice);
        }
    }
    order.number_of_lines_on_order = order.order_details.len() as i64;
    order.order_total = money(total);
    for line in order
        .order_details
        .iter()
        .filter(|l| l.line_type == LineType::Item)
    {
        let key = ic::unformat(&line.item);
        let open = line.quantity_ordered - line.quantity_shipped;
        let shipped = line.quantity_shipped;
        let row = state.item_location_mut(&key, &line.location);
        row.quantity_on_sales_order += open;
        row.quantity_on_hand -= shipped;
    }
    state.orders.push(order.clone());
    Ok(order)
}

/// POST OECreditDebitNotes: a credit note puts returned items back in stock.
pub fn create_credit_note(
    state: &mut State,
    payload: Map<String, Value>,
) -> Result<CreditNote, SageError> {
    let mut note: CreditNote = entity::from_payload(payload)?;
    customer_checked(state, &note.customer_number)?;
    if note.credit_debit_note_number.is_empty() || note.credit_debit_note_number == NEW {
        note.credit_debit_note_number = String::new();
    } else if state
        .credit_notes
        .iter()
        .any(|n| n.credit_debit_note_number == note.credit_debit_note_number)
    {
        return Err(SageError::duplicate(format!(
            "Credit/Debit Note Number {} already exists.",
            note.credit_debit_note_number
        )));
    }
    note.credit_debit_note_date = if note.credit_debit_note_date.is_empty() {
        state.today_text()
    } else {
        super::dates::normalise("CreditDebitNoteDate", &note.credit_debit_note_date)?
    };
    for (i, line) in note.credit_debit_details.iter_mut().enumerate() {
        if line.line_number == 0 {
            line.line_number = 32 * (i as i64 + 1);
        }
        match line.line_type {
            LineType::Item => {
                let item = item_checked(state, &line.item)?;
                line.item = item.item_number.clone();
                if line.credit_debit_note_uom.is_empty() {
                    line.credit_debit_note_uom = item.stocking_unit_of_measure.clone();
                }
                if line.location.is_empty() {
                    line.location = super::DEFAULT_LOCATION.into();
                }
                location_checked(state, &line.location)?;
                if line.quantity_returned < 0.0 {
                    return Err(SageError::field_invalid(
                        "Quantity Returned cannot be negative.",
                    ));
                }
            }
            LineType::Miscellaneous => {
                if line.miscellaneous_charges_code.is_empty() {
                    return Err(SageError::field_invalid(
                        "Miscellaneous Charges Code cannot be blank.",
                    ));
                }
            }
        }
    }
    state.next_credit_note += 1;
    note.cn_uniquifier = state.next_credit_note as i64;
    if note.credit_debit_note_number.is_empty() {
        note.credit_debit_note_number = format!("CN{:012}", state.next_credit_note);
    }
    if note.credit_debit_note_type == CreditDebitNoteType::CreditNote {
        for line in note
            .credit_debit_details
            .iter()
            .filter(|l| l.line_type == LineType::Item)
        {
            let key = ic::unformat(&line.item);
            let returned = line.quantity_returned;
            state
                .item_location_mut(&key, &line.location)
                .quantity_on_hand += returned;
        }
    }
    state.credit_notes.push(note.clone());
    Ok(note)
}
