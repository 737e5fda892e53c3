//! Paging. v3 (§2.4): `page` (from 1) and `limit` (default 50, max 250),
//! answered as `{"data": [...], "meta": {"pagination": {total, count,
//! per_page, current_page, total_pages, links}}}`; a page past the end is an
//! empty `data`. v2 (§2.3): the same parameters, a bare array, and 204 with
//! an empty body when the page is empty.

use actix_web::HttpResponse;
use serde_json::{json, Value};

use super::{param, Api, BcError, Settings};

/// The documented maximum of `limit`.
pub const MAX_LIMIT: u64 = 250;

/// A requested page.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// From 1.
    pub page: u64,
    /// Items per page.
    pub limit: u64,
}

impl Page {
    /// `page` and `limit` of the query; 413 above the maximum unless the
    /// store clamps (§2.1: 413 when the limit is above the maximum).
    pub fn of(q: &[(String, String)], settings: &Settings, api: Api) -> Result<Page, BcError> {
        let num = |name: &str, default: u64| -> Result<u64, BcError> {
            match param(q, name) {
                None | Some("") => Ok(default),
                Some(s) => s.trim().parse::<u64>().map_err(|_| {
                    BcError::new(api, 400, format!("The parameter '{name}' is not valid."))
                        .with(name, "must be a positive integer")
                }),
            }
        };
        let page = num("page", 1)?.max(1);
        let mut limit = num("limit", 50)?;
        if limit == 0 {
            limit = 50;
        }
        if limit > MAX_LIMIT {
            if settings.over_max_limit_is_413 {
                return Err(BcError::new(
                    api,
                    413,
                    format!("The limit cannot be greater than {MAX_LIMIT}."),
                ));
            }
            limit = MAX_LIMIT;
        }
        Ok(Page { page, limit })
    }

    /// This page of `items`.
    pub fn slice<T: Clone>(&self, items: &[T]) -> Vec<T> {
        let start = ((self.page - 1) * self.limit) as usize;
        items
            .iter()
            .skip(start)
            .take(self.limit as usize)
            .cloned()
            .collect()
    }
}

/// A v3 list answer of page `p` of `all` (already rendered).
pub fn v3_list(all: &[Value], p: Page, extra: Value) -> HttpResponse {
    let data = p.slice(all);
    let total = all.len() as u64;
    let total_pages = total.div_ceil(p.limit);
    let link = |page: u64| format!("?page={page}&limit={}", p.limit);
    let mut links = json!({ "current": link(p.page) });
    if p.page > 1 {
        links["previous"] = link(p.page - 1).into();
    }
    if p.page < total_pages {
        links["next"] = link(p.page + 1).into();
    }
    let mut meta = json!({
        "pagination": {
            "total": total,
            "count": data.len(),
            "per_page": p.limit,
            "current_page": p.page,
            "total_pages": total_pages,
            "links": links,
        }
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut meta, extra) {
        m.extend(e);
    }
    HttpResponse::Ok().json(json!({ "data": data, "meta": meta }))
}

/// A v2 list answer: the page as a bare array, 204 when it is empty.
pub fn v2_list(all: &[Value], p: Page) -> HttpResponse {
    let data = p.slice(all);
    if data.is_empty() {
        return HttpResponse::NoContent().finish();
    }
    HttpResponse::Ok().json(data)
}
