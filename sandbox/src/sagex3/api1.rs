//! The api1 REST API (Syracuse, facts §2.1):
//!
//! | request | answer |
//! |---|---|
//! | `GET {CLASS}?representation={REPR}.$query[&count=N][&key=gt.K][&where=...][&orderBy=...]` | `{"$itemsPerPage","$resources":[...],"$links":{"$next","$last"}}` |
//! | `GET {CLASS}('{KEY}')?representation={REPR}.$details` | the record with `$uuid`, `$etag` and child arrays (`SOHSOP[]`) |
//! | `GET {CLASS}/$template?representation={REPR}.$create` | a blank record with defaults |
//! | `GET {CLASS}/$prototypes('{REPR}.$create')` | `$properties` with `$type`, `$isMandatory`, `$maxLength` |
//! | `POST {CLASS}?representation={REPR}.$create` | 201 and the created record (`$details` shape) |
//! | `PUT BPCUSTOMER('{KEY}')?representation=BPCUSTOMER.$edit` | 200 and the record; only the properties sent change (decision: the facts give no update) |
//!
//! Classes and representations (the facts verify only `BPCUSTOMER`; the
//! others are the standard X3 codes, UNVERIFIED): `BPCUSTOMER`/`BPCUSTOMER`
//! (key `BPCNUM`, create), `ITMMASTER`/`ITMMASTER` (key `ITMREF`),
//! `ITMMVT`/`ITMMVT` (key `ITMREF~STOFCY`), `SORDER`/`SOH` or `SORDER`
//! (key `SOHNUM`, create), `SIH`/`SIH` (key `NUM`, create).
//!
//! The older URL form `api1/x3/{contract}/{ENDPOINT}.{CLASS}` (facts §2.1
//! [X3-REQ], e.g. `$$prod/DEMO.BPCUSTOMER`) is served the same way.
//!
//! Paging is keyset (`key=gt.<last>`, facts §2.1 [X3-Q-LV]); with `orderBy`
//! the key holds the sort values then the record key, joined by `~`. A
//! representation of another class: 400; an unknown class or endpoint:
//! 404; an unknown property in `where` or `orderBy`: 500 (facts §2.1
//! [X3-GETQ]); a `where` syntax error: 400 (decision).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};

use super::model::{Customer, Draft};
use super::paging::{cmp_tuple, text, Dir};
use super::variants::OrderByStyle;
use super::where_clause::{self, WhereError};
use super::{auth, errors, State, CURRENCY, SITE};
use crate::World;

/// A field of a `$create` facet: name, `$type`, `$isMandatory`, `$maxLength`.
type Field = (&'static str, &'static str, bool, Option<u32>);

const S: &str = "application/x-string";
const D: &str = "application/x-decimal";
const I: &str = "application/x-integer";
const DATE: &str = "application/x-date";
const A: &str = "application/x-array";

/// A class served by api1.
pub struct Class {
    /// Class code.
    pub name: &'static str,
    /// Its representations.
    pub representations: &'static [&'static str],
    /// Key properties (joined by `~` in URLs).
    pub key: &'static [&'static str],
    /// The `$query` facet's properties (usable in `where` and `orderBy`).
    pub query: &'static [&'static str],
    /// The `$create` facet's fields; empty when the class cannot be created.
    pub create: &'static [Field],
}

