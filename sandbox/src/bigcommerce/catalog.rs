//! Catalog v3 products and variants, and inventory adjustments (§2.4).
//!
//! Every product has at least one variant: a product without options has
//! one base variant with the product's SKU (`base_variant_id`). Stock lives
//! where `inventory_tracking` says: on the product (`product`, the base
//! variant mirrors it), on each variant (`variant`, the product's level is
//! their sum), or nowhere (`none`). Changes fire `store/product/updated`,
//! `store/product/inventory/updated` and `store/sku/inventory/updated`
//! (§2.8 payloads).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::paging::{v3_list, Page};
use super::{
    cents_of, delivery, id_list, iso, json_body, now, number, param, parse_date, query_pairs, Api,
    BcError, State,
};
use crate::World;

const V3: Api = Api::V3;

/// A product variant.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Variant id.
    pub id: u64,
    /// SKU id (the `id` of `store/sku/*` payloads).
    pub sku_id: u64,
    /// The variant's SKU.
    pub sku: String,
    /// Own price in cents; `None` inherits the product's.
    pub price: Option<i64>,
    /// Stock (variant tracking; mirrors the product under product tracking).
    pub inventory_level: i64,
    /// `option_values` (empty for a base variant).
    pub option_values: Vec<Value>,
    /// UPC.
    pub upc: String,
}

/// A catalog product.
#[derive(Debug, Clone)]
pub struct Product {
    /// Product id.
    pub id: u64,
    /// Name (unique in a store).
    pub name: String,
    /// The product SKU.
    pub sku: String,
    /// `physical` or `digital`.
    pub kind: String,
    /// Price in cents.
    pub price: i64,
    /// Cost price in cents.
    pub cost_price: i64,
    /// Sale price in cents (0 = none).
    pub sale_price: i64,
    /// Retail price in cents.
    pub retail_price: i64,
    /// Weight.
    pub weight: f64,
    /// Stock under product tracking.
    pub inventory_level: i64,
    /// Low-stock warning level.
    pub inventory_warning_level: i64,
    /// `none`, `product` or `variant`.
    pub inventory_tracking: String,
    /// Shown in the storefront.
    pub is_visible: bool,
    /// Category ids.
    pub categories: Vec<u64>,
    /// Brand id (0 = none).
    pub brand_id: u64,
    /// Created.
    pub date_created: DateTime<Utc>,
    /// Last modified.
    pub date_modified: DateTime<Utc>,
    /// Variants; the first is the base variant when there are no options.
    pub variants: Vec<Variant>,
}

impl Product {
    /// The product's stock as reported (sum of variants under variant
    /// tracking).
    pub fn level(&self) -> i64 {
        match self.inventory_tracking.as_str() {
            "variant" => self.variants.iter().map(|v| v.inventory_level).sum(),
            _ => self.inventory_level,
        }
    }

    /// The base variant id, when the product has no options.
    pub fn base_variant_id(&self) -> Option<u64> {
        match self.variants.as_slice() {
            [v] if v.option_values.is_empty() => Some(v.id),
            _ => None,
        }
    }

    /// The price of variant `v` (its own or the product's).
    pub fn price_of(&self, v: &Variant) -> i64 {
        v.price.unwrap_or(self.price)
    }
}

/// A variant of a new product: SKU, own price (cents), stock.
pub(crate) type NewVariant = (String, Option<i64>, i64);

/// A new product (seed, control routes and `POST /catalog/products`).
pub(crate) struct NewProduct<'a> {
    pub name: &'a str,
    pub sku: &'a str,
    pub price: i64,
    pub level: i64,
    pub tracking: &'a str,
    pub variants: &'a [NewVariant],
    pub at: DateTime<Utc>,
}

