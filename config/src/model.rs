//! The typed configuration produced by a successful load.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// A validated configuration: the service settings and every integration instance.
///
/// Built by [`Config::load`] or [`Config::from_toml_str`]. `Debug` output is
/// safe to log: secrets print as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The `[service]` table.
    pub service: ServiceConfig,
    /// The `[instances.NAME]` tables, keyed by instance name.
    pub instances: BTreeMap<String, InstanceConfig>,
}

/// The `[service]` table: process-wide settings.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// `listen`: address of the HTTP server (webhooks, health, admin API).
    /// Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `data_dir`: directory for local state. `None` when absent: the binary
    /// then picks a per-user default.
    pub data_dir: Option<PathBuf>,
    /// `database_url`: event store database. `None` when absent: a SQLite
    /// file in the data directory.
    pub database_url: Option<DatabaseUrl>,
    /// `log_format`: format of log lines. Default [`LogFormat::Text`].
    pub log_format: LogFormat,
    /// `log_level`: a `tracing` filter such as `info` or `info,mlc_actors=debug`.
    /// Default `info`.
    pub log_level: String,
    /// `public_url`: where the outside systems reach this service (webhook
    /// delivery URLs are built from it). Default `http://{listen}/`.
    pub public_url: Option<url::Url>,
    /// `otlp_endpoint`: an OpenTelemetry collector's OTLP/HTTP base URL
    /// (traces go to `{otlp_endpoint}/v1/traces`, protobuf). `None`: the
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` environment variable, else no traces.
    pub otlp_endpoint: Option<url::Url>,
}

/// A database URL. Kept secret because a PostgreSQL URL usually carries a password.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    /// Which database the URL points to (from its scheme).
    pub backend: DatabaseBackend,
    /// The URL itself; read it with `secrecy::ExposeSecret::expose_secret`.
    pub url: SecretString,
}

/// The database kinds that `service.database_url` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatabaseBackend {
    /// A URL starting with `sqlite:`.
    Sqlite,
    /// A URL starting with `postgres:` or `postgresql:`.
    Postgres,
}

/// Values of `service.log_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogFormat {
    /// `"text"`: human-readable lines (the default).
    #[default]
    Text,
    /// `"json"`: one JSON object per line.
    Json,
}

impl LogFormat {
    /// The value as written in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// One integration instance, `[instances.NAME]`: an ERP paired with a channel.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    /// The instance name (the key under `instances`), matching `^[a-z0-9][a-z0-9_-]{0,62}$`.
    pub name: String,
    /// `erp` plus `erp_connection`: which ERP and how to reach it.
    pub erp: ErpConnection,
    /// `channel` plus `channel_connection`: which store or shipping service and how to reach it.
    pub channel: ChannelConnection,
    /// `paused`: when true the instance is loaded but does not sync. Default false.
    pub paused: bool,
    /// `[mapping]`: codes translated between the channel and the ERP.
    pub mapping: Mapping,
    /// `[schedules]`: polling intervals.
    pub schedules: Schedules,
    /// `[retry]`: how failed calls to either side are retried.
    pub retry: RetryPolicy,
}

/// The ERP kinds accepted by `instances.NAME.erp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErpKind {
    /// `"sage300"`: Sage 300 through its Web API.
    Sage300,
    /// `"sage_x3"`: Sage X3 through its REST or GraphQL API.
    SageX3,
    /// `"sage100"`: Sage 100 through its web services (optionally via an agent).
    Sage100,
}

impl ErpKind {
    /// Every kind, in documentation order.
    pub const ALL: [ErpKind; 3] = [ErpKind::Sage300, ErpKind::SageX3, ErpKind::Sage100];

    /// The value as written in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            ErpKind::Sage300 => "sage300",
            ErpKind::SageX3 => "sage_x3",
            ErpKind::Sage100 => "sage100",
        }
    }
}

