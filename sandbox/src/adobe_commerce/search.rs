//! `searchCriteria` (facts §3.3): filter groups (filters within a group are
//! OR, groups are AND), the condition types, `sortOrders`, `pageSize` (all
//! matches when absent) and 1-based `currentPage`; the answer is
//! `{"items", "search_criteria", "total_count"}`. Also the `fields`
//! projection (`fields=items[increment_id,entity_id],total_count`).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{MageError, PastEnd, Settings};

/// One filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub field: Option<String>,
    pub value: Option<String>,
    pub condition_type: Option<String>,
}

/// A parsed `searchCriteria`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Criteria {
    pub groups: Vec<Vec<Filter>>,
    pub sort: Vec<(String, bool)>,
    sort_echo: Vec<(Option<String>, Option<String>)>,
    pub page_size: Option<u64>,
    pub current_page: Option<u64>,
}

const CONDITIONS: [&str; 17] = [
    "eq", "finset", "from", "gt", "gteq", "in", "like", "lt", "lteq", "moreq", "neq", "nfinset",
    "nin", "nlike", "notnull", "null", "to",
];

/// Splits `searchCriteria[a][0][b]` into `["a", "0", "b"]`.
fn path_of(key: &str) -> Option<Vec<String>> {
    let rest = key.strip_prefix("searchCriteria")?;
    let mut parts = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        parts.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    Some(parts)
}

fn int(name: &str, value: &str) -> Result<u64, MageError> {
    value
        .trim()
        .parse::<i64>()
        .map(|n| n.max(0) as u64)
        .map_err(|_| MageError::invalid(name, value))
}