/// Creates a product with its base variant (or the given variants).
pub(crate) fn create_product(st: &mut State, new: NewProduct<'_>) -> u64 {
    let NewProduct {
        name,
        sku,
        price,
        level,
        tracking,
        variants,
        at,
    } = new;
    let id = st.id("product");
    let mut list = Vec::new();
    if variants.is_empty() {
        list.push(Variant {
            id: st.id("variant"),
            sku_id: st.id("sku"),
            sku: sku.to_string(),
            price: None,
            inventory_level: if tracking == "product" { level } else { 0 },
            option_values: Vec::new(),
            upc: String::new(),
        });
    } else {
        for (i, (vsku, vprice, vlevel)) in variants.iter().enumerate() {
            let vid = st.id("variant");
            list.push(Variant {
                id: vid,
                sku_id: st.id("sku"),
                sku: vsku.clone(),
                price: *vprice,
                inventory_level: *vlevel,
                option_values: vec![json!({
                    "id": 100 + i as u64,
                    "label": format!("Option {}", i + 1),
                    "option_id": 1,
                    "option_display_name": "Option",
                })],
                upc: String::new(),
            });
        }
    }
    let tracking = if variants.is_empty() || tracking != "product" {
        tracking
    } else {
        "variant"
    };
    st.products.insert(
        id,
        Product {
            id,
            name: name.to_string(),
            sku: sku.to_string(),
            kind: "physical".into(),
            price,
            cost_price: price * 6 / 10,
            sale_price: 0,
            retail_price: 0,
            weight: 1.0,
            inventory_level: level,
            inventory_warning_level: 5,
            inventory_tracking: tracking.to_string(),
            is_visible: true,
            categories: vec![18],
            brand_id: 0,
            date_created: at,
            date_modified: at,
            variants: list,
        },
    );
    id
}

/// A variant as v3 answers it.
pub(crate) fn render_variant(p: &Product, v: &Variant) -> Value {
    json!({
        "id": v.id,
        "product_id": p.id,
        "sku": v.sku,
        "sku_id": v.sku_id,
        "price": v.price.map(number),
        "calculated_price": number(p.price_of(v)),
        "sale_price": Value::Null,
        "retail_price": Value::Null,
        "cost_price": number(p.cost_price),
        "weight": Value::Null,
        "calculated_weight": p.weight,
        "inventory_level": if p.inventory_tracking == "product" { p.inventory_level } else { v.inventory_level },
        "inventory_warning_level": 0,
        "upc": v.upc,
        "purchasing_disabled": false,
        "option_values": v.option_values,
    })
}

/// A product as v3 answers it.
pub(crate) fn render_product(p: &Product, include_variants: bool) -> Value {
    let mut out = json!({
        "id": p.id,
        "name": p.name,
        "type": p.kind,
        "sku": p.sku,
        "description": "",
        "weight": p.weight,
        "price": number(p.price),
        "cost_price": number(p.cost_price),
        "retail_price": number(p.retail_price),
        "sale_price": number(p.sale_price),
        "calculated_price": number(if p.sale_price > 0 { p.sale_price } else { p.price }),
        "map_price": 0,
        "tax_class_id": 0,
        "categories": p.categories,
        "brand_id": p.brand_id,
        "inventory_level": p.level(),
        "inventory_warning_level": p.inventory_warning_level,
        "inventory_tracking": p.inventory_tracking,
        "is_visible": p.is_visible,
        "availability": "available",
        "condition": "New",
        "upc": "",
        "base_variant_id": p.base_variant_id(),
        "date_created": iso(p.date_created),
        "date_modified": iso(p.date_modified),
    });
    if include_variants {
        out["variants"] = p.variants.iter().map(|v| render_variant(p, v)).collect();
    }
    out
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/catalog/products", web::get().to(list_products))
        .route("/catalog/products", web::post().to(post_product))
        .route("/catalog/products", web::put().to(batch_products))
        .route("/catalog/products/{id}", web::get().to(get_product))
        .route("/catalog/products/{id}", web::put().to(put_product))
        .route("/catalog/products/{id}", web::delete().to(delete_product))
        .route(
            "/catalog/products/{id}/variants",
            web::get().to(product_variants),
        )
        .route(
            "/catalog/products/{id}/variants/{vid}",
            web::get().to(get_variant),
        )
        .route(
            "/catalog/products/{id}/variants/{vid}",
            web::put().to(put_variant),
        )
        .route("/catalog/variants", web::get().to(list_variants))
        .route("/catalog/variants", web::put().to(batch_variants))
        .route(
            "/inventory/adjustments/absolute",
            web::put().to(adjust_absolute),
        )
        .route(
            "/inventory/adjustments/relative",
            web::post().to(adjust_relative),
        );
}

