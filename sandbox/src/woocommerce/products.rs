//! Products (facts §1.5): list (filter by `sku`), get, create, update
//! price and stock, delete, and `POST /products/batch` (100 items at most
//! across create+update+delete, per-item errors inside a 200).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::auth::{
    authorize, CANNOT_BATCH, CANNOT_CREATE, CANNOT_DELETE, CANNOT_EDIT, CANNOT_LIST, CANNOT_VIEW,
};
use super::paging::{respond, ListParams};
use super::{
    api_base, apply_meta, body_params, delivery, field_bool, field_int, field_str, links, money,
    now, parse_money, Meta, State, WcError,
};
use crate::World;

/// A product (simple products only).
#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: u64,
    pub name: String,
    pub kind: String,
    pub status: String,
    pub description: String,
    pub short_description: String,
    pub sku: String,
    /// Cents; `None` is `""`.
    pub regular_price: Option<i64>,
    pub sale_price: Option<i64>,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
    pub stock_status: String,
    pub weight: String,
    pub total_sales: i64,
    pub date_created: NaiveDateTime,
    pub date_modified: NaiveDateTime,
    pub meta_data: Vec<Meta>,
}

impl Product {
    /// A published simple product.
    pub fn new(id: u64, name: &str, sku: &str, at: NaiveDateTime) -> Product {
        Product {
            id,
            name: name.to_string(),
            kind: "simple".into(),
            status: "publish".into(),
            description: String::new(),
            short_description: String::new(),
            sku: sku.to_string(),
            regular_price: None,
            sale_price: None,
            manage_stock: false,
            stock_quantity: None,
            stock_status: "instock".into(),
            weight: String::new(),
            total_sales: 0,
            date_created: at,
            date_modified: at,
            meta_data: Vec::new(),
        }
    }

    /// The active price in cents (sale price when set).
    pub fn price(&self) -> Option<i64> {
        self.sale_price.or(self.regular_price)
    }

    /// Recomputes `stock_status` from a managed quantity.
    pub fn sync_stock_status(&mut self) {
        if self.manage_stock {
            if let Some(q) = self.stock_quantity {
                self.stock_status = if q > 0 { "instock" } else { "outofstock" }.into();
            }
        }
    }
}

fn slug(name: &str) -> String {
    let s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The REST representation (`GET /products/{id}`).
pub(crate) fn render(state: &State, api: &str, p: &Product) -> Value {
    let (created, created_gmt) = state.dates(p.date_created);
    let (modified, modified_gmt) = state.dates(p.date_modified);
    let store = api.trim_end_matches(super::API_PREFIX);
    let opt_money = |c: Option<i64>| c.map(money).unwrap_or_default();
    let mut v = json!({
        "id": p.id,
        "name": p.name,
        "slug": slug(&p.name),
        "permalink": format!("{store}/product/{}/", slug(&p.name)),
        "date_created": created,
        "date_created_gmt": created_gmt,
        "date_modified": modified,
        "date_modified_gmt": modified_gmt,
        "type": p.kind,
        "status": p.status,
        "featured": false,
        "catalog_visibility": "visible",
        "description": p.description,
        "short_description": p.short_description,
        "sku": p.sku,
        "price": opt_money(p.price()),
        "regular_price": opt_money(p.regular_price),
        "sale_price": opt_money(p.sale_price),
        "date_on_sale_from": null,
        "date_on_sale_from_gmt": null,
        "date_on_sale_to": null,
        "date_on_sale_to_gmt": null,
        "on_sale": p.sale_price.is_some(),
        "purchasable": p.price().is_some() && p.status == "publish",
        "total_sales": p.total_sales,
        "virtual": false,
        "downloadable": false,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
    });
    let rest = json!({
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": p.manage_stock,
        "stock_quantity": if p.manage_stock { json!(p.stock_quantity) } else { Value::Null },
        "stock_status": p.stock_status,
        "backorders": "no",
        "backorders_allowed": false,
        "backordered": false,
        "low_stock_amount": null,
        "sold_individually": false,
        "weight": p.weight,
        "dimensions": { "length": "", "width": "", "height": "" },
        "shipping_required": true,
        "shipping_taxable": true,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": true,
        "average_rating": "0.00",
        "rating_count": 0,
        "related_ids": [],
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": 0,
        "purchase_note": "",
        "categories": [],
        "tags": [],
        "images": [],
        "attributes": [],
        "default_attributes": [],
        "variations": [],
        "grouped_products": [],
        "menu_order": 0,
        "meta_data": p.meta_data,
        "_links": links(api, "products", p.id),
    });
    super::merge(&mut v, rest);
    v
}

fn money_field(obj: &Value, name: &str) -> Result<Option<Option<i64>>, WcError> {
    match field_str(obj, name)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(Some(None)),
        Some(s) => parse_money(&s)
            .map(|c| Some(Some(c)))
            .ok_or_else(|| WcError::invalid_param(name, format!("{name} is not a valid price."))),
    }
}