impl Criteria {
    /// Parses the `searchCriteria[...]` pairs of the query. A listing
    /// without any `searchCriteria` parameter is refused as Magento does:
    /// 400 `"%fieldName" is required` with `searchCriteria`.
    pub fn parse(pairs: &[(String, String)], settings: &Settings) -> Result<Criteria, MageError> {
        let mut seen = false;
        let mut groups: BTreeMap<u64, BTreeMap<u64, Filter>> = BTreeMap::new();
        let mut sorts: BTreeMap<u64, (Option<String>, Option<String>)> = BTreeMap::new();
        let mut c = Criteria::default();
        for (key, value) in pairs {
            let Some(path) = path_of(key) else { continue };
            seen = true;
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            match p.as_slice() {
                [] => {}
                ["pageSize"] => c.page_size = Some(int("pageSize", value)?),
                ["currentPage"] => c.current_page = Some(int("currentPage", value)?),
                ["filter_groups" | "filterGroups", g, "filters", f, member] => {
                    let g = int("filter_groups", g)?;
                    let f = int("filters", f)?;
                    let filter = groups.entry(g).or_default().entry(f).or_default();
                    match *member {
                        "field" => filter.field = Some(value.clone()),
                        "value" => filter.value = Some(value.clone()),
                        "condition_type" | "conditionType" => {
                            filter.condition_type = Some(value.clone())
                        }
                        _ => {}
                    }
                }
                ["sortOrders" | "sort_orders", k, member] => {
                    let k = int("sortOrders", k)?;
                    let sort = sorts.entry(k).or_default();
                    match *member {
                        "field" => sort.0 = Some(value.clone()),
                        "direction" => sort.1 = Some(value.clone()),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        if !seen {
            return Err(MageError::required("searchCriteria"));
        }
        for filters in groups.into_values() {
            let mut group = Vec::new();
            for filter in filters.into_values() {
                let condition = filter.condition_type.as_deref().unwrap_or("eq");
                if !CONDITIONS.contains(&condition) {
                    return Err(MageError::invalid("condition_type", condition));
                }
                if filter.field.as_deref().is_none_or(str::is_empty) {
                    return Err(MageError::required("field"));
                }
                group.push(filter);
            }
            c.groups.push(group);
        }
        for (field, direction) in sorts.into_values() {
            let ascending = match direction.as_deref().map(str::to_ascii_uppercase).as_deref() {
                None | Some("ASC") => true,
                Some("DESC") => false,
                Some(other) => {
                    return Err(MageError::invalid("direction", other));
                }
            };
            if let Some(f) = &field {
                c.sort.push((f.clone(), ascending));
            }
            c.sort_echo.push((field, direction));
        }
        if settings.input_limit_enabled {
            if c.page_size.is_some_and(|n| n > settings.max_page_size) {
                return Err(
                    MageError::new(400, "Maximum SearchCriteria pageSize is %max")
                        .with(json!({ "max": settings.max_page_size })),
                );
            }
            if c.page_size.is_none() {
                c.page_size = Some(settings.default_page_size);
            }
        }
        Ok(c)
    }

    /// The `search_criteria` echo.
    fn echo(&self) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| {
                let filters: Vec<Value> = g
                    .iter()
                    .map(|f| {
                        let mut o = Map::new();
                        if let Some(v) = &f.field {
                            o.insert("field".into(), v.clone().into());
                        }
                        if let Some(v) = &f.value {
                            o.insert("value".into(), v.clone().into());
                        }
                        if let Some(v) = &f.condition_type {
                            o.insert("condition_type".into(), v.clone().into());
                        }
                        Value::Object(o)
                    })
                    .collect();
                json!({ "filters": filters })
            })
            .collect();
        let mut echo = json!({ "filter_groups": groups });
        if !self.sort_echo.is_empty() {
            echo["sort_orders"] = self
                .sort_echo
                .iter()
                .map(|(f, d)| {
                    let mut o = Map::new();
                    if let Some(f) = f {
                        o.insert("field".into(), f.clone().into());
                    }
                    o.insert(
                        "direction".into(),
                        d.clone()
                            .map_or("ASC".into(), |d| d.to_ascii_uppercase())
                            .into(),
                    );
                    Value::Object(o)
                })
                .collect();
        }
        if let Some(n) = self.page_size {
            echo["page_size"] = n.into();
        }
        if let Some(n) = self.current_page {
            echo["current_page"] = n.into();
        }
        echo
    }

    /// Filters, sorts (by `key` last, the primary key) and pages `rows`;
    /// the full answer envelope. A field a row does not have is an SQL error
    /// on a real store: 500 with Magento's generic message.
    pub fn answer(
        &self,
        rows: Vec<Value>,
        key: &str,
        known: &[&str],
        settings: &Settings,
    ) -> Result<Value, MageError> {
        for f in self.groups.iter().flatten() {
            let field = f.field.as_deref().unwrap_or_default();
            if !known.contains(&field) {
                return Err(internal_error());
            }
        }
        for (field, _) in &self.sort {
            if !known.contains(&field.as_str()) {
                return Err(internal_error());
            }
        }
        let mut rows: Vec<Value> = rows
            .into_iter()
            .filter(|row| {
                self.groups
                    .iter()
                    .all(|g| g.iter().any(|f| matches_filter(row, f)))
            })
            .collect();
        rows.sort_by(|a, b| {
            for (field, ascending) in &self.sort {
                let o = compare(a.get(field), b.get(field));
                let o = if *ascending { o } else { o.reverse() };
                if o != Ordering::Equal {
                    return o;
                }
            }
            compare(a.get(key), b.get(key))
        });
        let total = rows.len();
        let items: Vec<Value> = match self.page_size {
            None | Some(0) => rows,
            Some(size) => {
                let size = size as usize;
                let pages = total.div_ceil(size).max(1);
                let mut page = self.current_page.unwrap_or(1).max(1) as usize;
                if page > pages {
                    match settings.past_end {
                        // facts §3.7 pain point 1.
                        PastEnd::LastPage => page = pages,
                        PastEnd::Empty => page = usize::MAX,
                    }
                }
                if page == usize::MAX {
                    Vec::new()
                } else {
                    rows.into_iter()
                        .skip((page - 1) * size)
                        .take(size)
                        .collect()
                }
            }
        };
        Ok(json!({
            "items": items,
            "search_criteria": self.echo(),
            "total_count": total,
        }))
    }
}

/// Magento's answer to an exception it does not map (an SQL error).
pub(crate) fn internal_error() -> MageError {
    let report = uuid::Uuid::new_v4().simple().to_string();
    MageError::new(
        500,
        format!(
            "Internal Error. Details are available in Magento log file. Report ID: webapi-{}",
            &report[..13]
        ),
    )
}

/// A JSON scalar as the database would compare it: text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        other => Some(other.to_string()),
    }
}