fn includes_variants(q: &[(String, String)]) -> bool {
    param(q, "include").is_some_and(|s| s.split(',').any(|i| i.trim() == "variants"))
}

fn date_filter(q: &[(String, String)], name: &str) -> Result<Option<DateTime<Utc>>, BcError> {
    match param(q, name) {
        None => Ok(None),
        Some(s) => parse_date(s)
            .map(Some)
            .ok_or_else(|| BcError::new(V3, 422, format!("'{name}' is not a valid date."))),
    }
}

async fn list_products(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, BcError> {
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V3)?;
    let ids = param(&q, "id:in").map(id_list);
    let id = param(&q, "id").and_then(|s| s.parse::<u64>().ok());
    // The `sku` filter matches the product SKU only, not variant SKUs (§2.4).
    let skus: Option<Vec<&str>> = param(&q, "sku:in").map(|s| s.split(',').collect());
    let sku = param(&q, "sku");
    let name = param(&q, "name");
    let name_like = param(&q, "name:like").map(str::to_lowercase);
    let mod_min = date_filter(&q, "date_modified:min")?;
    let mod_max = date_filter(&q, "date_modified:max")?;
    let lvl_min = param(&q, "inventory_level:min").and_then(|s| s.parse::<i64>().ok());
    let lvl_max = param(&q, "inventory_level:max").and_then(|s| s.parse::<i64>().ok());
    let visible = param(&q, "is_visible").map(|s| s == "true" || s == "1");
    let with_variants = includes_variants(&q);
    let mut list: Vec<&Product> = st
        .products
        .values()
        .filter(|p| ids.as_ref().is_none_or(|ids| ids.contains(&p.id)))
        .filter(|p| id.is_none_or(|id| p.id == id))
        .filter(|p| skus.as_ref().is_none_or(|s| s.contains(&p.sku.as_str())))
        .filter(|p| sku.is_none_or(|s| p.sku == s))
        .filter(|p| name.is_none_or(|n| p.name == n))
        .filter(|p| {
            name_like
                .as_ref()
                .is_none_or(|n| p.name.to_lowercase().contains(n))
        })
        .filter(|p| mod_min.is_none_or(|d| p.date_modified >= d))
        .filter(|p| mod_max.is_none_or(|d| p.date_modified <= d))
        .filter(|p| lvl_min.is_none_or(|l| p.level() >= l))
        .filter(|p| lvl_max.is_none_or(|l| p.level() <= l))
        .filter(|p| visible.is_none_or(|v| p.is_visible == v))
        .collect();
    let desc = param(&q, "direction") == Some("desc");
    match param(&q, "sort") {
        Some("name") => list.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("sku") => list.sort_by(|a, b| a.sku.cmp(&b.sku)),
        Some("date_modified") => list.sort_by_key(|p| (p.date_modified, p.id)),
        Some("inventory_level") => list.sort_by_key(|p| (p.level(), p.id)),
        Some("price") => list.sort_by_key(|p| (p.price, p.id)),
        _ => {}
    }
    if desc {
        list.reverse();
    }
    let all: Vec<Value> = list
        .iter()
        .map(|p| render_product(p, with_variants))
        .collect();
    Ok(v3_list(&all, page, json!({})))
}

fn product_id(path: &str) -> Result<u64, BcError> {
    path.parse().map_err(|_| BcError::not_found(V3))
}

async fn get_product(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = product_id(&path.1)?;
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let p = st.products.get(&id).ok_or_else(|| BcError::not_found(V3))?;
    Ok(HttpResponse::Ok()
        .json(json!({ "data": render_product(p, includes_variants(&q)), "meta": {} })))
}

