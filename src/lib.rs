//! fleetctl: operate fleets of AI-agent workers on Kubernetes.
//!
//! The binary (`src/main.rs`) is a thin shell over this library: `cli` holds the clap
//! definitions, `commands` wires each subcommand to the layers below it, and the layers
//! (`queue`, `manifests`, ...) do the work. See DESIGN.md for the map.

pub mod agent;
pub mod broker;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod fleet;
pub mod fsutil;
pub mod kubeclient;
pub mod local;
pub mod manifests;
pub mod metrics;
pub mod queue;
pub mod redact;
pub mod sim;
pub mod smoke;
pub mod tui;
