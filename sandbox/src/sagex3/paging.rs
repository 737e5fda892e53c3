//! Ordering and keyset positions shared by api1 and GraphQL.
//!
//! api1 pages with `key=gt.<lastKey>` (facts §2.1 [X3-Q-LV]: keyset, not
//! offsets) and GraphQL with Relay cursors such as `["AE020"]#73` (facts
//! §2.2): both name a position by the sort values of the last record seen,
//! so a record inserted or changed meanwhile neither shifts nor repeats a
//! page. The sort is the requested order plus the primary key.

use std::cmp::Ordering;

use serde_json::Value;

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix('-').unwrap_or(t);
            if !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
                && digits.chars().filter(|c| *c == '.').count() <= 1
                && !digits.starts_with('.')
            {
                t.parse().ok()
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Compares two values: numerically when both are numbers (or decimal
/// strings of the same kind), else as text; null first.
pub fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(_), _) | (_, Value::Number(_)) => match (as_number(a), as_number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => text(a).cmp(&text(b)),
        },
        (Value::String(x), Value::String(y)) => {
            // Decimal strings (GraphQL decimals) compare as numbers, unless
            // they are codes with leading zeros of different lengths.
            match (as_number(a), as_number(b)) {
                (Some(p), Some(q)) if x.contains('.') || y.contains('.') => {
                    p.partial_cmp(&q).unwrap_or(Ordering::Equal)
                }
                _ => x.cmp(y),
            }
        }
        _ => text(a).cmp(&text(b)),
    }
}

/// A value as text (strings bare).
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Compares two sort tuples under their directions.
pub fn cmp_tuple(a: &[Value], b: &[Value], dirs: &[Dir]) -> Ordering {
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        let o = cmp_values(x, y);
        let o = match dirs.get(i).copied().unwrap_or(Dir::Asc) {
            Dir::Asc => o,
            Dir::Desc => o.reverse(),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Sorts `rows` by the tuples `key` gives, under `dirs`.
pub fn sort_by<T>(rows: &mut [T], key: impl Fn(&T) -> Vec<Value>, dirs: &[Dir]) {
    rows.sort_by(|a, b| cmp_tuple(&key(a), &key(b), dirs));
}
