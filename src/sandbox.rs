//! `ml-connector sandbox`: the outside world, simulated, on one port.

use std::net::SocketAddr;

use anyhow::Context;
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};

use crate::cli::{SandboxArgs, SeedArg};

pub async fn run(listen: Option<SocketAddr>, args: &SandboxArgs) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .try_init();
    let options = SandboxOptions {
        listen: listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        seed: match args.seed {
            SeedArg::Demo => Seed::Demo,
            SeedArg::Empty => Seed::Empty,
        },
    };
    // Caught from before the manifest is out, so a client may stop us at once.
    let mut signals = crate::signals::Signals::catch()?;
    let sandbox = Sandbox::start(options).await.with_context(|| {
        format!(
            "cannot start the sandbox on {}",
            listen.map_or("a free port".into(), |a| a.to_string())
        )
    })?;
    let manifest = serde_json::to_string_pretty(&sandbox.manifest())?;
    match &args.manifest {
        Some(file) => {
            std::fs::write(file, format!("{manifest}\n"))
                .with_context(|| format!("cannot write the manifest to {}", file.display()))?;
            eprintln!(
                "sandbox on http://{} (manifest in {})",
                sandbox.addr(),
                file.display()
            );
        }
        None => {
            println!("{manifest}");
            eprintln!("sandbox on http://{}", sandbox.addr());
        }
    }
    signals.recv().await;
    sandbox.stop().await;
    Ok(())
}
