//! IC/ICItems, IC/ICItemPricing, IC/ICLocations (facts §1.3, §1.5) and
//! IC/ICItemLocations (UNVERIFIED and version-dependent, facts §1.3; it can
//! be switched off with the `item_locations` variant).
//!
//! Item numbers: `ItemNumber` is the formatted number (`A1-103/0`),
//! `UnformattedItemNumber` the stored one (`A11030`) and the key.

use serde::{Deserialize, Serialize};

use super::entity::Entity;
use super::errors::SageError;

/// The unformatted form of an item number: the separators taken out.
pub fn unformat(item_number: &str) -> String {
    item_number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// The formatted form under the demo structure `XX-XXX/X` (six characters),
/// else the number as it is.
pub fn format(unformatted: &str) -> String {
    if unformatted.len() == 6 && unformatted.is_ascii() {
        format!(
            "{}-{}/{}",
            &unformatted[..2],
            &unformatted[2..5],
            &unformatted[5..]
        )
    } else {
        unformatted.to_string()
    }
}

/// One row of `ItemUnitsOfMeasure`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct ItemUnitOfMeasure {
    /// Formatted item number.
    pub item_number: String,
    /// Unit, e.g. `Ea.`.
    pub unit_of_measure: String,
    /// Conversion to the stocking unit.
    pub conversion_factor: f64,
    /// PATCH detail operation (facts §1.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_operation: Option<String>,
}

/// An inventory item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct Item {
    /// The key, e.g. `A11030`.
    pub unformatted_item_number: String,
    /// Formatted, e.g. `A1-103/0`.
    pub item_number: String,
    /// Description.
    pub description: String,
    /// Item structure.
    pub structure_code: String,
    /// Category.
    pub category: String,
    /// Account set.
    pub account_set_code: String,
    /// Stock item.
    pub stock_item: bool,
    /// Stocking unit.
    pub stocking_unit_of_measure: String,
    /// Default price list.
    pub default_price_list_code: String,
    /// Weight per unit.
    pub unit_weight: f64,
    /// Weight unit.
    pub weight_unit_of_measure: String,
    /// Kitting item.
    pub kitting_item: bool,
    /// Date of the last change, no time of day (facts §1.6).
    pub date_last_maintained: String,
    /// Units of measure.
    pub item_units_of_measure: Vec<ItemUnitOfMeasure>,
}

impl Default for Item {
    fn default() -> Self {
        Item {
            unformatted_item_number: String::new(),
            item_number: String::new(),
            description: String::new(),
            structure_code: "ITEM".into(),
            category: String::new(),
            account_set_code: "INV".into(),
            stock_item: true,
            stocking_unit_of_measure: "Ea.".into(),
            default_price_list_code: super::PRICE_LIST.into(),
            unit_weight: 0.0,
            weight_unit_of_measure: "kg".into(),
            kitting_item: false,
            date_last_maintained: String::new(),
            item_units_of_measure: Vec::new(),
        }
    }
}

impl Entity for Item {
    const SET: &'static str = "ICItems";
    const MODULE: &'static str = "IC";
    const KEYS: &'static [&'static str] = &["UnformattedItemNumber"];

    fn touch(&mut self, today: &str) {
        self.date_last_maintained = today.to_string();
    }
}

impl Item {
    /// Fills the number forms and checks the item.
    pub fn validate(&mut self) -> Result<(), SageError> {
        if self.unformatted_item_number.is_empty() {
            self.unformatted_item_number = unformat(&self.item_number);
        }
        if self.item_number.is_empty() {
            self.item_number = format(&self.unformatted_item_number);
        }
        if self.unformatted_item_number.is_empty() {
            return Err(SageError::field_invalid("Item Number cannot be blank."));
        }
        if self.unformatted_item_number.len() > 24
            || self
                .unformatted_item_number
                .chars()
                .any(|c| c.is_ascii_lowercase())
        {
            return Err(SageError::field_invalid(format!(
                "Item Number {} is invalid.",
                self.unformatted_item_number
            )));
        }
        if self.item_units_of_measure.is_empty() {
            self.item_units_of_measure.push(ItemUnitOfMeasure {
                item_number: self.item_number.clone(),
                unit_of_measure: self.stocking_unit_of_measure.clone(),
                conversion_factor: 1.0,
                update_operation: None,
            });
        }
        for unit in &mut self.item_units_of_measure {
            unit.item_number = self.item_number.clone();
            unit.update_operation = None;
        }
        Ok(())
    }
}

/// `PriceDetailType` of a pricing detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PriceDetailType {
    /// The base price (by quantity).
    #[default]
    BasePriceQuantity,
    /// The sale price (by quantity).
    SalePriceQuantity,
}

/// One row of `ItemPricingDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct ItemPricingDetail {
    /// Base or sale.
    pub price_detail_type: PriceDetailType,
    /// Quantity from which the price applies.
    pub quantity_unit: f64,
    /// The unit price.
    pub unit_price: f64,
    /// PATCH detail operation (facts §1.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_operation: Option<String>,
}