/// The classes.
pub const CLASSES: [Class; 5] = [
    Class {
        name: "BPCUSTOMER",
        representations: &["BPCUSTOMER"],
        key: &["BPCNUM"],
        query: &[
            "BPCNUM",
            "BPCNAM",
            "BPCSHO",
            "BCGCOD",
            "CUR",
            "BPCSTA",
            "BPAADD",
            "BPAADDLIG",
            "CTY",
            "POSCOD",
            "SAT",
            "CRY",
            "TEL",
            "WEB",
            "CREDATTIM",
            "UPDDATTIM",
        ],
        create: &[
            ("BPCNUM", S, true, Some(15)),
            ("BPCNAM", S, true, Some(35)),
            ("BPCSHO", S, false, Some(10)),
            ("BCGCOD", S, false, Some(5)),
            ("CUR", S, false, Some(3)),
            ("BPCSTA", I, false, None),
            ("BPAADD", S, false, Some(5)),
            ("BPAADDLIG", A, false, Some(50)),
            ("CTY", S, false, Some(40)),
            ("POSCOD", S, false, Some(10)),
            ("SAT", S, false, Some(35)),
            ("CRY", S, false, Some(3)),
            ("TEL", S, false, Some(20)),
            ("WEB", S, false, Some(80)),
        ],
    },
    Class {
        name: "ITMMASTER",
        representations: &["ITMMASTER"],
        key: &["ITMREF"],
        query: &[
            "ITMREF",
            "ITMDES1",
            "TCLCOD",
            "STU",
            "SAU",
            "ITMSTA",
            "BASPRI",
            "CUR",
            "ITMWEI",
            "EANCOD",
            "CREDATTIM",
            "UPDDATTIM",
        ],
        create: &[],
    },
    Class {
        name: "ITMMVT",
        representations: &["ITMMVT"],
        key: &["ITMREF", "STOFCY"],
        query: &[
            "ITMREF",
            "STOFCY",
            "PHYSTO",
            "ALLSTO",
            "AVAILSTO",
            "UPDDATTIM",
        ],
        create: &[],
    },
    Class {
        name: "SORDER",
        representations: &["SOH", "SORDER"],
        key: &["SOHNUM"],
        query: &[
            "SOHNUM",
            "SOHTYP",
            "SALFCY",
            "BPCORD",
            "ORDDAT",
            "CUR",
            "CUSORDREF",
            "ORDNOT",
            "ORDATI",
            "CREDATTIM",
            "UPDDATTIM",
        ],
        create: &[
            ("SOHNUM", S, false, Some(20)),
            ("SOHTYP", S, false, Some(5)),
            ("SALFCY", S, false, Some(5)),
            ("BPCORD", S, true, Some(15)),
            ("ORDDAT", DATE, false, None),
            ("CUR", S, false, Some(3)),
            ("CUSORDREF", S, false, Some(20)),
            ("SOHSOP", A, true, None),
        ],
    },
    Class {
        name: "SIH",
        representations: &["SIH"],
        key: &["NUM"],
        query: &[
            "NUM",
            "SIVTYP",
            "SALFCY",
            "BPCINV",
            "INVDAT",
            "CUR",
            "CUSORDREF",
            "SOHNUM",
            "AMTNOT",
            "AMTATI",
            "CREDATTIM",
            "UPDDATTIM",
        ],
        create: &[
            ("NUM", S, false, Some(20)),
            ("SIVTYP", S, false, Some(5)),
            ("SALFCY", S, false, Some(5)),
            ("BPCINV", S, true, Some(15)),
            ("INVDAT", DATE, false, None),
            ("CUR", S, false, Some(3)),
            ("CUSORDREF", S, false, Some(20)),
            ("SOHNUM", S, false, Some(20)),
            ("SID", A, true, None),
        ],
    },
];

/// Line fields of `SOHSOP[]` / `SID[]`.
const LINE_FIELDS: [Field; 4] = [
    ("ITMREF", S, true, Some(20)),
    ("QTY", D, true, None),
    ("GROPRI", D, false, None),
    ("SAU", S, false, Some(3)),
];

fn class(name: &str) -> Option<&'static Class> {
    CLASSES.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The records of a class, as the `$query` (or `$details`) facet shows them.
pub fn rows(state: &State, class: &Class, details: bool) -> Vec<Value> {
    let mut rows: Vec<Value> = match class.name {
        "BPCUSTOMER" => state.customers.iter().map(Customer::api1).collect(),
        "ITMMASTER" => state.items.iter().map(|i| i.api1(CURRENCY)).collect(),
        "ITMMVT" => state.stock.iter().map(|s| s.api1()).collect(),
        "SORDER" => state.orders.iter().map(|o| o.api1(details)).collect(),
        _ => state.invoices.iter().map(|i| i.api1(details)).collect(),
    };
    if !state.variants.expose_upddattim {
        for row in &mut rows {
            if let Some(o) = row.as_object_mut() {
                o.remove("UPDDATTIM");
            }
        }
    }
    rows
}

fn key_of(class: &Class, row: &Value) -> String {
    class
        .key
        .iter()
        .map(|k| text(&row[*k]))
        .collect::<Vec<_>>()
        .join("~")
}