/// Applies writable fields of `patch` to `p`.
pub(crate) fn apply(state: &mut State, p: &mut Product, patch: &Value) -> Result<(), WcError> {
    if let Some(name) = field_str(patch, "name")? {
        p.name = name;
    }
    if let Some(sku) = field_str(patch, "sku")? {
        let taken = !sku.is_empty()
            && state
                .products
                .values()
                .any(|o| o.id != p.id && o.sku == sku);
        if taken {
            return Err(WcError::new(
                400,
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
            ));
        }
        p.sku = sku;
    }
    if let Some(kind) = field_str(patch, "type")? {
        if !matches!(
            kind.as_str(),
            "simple" | "grouped" | "external" | "variable"
        ) {
            return Err(WcError::invalid_param(
                "type",
                "type is not one of simple, grouped, external, and variable.",
            ));
        }
        p.kind = kind;
    }
    if let Some(status) = field_str(patch, "status")? {
        if !matches!(
            status.as_str(),
            "draft" | "pending" | "private" | "publish" | "future"
        ) {
            return Err(WcError::invalid_param(
                "status",
                "status is not one of draft, pending, private, publish, and future.",
            ));
        }
        p.status = status;
    }
    if let Some(d) = field_str(patch, "description")? {
        p.description = d;
    }
    if let Some(d) = field_str(patch, "short_description")? {
        p.short_description = d;
    }
    if let Some(w) = field_str(patch, "weight")? {
        p.weight = w;
    }
    if let Some(price) = money_field(patch, "regular_price")? {
        p.regular_price = price;
    }
    if let Some(price) = money_field(patch, "sale_price")? {
        p.sale_price = price;
    }
    if let Some(manage) = field_bool(patch, "manage_stock")? {
        p.manage_stock = manage;
    }
    if let Some(q) = field_int(patch, "stock_quantity")? {
        p.stock_quantity = Some(q);
    }
    if let Some(status) = field_str(patch, "stock_status")? {
        if !matches!(status.as_str(), "instock" | "outofstock" | "onbackorder") {
            return Err(WcError::invalid_param(
                "stock_status",
                "stock_status is not one of instock, outofstock, and onbackorder.",
            ));
        }
        p.stock_status = status;
    }
    if let Some(meta) = patch.get("meta_data") {
        apply_meta(state, &mut p.meta_data, meta)?;
    }
    p.sync_stock_status();
    p.date_modified = now();
    Ok(())
}

