//! `ml-connector demo`: the sandbox (seeded) and the service on SQLite in one
//! process, with a generated configuration for WooCommerce <-> Sage 300, and
//! a shop placing orders. Live progress in the terminal; with `--until-done`,
//! a fixed amount of work and a summary checked against what the Sage 300
//! sandbox received.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use mlc_gateway::auth::{Role, TokenStore};
use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use mlc_workload::{verify, Expectations, FaultProfile, SandboxControl, Workload};
use rand::Rng;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::cli::DemoArgs;
use crate::service::{Progress, Service};
use crate::settings::Settings;

/// The demo's one instance.
pub const INSTANCE: &str = "demo";
/// Put before the store's order numbers in Sage 300's `OrderReference`.
pub const REFERENCE_PREFIX: &str = "WC-";

pub async fn run(global: &crate::cli::GlobalArgs, args: &DemoArgs) -> anyhow::Result<()> {
    let Some(faults) = FaultProfile::parse(&args.faults) else {
        bail!(
            "--faults {}: unknown profile (one of: {})",
            args.faults,
            FaultProfile::NAMES.join(", ")
        );
    };
    if args.until_done && args.orders.is_none() {
        bail!("--until-done needs --orders N: the amount of work to finish");
    }
    let data_dir = match &global.data_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("ml-connector-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    // A demo starts from a fresh store: the sandbox it talks to is new too.
    for name in ["demo.db", "demo.db-wal", "demo.db-shm"] {
        let _ = std::fs::remove_file(data_dir.join(name));
    }

    let sandbox = Sandbox::start(SandboxOptions {
        listen: args
            .sandbox_listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        seed: Seed::Demo,
    })
    .await
    .context("cannot start the sandbox")?;
    // 8080 when it is free, else any free port: a demo should not fail on a busy port.
    let listen = global.listen.unwrap_or_else(|| {
        let preferred = SocketAddr::from(([127, 0, 0, 1], 8080));
        match std::net::TcpListener::bind(preferred) {
            Ok(_) => preferred,
            Err(_) => SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    });
    let config_path = data_dir.join("demo.toml");
    std::fs::write(
        &config_path,
        demo_config(&sandbox.manifest(), listen, &data_dir, args.poll_secs)?,
    )
    .with_context(|| format!("cannot write {}", config_path.display()))?;
    let database_url = global
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("demo.db").display()));
    let settings = Settings::for_file(&config_path, data_dir.clone(), database_url, None)?;
    crate::telemetry::init(&settings);

    let shutdown = CancellationToken::new();
    let service = Service::start(settings, shutdown.clone()).await?;
    let base = format!("http://{}", service.addr());
    // The API and the dashboard need a token: the demo makes one for you.
    let (_, token) = TokenStore::new(service.store().clone())
        .create(Role::Admin, "demo")
        .await
        .context("cannot create the demo's token")?;
    println!("ml-connector demo");
    println!(
        "  sandbox     http://{}  (manifest: /_sandbox/manifest)",
        sandbox.addr()
    );
    println!("  service     {base}  (health: {base}/healthz)");
    println!("  dashboard   {base}/  (sign in with the token below)");
    println!("  API         {base}/api/v1/documents?instance={INSTANCE}  (Authorization: Bearer <token>)");
    println!("  token       {token}  (admin; shown once)");
    println!(
        "  events      ml-connector events --database-url sqlite:{} --follow",
        data_dir.join("demo.db").display()
    );
    println!("  config      {}", config_path.display());
    println!("  faults      {}", faults.name());
    println!();

    let control = SandboxControl::new(format!("http://{}", sandbox.addr()));
    let placed = Arc::new(AtomicUsize::new(0));
    let mut signals = crate::signals::Signals::catch()?;
    let result = match args.orders {
        Some(orders) => {
            let workload = Workload {
                orders,
                concurrency: args.concurrency,
                faults,
                seed: args.seed.unwrap_or_else(|| rand::rng().random()),
                run_tag: format!("demo{}", std::process::id()),
                ..Workload::default()
            };
            let shop = {
                let control = control.clone();
                let placed = placed.clone();
                tokio::spawn(async move { workload.run(&control, placed).await })
            };
            let started = Instant::now();
            let done = tokio::select! {
                done = watch(&service, &placed, orders, args.until_done, started) => done,
                _ = signals.recv() => false,
            };
            let ledger = shop.await.context("the shop stopped")??;
            if !ledger.errors.is_empty() {
                eprintln!(
                    "the shop hit {} errors, first: {}",
                    ledger.errors.len(),
                    ledger.errors[0]
                );
            }
            if args.until_done {
                if !done {
                    eprintln!("stopped before the work was done");
                }
                let verdict = verify(&control, &ledger, &expectations()).await?;
                println!("\n{verdict}");
                println!(
                    "({} orders in {:.1}s)",
                    orders,
                    started.elapsed().as_secs_f64()
                );
                if !verdict.is_exact() || !done {
                    shutdown.cancel();
                    let _ = service.wait().await;
                    bail!("the run did not land every document exactly once");
                }
                Ok(())
            } else {
                signals.recv().await;
                Ok(())
            }
        }
        None => {
            let shop = steady_shop(control.clone(), placed.clone(), args.rate, faults);
            let progress = watch(&service, &placed, usize::MAX, false, Instant::now());
            tokio::select! {
                r = shop => r,
                _ = progress => Ok(()),
                _ = signals.recv() => Ok(()),
            }
        }
    };
    shutdown.cancel();
    service.wait().await?;
    sandbox.stop().await;
    result
}

