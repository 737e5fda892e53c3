//! Configuration of ml-connector.
//!
//! One TOML file declares the service settings (`[service]`) and the
//! integration instances (`[instances.NAME]`, each an ERP paired with a store
//! or shipping channel). It is layered:
//!
//! 1. embedded defaults ([`DEFAULTS_TOML`], `config/config.default.toml`);
//! 2. the file;
//! 3. environment overrides: `MLC__SERVICE__LISTEN=0.0.0.0:8080` sets
//!    `service.listen`, `MLC__INSTANCES__SHOP_EU__PAUSED=true` sets
//!    `instances.shop-eu.paused` (see `docs/configuration.md`).
//!
//! Validation reports every problem at once, each with its key path
//! ([`ConfigErrors`]), instead of stopping at the first one.
//!
//! Secrets (passwords, keys, tokens) are written as a string,
//! `{ env = "VAR" }` or `{ file = "/path" }`, are resolved at load time and
//! are held as [`secrecy::SecretString`]: they never appear in `Debug`
//! output or in problem messages. Read one with
//! [`ExposeSecret::expose_secret`].
//!
//! ```
//! use mlc_config::{Config, ExposeSecret};
//!
//! let toml = r#"
//! [instances.shop-eu]
//! erp = "sage300"
//! channel = "bigcommerce"
//! [instances.shop-eu.erp_connection]
//! base_url = "https://erp.example.com/Sage300WebApi/v1.0/-/"
//! company = "SAMLTD"
//! username = "WEBAPI"
//! password = { env = "SAGE_PASSWORD" }
//! [instances.shop-eu.channel_connection]
//! store_hash = "abc123"
//! access_token = { env = "BC_TOKEN" }
//! client_secret = { env = "BC_CLIENT_SECRET" }
//! "#;
//! let env = [
//!     ("SAGE_PASSWORD", "p"),
//!     ("BC_TOKEN", "t"),
//!     ("BC_CLIENT_SECRET", "s"),
//!     ("MLC__SERVICE__LOG_LEVEL", "debug"),
//! ]
//! .map(|(k, v)| (k.to_string(), v.to_string()));
//! let config = Config::from_toml_str(toml, env).unwrap();
//! assert_eq!(config.service.log_level, "debug");
//! let shop = &config.instances["shop-eu"];
//! assert_eq!(shop.channel.base_url().as_str(), "https://api.bigcommerce.com/");
//! if let mlc_config::ErpConnection::Sage300(c) = &shop.erp {
//!     assert_eq!(c.password.expose_secret(), "p");
//! }
//! assert_eq!(shop.fingerprint().len(), 64);
//!
//! let err = Config::from_toml_str("[service]\nlisten = 8080\nlog_levl = \"x\"", std::iter::empty())
//!     .unwrap_err();
//! assert_eq!(err.problems.len(), 2);
//! println!("{err}"); // one `path: message` line per problem
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod fingerprint;
mod load;
mod model;
mod reader;
mod validate;

use std::path::Path;

pub use error::{ConfigErrors, Problem};
pub use load::{DEFAULTS_TOML, ENV_PREFIX};
pub use model::{
    AdobeCommerceConnection, BigCommerceConnection, ChannelConnection, ChannelKind, Config,
    DatabaseBackend, DatabaseUrl, ErpConnection, ErpKind, InstanceConfig, LogFormat, Mapping,
    OrderDocument, RetryPolicy, Sage100Agent, Sage100Connection, Sage300Connection, SageX3Auth,
    SageX3Connection, Schedules, ServiceConfig, ShipStationAuth, ShipStationConnection,
    WooCommerceConnection,
};
pub use secrecy::{ExposeSecret, SecretString};

impl Config {
    /// Loads the configuration: embedded defaults, then the file at `path`
    /// (skipped when `None`), then the `MLC__*` variables of `env`.
    ///
    /// `env` is the environment to use, e.g. `std::env::vars()`; it also
    /// resolves `{ env = "VAR" }` secrets. Relative `{ file = "…" }` secret
    /// paths are taken relative to the configuration file's directory.
    ///
    /// On failure every problem found is returned; an unreadable file or a
    /// TOML syntax error is a single problem with an empty path.
    pub fn load<I>(path: Option<&Path>, env: I) -> Result<Config, ConfigErrors>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        load::load_file(path, env)
    }

    /// Like [`Config::load`], with the file's text given directly. Relative
    /// `{ file = "…" }` secret paths are taken relative to the current directory.
    pub fn from_toml_str<I>(text: &str, env: I) -> Result<Config, ConfigErrors>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        load::load(Some(text), env, None)
    }

    /// The instance called `name`, if declared.
    pub fn instance(&self, name: &str) -> Option<&InstanceConfig> {
        self.instances.get(name)
    }
}

impl InstanceConfig {
    /// Hex SHA-256 (64 lowercase hex digits) of a canonical serialization of
    /// the instance's non-secret settings: name, kinds, URLs, user names and
    /// other identifiers, `paused`, mapping, schedules and retry.
    ///
    /// Secrets are left out (changing a password or where it comes from does
    /// not change the fingerprint), so the value can be stored and logged to
    /// detect that an instance's configuration changed.
    pub fn fingerprint(&self) -> String {
        fingerprint::instance(self)
    }

    /// The kind of ERP (`erp`).
    pub fn erp_kind(&self) -> ErpKind {
        self.erp.kind()
    }

    /// The kind of channel (`channel`).
    pub fn channel_kind(&self) -> ChannelKind {
        self.channel.kind()
    }
}
