//! The Kubernetes side: connecting with a kubeconfig like kubectl does ([`client`]), watching,
//! applying and acting on fleets, and what went wrong ([`error`]). Only this layer (with
//! `queue` and `metrics`) talks to the outside world.

pub mod actions;
pub mod apply;
pub mod client;
pub mod drain;
pub mod error;
pub mod usage;
pub mod watch;
