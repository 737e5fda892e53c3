//! The GraphQL API (facts §2.2): `POST {base}/xtrem/api` with
//! `{"query", "variables", "operationName"}` (GET with the same query
//! parameters works for queries), `Authorization: Bearer <jwt>` and
//! `x-xtrem-endpoint: SEED`; or `POST {base}/v1/service/SEED/api` with a
//! client-credentials token (option).
//!
//! Two schema generations ([`super::variants::Schema`]):
//!
//! - current: `{ xtremX3MasterData { customer { query(filter: "{code: 'US001'}", orderBy: "{code: -1}", first: 5, after: "...") { edges { node { code } cursor } pageInfo { endCursor hasNextPage startCursor hasPreviousPage } totalCount } read(_id: "US001") { code } } } }`,
//!   packages `xtremX3MasterData` (alias `x3MasterData`: `businessPartner`,
//!   `customer`, `product`), `xtremX3Sales` (`salesOrder`, `salesInvoice`),
//!   `xtremX3Stock` (`stock`), `xtremX3Structure` (`country`, `site`);
//!   mutations `mutation { xtremX3Sales { salesOrder { create(data: {...}) { id } } } }`
//!   (also `salesInvoice`, and `xtremX3MasterData { customer { create } }`,
//!   `customer { update(_id: "US001", data: {...}) }`).
//! - legacy: `{ sage { x3Sales { salesOrder(filter: ..., orderBy: ..., first: ...) { edges { node { id } } } } } }`,
//!   packages `x3BusinessPartners` (`customer`, `businessPartner`), `x3Sales`,
//!   `x3Products` (`product`), `x3Stock` (`stock`), `x3System` (`site`),
//!   `x3Structure` (`country`); mutations `mutation { sage { x3Sales { salesOrder { create(data: ...) { id } } } } }`.
//!
//! Only `salesOrder`, `customer`, `businessPartner`, `country` and `site`
//! are verified node names; `product`, `stock`, `salesInvoice` and the
//! `xtremX3Sales`/`xtremX3Stock` packages are decisions (UNVERIFIED).
//! Arguments on nested fields are ignored; nested `lines` come whole.
//!
//! Errors: a syntax error or an unknown field is 400
//! `{"errors":[{"message":"Cannot query field \"x\" on type \"T\". Did you mean \"y\"?"}],"extensions":{}}`
//! (facts §2.2 [X3-ERR]); a refused mutation (unknown customer, duplicate
//! id, ...) is `{"data":{...null},"errors":[{"message","path"}]}` with the
//! status of [`super::variants::Variants::business_error_status`].

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::model::{Customer, Draft};
use super::paging::{cmp_tuple, Dir};
use super::variants::Schema;
use super::{auth, errors, State, CURRENCY};
use crate::World;

pub mod filter;
pub mod parse;

use parse::{Field, Operation};

/// A failed request (400) or a business error (see the module doc).
enum Fail {
    Request(String),
    Business(String),
}

type R<T> = Result<T, Fail>;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    query: Option<String>,
    variables: Option<Value>,
    operation_name: Option<String>,
}

