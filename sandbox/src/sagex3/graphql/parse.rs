//! A small GraphQL document parser: the query shapes of facts §2.2 and no
//! more. Served: `query`/`mutation` operations (named or not, with variable
//! definitions), anonymous `{ ... }` queries, fields with aliases and
//! arguments, values (variables, strings incl. block strings, numbers,
//! booleans, null, enums, lists, objects), named fragments and inline
//! fragments (spread in place), directives skipped. No subscriptions.

use std::collections::HashMap;

use serde_json::Value;

/// An argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// `$name`.
    Var(String),
    /// A literal (enums as strings).
    Lit(Value),
    /// A list.
    List(Vec<Val>),
    /// An input object.
    Obj(Vec<(String, Val)>),
}

impl Val {
    /// The value with variables substituted.
    pub fn resolve(&self, vars: &serde_json::Map<String, Value>) -> Value {
        match self {
            Val::Var(n) => vars.get(n).cloned().unwrap_or(Value::Null),
            Val::Lit(v) => v.clone(),
            Val::List(l) => Value::Array(l.iter().map(|v| v.resolve(vars)).collect()),
            Val::Obj(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.resolve(vars)))
                    .collect(),
            ),
        }
    }
}

/// A field selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Response key (alias or name).
    pub key: String,
    /// Field name.
    pub name: String,
    /// Arguments.
    pub args: Vec<(String, Val)>,
    /// Sub-selections.
    pub selections: Vec<Field>,
}

impl Field {
    /// An argument.
    pub fn arg(&self, name: &str) -> Option<&Val> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// An operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// `query` or `mutation`.
    pub kind: String,
    /// Its name.
    pub name: Option<String>,
    /// Default values of its variables.
    pub defaults: Vec<(String, Value)>,
    /// Root selections.
    pub selections: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Punct(char),
    Spread,
    Name(String),
    Str(String),
    Num(Value),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() || ch == ',' || ch == '\u{feff}' {
            i += 1;
        } else if ch == '#' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if "{}()[]:!$=@|&".contains(ch) {
            out.push(Tok::Punct(ch));
            i += 1;
        } else if ch == '.' {
            if c.get(i + 1) == Some(&'.') && c.get(i + 2) == Some(&'.') {
                out.push(Tok::Spread);
                i += 3;
            } else {
                return Err(format!("Syntax Error: Unexpected character: \".\" at {i}."));
            }
        } else if ch == '"' {
            if c.get(i + 1) == Some(&'"') && c.get(i + 2) == Some(&'"') {
                let start = i + 3;
                let mut j = start;
                while j + 2 < c.len() && !(c[j] == '"' && c[j + 1] == '"' && c[j + 2] == '"') {
                    j += 1;
                }
                if j + 2 >= c.len() {
                    return Err("Syntax Error: Unterminated string.".into());
                }
                out.push(Tok::Str(
                    c[start..j].iter().collect::<String>().trim().to_string(),
                ));
                i = j + 3;
                continue;
            }
            // A JSON string literal: reuse serde_json for the escapes.
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                if c[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            if j >= c.len() {
                return Err("Syntax Error: Unterminated string.".into());
            }
            let raw: String = c[i..=j].iter().collect();
            let s: String = serde_json::from_str(&raw)
                .map_err(|_| format!("Syntax Error: Invalid string {raw}."))?;
            out.push(Tok::Str(s));
            i = j + 1;
        } else if ch == '-' || ch.is_ascii_digit() {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_ascii_digit() || ".eE+-".contains(c[i])) {
                i += 1;
            }
            let raw: String = c[start..i].iter().collect();
            let v: Value = serde_json::from_str(&raw)
                .map_err(|_| format!("Syntax Error: Invalid number, {raw}."))?;
            out.push(Tok::Num(v));
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(c[start..i].iter().collect()));
        } else {
            return Err(format!("Syntax Error: Unexpected character: \"{ch}\"."));
        }
    }
    Ok(out)
}

