//! `fleetctl sim`: a local Kubernetes-API-compatible cluster, so that everything fleetctl does
//! runs and is tested on one machine. Behaviour follows SPEC-k8s.md; real kubectl is the judge.
//!
//! - [`api`]: the API server (store, routes, watch, discovery, OpenAPI, tables, patches).
//! - [`tls`]: the CA and server certificate made at start.
//! - [`kubeconfig`]: the kubeconfig written for clients.
//! - [`error`]: what can stop the sim from starting or stopping.

pub mod api;
pub mod clock;
pub mod controllers;
pub mod error;
pub mod kubeconfig;
pub mod limits;
pub mod runtime;
pub mod tls;