/// Applies a product patch; returns whether the stock changed.
pub(crate) fn apply_product(
    st: &mut State,
    id: u64,
    patch: &Value,
) -> Result<Option<i64>, BcError> {
    let Some(obj) = patch.as_object() else {
        return Err(BcError::new(V3, 422, "The product is not an object."));
    };
    if let Some(sku) = obj.get("sku").and_then(Value::as_str) {
        if st.products.values().any(|p| p.id != id && p.sku == sku) {
            return Err(BcError::new(V3, 409, "The product sku is a duplicate.").with("sku", sku));
        }
    }
    if let Some(name) = obj.get("name").and_then(Value::as_str) {
        if st.products.values().any(|p| p.id != id && p.name == name) {
            return Err(
                BcError::new(V3, 409, "The product name is a duplicate.").with("name", name)
            );
        }
    }
    let p = st
        .products
        .get_mut(&id)
        .ok_or_else(|| BcError::not_found(V3))?;
    let mut next = p.clone();
    for (k, v) in obj {
        match k.as_str() {
            "name" => next.name = v.as_str().unwrap_or(&next.name).to_string(),
            "sku" => {
                let sku = v
                    .as_str()
                    .ok_or_else(|| BcError::invalid(V3, "sku", "sku must be a string"))?;
                next.sku = sku.to_string();
                if let Some(base) = next.variants.first_mut() {
                    if base.option_values.is_empty() {
                        base.sku = sku.to_string();
                    }
                }
            }
            "price" | "cost_price" | "sale_price" | "retail_price" => {
                let c = cents_of(v)
                    .filter(|c| *c >= 0)
                    .ok_or_else(|| BcError::invalid(V3, k, format!("{k} must be a number")))?;
                match k.as_str() {
                    "price" => next.price = c,
                    "cost_price" => next.cost_price = c,
                    "sale_price" => next.sale_price = c,
                    _ => next.retail_price = c,
                }
            }
            "inventory_level" => {
                let l = v
                    .as_i64()
                    .ok_or_else(|| BcError::invalid(V3, k, "inventory_level must be an integer"))?;
                next.inventory_level = l;
            }
            "inventory_warning_level" => {
                next.inventory_warning_level = v.as_i64().unwrap_or(0);
            }
            "inventory_tracking" => {
                let t = v.as_str().unwrap_or("");
                if !matches!(t, "none" | "product" | "variant") {
                    return Err(BcError::invalid(
                        V3,
                        k,
                        "inventory_tracking must be one of none, product, variant",
                    ));
                }
                next.inventory_tracking = t.to_string();
            }
            "is_visible" => next.is_visible = v.as_bool().unwrap_or(next.is_visible),
            "weight" => next.weight = v.as_f64().unwrap_or(next.weight),
            "brand_id" => next.brand_id = v.as_u64().unwrap_or(0),
            _ => {}
        }
    }
    let stock_changed = next.inventory_level != p.inventory_level;
    if stock_changed && next.inventory_tracking == "variant" {
        return Err(BcError::invalid(
            V3,
            "inventory_level",
            "The product is tracked by variant, please update stock by variant.",
        ));
    }
    if next.inventory_tracking == "product" {
        if let Some(base) = next.variants.first_mut() {
            base.inventory_level = next.inventory_level;
        }
    }
    next.date_modified = now();
    let level = next.inventory_level;
    *p = next;
    Ok(stock_changed.then_some(level))
}

pub(crate) fn product_events(
    world: &web::Data<World>,
    st: &mut State,
    id: u64,
    level: Option<i64>,
) {
    delivery::fire(
        world,
        st,
        "store/product/updated",
        json!({ "type": "product", "id": id }),
    );
    if let Some(value) = level {
        delivery::fire(
            world,
            st,
            "store/product/inventory/updated",
            json!({ "type": "product", "id": id,
                    "inventory": { "product_id": id, "method": "absolute", "value": value } }),
        );
    }
}

async fn put_product(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let id = product_id(&path.1)?;
    let patch = json_body(&body, V3)?;
    let q = query_pairs(&req);
    let mut st = world.bigcommerce();
    let level = apply_product(&mut st, id, &patch)?;
    product_events(&world, &mut st, id, level);
    let p = &st.products[&id];
    Ok(HttpResponse::Ok()
        .json(json!({ "data": render_product(p, includes_variants(&q)), "meta": {} })))
}

