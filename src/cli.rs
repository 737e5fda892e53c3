//! The command line: global flags shared by every command, and the commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Keeps an ERP (Sage 300, Sage X3, Sage 100) in sync with WooCommerce, Adobe
/// Commerce, BigCommerce and ShipStation. Every step is an event that can be
/// explained, replayed or rewound.
#[derive(Debug, Parser)]
#[command(name = "ml-connector", version, propagate_version = true)]
pub struct Cli {
    /// Flags every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes; each also reads an environment variable, and
/// falls back on the configuration file, then on a default.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The configuration file (TOML; see config/example.toml).
    #[arg(long, global = true, env = "MLC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the SQLite event store and local state live
    /// [default: the per-user data folder, e.g. ~/.local/share/ml-connector].
    #[arg(long, global = true, env = "MLC_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The event store: sqlite:PATH or postgres://USER:PASSWORD@HOST/DB
    /// [default: ml-connector.db in the data folder].
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Address the HTTP server listens on [default: service.listen, else 127.0.0.1:8080].
    #[arg(long, global = true, env = "MLC_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: webhook intake, process actors, pollers and
    /// projections, until SIGTERM or Ctrl-C.
    Serve,
    /// See it work: starts the sandbox (a seeded WooCommerce and Sage 300)
    /// and the service on a fresh SQLite store with a generated
    /// configuration, places a steady stream of orders (with refunds,
    /// customer edits and stock changes in Sage) and shows live progress.
    /// With --orders N --until-done it runs a fixed amount of work and exits
    /// with a summary checked against what the Sage 300 sandbox received.
    Demo(DemoArgs),
    /// Create or upgrade the event store's tables, then exit.
    Migrate,
    /// List the event log, or follow it as events are recorded.
    Events(EventsArgs),
    /// The read models (documents, audit, failures, health, counters): list
    /// them with their checkpoint and lag, or drop and rebuild them.
    Projections {
        /// What to do.
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// Order and customer documents: list, show a timeline, replay, rewind,
    /// replay in bulk, preview the ERP request.
    Documents(crate::documents::DocumentsArgs),
    /// Run the sandbox: simulators of the seven outside systems (Sage 300,
    /// Sage X3, Sage 100, WooCommerce, Adobe Commerce, BigCommerce,
    /// ShipStation) for tests and demos, until Ctrl-C or SIGTERM.
    Sandbox(SandboxArgs),
    /// API tokens for the operator API and the dashboard: create (the
    /// token is printed once, alone on the last line), list, revoke.
    Tokens {
        /// What to do.
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Work with the configuration file.
    Config {
        /// What to do with it.
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// `tokens` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token; it is shown this once, alone on the last line.
    Create {
        /// What it may do: viewers read; operators also replay, rewind,
        /// pause and resume; admins also manage instances and tokens.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A name for people (who or what uses it) [default: ROLE-ID].
        #[arg(long)]
        name: Option<String>,
    },
    /// List the tokens: id, name, role, created, last used, revoked.
    List,
    /// Revoke a token: from now on it is refused.
    Revoke {
        /// The token's id (from `tokens list`).
        id: String,
    },
}

/// Values of `tokens create --role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    /// Reads everything.
    Viewer,
    /// Reads, replays, rewinds, pauses and resumes.
    Operator,
    /// Everything, including instances and tokens.
    Admin,
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file: print every problem with its key path and
    /// exit non-zero when there is any.
    Check {
        /// The file to check.
        file: PathBuf,
    },
}

/// Filters and output of `events`.
#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    /// Only this instance's events.
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// Only this document's events, e.g. shop-eu/order/1042.
    #[arg(long, value_name = "ID")]
    pub document: Option<String>,
    /// Only events of this type, e.g. Parked.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Only events after this global position [default: 0, or with
    /// --follow: the events recorded from now on].
    #[arg(long, value_name = "POSITION")]
    pub after: Option<i64>,
    /// At most this many events (without --follow).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,
    /// Keep printing events as they are recorded, until Ctrl-C.
    #[arg(long, short)]
    pub follow: bool,
    /// One JSON object per line instead of columns.
    #[arg(long)]
    pub json: bool,
}

/// Options of `sandbox`.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// The data to start with: `demo` (a believable shop and ERP) or `empty`.
    #[arg(long, value_enum, default_value_t = SeedArg::Demo)]
    pub seed: SeedArg,
    /// Write the manifest (base URL and credentials of each system, JSON)
    /// to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
}

/// Values of `sandbox --seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeedArg {
    /// Hundreds of SKUs with prices and stock, matching store products, customers.
    Demo,
    /// No data: tests seed what they need through /_sandbox/.
    Empty,
}

/// Options of `demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Place this many orders, then keep running (or stop, with --until-done)
    /// [default: a steady stream until Ctrl-C].
    #[arg(long, value_name = "N")]
    pub orders: Option<usize>,
    /// Orders a second in the steady stream.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub rate: usize,
    /// Orders placed at once with --orders.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Faults the sandbox injects: none, flaky (20% Sage 5xx and 5% of writes
    /// whose answer is lost), outage (WooCommerce disables the webhook after
    /// failed deliveries), chaos (both).
    #[arg(long, value_name = "PROFILE", default_value = "none")]
    pub faults: String,
    /// With --orders: exit once every order has settled, printing a summary
    /// (posted once, posted twice, missing) checked against the sandbox;
    /// the exit code is non-zero unless every document landed exactly once.
    #[arg(long)]
    pub until_done: bool,
    /// Seconds between polls of Sage 300 stock and prices, webhook checks
    /// and order backfills.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub poll_secs: u64,
    /// Seed of the shop's random choices, to repeat a run.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Address of the sandbox [default: a free port on 127.0.0.1].
    #[arg(long, value_name = "ADDR")]
    pub sandbox_listen: Option<SocketAddr>,
}

/// `projections` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Each projection with its checkpoint and lag (events not yet applied).
    List,
    /// Drop a projection's tables and replay every event into them (all
    /// projections when no name is given), with a progress bar on a terminal
    /// and the speed at the end. Run it with the service stopped: a service
    /// running the same projection would race with the rebuild.
    Rebuild {
        /// The projection (see `projections list`) [default: all].
        name: Option<String>,
    },
}