/// MySQL-like comparison: numbers numerically, text case-insensitively.
fn cmp_text(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a.and_then(text), b.and_then(text)) {
        (Some(x), Some(y)) => cmp_text(&x, &y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// SQL `LIKE` with `%` and `_`, case-insensitive.
fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&t[i..], &p[1..])),
            Some('_') => !t.is_empty() && go(&t[1..], &p[1..]),
            Some(c) => t.first() == Some(c) && go(&t[1..], &p[1..]),
        }
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    go(&t, &p)
}

fn matches_filter(row: &Value, f: &Filter) -> bool {
    let field = f.field.as_deref().unwrap_or_default();
    let cell = row.get(field).and_then(text);
    let value = f.value.clone().unwrap_or_default();
    let list = || -> Vec<String> { value.split(',').map(|s| s.trim().to_string()).collect() };
    let cmp = |c: &str| cmp_text(c, &value);
    match f.condition_type.as_deref().unwrap_or("eq") {
        "null" => cell.is_none(),
        "notnull" => cell.is_some(),
        condition => {
            let Some(c) = cell else {
                // NULL compares false in SQL, negations included.
                return false;
            };
            match condition {
                "eq" => cmp(&c) == Ordering::Equal,
                "neq" => cmp(&c) != Ordering::Equal,
                "gt" => cmp(&c) == Ordering::Greater,
                "gteq" | "moreq" | "from" => cmp(&c) != Ordering::Less,
                "lt" => cmp(&c) == Ordering::Less,
                "lteq" | "to" => cmp(&c) != Ordering::Greater,
                "like" => like(&c, &value),
                "nlike" => !like(&c, &value),
                "in" => list().iter().any(|v| cmp_text(&c, v) == Ordering::Equal),
                "nin" => !list().iter().any(|v| cmp_text(&c, v) == Ordering::Equal),
                "finset" => c.split(',').any(|p| p.trim() == value),
                "nfinset" => !c.split(',').any(|p| p.trim() == value),
                _ => false,
            }
        }
    }
}

/// A `fields` projection: `a,b[c,d[e]]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fields(Vec<(String, Option<Fields>)>);

impl Fields {
    /// Parses the `fields` parameter; `None` when empty.
    pub fn parse(s: &str) -> Option<Fields> {
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        let f = Fields::parse_list(&chars, &mut i);
        (!f.0.is_empty()).then_some(f)
    }

    fn parse_list(c: &[char], i: &mut usize) -> Fields {
        let mut out = Vec::new();
        let mut name = String::new();
        while *i < c.len() {
            let ch = c[*i];
            *i += 1;
            match ch {
                '[' => {
                    let sub = Fields::parse_list(c, i);
                    out.push((std::mem::take(&mut name).trim().to_string(), Some(sub)));
                }
                ']' => break,
                ',' => {
                    if !name.trim().is_empty() {
                        out.push((std::mem::take(&mut name).trim().to_string(), None));
                    }
                    name.clear();
                }
                _ => name.push(ch),
            }
        }
        if !name.trim().is_empty() {
            out.push((name.trim().to_string(), None));
        }
        Fields(out)
    }

    /// Keeps only the named members (arrays are projected element-wise).
    pub fn apply(&self, v: &Value) -> Value {
        match v {
            Value::Array(a) => Value::Array(a.iter().map(|e| self.apply(e)).collect()),
            Value::Object(o) => {
                let mut out = Map::new();
                for (name, sub) in &self.0 {
                    if let Some(m) = o.get(name) {
                        out.insert(
                            name.clone(),
                            sub.as_ref().map_or_else(|| m.clone(), |s| s.apply(m)),
                        );
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_and_fields() {
        assert!(like("A1-100/0", "a1-%"));
        assert!(!like("B1-100/0", "a1-%"));
        let f = Fields::parse("items[increment_id,entity_id],total_count").unwrap();
        let v = json!({"items": [{"increment_id": "1", "entity_id": 1, "x": 2}], "total_count": 1, "search_criteria": {}});
        assert_eq!(
            f.apply(&v),
            json!({"items": [{"increment_id": "1", "entity_id": 1}], "total_count": 1})
        );
    }
}
