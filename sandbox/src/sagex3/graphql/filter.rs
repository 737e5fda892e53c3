//! The `filter` and `orderBy` arguments: a string holding a Mongo-style
//! object with bare keys and single-quoted strings (facts §2.2):
//! `"{code :'AE003'}"`, `"{orderDate: {$gt: '2017-01-10'}}"`,
//! `"{ soldToCustomer: { defaultAddress: { countryName: { $in: ['France','Deutschland'] } } } }"`,
//! `orderBy: "{code:-1}"`.
//!
//! Operators: `$eq $ne $gt $gte $lt $lte $in $nin`, and `$and`/`$or`
//! (arrays of filters). Filtering on a property the node does not have is
//! an error.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::sagex3::paging::{cmp_values, Dir};

/// Parses the loose object syntax into JSON.
pub fn parse_loose(src: &str) -> Result<Value, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let v = value(&chars, &mut i)?;
    skip(&chars, &mut i);
    if i != chars.len() {
        return Err(format!("unexpected '{}' at {i}", chars[i]));
    }
    Ok(v)
}

fn skip(c: &[char], i: &mut usize) {
    while *i < c.len() && c[*i].is_whitespace() {
        *i += 1;
    }
}

fn value(c: &[char], i: &mut usize) -> Result<Value, String> {
    skip(c, i);
    match c.get(*i) {
        None => Err("unexpected end".into()),
        Some('{') => {
            *i += 1;
            let mut m = Map::new();
            loop {
                skip(c, i);
                if c.get(*i) == Some(&'}') {
                    *i += 1;
                    return Ok(Value::Object(m));
                }
                let key = match c.get(*i) {
                    Some('\'') | Some('"') => match value(c, i)? {
                        Value::String(s) => s,
                        _ => return Err("bad key".into()),
                    },
                    _ => {
                        let start = *i;
                        while *i < c.len()
                            && (c[*i].is_alphanumeric() || c[*i] == '_' || c[*i] == '$')
                        {
                            *i += 1;
                        }
                        if start == *i {
                            return Err(format!("expected a key at {start}"));
                        }
                        c[start..*i].iter().collect()
                    }
                };
                skip(c, i);
                if c.get(*i) != Some(&':') {
                    return Err(format!("expected ':' after {key}"));
                }
                *i += 1;
                let v = value(c, i)?;
                m.insert(key, v);
                skip(c, i);
                match c.get(*i) {
                    Some(',') => *i += 1,
                    Some('}') => {}
                    _ => return Err("expected ',' or '}'".into()),
                }
            }
        }
        Some('[') => {
            *i += 1;
            let mut a = Vec::new();
            loop {
                skip(c, i);
                if c.get(*i) == Some(&']') {
                    *i += 1;
                    return Ok(Value::Array(a));
                }
                a.push(value(c, i)?);
                skip(c, i);
                match c.get(*i) {
                    Some(',') => *i += 1,
                    Some(']') => {}
                    _ => return Err("expected ',' or ']'".into()),
                }
            }
        }
        Some(q @ ('\'' | '"')) => {
            let q = *q;
            *i += 1;
            let mut s = String::new();
            while let Some(ch) = c.get(*i) {
                *i += 1;
                if *ch == '\\' {
                    if let Some(n) = c.get(*i) {
                        s.push(*n);
                        *i += 1;
                    }
                } else if *ch == q {
                    return Ok(Value::String(s));
                } else {
                    s.push(*ch);
                }
            }
            Err("unterminated string".into())
        }
        Some(_) => {
            let start = *i;
            while *i < c.len() && !",}] \t\n".contains(c[*i]) {
                *i += 1;
            }
            let word: String = c[start..*i].iter().collect();
            match word.as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                "null" => Ok(Value::Null),
                _ => serde_json::from_str::<Value>(&word)
                    .ok()
                    .filter(Value::is_number)
                    .ok_or_else(|| format!("unexpected '{word}'")),
            }
        }
    }
}

