//! posture: cloud compliance posture from the terminal.
//!
//! Layers, lowest first: `model` ← `catalog`, `policy` ← `assess` ← `store` ← `worker` ← `tui`/`cli`.

pub mod model;
pub mod policy;
pub mod catalog;
pub mod embedded;
pub mod sources;
pub mod assess;
pub mod store;
pub mod config;
pub mod pipeline;
pub mod sanitize;
pub mod cli;
pub mod tui;
