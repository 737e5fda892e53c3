//! Order backfill: [`OrderBackfill`] asks the store for every order modified
//! since its cursor and hands each to its order document, so that orders a
//! missed or disabled webhook never delivered still arrive. Duplicates of
//! what a webhook already delivered append nothing.

mod orders;

pub use orders::{
    BackfillError, BackfillSummary, OrderBackfill, OrderBackfillDeps, OrderBackfillHandle,
    ORDERS_SOURCE,
};