/// Batch update: an array of at most 10 products, each with `id` (§2.4).
async fn batch_products(
    world: web::Data<World>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let patch = json_body(&body, V3)?;
    let items = patch
        .as_array()
        .ok_or_else(|| BcError::new(V3, 422, "The request body must be an array of products."))?;
    if items.len() > 10 {
        return Err(BcError::new(
            V3,
            413,
            "The request payload is too large. The maximum number of items allowed in the array is 10.",
        ));
    }
    let mut st = world.bigcommerce();
    for (i, item) in items.iter().enumerate() {
        let id = item.get("id").and_then(Value::as_u64).ok_or_else(|| {
            BcError::invalid(V3, &format!("[{i}].id"), "id is required for each product")
        })?;
        if !st.products.contains_key(&id) {
            return Err(
                BcError::new(V3, 422, format!("Product {id} does not exist."))
                    .with(&format!("[{i}].id"), "not found"),
            );
        }
    }
    let mut out = Vec::new();
    for item in items {
        let id = item.get("id").and_then(Value::as_u64).unwrap_or(0);
        let level = apply_product(&mut st, id, item)?;
        product_events(&world, &mut st, id, level);
        out.push(render_product(&st.products[&id], false));
    }
    Ok(HttpResponse::Ok().json(json!({ "data": out, "meta": {} })))
}

