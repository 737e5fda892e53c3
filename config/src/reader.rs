//! A forgiving reader over a `toml::Value` tree: every check records a
//! [`Problem`] and carries on, so that one pass finds everything wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use toml::{Table, Value};
use url::Url;

use crate::error::Problem;

/// Where an environment override came from. `raw` is the variable's text
/// (absent for tables the override had to create); it may be a secret, so
/// `Debug` never shows it.
pub(crate) struct EnvOrigin {
    pub var: String,
    pub raw: Option<String>,
}

impl fmt::Debug for EnvOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvOrigin")
            .field("var", &self.var)
            .finish_non_exhaustive()
    }
}

/// Reading context: collected problems plus what secrets resolve against.
pub(crate) struct Ctx<'a> {
    pub problems: Vec<Problem>,
    env: &'a BTreeMap<String, String>,
    origins: &'a BTreeMap<String, EnvOrigin>,
    base_dir: Option<&'a Path>,
}

/// A table being read, with its key path.
pub(crate) struct Fields<'t> {
    pub path: String,
    pub table: &'t Table,
}

impl Fields<'_> {
    /// Key path of `key` inside this table.
    pub fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Whether `key` is present.
    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }
}

/// Joins a key onto a dotted path, quoting it when it is not a bare TOML key.
pub(crate) fn join(parent: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        let mut q = String::with_capacity(key.len() + 2);
        q.push('"');
        for c in key.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                c if c.is_control() => q.push_str(&format!("\\u{:04X}", c as u32)),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// The TOML type name of a value.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Integer(_) => "integer",
        Value::Float(_) => "float",
        Value::Boolean(_) => "boolean",
        Value::Datetime(_) => "datetime",
        Value::Array(_) => "array",
        Value::Table(_) => "table",
    }
}

/// A string shown in a message: quoted, escaped, shortened.
pub(crate) fn show_str(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{:?}…", cut)
    } else {
        format!("{s:?}")
    }
}

/// Type and value of a (non-secret) value, e.g. `integer 5`, `string "x"`, `table`.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string {}", show_str(s)),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(x) => format!("float {x}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "array".to_owned(),
        Value::Table(_) => "table".to_owned(),
    }
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The one candidate close to `word`, if there is exactly one closest.
pub(crate) fn suggest<'k>(word: &str, candidates: &[&'k str]) -> Option<&'k str> {
    let norm = |s: &str| s.to_lowercase().replace('-', "_");
    let w = norm(word);
    let limit = (w.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'k str)> = None;
    let mut tie = false;
    for &c in candidates {
        let d = edit_distance(&w, &norm(c));
        if d > limit {
            continue;
        }
        match best {
            Some((bd, _)) if d > bd => {}
            Some((bd, _)) if d == bd => tie = true,
            _ => {
                best = Some((d, c));
                tie = false;
            }
        }
    }
    match best {
        Some((_, c)) if !tie => Some(c),
        Some(_) => None,
        // No close spelling: try a candidate that is a prefix of the word or
        // the other way round (`listen_addr` → `listen`).
        None => {
            let related: Vec<&'k str> = candidates
                .iter()
                .copied()
                .filter(|c| {
                    let c = norm(c);
                    c.len().min(w.len()) >= 3 && (w.starts_with(&c) || c.starts_with(&w))
                })
                .collect();
            match related.as_slice() {
                [one] => Some(*one),
                _ => None,
            }
        }
    }
}

