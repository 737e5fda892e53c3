//! Loading, layering and validation of whole configurations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mlc_config::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

/// Paths of all problems, in order.
fn paths(e: &ConfigErrors) -> Vec<&str> {
    e.problems.iter().map(|p| p.path.as_str()).collect()
}

fn message_at<'a>(e: &'a ConfigErrors, path: &str) -> &'a str {
    match e.at(path).next() {
        Some(p) => &p.message,
        None => panic!("no problem at {path}; got:\n{e}"),
    }
}

/// A valid Sage 300 + WooCommerce instance with plain-text secrets.
const MINIMAL: &str = r#"
[instances.shop-eu]
erp = "sage300"
channel = "woocommerce"

[instances.shop-eu.erp_connection]
base_url = "https://erp.example.com/Sage300WebApi/v1.0/-/"
company = "SAMLTD"
username = "WEBAPI"
password = "Pl41n-S3cret-Sage"

[instances.shop-eu.channel_connection]
base_url = "https://shop.example.eu/"
consumer_key = "ck_Pl41n-S3cret-Key"
consumer_secret = "cs_Pl41n-S3cret-Secret"
webhook_secret = "Pl41n-S3cret-Hook"
"#;

const PLAIN_SECRETS: [&str; 4] = [
    "Pl41n-S3cret-Sage",
    "ck_Pl41n-S3cret-Key",
    "cs_Pl41n-S3cret-Secret",
    "Pl41n-S3cret-Hook",
];

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("example.toml")
}

fn example_env() -> Vec<(String, String)> {
    env(&[
        ("MLC_DATABASE_URL", "postgres://mlc:pw@db.internal/mlc"),
        ("SAGE300_PASSWORD", "s300-Zq9-secret"),
        ("WC_EU_CONSUMER_KEY", "ck_1-Zq9-secret"),
        ("WC_EU_CONSUMER_SECRET", "cs_1-Zq9-secret"),
        ("WC_EU_WEBHOOK_SECRET", "wh-Zq9-secret"),
        ("X3_APP_SECRET", "x3s-Zq9-secret"),
        ("BC_ACCESS_TOKEN", "bct-Zq9-secret"),
        ("BC_CLIENT_SECRET", "bcs-Zq9-secret"),
        ("SAGE100_PASSWORD", "s100-Zq9-secret"),
        ("SAGE100_AGENT_KEY", "agent-Zq9-secret"),
        ("SHIPSTATION_API_KEY", "ssk-Zq9-secret"),
        ("X3_UK_PASSWORD", "x3uk-Zq9-secret"),
        ("MAGENTO_CONSUMER_KEY", "mck-Zq9-secret"),
        ("MAGENTO_CONSUMER_SECRET", "mcs-Zq9-secret"),
        ("MAGENTO_ACCESS_TOKEN", "mat-Zq9-secret"),
        ("MAGENTO_ACCESS_TOKEN_SECRET", "mats-Zq9-secret"),
    ])
}