async fn post_product(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, BcError> {
    let v = json_body(&body, V3)?;
    let name = v.get("name").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    let mut e = BcError::new(V3, 422, "JSON data is missing or invalid");
    if name.is_empty() {
        e = e.with("name", "name is required");
    }
    if !matches!(kind, "physical" | "digital") {
        e = e.with("type", "type must be physical or digital");
    }
    let price = v.get("price").and_then(cents_of);
    if price.is_none() {
        e = e.with("price", "price is required");
    }
    if v.get("weight").and_then(Value::as_f64).is_none() {
        e = e.with("weight", "weight is required");
    }
    if !e.errors.is_empty() {
        return Err(e);
    }
    let sku = v
        .get("sku")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut st = world.bigcommerce();
    if st.products.values().any(|p| p.name == name) {
        return Err(BcError::new(V3, 409, "The product name is a duplicate.").with("name", name));
    }
    if !sku.is_empty() && st.products.values().any(|p| p.sku == sku) {
        return Err(BcError::new(V3, 409, "The product sku is a duplicate.").with("sku", &sku));
    }
    let tracking = v
        .get("inventory_tracking")
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_string();
    let level = v
        .get("inventory_level")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let id = create_product(
        &mut st,
        NewProduct {
            name,
            sku: &sku,
            price: price.unwrap_or(0),
            level,
            tracking: &tracking,
            variants: &[],
            at: now(),
        },
    );
    if let Some(p) = st.products.get_mut(&id) {
        p.kind = kind.to_string();
        p.weight = v.get("weight").and_then(Value::as_f64).unwrap_or(0.0);
    }
    delivery::fire(
        &world,
        &mut st,
        "store/product/created",
        json!({ "type": "product", "id": id }),
    );
    Ok(HttpResponse::Ok()
        .json(json!({ "data": render_product(&st.products[&id], true), "meta": {} })))
}

async fn delete_product(
    world: web::Data<World>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = product_id(&path.1)?;
    let mut st = world.bigcommerce();
    st.products
        .remove(&id)
        .ok_or_else(|| BcError::not_found(V3))?;
    delivery::fire(
        &world,
        &mut st,
        "store/product/deleted",
        json!({ "type": "product", "id": id }),
    );
    Ok(HttpResponse::NoContent().finish())
}

async fn product_variants(
    world: web::Data<World>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, BcError> {
    let id = product_id(&path.1)?;
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V3)?;
    let p = st.products.get(&id).ok_or_else(|| BcError::not_found(V3))?;
    let all: Vec<Value> = p.variants.iter().map(|v| render_variant(p, v)).collect();
    Ok(v3_list(&all, page, json!({})))
}

fn find_variant(st: &State, pid: u64, vid: u64) -> Result<(&Product, &Variant), BcError> {
    let p = st
        .products
        .get(&pid)
        .ok_or_else(|| BcError::not_found(V3))?;
    let v = p
        .variants
        .iter()
        .find(|v| v.id == vid)
        .ok_or_else(|| BcError::not_found(V3))?;
    Ok((p, v))
}

async fn get_variant(
    world: web::Data<World>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, BcError> {
    let pid = product_id(&path.1)?;
    let vid = product_id(&path.2)?;
    let st = world.bigcommerce();
    let (p, v) = find_variant(&st, pid, vid)?;
    Ok(HttpResponse::Ok().json(json!({ "data": render_variant(p, v), "meta": {} })))
}

/// Applies a variant patch; fires its events.
fn apply_variant(
    world: &web::Data<World>,
    st: &mut State,
    pid: u64,
    vid: u64,
    patch: &Value,
) -> Result<(), BcError> {
    find_variant(st, pid, vid)?;
    if let Some(sku) = patch.get("sku").and_then(Value::as_str) {
        let taken = st
            .products
            .values()
            .flat_map(|p| p.variants.iter())
            .any(|v| v.id != vid && v.sku == sku);
        if taken {
            return Err(BcError::new(V3, 409, "The variant sku is a duplicate.").with("sku", sku));
        }
    }
    let level = match patch.get("inventory_level") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            BcError::invalid(V3, "inventory_level", "inventory_level must be an integer")
        })?),
    };
    let price = match patch.get("price") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(cents_of(v).filter(|c| *c >= 0).ok_or_else(|| {
            BcError::invalid(V3, "price", "price must be a number")
        })?)),
    };
    let p = st
        .products
        .get_mut(&pid)
        .ok_or_else(|| BcError::not_found(V3))?;
    let tracking = p.inventory_tracking.clone();
    let base = p.base_variant_id() == Some(vid);
    let v = p
        .variants
        .iter_mut()
        .find(|v| v.id == vid)
        .ok_or_else(|| BcError::not_found(V3))?;
    if let Some(sku) = patch.get("sku").and_then(Value::as_str) {
        v.sku = sku.to_string();
    }
    if let Some(upc) = patch.get("upc").and_then(Value::as_str) {
        v.upc = upc.to_string();
    }
    if let Some(price) = price {
        v.price = price;
    }
    let sku_id = v.sku_id;
    let mut stock_event = None;
    if let Some(level) = level {
        if tracking == "product" && base {
            // The base variant of a product-tracked product is the product.
            v.inventory_level = level;
            p.inventory_level = level;
            stock_event = Some(("product", level));
        } else if tracking == "variant" {
            v.inventory_level = level;
            stock_event = Some(("sku", level));
        } else {
            return Err(BcError::invalid(
                V3,
                "inventory_level",
                format!("Item with variant_id {vid} is tracked by {tracking}, please update stock by product id"),
            ));
        }
    }
    p.date_modified = now();
    delivery::fire(
        world,
        st,
        "store/product/updated",
        json!({ "type": "product", "id": pid }),
    );
    match stock_event {
        Some(("product", value)) => delivery::fire(
            world,
            st,
            "store/product/inventory/updated",
            json!({ "type": "product", "id": pid,
                    "inventory": { "product_id": pid, "method": "absolute", "value": value } }),
        ),
        Some((_, value)) => delivery::fire(
            world,
            st,
            "store/sku/inventory/updated",
            json!({ "type": "sku", "id": sku_id,
                    "inventory": { "product_id": pid, "method": "absolute", "value": value, "variant_id": vid } }),
        ),
        None => {}
    }
    Ok(())
}

async fn put_variant(
    world: web::Data<World>,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let pid = product_id(&path.1)?;
    let vid = product_id(&path.2)?;
    let patch = json_body(&body, V3)?;
    let mut st = world.bigcommerce();
    apply_variant(&world, &mut st, pid, vid, &patch)?;
    let (p, v) = find_variant(&st, pid, vid)?;
    Ok(HttpResponse::Ok().json(json!({ "data": render_variant(p, v), "meta": {} })))
}