fn request_body(req: &HttpRequest, bytes: &[u8]) -> Result<Body, String> {
    if req.method() == actix_web::http::Method::GET {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map_err(|e| e.to_string())?
            .into_inner();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        return Ok(Body {
            query: get("query"),
            variables: get("variables").and_then(|v| serde_json::from_str(&v).ok()),
            operation_name: get("operationName"),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| format!("Invalid JSON body: {e}"))
}

/// `/xtrem/api` (connected app).
pub async fn handle(world: web::Data<World>, req: HttpRequest, bytes: web::Bytes) -> HttpResponse {
    let endpoint = req
        .headers()
        .get("x-xtrem-endpoint")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    serve(&world, &req, &bytes, endpoint)
}

/// `/v1/service/{endpoint}/api` (gateway form).
pub async fn handle_gateway(
    world: web::Data<World>,
    req: HttpRequest,
    bytes: web::Bytes,
) -> HttpResponse {
    let endpoint = req.match_info().get("endpoint").map(str::to_string);
    serve(&world, &req, &bytes, endpoint)
}

fn serve(world: &World, req: &HttpRequest, bytes: &[u8], endpoint: Option<String>) -> HttpResponse {
    let mut state = world.sagex3();
    if let Err(refused) = auth::check_bearer(req, &mut state) {
        return *refused;
    }
    match endpoint {
        Some(e) if e.eq_ignore_ascii_case(&state.endpoint) => {}
        Some(e) => {
            return errors::graphql(
                StatusCode::BAD_REQUEST,
                &[format!("Unknown endpoint \"{e}\"")],
            )
        }
        None => {
            return errors::graphql(
                StatusCode::BAD_REQUEST,
                &["Missing x-xtrem-endpoint header".to_string()],
            )
        }
    }
    let body = match request_body(req, bytes) {
        Ok(b) => b,
        Err(m) => return errors::graphql(StatusCode::BAD_REQUEST, &[m]),
    };
    let Some(query) = body.query else {
        return errors::graphql(
            StatusCode::BAD_REQUEST,
            &["Must provide query string.".to_string()],
        );
    };
    let op = match parse::parse(&query, body.operation_name.as_deref()) {
        Ok(op) => op,
        Err(m) => return errors::graphql(StatusCode::BAD_REQUEST, &[m]),
    };
    if req.method() == actix_web::http::Method::GET && op.kind == "mutation" {
        return errors::graphql(
            StatusCode::METHOD_NOT_ALLOWED,
            &["Can only perform a mutation operation from a POST request.".to_string()],
        );
    }
    let mut vars = match body.variables {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in &op.defaults {
        vars.entry(k.clone()).or_insert_with(|| v.clone());
    }
    execute(&mut state, &op, &vars)
}

fn execute(state: &mut State, op: &Operation, vars: &Map<String, Value>) -> HttpResponse {
    let mutation = op.kind == "mutation";
    if mutation && !state.variants.mutations {
        return errors::graphql(
            StatusCode::BAD_REQUEST,
            &["Mutations are not allowed on this endpoint (read-only).".to_string()],
        );
    }
    let mut ctx = Ctx {
        state,
        vars,
        mutation,
        errors: Vec::new(),
    };
    let root = if mutation { "Mutation" } else { "Query" };
    let mut data = Map::new();
    for field in &op.selections {
        match ctx.root(field, root) {
            Ok(v) => {
                data.insert(field.key.clone(), v);
            }
            Err(Fail::Request(m)) => return errors::graphql(StatusCode::BAD_REQUEST, &[m]),
            Err(Fail::Business(m)) => {
                ctx.errors
                    .push(json!({ "message": m, "path": [field.key] }));
                data.insert(field.key.clone(), Value::Null);
            }
        }
    }
    if ctx.errors.is_empty() {
        return HttpResponse::Ok().json(json!({ "data": data }));
    }
    let status =
        StatusCode::from_u16(ctx.state.variants.business_error_status).unwrap_or(StatusCode::OK);
    HttpResponse::build(status).json(json!({ "data": data, "errors": ctx.errors }))
}

struct Ctx<'a> {
    state: &'a mut State,
    vars: &'a Map<String, Value>,
    mutation: bool,
    errors: Vec<Value>,
}

fn cannot_query(field: &str, on: &str, known: &[&str]) -> Fail {
    let best = known
        .iter()
        .map(|k| {
            (
                k.chars()
                    .zip(field.chars())
                    .take_while(|(a, b)| a == b)
                    .count(),
                *k,
            )
        })
        .filter(|(n, _)| *n >= 2)
        .max_by_key(|(n, _)| *n);
    let hint = best
        .map(|(_, k)| format!(" Did you mean \"{k}\"?"))
        .unwrap_or_default();
    Fail::Request(format!(
        "Cannot query field \"{field}\" on type \"{on}\".{hint}"
    ))
}

/// The packages of a schema and the nodes of each.
fn packages(schema: Schema) -> &'static [(&'static str, &'static [&'static str])] {
    match schema {
        Schema::Current => &[
            (
                "xtremX3MasterData",
                &["businessPartner", "customer", "product"],
            ),
            ("x3MasterData", &["businessPartner", "customer", "product"]),
            ("xtremX3Sales", &["salesOrder", "salesInvoice"]),
            ("xtremX3Stock", &["stock"]),
            ("xtremX3Structure", &["country", "site"]),
        ],
        Schema::Legacy => &[
            ("x3BusinessPartners", &["customer", "businessPartner"]),
            ("x3Sales", &["salesOrder", "salesInvoice"]),
            ("x3Products", &["product"]),
            ("x3Stock", &["stock"]),
            ("x3System", &["site"]),
            ("x3Structure", &["country"]),
        ],
    }
}

