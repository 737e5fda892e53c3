//! The Web API routes: `{BASE_PATH}{company}/{module}/{resource}` with an
//! optional entity key (facts §1.1), the verbs each entity set allows (facts
//! §1.3), and the module `$metadata`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use super::ar::Customer;
use super::entity::{self, Entity};
use super::errors::SageError;
use super::filter;
use super::ic::{self, Item, ItemLocation, ItemPricing, Location};
use super::odata::{Context, Key, Query};
use super::oe::{self, CreditNote, Order};
use super::{auth, State};
use crate::World;

/// Decodes `%xx` in a path segment (a quote may come as `%27`).
fn decode_path(text: &str) -> String {
    super::odata::decode(&text.replace('+', "%2B"))
}

/// Every Web API request.
pub async fn handle(req: HttpRequest, body: web::Bytes, world: web::Data<World>) -> HttpResponse {
    let company = req
        .match_info()
        .get("company")
        .unwrap_or_default()
        .to_string();
    let module = req
        .match_info()
        .get("module")
        .unwrap_or_default()
        .to_string();
    let resource = decode_path(req.match_info().get("resource").unwrap_or_default());
    let method = req.method().as_str().to_string();
    let has_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
    let mut state = world.sage300();
    if let Err(e) = auth::check(&req, &state, &company, has_body) {
        return e.into_response();
    }
    let company = state.company.clone();
    match dispatch(
        &req, &mut state, &company, &module, &resource, &method, &body,
    ) {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// Anything else under the prefix.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    SageError::resource_not_found(req.path()).into_response()
}

/// A set's own POST (orders, credit notes).
type Create<T> = fn(&mut State, Map<String, Value>) -> Result<T, SageError>;

/// How a set is served.
struct Set<T: Entity> {
    rows: fn(&mut State) -> &mut Vec<T>,
    verbs: &'static [&'static str],
    prepare: fn(&mut T, &State) -> Result<(), SageError>,
    create: Option<Create<T>>,
}

fn no_prepare<T>(_: &mut T, _: &State) -> Result<(), SageError> {
    Ok(())
}

const ALL: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const GET_POST: &[&str] = &["GET", "POST"];
const GET: &[&str] = &["GET"];

fn dispatch(
    req: &HttpRequest,
    state: &mut State,
    company: &str,
    module: &str,
    resource: &str,
    method: &str,
    body: &[u8],
) -> Result<HttpResponse, SageError> {
    let (set, key) = match resource.find('(') {
        Some(open) if resource.ends_with(')') => (
            &resource[..open],
            Some(&resource[open + 1..resource.len() - 1]),
        ),
        Some(_) => {
            return Err(SageError::invalid_key(format!(
                "The entity key in '{resource}' is malformed."
            )))
        }
        None => (resource, None),
    };
    if set == "$metadata" && key.is_none() {
        return super::metadata::module(module)
            .ok_or_else(|| SageError::resource_not_found(module));
    }
    let call = Call {
        req,
        company,
        module,
        method,
        body,
        key,
    };
    match set {
        "ARCustomers" => call.serve(
            state,
            Set::<Customer> {
                rows: |s| &mut s.customers,
                verbs: ALL,
                prepare: |c, _| c.validate(),
                create: None,
            },
        ),
        "ICItems" => call.serve(
            state,
            Set::<Item> {
                rows: |s| &mut s.items,
                verbs: ALL,
                prepare: |i, _| i.validate(),
                create: None,
            },
        ),
        "ICItemPricing" => call.serve(
            state,
            Set::<ItemPricing> {
                rows: |s| &mut s.pricing,
                verbs: ALL,
                prepare: prepare_pricing,
                create: None,
            },
        ),
        "ICLocations" => call.serve(
            state,
            Set::<Location> {
                rows: |s| &mut s.locations,
                verbs: GET,
                prepare: no_prepare,
                create: None,
            },
        ),
        "ICItemLocations" if state.variants.item_locations => call.serve(
            state,
            Set::<ItemLocation> {
                rows: |s| &mut s.item_locations,
                verbs: GET,
                prepare: no_prepare,
                create: None,
            },
        ),
        "OEOrders" => call.serve(
            state,
            Set::<Order> {
                rows: |s| &mut s.orders,
                verbs: GET_POST,
                prepare: no_prepare,
                create: Some(oe::create_order),
            },
        ),
        "OECreditDebitNotes" => call.serve(
            state,
            Set::<CreditNote> {
                rows: |s| &mut s.credit_notes,
                verbs: GET_POST,
                prepare: no_prepare,
                create: Some(oe::create_credit_note),
            },
        ),
        _ => Err(SageError::resource_not_found(&format!("{module}/{set}"))),
    }
}