impl fmt::Display for ErpKind {
    /// Writes [`ErpKind::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The channel kinds accepted by `instances.NAME.channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelKind {
    /// `"woocommerce"`: WooCommerce REST API v3.
    WooCommerce,
    /// `"adobe_commerce"`: Adobe Commerce (Magento 2) REST API, OAuth 1.0a integration.
    AdobeCommerce,
    /// `"bigcommerce"`: BigCommerce REST API with an API account token.
    BigCommerce,
    /// `"shipstation"`: ShipStation API v1 or v2.
    ShipStation,
}

impl ChannelKind {
    /// Every kind, in documentation order.
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::WooCommerce,
        ChannelKind::AdobeCommerce,
        ChannelKind::BigCommerce,
        ChannelKind::ShipStation,
    ];

    /// The value as written in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::WooCommerce => "woocommerce",
            ChannelKind::AdobeCommerce => "adobe_commerce",
            ChannelKind::BigCommerce => "bigcommerce",
            ChannelKind::ShipStation => "shipstation",
        }
    }
}

impl fmt::Display for ChannelKind {
    /// Writes [`ChannelKind::as_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to reach the ERP: one variant per [`ErpKind`], from `erp_connection`.
#[derive(Debug, Clone)]
pub enum ErpConnection {
    /// `erp = "sage300"`.
    Sage300(Sage300Connection),
    /// `erp = "sage_x3"`.
    SageX3(SageX3Connection),
    /// `erp = "sage100"`.
    Sage100(Sage100Connection),
}

impl ErpConnection {
    /// The kind of ERP.
    pub fn kind(&self) -> ErpKind {
        match self {
            ErpConnection::Sage300(_) => ErpKind::Sage300,
            ErpConnection::SageX3(_) => ErpKind::SageX3,
            ErpConnection::Sage100(_) => ErpKind::Sage100,
        }
    }

    /// The connection's `base_url`.
    pub fn base_url(&self) -> &Url {
        match self {
            ErpConnection::Sage300(c) => &c.base_url,
            ErpConnection::SageX3(c) => &c.base_url,
            ErpConnection::Sage100(c) => &c.base_url,
        }
    }
}

/// Sage 300 Web API connection (HTTP Basic authentication).
#[derive(Debug, Clone)]
pub struct Sage300Connection {
    /// `base_url`: the Web API root, e.g. `https://erp.example.com/Sage300WebApi/v1.0/-/`.
    pub base_url: Url,
    /// `company`: the company (organisation) ID, e.g. `SAMLTD`.
    pub company: String,
    /// `username`: a Sage 300 user ID with Web API access.
    pub username: String,
    /// `password`: that user's password (secret; may be empty when system security is off).
    pub password: SecretString,
}

/// Sage X3 connection.
#[derive(Debug, Clone)]
pub struct SageX3Connection {
    /// `base_url`: the Syracuse server (REST) or the GraphQL API URL.
    pub base_url: Url,
    /// `folder`: the X3 folder (Syracuse endpoint) holding the company data, e.g. `SEED`.
    pub folder: String,
    /// `auth` and the credentials that go with it.
    pub auth: SageX3Auth,
}

/// Sage X3 authentication, chosen by `auth`.
#[derive(Debug, Clone)]
pub enum SageX3Auth {
    /// `auth = "basic"`: user and password.
    Basic {
        /// `username`: the X3 (Syracuse) login.
        username: String,
        /// `password`: its password (secret).
        password: SecretString,
    },
    /// `auth = "jwt"`: a connected application signing its own JWTs (HS256).
    Jwt {
        /// `client_id`: the connected application's client ID (the JWT `iss`).
        client_id: String,
        /// `secret`: the connected application's secret, the HS256 key (secret).
        secret: SecretString,
        /// `endpoint`: the value sent in the `x-xtrem-endpoint` header.
        endpoint: String,
        /// `user`: the X3 user put in the JWT `sub`; `None` lets the application's allowed user apply.
        user: Option<String>,
    },
}

impl SageX3Auth {
    /// `"basic"` or `"jwt"`, as written in the file.
    pub fn as_str(&self) -> &'static str {
        match self {
            SageX3Auth::Basic { .. } => "basic",
            SageX3Auth::Jwt { .. } => "jwt",
        }
    }
}

