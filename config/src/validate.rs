//! Turns the merged `toml::Value` tree into a typed [`Config`], reporting every problem.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::ExposeSecret;
use toml::{Table, Value};

use crate::model::*;
use crate::reader::{describe, join, quoted_list, show_str, Ctx, Fields};

const ROOT_KEYS: &[&str] = &["service", "instances"];
const SERVICE_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "log_format",
    "log_level",
    "public_url",
    "otlp_endpoint",
];
const INSTANCE_KEYS: &[&str] = &[
    "erp",
    "channel",
    "paused",
    "erp_connection",
    "channel_connection",
    "mapping",
    "schedules",
    "retry",
];
const MAPPING_KEYS: &[&str] = &[
    "skus",
    "customer_groups",
    "payment_methods",
    "shipping_methods",
    "tax_classes",
    "locations",
    "price_list",
    "order_document",
    "reference_field",
    "reference_prefix",
    "default_customer_group",
];
const SCHEDULE_KEYS: &[&str] = &[
    "stock_poll",
    "price_poll",
    "order_backfill",
    "webhook_health",
];
const RETRY_KEYS: &[&str] = &["max_attempts", "initial_backoff", "max_backoff", "jitter"];

const SAGE300_KEYS: &[&str] = &["base_url", "company", "username", "password"];
const SAGE_X3_KEYS: &[&str] = &[
    "base_url",
    "folder",
    "auth",
    "username",
    "password",
    "client_id",
    "secret",
    "endpoint",
    "user",
];
const SAGE100_KEYS: &[&str] = &[
    "base_url",
    "company",
    "username",
    "password",
    "agent_url",
    "agent_api_key",
];
const WOOCOMMERCE_KEYS: &[&str] = &[
    "base_url",
    "consumer_key",
    "consumer_secret",
    "webhook_secret",
];
const ADOBE_KEYS: &[&str] = &[
    "base_url",
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
];
const BIGCOMMERCE_KEYS: &[&str] = &["base_url", "store_hash", "access_token", "client_secret"];
const SHIPSTATION_KEYS: &[&str] = &["base_url", "api_version", "api_key", "api_secret"];

/// Bounds of the `schedules` durations.
pub(crate) const SCHEDULE_MIN: Duration = Duration::from_secs(1);
/// Upper bound of the `schedules` durations (30 days).
pub(crate) const SCHEDULE_MAX: Duration = Duration::from_secs(30 * 24 * 3600);
/// Bounds of the retry backoffs.
pub(crate) const BACKOFF_MIN: Duration = Duration::from_millis(1);
/// Upper bound of the retry backoffs (1 day).
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(24 * 3600);
/// Bounds of `retry.max_attempts`.
pub(crate) const MAX_ATTEMPTS_RANGE: (i64, i64) = (1, 100);

const ERP_CHOICES: &[(&str, ErpKind)] = &[
    ("sage300", ErpKind::Sage300),
    ("sage_x3", ErpKind::SageX3),
    ("sage100", ErpKind::Sage100),
];
const CHANNEL_CHOICES: &[(&str, ChannelKind)] = &[
    ("woocommerce", ChannelKind::WooCommerce),
    ("adobe_commerce", ChannelKind::AdobeCommerce),
    ("bigcommerce", ChannelKind::BigCommerce),
    ("shipstation", ChannelKind::ShipStation),
];

#[derive(Clone, Copy)]
enum X3AuthKind {
    Basic,
    Jwt,
}

#[derive(Clone, Copy)]
enum ShipStationVersion {
    V1,
    V2,
}