/// A stable `$uuid` for a record.
fn uuid_of(class: &str, key: &str) -> String {
    let h = Sha1::digest(format!("{class}:{key}").as_bytes());
    let x: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

fn decorate(class: &Class, mut row: Value) -> Value {
    let key = key_of(class, &row);
    row["$uuid"] = uuid_of(class.name, &key).into();
    if let Some(etag) = row
        .get("UPDDATTIM")
        .or_else(|| row.get("CREDATTIM"))
        .cloned()
    {
        row["$etag"] = etag;
    }
    row
}

/// Percent-decodes a URL part (`%27`, `%28`, ...).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'$' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Splits `BPCUSTOMER('0113')` into the class and the key.
fn split_resource(resource: &str) -> (String, Option<String>) {
    let resource = percent_decode(resource);
    match resource.split_once('(') {
        Some((class, rest)) => {
            let key = rest
                .trim_end_matches(')')
                .trim_matches('\'')
                .trim_matches('"');
            (class.to_string(), Some(key.to_string()))
        }
        None => (resource, None),
    }
}

fn err(status: StatusCode, message: impl AsRef<str>) -> HttpResponse {
    errors::api1(status, message.as_ref())
}

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Checks auth and the endpoint, then the class and representation.
fn prelude(
    req: &HttpRequest,
    state: &State,
    class_name: &str,
    representation: Option<&str>,
) -> Result<(&'static Class, String), Box<HttpResponse>> {
    auth::check_basic(req, state)?;
    // `/erp/{ENDPOINT}/{CLASS}`, or the older `/{contract}/{ENDPOINT}.{CLASS}`.
    let endpoint = match req.match_info().get("endpoint") {
        Some(e) => e.to_string(),
        None => percent_decode(req.match_info().get("dotted").unwrap_or_default())
            .split_once('.')
            .map(|(e, _)| e.to_string())
            .unwrap_or_default(),
    };
    if !endpoint.eq_ignore_ascii_case(&state.endpoint) {
        return Err(Box::new(err(
            StatusCode::NOT_FOUND,
            format!("Endpoint '{endpoint}' not found"),
        )));
    }
    let class = class(class_name).ok_or_else(|| {
        Box::new(err(
            StatusCode::NOT_FOUND,
            format!("Class '{class_name}' not found"),
        ))
    })?;
    let Some(representation) = representation else {
        return Err(Box::new(err(
            StatusCode::BAD_REQUEST,
            "The representation parameter is mandatory",
        )));
    };
    let (repr, facet) = representation
        .split_once('.')
        .map(|(r, f)| (r.to_string(), f.to_string()))
        .unwrap_or((representation.to_string(), String::new()));
    if !class
        .representations
        .iter()
        .any(|r| r.eq_ignore_ascii_case(&repr))
    {
        // Facts §2.1: REPR must belong to CLASS, otherwise an error.
        return Err(Box::new(err(
            StatusCode::BAD_REQUEST,
            format!(
                "Representation '{repr}' does not belong to class '{}'",
                class.name
            ),
        )));
    }
    Ok((class, facet))
}

/// `{CLASS}` and `{CLASS}('{KEY}')`.
pub async fn handle(world: web::Data<World>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let resource = match req.match_info().get("resource") {
        Some(r) => r.to_string(),
        None => {
            // The older form (facts §2.1 [X3-REQ]): `.../api1/x3/$$prod/DEMO.BPCUSTOMER`.
            let dotted = percent_decode(req.match_info().get("dotted").unwrap_or_default());
            match dotted.split_once('.') {
                Some((_, r)) => r.to_string(),
                None => {
                    return err(
                        StatusCode::NOT_FOUND,
                        format!("{}: resource not found", req.path()),
                    )
                }
            }
        }
    };
    let (class_name, key) = split_resource(&resource);
    let pairs = query_pairs(&req);
    let mut state = world.sagex3();
    let (class, facet) = match prelude(&req, &state, &class_name, param(&pairs, "representation")) {
        Ok(x) => x,
        Err(e) => return *e,
    };
    let method = req.method().as_str();
    match (method, key, facet.as_str()) {
        ("GET", None, "$query") => query(&req, &state, class, &pairs),
        ("GET", Some(key), "$details") => details(&state, class, &key),
        ("POST", None, "$create") => create(&mut state, class, &body),
        ("PUT", Some(key), "$edit") if class.name == "BPCUSTOMER" => {
            update_customer(&mut state, &key, &body)
        }
        ("GET" | "POST", _, facet) => err(
            StatusCode::BAD_REQUEST,
            format!("Facet '{facet}' is not available for this request"),
        ),
        _ => err(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method {method} is not allowed on {}", class.name),
        ),
    }
}

/// `{CLASS}/$template` and `{CLASS}/$prototypes('{REPR}.$create')`.
pub async fn handle_facet(world: web::Data<World>, req: HttpRequest) -> HttpResponse {
    let class_name = req
        .match_info()
        .get("resource")
        .unwrap_or_default()
        .to_string();
    let facet = percent_decode(req.match_info().get("facet").unwrap_or_default());
    let pairs = query_pairs(&req);
    let state = world.sagex3();
    let representation = if let Some(inner) = facet.strip_prefix("$prototypes(") {
        Some(inner.trim_end_matches(')').trim_matches('\'').to_string())
    } else if facet == "$template" {
        param(&pairs, "representation").map(str::to_string)
    } else {
        return err(
            StatusCode::NOT_FOUND,
            format!("{facet}: resource not found"),
        );
    };
    let (class, sub) = match prelude(&req, &state, &class_name, representation.as_deref()) {
        Ok(x) => x,
        Err(e) => return *e,
    };
    if sub != "$create" || class.create.is_empty() {
        return err(
            StatusCode::BAD_REQUEST,
            format!("Facet '{sub}' is not available for class '{}'", class.name),
        );
    }
    if facet == "$template" {
        return HttpResponse::Ok().json(template(&state, class));
    }
    let mut properties = Map::new();
    for (name, ty, mandatory, max) in class.create {
        let mut p = json!({ "$type": ty, "$isMandatory": mandatory });
        if let Some(max) = max {
            p["$maxLength"] = (*max).into();
        }
        if *ty == A {
            let mut items = Map::new();
            for (n, t, m, x) in LINE_FIELDS {
                let mut q = json!({ "$type": t, "$isMandatory": m });
                if let Some(x) = x {
                    q["$maxLength"] = x.into();
                }
                items.insert(n.into(), q);
            }
            p["$item"] = json!({ "$properties": items });
        }
        properties.insert((*name).into(), p);
    }
    HttpResponse::Ok().json(json!({
        "$prototype": format!("{}.$create", representation.unwrap_or_default()),
        "$properties": properties,
    }))
}

fn template(state: &State, class: &Class) -> Value {
    let today = state.now().format("%Y-%m-%d").to_string();
    match class.name {
        "BPCUSTOMER" => json!({
            "BPCNUM": "", "BPCNAM": "", "BPCSHO": "", "BCGCOD": "RETAIL", "CUR": CURRENCY,
            "BPCSTA": 2, "BPAADD": "001", "BPAADDLIG": ["", "", ""], "CTY": "", "POSCOD": "",
            "SAT": "", "CRY": "US", "TEL": "", "WEB": "",
        }),
        "SORDER" => json!({
            "SOHNUM": "", "SOHTYP": "SON", "SALFCY": SITE, "BPCORD": "", "ORDDAT": today,
            "CUR": CURRENCY, "CUSORDREF": "", "SOHSOP": [],
        }),
        _ => json!({
            "NUM": "", "SIVTYP": "INV", "SALFCY": SITE, "BPCINV": "", "INVDAT": today,
            "CUR": CURRENCY, "CUSORDREF": "", "SOHNUM": "", "SID": [],
        }),
    }
}

fn order_by(spec: &str, style: OrderByStyle) -> Result<Vec<(String, Dir)>, String> {
    let parts: Vec<&str> = match style {
        OrderByStyle::Both => spec.split([',', ';']).collect(),
        OrderByStyle::Comma => spec.split(',').collect(),
        OrderByStyle::Semicolon => spec.split(';').collect(),
    };
    let mut out = Vec::new();
    for part in parts {
        let words: Vec<&str> = part.split_whitespace().collect();
        let dir = match words.get(1).map(|w| w.to_ascii_lowercase()) {
            None => Dir::Asc,
            Some(w) if w == "asc" => Dir::Asc,
            Some(w) if w == "desc" => Dir::Desc,
            Some(w) => return Err(format!("orderBy: invalid direction '{w}'")),
        };
        if words.is_empty() || words.len() > 2 {
            return Err(format!("orderBy: invalid clause '{}'", part.trim()));
        }
        out.push((words[0].to_string(), dir));
    }
    Ok(out)
}

fn query(
    req: &HttpRequest,
    state: &State,
    class: &Class,
    pairs: &[(String, String)],
) -> HttpResponse {
    let mut rows = rows(state, class, false);
    let has =
        |f: &str| class.query.contains(&f) && (f != "UPDDATTIM" || state.variants.expose_upddattim);
    if let Some(filter) = param(pairs, "where") {
        match where_clause::parse(filter, &has) {
            Ok(expr) => rows.retain(|r| where_clause::eval(&expr, r)),
            Err(WhereError::UnknownProperty(p)) => {
                return err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!(
                        "where: property '{p}' does not exist in {}.$query",
                        class.name
                    ),
                )
            }
            Err(WhereError::Syntax(m)) => {
                return err(StatusCode::BAD_REQUEST, format!("where: {m}"))
            }
        }
    }
    let mut sort: Vec<(String, Dir)> = match param(pairs, "orderBy") {
        Some(spec) => match order_by(spec, state.variants.order_by_style) {
            Ok(s) => s,
            Err(m) => return err(StatusCode::BAD_REQUEST, m),
        },
        None => Vec::new(),
    };
    if let Some((p, _)) = sort.iter().find(|(p, _)| !has(p)) {
        return err(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "orderBy: property '{p}' is not on the $query facet of {}",
                class.name
            ),
        );
    }
    for k in class.key {
        if !sort.iter().any(|(p, _)| p == k) {
            sort.push(((*k).to_string(), Dir::Asc));
        }
    }
    let dirs: Vec<Dir> = sort.iter().map(|(_, d)| *d).collect();
    let tuple = |r: &Value| -> Vec<Value> { sort.iter().map(|(p, _)| r[p].clone()).collect() };
    rows.sort_by(|a, b| cmp_tuple(&tuple(a), &tuple(b), &dirs));
    let total = rows.len();

    let count = param(pairs, "count")
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|c| *c > 0)
        .unwrap_or(state.variants.default_count)
        .min(state.variants.max_count.max(1));
    let (start, end) = match param(pairs, "key") {
        None => (0, count.min(total)),
        Some(k) => {
            let (op, value) = k.split_once('.').unwrap_or((k, ""));
            let at: Vec<Value> = value
                .split('~')
                .map(|v| Value::String(v.to_string()))
                .collect();
            match op {
                "gt" | "ge" => {
                    let start = rows
                        .iter()
                        .position(|r| {
                            let o = cmp_tuple(&tuple(r), &at, &dirs);
                            o.is_gt() || (op == "ge" && o.is_eq())
                        })
                        .unwrap_or(total);
                    (start, (start + count).min(total))
                }
                "lt" => {
                    let end = if value.is_empty() {
                        total
                    } else {
                        rows.iter()
                            .position(|r| !cmp_tuple(&tuple(r), &at, &dirs).is_lt())
                            .unwrap_or(total)
                    };
                    (end.saturating_sub(count), end)
                }
                _ => return err(StatusCode::BAD_REQUEST, format!("key: invalid value '{k}'")),
            }
        }
    };
    let link_key = |r: &Value| tuple(r).iter().map(text).collect::<Vec<_>>().join("~");
    let page: Vec<Value> = rows[start..end].to_vec();
    let mut links = Map::new();
    let url_with = |key: &str| link(req, pairs, key);
    if end < total {
        if let Some(last) = page.last() {
            links.insert(
                "$next".into(),
                link_value(url_with(&format!("gt.{}", link_key(last)))),
            );
        }
    }
    if start > 0 {
        if let Some(first) = page.first() {
            links.insert(
                "$previous".into(),
                link_value(url_with(&format!("lt.{}", link_key(first)))),
            );
        }
    }
    links.insert("$last".into(), link_value(url_with("lt")));
    let mut answer = json!({
        "$itemsPerPage": count,
        "$resources": page,
        "$links": links,
    });
    if state.variants.collaboration_envelope {
        answer["$url"] = link(req, pairs, "").into();
        answer["$descriptor"] = format!("{} (sandbox)", class.name).into();
        answer["$startIndex"] = (start + 1).into();
        answer["$totalResults"] = total.into();
    }
    HttpResponse::Ok().json(answer)
}

