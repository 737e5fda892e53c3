//! OData feed pages and the merge of items, prices and quantities.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use mlc_domain::mapping::ErpItemState;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::{decimal_of, text_of};

/// One page of a feed, in either annotation spelling (facts §1.6).
#[derive(Debug, Deserialize)]
pub(super) struct Page {
    #[serde(rename = "@odata.count", default)]
    count_v4: Option<Value>,
    #[serde(rename = "odata.count", default)]
    count_v3: Option<Value>,
    #[serde(rename = "@odata.nextLink", default)]
    next_v4: Option<String>,
    #[serde(rename = "odata.nextLink", default)]
    next_v3: Option<String>,
    /// The records.
    #[serde(default)]
    pub value: Vec<BTreeMap<String, Value>>,
}

impl Page {
    /// The total count, when the server sent one: a number (v4) or a
    /// string (the v3 sample's `"625"`).
    pub fn count(&self) -> Result<Option<usize>, String> {
        let Some(raw) = self.count_v4.as_ref().or(self.count_v3.as_ref()) else {
            return Ok(None);
        };
        let parsed = match raw {
            Value::Number(n) => n.as_u64().map(|n| n as usize),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| format!("the count {raw} is not a number"))
    }

    /// Whether the server says there is more.
    pub fn has_next_link(&self) -> bool {
        self.next_v4.is_some() || self.next_v3.is_some()
    }
}

/// A Sage date (`2010-08-18T00:00:00`, with or without offset, or a bare
/// date) as the calendar date it names.
pub(super) fn date_of(row: &BTreeMap<String, Value>, name: &str) -> Option<NaiveDate> {
    let text = text_of(row, name)?;
    let day = text.get(..10)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

#[derive(Debug, Default)]
struct Entry {
    item_number: Option<String>,
    description: Option<String>,
    has_item: bool,
    price: Option<(String, Decimal)>,
    quantity: Option<Decimal>,
    last: Option<NaiveDate>,
}

impl Entry {
    fn saw(&mut self, date: Option<NaiveDate>) {
        if let Some(d) = date {
            self.last = Some(self.last.map_or(d, |l| l.max(d)));
        }
    }
}

/// Items, their price on one list and their quantities, merged per
/// `UnformattedItemNumber`.
#[derive(Debug, Default)]
pub(super) struct ItemMerge {
    entries: BTreeMap<String, Entry>,
}

impl ItemMerge {
    fn entry(&mut self, row: &BTreeMap<String, Value>) -> Option<&mut Entry> {
        let key = text_of(row, "UnformattedItemNumber")
            .filter(|k| !k.is_empty())
            .or_else(|| text_of(row, "ItemNumber"))?;
        let entry = self.entries.entry(key).or_default();
        if entry.item_number.is_none() {
            entry.item_number = text_of(row, "ItemNumber").filter(|n| !n.is_empty());
        }
        Some(entry)
    }

    /// Item records (`IC/ICItems`).
    pub fn items(&mut self, rows: &[BTreeMap<String, Value>]) {
        for row in rows {
            let date = date_of(row, "DateLastMaintained");
            if let Some(e) = self.entry(row) {
                e.has_item = true;
                if let Some(n) = text_of(row, "ItemNumber").filter(|n| !n.is_empty()) {
                    e.item_number = Some(n);
                }
                e.description = text_of(row, "Description");
                e.saw(date);
            }
        }
    }

    /// Pricing records (`IC/ICItemPricing`, one price list): the base
    /// price for the smallest quantity. With several currencies on the
    /// list, the first in currency order is kept.
    pub fn prices(&mut self, rows: &[BTreeMap<String, Value>]) {
        for row in rows {
            let date = date_of(row, "DateLastMaintained");
            let currency = text_of(row, "CurrencyCode").unwrap_or_default();
            let price = row
                .get("ItemPricingDetails")
                .and_then(Value::as_array)
                .and_then(|details| {
                    details
                        .iter()
                        .filter(|d| {
                            d.get("PriceDetailType").and_then(Value::as_str)
                                != Some("SalePriceQuantity")
                        })
                        .filter_map(|d| {
                            let q = d
                                .get("QuantityUnit")
                                .and_then(decimal_of)
                                .unwrap_or_default();
                            let p = d.get("UnitPrice").and_then(decimal_of)?;
                            Some((q, p))
                        })
                        .min_by(|a, b| a.0.cmp(&b.0))
                        .map(|(_, p)| p)
                });
            if let Some(e) = self.entry(row) {
                let better = match &e.price {
                    None => true,
                    Some((c, _)) => currency < *c,
                };
                if let (true, Some(p)) = (better, price) {
                    e.price = Some((currency, p));
                }
                e.saw(date);
            }
        }
    }

    /// Quantities per location (`IC/ICItemLocations`): available = on
    /// hand less what open sales orders hold, summed.
    pub fn quantities(&mut self, rows: &[BTreeMap<String, Value>]) {
        for row in rows {
            let date = date_of(row, "DateLastMaintained");
            let on_hand = row
                .get("QuantityOnHand")
                .and_then(decimal_of)
                .unwrap_or_default();
            let on_order = row
                .get("QuantityOnSalesOrder")
                .and_then(decimal_of)
                .unwrap_or_default();
            if let Some(e) = self.entry(row) {
                e.quantity = Some(e.quantity.unwrap_or_default() + on_hand - on_order);
                e.saw(date);
            }
        }
    }

    /// The keys (unformatted item numbers) seen.
    pub fn changed_keys(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// One state per item that has an item record. Items without any
    /// location row have quantity 0.
    pub fn finish(self, with_prices: bool) -> Vec<ErpItemState> {
        self.entries
            .into_values()
            .filter(|e| e.has_item)
            .filter_map(|e| {
                Some(ErpItemState {
                    item_number: e.item_number?,
                    description: e.description.unwrap_or_default(),
                    price: if with_prices {
                        e.price.map(|(_, p)| p)
                    } else {
                        None
                    },
                    quantity_available: Some(e.quantity.unwrap_or_default()),
                    last_maintained: e.last.unwrap_or_default(),
                })
            })
            .collect()
    }
}