/// Whether `name` matches `^[a-z0-9][a-z0-9_-]{0,62}$`.
pub(crate) fn valid_instance_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= 63
        && (first.is_ascii_lowercase() || first.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Fills keys missing from `target` with those of `defaults`, recursing into tables present in both.
pub(crate) fn fill_missing(target: &mut Table, defaults: &Table) {
    for (key, default) in defaults {
        match (target.get_mut(key), default) {
            (None, _) => {
                target.insert(key.clone(), default.clone());
            }
            (Some(Value::Table(t)), Value::Table(d)) => fill_missing(t, d),
            (Some(_), _) => {}
        }
    }
}

/// Builds the typed configuration. `connection_defaults` holds per-kind
/// defaults of `erp_connection` / `channel_connection` tables, keyed by kind.
pub(crate) fn build(
    ctx: &mut Ctx<'_>,
    root: &Table,
    connection_defaults: &Table,
) -> Option<Config> {
    ctx.unknown_keys("", root, ROOT_KEYS);
    let service = match root.get("service") {
        Some(v) => read_service(ctx, "service", v),
        None => {
            ctx.problem("service", "missing required key");
            None
        }
    };
    let mut instances = BTreeMap::new();
    let mut instances_ok = true;
    match root.get("instances") {
        None => {}
        Some(Value::Table(table)) => {
            for (name, value) in table {
                let path = join("instances", name);
                if !valid_instance_name(name) {
                    ctx.problem(
                        &path,
                        format!(
                            "invalid instance name {}: use 1 to 63 lowercase letters, digits, \"_\" or \"-\", starting with a letter or digit",
                            show_str(name)
                        ),
                    );
                    instances_ok = false;
                }
                match read_instance(ctx, &path, name, value, connection_defaults) {
                    Some(instance) => {
                        instances.insert(name.clone(), instance);
                    }
                    None => instances_ok = false,
                }
            }
        }
        Some(other) => {
            ctx.problem(
                "instances",
                format!(
                    "expected a table of instances ([instances.NAME]), found {}",
                    describe(other)
                ),
            );
            instances_ok = false;
        }
    }
    let service = service?;
    instances_ok.then_some(Config { service, instances })
}

fn read_service(ctx: &mut Ctx<'_>, path: &str, value: &Value) -> Option<ServiceConfig> {
    let f = ctx.table(path, value, SERVICE_KEYS)?;
    let listen = ctx.required(&f, "listen", read_socket_addr);
    let data_dir = ctx.optional(&f, "data_dir", |c, p, v| c.string(p, v).map(PathBuf::from));
    let database_url = ctx.optional(&f, "database_url", read_database_url);
    let database_ok = !f.has("database_url") || database_url.is_some();
    let data_dir_ok = !f.has("data_dir") || data_dir.is_some();
    let log_format = ctx.required(&f, "log_format", |c, p, v| {
        c.choice(
            p,
            v,
            "log format",
            &[("text", LogFormat::Text), ("json", LogFormat::Json)],
        )
    });
    let log_level = ctx.required(&f, "log_level", read_log_level);
    let public_url = ctx.optional(&f, "public_url", Ctx::http_url);
    let public_url_ok = !f.has("public_url") || public_url.is_some();
    let otlp_endpoint = ctx.optional(&f, "otlp_endpoint", Ctx::http_url);
    let otlp_ok = !f.has("otlp_endpoint") || otlp_endpoint.is_some();
    if !(database_ok && data_dir_ok && public_url_ok && otlp_ok) {
        return None;
    }
    Some(ServiceConfig {
        listen: listen?,
        data_dir,
        database_url,
        log_format: log_format?,
        log_level: log_level?,
        public_url,
        otlp_endpoint,
    })
}

fn read_socket_addr(ctx: &mut Ctx<'_>, path: &str, value: &Value) -> Option<SocketAddr> {
    let text = ctx.string_as(
        path,
        value,
        "an IP address and port like \"127.0.0.1:8080\" or \"[::]:8080\"",
    )?;
    match text.trim().parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            ctx.problem(
                path,
                format!(
                    "expected an IP address and port like \"127.0.0.1:8080\" or \"[::]:8080\", found {}",
                    show_str(&text)
                ),
            );
            None
        }
    }
}

fn read_database_url(ctx: &mut Ctx<'_>, path: &str, value: &Value) -> Option<DatabaseUrl> {
    let url = ctx.secret(path, value, false)?;
    let text = url.expose_secret();
    let backend = if text.starts_with("sqlite:") {
        DatabaseBackend::Sqlite
    } else if text.starts_with("postgres:") || text.starts_with("postgresql:") {
        DatabaseBackend::Postgres
    } else {
        // The URL may hold a password: do not echo it.
        ctx.problem(
            path,
            "must start with \"sqlite:\", \"postgres:\" or \"postgresql:\"",
        );
        return None;
    };
    Some(DatabaseUrl { backend, url })
}

