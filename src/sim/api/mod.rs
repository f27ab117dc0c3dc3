//! The API server: an in-memory store with one resourceVersion counter, served over HTTPS with
//! the routes, discovery, OpenAPI, Table output, patches and errors kubectl and kube-rs expect.

pub mod apply;
pub mod bounds;
pub mod conns;
pub mod defaults;
pub mod discovery;
pub mod escalation;
pub mod handlers;
pub mod jsonpath;
pub mod logs;
pub mod metrics_api;
pub mod openapi;
pub mod patch;
#[cfg(test)]
mod proptests;
pub mod proto;
pub mod proto_schema;
pub mod rbac;
pub mod registry;
pub mod request;
pub mod selector;
pub mod server;
pub mod status;
pub mod store;
pub mod subresources;
pub mod table;
pub mod validate;
pub mod watch;
