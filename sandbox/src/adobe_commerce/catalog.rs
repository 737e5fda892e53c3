//! Products and stock (facts §3.4): `GET /V1/products?searchCriteria`,
//! `GET`/`PUT /V1/products/{sku}` (and `POST /V1/products`), legacy stock
//! `GET /V1/stockItems/{sku}` and `PUT /V1/products/{sku}/stockItems/
//! {itemId}`, MSI `GET`/`POST /V1/inventory/source-items`. Every product
//! is a simple product on website 1 with one stock item (stock 1) and one
//! source item on source `default`.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::{json, Value};

use super::search::Criteria;
use super::{amount, cents_of, fmt_date, now, qty_of, MageError, State};

/// A catalog product.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Product {
    pub id: u64,
    pub sku: String,
    pub name: String,
    /// Price in cents.
    pub price: i64,
    /// 1 enabled, 2 disabled.
    pub status: u8,
    pub visibility: u8,
    pub weight: f64,
    pub qty: i64,
    pub is_in_stock: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Product {
    /// A new enabled product.
    pub fn new(id: u64, sku: &str, name: &str, price: i64, qty: i64, at: NaiveDateTime) -> Self {
        Product {
            id,
            sku: sku.to_string(),
            name: name.to_string(),
            price,
            status: 1,
            visibility: 4,
            weight: 1.0,
            qty,
            is_in_stock: qty > 0,
            created_at: at,
            updated_at: at,
        }
    }

    /// The legacy stock item (`CatalogInventory`).
    pub fn stock_item(&self) -> Value {
        json!({
            "item_id": self.id,
            "product_id": self.id,
            "stock_id": 1,
            "qty": self.qty,
            "is_in_stock": self.is_in_stock,
            "is_qty_decimal": false,
            "manage_stock": true,
            "use_config_manage_stock": true,
            "min_qty": 0,
            "min_sale_qty": 1,
            "max_sale_qty": 10000,
            "backorders": 0,
            "low_stock_date": null,
            "stock_status_changed_auto": 0,
        })
    }

    /// The MSI source item on `default`.
    pub fn source_item(&self) -> Value {
        json!({
            "sku": self.sku,
            "source_code": "default",
            "quantity": self.qty,
            "status": u8::from(self.is_in_stock),
        })
    }

    /// `ProductInterface` as the API answers it.
    pub fn json(&self) -> Value {
        let url_key = self
            .name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>();
        json!({
            "id": self.id,
            "sku": self.sku,
            "name": self.name,
            "attribute_set_id": 4,
            "price": amount(self.price),
            "status": self.status,
            "visibility": self.visibility,
            "type_id": "simple",
            "created_at": fmt_date(self.created_at),
            "updated_at": fmt_date(self.updated_at),
            "weight": self.weight,
            "extension_attributes": {
                "website_ids": [1],
                "stock_item": self.stock_item(),
            },
            "product_links": [],
            "options": [],
            "media_gallery_entries": [],
            "tier_prices": [],
            "custom_attributes": [
                { "attribute_code": "url_key", "value": url_key },
                { "attribute_code": "tax_class_id", "value": "2" },
            ],
        })
    }

    /// The flat row searchCriteria filters on.
    fn row(&self) -> Value {
        let mut v = self.json();
        v["qty"] = self.qty.into();
        v
    }

    /// Applies stock fields (`qty`, `is_in_stock`); is_in_stock follows the
    /// quantity unless given.
    pub fn apply_stock(&mut self, stock: &Value) -> Result<(), MageError> {
        if let Some(q) = stock.get("qty").filter(|v| !v.is_null()) {
            self.qty = qty_of(q).ok_or_else(|| MageError::invalid("qty", &q.to_string()))?;
            self.is_in_stock = self.qty > 0;
        }
        if let Some(b) = stock.get("is_in_stock").filter(|v| !v.is_null()) {
            self.is_in_stock = b.as_bool().unwrap_or_else(|| qty_of(b).unwrap_or(0) != 0);
        }
        Ok(())
    }

    /// Applies a `product` object (name, price, status, visibility, weight,
    /// `extension_attributes.stock_item`).
    pub fn apply(&mut self, p: &Value) -> Result<(), MageError> {
        if let Some(name) = p.get("name").and_then(Value::as_str) {
            self.name = name.to_string();
        }
        if let Some(v) = p.get("price").filter(|v| !v.is_null()) {
            self.price = cents_of(v).ok_or_else(|| MageError::invalid("price", &v.to_string()))?;
        }
        if let Some(v) = p.get("status").and_then(qty_of) {
            self.status = if v == 2 { 2 } else { 1 };
        }
        if let Some(v) = p.get("visibility").and_then(qty_of) {
            self.visibility = v.clamp(1, 4) as u8;
        }
        if let Some(v) = p.get("weight").and_then(|w| match w {
            Value::String(s) => s.trim().parse::<f64>().ok(),
            other => other.as_f64(),
        }) {
            self.weight = v;
        }
        if let Some(stock) = p.pointer("/extension_attributes/stock_item") {
            self.apply_stock(stock)?;
        }
        self.updated_at = now();
        Ok(())
    }
}