const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

/// Accepts a `tracing` filter: a bare level, or comma-separated directives
/// whose `target=level` parts name a known level.
fn read_log_level(ctx: &mut Ctx<'_>, path: &str, value: &Value) -> Option<String> {
    let text = ctx.string(path, value)?;
    let is_level = |s: &str| LOG_LEVELS.contains(&s.trim().to_ascii_lowercase().as_str());
    let bad: Vec<&str> = if !text.contains([',', '=']) {
        if is_level(&text) {
            vec![]
        } else {
            vec![text.as_str()]
        }
    } else {
        text.split(',')
            .filter(|d| !d.trim().is_empty())
            .filter_map(|d| d.rsplit_once('=').map(|(_, level)| level))
            .filter(|level| !is_level(level))
            .collect()
    };
    if let Some(first) = bad.first() {
        let hint = match crate::reader::suggest(first.trim(), LOG_LEVELS) {
            Some(s) => format!(" (did you mean \"{s}\"?)"),
            None => String::new(),
        };
        ctx.problem(
            path,
            format!(
                "unknown log level {}; expected one of {} or a filter like \"info,mlc_actors=debug\"{hint}",
                show_str(first.trim()),
                quoted_list(LOG_LEVELS)
            ),
        );
        return None;
    }
    Some(text)
}

fn read_instance(
    ctx: &mut Ctx<'_>,
    path: &str,
    name: &str,
    value: &Value,
    connection_defaults: &Table,
) -> Option<InstanceConfig> {
    let f = ctx.table(path, value, INSTANCE_KEYS)?;
    let erp_kind = ctx.required(&f, "erp", |c, p, v| c.choice(p, v, "ERP kind", ERP_CHOICES));
    let channel_kind = ctx.required(&f, "channel", |c, p, v| {
        c.choice(p, v, "channel kind", CHANNEL_CHOICES)
    });
    let paused = ctx.required(&f, "paused", Ctx::boolean);
    let erp = ctx.required(&f, "erp_connection", |c, p, v| {
        let v = with_defaults(v, connection_defaults, erp_kind.map(ErpKind::as_str));
        match erp_kind {
            Some(kind) => read_erp(c, p, &v, kind),
            // Without a valid kind the fields cannot be checked; just check the shape.
            None => {
                expect_table(c, p, &v);
                None
            }
        }
    });
    let channel = ctx.required(&f, "channel_connection", |c, p, v| {
        let v = with_defaults(
            v,
            connection_defaults,
            channel_kind.map(ChannelKind::as_str),
        );
        match channel_kind {
            Some(kind) => read_channel(c, p, &v, kind),
            None => {
                expect_table(c, p, &v);
                None
            }
        }
    });
    let mapping = ctx.required(&f, "mapping", read_mapping);
    let schedules = ctx.required(&f, "schedules", read_schedules);
    let retry = ctx.required(&f, "retry", read_retry);
    Some(InstanceConfig {
        name: name.to_owned(),
        erp: erp?,
        channel: channel?,
        paused: paused?,
        mapping: mapping?,
        schedules: schedules?,
        retry: retry?,
    })
}

/// Reports `value` if it is not a table (used when its fields cannot be checked).
fn expect_table(ctx: &mut Ctx<'_>, path: &str, value: &Value) {
    if !value.is_table() {
        ctx.problem(path, format!("expected a table, found {}", describe(value)));
    }
}

/// The connection table with the embedded per-kind defaults filled in.
fn with_defaults(value: &Value, connection_defaults: &Table, kind: Option<&str>) -> Value {
    let mut value = value.clone();
    if let (Value::Table(t), Some(Value::Table(d))) =
        (&mut value, kind.and_then(|k| connection_defaults.get(k)))
    {
        fill_missing(t, d);
    }
    value
}