/// The price of an item on a price list, in a currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct ItemPricing {
    /// Key part 1.
    pub currency_code: String,
    /// Key part 2.
    pub unformatted_item_number: String,
    /// Key part 3, e.g. `STD`.
    pub price_list_code: String,
    /// Formatted item number.
    pub item_number: String,
    /// Description.
    pub description: String,
    /// Markup cost.
    pub markup_cost: f64,
    /// `Discount` or `Markup`.
    pub selling_price_basedon: String,
    /// `Percentage` or `Amount`.
    pub discount_markup_priceby: String,
    /// Level 1.
    pub discount_markup_percentage1: f64,
    /// Level 2.
    pub discount_markup_percentage2: f64,
    /// Level 3.
    pub discount_markup_percentage3: f64,
    /// Level 4.
    pub discount_markup_percentage4: f64,
    /// Level 5.
    pub discount_markup_percentage5: f64,
    /// e.g. `CustomerType`.
    pub price_determinedby: String,
    /// e.g. `Item`.
    pub price_by: String,
    /// Date of the last change, no time of day (decision: the pricing
    /// record carries its own).
    pub date_last_maintained: String,
    /// Prices.
    pub item_pricing_details: Vec<ItemPricingDetail>,
}

impl Default for ItemPricing {
    fn default() -> Self {
        ItemPricing {
            currency_code: super::HOME_CURRENCY.into(),
            unformatted_item_number: String::new(),
            price_list_code: super::PRICE_LIST.into(),
            item_number: String::new(),
            description: String::new(),
            markup_cost: 0.0,
            selling_price_basedon: "Discount".into(),
            discount_markup_priceby: "Percentage".into(),
            discount_markup_percentage1: 0.0,
            discount_markup_percentage2: 0.0,
            discount_markup_percentage3: 0.0,
            discount_markup_percentage4: 0.0,
            discount_markup_percentage5: 0.0,
            price_determinedby: "CustomerType".into(),
            price_by: "Item".into(),
            date_last_maintained: String::new(),
            item_pricing_details: Vec::new(),
        }
    }
}

impl Entity for ItemPricing {
    const SET: &'static str = "ICItemPricing";
    const MODULE: &'static str = "IC";
    const KEYS: &'static [&'static str] =
        &["CurrencyCode", "UnformattedItemNumber", "PriceListCode"];

    fn touch(&mut self, today: &str) {
        self.date_last_maintained = today.to_string();
    }
}

impl ItemPricing {
    /// The base price for one unit.
    pub fn base_price(&self) -> Option<f64> {
        self.item_pricing_details
            .iter()
            .filter(|d| d.price_detail_type == PriceDetailType::BasePriceQuantity)
            .min_by(|a, b| a.quantity_unit.total_cmp(&b.quantity_unit))
            .map(|d| d.unit_price)
    }

    /// Sets the base price for one unit.
    pub fn set_base_price(&mut self, price: f64) {
        let detail = self
            .item_pricing_details
            .iter_mut()
            .find(|d| d.price_detail_type == PriceDetailType::BasePriceQuantity);
        match detail {
            Some(d) => d.unit_price = price,
            None => self.item_pricing_details.push(ItemPricingDetail {
                price_detail_type: PriceDetailType::BasePriceQuantity,
                quantity_unit: 1.0,
                unit_price: price,
                update_operation: None,
            }),
        }
    }
}

/// A warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct Location {
    /// The key, e.g. `1`.
    pub location: String,
    /// Name.
    pub description: String,
    /// City.
    pub city: String,
    /// Date of the last change.
    pub date_last_maintained: String,
}

impl Entity for Location {
    const SET: &'static str = "ICLocations";
    const MODULE: &'static str = "IC";
    const KEYS: &'static [&'static str] = &["Location"];

    fn touch(&mut self, today: &str) {
        self.date_last_maintained = today.to_string();
    }
}

/// An item's quantities at one location (`IC/ICItemLocations`; public code
/// reads `ItemNumber`, `Location`, `QuantityOnHand`, facts §1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default, deny_unknown_fields)]
pub struct ItemLocation {
    /// Key part 1.
    pub unformatted_item_number: String,
    /// Key part 2.
    pub location: String,
    /// Formatted item number.
    pub item_number: String,
    /// On hand.
    pub quantity_on_hand: f64,
    /// On open sales orders (ordered, not yet shipped).
    pub quantity_on_sales_order: f64,
    /// On purchase orders.
    pub quantity_on_purchase_order: f64,
    /// Date of the last change (decision: the location record carries its own).
    pub date_last_maintained: String,
}

impl Entity for ItemLocation {
    const SET: &'static str = "ICItemLocations";
    const MODULE: &'static str = "IC";
    const KEYS: &'static [&'static str] = &["UnformattedItemNumber", "Location"];

    fn touch(&mut self, today: &str) {
        self.date_last_maintained = today.to_string();
    }
}
