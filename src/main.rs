//! `ml-connector`: keeps an ERP in sync with the web stores and shipping
//! systems around it. This binary is the composition root: it reads the
//! configuration, opens the event store and runs the components.

mod cli;
mod config_check;
mod demo;
mod documents;
mod events;
mod projections_cmd;
mod sandbox;
mod serve;
mod service;
mod settings;
mod signals;
mod telemetry;
mod tokens;

use clap::Parser;

use crate::cli::{Cli, Command, ConfigCommand};

/// mimalloc instead of glibc malloc: allocation was the largest single cost
/// of the webhook and order paths, and glibc's per-thread arenas kept freed
/// memory in the RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        // `config check` must name every problem, so it loads on its own terms.
        Command::Config {
            command: ConfigCommand::Check { file },
        } => return config_check::run(file),
        // The sandbox plays the outside world: no configuration, no store.
        Command::Sandbox(args) => sandbox::run(cli.global.listen, args).await,
        Command::Demo(args) => demo::run(&cli.global, args).await,
        _ => run(&cli).await,
    };
    // Spans not yet exported are sent before the process ends.
    telemetry::shutdown();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> anyhow::Result<()> {
    let settings = settings::Settings::resolve(&cli.global)?;
    telemetry::init(&settings);
    match &cli.command {
        Command::Serve => serve::run(settings).await,
        Command::Migrate => {
            let store = settings.open_store().await?;
            println!("event store at {} is migrated", store.display_url());
            Ok(())
        }
        Command::Events(args) => events::run(&settings, args).await,
        Command::Projections { command } => projections_cmd::run(&settings, command).await,
        Command::Documents(args) => documents::run(&settings, args).await,
        Command::Tokens { command } => tokens::run(&settings, command).await,
        Command::Config { .. } | Command::Sandbox(_) | Command::Demo(_) => {
            unreachable!("handled before settings are resolved")
        }
    }
}
