//! The shop's traffic and the ledger of what it did.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::stream::{self, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::{FaultProfile, SandboxControl, WorkloadError};

/// The demo sandbox's registered WooCommerce customers have ids 2..=251.
const DEMO_CUSTOMER_IDS: std::ops::RangeInclusive<u64> = 2..=251;
/// The demo catalogue: `A{1..4}-{100..199}/0`.
const DEMO_SKU_COUNT: u32 = 400;

/// What traffic to make.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Orders to place.
    pub orders: usize,
    /// Orders placed at once.
    pub concurrency: usize,
    /// Share of orders from a new guest customer (the rest from registered ones).
    pub new_customer_ratio: f64,
    /// Share of orders refunded (half of them in part).
    pub refund_ratio: f64,
    /// Share of orders followed by an edit of the customer's profile.
    pub customer_edit_ratio: f64,
    /// Share of orders followed by a stock or price change in Sage 300.
    pub erp_change_ratio: f64,
    /// Faults in force.
    pub faults: FaultProfile,
    /// Seed of the random choices, so a failing run can be repeated.
    pub seed: u64,
    /// Tag in new customers' e-mail addresses, so runs against one sandbox do not collide.
    pub run_tag: String,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            orders: 100,
            concurrency: 8,
            new_customer_ratio: 0.3,
            refund_ratio: 0.1,
            customer_edit_ratio: 0.05,
            erp_change_ratio: 0.05,
            faults: FaultProfile::None,
            seed: 42,
            run_tag: "run".into(),
        }
    }
}

/// An order the workload placed.
#[derive(Debug, Clone)]
pub struct PlacedOrder {
    /// WooCommerce order id.
    pub id: u64,
    /// WooCommerce order number.
    pub number: String,
    /// The buyer's e-mail address.
    pub email: String,
}

/// A refund the workload made.
#[derive(Debug, Clone)]
pub struct PlacedRefund {
    /// The order refunded.
    pub order: PlacedOrder,
    /// WooCommerce refund id.
    pub id: u64,
}

/// What the workload did, to check against what reached the ERP.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Orders placed.
    pub orders: Vec<PlacedOrder>,
    /// Refunds made.
    pub refunds: Vec<PlacedRefund>,
    /// Customer edits made.
    pub customer_edits: usize,
    /// Stock and price changes made in Sage 300.
    pub erp_changes: usize,
    /// Calls the sandbox refused (should stay empty).
    pub errors: Vec<String>,
}

impl Workload {
    /// Places the orders (and refunds, edits, ERP changes) against the
    /// sandbox, installing the fault profile first. `progress` counts placed orders.
    pub async fn run(
        &self,
        sandbox: &SandboxControl,
        progress: Arc<AtomicUsize>,
    ) -> Result<Ledger, WorkloadError> {
        self.faults.install(sandbox).await?;
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let outage_at = self.faults.has_outage().then_some(self.orders / 3);
        stream::iter(0..self.orders)
            .for_each_concurrent(self.concurrency.max(1), |n| {
                let ledger = ledger.clone();
                let progress = progress.clone();
                async move {
                    if Some(n) == outage_at {
                        if let Err(e) = FaultProfile::start_outage(sandbox, 7).await {
                            ledger.lock().unwrap().errors.push(e.to_string());
                        }
                    }
                    if let Err(e) = self.one(sandbox, n, &ledger).await {
                        ledger.lock().unwrap().errors.push(e.to_string());
                    }
                    progress.fetch_add(1, Ordering::Relaxed);
                }
            })
            .await;
        Ok(Arc::try_unwrap(ledger)
            .map(|m| m.into_inner().unwrap())
            .unwrap_or_else(|arc| std::mem::take(&mut *arc.lock().unwrap())))
    }

    async fn one(
        &self,
        sandbox: &SandboxControl,
        n: usize,
        ledger: &Mutex<Ledger>,
    ) -> Result<(), WorkloadError> {
        // One generator per order: the run is the same whatever the interleaving.
        let mut rng = StdRng::seed_from_u64(self.seed ^ (n as u64).wrapping_mul(0x9E37_79B9));
        let lines: Vec<Value> = (0..rng.random_range(1..=3))
            .map(|_| json!({"sku": sku(rng.random_range(0..DEMO_SKU_COUNT)), "quantity": rng.random_range(1..=4)}))
            .collect();
        let mut body = json!({"lines": lines, "shipping_total": "7.50", "tax_rate": 5});
        let registered = !rng.random_bool(self.new_customer_ratio);
        let customer_id = rng.random_range(DEMO_CUSTOMER_IDS);
        if registered {
            body["customer_id"] = json!(customer_id);
        } else {
            body["customer"] = json!({
                "email": format!("guest.{}.{n}@example.org", self.run_tag),
                "first_name": "Guest",
                "last_name": format!("Buyer {n}"),
                "billing": {"address_1": format!("{} Harbour Road", n + 1), "city": "Halifax", "state": "NS", "postcode": "B3H 1A1", "country": "CA", "phone": "902-555-0100"}
            });
        }
        let placed = sandbox.post("/_sandbox/woocommerce/orders", body).await?;
        let order = PlacedOrder {
            id: placed["id"].as_u64().unwrap_or_default(),
            number: placed["number"].as_str().unwrap_or_default().to_owned(),
            email: placed["billing"]["email"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        };
        ledger.lock().unwrap().orders.push(order.clone());

        if rng.random_bool(self.refund_ratio) {
            let body = if rng.random_bool(0.5) {
                json!({"reason": "Customer returned the goods"})
            } else {
                json!({"reason": "Damaged in transit", "lines": [{"sku": lines[0]["sku"], "quantity": 1}]})
            };
            let refunded = sandbox
                .post(
                    &format!("/_sandbox/woocommerce/orders/{}/refunds", order.id),
                    body,
                )
                .await?;
            let id = refunded["refund"]["id"].as_u64().unwrap_or_default();
            ledger
                .lock()
                .unwrap()
                .refunds
                .push(PlacedRefund { order, id });
        }
        if registered && rng.random_bool(self.customer_edit_ratio) {
            sandbox
                .put(
                    &format!("/_sandbox/woocommerce/customers/{customer_id}"),
                    json!({"billing": {"phone": format!("604-555-{:04}", n % 10_000)}}),
                )
                .await?;
            ledger.lock().unwrap().customer_edits += 1;
        }
        if rng.random_bool(self.erp_change_ratio) {
            let item = sku(rng.random_range(0..DEMO_SKU_COUNT));
            if rng.random_bool(0.5) {
                sandbox
                    .set_sage300_quantity(&item, "1", f64::from(rng.random_range(0..200)))
                    .await?;
            } else {
                let price = f64::from(rng.random_range(500..20_000)) / 100.0;
                sandbox.set_sage300_price(&item, "STD", price).await?;
            }
            ledger.lock().unwrap().erp_changes += 1;
        }
        Ok(())
    }
}

/// The `n`th SKU of the demo catalogue.
fn sku(n: u32) -> String {
    format!("A{}-{}/0", n / 100 + 1, 100 + n % 100)
}