impl Ctx<'_> {
    fn root(&mut self, field: &Field, on: &str) -> R<Value> {
        if field.name == "__typename" {
            return Ok(on.into());
        }
        let schema = self.state.variants.schema;
        let pkgs = packages(schema);
        if schema == Schema::Legacy {
            if field.name != "sage" {
                return Err(cannot_query(&field.name, on, &["sage"]));
            }
            let mut out = Map::new();
            for pkg in &field.selections {
                let value = self.package(pkg, pkgs, "sageQuery")?;
                out.insert(pkg.key.clone(), value);
            }
            return Ok(Value::Object(out));
        }
        self.package(field, pkgs, on)
    }

    fn package(&mut self, field: &Field, pkgs: &[(&str, &[&str])], on: &str) -> R<Value> {
        if field.name == "__typename" {
            return Ok(on.into());
        }
        let Some((name, nodes)) = pkgs.iter().find(|(p, _)| *p == field.name) else {
            let known: Vec<&str> = pkgs.iter().map(|(p, _)| *p).collect();
            return Err(cannot_query(&field.name, on, &known));
        };
        let mut out = Map::new();
        for node in &field.selections {
            if node.name == "__typename" {
                out.insert(
                    node.key.clone(),
                    format!("{name}{}", if self.mutation { "Mutation" } else { "Query" }).into(),
                );
                continue;
            }
            if !nodes.contains(&node.name.as_str()) {
                return Err(cannot_query(&node.name, name, nodes));
            }
            let value = self.node(node)?;
            out.insert(node.key.clone(), value);
        }
        Ok(Value::Object(out))
    }

    fn node(&mut self, field: &Field) -> R<Value> {
        let type_name = type_of(&field.name);
        let legacy = self.state.variants.schema == Schema::Legacy;
        if legacy && !self.mutation {
            // Old schema: the node field takes the query arguments itself.
            return self.query(&field.name, field);
        }
        let mut out = Map::new();
        for op in &field.selections {
            let value = match (op.name.as_str(), self.mutation) {
                ("__typename", _) => Value::String(format!("{type_name}_Operations")),
                ("query", false) => self.query(&field.name, op)?,
                ("read", false) => self.read(&field.name, op)?,
                ("create", true) => self.create(&field.name, op)?,
                ("update", true)
                    if matches!(field.name.as_str(), "customer" | "businessPartner") =>
                {
                    self.update(&field.name, op)?
                }
                (other, false) => {
                    return Err(cannot_query(
                        other,
                        &format!("{type_name}_Query"),
                        &["query", "read"],
                    ))
                }
                (other, true) => {
                    return Err(cannot_query(
                        other,
                        &format!("{type_name}_Mutation"),
                        &["create", "update"],
                    ))
                }
            };
            out.insert(op.key.clone(), value);
        }
        Ok(Value::Object(out))
    }

    fn arg(&self, field: &Field, name: &str) -> Option<Value> {
        field
            .arg(name)
            .map(|v| v.resolve(self.vars))
            .filter(|v| !v.is_null())
    }

    fn records(&self, node: &str) -> Vec<Value> {
        let s = &*self.state;
        let delta = s.variants.delta_field.name();
        match node {
            "customer" => s.customers.iter().map(|c| c.node(delta)).collect(),
            "businessPartner" => s
                .customers
                .iter()
                .map(|c| {
                    let mut v = c.node(delta);
                    v["__typename"] = "BusinessPartner".into();
                    v["isCustomer"] = true.into();
                    v["isSupplier"] = false.into();
                    v
                })
                .collect(),
            "product" => s.items.iter().map(|i| i.node(delta, CURRENCY)).collect(),
            "stock" => s.stock.iter().map(|x| x.node(delta)).collect(),
            "salesOrder" => s.orders.iter().map(|o| o.node(delta, s.customer(&o.customer))).collect(),
            "salesInvoice" => s.invoices.iter().map(|i| i.node(delta, s.customer(&i.customer))).collect(),
            "country" => ["US", "CA", "FR", "DE", "GB"]
                .iter()
                .map(|c| json!({ "__typename": "Country", "_id": c, "code": c, "name": super::model::country_name(c) }))
                .collect(),
            _ => super::SITES
                .iter()
                .map(|c| json!({ "__typename": "Site", "_id": c, "code": c, "name": format!("Site {c}"), "isSalesSite": *c == super::SITE, "isStockSite": true }))
                .collect(),
        }
    }

    fn query(&self, node: &str, field: &Field) -> R<Value> {
        let mut rows = self.records(node);
        if let Some(f) = self.arg(field, "filter") {
            let f = match f {
                Value::String(s) => filter::parse_loose(&s)
                    .map_err(|e| Fail::Request(format!("Invalid filter: {e}")))?,
                other => other,
            };
            let mut kept = Vec::new();
            for r in rows {
                if filter::matches(&r, &f).map_err(Fail::Request)? {
                    kept.push(r);
                }
            }
            rows = kept;
        }
        let mut order = match self.arg(field, "orderBy") {
            Some(Value::String(s)) => filter::order_paths(&s).map_err(Fail::Request)?,
            Some(other) => filter::order_paths(&other.to_string()).map_err(Fail::Request)?,
            None => Vec::new(),
        };
        order.push((vec!["_id".to_string()], Dir::Asc));
        let dirs: Vec<Dir> = order.iter().map(|(_, d)| *d).collect();
        let tuple = |r: &Value| -> Vec<Value> {
            order
                .iter()
                .map(|(path, _)| {
                    let mut v = r;
                    for p in path {
                        v = v.get(p).unwrap_or(&Value::Null);
                    }
                    if v.is_object() {
                        v.get("code").cloned().unwrap_or(Value::Null)
                    } else {
                        v.clone()
                    }
                })
                .collect()
        };
        rows.sort_by(|a, b| cmp_tuple(&tuple(a), &tuple(b), &dirs));
        let total = rows.len();
        let mut start = 0;
        if let Some(after) = self.arg(field, "after") {
            let at = decode_cursor(&after)
                .ok_or_else(|| Fail::Request(format!("Invalid cursor {after}")))?;
            start = rows
                .iter()
                .position(|r| cmp_tuple(&tuple(r), &at, &dirs).is_gt())
                .unwrap_or(total);
        }
        let mut end = total;
        if let Some(before) = self.arg(field, "before") {
            let at = decode_cursor(&before)
                .ok_or_else(|| Fail::Request(format!("Invalid cursor {before}")))?;
            end = rows
                .iter()
                .position(|r| !cmp_tuple(&tuple(r), &at, &dirs).is_lt())
                .unwrap_or(total)
                .max(start);
        }
        let first = self
            .arg(field, "first")
            .and_then(|v| v.as_u64())
            .map(|n| n as usize);
        let last = self
            .arg(field, "last")
            .and_then(|v| v.as_u64())
            .map(|n| n as usize);
        match (first, last) {
            (Some(n), _) => end = end.min(start + n),
            (None, Some(n)) => start = end.saturating_sub(n).max(start),
            (None, None) => end = end.min(start + self.state.variants.graphql_default_first),
        }
        let edges: Vec<Value> = rows[start..end]
            .iter()
            .map(|r| json!({ "__typename": format!("{}Edge", type_of(node)), "cursor": encode_cursor(&tuple(r)), "node": r }))
            .collect();
        let connection = json!({
            "__typename": format!("{}Connection", type_of(node)),
            "totalCount": total,
            "pageInfo": {
                "__typename": "PageInfo",
                "startCursor": edges.first().map(|e| e["cursor"].clone()),
                "endCursor": edges.last().map(|e| e["cursor"].clone()),
                "hasNextPage": end < total,
                "hasPreviousPage": start > 0,
            },
            "edges": edges,
        });
        project(&connection, &field.selections, &field.name)
    }

    fn read(&self, node: &str, field: &Field) -> R<Value> {
        let Some(id) = self.arg(field, "_id") else {
            return Err(Fail::Request(format!("Field \"read\" argument \"_id\" of type \"Id!\" is required, but it was not provided. ({node})")));
        };
        let id = super::paging::text(&id);
        match self
            .records(node)
            .into_iter()
            .find(|r| r["_id"] == Value::String(id.clone()))
        {
            Some(r) => project(&r, &field.selections, "read"),
            None => Ok(Value::Null),
        }
    }

    fn create(&mut self, node: &str, field: &Field) -> R<Value> {
        let Some(Value::Object(data)) = self.arg(field, "data") else {
            return Err(Fail::Request(
                "Field \"create\" argument \"data\" is required.".into(),
            ));
        };
        let input = format!("{}_Input", type_of(node));
        let now = self.state.now();
        let id = match node {
            "customer" | "businessPartner" => {
                let c = customer_input(&data, &input, now)?;
                let code = c.code.clone();
                self.state.create_customer(c).map_err(Fail::Business)?;
                code
            }
            "salesOrder" | "salesInvoice" => {
                let d = draft_input(&data, &input, node == "salesOrder")?;
                if node == "salesOrder" {
                    self.state.create_order(d)
                } else {
                    self.state.create_invoice(d)
                }
                .map_err(Fail::Business)?
            }
            other => {
                return Err(Fail::Request(format!(
                    "Cannot query field \"create\" on type \"{}_Mutation\".",
                    type_of(other)
                )))
            }
        };
        let record = self
            .records(node)
            .into_iter()
            .find(|r| r["_id"] == Value::String(id.clone()))
            .unwrap_or(Value::Null);
        project(&record, &field.selections, "create")
    }
}

