//! Customers (facts §1.6): list (filter by `email`, `role`, `search`;
//! `orderby` default `name`, `order` default `asc`), get, create, update
//! (fires `customer.updated`).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::auth::{authorize, CANNOT_CREATE, CANNOT_EDIT, CANNOT_LIST, CANNOT_VIEW};
use super::paging::{respond, ListParams};
use super::{
    api_base, apply_meta, body_params, delivery, field_str, links, now, Address, Meta, State,
    WcError,
};
use crate::World;

/// A customer (a WordPress user with role `customer`).
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub id: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub role: String,
    pub billing: Address,
    pub shipping: Address,
    pub is_paying_customer: bool,
    pub date_created: NaiveDateTime,
    pub date_modified: NaiveDateTime,
    pub meta_data: Vec<Meta>,
}

impl Customer {
    /// A customer with `email`, names and matching billing names.
    pub fn new(id: u64, email: &str, first: &str, last: &str, at: NaiveDateTime) -> Customer {
        let username = email.split('@').next().unwrap_or(email).to_string();
        Customer {
            id,
            email: email.to_string(),
            first_name: first.to_string(),
            last_name: last.to_string(),
            username,
            role: "customer".into(),
            billing: Address {
                first_name: first.to_string(),
                last_name: last.to_string(),
                email: email.to_string(),
                ..Address::default()
            },
            shipping: Address {
                first_name: first.to_string(),
                last_name: last.to_string(),
                ..Address::default()
            },
            is_paying_customer: false,
            date_created: at,
            date_modified: at,
            meta_data: Vec::new(),
        }
    }
}

/// The REST representation (`GET /customers/{id}`).
pub(crate) fn render(state: &State, api: &str, c: &Customer) -> Value {
    let (created, created_gmt) = state.dates(c.date_created);
    let (modified, modified_gmt) = state.dates(c.date_modified);
    json!({
        "id": c.id,
        "date_created": created,
        "date_created_gmt": created_gmt,
        "date_modified": modified,
        "date_modified_gmt": modified_gmt,
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "role": c.role,
        "username": c.username,
        "billing": c.billing.billing_json(),
        "shipping": c.shipping.shipping_json(),
        "is_paying_customer": c.is_paying_customer,
        "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g",
        "meta_data": c.meta_data,
        "_links": links(api, "customers", c.id),
    })
}

fn invalid_id(status: u16) -> WcError {
    WcError::new(
        status,
        "woocommerce_rest_invalid_id",
        "Invalid resource ID.",
    )
}

/// Applies writable fields of `patch` to `c`.
pub(crate) fn apply(state: &mut State, c: &mut Customer, patch: &Value) -> Result<(), WcError> {
    if let Some(email) = field_str(patch, "email")? {
        if !email.contains('@') {
            return Err(WcError::invalid_param("email", "Invalid email address."));
        }
        if state
            .customers
            .values()
            .any(|o| o.id != c.id && o.email.eq_ignore_ascii_case(&email))
        {
            return Err(WcError::new(
                400,
                "registration-error-email-exists",
                "An account is already registered with your email address.",
            ));
        }
        c.email = email;
    }
    if let Some(v) = field_str(patch, "first_name")? {
        c.first_name = v;
    }
    if let Some(v) = field_str(patch, "last_name")? {
        c.last_name = v;
    }
    if let Some(b) = patch.get("billing") {
        c.billing.apply(b, "billing")?;
    }
    if let Some(s) = patch.get("shipping") {
        c.shipping.apply(s, "shipping")?;
    }
    if let Some(meta) = patch.get("meta_data") {
        apply_meta(state, &mut c.meta_data, meta)?;
    }
    c.date_modified = now();
    Ok(())
}

/// Updates customer `id` from a REST body.
pub(crate) fn update(state: &mut State, id: u64, patch: &Value) -> Result<(), WcError> {
    let Some(mut c) = state.customers.get(&id).cloned() else {
        return Err(invalid_id(400));
    };
    apply(state, &mut c, patch)?;
    state.customers.insert(id, c);
    Ok(())
}

/// Creates a customer from a REST body (email mandatory); its id.
pub(crate) fn create(state: &mut State, patch: &Value) -> Result<u64, WcError> {
    let Some(email) = field_str(patch, "email")? else {
        return Err(WcError::new(
            400,
            "rest_missing_callback_param",
            "Missing parameter(s): email",
        ));
    };
    let id = state.customer_id();
    let mut c = Customer::new(id, "", "", "", now());
    c.username = field_str(patch, "username")?
        .unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
    apply(state, &mut c, patch)?;
    state.customers.insert(id, c);
    Ok(id)
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/customers", web::get().to(list))
        .route("/customers", web::post().to(create_one))
        .route("/customers/{id:\\d+}", web::get().to(get))
        .route("/customers/{id:\\d+}", web::put().to(update_one))
        .route("/customers/{id:\\d+}", web::post().to(update_one))
        .route("/customers/{id:\\d+}", web::patch().to(update_one));
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
    let email = params.get("email").map(str::to_lowercase);
    let role = params.get("role").unwrap_or("customer").to_string();
    let search = params.search.as_ref().map(|s| s.to_lowercase());
    let mut items: Vec<&Customer> = st
        .customers
        .values()
        .filter(|c| params.id_passes(c.id))
        .filter(|c| email.as_ref().is_none_or(|e| c.email.to_lowercase() == *e))
        .filter(|c| role == "all" || c.role == role)
        .filter(|c| {
            search.as_ref().is_none_or(|s| {
                c.email.to_lowercase().contains(s)
                    || c.first_name.to_lowercase().contains(s)
                    || c.last_name.to_lowercase().contains(s)
                    || c.username.to_lowercase().contains(s)
            })
        })
        .collect();
    match params.orderby.as_deref().unwrap_or("name") {
        "id" => items.sort_by_key(|c| c.id),
        // WP user query "name" = display name, here the username.
        "name" => items.sort_by(|a, b| a.username.cmp(&b.username).then(a.id.cmp(&b.id))),
        "registered_date" => items.sort_by_key(|c| (c.date_created, c.id)),
        "include" => items.sort_by_key(|c| {
            params
                .include
                .iter()
                .position(|i| *i == c.id)
                .unwrap_or(usize::MAX)
        }),
        _ => {
            return Err(WcError::invalid_param(
                "orderby",
                "orderby is not one of id, include, name, and registered_date.",
            ))
        }
    }
    // Customers default to ascending (facts §1.6).
    if params.orderby.as_deref() != Some("include") && !params.ascending.unwrap_or(true) {
        items.reverse();
    }
    let items: Vec<Value> = items.into_iter().map(|c| render(&st, &api, c)).collect();
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
    let c = st.customers.get(&id).ok_or_else(|| invalid_id(404))?;
    Ok(HttpResponse::Ok().json(render(&st, &api, c)))
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
    delivery::fire(&world, &mut st, "customer.created", id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("{api}/customers/{id}")))
        .json(render(&st, &api, &st.customers[&id])))
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
    delivery::fire(&world, &mut st, "customer.updated", id);
    Ok(HttpResponse::Ok().json(render(&st, &api, &st.customers[&id])))
}