fn read_erp(ctx: &mut Ctx<'_>, path: &str, value: &Value, kind: ErpKind) -> Option<ErpConnection> {
    match kind {
        ErpKind::Sage300 => {
            let f = ctx.table(path, value, SAGE300_KEYS)?;
            let base_url = ctx.required(&f, "base_url", Ctx::http_url);
            let company = ctx.required(&f, "company", Ctx::code);
            let username = ctx.required(&f, "username", Ctx::string);
            // Sage 300 takes an empty password when system security is off.
            let password = ctx.required(&f, "password", |c, p, v| c.secret(p, v, true));
            Some(ErpConnection::Sage300(Sage300Connection {
                base_url: base_url?,
                company: company?,
                username: username?,
                password: password?,
            }))
        }
        ErpKind::SageX3 => {
            let f = ctx.table(path, value, SAGE_X3_KEYS)?;
            let base_url = ctx.required(&f, "base_url", Ctx::http_url);
            let folder = ctx.required(&f, "folder", Ctx::string);
            let auth_kind = ctx.required(&f, "auth", |c, p, v| {
                c.choice(
                    p,
                    v,
                    "authentication",
                    &[("basic", X3AuthKind::Basic), ("jwt", X3AuthKind::Jwt)],
                )
            });
            let auth = match auth_kind {
                Some(X3AuthKind::Basic) => {
                    let why = "when auth = \"basic\"";
                    let username = ctx.required_when(&f, "username", why, Ctx::string);
                    let password =
                        ctx.required_when(&f, "password", why, |c, p, v| c.secret(p, v, false));
                    for key in ["client_id", "secret", "endpoint", "user"] {
                        ctx.not_applicable(&f, key, "when auth = \"jwt\"");
                    }
                    username
                        .zip(password)
                        .map(|(username, password)| SageX3Auth::Basic { username, password })
                }
                Some(X3AuthKind::Jwt) => {
                    let why = "when auth = \"jwt\"";
                    let client_id = ctx.required_when(&f, "client_id", why, Ctx::string);
                    let secret =
                        ctx.required_when(&f, "secret", why, |c, p, v| c.secret(p, v, false));
                    let endpoint = ctx.required_when(&f, "endpoint", why, Ctx::string);
                    let user = ctx.optional(&f, "user", Ctx::string);
                    let user_ok = !f.has("user") || user.is_some();
                    for key in ["username", "password"] {
                        ctx.not_applicable(&f, key, "when auth = \"basic\"");
                    }
                    match (client_id, secret, endpoint, user_ok) {
                        (Some(client_id), Some(secret), Some(endpoint), true) => {
                            Some(SageX3Auth::Jwt {
                                client_id,
                                secret,
                                endpoint,
                                user,
                            })
                        }
                        _ => None,
                    }
                }
                None => None,
            };
            Some(ErpConnection::SageX3(SageX3Connection {
                base_url: base_url?,
                folder: folder?,
                auth: auth?,
            }))
        }
        ErpKind::Sage100 => {
            let f = ctx.table(path, value, SAGE100_KEYS)?;
            let base_url = ctx.required(&f, "base_url", Ctx::http_url);
            let company = ctx.required(&f, "company", Ctx::code);
            let username = ctx.required(&f, "username", Ctx::string);
            let password = ctx.required(&f, "password", |c, p, v| c.secret(p, v, false));
            let agent = match (f.has("agent_url"), f.has("agent_api_key")) {
                (false, false) => Some(None),
                (true, true) => {
                    let url = ctx.optional(&f, "agent_url", Ctx::http_url);
                    let key = ctx.optional(&f, "agent_api_key", |c, p, v| c.secret(p, v, false));
                    url.zip(key)
                        .map(|(url, api_key)| Some(Sage100Agent { url, api_key }))
                }
                (true, false) => {
                    ctx.optional(&f, "agent_url", Ctx::http_url);
                    ctx.problem(
                        &f.path_of("agent_api_key"),
                        "missing required key (required when agent_url is set)",
                    );
                    None
                }
                (false, true) => {
                    ctx.optional(&f, "agent_api_key", |c, p, v| c.secret(p, v, false));
                    ctx.problem(
                        &f.path_of("agent_url"),
                        "missing required key (required when agent_api_key is set)",
                    );
                    None
                }
            };
            Some(ErpConnection::Sage100(Sage100Connection {
                base_url: base_url?,
                company: company?,
                username: username?,
                password: password?,
                agent: agent?,
            }))
        }
    }
}

fn required_secret(ctx: &mut Ctx<'_>, f: &Fields<'_>, key: &str) -> Option<secrecy::SecretString> {
    ctx.required(f, key, |c, p, v| c.secret(p, v, false))
}

