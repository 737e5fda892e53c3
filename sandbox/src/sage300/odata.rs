//! OData query options and the feed envelope (facts §1.6): `$filter`,
//! `$select`, `$top`, `$skip`, `$orderby`, `$count=true` (v4) and
//! `$inlinecount=allpages` (v3); each option at most once; a page is at most
//! [`Variants::page_size`] records (100), and a full page with more to come
//! carries a next link. Also entity keys in the URL (facts §1.1).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use super::errors::SageError;
use super::filter::{self, Expr};
use super::variants::{CountStyle, DateStyle, Variants};

/// The query options of one GET.
#[derive(Debug, Default)]
pub struct Query {
    /// `$filter`, parsed.
    pub filter: Option<Expr>,
    /// `$select` property names.
    pub select: Option<Vec<String>>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip`.
    pub skip: usize,
    /// `$orderby`: property, descending.
    pub orderby: Vec<(String, bool)>,
    /// `$count=true` or `$inlinecount=allpages`.
    pub count: bool,
    /// The options that are not paging ones, to carry into the next link.
    carried: Vec<(String, String)>,
}

/// Decodes `%xx` and `+` of a query-string part.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'$'
            | b','
            | b'\''
            | b'('
            | b')'
            | b':' => out.push(b as char),
            b' ' => out.push_str("%20"),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Query {
    /// Parses the raw query string against the entity's property names.
    pub fn parse(raw: &str, fields: &[String], variants: &Variants) -> Result<Query, SageError> {
        let mut query = Query::default();
        let mut seen: Vec<String> = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let key = decode(key);
            let value = decode(value);
            if !key.starts_with('$') {
                query.carried.push((key, value));
                continue;
            }
            // Facts §1.6: each query option may appear once per request.
            if seen.contains(&key) {
                return Err(SageError::invalid_parameters(format!(
                    "Query option '{key}' was specified more than once, but it must be specified at most once."
                )));
            }
            seen.push(key.clone());
            let number = |v: &str| {
                v.trim().parse::<usize>().map_err(|_| {
                    SageError::invalid_parameters(format!(
                        "Invalid value '{v}' for the query option {key}."
                    ))
                })
            };
            match key.as_str() {
                "$filter" => {
                    query.filter = Some(filter::parse(&value, fields, variants.date_literals)?);
                    query.carried.push((key, value));
                }
                "$select" => {
                    let names: Vec<String> = value
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    for name in &names {
                        if name != "*" && !fields.contains(name) {
                            return Err(SageError::invalid_parameters(format!(
                                "Could not find a property named '{name}'."
                            )));
                        }
                    }
                    if !names.iter().any(|n| n == "*") {
                        query.select = Some(names);
                    }
                    query.carried.push((key, value));
                }
                "$orderby" => {
                    for clause in value.split(',') {
                        let mut words = clause.split_whitespace();
                        let name = words.next().unwrap_or_default().to_string();
                        let desc = match words.next() {
                            None | Some("asc") => false,
                            Some("desc") => true,
                            Some(other) => {
                                return Err(SageError::invalid_parameters(format!(
                                    "Invalid $orderby direction '{other}'."
                                )))
                            }
                        };
                        if !fields.contains(&name) {
                            return Err(SageError::invalid_parameters(format!(
                                "Could not find a property named '{name}'."
                            )));
                        }
                        query.orderby.push((name, desc));
                    }
                    query.carried.push((key, value));
                }
                "$top" => query.top = Some(number(&value)?),
                "$skip" => query.skip = number(&value)?,
                "$count" => {
                    query.count = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(SageError::invalid_parameters(format!(
                                "Invalid value '{value}' for $count."
                            )))
                        }
                    };
                    query.carried.push((key, value));
                }
                "$inlinecount" => {
                    query.count = match value.as_str() {
                        "allpages" => true,
                        "none" => false,
                        _ => {
                            return Err(SageError::invalid_parameters(format!(
                                "Invalid value '{value}' for $inlinecount."
                            )))
                        }
                    };
                    query.carried.push((key, value));
                }
                "$format" => query.carried.push((key, value)),
                // $expand is UNVERIFIED (facts §1.6), and details are complex
                // types already in every answer (facts §1.1).
                _ => {
                    return Err(SageError::invalid_parameters(format!(
                        "The query parameter '{key}' is not supported."
                    )))
                }
            }
        }
        Ok(query)
    }
}

/// What a feed or entity answer needs to know about the request.
pub struct Context<'a> {
    /// The request (for absolute links).
    pub req: &'a HttpRequest,
    /// The company in the URL.
    pub company: &'a str,
    /// The module in the URL.
    pub module: &'a str,
    /// The entity set.
    pub set: &'a str,
    /// The variants in force.
    pub variants: &'a Variants,
}

impl Context<'_> {
    fn root(&self) -> String {
        let info = self.req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    }

    fn metadata(&self) -> String {
        format!(
            "{}/sage300{}{}/{}/$metadata",
            self.root(),
            super::BASE_PATH,
            self.company,
            self.module
        )
    }

    fn annotation(&self, name: &str) -> String {
        match self.variants.count_style {
            CountStyle::V4 => format!("@odata.{name}"),
            CountStyle::V3 => format!("odata.{name}"),
        }
    }

    /// A single entity, as GET by key or POST answers it.
    pub fn entity(&self, status: StatusCode, row: Map<String, Value>) -> HttpResponse {
        let mut out = Map::new();
        out.insert(
            self.annotation("context"),
            format!("{}#{}/$entity", self.metadata(), self.set).into(),
        );
        for (k, v) in row {
            out.insert(k, v);
        }
        let mut value = Value::Object(out);
        restyle_dates(&mut value, self.variants.date_style);
        HttpResponse::build(status).json(value)
    }

    /// A page of a feed: filter, count, order, skip, top (capped at the
    /// page size), select.
    pub fn feed(
        &self,
        rows: Vec<Map<String, Value>>,
        query: &Query,
    ) -> Result<HttpResponse, SageError> {
        let mut rows = match &query.filter {
            Some(expr) => {
                let mut kept = Vec::new();
                for row in rows {
                    if filter::matches(expr, &row)? {
                        kept.push(row);
                    }
                }
                kept
            }
            None => rows,
        };
        let total = rows.len();
        if !query.orderby.is_empty() {
            rows.sort_by(|a, b| {
                for (name, desc) in &query.orderby {
                    let o = cmp_json(a.get(name), b.get(name));
                    let o = if *desc { o.reverse() } else { o };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let page_size = self.variants.page_size.max(1);
        let wanted = query.top.unwrap_or(usize::MAX);
        let take = wanted.min(page_size);
        let page: Vec<Map<String, Value>> = rows.into_iter().skip(query.skip).take(take).collect();
        let returned = page.len();
        let remaining_after = total.saturating_sub(query.skip + returned);
        let more_wanted = wanted.saturating_sub(returned);

        let mut out = Map::new();
        let context = match &query.select {
            Some(names) => format!("{}#{}({})", self.metadata(), self.set, names.join(",")),
            None => format!("{}#{}", self.metadata(), self.set),
        };
        out.insert(self.annotation("context"), context.into());
        if query.count {
            let count = match self.variants.count_style {
                CountStyle::V4 => Value::from(total),
                // The Developer Reference sample writes it as a string: "625".
                CountStyle::V3 => Value::from(total.to_string()),
            };
            out.insert(self.annotation("count"), count);
        }
        let value: Vec<Value> = page
            .into_iter()
            .map(|row| match &query.select {
                Some(names) => Value::Object(
                    names
                        .iter()
                        .filter_map(|n| row.get(n).map(|v| (n.clone(), v.clone())))
                        .collect(),
                ),
                None => Value::Object(row),
            })
            .collect();
        out.insert("value".into(), Value::Array(value));
        if self.variants.next_link
            && returned == page_size
            && remaining_after > 0
            && more_wanted > 0
        {
            out.insert(
                self.annotation("nextLink"),
                self.next_link(query, returned, more_wanted).into(),
            );
        }
        let mut body = Value::Object(out);
        restyle_dates(&mut body, self.variants.date_style);
        Ok(HttpResponse::Ok().json(body))
    }

    fn next_link(&self, query: &Query, returned: usize, more_wanted: usize) -> String {
        let mut params: Vec<String> = query
            .carried
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        if query.top.is_some() {
            params.push(format!("$top={more_wanted}"));
        }
        params.push(format!("$skip={}", query.skip + returned));
        format!("{}{}?{}", self.root(), self.req.path(), params.join("&"))
    }
}

fn cmp_json(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
    }
}

/// Writes stored dates (`...T00:00:00Z`) per the date style.
fn restyle_dates(value: &mut Value, style: DateStyle) {
    if style == DateStyle::Offset {
        return;
    }
    match value {
        Value::String(s)
            if s.len() == 20 && s.ends_with("T00:00:00Z") && s.as_bytes()[4] == b'-' =>
        {
            s.pop();
        }
        Value::Array(items) => items.iter_mut().for_each(|v| restyle_dates(v, style)),
        Value::Object(map) => map.values_mut().for_each(|v| restyle_dates(v, style)),
        _ => {}
    }
}

/// An entity key from the URL: `('1200')`, `(66)`, `(BatchNumber = 65)`,
/// `(BatchRecordType = 'CA', BatchNumber = 65)` (facts §1.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Key(pub Vec<(Option<String>, String)>);

impl Key {
    /// Parses the text inside the parentheses.
    pub fn parse(inner: &str) -> Result<Key, SageError> {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        let chars: Vec<char> = inner.chars().collect();
        let mut i = 0;
        let mut pieces = Vec::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if quoted && chars.get(i + 1) == Some(&'\'') {
                    current.push('\'');
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                current.push(c);
            } else if c == ',' && !quoted {
                pieces.push(std::mem::take(&mut current));
            } else {
                current.push(c);
            }
            i += 1;
        }
        if quoted {
            return Err(SageError::invalid_key(format!(
                "The key '({inner})' has an unterminated quote."
            )));
        }
        pieces.push(current);
        for piece in pieces {
            let piece = piece.trim();
            let (name, value) = match piece.split_once('=') {
                Some((n, v)) if !n.trim().starts_with('\'') => {
                    (Some(n.trim().to_string()), v.trim())
                }
                _ => (None, piece),
            };
            let value = if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
                value[1..value.len() - 1].to_string()
            } else {
                value.to_string()
            };
            if value.is_empty() {
                return Err(SageError::invalid_key(format!(
                    "The key '({inner})' is empty."
                )));
            }
            parts.push((name, value));
        }
        Ok(Key(parts))
    }

    /// Whether the entity (as JSON) has this key, given the key properties
    /// in metadata order.
    pub fn matches(&self, keys: &[&str], row: &Map<String, Value>) -> Result<bool, SageError> {
        if self.0.len() != keys.len() {
            return Err(SageError::invalid_key(format!(
                "The key must have {} value(s): {}.",
                keys.len(),
                keys.join(", ")
            )));
        }
        let named = self.0.iter().all(|(n, _)| n.is_some());
        let unnamed = self.0.iter().all(|(n, _)| n.is_none());
        if !named && !unnamed {
            return Err(SageError::invalid_key(
                "Either name every key property or none.",
            ));
        }
        for (i, (name, value)) in self.0.iter().enumerate() {
            let property = match name {
                Some(n) => keys.iter().find(|k| **k == n.as_str()).ok_or_else(|| {
                    SageError::invalid_key(format!("'{n}' is not a key property."))
                })?,
                None => &keys[i],
            };
            let actual = match row.get(*property) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            if actual != *value {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            Key::parse("'1200'").unwrap().0,
            vec![(None, "1200".to_string())]
        );
        assert_eq!(Key::parse("66").unwrap().0, vec![(None, "66".to_string())]);
        let k = Key::parse("BatchRecordType = 'CA', BatchNumber = 65").unwrap();
        assert_eq!(k.0[0], (Some("BatchRecordType".into()), "CA".into()));
        assert_eq!(k.0[1], (Some("BatchNumber".into()), "65".into()));
    }

    #[test]
    fn decoding() {
        assert_eq!(decode("a%20b+c%27"), "a b c'");
        assert_eq!(decode("100%"), "100%");
    }
}
