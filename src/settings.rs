//! Where each setting comes from: a flag (or its environment variable), else
//! the configuration file (with its `MLC__*` overrides), else a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use mlc_config::{Config, ExposeSecret, LogFormat};
use mlc_store::{EventStore, StoreOptions};

use crate::cli::GlobalArgs;

/// The resolved settings of this run.
pub struct Settings {
    pub config: Config,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub log_level: String,
}

impl Settings {
    pub fn resolve(args: &GlobalArgs) -> anyhow::Result<Settings> {
        if let Some(file) = &args.config {
            if !file.exists() {
                bail!("configuration file {} does not exist", file.display());
            }
        }
        let config =
            Config::load(args.config.as_deref(), std::env::vars()).map_err(|problems| {
                let file = args
                    .config
                    .as_deref()
                    .map_or("configuration".into(), |f| f.display().to_string());
                anyhow::anyhow!(
                    "{file} has problems (run `ml-connector config check {file}`):\n{problems}"
                )
            })?;
        let data_dir = match (&args.data_dir, &config.service.data_dir) {
            (Some(dir), _) | (None, Some(dir)) => dir.clone(),
            (None, None) => default_data_dir()?,
        };
        let database_url = match (&args.database_url, &config.service.database_url) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => url.url.expose_secret().to_string(),
            (None, None) => mlc_store::sqlite_url_in(&data_dir),
        };
        Ok(Settings {
            listen: args.listen.unwrap_or(config.service.listen),
            log_format: config.service.log_format,
            log_level: config.service.log_level.clone(),
            config,
            data_dir,
            database_url,
        })
    }

    /// Opens the event store, creating and migrating it when needed.
    /// The settings of the configuration file `file`, with the data folder
    /// and store given (the demo's generated configuration).
    pub fn for_file(
        file: &Path,
        data_dir: PathBuf,
        database_url: String,
        listen: Option<SocketAddr>,
    ) -> anyhow::Result<Settings> {
        Settings::resolve(&GlobalArgs {
            config: Some(file.to_path_buf()),
            data_dir: Some(data_dir),
            database_url: Some(database_url),
            listen,
        })
    }

    pub async fn open_store(&self) -> anyhow::Result<EventStore> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!("cannot create the data folder {}", self.data_dir.display())
        })?;
        EventStore::connect(&self.database_url, StoreOptions::default())
            .await
            .context("cannot open the event store")
    }
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "ml-connector")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".ml-connector")))
        .context("no home folder to keep data in: pass --data-dir")
}
