//! A busy shop, played against the sandbox: places WooCommerce orders (some
//! from new customers), refunds some, edits customers, changes stock and
//! prices in Sage 300, injects faults; then checks what reached Sage 300
//! through the sandbox's `received` log: each order posted once, none twice,
//! none missing; each customer once; each refund once.
//!
//! It speaks only to the sandbox's control API (`/_sandbox/...`), never
//! through our connectors, so the check is independent of the code it checks.
//! The demo, the end-to-end tests and the benchmarks share it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod control;
mod faults;
mod verdict;
mod workload;

pub use control::{Received, SandboxControl, WorkloadError};
pub use faults::FaultProfile;
pub use verdict::{verify, Expectations, Verdict};
pub use workload::{Ledger, PlacedOrder, PlacedRefund, Workload};
