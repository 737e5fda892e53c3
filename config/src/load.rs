//! Layering: embedded defaults, then the file, then `MLC__*` environment overrides.

use std::collections::BTreeMap;
use std::path::Path;

use toml::{Table, Value};

use crate::error::{ConfigErrors, Problem};
use crate::model::Config;
use crate::reader::{join, Ctx, EnvOrigin};
use crate::validate::{build, fill_missing};

/// The embedded defaults (`config/config.default.toml`).
pub const DEFAULTS_TOML: &str = include_str!("../config.default.toml");

/// Prefix of environment overrides; segments after it are separated by `__`.
pub const ENV_PREFIX: &str = "MLC__";

/// The embedded defaults, split into their three parts.
struct Defaults {
    /// Merged under the document root (holds `[service]`).
    root: Table,
    /// Merged under every `[instances.NAME]`.
    instance: Table,
    /// Per-kind defaults of connection tables.
    connection: Table,
}

fn defaults() -> Defaults {
    // The embedded text is checked by a unit test; fall back to nothing rather than panic.
    let mut all: Table = DEFAULTS_TOML.parse().unwrap_or_default();
    let mut take = |key: &str| match all.remove(key) {
        Some(Value::Table(t)) => t,
        _ => Table::new(),
    };
    let instance = take("instance");
    let connection = take("connection");
    Defaults {
        root: all,
        instance,
        connection,
    }
}

/// Parses the document, turning a syntax error into one problem with its position.
///
/// Only the parser's message and the position are kept: the full error text
/// quotes the offending line, which could hold a secret.
fn parse_document(text: &str) -> Result<Table, Problem> {
    text.parse::<Table>().map_err(|e| {
        let message = e.message().trim().replace('\n', "; ");
        match e.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before
                    .rsplit_once('\n')
                    .map_or(before, |(_, rest)| rest)
                    .chars()
                    .count()
                    + 1;
                Problem::new(
                    "",
                    format!("TOML syntax error at line {line}, column {column}: {message}"),
                )
            }
            None => Problem::new("", format!("TOML syntax error: {message}")),
        }
    })
}

/// An environment value: a TOML boolean, integer or float when it is exactly one, else a string.
fn parse_env_value(raw: &str) -> Value {
    match raw {
        "true" => return Value::Boolean(true),
        "false" => return Value::Boolean(false),
        _ => {}
    }
    let numeric_chars = !raw.is_empty()
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.'));
    if numeric_chars {
        if let Ok(t) = format!("v = {raw}").parse::<Table>() {
            if let Some(v @ (Value::Integer(_) | Value::Float(_))) = t.get("v") {
                return v.clone();
            }
        }
    }
    Value::String(raw.to_owned())
}

fn normalize(segment: &str) -> String {
    segment.to_lowercase().replace('-', "_")
}

/// The existing key of `table` that `segment` designates, if any.
fn find_key(table: &Table, segment: &str) -> Result<Option<String>, Vec<String>> {
    if table.contains_key(segment) {
        return Ok(Some(segment.to_owned()));
    }
    let wanted = normalize(segment);
    let matches: Vec<&String> = table.keys().filter(|k| normalize(k) == wanted).collect();
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        many => {
            let lower = segment.to_lowercase();
            match many.iter().find(|k| ***k == lower) {
                Some(k) => Ok(Some((*k).clone())),
                None => Err(many.iter().map(|k| (*k).clone()).collect()),
            }
        }
    }
}

/// Applies every `MLC__A__B=value` variable to `root`, in variable-name order.
fn apply_env(
    root: &mut Table,
    env: &BTreeMap<String, String>,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, EnvOrigin> {
    let mut origins = BTreeMap::new();
    'vars: for (name, raw) in env {
        let Some(rest) = name
            .get(..ENV_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(ENV_PREFIX))
            .map(|_| &name[ENV_PREFIX.len()..])
        else {
            continue;
        };
        let segments: Vec<&str> = rest.split("__").collect();
        if segments.iter().any(|s| s.is_empty()) {
            problems.push(Problem::new(
                "",
                format!(
                    "environment variable {name}: empty key segment (write MLC__SECTION__KEY, with `__` only between keys)"
                ),
            ));
            continue;
        }
        let mut table = &mut *root;
        let mut path = String::new();
        let last = segments.len() - 1;
        for (i, segment) in segments.iter().enumerate() {
            let key = match find_key(table, segment) {
                Ok(Some(k)) => k,
                Ok(None) => segment.to_lowercase(),
                Err(candidates) => {
                    problems.push(Problem::new(
                        join(&path, &segment.to_lowercase()),
                        format!(
                            "environment variable {name} matches several keys ({}); rename one of them",
                            candidates.join(", ")
                        ),
                    ));
                    continue 'vars;
                }
            };
            path = join(&path, &key);
            if i == last {
                table.insert(key, parse_env_value(raw));
                origins.insert(
                    path.clone(),
                    EnvOrigin {
                        var: name.clone(),
                        raw: Some(raw.clone()),
                    },
                );
            } else {
                let entry = table
                    .entry(key)
                    .or_insert_with(|| Value::Table(Table::new()));
                if !entry.is_table() {
                    // The environment wins over the file, even over a scalar.
                    *entry = Value::Table(Table::new());
                    origins.insert(
                        path.clone(),
                        EnvOrigin {
                            var: name.clone(),
                            raw: None,
                        },
                    );
                }
                let Value::Table(next) = entry else {
                    unreachable!("just made a table")
                };
                table = next;
            }
        }
    }
    origins
}