/// `GET /catalog/variants`: variant SKUs are found here (§2.4).
async fn list_variants(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, BcError> {
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V3)?;
    let ids = param(&q, "id:in").map(id_list);
    let pids = param(&q, "product_id:in").map(id_list);
    let sku = param(&q, "sku");
    let skus: Option<Vec<&str>> = param(&q, "sku:in").map(|s| s.split(',').collect());
    let all: Vec<Value> = st
        .products
        .values()
        .flat_map(|p| p.variants.iter().map(move |v| (p, v)))
        .filter(|(_, v)| ids.as_ref().is_none_or(|i| i.contains(&v.id)))
        .filter(|(p, _)| pids.as_ref().is_none_or(|i| i.contains(&p.id)))
        .filter(|(_, v)| sku.is_none_or(|s| v.sku == s))
        .filter(|(_, v)| skus.as_ref().is_none_or(|s| s.contains(&v.sku.as_str())))
        .map(|(p, v)| render_variant(p, v))
        .collect();
    Ok(v3_list(&all, page, json!({})))
}

/// Batch update: an array of at most 50 variants, each with `id` (§2.4).
async fn batch_variants(
    world: web::Data<World>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    let patch = json_body(&body, V3)?;
    let items = patch
        .as_array()
        .ok_or_else(|| BcError::new(V3, 422, "The request body must be an array of variants."))?;
    if items.len() > 50 {
        return Err(BcError::new(
            V3,
            413,
            "The request payload is too large. The maximum number of items allowed in the array is 50.",
        ));
    }
    let mut st = world.bigcommerce();
    let mut targets = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let vid = item.get("id").and_then(Value::as_u64).ok_or_else(|| {
            BcError::invalid(V3, &format!("[{i}].id"), "id is required for each variant")
        })?;
        let pid = st
            .products
            .values()
            .find(|p| p.variants.iter().any(|v| v.id == vid))
            .map(|p| p.id)
            .ok_or_else(|| {
                BcError::new(V3, 422, format!("Variant {vid} does not exist."))
                    .with(&format!("[{i}].id"), "not found")
            })?;
        targets.push((pid, vid));
    }
    let mut out = Vec::new();
    for ((pid, vid), item) in targets.into_iter().zip(items) {
        apply_variant(&world, &mut st, pid, vid, item)?;
        let (p, v) = find_variant(&st, pid, vid)?;
        out.push(render_variant(p, v));
    }
    Ok(HttpResponse::Ok().json(json!({ "data": out, "meta": {} })))
}

/// Where an adjustment goes.
enum Target {
    Product(u64),
    Variant(u64, u64),
}

/// Resolves one adjustment item (by `variant_id`, `sku` or `product_id`)
/// against the product's tracking (§2.4's 422 message).
fn resolve(st: &State, item: &Value, i: usize) -> Result<Target, BcError> {
    let field = |f: &str| format!("items[{i}].{f}");
    let location = item.get("location_id").and_then(Value::as_u64);
    if location != Some(1) {
        return Err(BcError::invalid(
            V3,
            &field("location_id"),
            format!(
                "Location with id {} does not exist",
                location.map_or("null".to_string(), |l| l.to_string())
            ),
        ));
    }
    let track_err = |key: &str, id: &str, tracking: &str| {
        let by = if tracking == "variant" {
            "variant id"
        } else {
            "product id"
        };
        BcError::invalid(
            V3,
            &field(key),
            format!("Item with {key} {id} is tracked by {tracking}, please update stock by {by}"),
        )
    };
    if let Some(pid) = item.get("product_id").and_then(Value::as_u64) {
        let p = st.products.get(&pid).ok_or_else(|| {
            BcError::invalid(
                V3,
                &field("product_id"),
                format!("Product with id {pid} does not exist"),
            )
        })?;
        if p.inventory_tracking != "product" {
            return Err(track_err(
                "product_id",
                &pid.to_string(),
                &p.inventory_tracking,
            ));
        }
        return Ok(Target::Product(pid));
    }
    let (key, id, found) = if let Some(vid) = item.get("variant_id").and_then(Value::as_u64) {
        let found = st
            .products
            .values()
            .find_map(|p| p.variants.iter().find(|v| v.id == vid).map(|v| (p, v)));
        ("variant_id", vid.to_string(), found)
    } else if let Some(sku) = item.get("sku").and_then(Value::as_str) {
        let found = st
            .products
            .values()
            .find_map(|p| p.variants.iter().find(|v| v.sku == sku).map(|v| (p, v)));
        ("sku", sku.to_string(), found)
    } else {
        return Err(BcError::invalid(
            V3,
            &field("variant_id"),
            "One of variant_id, sku or product_id is required",
        ));
    };
    let (p, v) = found.ok_or_else(|| {
        BcError::invalid(
            V3,
            &field(key),
            format!("Item with {key} {id} does not exist"),
        )
    })?;
    match p.inventory_tracking.as_str() {
        "variant" => Ok(Target::Variant(p.id, v.id)),
        // A SKU of a product-tracked product without options is the product.
        "product" if key == "sku" && p.base_variant_id() == Some(v.id) => Ok(Target::Product(p.id)),
        t => Err(track_err(key, &id, t)),
    }
}

