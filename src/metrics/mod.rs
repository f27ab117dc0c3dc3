//! Per-pod Prometheus metrics: scrape each agent's `/metrics`, read it, and aggregate per fleet.
//!
//! - [`parse`]: the text exposition into fleetctl's own types (pure).
//! - [`series`]: rates, histogram quantiles, ring buffers and staleness per pod and per fleet
//!   (pure; time is an argument).
//! - [`scrape`]: the HTTP side, through the API server's pod proxy or straight to the pod IP.

pub mod parse;
pub mod scrape;
pub mod series;