/// Sage 100 connection (eBusiness web services, optionally an on-premises agent).
#[derive(Debug, Clone)]
pub struct Sage100Connection {
    /// `base_url`: the web services URL.
    pub base_url: Url,
    /// `company`: the company code, e.g. `ABC`.
    pub company: String,
    /// `username`: a Sage 100 user.
    pub username: String,
    /// `password`: that user's password (secret).
    pub password: SecretString,
    /// `agent_url` plus `agent_api_key`, when an agent is used (both or neither).
    pub agent: Option<Sage100Agent>,
}

/// The optional Sage 100 agent, from `agent_url` and `agent_api_key`.
#[derive(Debug, Clone)]
pub struct Sage100Agent {
    /// `agent_url`: where the agent listens.
    pub url: Url,
    /// `agent_api_key`: the key the agent expects (secret).
    pub api_key: SecretString,
}

/// How to reach the channel: one variant per [`ChannelKind`], from `channel_connection`.
#[derive(Debug, Clone)]
pub enum ChannelConnection {
    /// `channel = "woocommerce"`.
    WooCommerce(WooCommerceConnection),
    /// `channel = "adobe_commerce"`.
    AdobeCommerce(AdobeCommerceConnection),
    /// `channel = "bigcommerce"`.
    BigCommerce(BigCommerceConnection),
    /// `channel = "shipstation"`.
    ShipStation(ShipStationConnection),
}

impl ChannelConnection {
    /// The kind of channel.
    pub fn kind(&self) -> ChannelKind {
        match self {
            ChannelConnection::WooCommerce(_) => ChannelKind::WooCommerce,
            ChannelConnection::AdobeCommerce(_) => ChannelKind::AdobeCommerce,
            ChannelConnection::BigCommerce(_) => ChannelKind::BigCommerce,
            ChannelConnection::ShipStation(_) => ChannelKind::ShipStation,
        }
    }

    /// The connection's `base_url`.
    pub fn base_url(&self) -> &Url {
        match self {
            ChannelConnection::WooCommerce(c) => &c.base_url,
            ChannelConnection::AdobeCommerce(c) => &c.base_url,
            ChannelConnection::BigCommerce(c) => &c.base_url,
            ChannelConnection::ShipStation(c) => &c.base_url,
        }
    }
}

/// WooCommerce REST API connection.
#[derive(Debug, Clone)]
pub struct WooCommerceConnection {
    /// `base_url`: the store's site URL, e.g. `https://shop.example.com/`.
    pub base_url: Url,
    /// `consumer_key`: REST API key, `ck_…` (secret).
    pub consumer_key: SecretString,
    /// `consumer_secret`: REST API secret, `cs_…` (secret).
    pub consumer_secret: SecretString,
    /// `webhook_secret`: the secret set on the webhooks, to check `X-WC-Webhook-Signature` (secret).
    pub webhook_secret: SecretString,
}

/// Adobe Commerce (Magento 2) integration connection (OAuth 1.0a).
#[derive(Debug, Clone)]
pub struct AdobeCommerceConnection {
    /// `base_url`: the store URL, e.g. `https://shop.example.com/`.
    pub base_url: Url,
    /// `consumer_key`: the integration's consumer key (secret).
    pub consumer_key: SecretString,
    /// `consumer_secret`: the integration's consumer secret (secret).
    pub consumer_secret: SecretString,
    /// `access_token`: the integration's access token (secret).
    pub access_token: SecretString,
    /// `access_token_secret`: the integration's access token secret (secret).
    pub access_token_secret: SecretString,
}

/// BigCommerce API account connection.
#[derive(Debug, Clone)]
pub struct BigCommerceConnection {
    /// `base_url`: the API gateway. Default `https://api.bigcommerce.com`.
    pub base_url: Url,
    /// `store_hash`: the store's permanent ID (the `{store_hash}` in API paths).
    pub store_hash: String,
    /// `access_token`: the API account token sent as `X-Auth-Token` (secret).
    pub access_token: SecretString,
    /// `client_secret`: the API account's client secret, which signs webhooks (secret).
    pub client_secret: SecretString,
}