/// Sets or moves the stock of `target`; fires the inventory event under
/// `scope_suffix` (`updated` or `order/updated`).
pub(crate) fn change_stock(
    world: &web::Data<World>,
    st: &mut State,
    pid: u64,
    vid: Option<u64>,
    relative: bool,
    value: i64,
    scope_suffix: &str,
) {
    let method = if relative { "relative" } else { "absolute" };
    let Some(p) = st.products.get_mut(&pid) else {
        return;
    };
    let tracking = p.inventory_tracking.clone();
    let set = |old: i64| if relative { old + value } else { value };
    let event = match (tracking.as_str(), vid) {
        ("variant", Some(vid)) => {
            let Some(v) = p.variants.iter_mut().find(|v| v.id == vid) else {
                return;
            };
            v.inventory_level = set(v.inventory_level);
            Some((
                format!("store/sku/inventory/{scope_suffix}"),
                json!({ "type": "sku", "id": v.sku_id,
                        "inventory": { "product_id": pid, "method": method, "value": value, "variant_id": vid } }),
            ))
        }
        ("product", _) => {
            p.inventory_level = set(p.inventory_level);
            let level = p.inventory_level;
            if let Some(base) = p.variants.first_mut() {
                base.inventory_level = level;
            }
            Some((
                format!("store/product/inventory/{scope_suffix}"),
                json!({ "type": "product", "id": pid,
                        "inventory": { "product_id": pid, "method": method, "value": value } }),
            ))
        }
        _ => None,
    };
    p.date_modified = now();
    if let Some((scope, data)) = event {
        delivery::fire(world, st, &scope, data);
    }
}

async fn adjust(
    world: web::Data<World>,
    body: web::Bytes,
    relative: bool,
) -> Result<HttpResponse, BcError> {
    let v = json_body(&body, V3)?;
    let items = v
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| BcError::invalid(V3, "items", "items is required"))?;
    if items.is_empty() || items.len() > 2000 {
        return Err(BcError::invalid(
            V3,
            "items",
            "items must have between 1 and 2000 entries",
        ));
    }
    let mut st = world.bigcommerce();
    let mut plan = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let target = resolve(&st, item, i)?;
        let qty = item
            .get("quantity")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                BcError::invalid(
                    V3,
                    &format!("items[{i}].quantity"),
                    "quantity must be an integer",
                )
            })?;
        if !relative && qty < 0 {
            return Err(BcError::invalid(
                V3,
                &format!("items[{i}].quantity"),
                "quantity must be zero or more",
            ));
        }
        plan.push((target, qty));
    }
    for (target, qty) in plan {
        let (pid, vid) = match target {
            Target::Product(p) => (p, None),
            Target::Variant(p, v) => (p, Some(v)),
        };
        change_stock(&world, &mut st, pid, vid, relative, qty, "updated");
    }
    Ok(HttpResponse::Ok().json(json!({ "transaction_id": uuid::Uuid::new_v4().to_string() })))
}

/// `PUT /inventory/adjustments/absolute` (§2.4).
async fn adjust_absolute(
    world: web::Data<World>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    adjust(world, body, false).await
}

/// `POST /inventory/adjustments/relative` (§2.4).
async fn adjust_relative(
    world: web::Data<World>,
    body: web::Bytes,
) -> Result<HttpResponse, BcError> {
    adjust(world, body, true).await
}