/// How the demo's documents show in Sage 300: the reference prefix of its config.
pub fn expectations() -> Expectations {
    Expectations {
        order_reference: Box::new(|o| format!("{REFERENCE_PREFIX}{}", o.number)),
        credit_note_reference: Box::new(|r| {
            format!("{REFERENCE_PREFIX}{}-R{}", r.order.number, r.id)
        }),
    }
}

/// Places `rate` orders a second until stopped.
async fn steady_shop(
    control: SandboxControl,
    placed: Arc<AtomicUsize>,
    rate: usize,
    faults: FaultProfile,
) -> anyhow::Result<()> {
    faults.install(&control).await?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    for second in 0u64.. {
        tick.tick().await;
        let workload = Workload {
            orders: rate.max(1),
            concurrency: rate.clamp(1, 8),
            seed: second,
            run_tag: format!("demo{}s{second}", std::process::id()),
            ..Workload::default()
        };
        let ledger = workload.run(&control, placed.clone()).await?;
        if let Some(error) = ledger.errors.first() {
            tracing::warn!(%error, "the demo shop hit an error");
        }
    }
    Ok(())
}

/// Prints progress every second; returns true once `orders` are placed and
/// every document is settled (posted or parked, credit notes done), when
/// `until_done`.
async fn watch(
    service: &Service,
    placed: &AtomicUsize,
    orders: usize,
    until_done: bool,
    started: Instant,
) -> bool {
    let tty = std::io::stdout().is_terminal();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut settled_for = 0;
    loop {
        tick.tick().await;
        let progress = match service.progress(INSTANCE).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cannot read progress: {e:#}");
                continue;
            }
        };
        let placed_now = placed.load(Ordering::Relaxed);
        let line = format!(
            "[{:>5.0}s] placed {placed_now:>6} | received {:>6} | posted {:>6} | retrying {:>4} | parked {:>4} | refunds pending {:>4}",
            started.elapsed().as_secs_f64(),
            progress.received,
            progress.posted,
            progress.retrying,
            progress.parked,
            progress.refunds_pending,
        );
        if tty {
            print!("\r{line}");
            let _ = std::io::stdout().flush();
        } else {
            println!("{line}");
        }
        if until_done && placed_now >= orders && progress.is_settled(orders) {
            // Settled twice in a row: refunds fire updates that arrive a moment later.
            settled_for += 1;
            if settled_for >= 3 {
                if tty {
                    println!();
                }
                return true;
            }
        } else {
            settled_for = 0;
        }
    }
}

impl Progress {
    fn is_settled(&self, orders: usize) -> bool {
        self.received >= orders && self.in_flight == 0
    }
}

/// The configuration the demo runs with, pointing at the sandbox.
fn demo_config(
    manifest: &Value,
    listen: SocketAddr,
    data_dir: &Path,
    poll_secs: u64,
) -> anyhow::Result<String> {
    let sage = &manifest["sage300"];
    let woo = &manifest["woocommerce"];
    let text = |v: &Value, key: &str| -> anyhow::Result<String> {
        v[key]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("the sandbox manifest has no {key}"))
    };
    let secret: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    Ok(format!(
        r#"# Generated by `ml-connector demo`: WooCommerce <-> Sage 300 against the sandbox.
[service]
listen = "{listen}"
data_dir = "{data_dir}"
log_level = "warn"

[instances.{INSTANCE}]
erp = "sage300"
channel = "woocommerce"

[instances.{INSTANCE}.erp_connection]
base_url = "{sage_url}"
company = "{company}"
username = "{username}"
password = "{password}"

[instances.{INSTANCE}.channel_connection]
base_url = "{woo_url}"
consumer_key = "{consumer_key}"
consumer_secret = "{consumer_secret}"
webhook_secret = "{secret}"

[instances.{INSTANCE}.mapping]
price_list = "STD"
reference_prefix = "{REFERENCE_PREFIX}"

[instances.{INSTANCE}.schedules]
stock_poll = "{poll_secs}s"
price_poll = "{poll_secs}s"
order_backfill = "{poll_secs}s"
webhook_health = "{poll_secs}s"

# Generous: with --faults chaos one Sage request in five fails, so an attempt
# (three requests) fails about half the time; 8 attempts would park ~0.3%.
[instances.{INSTANCE}.retry]
max_attempts = 25
initial_backoff = "1s"
max_backoff = "5s"
"#,
        data_dir = data_dir.display().to_string().replace('\\', "/"),
        sage_url = text(sage, "base_url")?,
        company = text(sage, "company")?,
        username = text(sage, "username")?,
        password = text(sage, "password")?,
        woo_url = text(woo, "base_url")?,
        consumer_key = text(woo, "consumer_key")?,
        consumer_secret = text(woo, "consumer_secret")?,
    ))
}