const PRODUCT_FIELDS: [&str; 11] = [
    "id",
    "sku",
    "name",
    "price",
    "status",
    "visibility",
    "type_id",
    "created_at",
    "updated_at",
    "weight",
    "attribute_set_id",
];

/// `GET /V1/products?searchCriteria...`
pub(crate) fn list(state: &State, c: &Criteria) -> Result<Value, MageError> {
    let rows = state.products.values().map(Product::row).collect();
    let mut known = PRODUCT_FIELDS.to_vec();
    known.push("qty");
    let mut out = c.answer(rows, "id", &known, &state.settings)?;
    if let Some(items) = out["items"].as_array_mut() {
        for item in items {
            if let Some(o) = item.as_object_mut() {
                o.remove("qty");
            }
        }
    }
    Ok(out)
}

/// `GET /V1/products/{sku}`
pub(crate) fn get(state: &State, sku: &str) -> Result<Value, MageError> {
    let id = state
        .product_by_sku(sku)
        .ok_or_else(MageError::no_product)?;
    Ok(state.products[&id].json())
}

/// `PUT /V1/products/{sku}` (creates the product when the SKU is new, as
/// `ProductRepository::save` does) and `POST /V1/products`.
pub(crate) fn save(state: &mut State, sku: Option<&str>, body: &Value) -> Result<Value, MageError> {
    let Some(p) = body.get("product").filter(|p| p.is_object()) else {
        return Err(MageError::required("product"));
    };
    let sku = match sku {
        Some(s) => s.to_string(),
        None => p
            .get("sku")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| MageError::required("sku"))?
            .to_string(),
    };
    let id = match state.product_by_sku(&sku) {
        Some(id) => id,
        None => {
            let Some(name) = p.get("name").and_then(Value::as_str) else {
                return Err(MageError::new(
                    400,
                    "The \"%1\" attribute value is empty. Set the attribute and try again.",
                )
                .with(json!(["name"])));
            };
            let id = state.product_id();
            let product = Product::new(id, &sku, name, 0, 0, now());
            state.products.insert(id, product);
            id
        }
    };
    let product = state
        .products
        .get_mut(&id)
        .ok_or_else(MageError::no_product)?;
    product.apply(p)?;
    Ok(product.json())
}

/// `GET /V1/stockItems/{sku}`
pub(crate) fn get_stock(state: &State, sku: &str) -> Result<Value, MageError> {
    let id = state
        .product_by_sku(sku)
        .ok_or_else(MageError::no_product)?;
    Ok(state.products[&id].stock_item())
}

/// `PUT /V1/products/{sku}/stockItems/{itemId}` with `{"stockItem": {...}}`:
/// answers the stock item id.
pub(crate) fn put_stock(state: &mut State, sku: &str, body: &Value) -> Result<Value, MageError> {
    let Some(stock) = body.get("stockItem").filter(|s| s.is_object()) else {
        return Err(MageError::required("stockItem"));
    };
    let id = state
        .product_by_sku(sku)
        .ok_or_else(MageError::no_product)?;
    let product = state
        .products
        .get_mut(&id)
        .ok_or_else(MageError::no_product)?;
    // The stock item is its own table: the product's updated_at stays.
    product.apply_stock(stock)?;
    Ok(json!(product.id))
}

/// `GET /V1/inventory/source-items?searchCriteria...`
pub(crate) fn list_source_items(state: &State, c: &Criteria) -> Result<Value, MageError> {
    let rows = state.products.values().map(Product::source_item).collect();
    c.answer(
        rows,
        "sku",
        &["sku", "source_code", "quantity", "status"],
        &state.settings,
    )
}

/// `POST /V1/inventory/source-items` with `{"sourceItems": [...]}`; answers
/// `[]` (a void service).
pub(crate) fn save_source_items(state: &mut State, body: &Value) -> Result<Value, MageError> {
    let Some(items) = body.get("sourceItems").and_then(Value::as_array) else {
        return Err(MageError::required("sourceItems"));
    };
    let mut updates = Vec::new();
    for item in items {
        let sku = item.get("sku").and_then(Value::as_str).unwrap_or_default();
        let id = state.product_by_sku(sku).ok_or_else(|| {
            MageError::new(400, "Could not save Source Item").with(json!({ "sku": sku }))
        })?;
        let source = item
            .get("source_code")
            .and_then(Value::as_str)
            .unwrap_or("default");
        if source != "default" {
            return Err(MageError::invalid("source_code", source));
        }
        let qty = item
            .get("quantity")
            .and_then(qty_of)
            .ok_or_else(|| MageError::required("quantity"))?;
        let status = item.get("status").and_then(qty_of);
        updates.push((id, qty, status));
    }
    for (id, qty, status) in updates {
        if let Some(p) = state.products.get_mut(&id) {
            p.qty = qty;
            p.is_in_stock = status.map_or(qty > 0, |s| s == 1);
        }
    }
    Ok(json!([]))
}