fn invalid_id(status: u16) -> WcError {
    WcError::new(status, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

/// Creates a product from a REST body; its id.
pub(crate) fn create(state: &mut State, body: &Value) -> Result<u64, WcError> {
    if body.get("id").is_some_and(|v| !v.is_null()) {
        return Err(WcError::new(
            400,
            "woocommerce_rest_product_exists",
            "Cannot create existing product.",
        ));
    }
    let id = state.post_id();
    let mut p = Product::new(id, "", "", now());
    apply(state, &mut p, body)?;
    state.products.insert(id, p);
    Ok(id)
}

/// Updates product `id` from a REST body.
pub(crate) fn update(state: &mut State, id: u64, body: &Value) -> Result<(), WcError> {
    let Some(mut p) = state.products.get(&id).cloned() else {
        return Err(invalid_id(400));
    };
    apply(state, &mut p, body)?;
    state.products.insert(id, p);
    Ok(())
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/products/batch", web::post().to(batch))
        .route("/products/batch", web::put().to(batch))
        .route("/products/batch", web::patch().to(batch))
        .route("/products", web::get().to(list))
        .route("/products", web::post().to(create_one))
        .route("/products/{id:\\d+}", web::get().to(get))
        .route("/products/{id:\\d+}", web::put().to(update_one))
        .route("/products/{id:\\d+}", web::post().to(update_one))
        .route("/products/{id:\\d+}", web::patch().to(update_one))
        .route("/products/{id:\\d+}", web::delete().to(delete_one));
}

async fn list(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_LIST)?;
    let params = ListParams::parse(&req)?;
    let skus = params.list("sku");
    let status = params.get("status").unwrap_or("any").to_string();
    let stock_status = params.get("stock_status").map(str::to_string);
    let kind = params.get("type").map(str::to_string);
    let search = params.search.as_ref().map(|s| s.to_lowercase());
    let mut items: Vec<&Product> = st
        .products
        .values()
        .filter(|p| params.id_passes(p.id))
        .filter(|p| skus.is_empty() || skus.contains(&p.sku))
        .filter(|p| {
            if status == "any" {
                p.status != "trash"
            } else {
                p.status == status
            }
        })
        .filter(|p| stock_status.as_ref().is_none_or(|s| *s == p.stock_status))
        .filter(|p| kind.as_ref().is_none_or(|k| *k == p.kind))
        .filter(|p| {
            search.as_ref().is_none_or(|s| {
                p.name.to_lowercase().contains(s) || p.sku.to_lowercase().contains(s)
            })
        })
        .filter(|p| {
            params.dates_pass(
                params.after,
                params.before,
                p.date_created,
                st.local(p.date_created),
            )
        })
        .filter(|p| {
            params.dates_pass(
                params.modified_after,
                params.modified_before,
                p.date_modified,
                st.local(p.date_modified),
            )
        })
        .collect();
    let orderby = params.orderby.clone().unwrap_or_else(|| "date".into());
    match orderby.as_str() {
        "id" => items.sort_by_key(|p| p.id),
        "title" => items.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        "slug" => items.sort_by(|a, b| slug(&a.name).cmp(&slug(&b.name)).then(a.id.cmp(&b.id))),
        "modified" => items.sort_by_key(|p| (p.date_modified, p.id)),
        "price" => items.sort_by_key(|p| (p.price().unwrap_or(0), p.id)),
        "popularity" => items.sort_by_key(|p| (p.total_sales, p.id)),
        "include" => items.sort_by_key(|p| params.include.iter().position(|i| *i == p.id).unwrap_or(usize::MAX)),
        "date" | "rating" => items.sort_by_key(|p| (p.date_created, p.id)),
        _ => {
            return Err(WcError::invalid_param(
                "orderby",
                "orderby is not one of date, id, include, title, slug, modified, price, popularity, and rating.",
            ))
        }
    }
    if orderby != "include" && !params.ascending.unwrap_or(false) {
        items.reverse();
    }
    let items: Vec<Value> = items.into_iter().map(|p| render(&st, &api, p)).collect();
    Ok(respond(&req, &params, items))
}

async fn get(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_VIEW)?;
    let p = st.products.get(&id).ok_or_else(|| invalid_id(404))?;
    Ok(HttpResponse::Ok().json(render(&st, &api, p)))
}

async fn create_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_CREATE)?;
    let patch = body_params(&req, &body)?;
    let id = create(&mut st, &patch)?;
    delivery::fire(&world, &mut st, "product.created", id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{api}/products/{id}")))
        .json(render(&st, &api, &st.products[&id])))
}

