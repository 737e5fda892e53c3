//! Telemetry and the secrets scan, end to end: the real binary (`serve`)
//! against the in-process sandbox.
//!
//! - [`traces`]: an in-process OTLP/HTTP receiver gets one trace spanning
//!   the webhook receipt and the Sage 300 POST, whose id is in the
//!   `OrderReceived` event's metadata;
//! - [`metrics`]: `/metrics` parses as Prometheus text and its counters match
//!   what the sandbox counted;
//! - [`secrets`]: after a run with refunds and faults, no configured secret
//!   (nor its base64 or URL-encoded form) is in the store, the debug logs or
//!   any API response.

mod metrics;
mod secrets;
mod traces;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mlc_sandbox::{Sandbox, SandboxOptions, Seed};
use mlc_workload::SandboxControl;
use serde_json::Value;

/// The binary under test, with no configuration from the environment.
pub fn ml_connector() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ml-connector"));
    for var in [
        "MLC_CONFIG",
        "MLC_DATA_DIR",
        "DATABASE_URL",
        "MLC_LISTEN",
        "RUST_LOG",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// What varies between the tests' configurations.
pub struct Options {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub webhook_secret: String,
    pub log_level: &'static str,
    pub otlp_endpoint: Option<String>,
}

/// A configuration for one WooCommerce <-> Sage 300 instance `shop` on the
/// sandbox, listening on a port the OS picks, with short schedules.
pub fn config_for(manifest: &Value, options: &Options) -> String {
    let sage = &manifest["sage300"];
    let woo = &manifest["woocommerce"];
    let otlp = options
        .otlp_endpoint
        .as_ref()
        .map(|url| format!("otlp_endpoint = \"{url}\"\n"))
        .unwrap_or_default();
    format!(
        r#"
[service]
listen = "127.0.0.1:0"
log_level = "{level}"
{otlp}
[instances.shop]
erp = "sage300"
channel = "woocommerce"
[instances.shop.erp_connection]
base_url = "{}"
company = "{}"
username = "{}"
password = "{}"
[instances.shop.channel_connection]
base_url = "{}"
consumer_key = "{}"
consumer_secret = "{}"
webhook_secret = "{}"
[instances.shop.mapping]
price_list = "STD"
reference_prefix = "WC-"
[instances.shop.schedules]
stock_poll = "2s"
price_poll = "2s"
order_backfill = "2s"
webhook_health = "1s"
[instances.shop.retry]
max_attempts = 10
initial_backoff = "200ms"
max_backoff = "1s"
"#,
        s(sage, "base_url"),
        s(sage, "company"),
        s(sage, "username"),
        s(sage, "password"),
        s(woo, "base_url"),
        options.consumer_key,
        options.consumer_secret,
        options.webhook_secret,
        level = options.log_level,
    )
}

pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap()
}

/// The sandbox (demo data) and its control API.
pub async fn sandbox() -> (Sandbox, SandboxControl) {
    let sandbox = Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Seed::Demo,
    })
    .await
    .unwrap();
    let control = SandboxControl::new(format!("http://{}", sandbox.addr()));
    (sandbox, control)
}

/// A running `ml-connector serve`, killed when dropped.
pub struct Service {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Service {
    /// Starts `serve` with `config` on `database_url`, stderr to `stderr`,
    /// and waits for its "listening" line.
    pub fn start(
        dir: &Path,
        config: &str,
        database_url: &str,
        stderr: Stdio,
        env: &[(&str, &str)],
    ) -> Service {
        let file = dir.join("ml-connector.toml");
        std::fs::write(&file, config).unwrap();
        let mut cmd = ml_connector();
        cmd.args(["--config", file.to_str().unwrap()])
            .args(["--data-dir", dir.to_str().unwrap()])
            .args(["--database-url", database_url, "serve"])
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Service { child, addr }
    }

    /// The service's base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the service with SIGTERM (an orderly stop that flushes the
    /// exporters) and waits for it.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the sandbox store has the service's four webhooks active,
/// so that the orders placed next are delivered (not only backfilled).
pub async fn wait_for_webhooks(control: &SandboxControl) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let hooks = control.get("/_sandbox/woocommerce/webhooks").await.unwrap();
        let active = hooks
            .as_array()
            .map(|a| a.iter().filter(|h| h["status"] == "active").count())
            .unwrap_or(0);
        if active >= 4 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the service did not register its webhooks: {hooks}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The POSTs of new sales orders Sage 300 accepted.
pub async fn sage_order_posts(control: &SandboxControl) -> usize {
    let received = control.get("/_sandbox/sage300/received").await.unwrap();
    received
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && s(r, "path").contains("OE/OEOrders"))
        .count()
}