/// Whether `node` satisfies `filter`.
pub fn matches(node: &Value, filter: &Value) -> Result<bool, String> {
    let Value::Object(f) = filter else {
        return Err("a filter must be an object".into());
    };
    for (key, want) in f {
        let ok = match key.as_str() {
            "$and" | "_and" => {
                let list = want.as_array().ok_or("$and takes an array")?;
                let mut all = true;
                for w in list {
                    all &= matches(node, w)?;
                }
                all
            }
            "$or" | "_or" => {
                let list = want.as_array().ok_or("$or takes an array")?;
                let mut any = false;
                for w in list {
                    any |= matches(node, w)?;
                }
                any
            }
            field => {
                let Some(have) = node.get(field) else {
                    return Err(format!(
                        "Invalid filter: property \"{field}\" does not exist on this node"
                    ));
                };
                match want {
                    Value::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => {
                        let mut ok = true;
                        for (op, arg) in ops {
                            ok &= operator(have, op, arg)?;
                        }
                        ok
                    }
                    Value::Object(_) => {
                        if have.is_object() {
                            matches(have, want)?
                        } else {
                            return Err(format!("Invalid filter: \"{field}\" is not a reference"));
                        }
                    }
                    _ => {
                        let have = if have.is_object() {
                            have.get("code").unwrap_or(have)
                        } else {
                            have
                        };
                        cmp_values(have, want) == Ordering::Equal
                    }
                }
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn operator(have: &Value, op: &str, arg: &Value) -> Result<bool, String> {
    let o = || cmp_values(have, arg);
    Ok(match op {
        "$eq" => o() == Ordering::Equal,
        "$ne" => o() != Ordering::Equal,
        "$gt" => o() == Ordering::Greater,
        "$gte" => o() != Ordering::Less,
        "$lt" => o() == Ordering::Less,
        "$lte" => o() != Ordering::Greater,
        "$in" | "$nin" => {
            let list = arg
                .as_array()
                .ok_or_else(|| format!("{op} takes an array"))?;
            let found = list.iter().any(|v| cmp_values(have, v) == Ordering::Equal);
            found == (op == "$in")
        }
        other => return Err(format!("Invalid filter: unknown operator \"{other}\"")),
    })
}

/// The sort paths and directions of an `orderBy` string (`{code: -1}`,
/// nested `{soldToCustomer: {code: 1}}`), in the order written.
pub fn order_paths(src: &str) -> Result<Vec<(Vec<String>, Dir)>, String> {
    fn object(
        c: &[char],
        i: &mut usize,
        prefix: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, Dir)>,
    ) -> Result<(), String> {
        skip(c, i);
        if c.get(*i) != Some(&'{') {
            return Err("orderBy must be an object".into());
        }
        *i += 1;
        loop {
            skip(c, i);
            match c.get(*i) {
                Some('}') => {
                    *i += 1;
                    return Ok(());
                }
                Some(',') => {
                    *i += 1;
                    continue;
                }
                None => return Err("orderBy: unexpected end".into()),
                _ => {}
            }
            let start = *i;
            while *i < c.len() && !":{}, \t\n".contains(c[*i]) {
                *i += 1;
            }
            let key: String = c[start..*i].iter().collect();
            let key = key.trim_matches(|q| q == '\'' || q == '"').to_string();
            skip(c, i);
            if c.get(*i) != Some(&':') {
                return Err(format!("orderBy: expected ':' after {key}"));
            }
            *i += 1;
            skip(c, i);
            prefix.push(key.clone());
            if c.get(*i) == Some(&'{') {
                object(c, i, prefix, out)?;
            } else {
                let start = *i;
                while *i < c.len() && !",} \t\n".contains(c[*i]) {
                    *i += 1;
                }
                let word: String = c[start..*i].iter().collect();
                let dir = match word.as_str() {
                    "1" => Dir::Asc,
                    "-1" => Dir::Desc,
                    other => {
                        return Err(format!("orderBy: {key}: expected 1 or -1, found {other}"))
                    }
                };
                out.push((prefix.clone(), dir));
            }
            prefix.pop();
        }
    }
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    object(&chars, &mut i, &mut Vec::new(), &mut out)?;
    skip(&chars, &mut i);
    if i != chars.len() {
        return Err("orderBy: unexpected text after the object".into());
    }
    Ok(out)
}