fn read_channel(
    ctx: &mut Ctx<'_>,
    path: &str,
    value: &Value,
    kind: ChannelKind,
) -> Option<ChannelConnection> {
    match kind {
        ChannelKind::WooCommerce => {
            let f = ctx.table(path, value, WOOCOMMERCE_KEYS)?;
            let base_url = ctx.required(&f, "base_url", Ctx::http_url);
            let consumer_key = required_secret(ctx, &f, "consumer_key");
            let consumer_secret = required_secret(ctx, &f, "consumer_secret");
            let webhook_secret = required_secret(ctx, &f, "webhook_secret");
            Some(ChannelConnection::WooCommerce(WooCommerceConnection {
                base_url: base_url?,
                consumer_key: consumer_key?,
                consumer_secret: consumer_secret?,
                webhook_secret: webhook_secret?,
            }))
        }
        ChannelKind::AdobeCommerce => {
            let f = ctx.table(path, value, ADOBE_KEYS)?;
            let base_url = ctx.required(&f, "base_url", Ctx::http_url);
            let consumer_key = required_secret(ctx, &f, "consumer_key");
            let consumer_secret = required_secret(ctx, &f, "consumer_secret");
            let access_token = required_secret(ctx, &f, "access_token");
            let access_token_secret = required_secret(ctx, &f, "access_token_secret");
            Some(ChannelConnection::AdobeCommerce(AdobeCommerceConnection {
                base_url: base_url?,
                consumer_key: consumer_key?,
                consumer_secret: consumer_secret?,
                access_token: access_token?,
                access_token_secret: access_token_secret?,
            }))
        }
        ChannelKind::BigCommerce => {
            let f = ctx.table(path, value, BIGCOMMERCE_KEYS)?;
            let base_url = ctx.required(&f, "base_url", Ctx::http_url);
            let store_hash = ctx.required(&f, "store_hash", Ctx::code);
            let access_token = required_secret(ctx, &f, "access_token");
            let client_secret = required_secret(ctx, &f, "client_secret");
            Some(ChannelConnection::BigCommerce(BigCommerceConnection {
                base_url: base_url?,
                store_hash: store_hash?,
                access_token: access_token?,
                client_secret: client_secret?,
            }))
        }
        ChannelKind::ShipStation => {
            let f = ctx.table(path, value, SHIPSTATION_KEYS)?;
            let base_url = ctx.required(&f, "base_url", Ctx::http_url);
            let version = ctx.required(&f, "api_version", |c, p, v| {
                c.choice(
                    p,
                    v,
                    "API version",
                    &[
                        ("v1", ShipStationVersion::V1),
                        ("v2", ShipStationVersion::V2),
                    ],
                )
            });
            let auth = match version {
                Some(ShipStationVersion::V1) => {
                    let why = "when api_version = \"v1\"";
                    let api_key =
                        ctx.required_when(&f, "api_key", why, |c, p, v| c.secret(p, v, false));
                    let api_secret =
                        ctx.required_when(&f, "api_secret", why, |c, p, v| c.secret(p, v, false));
                    api_key
                        .zip(api_secret)
                        .map(|(api_key, api_secret)| ShipStationAuth::V1 {
                            api_key,
                            api_secret,
                        })
                }
                Some(ShipStationVersion::V2) => {
                    let why = "when api_version = \"v2\"";
                    let api_key =
                        ctx.required_when(&f, "api_key", why, |c, p, v| c.secret(p, v, false));
                    ctx.not_applicable(&f, "api_secret", "when api_version = \"v1\"");
                    api_key.map(|api_key| ShipStationAuth::V2 { api_key })
                }
                None => None,
            };
            Some(ChannelConnection::ShipStation(ShipStationConnection {
                base_url: base_url?,
                auth: auth?,
            }))
        }
    }
}