impl Ctx<'_> {
    /// `update(_id: "US001", data: {...})` or `update(data: {_id: "US001", ...})`
    /// on customers (shape a decision: the facts name update operations only).
    fn update(&mut self, node: &str, field: &Field) -> R<Value> {
        let Some(Value::Object(mut data)) = self.arg(field, "data") else {
            return Err(Fail::Request(
                "Field \"update\" argument \"data\" is required.".into(),
            ));
        };
        let id = self
            .arg(field, "_id")
            .or_else(|| data.remove("_id"))
            .map(|v| super::paging::text(&v))
            .ok_or_else(|| Fail::Request("Field \"update\" needs an \"_id\".".into()))?;
        check_input(
            &data,
            &[
                "companyName",
                "shortCompanyName",
                "category",
                "currency",
                "country",
                "isActive",
                "defaultAddress",
            ],
            &format!("{}_UpdateInput", type_of(node)),
        )?;
        let now = self.state.now();
        let Some(c) = self.state.customers.iter_mut().find(|c| c.code == id) else {
            return Err(Fail::Business(format!("{id}: record does not exist")));
        };
        let mut patch = serde_json::Map::new();
        let mut put = |k: &str, v: &Value| {
            patch.insert(k.to_string(), v.clone());
        };
        for (gql, x3) in [
            ("companyName", "BPCNAM"),
            ("shortCompanyName", "BPCSHO"),
            ("category", "BCGCOD"),
            ("currency", "CUR"),
            ("country", "CRY"),
        ] {
            if let Some(v) = data.get(gql) {
                put(x3, v);
            }
        }
        if let Some(active) = data.get("isActive").and_then(Value::as_bool) {
            put("BPCSTA", &json!(if active { 2 } else { 1 }));
        }
        if let Some(Value::Object(addr)) = data.get("defaultAddress") {
            check_input(
                addr,
                &[
                    "code",
                    "addressLine1",
                    "addressLine2",
                    "addressLine3",
                    "city",
                    "zip",
                    "region",
                    "country",
                    "email",
                    "phoneNumber",
                ],
                "Address_Input",
            )?;
            for (gql, x3) in [
                ("code", "BPAADD"),
                ("city", "CTY"),
                ("zip", "POSCOD"),
                ("region", "SAT"),
                ("country", "CRY"),
                ("email", "WEB"),
                ("phoneNumber", "TEL"),
            ] {
                if let Some(v) = addr.get(gql) {
                    put(x3, v);
                }
            }
            if ["addressLine1", "addressLine2", "addressLine3"]
                .iter()
                .any(|k| addr.contains_key(*k))
            {
                let lines: Vec<Value> = ["addressLine1", "addressLine2", "addressLine3"]
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        addr.get(*k)
                            .cloned()
                            .unwrap_or_else(|| c.address_lines[i].clone().into())
                    })
                    .collect();
                put("BPAADDLIG", &Value::Array(lines));
            }
        }
        let mut changed = c.clone();
        super::api1::patch_customer(&mut changed, &Value::Object(patch)).map_err(Fail::Business)?;
        changed.updated = now;
        *c = changed;
        let record = self
            .records(node)
            .into_iter()
            .find(|r| r["_id"] == Value::String(id.clone()))
            .unwrap_or(Value::Null);
        project(&record, &field.selections, "update")
    }
}

