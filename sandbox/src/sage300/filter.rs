//! `$filter` (facts §1.6): operators `eq ne gt ge lt le and or not`,
//! functions `substringof`, `startswith`, `endswith`, `length` (plus v4
//! `contains`, `tolower`, `toupper`, `trim`), literals `'1200'` (with `''`
//! escaping), `99.99m` and `1000.00`, `true`/`false`/`null`, and dates both
//! as `datetime'2015-12-31T12:00'` (Developer Reference) and bare
//! `2016-12-31T12:00:00Z` (Postman collection), per [`DateLiterals`].

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::dates;
use super::errors::SageError;
use super::variants::DateLiterals;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A property of the entity.
    Prop(String),
    /// A literal.
    Lit(Val),
    /// `a op b` for a comparison.
    Cmp(Box<Expr>, Op, Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// A function call.
    Call(String, Vec<Expr>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// A date-time literal.
    Date(NaiveDateTime),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Val),
    Open,
    Close,
    Comma,
}

fn bad(message: impl Into<String>) -> SageError {
    SageError::invalid_parameters(message)
}

fn lex(text: &str, literals: DateLiterals) -> Result<Vec<Tok>, SageError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let read_quoted = |i: &mut usize| -> Result<String, SageError> {
        // at the opening quote
        *i += 1;
        let mut out = String::new();
        loop {
            match chars.get(*i) {
                None => return Err(bad("Unterminated string literal in $filter.")),
                Some('\'') if chars.get(*i + 1) == Some(&'\'') => {
                    out.push('\'');
                    *i += 2;
                }
                Some('\'') => {
                    *i += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(*c);
                    *i += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                tokens.push(Tok::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Tok::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Tok::Comma);
                i += 1;
            }
            '\'' => tokens.push(Tok::Lit(Val::Str(read_quoted(&mut i)?))),
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric()
                        || matches!(chars[i], '.' | ':' | '-' | '+'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let is_date = word.len() >= 10
                    && word.as_bytes().get(4) == Some(&b'-')
                    && word.as_bytes().get(7) == Some(&b'-');
                if is_date {
                    if literals == DateLiterals::V3 {
                        return Err(bad(format!(
                            "Unrecognized literal '{word}' in $filter: write dates as datetime'...'."
                        )));
                    }
                    let dt = dates::parse_datetime(&word)
                        .ok_or_else(|| bad(format!("Invalid date literal '{word}'.")))?;
                    tokens.push(Tok::Lit(Val::Date(dt)));
                } else {
                    let digits = word.trim_end_matches(['m', 'M', 'd', 'D', 'f', 'F', 'l', 'L']);
                    let n: f64 = digits
                        .parse()
                        .map_err(|_| bad(format!("Invalid number literal '{word}'.")))?;
                    tokens.push(Tok::Lit(Val::Num(n)));
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if chars.get(i) == Some(&'\'') {
                    let inner = read_quoted(&mut i)?;
                    match word.to_ascii_lowercase().as_str() {
                        "datetime" | "datetimeoffset" => {
                            if literals == DateLiterals::V4 {
                                return Err(bad(format!(
                                    "Unrecognized literal {word}'{inner}' in $filter: write dates as 2015-12-31T12:00:00Z."
                                )));
                            }
                            let dt = dates::parse_datetime(&inner).ok_or_else(|| {
                                bad(format!("Invalid date literal {word}'{inner}'."))
                            })?;
                            tokens.push(Tok::Lit(Val::Date(dt)));
                        }
                        _ => {
                            return Err(bad(format!("Unrecognized literal type {word}'{inner}'.")))
                        }
                    }
                    continue;
                }
                match word.as_str() {
                    "true" => tokens.push(Tok::Lit(Val::Bool(true))),
                    "false" => tokens.push(Tok::Lit(Val::Bool(false))),
                    "null" => tokens.push(Tok::Lit(Val::Null)),
                    _ => tokens.push(Tok::Ident(word)),
                }
            }
            other => {
                return Err(bad(format!(
                    "Syntax error at position {i} in $filter: '{other}'."
                )))
            }
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Tok>,
    pos: usize,
    fields: &'a [String],
}

impl Parser<'_> {
    fn peek_word(&self) -> Option<&str> {
        match self.tokens.get(self.pos) {
            Some(Tok::Ident(w)) => Some(w.as_str()),
            _ => None,
        }
    }

    fn or(&mut self) -> Result<Expr, SageError> {
        let mut left = self.and()?;
        while self.peek_word() == Some("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SageError> {
        let mut left = self.not()?;
        while self.peek_word() == Some("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, SageError> {
        if self.peek_word() == Some("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, SageError> {
        let left = self.primary()?;
        let op = match self.peek_word() {
            Some("eq") => Op::Eq,
            Some("ne") => Op::Ne,
            Some("gt") => Op::Gt,
            Some("ge") => Op::Ge,
            Some("lt") => Op::Lt,
            Some("le") => Op::Le,
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.primary()?;
        Ok(Expr::Cmp(Box::new(left), op, Box::new(right)))
    }

    fn primary(&mut self) -> Result<Expr, SageError> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match token {
            Some(Tok::Open) => {
                let inner = self.or()?;
                self.expect_close()?;
                Ok(inner)
            }
            Some(Tok::Lit(v)) => Ok(Expr::Lit(v)),
            Some(Tok::Ident(name)) if self.tokens.get(self.pos) == Some(&Tok::Open) => {
                self.pos += 1;
                let function = name.to_ascii_lowercase();
                let arity = match function.as_str() {
                    "substringof" | "startswith" | "endswith" | "contains" => 2,
                    "length" | "tolower" | "toupper" | "trim" => 1,
                    _ => return Err(bad(format!("Unknown function '{name}' in $filter."))),
                };
                let mut args = vec![self.or()?];
                while self.tokens.get(self.pos) == Some(&Tok::Comma) {
                    self.pos += 1;
                    args.push(self.or()?);
                }
                self.expect_close()?;
                if args.len() != arity {
                    return Err(bad(format!("Function '{name}' takes {arity} argument(s).")));
                }
                Ok(Expr::Call(function, args))
            }
            Some(Tok::Ident(name)) => {
                if !self.fields.contains(&name) {
                    return Err(bad(format!("Could not find a property named '{name}'.")));
                }
                Ok(Expr::Prop(name))
            }
            _ => Err(bad("Syntax error in $filter: expression expected.")),
        }
    }

    fn expect_close(&mut self) -> Result<(), SageError> {
        if self.tokens.get(self.pos) == Some(&Tok::Close) {
            self.pos += 1;
            Ok(())
        } else {
            Err(bad("Syntax error in $filter: ')' expected."))
        }
    }
}

/// Parses `$filter` against the entity's property names.
pub fn parse(text: &str, fields: &[String], literals: DateLiterals) -> Result<Expr, SageError> {
    let tokens = lex(text, literals)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        fields,
    };
    let expr = parser.or()?;
    if parser.pos != parser.tokens.len() {
        return Err(bad(
            "Syntax error in $filter: unexpected text after the expression.",
        ));
    }
    Ok(expr)
}

fn of_json(value: Option<&Value>) -> Val {
    match value {
        None | Some(Value::Null) => Val::Null,
        Some(Value::Bool(b)) => Val::Bool(*b),
        Some(Value::Number(n)) => Val::Num(n.as_f64().unwrap_or(0.0)),
        Some(Value::String(s)) => Val::Str(s.clone()),
        Some(other) => Val::Str(other.to_string()),
    }
}

fn eval(expr: &Expr, row: &Map<String, Value>) -> Result<Val, SageError> {
    Ok(match expr {
        Expr::Prop(name) => of_json(row.get(name)),
        Expr::Lit(v) => v.clone(),
        Expr::And(a, b) => Val::Bool(truth(a, row)? && truth(b, row)?),
        Expr::Or(a, b) => Val::Bool(truth(a, row)? || truth(b, row)?),
        Expr::Not(a) => Val::Bool(!truth(a, row)?),
        Expr::Cmp(a, op, b) => Val::Bool(compare(eval(a, row)?, *op, eval(b, row)?)?),
        Expr::Call(name, args) => {
            let values = args
                .iter()
                .map(|a| eval(a, row))
                .collect::<Result<Vec<_>, _>>()?;
            let text = |v: &Val| match v {
                Val::Str(s) => Ok(s.clone()),
                Val::Null => Ok(String::new()),
                _ => Err(bad(format!("Function '{name}' expects string arguments."))),
            };
            match name.as_str() {
                // v3 order: substringof(needle, haystack)
                "substringof" => Val::Bool(text(&values[1])?.contains(&text(&values[0])?)),
                "contains" => Val::Bool(text(&values[0])?.contains(&text(&values[1])?)),
                "startswith" => Val::Bool(text(&values[0])?.starts_with(&text(&values[1])?)),
                "endswith" => Val::Bool(text(&values[0])?.ends_with(&text(&values[1])?)),
                "length" => Val::Num(text(&values[0])?.chars().count() as f64),
                "tolower" => Val::Str(text(&values[0])?.to_lowercase()),
                "toupper" => Val::Str(text(&values[0])?.to_uppercase()),
                _ => Val::Str(text(&values[0])?.trim().to_string()),
            }
        }
    })
}

fn truth(expr: &Expr, row: &Map<String, Value>) -> Result<bool, SageError> {
    match eval(expr, row)? {
        Val::Bool(b) => Ok(b),
        _ => Err(bad("The $filter expression is not a boolean expression.")),
    }
}

fn compare(a: Val, op: Op, b: Val) -> Result<bool, SageError> {
    use std::cmp::Ordering;
    let as_date = |v: &Val| match v {
        Val::Date(d) => Some(*d),
        Val::Str(s) => dates::parse_datetime(s),
        _ => None,
    };
    let ordering: Option<Ordering> = match (&a, &b) {
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Date(_), _) | (_, Val::Date(_)) => {
            let (x, y) = (as_date(&a), as_date(&b));
            match (x, y) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => return Err(bad("A binary operator with incompatible types was detected: a date and a non-date.")),
            }
        }
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        // Sage 300 databases use a binary collation: case-sensitive.
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => {
            return Err(bad(
                "A binary operator with incompatible types was detected.",
            ))
        }
    };
    Ok(match (op, ordering) {
        (Op::Eq, o) => o == Some(Ordering::Equal),
        (Op::Ne, o) => o != Some(Ordering::Equal),
        (_, None) => false,
        (Op::Gt, Some(o)) => o == Ordering::Greater,
        (Op::Ge, Some(o)) => o != Ordering::Less,
        (Op::Lt, Some(o)) => o == Ordering::Less,
        (Op::Le, Some(o)) => o != Ordering::Greater,
    })
}

/// The `Property eq 'text'` comparisons a row must pass for the filter to
/// hold: the top-level conjuncts, in either order. A row failing one of them
/// fails the whole filter, so a set can skip it before building its JSON.
pub fn required_equalities(expr: &Expr) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        match expr {
            Expr::And(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            Expr::Cmp(a, Op::Eq, b) => match (a.as_ref(), b.as_ref()) {
                (Expr::Prop(p), Expr::Lit(Val::Str(s)))
                | (Expr::Lit(Val::Str(s)), Expr::Prop(p)) => found.push((p.as_str(), s.as_str())),
                _ => {}
            },
            _ => {}
        }
    }
    found
}

/// Whether `row` passes the filter.
pub fn matches(expr: &Expr, row: &Map<String, Value>) -> Result<bool, SageError> {
    truth(expr, row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<String> {
        ["DateLastMaintained", "CustomerNumber", "Amount"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn row() -> Map<String, Value> {
        serde_json::json!({"DateLastMaintained": "2024-05-14T00:00:00Z", "CustomerNumber": "O'HARA", "Amount": 12.5})
            .as_object()
            .cloned()
            .unwrap()
    }

    fn check(f: &str) -> bool {
        matches(&parse(f, &fields(), DateLiterals::Both).unwrap(), &row()).unwrap()
    }

    #[test]
    fn required_equalities_are_the_top_level_string_conjuncts() {
        let f = |t: &str| parse(t, &fields(), DateLiterals::Both).unwrap();
        let e = f("CustomerNumber eq 'A' and (Amount gt 1 and 'B' eq CustomerNumber)");
        let mut got = required_equalities(&e);
        got.sort();
        assert_eq!(got, vec![("CustomerNumber", "A"), ("CustomerNumber", "B")]);
        assert!(required_equalities(&f("CustomerNumber eq 'A' or Amount gt 1")).is_empty());
        assert!(required_equalities(&f("not (CustomerNumber eq 'A')")).is_empty());
        assert!(required_equalities(&f("CustomerNumber ne 'A'")).is_empty());
    }

    #[test]
    fn operators_and_literals() {
        assert!(check("DateLastMaintained ge datetime'2024-05-14T00:00'"));
        assert!(check("DateLastMaintained ge 2024-05-14T00:00:00Z"));
        assert!(!check("DateLastMaintained gt 2024-05-14"));
        assert!(check("CustomerNumber eq 'O''HARA' and Amount gt 12.00m"));
        assert!(check("not (Amount lt 1) or Amount eq 0"));
        assert!(check(
            "substringof('HAR', CustomerNumber) and startswith(CustomerNumber,'O')"
        ));
        assert!(parse("Nope eq 1", &fields(), DateLiterals::Both).is_err());
        assert!(parse(
            "DateLastMaintained ge 2024-05-14",
            &fields(),
            DateLiterals::V3
        )
        .is_err());
        assert!(parse(
            "DateLastMaintained ge datetime'2024-05-14'",
            &fields(),
            DateLiterals::V4
        )
        .is_err());
    }
}
