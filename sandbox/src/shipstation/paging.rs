//! Query parameters and paging.
//!
//! V1 (facts §4.2, §4.3): `page` (from 1) and `pageSize` (orders: max 500;
//! a larger size is capped at 500, a decision); answers
//! `{"<list>": [...], "total", "page", "pages"}`. Parameter names are
//! matched case-insensitively, as ASP.NET binds them (the SHIP_NOTIFY
//! `resource_url` of §4.4 writes `storeID` where the list documents
//! `storeId`).
//!
//! V2 (ShipEngine convention, beyond the facts): `page` and `page_size`
//! (default 25, max 500); answers `{"<list>": [...], "total", "page",
//! "pages", "links": {"first", "last", "prev", "next"}}`.

use actix_web::HttpRequest;
use serde_json::{json, Value};

use super::errors::{V1Error, V2Error};

/// A request's query parameters.
#[derive(Debug, Clone)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// The request's parameters.
    pub fn of(req: &HttpRequest) -> Query {
        Query {
            pairs: super::query_pairs(req),
        }
    }

    /// The last value of `name` (case-insensitive), if non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// An integer parameter; 400 in the V1 shape when it is not one.
    pub fn v1_int(&self, name: &str) -> Result<Option<u64>, V1Error> {
        self.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| V1Error::bad(format!("The value '{v}' is not valid for {name}.")))
            })
            .transpose()
    }

    /// A boolean parameter (`true`/`false`, any case).
    pub fn v1_bool(&self, name: &str) -> Result<Option<bool>, V1Error> {
        self.get(name)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(V1Error::bad(format!(
                    "The value '{v}' is not valid for {name}."
                ))),
            })
            .transpose()
    }

    /// An integer parameter; 400 in the V2 shape when it is not one.
    pub fn v2_int(&self, name: &str) -> Result<Option<u64>, V2Error> {
        self.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| V2Error::invalid(name, format!("{name} must be an integer.")))
            })
            .transpose()
    }
}

/// A V1 page of `items`: `(slice, total, page, pages)`.
pub fn v1_page<T: Clone>(
    items: &[T],
    q: &Query,
    default_size: u64,
) -> Result<(Vec<T>, u64, u64, u64), V1Error> {
    let page = q.v1_int("page")?.unwrap_or(1).max(1);
    let size = q.v1_int("pageSize")?.unwrap_or(default_size).clamp(1, 500);
    let total = items.len() as u64;
    let pages = total.div_ceil(size);
    let start = ((page - 1) * size).min(total) as usize;
    let end = (start as u64 + size).min(total) as usize;
    Ok((items[start..end].to_vec(), total, page, pages))
}

/// A V2 page of `items` under `key`, with links built from `url` (the
/// request's URL without `page`).
pub fn v2_page(items: Vec<Value>, q: &Query, key: &str, url: &str) -> Result<Value, V2Error> {
    let page = q.v2_int("page")?.unwrap_or(1);
    if page == 0 {
        return Err(V2Error::invalid("page", "page must be at least 1."));
    }
    let size = q.v2_int("page_size")?.unwrap_or(25);
    if !(1..=500).contains(&size) {
        return Err(V2Error::invalid(
            "page_size",
            "page_size must be between 1 and 500.",
        ));
    }
    let total = items.len() as u64;
    let pages = total.div_ceil(size).max(1);
    let start = ((page - 1) * size).min(total) as usize;
    let end = (start as u64 + size).min(total) as usize;
    let sep = if url.contains('?') { '&' } else { '?' };
    let link = |p: u64| json!({ "href": format!("{url}{sep}page={p}&page_size={size}") });
    let mut out = json!({
        key: items[start..end].to_vec(),
        "total": total,
        "page": page,
        "pages": pages,
        "links": {
            "first": link(1),
            "last": link(pages),
            "prev": if page > 1 { link(page - 1) } else { json!({}) },
            "next": if page < pages { link(page + 1) } else { json!({}) },
        },
    });
    if out[key].is_null() {
        out[key] = json!([]);
    }
    Ok(out)
}

/// The request's absolute URL without `page`/`page_size`, for links.
pub fn self_url(base: &str, req: &HttpRequest) -> String {
    let kept: Vec<String> = super::query_pairs(req)
        .into_iter()
        .filter(|(k, _)| k != "page" && k != "page_size")
        .map(|(k, v)| format!("{k}={}", encode(&v)))
        .collect();
    let path = req.path();
    let path = path.find("/v2/").map_or(path, |i| &path[i..]);
    if kept.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{}", kept.join("&"))
    }
}

/// Percent-encodes a query value.
pub fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