fn link_value(url: String) -> Value {
    json!({ "$url": url, "$type": "application/json", "$method": "GET" })
}

/// The request's URL with `key` replaced (dropped when empty).
fn link(req: &HttpRequest, pairs: &[(String, String)], key: &str) -> String {
    let info = req.connection_info();
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "key")
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    if !key.is_empty() {
        query.push(format!("key={}", percent_encode(key)));
    }
    format!(
        "{}://{}{}?{}",
        info.scheme(),
        info.host(),
        req.path(),
        query.join("&")
    )
}

fn details(state: &State, class: &Class, key: &str) -> HttpResponse {
    match rows(state, class, true)
        .into_iter()
        .find(|r| key_of(class, r) == key)
    {
        Some(row) => HttpResponse::Ok().json(decorate(class, row)),
        None => err(
            StatusCode::NOT_FOUND,
            format!("{}: record '{key}' does not exist", class.name),
        ),
    }
}

fn str_field(body: &Value, name: &str) -> Result<String, String> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!("{name}: invalid value {other}")),
    }
}

fn num_field(body: &Value, name: &str) -> Result<Option<f64>, String> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}: '{s}' is not a number")),
        Some(other) => Err(format!("{name}: invalid value {other}")),
    }
}

/// Checks a body against a facet's fields: unknown properties are refused,
/// `$` properties ignored (facts §2.1: "Ignore `$…` properties").
fn check_fields(body: &Value, fields: &[Field]) -> Result<(), String> {
    let Some(object) = body.as_object() else {
        return Err("The body must be a JSON object".into());
    };
    for (k, v) in object {
        if k.starts_with('$') {
            continue;
        }
        let Some((_, ty, _, max)) = fields.iter().find(|f| f.0 == k) else {
            return Err(format!("{k}: unknown property"));
        };
        if let (Some(max), Value::String(s)) = (max, v) {
            if *ty == S && s.chars().count() > *max as usize {
                return Err(format!("{k}: longer than {max} characters"));
            }
        }
    }
    for (name, _, mandatory, _) in fields {
        if *mandatory && body.get(*name).is_none_or(|v| v.is_null() || v == "") {
            return Err(format!("{name}: mandatory field"));
        }
    }
    Ok(())
}

