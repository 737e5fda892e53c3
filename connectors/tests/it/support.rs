//! A sandbox per test.

use mlc_sandbox::{Sandbox, SandboxOptions, Seed};

/// Starts a demo sandbox on an OS-chosen port.
pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        seed: Seed::Demo,
    })
    .await
    .expect("sandbox starts")
}