fn prepare_pricing(pricing: &mut ItemPricing, state: &State) -> Result<(), SageError> {
    if pricing.unformatted_item_number.is_empty() {
        pricing.unformatted_item_number = ic::unformat(&pricing.item_number);
    }
    let item = state
        .items
        .iter()
        .find(|i| i.unformatted_item_number == pricing.unformatted_item_number)
        .ok_or_else(|| {
            SageError::field_invalid(format!(
                "Item number {} does not exist.",
                pricing.unformatted_item_number
            ))
        })?;
    pricing.item_number = item.item_number.clone();
    if pricing.description.is_empty() {
        pricing.description = item.description.clone();
    }
    for detail in &mut pricing.item_pricing_details {
        detail.update_operation = None;
    }
    Ok(())
}

struct Call<'a> {
    req: &'a HttpRequest,
    company: &'a str,
    module: &'a str,
    method: &'a str,
    body: &'a [u8],
    key: Option<&'a str>,
}

impl Call<'_> {
    fn serve<T: Entity>(&self, state: &mut State, set: Set<T>) -> Result<HttpResponse, SageError> {
        if self.module != T::MODULE {
            return Err(SageError::resource_not_found(&format!(
                "{}/{}",
                self.module,
                T::SET
            )));
        }
        if !set.verbs.contains(&self.method) {
            return Err(SageError::method_not_allowed(self.method, T::SET));
        }
        let variants = state.variants.clone();
        let cx = Context {
            req: self.req,
            company: self.company,
            module: self.module,
            set: T::SET,
            variants: &variants,
        };
        let key = self.key.map(Key::parse).transpose()?;
        let today = state.today_text();
        match self.method {
            "GET" => match key {
                Some(key) => {
                    let rows = (set.rows)(state);
                    let i = entity::find(rows, &key)?.ok_or_else(SageError::record_not_found)?;
                    Ok(cx.entity(StatusCode::OK, rows[i].row()))
                }
                None => {
                    let query = Query::parse(self.req.query_string(), &T::fields(), &variants)?;
                    let required = query
                        .filter
                        .as_ref()
                        .map(filter::required_equalities)
                        .unwrap_or_default();
                    // Only rows that can pass become JSON (the filter still decides).
                    let rows = (set.rows)(state)
                        .iter()
                        .filter(|row| {
                            required
                                .iter()
                                .all(|(p, v)| row.indexed(p).is_none_or(|text| text == *v))
                        })
                        .map(Entity::row)
                        .collect();
                    cx.feed(rows, &query)
                }
            },
            "POST" => {
                if key.is_some() {
                    // Facts §1.1: a POST with an entity key other than
                    // $process/$template is InvalidAction.
                    return Err(SageError::new(
                        StatusCode::BAD_REQUEST,
                        "InvalidAction",
                        format!(
                            "The action '{}' is not valid for {}.",
                            self.key.unwrap_or_default(),
                            T::SET
                        ),
                    ));
                }
                let payload = entity::parse_body(self.body)?;
                let created = match set.create {
                    Some(create) => create(state, payload)?,
                    None => {
                        let mut new: T = entity::from_payload(payload)?;
                        (set.prepare)(&mut new, state)?;
                        new.touch(&today);
                        let new_row = new.row();
                        let same_key = |row: &Map<String, Value>| {
                            T::KEYS.iter().all(|k| row.get(*k) == new_row.get(*k))
                        };
                        if (set.rows)(state).iter().any(|r| same_key(&r.row())) {
                            return Err(SageError::duplicate("The record already exists."));
                        }
                        (set.rows)(state).push(new.clone());
                        new
                    }
                };
                let status =
                    StatusCode::from_u16(variants.post_status).unwrap_or(StatusCode::CREATED);
                Ok(cx.entity(status, created.row()))
            }
            "PATCH" | "PUT" | "DELETE" => {
                let key = key.ok_or_else(|| {
                    SageError::invalid_key(format!("{} needs an entity key.", self.method))
                })?;
                let i = entity::find((set.rows)(state), &key)?
                    .ok_or_else(SageError::record_not_found)?;
                if self.method == "DELETE" {
                    (set.rows)(state).remove(i);
                    return Ok(HttpResponse::NoContent().finish());
                }
                let existing = (set.rows)(state)[i].clone();
                let mut payload = entity::parse_body(self.body)?;
                let mut updated: T = if self.method == "PATCH" {
                    entity::merge(&existing, payload)?
                } else {
                    // PUT replaces the record: details not in the payload
                    // are purged (facts §1.4).
                    let row = existing.row();
                    for k in T::KEYS {
                        match payload.get(*k) {
                            Some(v) if Some(v) != row.get(*k) => {
                                return Err(SageError::invalid_payload(format!(
                                    "The key property {k} cannot be changed."
                                )))
                            }
                            Some(_) => {}
                            None => {
                                payload.insert(
                                    (*k).to_string(),
                                    row.get(*k).cloned().unwrap_or(Value::Null),
                                );
                            }
                        }
                    }
                    entity::from_payload(payload)?
                };
                (set.prepare)(&mut updated, state)?;
                updated.touch(&today);
                (set.rows)(state)[i] = updated;
                // PUT and PATCH answer without a body (facts §1.4 for PUT).
                Ok(HttpResponse::NoContent().finish())
            }
            other => Err(SageError::method_not_allowed(other, T::SET)),
        }
    }
}