/// A customer from a `BPCUSTOMER` body.
pub fn customer_from(body: &Value, now: chrono::DateTime<chrono::Utc>) -> Result<Customer, String> {
    let fields = CLASSES[0].create;
    check_fields(body, fields)?;
    let s = |n: &str| str_field(body, n);
    let lines = match body.get("BPAADDLIG") {
        Some(Value::Array(a)) => {
            let mut l: [String; 3] = Default::default();
            for (i, v) in a.iter().take(3).enumerate() {
                l[i] = text(v);
            }
            l
        }
        Some(Value::String(one)) => [one.clone(), String::new(), String::new()],
        _ => Default::default(),
    };
    let name = s("BPCNAM")?;
    let short = s("BPCSHO")?;
    Ok(Customer {
        code: s("BPCNUM")?,
        short_name: if short.is_empty() {
            name.chars().take(10).collect()
        } else {
            short
        },
        name,
        category: Some(s("BCGCOD")?)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "RETAIL".into()),
        currency: Some(s("CUR")?)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| CURRENCY.into()),
        active: num_field(body, "BPCSTA")?.is_none_or(|v| v as i64 != 1),
        address_code: Some(s("BPAADD")?)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "001".into()),
        address_lines: lines,
        city: s("CTY")?,
        zip: s("POSCOD")?,
        region: s("SAT")?,
        country: Some(s("CRY")?)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "US".into()),
        phone: s("TEL")?,
        email: s("WEB")?,
        created: now,
        updated: now,
    })
}