struct P {
    t: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn is(&self, ch: char) -> bool {
        self.peek() == Some(&Tok::Punct(ch))
    }
    fn expect(&mut self, ch: char) -> Result<(), String> {
        if self.is(ch) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "Syntax Error: Expected \"{ch}\", found {}.",
                self.found()
            ))
        }
    }
    fn found(&self) -> String {
        match self.peek() {
            None => "<EOF>".into(),
            Some(Tok::Punct(c)) => format!("\"{c}\""),
            Some(Tok::Spread) => "\"...\"".into(),
            Some(Tok::Name(n)) => format!("Name \"{n}\""),
            Some(Tok::Str(s)) => format!("String \"{s}\""),
            Some(Tok::Num(n)) => format!("Number \"{n}\""),
        }
    }
    fn name(&mut self) -> Result<String, String> {
        match self.peek().cloned() {
            Some(Tok::Name(n)) => {
                self.i += 1;
                Ok(n)
            }
            _ => Err(format!(
                "Syntax Error: Expected Name, found {}.",
                self.found()
            )),
        }
    }
    fn value(&mut self) -> Result<Val, String> {
        match self.peek().cloned() {
            Some(Tok::Punct('$')) => {
                self.i += 1;
                Ok(Val::Var(self.name()?))
            }
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(Val::Lit(Value::String(s)))
            }
            Some(Tok::Num(n)) => {
                self.i += 1;
                Ok(Val::Lit(n))
            }
            Some(Tok::Name(n)) => {
                self.i += 1;
                Ok(Val::Lit(match n.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => Value::String(n),
                }))
            }
            Some(Tok::Punct('[')) => {
                self.i += 1;
                let mut l = Vec::new();
                while !self.is(']') {
                    if self.peek().is_none() {
                        return Err("Syntax Error: Expected \"]\", found <EOF>.".into());
                    }
                    l.push(self.value()?);
                }
                self.i += 1;
                Ok(Val::List(l))
            }
            Some(Tok::Punct('{')) => {
                self.i += 1;
                let mut o = Vec::new();
                while !self.is('}') {
                    let k = self.name()?;
                    self.expect(':')?;
                    o.push((k, self.value()?));
                }
                self.i += 1;
                Ok(Val::Obj(o))
            }
            _ => Err(format!("Syntax Error: Unexpected {}.", self.found())),
        }
    }
    fn directives(&mut self) -> Result<(), String> {
        while self.is('@') {
            self.i += 1;
            self.name()?;
            if self.is('(') {
                self.args()?;
            }
        }
        Ok(())
    }
    fn args(&mut self) -> Result<Vec<(String, Val)>, String> {
        self.expect('(')?;
        let mut a = Vec::new();
        while !self.is(')') {
            let k = self.name()?;
            self.expect(':')?;
            a.push((k, self.value()?));
        }
        self.i += 1;
        Ok(a)
    }
    fn type_ref(&mut self) -> Result<(), String> {
        if self.is('[') {
            self.i += 1;
            self.type_ref()?;
            self.expect(']')?;
        } else {
            self.name()?;
        }
        if self.is('!') {
            self.i += 1;
        }
        Ok(())
    }
    fn selection_set(&mut self) -> Result<Vec<Sel>, String> {
        self.expect('{')?;
        let mut out = Vec::new();
        while !self.is('}') {
            if self.peek().is_none() {
                return Err("Syntax Error: Expected Name, found <EOF>.".into());
            }
            if self.peek() == Some(&Tok::Spread) {
                self.i += 1;
                if self.peek() == Some(&Tok::Name("on".into())) {
                    self.i += 1;
                    self.name()?;
                    self.directives()?;
                    out.push(Sel::Inline(self.selection_set()?));
                } else if self.is('{') || self.is('@') {
                    self.directives()?;
                    out.push(Sel::Inline(self.selection_set()?));
                } else {
                    out.push(Sel::Spread(self.name()?));
                    self.directives()?;
                }
                continue;
            }
            let first = self.name()?;
            let (key, name) = if self.is(':') {
                self.i += 1;
                (first, self.name()?)
            } else {
                (first.clone(), first)
            };
            let args = if self.is('(') {
                self.args()?
            } else {
                Vec::new()
            };
            self.directives()?;
            let selections = if self.is('{') {
                self.selection_set()?
            } else {
                Vec::new()
            };
            out.push(Sel::Field {
                key,
                name,
                args,
                selections,
            });
        }
        self.i += 1;
        Ok(out)
    }
}