async fn update_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_EDIT)?;
    let patch = body_params(&req, &body)?;
    update(&mut st, id, &patch)?;
    delivery::fire(&world, &mut st, "product.updated", id);
    Ok(HttpResponse::Ok().json(render(&st, &api, &st.products[&id])))
}

fn delete(state: &mut State, id: u64, force: bool) -> Result<Product, WcError> {
    let Some(p) = state.products.get_mut(&id) else {
        return Err(invalid_id(404));
    };
    if force {
        Ok(state.products.remove(&id).expect("present"))
    } else if p.status == "trash" {
        Err(WcError::new(
            410,
            "woocommerce_rest_already_trashed",
            "The product has already been deleted.",
        ))
    } else {
        p.status = "trash".into();
        p.date_modified = now();
        Ok(p.clone())
    }
}

async fn delete_one(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
    id: web::Path<u64>,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let id = id.into_inner();
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_DELETE)?;
    let params = ListParams::parse(&req)?;
    let force = matches!(params.get("force"), Some("true" | "1"));
    let p = delete(&mut st, id, force)?;
    delivery::fire(&world, &mut st, "product.deleted", id);
    Ok(HttpResponse::Ok().json(render(&st, &api, &p)))
}

/// A batch item's error, embedded in the 200 answer.
pub(crate) fn item_error(id: u64, e: &WcError) -> Value {
    json!({ "id": id, "error": { "code": e.code, "message": e.message, "data": { "status": e.status.as_u16() } } })
}

/// The batch limit (facts §1.5, filter `woocommerce_rest_batch_items_limit`).
pub(crate) const BATCH_LIMIT: usize = 100;

/// Counts the items of a batch body; 413 over the limit.
pub(crate) fn check_batch_size(body: &Value) -> Result<(), WcError> {
    let count: usize = ["create", "update", "delete"]
        .iter()
        .map(|k| body.get(*k).and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    if count > BATCH_LIMIT {
        return Err(WcError::new(
            413,
            "woocommerce_rest_request_entity_too_large",
            format!("Unable to accept more than {BATCH_LIMIT} items for this request."),
        ));
    }
    Ok(())
}

async fn batch(
    world: web::Data<World>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WcError> {
    let api = api_base(&world);
    let mut st = world.woocommerce();
    authorize(&req, &body, &mut st, CANNOT_BATCH)?;
    let patch = body_params(&req, &body)?;
    check_batch_size(&patch)?;
    let mut out = serde_json::Map::new();
    if let Some(items) = patch.get("create").and_then(Value::as_array) {
        let mut created = Vec::new();
        for item in items {
            match create(&mut st, item) {
                Ok(id) => {
                    delivery::fire(&world, &mut st, "product.created", id);
                    created.push(render(&st, &api, &st.products[&id]));
                }
                Err(e) => created.push(item_error(0, &e)),
            }
        }
        out.insert("create".into(), created.into());
    }
    if let Some(items) = patch.get("update").and_then(Value::as_array) {
        let mut updated = Vec::new();
        for item in items {
            let id = item.get("id").and_then(Value::as_u64).unwrap_or(0);
            match update(&mut st, id, item) {
                Ok(()) => {
                    delivery::fire(&world, &mut st, "product.updated", id);
                    updated.push(render(&st, &api, &st.products[&id]));
                }
                Err(e) => updated.push(item_error(id, &e)),
            }
        }
        out.insert("update".into(), updated.into());
    }
    if let Some(items) = patch.get("delete").and_then(Value::as_array) {
        let mut deleted = Vec::new();
        for item in items {
            let id = item
                .as_u64()
                .or_else(|| item.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0);
            // Batch deletes are forced (facts §1.5).
            match delete(&mut st, id, true) {
                Ok(p) => {
                    delivery::fire(&world, &mut st, "product.deleted", id);
                    deleted.push(render(&st, &api, &p));
                }
                Err(e) => deleted.push(item_error(id, &e)),
            }
        }
        out.insert("delete".into(), deleted.into());
    }
    Ok(HttpResponse::Ok().json(Value::Object(out)))
}
