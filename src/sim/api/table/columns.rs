//! The column definitions of each printer: kubectl 1.32's for the built-in kinds.

use super::*;

pub(super) struct Col {
    name: &'static str,
    ty: &'static str,
    priority: u8,
    description: &'static str,
}

pub(super) const fn col(name: &'static str, ty: &'static str, priority: u8) -> Col {
    Col {
        name,
        ty,
        priority,
        description: "",
    }
}

pub(super) const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
pub(super) const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

pub(super) fn col_def(c: &Col) -> Value {
    let description = match (c.name, c.description) {
        ("Name", "") => NAME_DESC,
        ("Age", "") | ("Created At", "") => AGE_DESC,
        (_, d) => d,
    };
    json!({
        "name": c.name,
        "type": c.ty,
        "format": if c.name == "Name" { "name" } else { "" },
        "description": description,
        "priority": c.priority,
    })
}

/// Which printer a type uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Printer {
    Pod,
    Job,
    Deployment,
    ReplicaSet,
    Node,
    Namespace,
    Event,
    Service,
    Secret,
    ConfigMap,
    ServiceAccount,
    Pvc,
    CreatedAt,
    Pdb,
    NetworkPolicy,
    RoleBinding,
    Lease,
    Default,
}

pub(super) fn printer(rt: &ResourceType) -> Printer {
    if !rt.builtin {
        return Printer::Default;
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "pods") => Printer::Pod,
        ("batch", "jobs") => Printer::Job,
        ("apps", "deployments") => Printer::Deployment,
        ("apps", "replicasets") => Printer::ReplicaSet,
        ("", "nodes") => Printer::Node,
        ("", "namespaces") => Printer::Namespace,
        ("", "events") | ("events.k8s.io", "events") => Printer::Event,
        ("", "services") => Printer::Service,
        ("", "secrets") => Printer::Secret,
        ("", "configmaps") => Printer::ConfigMap,
        ("", "serviceaccounts") => Printer::ServiceAccount,
        ("", "persistentvolumeclaims") => Printer::Pvc,
        ("", "limitranges")
        | ("rbac.authorization.k8s.io", "roles")
        | ("rbac.authorization.k8s.io", "clusterroles")
        | ("apiextensions.k8s.io", "customresourcedefinitions") => Printer::CreatedAt,
        ("policy", "poddisruptionbudgets") => Printer::Pdb,
        ("networking.k8s.io", "networkpolicies") => Printer::NetworkPolicy,
        ("rbac.authorization.k8s.io", "rolebindings")
        | ("rbac.authorization.k8s.io", "clusterrolebindings") => Printer::RoleBinding,
        ("coordination.k8s.io", "leases") => Printer::Lease,
        _ => Printer::Default,
    }
}

pub(super) fn columns(p: Printer) -> Vec<Col> {
    let name = col("Name", "string", 0);
    let age = col("Age", "string", 0);
    let selector = || col("Selector", "string", 1);
    match p {
        Printer::Pod => vec![
            name,
            col("Ready", "string", 0),
            col("Status", "string", 0),
            col("Restarts", "string", 0),
            age,
            col("IP", "string", 1),
            col("Node", "string", 1),
            col("Nominated Node", "string", 1),
            col("Readiness Gates", "string", 1),
        ],
        Printer::Job => vec![
            name,
            col("Status", "string", 0),
            col("Completions", "string", 0),
            col("Duration", "string", 0),
            age,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            selector(),
        ],
        Printer::Deployment => vec![
            name,
            col("Ready", "string", 0),
            col("Up-to-date", "integer", 0),
            col("Available", "integer", 0),
            age,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            selector(),
        ],
        Printer::ReplicaSet => vec![
            name,
            col("Desired", "integer", 0),
            col("Current", "integer", 0),
            col("Ready", "integer", 0),
            age,
            col("Containers", "string", 1),
            col("Images", "string", 1),
            selector(),
        ],
        Printer::Node => vec![
            name,
            col("Status", "string", 0),
            col("Roles", "string", 0),
            age,
            col("Version", "string", 0),
            col("Internal-IP", "string", 1),
            col("External-IP", "string", 1),
            col("OS-Image", "string", 1),
            col("Kernel-Version", "string", 1),
            col("Container-Runtime", "string", 1),
        ],
        Printer::Namespace => vec![name, col("Status", "string", 0), age],
        Printer::Event => vec![
            col("Last Seen", "string", 0),
            col("Type", "string", 0),
            col("Reason", "string", 0),
            col("Object", "string", 0),
            col("Subobject", "string", 1),
            col("Source", "string", 1),
            col("Message", "string", 0),
            col("First Seen", "string", 1),
            col("Count", "string", 1),
            col("Name", "string", 1),
        ],
        Printer::Service => vec![
            name,
            col("Type", "string", 0),
            col("Cluster-IP", "string", 0),
            col("External-IP", "string", 0),
            col("Port(s)", "string", 0),
            age,
            selector(),
        ],
        Printer::Secret => vec![
            name,
            col("Type", "string", 0),
            col("Data", "string", 0),
            age,
        ],
        Printer::ConfigMap => vec![name, col("Data", "string", 0), age],
        Printer::ServiceAccount => vec![name, col("Secrets", "string", 0), age],
        Printer::Pvc => vec![
            name,
            col("Status", "string", 0),
            col("Volume", "string", 0),
            col("Capacity", "string", 0),
            col("Access Modes", "string", 0),
            col("StorageClass", "string", 0),
            col("VolumeAttributesClass", "string", 0),
            age,
            col("VolumeMode", "string", 1),
        ],
        Printer::CreatedAt => vec![name, col("Created At", "date", 0)],
        Printer::Pdb => vec![
            name,
            col("Min Available", "string", 0),
            col("Max Unavailable", "string", 0),
            col("Allowed Disruptions", "integer", 0),
            age,
        ],
        Printer::NetworkPolicy => vec![name, col("Pod-Selector", "string", 0), age],
        Printer::RoleBinding => vec![
            name,
            col("Role", "string", 0),
            age,
            col("Users", "string", 1),
            col("Groups", "string", 1),
            col("ServiceAccounts", "string", 1),
        ],
        Printer::Lease => vec![name, col("Holder", "string", 0), age],
        Printer::Default => vec![name, age],
    }
}