fn read_mapping(ctx: &mut Ctx<'_>, path: &str, value: &Value) -> Option<Mapping> {
    let f = ctx.table(path, value, MAPPING_KEYS)?;
    let mut ok = true;
    let mut map = |ctx: &mut Ctx<'_>, key: &str| -> BTreeMap<String, String> {
        match f.table.get(key) {
            None => BTreeMap::new(),
            Some(v) => ctx.string_map(&f.path_of(key), v).unwrap_or_else(|| {
                ok = false;
                BTreeMap::new()
            }),
        }
    };
    let skus = map(ctx, "skus");
    let customer_groups = map(ctx, "customer_groups");
    let payment_methods = map(ctx, "payment_methods");
    let shipping_methods = map(ctx, "shipping_methods");
    let tax_classes = map(ctx, "tax_classes");
    let locations = match f.table.get("locations") {
        None => Some(Vec::new()),
        Some(v) => ctx.string_list(&f.path_of("locations"), v),
    };
    let price_list = ctx.optional(&f, "price_list", Ctx::string);
    let default_customer_group = ctx.optional(&f, "default_customer_group", Ctx::string);
    let reference_prefix = ctx.optional(&f, "reference_prefix", Ctx::string);
    let optional_ok = (!f.has("price_list") || price_list.is_some())
        && (!f.has("default_customer_group") || default_customer_group.is_some())
        && (!f.has("reference_prefix") || reference_prefix.is_some());
    let order_document = ctx.required(&f, "order_document", |c, p, v| {
        c.choice(
            p,
            v,
            "order document",
            &[
                ("order", OrderDocument::Order),
                ("invoice", OrderDocument::Invoice),
            ],
        )
    });
    let reference_field = ctx.required(&f, "reference_field", Ctx::string);
    if !(ok && optional_ok) {
        return None;
    }
    Some(Mapping {
        skus,
        customer_groups,
        payment_methods,
        shipping_methods,
        tax_classes,
        locations: locations?,
        price_list,
        order_document: order_document?,
        reference_field: reference_field?,
        reference_prefix,
        default_customer_group,
    })
}

fn read_schedules(ctx: &mut Ctx<'_>, path: &str, value: &Value) -> Option<Schedules> {
    let f = ctx.table(path, value, SCHEDULE_KEYS)?;
    let mut get = |key: &str| {
        ctx.required(&f, key, |c, p, v| {
            c.duration_in(p, v, SCHEDULE_MIN, SCHEDULE_MAX)
        })
    };
    let stock_poll = get("stock_poll");
    let price_poll = get("price_poll");
    let order_backfill = get("order_backfill");
    let webhook_health = get("webhook_health");
    Some(Schedules {
        stock_poll: stock_poll?,
        price_poll: price_poll?,
        order_backfill: order_backfill?,
        webhook_health: webhook_health?,
    })
}

fn read_retry(ctx: &mut Ctx<'_>, path: &str, value: &Value) -> Option<RetryPolicy> {
    let f = ctx.table(path, value, RETRY_KEYS)?;
    let (lo, hi) = MAX_ATTEMPTS_RANGE;
    let max_attempts = ctx.required(&f, "max_attempts", |c, p, v| c.integer_in(p, v, lo, hi));
    let initial_backoff = ctx.required(&f, "initial_backoff", |c, p, v| {
        c.duration_in(p, v, BACKOFF_MIN, BACKOFF_MAX)
    });
    let max_backoff = ctx.required(&f, "max_backoff", |c, p, v| {
        c.duration_in(p, v, BACKOFF_MIN, BACKOFF_MAX)
    });
    let jitter = ctx.required(&f, "jitter", |c, p, v| c.number_in(p, v, 0.0, 1.0));
    if let (Some(initial), Some(max)) = (initial_backoff, max_backoff) {
        if max < initial {
            ctx.problem(
                &f.path_of("max_backoff"),
                format!(
                    "must be at least initial_backoff ({}), found {}",
                    humantime::format_duration(initial),
                    humantime::format_duration(max)
                ),
            );
            return None;
        }
    }
    Some(RetryPolicy {
        max_attempts: u32::try_from(max_attempts?).ok()?,
        initial_backoff: initial_backoff?,
        max_backoff: max_backoff?,
        jitter: jitter?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names() {
        for good in ["a", "shop-eu", "0", "a_b-c", &"x".repeat(63)] {
            assert!(valid_instance_name(good), "{good}");
        }
        for bad in ["", "-a", "_a", "Shop", "a b", "é", "a.b", &"x".repeat(64)] {
            assert!(!valid_instance_name(bad), "{bad}");
        }
    }
}
