//! posture: cloud compliance posture from the terminal.
//!
//! Layers, lowest first: `model` ← `catalog`, `policy` ← `assess` ← `store` ← `worker` ← `tui`/`cli`.

pub mod alloc;
pub mod assess;
pub mod catalog;
pub mod cli;
pub mod collect;
pub mod config;
pub mod embedded;
pub mod export;
pub mod fsutil;
pub mod governance;
pub mod model;
pub mod pipeline;
pub mod policy;
pub mod report;
pub mod sanitize;
pub mod sources;
pub mod store;
pub mod synth;
pub mod tui;
pub mod worker;

// The unit tests count allocations as the binary does, so memory budgets are tested for real.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: alloc::Counting<mimalloc::MiMalloc> = alloc::Counting::new(mimalloc::MiMalloc);
