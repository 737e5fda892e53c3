//! api1's `where=` predicates (facts §2.1 [X3-Q]): `left(BPCNAM,4) eq 'Test'`,
//! `CREDATTIM ge @2025-06-06T00:00:01Z@ and STOFCY eq 'NYMT'`.
//!
//! Served: `eq ne lt le gt ge like` (`like` with `%` wildcards), `and`,
//! `or`, `not`, parentheses, `'text'` (`''` escapes a quote), numbers,
//! `@date@` / `@date-time@` literals, `true`/`false`/`null`, and the
//! functions `left`, `right`, `upper`, `lower`, `len`, `trim`. A property
//! the `$query` facet does not have is [`WhereError::UnknownProperty`]
//! (HTTP 500 on X3 endpoints, facts §2.1 [X3-GETQ]); other syntax errors
//! are [`WhereError::Syntax`] (decision: 400).

use std::cmp::Ordering;

use serde_json::Value;

use super::paging::{cmp_values, text};

/// Why a predicate cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum WhereError {
    /// A property the facet does not have.
    UnknownProperty(String),
    /// Anything else.
    Syntax(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Date(String),
    LParen,
    RParen,
    Comma,
}

fn lex(input: &str) -> Result<Vec<Tok>, WhereError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(WhereError::Syntax("unterminated string".into())),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '@' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|ch| *ch == '@')
                    .ok_or_else(|| WhereError::Syntax("unterminated @date@ literal".into()))?;
                let lit: String = chars[i + 1..i + 1 + end].iter().collect();
                if chrono::NaiveDate::parse_from_str(lit.get(..10).unwrap_or(""), "%Y-%m-%d")
                    .is_err()
                {
                    return Err(WhereError::Syntax(format!("invalid date literal @{lit}@")));
                }
                out.push(Tok::Date(lit));
                i += end + 2;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Tok::Num(
                    s.parse()
                        .map_err(|_| WhereError::Syntax(format!("bad number {s}")))?,
                ));
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => {
                return Err(WhereError::Syntax(format!(
                    "unexpected character '{other}'"
                )))
            }
        }
    }
    Ok(out)
}

/// A parsed predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// Not.
    Not(Box<Expr>),
    /// A comparison.
    Cmp(Operand, String, Operand),
}

/// A side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A property.
    Field(String),
    /// A literal.
    Lit(Value),
    /// A function call.
    Call(String, Vec<Operand>),
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    fields: &'a dyn Fn(&str) -> bool,
}

impl Parser<'_> {
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Expr, WhereError> {
        let mut left = self.and()?;
        while self.peek_kw("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, WhereError> {
        let mut left = self.not()?;
        while self.peek_kw("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, WhereError> {
        if self.peek_kw("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.toks.get(self.pos) == Some(&Tok::LParen) {
            // A parenthesised predicate (not a parenthesised operand).
            let save = self.pos;
            self.pos += 1;
            if let Ok(e) = self.or() {
                if self.toks.get(self.pos) == Some(&Tok::RParen) {
                    self.pos += 1;
                    return Ok(e);
                }
            }
            self.pos = save;
        }
        let left = self.operand()?;
        let op = match self.toks.get(self.pos) {
            Some(Tok::Ident(s)) => s.to_ascii_lowercase(),
            other => {
                return Err(WhereError::Syntax(format!(
                    "expected an operator, found {other:?}"
                )))
            }
        };
        if !["eq", "ne", "lt", "le", "gt", "ge", "like"].contains(&op.as_str()) {
            return Err(WhereError::Syntax(format!("unknown operator '{op}'")));
        }
        self.pos += 1;
        let right = self.operand()?;
        Ok(Expr::Cmp(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, WhereError> {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Str(s)) => Ok(Operand::Lit(Value::String(s))),
            Some(Tok::Date(s)) => Ok(Operand::Lit(Value::String(s))),
            Some(Tok::Num(n)) => Ok(Operand::Lit(serde_json::json!(n))),
            Some(Tok::Ident(name)) => {
                if self.toks.get(self.pos) == Some(&Tok::LParen) {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if self.toks.get(self.pos) != Some(&Tok::RParen) {
                        loop {
                            args.push(self.operand()?);
                            match self.toks.get(self.pos) {
                                Some(Tok::Comma) => self.pos += 1,
                                Some(Tok::RParen) => break,
                                _ => return Err(WhereError::Syntax("expected ',' or ')'".into())),
                            }
                        }
                    }
                    self.pos += 1;
                    let f = name.to_ascii_lowercase();
                    if !["left", "right", "upper", "lower", "len", "trim"].contains(&f.as_str()) {
                        return Err(WhereError::Syntax(format!("unknown function '{name}'")));
                    }
                    return Ok(Operand::Call(f, args));
                }
                match name.to_ascii_lowercase().as_str() {
                    "true" => return Ok(Operand::Lit(Value::Bool(true))),
                    "false" => return Ok(Operand::Lit(Value::Bool(false))),
                    "null" => return Ok(Operand::Lit(Value::Null)),
                    _ => {}
                }
                if !(self.fields)(&name) {
                    return Err(WhereError::UnknownProperty(name));
                }
                Ok(Operand::Field(name))
            }
            other => Err(WhereError::Syntax(format!(
                "expected an operand, found {other:?}"
            ))),
        }
    }
}

/// Parses `input`; `fields` says which properties exist.
pub fn parse(input: &str, fields: &dyn Fn(&str) -> bool) -> Result<Expr, WhereError> {
    let toks = lex(input)?;
    let mut p = Parser {
        toks,
        pos: 0,
        fields,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(WhereError::Syntax(format!(
            "unexpected {:?}",
            p.toks[p.pos]
        )));
    }
    Ok(e)
}

fn value(op: &Operand, row: &Value) -> Value {
    match op {
        Operand::Field(f) => row.get(f).cloned().unwrap_or(Value::Null),
        Operand::Lit(v) => v.clone(),
        Operand::Call(f, args) => {
            let a = args.first().map(|a| value(a, row)).unwrap_or(Value::Null);
            let s = text(&a);
            let n = args
                .get(1)
                .map(|a| value(a, row))
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0) as usize;
            match f.as_str() {
                "left" => Value::String(s.chars().take(n).collect()),
                "right" => {
                    let count = s.chars().count();
                    Value::String(s.chars().skip(count.saturating_sub(n)).collect())
                }
                "upper" => Value::String(s.to_uppercase()),
                "lower" => Value::String(s.to_lowercase()),
                "trim" => Value::String(s.trim().to_string()),
                _ => serde_json::json!(s.chars().count()),
            }
        }
    }
}

fn like(s: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return s == pattern;
    }
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Whether `row` satisfies `expr`.
pub fn eval(expr: &Expr, row: &Value) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, row) && eval(b, row),
        Expr::Or(a, b) => eval(a, row) || eval(b, row),
        Expr::Not(a) => !eval(a, row),
        Expr::Cmp(l, op, r) => {
            let (a, b) = (value(l, row), value(r, row));
            if op == "like" {
                return like(&text(&a), &text(&b));
            }
            let o = cmp_values(&a, &b);
            match op.as_str() {
                "eq" => o == Ordering::Equal,
                "ne" => o != Ordering::Equal,
                "lt" => o == Ordering::Less,
                "le" => o != Ordering::Greater,
                "gt" => o == Ordering::Greater,
                _ => o != Ordering::Less,
            }
        }
    }
}
