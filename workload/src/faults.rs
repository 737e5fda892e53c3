//! Named sets of fault rules, as `--faults PROFILE` takes them.

use serde_json::{json, Value};

use crate::{SandboxControl, WorkloadError};

/// Which faults the sandbox injects during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultProfile {
    /// None.
    #[default]
    None,
    /// Sage 300 fails 20% of requests with a 5xx and loses the answer of 5%
    /// of its writes after applying them.
    Flaky,
    /// WooCommerce's webhook deliveries fail until it disables the hook.
    Outage,
    /// Both.
    Chaos,
}

impl FaultProfile {
    /// Every profile, for `--help` and errors.
    pub const NAMES: [&'static str; 4] = ["none", "flaky", "outage", "chaos"];

    /// The profile named `name`.
    pub fn parse(name: &str) -> Option<FaultProfile> {
        match name {
            "none" => Some(FaultProfile::None),
            "flaky" => Some(FaultProfile::Flaky),
            "outage" => Some(FaultProfile::Outage),
            "chaos" => Some(FaultProfile::Chaos),
            _ => None,
        }
    }

    /// The profile's name.
    pub fn name(self) -> &'static str {
        match self {
            FaultProfile::None => "none",
            FaultProfile::Flaky => "flaky",
            FaultProfile::Outage => "outage",
            FaultProfile::Chaos => "chaos",
        }
    }

    /// The rules in force for the whole run.
    pub fn steady_rules(self) -> Vec<Value> {
        match self {
            FaultProfile::Flaky | FaultProfile::Chaos => vec![
                json!({"system": "sage300", "type": "status", "status": 503, "probability": 0.2}),
                json!({"system": "sage300", "type": "timeout_after_write", "ms": 300, "method": "POST", "probability": 0.05}),
            ],
            FaultProfile::None | FaultProfile::Outage => Vec::new(),
        }
    }

    /// Whether the profile takes the webhooks down once during the run.
    pub fn has_outage(self) -> bool {
        matches!(self, FaultProfile::Outage | FaultProfile::Chaos)
    }

    /// Installs the steady rules.
    pub async fn install(self, sandbox: &SandboxControl) -> Result<(), WorkloadError> {
        for rule in self.steady_rules() {
            sandbox.add_fault(rule).await?;
        }
        Ok(())
    }

    /// Starts the webhook outage: the next `deliveries` WooCommerce
    /// deliveries fail as if the receiver were down. WooCommerce disables a
    /// hook at its 7th consecutive failure, so 7 or more disables one.
    pub async fn start_outage(
        sandbox: &SandboxControl,
        deliveries: u32,
    ) -> Result<u64, WorkloadError> {
        sandbox
            .add_fault(json!({"system": "woocommerce", "type": "delivery_failure", "status": 503, "times": deliveries}))
            .await
    }
}
