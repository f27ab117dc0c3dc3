//! The domain core: pure logic with no I/O. Time and data come in as arguments.
//!
//! - [`scaling`]: KEDA ScaledJob arithmetic (SPEC-k8s.md §1.2), shared by the local cluster's
//!   scaler and the console's prediction of the next scale.
//! - [`objects`]: the slim cluster objects and [`objects::Object`], read from wire JSON
//!   (`from_json`).
//! - [`model`]: the fleets those objects make up, and their history.
//! - [`delta`]: the changes watchers report, and how the model folds them in.
//! - [`duration`]: durations as kubectl's AGE column writes them.
//! - [`selector`]: label selectors: kubectl's syntax, metav1 JSON, matching, canonical form.
//! - [`health`]: findings about a fleet.
//! - [`status`]: the per-fleet summary `fleetctl status` prints (a stable JSON shape).
//! - [`usage`]: CPU and memory per fleet from the resource metrics API.

pub mod delta;
pub mod duration;
pub mod health;
pub mod model;
pub mod objects;
pub mod scaling;
pub mod selector;
pub mod status;
pub mod usage;
