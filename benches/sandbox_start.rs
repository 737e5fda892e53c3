//! How fast the sandbox is up: `ml-connector sandbox --seed demo --manifest
//! FILE` from spawn to a manifest on disk, and `Sandbox::start` in-process,
//! each next to a baseline measured in the same run (spawning the binary
//! for `--version`; an empty sandbox). Prints a table and writes it to
//! `docs/benchmarks.md`. Target: under a second to the manifest.
//!
//!     cargo bench --bench sandbox_start

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mlc_sandbox::{Sandbox, SandboxOptions, Seed};

mod support;

const RUNS: usize = 7;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn in_process(seed: Seed) -> Duration {
    let start = Instant::now();
    let sandbox = Sandbox::start(SandboxOptions {
        seed,
        ..Default::default()
    })
    .await
    .unwrap();
    let _ = sandbox.manifest();
    let elapsed = start.elapsed();
    sandbox.stop().await;
    elapsed
}

fn to_manifest() -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.json");
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ml-connector"))
        .args(["sandbox", "--seed", "demo", "--manifest"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let elapsed = loop {
        if std::fs::read_to_string(&file)
            .is_ok_and(|t| serde_json::from_str::<serde_json::Value>(&t).is_ok())
        {
            break start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no manifest");
        std::thread::sleep(Duration::from_micros(200));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    elapsed
}

fn version() -> Duration {
    let start = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_ml-connector"))
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut demo = Vec::new();
    let mut empty = Vec::new();
    let mut cli = Vec::new();
    let mut spawn = Vec::new();
    for _ in 0..RUNS {
        demo.push(in_process(Seed::Demo).await);
        empty.push(in_process(Seed::Empty).await);
        cli.push(tokio::task::spawn_blocking(to_manifest).await.unwrap());
        spawn.push(tokio::task::spawn_blocking(version).await.unwrap());
    }
    let table = format!(
        "Measured {} on {cores} cores, median of {RUNS} runs (release build).\n\n\
         | measure | time | baseline | baseline time |\n|---|---:|---|---:|\n\
         | `ml-connector sandbox --seed demo --manifest FILE`, spawn to manifest on disk (target < 1 s) | {} | `ml-connector --version`, spawn to exit | {} |\n\
         | `Sandbox::start` with the demo seed, in-process | {} | `Sandbox::start`, empty | {} |\n",
        chrono::Utc::now().format("%Y-%m-%d"),
        ms(median(cli)),
        ms(median(spawn)),
        ms(median(demo)),
        ms(median(empty)),
    );
    println!("{table}");
    support::write_section(
        concat!(env!("CARGO_MANIFEST_DIR"), "/docs/benchmarks.md"),
        "sandbox-start",
        &table,
    );
    println!("written to docs/benchmarks.md");
}
