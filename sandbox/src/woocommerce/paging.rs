//! Collection parameters and paging (facts §1.3): `page`, `per_page`
//! (default 10, 1..=100), `offset`, `order`, `orderby`, `include`,
//! `exclude`, `search`, `after`/`before`, `modified_after`/`modified_before`,
//! `dates_are_gmt`; answers carry `X-WP-Total`, `X-WP-TotalPages` and
//! `Link` rel prev/next.

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

use super::{query_pairs, WcError};

/// A date bound from the query: the instant and whether it carried an
/// offset (then it is compared in GMT whatever `dates_are_gmt` says).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateBound {
    pub at: NaiveDateTime,
    pub explicit_utc: bool,
}

/// The common collection parameters.
#[derive(Debug, Clone)]
pub(crate) struct ListParams {
    pub pairs: Vec<(String, String)>,
    pub page: usize,
    pub per_page: usize,
    pub offset: Option<usize>,
    /// `true` for ascending; `None` when not given.
    pub ascending: Option<bool>,
    pub orderby: Option<String>,
    pub include: Vec<u64>,
    pub exclude: Vec<u64>,
    pub search: Option<String>,
    pub after: Option<DateBound>,
    pub before: Option<DateBound>,
    pub modified_after: Option<DateBound>,
    pub modified_before: Option<DateBound>,
    pub dates_are_gmt: bool,
}

fn int_param(pairs: &[(String, String)], name: &str) -> Result<Option<i64>, WcError> {
    match pairs.iter().rev().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => {
            v.trim().parse::<i64>().map(Some).map_err(|_| {
                WcError::invalid_param(name, format!("{name} is not of type integer."))
            })
        }
    }
}

/// WordPress's `rest_parse_date`: ISO-8601 with or without offset.
pub(crate) fn parse_date(name: &str, value: &str) -> Result<DateBound, WcError> {
    let value = value.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(value) {
        return Ok(DateBound {
            at: d.naive_utc(),
            explicit_utc: true,
        });
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(value, fmt) {
            return Ok(DateBound {
                at,
                explicit_utc: false,
            });
        }
    }
    Err(WcError::invalid_param(name, "Invalid date."))
}

impl ListParams {
    /// Parses and validates the common parameters.
    pub fn parse(req: &HttpRequest) -> Result<ListParams, WcError> {
        let pairs = query_pairs(req);
        let per_page = int_param(&pairs, "per_page")?.unwrap_or(10);
        if !(1..=100).contains(&per_page) {
            return Err(WcError::invalid_param(
                "per_page",
                "per_page must be between 1 (inclusive) and 100 (inclusive)",
            ));
        }
        let page = int_param(&pairs, "page")?.unwrap_or(1);
        if page < 1 {
            return Err(WcError::invalid_param(
                "page",
                "page must be greater than or equal to 1",
            ));
        }
        let offset = int_param(&pairs, "offset")?;
        let mut params = ListParams {
            pairs,
            page: page as usize,
            per_page: per_page as usize,
            offset: offset.map(|o| o.max(0) as usize),
            ascending: None,
            orderby: None,
            include: Vec::new(),
            exclude: Vec::new(),
            search: None,
            after: None,
            before: None,
            modified_after: None,
            modified_before: None,
            dates_are_gmt: false,
        };
        params.ascending = match params.get("order") {
            None => None,
            Some("asc") => Some(true),
            Some("desc") => Some(false),
            Some(_) => {
                return Err(WcError::invalid_param(
                    "order",
                    "order is not one of asc and desc.",
                ))
            }
        };
        params.orderby = params.get("orderby").map(str::to_string);
        params.include = params.ids("include")?;
        params.exclude = params.ids("exclude")?;
        params.search = params
            .get("search")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        params.after = params.date("after")?;
        params.before = params.date("before")?;
        params.modified_after = params.date("modified_after")?;
        params.modified_before = params.date("modified_before")?;
        params.dates_are_gmt = matches!(params.get("dates_are_gmt"), Some("1" | "true"));
        Ok(params)
    }

    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A list parameter: `name=a,b` or `name[]=a&name[]=b`.
    pub fn list(&self, name: &str) -> Vec<String> {
        let bracket = format!("{name}[");
        self.pairs
            .iter()
            .filter(|(k, _)| k == name || k.starts_with(&bracket))
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// A list of ids.
    pub fn ids(&self, name: &str) -> Result<Vec<u64>, WcError> {
        self.list(name)
            .iter()
            .map(|s| {
                s.parse::<u64>().map_err(|_| {
                    WcError::invalid_param(name, format!("{name}[0] is not of type integer."))
                })
            })
            .collect()
    }

    fn date(&self, name: &str) -> Result<Option<DateBound>, WcError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| parse_date(name, v))
            .transpose()
    }

    /// Whether a resource dated `gmt` (local `local`) passes `after`/`before`
    /// style bounds (exclusive, as WP's date query).
    pub fn dates_pass(
        &self,
        after: Option<DateBound>,
        before: Option<DateBound>,
        gmt: NaiveDateTime,
        local: NaiveDateTime,
    ) -> bool {
        let pick = |b: &DateBound| {
            if b.explicit_utc || self.dates_are_gmt {
                gmt
            } else {
                local
            }
        };
        after.is_none_or(|b| pick(&b) > b.at) && before.is_none_or(|b| pick(&b) < b.at)
    }

    /// Whether `id` passes `include`/`exclude`.
    pub fn id_passes(&self, id: u64) -> bool {
        (self.include.is_empty() || self.include.contains(&id)) && !self.exclude.contains(&id)
    }
}

/// One page of `items` (already filtered and sorted) with WordPress's
/// paging headers.
pub(crate) fn respond(req: &HttpRequest, params: &ListParams, items: Vec<Value>) -> HttpResponse {
    let total = items.len();
    let start = params.offset.unwrap_or((params.page - 1) * params.per_page);
    let page: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(params.per_page)
        .collect();
    let max_pages = total.div_ceil(params.per_page);
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("X-WP-Total", total.to_string()))
        .insert_header(("X-WP-TotalPages", max_pages.to_string()));
    let info = req.connection_info();
    let others: Vec<String> = params
        .pairs
        .iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| {
            format!(
                "{}={}",
                super::auth::rawurlencode(k),
                super::auth::rawurlencode(v)
            )
        })
        .collect();
    let link_to = |n: usize| {
        let mut query = others.clone();
        query.push(format!("page={n}"));
        format!(
            "<{}://{}{}?{}>",
            info.scheme(),
            info.host(),
            req.path(),
            query.join("&")
        )
    };
    let mut links = Vec::new();
    if params.page > 1 {
        links.push(format!(
            "{}; rel=\"prev\"",
            link_to((params.page - 1).min(max_pages.max(1)))
        ));
    }
    if max_pages > params.page {
        links.push(format!("{}; rel=\"next\"", link_to(params.page + 1)));
    }
    if !links.is_empty() {
        response.insert_header(("Link", links.join(", ")));
    }
    response.json(page)
}