/// `"a", "b", "c"` for messages.
pub(crate) fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'a> Ctx<'a> {
    pub fn new(
        env: &'a BTreeMap<String, String>,
        origins: &'a BTreeMap<String, EnvOrigin>,
        base_dir: Option<&'a Path>,
    ) -> Self {
        Self {
            problems: Vec::new(),
            env,
            origins,
            base_dir,
        }
    }

    /// Records a problem at `path`, noting the environment variable that set it, if any.
    pub fn problem(&mut self, path: &str, message: impl Into<String>) {
        let mut message = message.into();
        if let Some(origin) = self.origins.get(path) {
            message.push_str(&format!(" (set by environment variable {})", origin.var));
        }
        self.problems.push(Problem::new(path, message));
    }

    /// Reports every key of `table` not in `known`, with a suggestion when one is close.
    pub fn unknown_keys(&mut self, path: &str, table: &Table, known: &[&str]) {
        for key in table.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let message = match suggest(key, known) {
                Some(s) => format!("unknown key; did you mean \"{s}\"?"),
                None => format!("unknown key; expected one of {}", quoted_list(known)),
            };
            self.problem(&join(path, key), message);
        }
    }

    /// Expects a table; reports its unknown keys.
    pub fn table<'t>(
        &mut self,
        path: &str,
        value: &'t Value,
        known: &[&str],
    ) -> Option<Fields<'t>> {
        match value {
            Value::Table(table) => {
                self.unknown_keys(path, table, known);
                Some(Fields {
                    path: path.to_owned(),
                    table,
                })
            }
            other => {
                self.problem(path, format!("expected a table, found {}", describe(other)));
                None
            }
        }
    }

    /// Reads a key that must be present.
    pub fn required<T>(
        &mut self,
        fields: &Fields<'_>,
        key: &str,
        read: impl FnOnce(&mut Self, &str, &Value) -> Option<T>,
    ) -> Option<T> {
        self.required_when(fields, key, "", read)
    }

    /// Reads a key that must be present; `why` (e.g. `when auth = "jwt"`) explains a conditional requirement.
    pub fn required_when<T>(
        &mut self,
        fields: &Fields<'_>,
        key: &str,
        why: &str,
        read: impl FnOnce(&mut Self, &str, &Value) -> Option<T>,
    ) -> Option<T> {
        let path = fields.path_of(key);
        match fields.table.get(key) {
            Some(v) => read(self, &path, v),
            None => {
                if why.is_empty() {
                    self.problem(&path, "missing required key");
                } else {
                    self.problem(&path, format!("missing required key (required {why})"));
                }
                None
            }
        }
    }

    /// Reads a key that may be absent; `None` when absent or invalid.
    pub fn optional<T>(
        &mut self,
        fields: &Fields<'_>,
        key: &str,
        read: impl FnOnce(&mut Self, &str, &Value) -> Option<T>,
    ) -> Option<T> {
        let path = fields.path_of(key);
        fields.table.get(key).and_then(|v| read(self, &path, v))
    }

    /// Reports `key` if present: it does not apply given another setting (`why`).
    pub fn not_applicable(&mut self, fields: &Fields<'_>, key: &str, why: &str) {
        if fields.has(key) {
            self.problem(&fields.path_of(key), format!("only used {why}; remove it"));
        }
    }

    /// The text of a value that should be a string: the string itself, or the
    /// raw text of an environment override that looked like a number or boolean.
    fn text_of(&self, path: &str, value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            _ => self.origins.get(path).and_then(|o| o.raw.clone()),
        }
    }

    /// A non-empty string.
    pub fn string(&mut self, path: &str, value: &Value) -> Option<String> {
        self.string_as(path, value, "a string")
    }

    /// A non-empty string; `expected` (e.g. `an http(s) URL`) describes it in a type error.
    pub fn string_as(&mut self, path: &str, value: &Value, expected: &str) -> Option<String> {
        match self.text_of(path, value) {
            Some(s) if s.trim().is_empty() => {
                self.problem(path, "must not be empty");
                None
            }
            Some(s) => Some(s),
            None => {
                self.problem(
                    path,
                    format!("expected {expected}, found {}", describe(value)),
                );
                None
            }
        }
    }

    /// A non-empty code of ASCII letters and digits (company IDs, store hashes).
    pub fn code(&mut self, path: &str, value: &Value) -> Option<String> {
        let s = self.string(path, value)?;
        if s.chars().all(|c| c.is_ascii_alphanumeric()) {
            Some(s)
        } else {
            self.problem(
                path,
                format!("expected letters and digits only, found {}", show_str(&s)),
            );
            None
        }
    }

    /// A boolean.
    pub fn boolean(&mut self, path: &str, value: &Value) -> Option<bool> {
        match value {
            Value::Boolean(b) => Some(*b),
            other => {
                self.problem(
                    path,
                    format!(
                        "expected a boolean (true or false), found {}",
                        describe(other)
                    ),
                );
                None
            }
        }
    }

    /// An integer in `min..=max`.
    pub fn integer_in(&mut self, path: &str, value: &Value, min: i64, max: i64) -> Option<i64> {
        match value {
            Value::Integer(i) if (min..=max).contains(i) => Some(*i),
            Value::Integer(i) => {
                self.problem(path, format!("must be between {min} and {max}, found {i}"));
                None
            }
            other => {
                self.problem(
                    path,
                    format!("expected an integer, found {}", describe(other)),
                );
                None
            }
        }
    }

    /// A number (float or integer) in `min..=max`.
    pub fn number_in(&mut self, path: &str, value: &Value, min: f64, max: f64) -> Option<f64> {
        let x = match value {
            Value::Float(x) => *x,
            // Small integers convert exactly.
            Value::Integer(i) if i.unsigned_abs() < (1 << 52) => *i as f64,
            other => {
                self.problem(
                    path,
                    format!("expected a number, found {}", describe(other)),
                );
                return None;
            }
        };
        if x.is_finite() && (min..=max).contains(&x) {
            Some(x)
        } else {
            self.problem(path, format!("must be between {min} and {max}, found {x}"));
            None
        }
    }

    /// A humantime duration (`"90s"`, `"5m"`, `"1h 30m"`) in `min..=max`.
    pub fn duration_in(
        &mut self,
        path: &str,
        value: &Value,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        let Some(text) = self.text_of(path, value) else {
            self.problem(
                path,
                format!("expected a duration like \"5m\", found {}", describe(value)),
            );
            return None;
        };
        match humantime::parse_duration(text.trim()) {
            Ok(d) if d >= min && d <= max => Some(d),
            Ok(d) => {
                self.problem(
                    path,
                    format!(
                        "must be between {} and {}, found {}",
                        humantime::format_duration(min),
                        humantime::format_duration(max),
                        humantime::format_duration(d)
                    ),
                );
                None
            }
            Err(e) => {
                self.problem(
                    path,
                    format!(
                        "expected a duration like \"5m\", found string {} ({e})",
                        show_str(&text)
                    ),
                );
                None
            }
        }
    }

    /// One of the `choices` (exact, case-sensitive); `what` names the setting in messages.
    pub fn choice<T: Copy>(
        &mut self,
        path: &str,
        value: &Value,
        what: &str,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let Some(text) = self.text_of(path, value) else {
            self.problem(
                path,
                format!(
                    "expected one of {}, found {}",
                    quoted_list(&names),
                    describe(value)
                ),
            );
            return None;
        };
        if let Some((_, v)) = choices.iter().find(|(n, _)| *n == text) {
            return Some(*v);
        }
        let hint = match suggest(&text, &names) {
            Some(s) => format!(" (did you mean \"{s}\"?)"),
            None => String::new(),
        };
        self.problem(
            path,
            format!(
                "unknown {what} {}; expected one of {}{hint}",
                show_str(&text),
                quoted_list(&names)
            ),
        );
        None
    }

    /// An absolute `http` or `https` URL with a host and no credentials.
    pub fn http_url(&mut self, path: &str, value: &Value) -> Option<Url> {
        let text = self.string_as(path, value, "an http(s) URL like \"https://host/\"")?;
        // A URL that carries credentials must not be echoed.
        let shown = if text.contains('@') {
            String::new()
        } else {
            format!(" {}", show_str(&text))
        };
        let url = match Url::parse(text.trim()) {
            Ok(url) => url,
            Err(e) => {
                self.problem(
                    path,
                    format!("expected an http(s) URL like \"https://host/\", found{shown}: {e}"),
                );
                return None;
            }
        };
        if url.scheme() != "http" && url.scheme() != "https" {
            self.problem(
                path,
                format!(
                    "expected an http(s) URL, found scheme \"{}\" in{shown}",
                    url.scheme()
                ),
            );
            return None;
        }
        if !url.has_host() || url.host_str() == Some("") {
            self.problem(
                path,
                format!("expected an http(s) URL with a host, found{shown}"),
            );
            return None;
        }
        if !url.username().is_empty() || url.password().is_some() {
            self.problem(
                path,
                "must not contain a user name or password; use the connection's credential keys",
            );
            return None;
        }
        Some(url)
    }

    /// A secret: a string, `{ env = "VAR" }` or `{ file = "PATH" }`.
    ///
    /// Messages name the variable or file, never the value. An empty secret is
    /// a problem unless `allow_empty`.
    pub fn secret(&mut self, path: &str, value: &Value, allow_empty: bool) -> Option<SecretString> {
        if let Some(text) = self.text_of(path, value) {
            return self.finish_secret(path, text, allow_empty, "the secret is empty");
        }
        let Value::Table(table) = value else {
            self.problem(
                path,
                format!(
                    "expected a secret (a string, {{ env = \"VAR\" }} or {{ file = \"PATH\" }}), found {}",
                    type_name(value)
                ),
            );
            return None;
        };
        self.unknown_keys(path, table, &["env", "file"]);
        match (table.get("env"), table.get("file")) {
            (Some(_), Some(_)) => {
                self.problem(path, "give either `env` or `file`, not both");
                None
            }
            (Some(var), None) => {
                let var_path = join(path, "env");
                let var = self.string(&var_path, var)?;
                match self.env.get(&var) {
                    Some(v) => self.finish_secret(
                        path,
                        v.clone(),
                        allow_empty,
                        &format!("environment variable `{var}` is empty"),
                    ),
                    None => {
                        self.problem(path, format!("environment variable `{var}` is not set"));
                        None
                    }
                }
            }
            (None, Some(file)) => {
                let file_path = join(path, "file");
                let file = self.string(&file_path, file)?;
                let full: PathBuf = match self.base_dir {
                    Some(dir) if Path::new(&file).is_relative() => dir.join(&file),
                    _ => PathBuf::from(&file),
                };
                match std::fs::read_to_string(&full) {
                    Ok(mut s) => {
                        let keep = s.trim_end_matches(['\n', '\r']).len();
                        s.truncate(keep);
                        self.finish_secret(
                            path,
                            s,
                            allow_empty,
                            &format!("secret file `{}` is empty", full.display()),
                        )
                    }
                    Err(e) => {
                        self.problem(
                            path,
                            format!("cannot read secret file `{}`: {e}", full.display()),
                        );
                        None
                    }
                }
            }
            (None, None) => {
                if table.is_empty() {
                    self.problem(
                        path,
                        "expected a secret (a string, { env = \"VAR\" } or { file = \"PATH\" }), found an empty table",
                    );
                }
                // Otherwise the unknown keys were reported above.
                None
            }
        }
    }

    fn finish_secret(
        &mut self,
        path: &str,
        text: String,
        allow_empty: bool,
        empty_message: &str,
    ) -> Option<SecretString> {
        if text.is_empty() && !allow_empty {
            self.problem(path, empty_message.to_owned());
            return None;
        }
        Some(SecretString::from(text))
    }

    /// A table of non-empty strings to non-empty strings.
    pub fn string_map(&mut self, path: &str, value: &Value) -> Option<BTreeMap<String, String>> {
        let Value::Table(table) = value else {
            self.problem(
                path,
                format!(
                    "expected a table of strings like {{ \"channel-code\" = \"ERP-CODE\" }}, found {}",
                    describe(value)
                ),
            );
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, v) in table {
            let entry_path = join(path, key);
            if key.trim().is_empty() {
                self.problem(&entry_path, "empty key");
                ok = false;
                continue;
            }
            match self.string(&entry_path, v) {
                Some(s) => {
                    out.insert(key.clone(), s);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// An array of distinct non-empty strings.
    pub fn string_list(&mut self, path: &str, value: &Value) -> Option<Vec<String>> {
        let Value::Array(items) = value else {
            self.problem(
                path,
                format!("expected an array of strings, found {}", describe(value)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut seen = BTreeSet::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match item {
                Value::String(s) if s.trim().is_empty() => {
                    self.problem(&item_path, "must not be empty");
                    ok = false;
                }
                Value::String(s) if !seen.insert(s.clone()) => {
                    self.problem(&item_path, format!("duplicate entry {}", show_str(s)));
                    ok = false;
                }
                Value::String(s) => out.push(s.clone()),
                other => {
                    self.problem(
                        &item_path,
                        format!("expected a string, found {}", describe(other)),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_quotes_non_bare_keys() {
        assert_eq!(join("", "service"), "service");
        assert_eq!(join("instances", "shop-eu"), "instances.shop-eu");
        assert_eq!(join("a", "blue shirt"), "a.\"blue shirt\"");
        assert_eq!(join("a", "x.y"), "a.\"x.y\"");
        assert_eq!(join("a", "q\""), "a.\"q\\\"\"");
    }

    #[test]
    fn suggestions() {
        let known = [
            "listen",
            "data_dir",
            "database_url",
            "log_format",
            "log_level",
        ];
        assert_eq!(suggest("listn", &known), Some("listen"));
        assert_eq!(suggest("data-dir", &known), Some("data_dir"));
        assert_eq!(suggest("log_levle", &known), Some("log_level"));
        assert_eq!(suggest("colour", &known), None);
        assert_eq!(suggest("listen_addr", &known), Some("listen"));
        assert_eq!(suggest("log", &known), None);
        assert_eq!(suggest("evn", &["env", "file"]), Some("env"));
        assert_eq!(
            suggest("sage3000", &["sage300", "sage_x3", "sage100"]),
            Some("sage300")
        );
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "acb"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