fn type_of(node: &str) -> String {
    let mut c = node.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A cursor like the facts' `["AE020"]#73`: the sort values in JSON, `#`, a
/// check number.
fn encode_cursor(values: &[Value]) -> String {
    let json = Value::Array(values.to_vec()).to_string();
    let check: u32 = json.bytes().map(u32::from).sum::<u32>() % 100;
    format!("{json}#{check}")
}

fn decode_cursor(cursor: &Value) -> Option<Vec<Value>> {
    let text = cursor.as_str()?;
    let json = text.rsplit_once('#').map_or(text, |(j, _)| j);
    match serde_json::from_str(json).ok()? {
        Value::Array(a) => Some(a),
        _ => None,
    }
}

/// Picks the selected fields of a materialised value.
fn project(value: &Value, selections: &[Field], name: &str) -> R<Value> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| project(v, selections, name))
            .collect::<R<Vec<_>>>()
            .map(Value::Array),
        Value::Object(map) => {
            let on = map
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_string();
            if selections.is_empty() {
                return Err(Fail::Request(format!(
                    "Field \"{name}\" of type \"{on}\" must have a selection of subfields."
                )));
            }
            let mut out = Map::new();
            for s in selections {
                if s.name == "__typename" {
                    out.insert(s.key.clone(), on.clone().into());
                    continue;
                }
                let Some(v) = map.get(&s.name) else {
                    let known: Vec<&str> = map
                        .keys()
                        .map(String::as_str)
                        .filter(|k| !k.starts_with("__"))
                        .collect();
                    return Err(cannot_query(&s.name, &on, &known));
                };
                out.insert(s.key.clone(), project(v, &s.selections, &s.name)?);
            }
            Ok(Value::Object(out))
        }
        scalar => {
            if let Some(s) = selections.first() {
                return Err(Fail::Request(format!("Field \"{name}\" must not have a selection since it is a scalar (found \"{}\").", s.name)));
            }
            Ok(scalar.clone())
        }
    }
}

