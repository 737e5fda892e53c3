//! The `ml-connector` binary as a user runs it: config check, migrate,
//! serve (with a graceful stop) and the event log, on SQLite and PostgreSQL.

mod config_check;
mod documents;
mod projections;
mod sandbox;
mod serve;
mod tokens;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test, with no configuration from the environment.
pub fn ml_connector() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ml-connector"));
    for var in [
        "MLC_CONFIG",
        "MLC_DATA_DIR",
        "DATABASE_URL",
        "MLC_LISTEN",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A configuration with one WooCommerce <-> Sage 300 instance `shop-eu`.
pub fn write_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("ml-connector.toml");
    std::fs::write(
        &path,
        r#"
[instances.shop-eu]
erp = "sage300"
channel = "woocommerce"
[instances.shop-eu.erp_connection]
base_url = "https://erp.example.com/Sage300WebApi/v1.0/-/"
company = "SAMLTD"
username = "WEBAPI"
password = "sage-password-never-shown"
[instances.shop-eu.channel_connection]
base_url = "https://shop.example.eu/"
consumer_key = "ck_never_shown"
consumer_secret = "cs_never_shown"
webhook_secret = "whsec_never_shown"
"#,
    )
    .unwrap();
    path
}

/// A child process killed when the test ends, however it ends.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `serve`, killed if the test ends without stopping it.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        let mut child = ml_connector()
            .args(args)
            .args(["--listen", "127.0.0.1:0", "serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("ml-connector listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, base }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop within 20 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        (status, stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