/// ShipStation connection.
#[derive(Debug, Clone)]
pub struct ShipStationConnection {
    /// `base_url`: e.g. `https://ssapi.shipstation.com` (v1) or `https://api.shipstation.com` (v2).
    pub base_url: Url,
    /// `api_version` and the credentials that go with it.
    pub auth: ShipStationAuth,
}

/// ShipStation API version and credentials, chosen by `api_version`.
#[derive(Debug, Clone)]
pub enum ShipStationAuth {
    /// `api_version = "v1"`: HTTP Basic with key and secret.
    V1 {
        /// `api_key` (secret).
        api_key: SecretString,
        /// `api_secret` (secret).
        api_secret: SecretString,
    },
    /// `api_version = "v2"`: `API-Key` header.
    V2 {
        /// `api_key` (secret).
        api_key: SecretString,
    },
}

impl ShipStationAuth {
    /// `"v1"` or `"v2"`, as written in the file.
    pub fn api_version(&self) -> &'static str {
        match self {
            ShipStationAuth::V1 { .. } => "v1",
            ShipStationAuth::V2 { .. } => "v2",
        }
    }
}

/// The `[mapping]` table of an instance: translations between channel and ERP codes.
///
/// In every map the key is the channel-side code and the value the ERP-side code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    /// `skus`: channel SKU → ERP item number, for SKUs that differ. Unlisted SKUs are used as they are.
    pub skus: BTreeMap<String, String>,
    /// `customer_groups`: channel customer group → ERP customer group.
    pub customer_groups: BTreeMap<String, String>,
    /// `payment_methods`: channel payment method → ERP payment code.
    pub payment_methods: BTreeMap<String, String>,
    /// `shipping_methods`: channel shipping method → ERP ship-via code.
    pub shipping_methods: BTreeMap<String, String>,
    /// `tax_classes`: channel tax class → ERP tax class or group.
    pub tax_classes: BTreeMap<String, String>,
    /// `locations`: ERP locations (warehouses) whose stock is published; empty means all.
    pub locations: Vec<String>,
    /// `price_list`: ERP price list whose prices are published; `None` = no price sync.
    pub price_list: Option<String>,
    /// `order_document`: what a channel order becomes in the ERP. Default [`OrderDocument::Order`].
    pub order_document: OrderDocument,
    /// `reference_field`: ERP document field that stores the channel order number. Default `OrderReference`.
    pub reference_field: String,
    /// `reference_prefix`: put before the store's order number in the ERP's
    /// reference field (and credit note references), e.g. `"WC-"`. Default none.
    pub reference_prefix: Option<String>,
    /// `default_customer_group`: ERP customer group for new customers whose group is not mapped.
    pub default_customer_group: Option<String>,
}

/// Values of `mapping.order_document`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OrderDocument {
    /// `"order"`: a sales order (the default).
    #[default]
    Order,
    /// `"invoice"`: an invoice directly.
    Invoice,
}

impl OrderDocument {
    /// The value as written in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderDocument::Order => "order",
            OrderDocument::Invoice => "invoice",
        }
    }
}

/// The `[schedules]` table of an instance: how often periodic jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedules {
    /// `stock_poll`: read ERP stock levels. Default 5 minutes.
    pub stock_poll: Duration,
    /// `price_poll`: read ERP prices. Default 15 minutes.
    pub price_poll: Duration,
    /// `order_backfill`: fetch channel orders that webhooks may have missed. Default 5 minutes.
    pub order_backfill: Duration,
    /// `webhook_health`: check that the channel's webhooks still exist and are active. Default 10 minutes.
    pub webhook_health: Duration,
}

/// The `[retry]` table of an instance: exponential backoff for failed calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// `max_attempts`: attempts including the first, 1 to 100. Default 8.
    pub max_attempts: u32,
    /// `initial_backoff`: wait after the first failure. Default 2 seconds.
    pub initial_backoff: Duration,
    /// `max_backoff`: ceiling of the growing wait, at least `initial_backoff`. Default 10 minutes.
    pub max_backoff: Duration,
    /// `jitter`: relative random variation of each wait, 0 to 1 (0 = none, 0.2 = up to ±20%). Default 0.2.
    pub jitter: f64,
}