#[test]
fn annotated_example_is_valid() {
    let config = Config::load(Some(&example_path()), example_env())
        .unwrap_or_else(|e| panic!("example.toml has problems:\n{e}"));

    let s = &config.service;
    assert_eq!(s.listen, "0.0.0.0:8080".parse().unwrap());
    assert_eq!(
        s.data_dir.as_deref(),
        Some(Path::new("/var/lib/ml-connector"))
    );
    let db = s.database_url.as_ref().unwrap();
    assert_eq!(db.backend, DatabaseBackend::Postgres);
    assert_eq!(db.url.expose_secret(), "postgres://mlc:pw@db.internal/mlc");
    assert_eq!(s.log_format, LogFormat::Json);

    assert_eq!(
        config.instances.keys().collect::<Vec<_>>(),
        ["b2b-us", "fulfilment", "magento-uk", "shop-eu"]
    );

    let shop = config.instance("shop-eu").unwrap();
    assert_eq!(shop.name, "shop-eu");
    assert_eq!(shop.erp_kind(), ErpKind::Sage300);
    assert_eq!(shop.channel_kind(), ChannelKind::WooCommerce);
    assert!(!shop.paused);
    match &shop.erp {
        ErpConnection::Sage300(c) => {
            assert_eq!(c.company, "SAMLTD");
            assert_eq!(c.password.expose_secret(), "s300-Zq9-secret");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(shop.mapping.skus["TSHIRT-BLUE-M"], "A1-103/0");
    assert_eq!(shop.mapping.tax_classes["reduced-rate"], "2");
    assert_eq!(shop.mapping.locations, ["1", "2"]);
    assert_eq!(shop.mapping.price_list.as_deref(), Some("STD"));
    assert_eq!(shop.retry.jitter, 0.2);

    let b2b = config.instance("b2b-us").unwrap();
    match &b2b.erp {
        ErpConnection::SageX3(c) => match &c.auth {
            SageX3Auth::Jwt {
                client_id,
                secret,
                endpoint,
                user,
            } => {
                assert_eq!(client_id, "ml-connector");
                assert_eq!(secret.expose_secret(), "x3s-Zq9-secret");
                assert_eq!(endpoint, "SEED");
                assert_eq!(user.as_deref(), Some("WEBSVC"));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    match &b2b.channel {
        ChannelConnection::BigCommerce(c) => {
            assert_eq!(c.base_url.as_str(), "https://api.bigcommerce.com/");
            assert_eq!(c.store_hash, "abc123xyz");
        }
        other => panic!("{other:?}"),
    }
    // Tables left out take the defaults; a partial table keeps the other defaults.
    assert_eq!(b2b.schedules.price_poll, Duration::from_secs(3600));
    assert_eq!(b2b.schedules.stock_poll, Duration::from_secs(300));
    assert_eq!(
        b2b.mapping,
        Mapping {
            reference_field: "OrderReference".into(),
            ..Mapping::default()
        }
    );

    let ful = config.instance("fulfilment").unwrap();
    match (&ful.erp, &ful.channel) {
        (ErpConnection::Sage100(e), ChannelConnection::ShipStation(c)) => {
            let agent = e.agent.as_ref().unwrap();
            assert_eq!(agent.url.as_str(), "http://10.0.0.5:8701/");
            assert_eq!(agent.api_key.expose_secret(), "agent-Zq9-secret");
            assert_eq!(c.auth.api_version(), "v2");
        }
        other => panic!("{other:?}"),
    }

    let uk = config.instance("magento-uk").unwrap();
    assert!(uk.paused);
    assert_eq!(uk.mapping.order_document, OrderDocument::Invoice);
    assert_eq!(uk.retry.max_attempts, 5);
    assert_eq!(uk.retry.initial_backoff, Duration::from_secs(2));
    assert_eq!(uk.retry.max_backoff, Duration::from_secs(3600));
    assert_eq!(uk.channel_kind(), ChannelKind::AdobeCommerce);

    // No secret of the environment leaks through Debug.
    let debug = format!("{config:?}");
    for (_, value) in example_env() {
        assert!(!debug.contains(&value), "{value} leaked in Debug output");
    }
}

#[test]
fn example_without_its_env_names_every_missing_variable() {
    let e = Config::load(Some(&example_path()), no_env()).unwrap_err();
    assert_eq!(e.len(), 16, "{e}");
    assert_eq!(
        message_at(&e, "instances.shop-eu.erp_connection.password"),
        "environment variable `SAGE300_PASSWORD` is not set"
    );
    assert_eq!(
        message_at(&e, "service.database_url"),
        "environment variable `MLC_DATABASE_URL` is not set"
    );
}

#[test]
fn three_mistakes_are_all_reported_with_their_paths() {
    let text = MINIMAL
        .replace("erp = \"sage300\"", "erp = \"sage3000\"")
        .replace("https://shop.example.eu/", "shop.example.eu")
        + "\n[instances.shop-eu.schedules]\nstock_poll = 5\n";
    let e = Config::from_toml_str(&text, no_env()).unwrap_err();
    assert_eq!(
        paths(&e),
        [
            "instances.shop-eu.erp",
            "instances.shop-eu.channel_connection.base_url",
            "instances.shop-eu.schedules.stock_poll",
        ],
        "{e}"
    );
    assert_eq!(
        message_at(&e, "instances.shop-eu.erp"),
        "unknown ERP kind \"sage3000\"; expected one of \"sage300\", \"sage_x3\", \"sage100\" (did you mean \"sage300\"?)"
    );
    assert!(
        message_at(&e, "instances.shop-eu.channel_connection.base_url").starts_with(
            "expected an http(s) URL like \"https://host/\", found \"shop.example.eu\""
        )
    );
    let display = e.to_string();
    assert!(display
        .lines()
        .any(|l| l == "instances.shop-eu.schedules.stock_poll: expected a duration like \"5m\", found integer 5"));
    assert_eq!(display.lines().count(), 3);
}

#[test]
fn env_overrides_file_overrides_defaults() {
    let text = format!(
        "{MINIMAL}\n[service]\nlog_level = \"debug\"\nlisten = \"127.0.0.1:9000\"\n\
         [instances.shop-eu.retry]\nmax_attempts = 5\njitter = 0.5\n"
    );
    let environment = env(&[
        ("MLC__SERVICE__LOG_LEVEL", "warn"),
        ("MLC__INSTANCES__SHOP_EU__RETRY__MAX_ATTEMPTS", "3"),
        ("MLC__instances__Shop_Eu__PAUSED", "true"),
        ("MLC__INSTANCES__SHOP_EU__ERP_CONNECTION__PASSWORD", "12345"),
        ("UNRELATED", "x"),
        ("MLC_SINGLE_UNDERSCORE", "ignored"),
    ]);
    let config = Config::from_toml_str(&text, environment).unwrap_or_else(|e| panic!("{e}"));
    // env > file
    assert_eq!(config.service.log_level, "warn");
    // file > defaults
    assert_eq!(config.service.listen, "127.0.0.1:9000".parse().unwrap());
    // defaults
    assert_eq!(config.service.log_format, LogFormat::Text);
    assert_eq!(config.service.data_dir, None);
    assert!(config.service.database_url.is_none());

    let shop = &config.instances["shop-eu"];
    assert_eq!(config.instances.len(), 1, "segments match existing keys");
    assert_eq!(shop.retry.max_attempts, 3);
    assert_eq!(shop.retry.jitter, 0.5);
    assert_eq!(shop.retry.initial_backoff, Duration::from_secs(2));
    assert_eq!(shop.retry.max_backoff, Duration::from_secs(600));
    assert!(shop.paused);
    match &shop.erp {
        // "12345" parses as an integer but a secret takes the text as is.
        ErpConnection::Sage300(c) => assert_eq!(c.password.expose_secret(), "12345"),
        other => panic!("{other:?}"),
    }

    // Without the env, the file wins over the defaults.
    let config = Config::from_toml_str(&text, no_env()).unwrap();
    assert_eq!(config.service.log_level, "debug");
    assert_eq!(config.instances["shop-eu"].retry.max_attempts, 5);

    // Without the file's settings, the defaults hold.
    let config = Config::from_toml_str(MINIMAL, no_env()).unwrap();
    assert_eq!(config.service.log_level, "info");
    assert_eq!(config.service.listen, "127.0.0.1:8080".parse().unwrap());
    let d = &config.instances["shop-eu"];
    assert!(!d.paused);
    assert_eq!(d.retry.max_attempts, 8);
    assert_eq!(d.retry.jitter, 0.2);
    assert_eq!(
        d.schedules,
        Schedules {
            stock_poll: Duration::from_secs(300),
            price_poll: Duration::from_secs(900),
            order_backfill: Duration::from_secs(300),
            webhook_health: Duration::from_secs(600),
        }
    );
    assert_eq!(d.mapping.order_document, OrderDocument::Order);
    assert_eq!(d.mapping.reference_field, "OrderReference");
}

#[test]
fn env_can_define_a_whole_instance_with_a_lowercase_name() {
    let environment = env(&[
        ("MLC__INSTANCES__NEW_SHOP__ERP", "sage300"),
        ("MLC__INSTANCES__NEW_SHOP__CHANNEL", "bigcommerce"),
        (
            "MLC__INSTANCES__NEW_SHOP__ERP_CONNECTION__BASE_URL",
            "http://erp.local/",
        ),
        (
            "MLC__INSTANCES__NEW_SHOP__ERP_CONNECTION__COMPANY",
            "SAMINC",
        ),
        (
            "MLC__INSTANCES__NEW_SHOP__ERP_CONNECTION__USERNAME",
            "ADMIN",
        ),
        ("MLC__INSTANCES__NEW_SHOP__ERP_CONNECTION__PASSWORD", ""),
        (
            "MLC__INSTANCES__NEW_SHOP__CHANNEL_CONNECTION__STORE_HASH",
            "h4sh",
        ),
        (
            "MLC__INSTANCES__NEW_SHOP__CHANNEL_CONNECTION__ACCESS_TOKEN",
            "t",
        ),
        (
            "MLC__INSTANCES__NEW_SHOP__CHANNEL_CONNECTION__CLIENT_SECRET",
            "c",
        ),
    ]);
    let config = Config::load(None, environment).unwrap_or_else(|e| panic!("{e}"));
    let i = &config.instances["new_shop"];
    assert_eq!(i.erp_kind(), ErpKind::Sage300);
    assert_eq!(
        i.retry.max_attempts, 8,
        "instance defaults apply to env-made instances"
    );
    match &i.erp {
        // Sage 300 accepts an empty password (security off).
        ErpConnection::Sage300(c) => assert_eq!(c.password.expose_secret(), ""),
        other => panic!("{other:?}"),
    }
}

#[test]
fn env_problems_name_the_variable() {
    let e = Config::from_toml_str(
        MINIMAL,
        env(&[
            ("MLC__SERVICE__LISTN", "0.0.0.0:1"),
            ("MLC__INSTANCES__SHOP_EU__PAUSED", "yes"),
            ("MLC__SERVICE____LISTEN", "x"),
        ]),
    )
    .unwrap_err();
    assert_eq!(
        message_at(&e, "service.listn"),
        "unknown key; did you mean \"listen\"? (set by environment variable MLC__SERVICE__LISTN)"
    );
    assert_eq!(
        message_at(&e, "instances.shop-eu.paused"),
        "expected a boolean (true or false), found string \"yes\" (set by environment variable MLC__INSTANCES__SHOP_EU__PAUSED)"
    );
    assert!(message_at(&e, "").contains("MLC__SERVICE____LISTEN"));
    assert_eq!(e.len(), 3, "{e}");
}

#[test]
fn plain_text_secrets_never_leak() {
    // Valid: Debug of the whole configuration.
    let config = Config::from_toml_str(MINIMAL, no_env()).unwrap();
    let debug = format!("{config:?} {:#?}", config.instances["shop-eu"]);
    for secret in PLAIN_SECRETS {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    assert!(debug.contains("REDACTED"));

    // Invalid elsewhere, and secrets of the wrong type or in the wrong place.
    let text = MINIMAL
        .replace("company = \"SAMLTD\"", "company = \"SAM LTD\"")
        .replace(
            "webhook_secret = \"Pl41n-S3cret-Hook\"",
            "webhook_secret = 987654321\nwebhook_secrt = \"Pl41n-S3cret-Hook\"",
        )
        + "\n[service]\ndatabase_url = \"mysql://u:Pl41n-S3cret-Sage@db/x\"\n";
    let e = Config::from_toml_str(&text, no_env()).unwrap_err();
    assert_eq!(e.len(), 4, "{e}");
    let all = format!("{e}\n{e:?}");
    for secret in PLAIN_SECRETS.iter().chain(&["987654321"]) {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
    assert_eq!(
        message_at(&e, "instances.shop-eu.channel_connection.webhook_secret"),
        "expected a secret (a string, { env = \"VAR\" } or { file = \"PATH\" }), found integer"
    );
    assert_eq!(
        message_at(&e, "instances.shop-eu.channel_connection.webhook_secrt"),
        "unknown key; did you mean \"webhook_secret\"?"
    );

    // A syntax error on a secret's line does not quote the line.
    let broken = MINIMAL.replace(
        "password = \"Pl41n-S3cret-Sage\"",
        "password = \"Pl41n-S3cret-Sage",
    );
    let e = Config::from_toml_str(&broken, no_env()).unwrap_err();
    assert!(!format!("{e} {e:?}").contains("Pl41n"), "{e}");

    // A URL with credentials is refused without being echoed.
    let text = MINIMAL.replace(
        "https://shop.example.eu/",
        "https://admin:Pl41n-S3cret-Sage@shop.example.eu/",
    );
    let e = Config::from_toml_str(&text, no_env()).unwrap_err();
    assert_eq!(paths(&e), ["instances.shop-eu.channel_connection.base_url"]);
    assert!(!e.to_string().contains("Pl41n"));
}

#[test]
fn missing_env_reference_names_the_variable() {
    let text = MINIMAL.replace(
        "password = \"Pl41n-S3cret-Sage\"",
        "password = { env = \"SAGE300_PASSWORD\" }",
    );
    let e = Config::from_toml_str(&text, no_env()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "instances.shop-eu.erp_connection.password: environment variable `SAGE300_PASSWORD` is not set"
    );
    let config = Config::from_toml_str(&text, env(&[("SAGE300_PASSWORD", "from-env")])).unwrap();
    match &config.instances["shop-eu"].erp {
        ErpConnection::Sage300(c) => assert_eq!(c.password.expose_secret(), "from-env"),
        other => panic!("{other:?}"),
    }
    // Malformed references.
    let text = MINIMAL
        .replace(
            "consumer_key = \"ck_Pl41n-S3cret-Key\"",
            "consumer_key = { evn = \"X\" }",
        )
        .replace(
            "consumer_secret = \"cs_Pl41n-S3cret-Secret\"",
            "consumer_secret = { env = \"A\", file = \"b\" }",
        )
        .replace(
            "webhook_secret = \"Pl41n-S3cret-Hook\"",
            "webhook_secret = { env = \"EMPTY\" }",
        );
    let e = Config::from_toml_str(&text, env(&[("EMPTY", "")])).unwrap_err();
    assert_eq!(
        message_at(&e, "instances.shop-eu.channel_connection.consumer_key.evn"),
        "unknown key; did you mean \"env\"?"
    );
    assert_eq!(
        message_at(&e, "instances.shop-eu.channel_connection.consumer_secret"),
        "give either `env` or `file`, not both"
    );
    assert_eq!(
        message_at(&e, "instances.shop-eu.channel_connection.webhook_secret"),
        "environment variable `EMPTY` is empty"
    );
    assert_eq!(e.len(), 3, "{e}");
}

#[test]
fn secrets_from_files_relative_to_the_config_file() {
    let dir = std::env::temp_dir().join(format!("mlc-config-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    std::fs::write(dir.join("secrets/sage"), "from-file\r\n").unwrap();
    let text = MINIMAL.replace(
        "password = \"Pl41n-S3cret-Sage\"",
        "password = { file = \"secrets/sage\" }",
    ) + r#"
[instances.other]
erp = "sage300"
channel = "shipstation"
[instances.other.erp_connection]
base_url = "http://x/"
company = "A"
username = "u"
password = { file = "secrets/missing" }
[instances.other.channel_connection]
base_url = "https://ssapi.shipstation.com"
api_version = "v1"
api_key = "k"
api_secret = "s"
"#;
    let file = dir.join("config.toml");
    std::fs::write(&file, &text).unwrap();

    let e = Config::load(Some(&file), no_env()).unwrap_err();
    let missing = dir.join("secrets/missing");
    assert_eq!(e.len(), 1, "{e}");
    assert!(
        message_at(&e, "instances.other.erp_connection.password").starts_with(&format!(
            "cannot read secret file `{}`: ",
            missing.display()
        ))
    );

    std::fs::write(&missing, "").unwrap();
    let e = Config::load(Some(&file), no_env());
    // Sage 300 allows an empty password.
    let config = e.unwrap_or_else(|e| panic!("{e}"));
    match &config.instances["shop-eu"].erp {
        ErpConnection::Sage300(c) => assert_eq!(c.password.expose_secret(), "from-file"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();

    let e = Config::load(Some(&dir.join("config.toml")), no_env()).unwrap_err();
    assert_eq!(e.problems[0].path, "");
    assert!(e.problems[0]
        .message
        .starts_with("cannot read configuration file"));
}

#[test]
fn unknown_keys_get_suggestions() {
    let text = format!(
        "{MINIMAL}\n[service]\nlisten_addr = \"127.0.0.1:1\"\nfrobnicate = 1\n\
         [instances.shop-eu.schedules]\nstock_pol = \"1m\"\n[instances.shop-eu.mapping]\nsku = {{ a = \"b\" }}\n"
    );
    let e = Config::from_toml_str(&text, no_env()).unwrap_err();
    // Order between sibling keys follows the TOML map (sorted, or document
    // order with toml's `preserve_order`): compare as sets.
    let mut lines: Vec<String> = e.iter().map(ToString::to_string).collect();
    lines.sort();
    let mut expected = vec![
            "service.frobnicate: unknown key; expected one of \"listen\", \"data_dir\", \"database_url\", \"log_format\", \"log_level\", \"public_url\", \"otlp_endpoint\"",
            "service.listen_addr: unknown key; did you mean \"listen\"?",
            "instances.shop-eu.mapping.sku: unknown key; did you mean \"skus\"?",
            "instances.shop-eu.schedules.stock_pol: unknown key; did you mean \"stock_poll\"?",
    ];
    expected.sort();
    assert_eq!(lines, expected);
    let e = Config::from_toml_str("servce = 1", no_env()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "servce: unknown key; did you mean \"service\"?"
    );
}

#[test]
fn syntax_error_has_a_position() {
    let e = Config::from_toml_str(
        "[service]\nlisten = \"127.0.0.1:8080\"\nlog_level = info\n",
        no_env(),
    )
    .unwrap_err();
    assert_eq!(e.len(), 1);
    let p = &e.problems[0];
    assert_eq!(p.path, "");
    assert!(
        p.message
            .starts_with("TOML syntax error at line 3, column "),
        "{p}"
    );
    assert_eq!(p.to_string(), p.message);

    let e = Config::from_toml_str("[a]\nx = 1\n[a]\n", no_env()).unwrap_err();
    assert!(e.problems[0].message.contains("line 3"), "{e}");
}

#[test]
fn cross_field_rules() {
    let text = r#"
[instances.x3]
erp = "sage_x3"
channel = "shipstation"
[instances.x3.erp_connection]
base_url = "https://x3.example.com/"
folder = "SEED"
auth = "jwt"
secret = "s"
username = "u"
[instances.x3.channel_connection]
base_url = "https://api.shipstation.com"
api_version = "v2"
api_key = "k"
api_secret = "s"
[instances.x3.retry]
initial_backoff = "5m"
max_backoff = "1m"

[instances.s100]
erp = "sage100"
channel = "shipstation"
[instances.s100.erp_connection]
base_url = "https://s100.example.com/"
company = "ABC"
username = "u"
password = "p"
agent_url = "http://agent/"
[instances.s100.channel_connection]
base_url = "https://ssapi.shipstation.com"
api_version = "v1"
api_key = "k"
"#;
    let e = Config::from_toml_str(text, no_env()).unwrap_err();
    let mut got: Vec<String> = e.iter().map(ToString::to_string).collect();
    got.sort();
    let mut expected = vec![
            "instances.s100.erp_connection.agent_api_key: missing required key (required when agent_url is set)",
            "instances.s100.channel_connection.api_secret: missing required key (required when api_version = \"v1\")",
            "instances.x3.erp_connection.client_id: missing required key (required when auth = \"jwt\")",
            "instances.x3.erp_connection.endpoint: missing required key (required when auth = \"jwt\")",
            "instances.x3.erp_connection.username: only used when auth = \"basic\"; remove it",
            "instances.x3.channel_connection.api_secret: only used when api_version = \"v1\"; remove it",
            "instances.x3.retry.max_backoff: must be at least initial_backoff (5m), found 1m",
    ];
    expected.sort();
    assert_eq!(got, expected);
}

#[test]
fn types_ranges_enums_and_names() {
    let text = format!(
        r#"{MINIMAL}
[service]
listen = "localhost:8080"
log_format = "yaml"
log_level = "verbose"
database_url = "mysql://db"

[instances.shop-eu.retry]
max_attempts = 0
jitter = 1.5
initial_backoff = "2 parsecs"

[instances.shop-eu.schedules]
stock_poll = "0s"
price_poll = true

[instances.shop-eu.mapping]
skus = {{ "A" = 1, "B" = "" }}
customer_groups = ["x"]
locations = ["1", "1", 2]
order_document = "quote"

[instances."Shop EU"]
erp = "sage100"
channel = "amazon"
paused = "no"
erp_connection = 5
"#
    );
    let e = Config::from_toml_str(&text, no_env()).unwrap_err();
    let expected = [
        ("service.database_url", "must start with \"sqlite:\", \"postgres:\" or \"postgresql:\""),
        ("service.listen", "expected an IP address and port like \"127.0.0.1:8080\" or \"[::]:8080\", found \"localhost:8080\""),
        ("service.log_format", "unknown log format \"yaml\"; expected one of \"text\", \"json\""),
        ("service.log_level", "unknown log level \"verbose\"; expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", \"off\" or a filter like \"info,mlc_actors=debug\""),
        ("instances.\"Shop EU\"", "invalid instance name \"Shop EU\": use 1 to 63 lowercase letters, digits, \"_\" or \"-\", starting with a letter or digit"),
        ("instances.\"Shop EU\".channel", "unknown channel kind \"amazon\"; expected one of \"woocommerce\", \"adobe_commerce\", \"bigcommerce\", \"shipstation\""),
        ("instances.\"Shop EU\".paused", "expected a boolean (true or false), found string \"no\""),
        ("instances.\"Shop EU\".erp_connection", "expected a table, found integer 5"),
        ("instances.\"Shop EU\".channel_connection", "missing required key"),
        ("instances.shop-eu.mapping.skus.A", "expected a string, found integer 1"),
        ("instances.shop-eu.mapping.skus.B", "must not be empty"),
        ("instances.shop-eu.mapping.customer_groups", "expected a table of strings like { \"channel-code\" = \"ERP-CODE\" }, found array"),
        ("instances.shop-eu.mapping.locations[1]", "duplicate entry \"1\""),
        ("instances.shop-eu.mapping.locations[2]", "expected a string, found integer 2"),
        ("instances.shop-eu.mapping.order_document", "unknown order document \"quote\"; expected one of \"order\", \"invoice\""),
        ("instances.shop-eu.schedules.price_poll", "expected a duration like \"5m\", found boolean true"),
        ("instances.shop-eu.schedules.stock_poll", "must be between 1s and 30days, found 0s"),
        ("instances.shop-eu.retry.max_attempts", "must be between 1 and 100, found 0"),
        ("instances.shop-eu.retry.jitter", "must be between 0 and 1, found 1.5"),
    ];
    for (path, message) in expected {
        assert_eq!(message_at(&e, path), message, "at {path}");
    }
    assert!(message_at(&e, "instances.shop-eu.retry.initial_backoff")
        .starts_with("expected a duration like \"5m\", found string \"2 parsecs\" (unknown time unit \"parsecs\""));
    assert_eq!(e.len(), expected.len() + 1, "{e}");
}

#[test]
fn log_level_filters_and_database_urls() {
    let ok =
        |extra: &str| Config::from_toml_str(&format!("{MINIMAL}\n[service]\n{extra}"), no_env());
    assert!(ok("log_level = \"info,mlc_actors=debug,sqlx=warn\"").is_ok());
    assert!(ok("log_level = \"WARN\"").is_ok());
    let e = ok("log_level = \"info,sqlx=loud\"").unwrap_err();
    assert!(message_at(&e, "service.log_level").starts_with("unknown log level \"loud\""));

    let c = ok("database_url = \"sqlite:///tmp/x.db\"").unwrap();
    assert_eq!(
        c.service.database_url.unwrap().backend,
        DatabaseBackend::Sqlite
    );
    let c = ok("database_url = \"postgresql://u@h/db\"").unwrap();
    assert_eq!(
        c.service.database_url.unwrap().backend,
        DatabaseBackend::Postgres
    );
    assert!(ok("data_dir = \"\"").is_err());
}

#[test]
fn fingerprint_covers_settings_not_secrets() {
    let base = Config::from_toml_str(MINIMAL, no_env()).unwrap();
    let fp = base.instances["shop-eu"].fingerprint();
    assert_eq!(fp.len(), 64);
    assert!(fp
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    // Stable across loads.
    let again = Config::from_toml_str(MINIMAL, no_env()).unwrap();
    assert_eq!(again.instances["shop-eu"].fingerprint(), fp);

    // A secret change, or a change of where it comes from, leaves it as is.
    let other_secret = MINIMAL.replace("Pl41n-S3cret-Sage", "something-else");
    let c = Config::from_toml_str(&other_secret, no_env()).unwrap();
    assert_eq!(c.instances["shop-eu"].fingerprint(), fp);
    let from_env = MINIMAL.replace("\"Pl41n-S3cret-Hook\"", "{ env = \"HOOK\" }");
    let c = Config::from_toml_str(&from_env, env(&[("HOOK", "h")])).unwrap();
    assert_eq!(c.instances["shop-eu"].fingerprint(), fp);

    // Any non-secret change moves it.
    for changed in [
        MINIMAL.replace("WEBAPI", "WEBAPI2"),
        MINIMAL.replace("https://shop.example.eu/", "https://shop.example.eu/v2/"),
        format!("{MINIMAL}\n[instances.shop-eu.retry]\njitter = 0.3\n"),
        format!("{MINIMAL}\n[instances.shop-eu.schedules]\nstock_poll = \"301s\"\n"),
        format!("{MINIMAL}\n[instances.shop-eu.mapping]\nskus = {{ a = \"b\" }}\n"),
        format!("{MINIMAL}\n[instances.shop-eu.mapping]\nprice_list = \"STD\"\n"),
        MINIMAL.replace(
            "channel = \"woocommerce\"",
            "channel = \"woocommerce\"\npaused = true",
        ),
    ] {
        let c = Config::from_toml_str(&changed, no_env()).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(c.instances["shop-eu"].fingerprint(), fp, "{changed}");
    }
}

#[test]
fn no_file_and_no_env_gives_the_defaults() {
    let config = Config::load(None, no_env()).unwrap();
    assert!(config.instances.is_empty());
    assert_eq!(config.service.listen, "127.0.0.1:8080".parse().unwrap());
    assert!(DEFAULTS_TOML.contains("[service]"));
}

#[test]
fn errors_display_one_problem_per_line() {
    let e = ConfigErrors {
        problems: vec![
            Problem::new("a.b", "first"),
            Problem::new("", "whole document"),
        ],
    };
    assert_eq!(e.to_string(), "a.b: first\nwhole document");
}

#[test]
fn otlp_endpoint_is_optional_and_env_overridable() {
    let c = Config::from_toml_str(MINIMAL, no_env()).unwrap();
    assert_eq!(c.service.otlp_endpoint, None);
    let c = Config::from_toml_str(
        MINIMAL,
        env(&[("MLC__SERVICE__OTLP_ENDPOINT", "http://collector:4318")]),
    )
    .unwrap();
    assert_eq!(
        c.service.otlp_endpoint.unwrap().as_str(),
        "http://collector:4318/"
    );
    let text = format!("{MINIMAL}\n[service]\notlp_endpoint = \"not a url\"\n");
    assert!(Config::from_toml_str(&text, no_env()).is_err());
}
