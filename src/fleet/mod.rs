//! The domain core: pure logic with no I/O. Time and data come in as arguments.
//!
//! - [`scaling`]: KEDA ScaledJob arithmetic (SPEC-k8s.md §1.2), shared by the local cluster's
//!   scaler and the console's prediction of the next scale.

pub mod scaling;
