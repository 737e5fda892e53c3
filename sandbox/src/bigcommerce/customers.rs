//! Customers v3 (§2.5): list with `id:in`, `email:in`, `company:in`,
//! `customer_group_id:in`, `date_created`/`date_modified` (`:min`, `:max`);
//! `POST`, `PUT` and `DELETE` are batch (arrays; delete by `id:in`). Fire
//! `store/customer/{created,updated,deleted}`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::paging::{v3_list, Page};
use super::{
    delivery, id_list, iso, json_body, now, param, parse_date, query_pairs, Api, BcError, State,
};
use crate::World;

const V3: Api = Api::V3;

/// A customer.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Id.
    pub id: u64,
    /// E-mail (unique).
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Company.
    pub company: String,
    /// Phone.
    pub phone: String,
    /// Notes.
    pub notes: String,
    /// Customer group (0 = none).
    pub customer_group_id: u64,
    /// Created.
    pub date_created: DateTime<Utc>,
    /// Modified.
    pub date_modified: DateTime<Utc>,
}

/// A customer as v3 answers it.
pub(crate) fn render(c: &Customer) -> Value {
    json!({
        "id": c.id,
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "company": c.company,
        "phone": c.phone,
        "notes": c.notes,
        "tax_exempt_category": "",
        "customer_group_id": c.customer_group_id,
        "registration_ip_address": "",
        "address_count": 0,
        "attribute_count": 0,
        "authentication": { "force_password_reset": false },
        "accepts_product_review_abandoned_cart_emails": false,
        "channel_ids": [1],
        "origin_channel_id": 1,
        "date_created": iso(c.date_created),
        "date_modified": iso(c.date_modified),
    })
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/customers", web::get().to(list))
        .route("/customers", web::post().to(create))
        .route("/customers", web::put().to(update))
        .route("/customers", web::delete().to(delete));
}

fn list_of<'a>(q: &'a [(String, String)], name: &str) -> Option<Vec<&'a str>> {
    param(q, name).map(|s| s.split(',').map(str::trim).collect())
}

