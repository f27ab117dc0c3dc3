//! Per-pod Prometheus metrics: scrape each agent's `/metrics`, read it, and aggregate per fleet.
//!
//! - [`scrape`]: the HTTP side, through the API server's pod proxy or straight to the pod IP,
//!   with bounded concurrency, jittered starts, a timeout and a size cap per pod.
//! - [`parse`]: the text exposition into fleetctl's own types (pure).
//! - [`series`]: rates, histogram quantiles, ring buffers and staleness per pod and per fleet
//!   (pure; time is an argument).
//! - [`agents`]: which pods of a fleet model are scraped and whose they are, and the series their
//!   rounds feed (pure): what `status` and the console keep.
//!
//! A one-shot caller scrapes twice, since rates need two scrapes of each pod:
//!
//! ```no_run
//! # async fn status(pods: Vec<fleetctl::fleet::objects::AgentPod>, kube: kube::Client) {
//! use std::time::Duration;
//! use fleetctl::metrics::scrape::{ScrapeConfig, Scraper, Target};
//! use fleetctl::metrics::series::MetricsStore;
//!
//! let scraper = Scraper::new(ScrapeConfig::default(), Some(kube)).unwrap();
//! let targets: Vec<Target> = pods.iter().filter_map(Target::from_pod).collect();
//! let mut store = MetricsStore::default();
//! for (at, results) in scraper.rounds(&targets, 2, Duration::from_millis(1500)).await {
//!     for (t, r) in &results {
//!         let pod = pods.iter().find(|p| p.name == t.pod).unwrap();
//!         let fleet = pod.scaled_job.clone().unwrap_or_default();
//!         store.ingest(&t.key(), &fleet, at, r, pod.memory_limit_bytes);
//!     }
//! }
//! let now = jiff::Timestamp::now();
//! for (fleet, m) in store.summary(now) {
//!     println!("{fleet}: {:?} tasks/s, p99 {:?} s", m.tasks_per_s, m.p99_task_seconds);
//! }
//! # }
//! ```

pub mod agents;
pub mod parse;
pub mod scrape;
pub mod series;