/// An operation before fragments are spread: kind, name, variable defaults, selections.
type RawOp = (String, Option<String>, Vec<(String, Value)>, Vec<Sel>);

#[derive(Debug, Clone)]
enum Sel {
    Field {
        key: String,
        name: String,
        args: Vec<(String, Val)>,
        selections: Vec<Sel>,
    },
    Spread(String),
    Inline(Vec<Sel>),
}

fn expand(
    sels: &[Sel],
    frags: &HashMap<String, Vec<Sel>>,
    depth: usize,
) -> Result<Vec<Field>, String> {
    if depth > 20 {
        return Err("Cannot spread fragments recursively.".into());
    }
    let mut out = Vec::new();
    for s in sels {
        match s {
            Sel::Field {
                key,
                name,
                args,
                selections,
            } => out.push(Field {
                key: key.clone(),
                name: name.clone(),
                args: args.clone(),
                selections: expand(selections, frags, depth + 1)?,
            }),
            Sel::Spread(n) => {
                let f = frags
                    .get(n)
                    .ok_or_else(|| format!("Unknown fragment \"{n}\"."))?;
                out.extend(expand(f, frags, depth + 1)?);
            }
            Sel::Inline(inner) => out.extend(expand(inner, frags, depth + 1)?),
        }
    }
    Ok(out)
}

/// Parses a document and picks the operation (`operation_name`, or the only one).
pub fn parse(src: &str, operation_name: Option<&str>) -> Result<Operation, String> {
    let mut p = P { t: lex(src)?, i: 0 };
    let mut ops: Vec<RawOp> = Vec::new();
    let mut frags: HashMap<String, Vec<Sel>> = HashMap::new();
    while p.peek().is_some() {
        if p.is('{') {
            let s = p.selection_set()?;
            ops.push(("query".into(), None, Vec::new(), s));
            continue;
        }
        let kw = p.name()?;
        match kw.as_str() {
            "query" | "mutation" => {
                let name = match p.peek() {
                    Some(Tok::Name(_)) => Some(p.name()?),
                    _ => None,
                };
                let mut defaults = Vec::new();
                if p.is('(') {
                    p.i += 1;
                    while !p.is(')') {
                        p.expect('$')?;
                        let var = p.name()?;
                        p.expect(':')?;
                        p.type_ref()?;
                        if p.is('=') {
                            p.i += 1;
                            let v = p.value()?.resolve(&serde_json::Map::new());
                            defaults.push((var, v));
                        }
                    }
                    p.i += 1;
                }
                p.directives()?;
                let s = p.selection_set()?;
                ops.push((kw, name, defaults, s));
            }
            "fragment" => {
                let name = p.name()?;
                if p.name()? != "on" {
                    return Err("Syntax Error: Expected \"on\".".into());
                }
                p.name()?;
                p.directives()?;
                let s = p.selection_set()?;
                frags.insert(name, s);
            }
            "subscription" => return Err("Subscriptions are not supported.".into()),
            other => return Err(format!("Syntax Error: Unexpected Name \"{other}\".")),
        }
    }
    let chosen = match operation_name {
        Some(n) => ops.into_iter().find(|o| o.1.as_deref() == Some(n)),
        None if ops.len() == 1 => ops.into_iter().next(),
        None if ops.is_empty() => None,
        None => {
            return Err("Must provide operation name if query contains multiple operations.".into())
        }
    };
    let (kind, name, defaults, sels) = chosen.ok_or_else(|| {
        operation_name.map_or("Must provide an operation.".to_string(), |n| {
            format!("Unknown operation named \"{n}\".")
        })
    })?;
    Ok(Operation {
        kind,
        name,
        defaults,
        selections: expand(&sels, &frags, 0)?,
    })
}