fn check_input(data: &Map<String, Value>, allowed: &[&str], input: &str) -> R<()> {
    for k in data.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Fail::Request(format!(
                "Field \"{k}\" is not defined by type \"{input}\"."
            )));
        }
    }
    Ok(())
}

fn s(data: &Map<String, Value>, k: &str) -> String {
    match data.get(k) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Object(o)) => o.get("code").map(super::paging::text).unwrap_or_default(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn n(data: &Map<String, Value>, k: &str) -> R<Option<f64>> {
    match data.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(x)) => Ok(x.as_f64()),
        Some(Value::String(t)) => {
            t.trim().parse().map(Some).map_err(|_| {
                Fail::Request(format!("Decimal cannot represent value: \"{t}\" ({k})"))
            })
        }
        Some(other) => Err(Fail::Request(format!(
            "Decimal cannot represent value: {other} ({k})"
        ))),
    }
}

fn customer_input(
    data: &Map<String, Value>,
    input: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> R<Customer> {
    check_input(
        data,
        &[
            "code",
            "companyName",
            "shortCompanyName",
            "category",
            "currency",
            "country",
            "isActive",
            "defaultAddress",
        ],
        input,
    )?;
    let empty = Map::new();
    let addr = data
        .get("defaultAddress")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    check_input(
        addr,
        &[
            "code",
            "addressLine1",
            "addressLine2",
            "addressLine3",
            "city",
            "zip",
            "region",
            "country",
            "email",
            "phoneNumber",
        ],
        "Address_Input",
    )?;
    let name = s(data, "companyName");
    let short = s(data, "shortCompanyName");
    let or = |v: String, d: &str| if v.is_empty() { d.to_string() } else { v };
    let country = or(s(data, "country"), &or(s(addr, "country"), "US"));
    Ok(Customer {
        code: s(data, "code"),
        short_name: if short.is_empty() {
            name.chars().take(10).collect()
        } else {
            short
        },
        name,
        category: or(s(data, "category"), "RETAIL"),
        currency: or(s(data, "currency"), CURRENCY),
        active: data
            .get("isActive")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        address_code: or(s(addr, "code"), "001"),
        address_lines: [
            s(addr, "addressLine1"),
            s(addr, "addressLine2"),
            s(addr, "addressLine3"),
        ],
        city: s(addr, "city"),
        zip: s(addr, "zip"),
        region: s(addr, "region"),
        country,
        phone: s(addr, "phoneNumber"),
        email: s(addr, "email"),
        created: now,
        updated: now,
    })
}

fn draft_input(data: &Map<String, Value>, input: &str, order: bool) -> R<Draft> {
    let header: &[&str] = if order {
        &[
            "id",
            "salesSite",
            "soldToCustomer",
            "currency",
            "category",
            "company",
            "orderDate",
            "shipmentDate",
            "paymentTerm",
            "taxRule",
            "customerOrderReference",
            "lines",
        ]
    } else {
        &[
            "id",
            "salesSite",
            "billToCustomer",
            "soldToCustomer",
            "currency",
            "category",
            "company",
            "invoiceDate",
            "paymentTerm",
            "taxRule",
            "customerOrderReference",
            "salesOrder",
            "lines",
        ]
    };
    check_input(data, header, input)?;
    let qty_name = if order {
        "quantityInSalesUnitOrdered"
    } else {
        "quantityInSalesUnit"
    };
    let line_input = format!("{}Line_Input", input.trim_end_matches("_Input"));
    let mut lines = Vec::new();
    for line in data
        .get("lines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let Value::Object(line) = line else {
            return Err(Fail::Request(format!("Expected type \"{line_input}\".")));
        };
        check_input(
            &line,
            &["lineNumber", "grossPrice", "product", "salesUnit", qty_name],
            &line_input,
        )?;
        let number = n(&line, "lineNumber")?.unwrap_or(0.0) as i64;
        let qty = n(&line, qty_name)?.unwrap_or(0.0);
        lines.push((number, s(&line, "product"), qty, n(&line, "grossPrice")?));
    }
    let customer = if order {
        s(data, "soldToCustomer")
    } else {
        let bill = s(data, "billToCustomer");
        if bill.is_empty() {
            s(data, "soldToCustomer")
        } else {
            bill
        }
    };
    Ok(Draft {
        number: s(data, "id"),
        site: s(data, "salesSite"),
        customer,
        date: s(data, if order { "orderDate" } else { "invoiceDate" }),
        currency: s(data, "currency"),
        reference: s(data, "customerOrderReference"),
        order: if order {
            String::new()
        } else {
            s(data, "salesOrder")
        },
        lines,
    })
}
