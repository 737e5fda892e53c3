//! What reached the ERP, compared with what the shop did.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use crate::{Ledger, PlacedOrder, PlacedRefund, Received, SandboxControl, WorkloadError};

/// How our documents are recognised in Sage 300's received log.
pub struct Expectations {
    /// The reference an order is posted with.
    pub order_reference: Box<dyn Fn(&PlacedOrder) -> String + Send + Sync>,
    /// The reference a refund's credit note is posted with.
    pub credit_note_reference: Box<dyn Fn(&PlacedRefund) -> String + Send + Sync>,
}

/// The outcome of a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Orders placed.
    pub orders: usize,
    /// Orders in Sage 300 exactly once.
    pub orders_once: usize,
    /// Orders posted more than once (their numbers).
    pub orders_twice: Vec<String>,
    /// Orders never posted (their numbers).
    pub orders_missing: Vec<String>,
    /// Distinct customers of the run.
    pub customers: usize,
    /// Customers (e-mail addresses) Sage 300 holds more than once.
    pub customers_duplicated: Vec<String>,
    /// Customers Sage 300 does not hold.
    pub customers_missing: Vec<String>,
    /// Refunds made.
    pub refunds: usize,
    /// Refunds credited exactly once.
    pub refunds_once: usize,
    /// Refunds credited more than once.
    pub refunds_twice: Vec<String>,
    /// Refunds never credited.
    pub refunds_missing: Vec<String>,
}

impl Verdict {
    /// Every order, customer and refund exactly once.
    pub fn is_exact(&self) -> bool {
        self.orders_twice.is_empty()
            && self.orders_missing.is_empty()
            && self.customers_duplicated.is_empty()
            && self.customers_missing.is_empty()
            && self.refunds_twice.is_empty()
            && self.refunds_missing.is_empty()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "orders:    {} placed, {} posted once, {} posted twice, {} missing",
            self.orders,
            self.orders_once,
            self.orders_twice.len(),
            self.orders_missing.len()
        )?;
        writeln!(
            f,
            "customers: {} in the run, {} duplicated in Sage 300, {} missing",
            self.customers,
            self.customers_duplicated.len(),
            self.customers_missing.len()
        )?;
        write!(
            f,
            "refunds:   {} made, {} credited once, {} twice, {} missing",
            self.refunds,
            self.refunds_once,
            self.refunds_twice.len(),
            self.refunds_missing.len()
        )?;
        for (what, list) in [
            ("posted twice", &self.orders_twice),
            ("missing", &self.orders_missing),
            ("customers duplicated", &self.customers_duplicated),
            ("customers missing", &self.customers_missing),
            ("refunds credited twice", &self.refunds_twice),
            ("refunds missing", &self.refunds_missing),
        ] {
            if !list.is_empty() {
                let shown: Vec<&str> = list.iter().take(10).map(String::as_str).collect();
                write!(f, "\n  {what}: {}", shown.join(", "))?;
            }
        }
        Ok(())
    }
}

/// Counts, in Sage 300's received log and customer list, what the ledger's
/// orders, customers and refunds became.
pub async fn verify(
    sandbox: &SandboxControl,
    ledger: &Ledger,
    expect: &Expectations,
) -> Result<Verdict, WorkloadError> {
    let received = sandbox.received("sage300").await?;
    let orders = posted_strings(&received, "OEOrders");
    let notes = posted_strings(&received, "OECreditDebitNotes");
    let mut verdict = Verdict {
        orders: ledger.orders.len(),
        refunds: ledger.refunds.len(),
        ..Verdict::default()
    };
    for order in &ledger.orders {
        match orders
            .get(&(expect.order_reference)(order))
            .copied()
            .unwrap_or(0)
        {
            0 => verdict.orders_missing.push(order.number.clone()),
            1 => verdict.orders_once += 1,
            _ => verdict.orders_twice.push(order.number.clone()),
        }
    }
    for refund in &ledger.refunds {
        let label = format!("{}#{}", refund.order.number, refund.id);
        match notes
            .get(&(expect.credit_note_reference)(refund))
            .copied()
            .unwrap_or(0)
        {
            0 => verdict.refunds_missing.push(label),
            1 => verdict.refunds_once += 1,
            _ => verdict.refunds_twice.push(label),
        }
    }
    let mut held: HashMap<String, usize> = HashMap::new();
    for customer in sandbox.sage300_customers().await? {
        if let Some(email) = customer.get("Email").and_then(Value::as_str) {
            *held.entry(email.to_ascii_lowercase()).or_default() += 1;
        }
    }
    let mut emails: Vec<String> = ledger
        .orders
        .iter()
        .map(|o| o.email.to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    emails.sort();
    emails.dedup();
    verdict.customers = emails.len();
    for email in emails {
        match held.get(&email).copied().unwrap_or(0) {
            0 => verdict.customers_missing.push(email),
            1 => {}
            _ => verdict.customers_duplicated.push(email),
        }
    }
    Ok(verdict)
}

/// For the accepted POSTs to a resource, how many times each string value of
/// their bodies' top level was sent: a reference shows up once per post.
fn posted_strings(received: &[Received], resource: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for write in received {
        if write.method != "POST" || !write.path.contains(resource) || write.status >= 300 {
            continue;
        }
        if let Value::Object(fields) = &write.body {
            let mut seen: Vec<&str> = fields.values().filter_map(Value::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for value in seen {
                *counts.entry(value.to_owned()).or_default() += 1;
            }
        }
    }
    counts
}