/// Loads from optional file text; `base_dir` anchors relative secret file paths.
pub(crate) fn load(
    text: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
    base_dir: Option<&Path>,
) -> Result<Config, ConfigErrors> {
    let env: BTreeMap<String, String> = env.into_iter().collect();
    let defaults = defaults();
    let mut root = match text {
        Some(text) => parse_document(text).map_err(|p| ConfigErrors { problems: vec![p] })?,
        None => Table::new(),
    };
    fill_missing(&mut root, &defaults.root);
    let mut problems = Vec::new();
    let origins = apply_env(&mut root, &env, &mut problems);
    if let Some(Value::Table(instances)) = root.get_mut("instances") {
        for (_, instance) in instances.iter_mut() {
            if let Value::Table(t) = instance {
                fill_missing(t, &defaults.instance);
            }
        }
    }
    let mut ctx = Ctx::new(&env, &origins, base_dir);
    ctx.problems = problems;
    let config = build(&mut ctx, &root, &defaults.connection);
    match config {
        Some(config) if ctx.problems.is_empty() => Ok(config),
        _ if !ctx.problems.is_empty() => Err(ConfigErrors {
            problems: ctx.problems,
        }),
        _ => Err(ConfigErrors {
            problems: vec![Problem::new(
                "",
                "configuration is invalid (no detail available; this is a bug in mlc-config)",
            )],
        }),
    }
}

/// Loads a file (or nothing) from disk.
pub(crate) fn load_file(
    path: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigErrors> {
    let Some(path) = path else {
        return load(None, env, None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| ConfigErrors {
        problems: vec![Problem::new(
            "",
            format!("cannot read configuration file `{}`: {e}", path.display()),
        )],
    })?;
    let base_dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    load(Some(&text), env, base_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse_and_have_three_parts() {
        let all: Table = DEFAULTS_TOML.parse().expect("defaults parse");
        assert_eq!(
            all.keys().map(String::as_str).collect::<Vec<_>>(),
            ["connection", "instance", "service"]
        );
        let d = defaults();
        assert!(d.root.contains_key("service"));
        assert!(d.instance.contains_key("retry"));
        assert!(d.connection.contains_key("bigcommerce"));
    }

    #[test]
    fn env_values() {
        assert_eq!(parse_env_value("true"), Value::Boolean(true));
        assert_eq!(parse_env_value("8"), Value::Integer(8));
        assert_eq!(parse_env_value("1_000"), Value::Integer(1000));
        assert_eq!(parse_env_value("0.5"), Value::Float(0.5));
        assert_eq!(parse_env_value("5m"), Value::String("5m".into()));
        assert_eq!(parse_env_value("TRUE"), Value::String("TRUE".into()));
        assert_eq!(parse_env_value("1 # x"), Value::String("1 # x".into()));
        assert_eq!(
            parse_env_value("1\nx = 2"),
            Value::String("1\nx = 2".into())
        );
        assert_eq!(
            parse_env_value("2024-01-01"),
            Value::String("2024-01-01".into())
        );
        assert_eq!(parse_env_value(""), Value::String(String::new()));
    }

    #[test]
    fn syntax_error_position() {
        let p = parse_document("a = 1\nb = \"x\nc = 2\n").unwrap_err();
        assert!(
            p.message.starts_with("TOML syntax error at line 2, column"),
            "{p}"
        );
        assert!(p.path.is_empty());
    }

    #[test]
    fn key_matching() {
        let mut t = Table::new();
        t.insert("shop-eu".into(), Value::Table(Table::new()));
        assert_eq!(find_key(&t, "SHOP_EU"), Ok(Some("shop-eu".into())));
        assert_eq!(find_key(&t, "shop_us"), Ok(None));
        t.insert("shop_eu".into(), Value::Table(Table::new()));
        assert_eq!(find_key(&t, "SHOP_EU"), Ok(Some("shop_eu".into())));
        t.insert("Shop-EU".into(), Value::Table(Table::new()));
        assert_eq!(find_key(&t, "SHOP-eu"), Ok(Some("shop-eu".into())));
        assert!(find_key(&t, "SHOP_Eu").is_ok());
    }
}