fn draft_from(body: &Value, class: &Class) -> Result<Draft, String> {
    check_fields(body, class.create)?;
    let (number, customer, date, lines_name) = if class.name == "SORDER" {
        ("SOHNUM", "BPCORD", "ORDDAT", "SOHSOP")
    } else {
        ("NUM", "BPCINV", "INVDAT", "SID")
    };
    let Some(Value::Array(raw)) = body.get(lines_name) else {
        return Err(format!("{lines_name}: must be an array of lines"));
    };
    let mut lines = Vec::new();
    for (i, line) in raw.iter().enumerate() {
        let ln = if class.name == "SORDER" {
            "SOPLIN"
        } else {
            "SIDLIN"
        };
        let mut allowed = LINE_FIELDS.to_vec();
        allowed.push((ln, I, false, None));
        check_fields(line, &allowed).map_err(|e| format!("{lines_name}[{i}].{e}"))?;
        let item = str_field(line, "ITMREF")?;
        let qty = num_field(line, "QTY")?.unwrap_or(0.0);
        let price = num_field(line, "GROPRI")?;
        let number = num_field(line, ln)?.unwrap_or(0.0) as i64;
        lines.push((number, item, qty, price));
    }
    Ok(Draft {
        number: str_field(body, number)?,
        site: str_field(body, "SALFCY")?,
        customer: str_field(body, customer)?,
        date: str_field(body, date)?,
        currency: str_field(body, "CUR")?,
        reference: str_field(body, "CUSORDREF")?,
        order: if class.name == "SIH" {
            str_field(body, "SOHNUM")?
        } else {
            String::new()
        },
        lines,
    })
}