async fn list(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, BcError> {
    let q = query_pairs(&req);
    let st = world.bigcommerce();
    let page = Page::of(&q, &st.settings, V3)?;
    let ids = param(&q, "id:in").map(id_list);
    let emails =
        list_of(&q, "email:in").map(|v| v.iter().map(|e| e.to_lowercase()).collect::<Vec<_>>());
    let companies = list_of(&q, "company:in");
    let groups = param(&q, "customer_group_id:in").map(id_list);
    let mut dates = Vec::new();
    for (name, created, min) in [
        ("date_created:min", true, Some(true)),
        ("date_created:max", true, Some(false)),
        ("date_created", true, None),
        ("date_modified:min", false, Some(true)),
        ("date_modified:max", false, Some(false)),
        ("date_modified", false, None),
    ] {
        if let Some(s) = param(&q, name) {
            let d = parse_date(s).ok_or_else(|| {
                BcError::invalid(V3, name, format!("'{name}' is not a valid date."))
            })?;
            dates.push((created, min, d));
        }
    }
    let all: Vec<Value> = st
        .customers
        .values()
        .filter(|c| ids.as_ref().is_none_or(|i| i.contains(&c.id)))
        .filter(|c| {
            emails
                .as_ref()
                .is_none_or(|e| e.contains(&c.email.to_lowercase()))
        })
        .filter(|c| {
            companies
                .as_ref()
                .is_none_or(|co| co.contains(&c.company.as_str()))
        })
        .filter(|c| {
            groups
                .as_ref()
                .is_none_or(|g| g.contains(&c.customer_group_id))
        })
        .filter(|c| {
            dates.iter().all(|(created, min, d)| {
                let v = if *created {
                    c.date_created
                } else {
                    c.date_modified
                };
                match min {
                    Some(true) => v >= *d,
                    Some(false) => v <= *d,
                    None => v == *d,
                }
            })
        })
        .map(render)
        .collect();
    Ok(v3_list(&all, page, json!({})))
}

fn apply(c: &mut Customer, v: &Value) {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(x) = s("email") {
        c.email = x;
    }
    if let Some(x) = s("first_name") {
        c.first_name = x;
    }
    if let Some(x) = s("last_name") {
        c.last_name = x;
    }
    if let Some(x) = s("company") {
        c.company = x;
    }
    if let Some(x) = s("phone") {
        c.phone = x;
    }
    if let Some(x) = s("notes") {
        c.notes = x;
    }
    if let Some(g) = v.get("customer_group_id").and_then(Value::as_u64) {
        c.customer_group_id = g;
    }
}

/// Creates a customer; 422 when the e-mail is taken or a name is missing.
pub(crate) fn insert(st: &mut State, v: &Value, at: DateTime<Utc>) -> Result<u64, BcError> {
    let email = v.get("email").and_then(Value::as_str).unwrap_or("").trim();
    let first = v.get("first_name").and_then(Value::as_str).unwrap_or("");
    let last = v.get("last_name").and_then(Value::as_str).unwrap_or("");
    let mut e = BcError::new(V3, 422, "Unprocessable Entity");
    if !email.contains('@') {
        e = e.with("email", "email is required and must be a valid address");
    }
    if first.is_empty() {
        e = e.with("first_name", "first_name is required");
    }
    if last.is_empty() {
        e = e.with("last_name", "last_name is required");
    }
    if !e.errors.is_empty() {
        return Err(e);
    }
    if st
        .customers
        .values()
        .any(|c| c.email.eq_ignore_ascii_case(email))
    {
        return Err(
            BcError::new(V3, 422, format!("The email {email} is already in use."))
                .with("email", "duplicate"),
        );
    }
    let id = st.id("customer");
    let mut c = Customer {
        id,
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        company: String::new(),
        phone: String::new(),
        notes: String::new(),
        customer_group_id: 0,
        date_created: at,
        date_modified: at,
    };
    apply(&mut c, v);
    st.customers.insert(id, c);
    Ok(id)
}

fn batch(body: &[u8]) -> Result<Vec<Value>, BcError> {
    let v = json_body(body, V3)?;
    let items = v
        .as_array()
        .cloned()
        .ok_or_else(|| BcError::new(V3, 422, "The request body must be an array of customers."))?;
    if items.is_empty() {
        return Err(BcError::new(V3, 422, "The request body must not be empty."));
    }
    Ok(items)
}

async fn create(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, BcError> {
    let items = batch(&body)?;
    let mut st = world.bigcommerce();
    let mut ids = Vec::new();
    for item in &items {
        ids.push(insert(&mut st, item, now())?);
    }
    let mut out = Vec::new();
    for id in ids {
        delivery::fire(
            &world,
            &mut st,
            "store/customer/created",
            json!({ "type": "customer", "id": id }),
        );
        out.push(render(&st.customers[&id]));
    }
    Ok(HttpResponse::Ok().json(json!({ "data": out, "meta": {} })))
}

async fn update(world: web::Data<World>, body: web::Bytes) -> Result<HttpResponse, BcError> {
    let items = batch(&body)?;
    let mut st = world.bigcommerce();
    for (i, item) in items.iter().enumerate() {
        let id = item.get("id").and_then(Value::as_u64).unwrap_or(0);
        if !st.customers.contains_key(&id) {
            return Err(BcError::invalid(
                V3,
                &format!("[{i}].id"),
                format!("Customer {id} does not exist."),
            ));
        }
        if let Some(email) = item.get("email").and_then(Value::as_str) {
            if st
                .customers
                .values()
                .any(|c| c.id != id && c.email.eq_ignore_ascii_case(email))
            {
                return Err(
                    BcError::new(V3, 422, format!("The email {email} is already in use."))
                        .with("email", "duplicate"),
                );
            }
        }
    }
    let mut out = Vec::new();
    for item in &items {
        let id = item.get("id").and_then(Value::as_u64).unwrap_or(0);
        if let Some(c) = st.customers.get_mut(&id) {
            apply(c, item);
            c.date_modified = now();
        }
        delivery::fire(
            &world,
            &mut st,
            "store/customer/updated",
            json!({ "type": "customer", "id": id }),
        );
        out.push(render(&st.customers[&id]));
    }
    Ok(HttpResponse::Ok().json(json!({ "data": out, "meta": {} })))
}

/// Updates one customer (control route); fires `store/customer/updated`.
pub(crate) fn update_one(
    world: &web::Data<World>,
    st: &mut State,
    id: u64,
    v: &Value,
) -> Result<(), BcError> {
    if let Some(email) = v.get("email").and_then(Value::as_str) {
        if st
            .customers
            .values()
            .any(|c| c.id != id && c.email.eq_ignore_ascii_case(email))
        {
            return Err(BcError::new(
                V3,
                422,
                format!("The email {email} is already in use."),
            ));
        }
    }
    let c = st
        .customers
        .get_mut(&id)
        .ok_or_else(|| BcError::not_found(V3))?;
    apply(c, v);
    c.date_modified = now();
    delivery::fire(
        world,
        st,
        "store/customer/updated",
        json!({ "type": "customer", "id": id }),
    );
    Ok(())
}

/// `DELETE /customers?id:in=...` (required); 204.
async fn delete(world: web::Data<World>, req: HttpRequest) -> Result<HttpResponse, BcError> {
    let q = query_pairs(&req);
    let ids = param(&q, "id:in")
        .map(id_list)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| BcError::invalid(V3, "id:in", "id:in is required"))?;
    let mut st = world.bigcommerce();
    for id in ids {
        if st.customers.remove(&id).is_some() {
            delivery::fire(
                &world,
                &mut st,
                "store/customer/deleted",
                json!({ "type": "customer", "id": id }),
            );
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