fn create(state: &mut State, class: &Class, body: &[u8]) -> HttpResponse {
    if class.create.is_empty() {
        return err(
            StatusCode::BAD_REQUEST,
            format!(
                "Facet '$create' is not available for class '{}'",
                class.name
            ),
        );
    }
    let body: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return err(StatusCode::BAD_REQUEST, format!("Invalid JSON: {e}")),
    };
    let now = state.now();
    let created = match class.name {
        "BPCUSTOMER" => customer_from(&body, now).and_then(|c| {
            let code = c.code.clone();
            state.create_customer(c).map(|_| code)
        }),
        "SORDER" => draft_from(&body, class).and_then(|d| state.create_order(d)),
        _ => draft_from(&body, class).and_then(|d| state.create_invoice(d)),
    };
    match created {
        Ok(key) => {
            let row = rows(state, class, true)
                .into_iter()
                .find(|r| key_of(class, r) == key)
                .unwrap_or(Value::Null);
            HttpResponse::Created().json(decorate(class, row))
        }
        Err(m) if m.contains("already exists") => err(StatusCode::CONFLICT, m),
        Err(m) => err(StatusCode::BAD_REQUEST, m),
    }
}

/// Applies the `BPCUSTOMER` properties present in `body` to `c`.
pub fn patch_customer(c: &mut Customer, body: &Value) -> Result<(), String> {
    let Some(object) = body.as_object() else {
        return Err("The body must be a JSON object".into());
    };
    let fields = CLASSES[0].create;
    for (k, v) in object {
        if k.starts_with('$') {
            continue;
        }
        if !fields.iter().any(|f| f.0 == k) {
            return Err(format!("{k}: unknown property"));
        }
        let s = || str_field(body, k);
        match k.as_str() {
            "BPCNUM" if s()? != c.code => return Err("BPCNUM: the key cannot change".into()),
            "BPCNUM" => {}
            "BPCNAM" if s()?.is_empty() => return Err("BPCNAM: mandatory field".into()),
            "BPCNAM" => c.name = s()?,
            "BPCSHO" => c.short_name = s()?,
            "BCGCOD" => c.category = s()?,
            "CUR" => c.currency = s()?,
            "BPCSTA" => c.active = num_field(body, k)?.is_none_or(|v| v as i64 != 1),
            "BPAADD" => c.address_code = s()?,
            "BPAADDLIG" => {
                let mut l: [String; 3] = Default::default();
                match v {
                    Value::Array(a) => {
                        for (i, x) in a.iter().take(3).enumerate() {
                            l[i] = text(x);
                        }
                    }
                    other => l[0] = text(other),
                }
                c.address_lines = l;
            }
            "CTY" => c.city = s()?,
            "POSCOD" => c.zip = s()?,
            "SAT" => c.region = s()?,
            "CRY" => c.country = s()?,
            "TEL" => c.phone = s()?,
            _ => c.email = s()?,
        }
    }
    Ok(())
}

fn update_customer(state: &mut State, key: &str, body: &[u8]) -> HttpResponse {
    let body: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return err(StatusCode::BAD_REQUEST, format!("Invalid JSON: {e}")),
    };
    let now = state.now();
    let Some(customer) = state.customers.iter_mut().find(|c| c.code == key) else {
        return err(
            StatusCode::NOT_FOUND,
            format!("BPCUSTOMER: record '{key}' does not exist"),
        );
    };
    let mut changed = customer.clone();
    if let Err(m) = patch_customer(&mut changed, &body) {
        return err(StatusCode::BAD_REQUEST, m);
    }
    changed.updated = now;
    *customer = changed;
    details(state, &CLASSES[0], key)
}
