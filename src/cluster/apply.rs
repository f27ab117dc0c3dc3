//! `fleetctl apply`: server-side apply (field manager `fleetctl`, never forced: a conflict with
//! another manager is reported, not overwritten) of the bundled manifests or of a directory, in
//! dependency order:
//!
//! 1. the namespace;
//! 2. a check that Secret `agent-secrets` exists (when something refers to it);
//! 3. a check that KEDA's API is served (when something is a `keda.sh` object);
//! 4. everything else.
//!
//! Loading and preparing the objects ([`load_bundled`], [`load_dir`], [`prepare`]) is pure; only
//! [`apply`] talks to the cluster.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Scope};
use kube::{Client, ResourceExt};
use serde_json::Value;

use crate::cluster::error::KubeFailure;
use crate::manifests::{self, EXAMPLE_SECRET, KUSTOMIZATION};

/// The Secret the agents and KEDA read; created by the operator, never by fleetctl.
pub const SECRET: &str = "agent-secrets";
/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "fleetctl";

/// How to install KEDA, for messages that find it missing.
pub const KEDA_INSTALL: &str = "helm repo add kedacore https://kedacore.github.io/charts && helm install keda kedacore/keda --namespace keda --create-namespace";

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Load(String),
    #[error(
        "refusing to apply the example secret ({EXAMPLE_SECRET}): it holds placeholders; create the real one with `{}`",
        secret_command(.0)
    )]
    ExampleSecret(String),
    #[error(
        "Secret {SECRET} is missing in namespace {}; create it first with `{}` (see manifests/{EXAMPLE_SECRET})",
        .0,
        secret_command(.0)
    )]
    SecretMissing(String),
    #[error(
        "KEDA is not installed: the cluster does not serve keda.sh/v1alpha1 scaledjobs, which {} needs; install KEDA 2.11+ (`{KEDA_INSTALL}`) and run fleetctl apply again",
        .0
    )]
    KedaMissing(String),
    #[error("{what}: {}", KubeFailure::classify(.source))]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("{0}")]
    Object(String),
}

fn secret_command(ns: &str) -> String {
    format!(
        "kubectl create secret generic {SECRET} -n {ns} --from-literal=queue-url='amqp://USER:PASSWORD@HOST:5672/%2f' --from-literal=rabbitmq-host='amqp://USER:PASSWORD@HOST:5672/%2f'"
    )
}

/// One object to apply and the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub file: String,
    pub doc: Value,
}

impl Object {
    pub fn kind(&self) -> &str {
        self.doc["kind"].as_str().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.doc["metadata"]["name"].as_str().unwrap_or_default()
    }

    pub fn api_version(&self) -> &str {
        self.doc["apiVersion"].as_str().unwrap_or_default()
    }

    /// `job/ai-agent-batch`, as kubectl writes it.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind().to_ascii_lowercase(), self.name())
    }

    fn gvk(&self) -> GroupVersionKind {
        let (group, version) = match self.api_version().split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version()),
        };
        GroupVersionKind::gvk(group, version, self.kind())
    }
}

/// The bundled manifests, in their apply order.
pub fn load_bundled() -> Result<Vec<Object>, ApplyError> {
    let mut out = Vec::new();
    for m in manifests::resources() {
        let docs = manifests::documents(m).map_err(|e| ApplyError::Load(e.to_string()))?;
        out.extend(docs.into_iter().map(|doc| Object {
            file: m.file.to_string(),
            doc,
        }));
    }
    Ok(out)
}

fn parse_file(path: &Path) -> Result<Vec<Object>, ApplyError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ApplyError::Load(format!("cannot read {}: {e}", path.display())))?;
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .map_err(|e| ApplyError::Load(format!("{} is not valid YAML: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().filter(|d| !d.is_null()).enumerate() {
        if !doc.is_object()
            || doc["kind"].as_str().is_none()
            || doc["apiVersion"].as_str().is_none()
        {
            return Err(ApplyError::Load(format!(
                "{}: document {i} is not a Kubernetes object (apiVersion and kind)",
                path.display()
            )));
        }
        out.push(Object {
            file: path.display().to_string(),
            doc,
        });
    }
    Ok(out)
}

/// The `*.yaml` / `*.yml` files of `dir` (or the one file `dir` names), without the
/// kustomization and the example secret, in name order.
pub fn load_dir(dir: &Path, namespace: &str) -> Result<Vec<Object>, ApplyError> {
    let file_name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    if dir.is_file() {
        if file_name(dir) == EXAMPLE_SECRET {
            return Err(ApplyError::ExampleSecret(namespace.to_string()));
        }
        return parse_file(dir);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ApplyError::Load(format!(
            "cannot read --from {}: {e}; pass a directory of manifests",
            dir.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut saw_example = false;
    for entry in entries.flatten() {
        let p = entry.path();
        let name = file_name(&p);
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) || !p.is_file() {
            continue;
        }
        if name == EXAMPLE_SECRET {
            saw_example = true;
            continue;
        }
        if name == KUSTOMIZATION || name == "kustomization.yml" {
            continue;
        }
        files.push(p);
    }
    files.sort();
    if files.is_empty() {
        if saw_example {
            return Err(ApplyError::ExampleSecret(namespace.to_string()));
        }
        return Err(ApplyError::Load(format!(
            "no manifests (*.yaml) in {}",
            dir.display()
        )));
    }
    let mut out = Vec::new();
    for f in files {
        out.extend(parse_file(&f)?);
    }
    Ok(out)
}

/// Where a kind goes in the apply order: what others refer to first, workloads last.
fn rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "LimitRange" | "ResourceQuota" => 2,
        "ServiceAccount" => 3,
        "Role" | "ClusterRole" => 4,
        "RoleBinding" | "ClusterRoleBinding" => 5,
        "ConfigMap" | "Secret" | "PersistentVolumeClaim" => 6,
        "PodDisruptionBudget" => 7,
        "NetworkPolicy" => 8,
        "Service" => 9,
        "TriggerAuthentication" | "ClusterTriggerAuthentication" => 10,
        _ => 11,
    }
}

fn is_example_secret(o: &Object) -> bool {
    if o.kind() != "Secret" || o.name() != SECRET {
        return false;
    }
    ["stringData", "data"].iter().any(|field| {
        o.doc[*field].as_object().is_some_and(|m| {
            m.values()
                .filter_map(Value::as_str)
                .any(|v| v.contains("USER:PASSWORD"))
        })
    })
}

/// Puts every object into `namespace` (the Namespace object is renamed to it, and RoleBinding
/// subjects that pointed at the manifests' namespace follow), sets the agent image of the pod
/// templates when `image` is given, refuses the example secret, and sorts into apply order.
pub fn prepare(
    mut objects: Vec<Object>,
    namespace: &str,
    image: Option<&str>,
) -> Result<Vec<Object>, ApplyError> {
    if objects.iter().any(is_example_secret) {
        return Err(ApplyError::ExampleSecret(namespace.to_string()));
    }
    if let Some(img) = image
        && img.trim().is_empty()
    {
        return Err(ApplyError::Load(
            "--image is empty; pass e.g. ghcr.io/fleetctl/agent:0.2.0".into(),
        ));
    }
    let namespaces = objects.iter().filter(|o| o.kind() == "Namespace").count();
    for o in &mut objects {
        let original_ns = o.doc["metadata"]["namespace"].as_str().map(String::from);
        if o.kind() == "Namespace" {
            if namespaces == 1 {
                o.doc["metadata"]["name"] = Value::String(namespace.to_string());
            }
            continue;
        }
        o.doc["metadata"]["namespace"] = Value::String(namespace.to_string());
        if o.kind() == "RoleBinding"
            && let Some(subjects) = o.doc["subjects"].as_array_mut()
        {
            for s in subjects {
                if s["namespace"].as_str().is_some()
                    && s["namespace"].as_str() == original_ns.as_deref()
                {
                    s["namespace"] = Value::String(namespace.to_string());
                }
            }
        }
        if let Some(img) = image {
            let template = match o.kind() {
                "Job" | "Deployment" | "StatefulSet" | "DaemonSet" => Some("/spec/template"),
                "ScaledJob" => Some("/spec/jobTargetRef/template"),
                _ => None,
            };
            if let Some(t) = template
                && let Some(containers) = o
                    .doc
                    .pointer_mut(&format!("{t}/spec/containers"))
                    .and_then(Value::as_array_mut)
            {
                let agent = containers
                    .iter()
                    .position(|c| c["name"] == "agent")
                    .unwrap_or(0);
                if let Some(c) = containers.get_mut(agent) {
                    c["image"] = Value::String(img.to_string());
                }
            }
        }
    }
    objects.sort_by_key(|o| rank(o.kind()));
    Ok(objects)
}

/// What an apply did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Configured,
    Unchanged,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Configured => "configured",
            Change::Unchanged => "unchanged",
        }
    }
}

/// One object's result: `job/x configured`, or why it failed.
#[derive(Debug)]
pub struct Applied {
    pub object: String,
    pub result: Result<Change, ObjectFailure>,
}

impl Applied {
    /// The failure is a conflict (409): another field manager set some of these fields to
    /// other values. The object exists, as that manager left it.
    pub fn conflict(&self) -> bool {
        matches!(self.result, Err(ObjectFailure::Conflict { .. }))
    }
}

/// Why one object was not applied; each message starts with the object (`job/x: ...`).
#[derive(Debug, thiserror::Error)]
pub enum ObjectFailure {
    #[error("{object}: the cluster does not serve {api_version} {kind}: {failure}")]
    NotServed {
        object: String,
        api_version: String,
        kind: String,
        failure: KubeFailure,
    },
    #[error(
        "{object}: {message}; another field manager owns these fields: change them with that tool, or remove its ownership, then apply again"
    )]
    Conflict { object: String, message: String },
    #[error(
        "{object}: the pod template of an existing Job cannot change (field is immutable); delete the Job (kubectl delete job {name} -n {namespace}) and apply again"
    )]
    JobTemplateImmutable {
        object: String,
        name: String,
        namespace: String,
    },
    #[error("{object}: {message} ({code})")]
    Refused {
        object: String,
        message: String,
        code: u16,
    },
    #[error("{object}: {failure}")]
    Failed {
        object: String,
        failure: KubeFailure,
    },
}

impl ObjectFailure {
    /// The kube failure behind it, classified.
    pub fn kube(&self) -> Option<&KubeFailure> {
        match self {
            ObjectFailure::NotServed { failure, .. } | ObjectFailure::Failed { failure, .. } => {
                Some(failure)
            }
            _ => None,
        }
    }
}

fn object_error(o: &Object, e: &kube::Error) -> ObjectFailure {
    let object = o.display();
    match e {
        kube::Error::Api(s) if s.code == 409 => ObjectFailure::Conflict {
            object,
            message: s.message.clone(),
        },
        kube::Error::Api(s)
            if s.code == 422 && o.kind() == "Job" && s.message.contains("field is immutable") =>
        {
            ObjectFailure::JobTemplateImmutable {
                object,
                name: o.name().to_string(),
                namespace: o.doc["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("agents")
                    .to_string(),
            }
        }
        kube::Error::Api(s) => ObjectFailure::Refused {
            object,
            message: s.message.clone(),
            code: s.code,
        },
        other => ObjectFailure::Failed {
            object,
            failure: KubeFailure::classify(other),
        },
    }
}

/// Without the parts that change on every write, to tell a dry run's "would change" apart.
fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v["metadata"].as_object_mut() {
        for k in ["resourceVersion", "managedFields", "generation"] {
            m.remove(k);
        }
    }
    v
}

struct Resolver {
    client: Client,
    cache: HashMap<String, (ApiResource, ApiCapabilities)>,
}

impl Resolver {
    async fn api(
        &mut self,
        o: &Object,
        ns: &str,
    ) -> Result<(Api<DynamicObject>, bool), kube::Error> {
        let gvk = o.gvk();
        let key = format!("{}/{}/{}", gvk.group, gvk.version, gvk.kind);
        if !self.cache.contains_key(&key) {
            let found = kube::discovery::pinned_kind(&self.client, &gvk).await?;
            self.cache.insert(key.clone(), found);
        }
        let (ar, caps) = &self.cache[&key];
        Ok(if caps.scope == Scope::Namespaced {
            (Api::namespaced_with(self.client.clone(), ns, ar), true)
        } else {
            (Api::all_with(self.client.clone(), ar), false)
        })
    }
}

async fn apply_one(
    resolver: &mut Resolver,
    o: &Object,
    ns: &str,
    dry_run: bool,
    namespace_absent: bool,
) -> Result<Change, ObjectFailure> {
    let (api, namespaced) = resolver
        .api(o, ns)
        .await
        .map_err(|e| ObjectFailure::NotServed {
            object: o.display(),
            api_version: o.api_version().to_string(),
            kind: o.kind().to_string(),
            failure: KubeFailure::classify(&e),
        })?;
    // A dry run in a namespace that does not exist yet: everything in it would be created.
    if dry_run && namespaced && namespace_absent {
        return Ok(Change::Created);
    }
    let mut doc = o.doc.clone();
    if !namespaced && let Some(m) = doc["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    let before = api
        .get_opt(o.name())
        .await
        .map_err(|e| object_error(o, &e))?;
    let mut pp = PatchParams::apply(FIELD_MANAGER);
    if dry_run {
        pp = pp.dry_run();
    }
    let after = api
        .patch(o.name(), &pp, &Patch::Apply(&doc))
        .await
        .map_err(|e| object_error(o, &e))?;
    let Some(before) = before else {
        return Ok(Change::Created);
    };
    let changed = if dry_run {
        let b = serde_json::to_value(&before).unwrap_or_default();
        let a = serde_json::to_value(&after).unwrap_or_default();
        comparable(&b) != comparable(&a)
    } else {
        before.resource_version() != after.resource_version()
    };
    Ok(if changed {
        Change::Configured
    } else {
        Change::Unchanged
    })
}

/// Whether the cluster serves `keda.sh/v1alpha1` `scaledjobs`.
pub async fn keda_served(client: &Client) -> Result<bool, ApplyError> {
    match client.list_api_group_resources("keda.sh/v1alpha1").await {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == "scaledjobs")),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(source) => Err(ApplyError::Api {
            what: "cannot discover the keda.sh API".into(),
            source,
        }),
    }
}

/// How an apply runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub namespace: String,
    pub dry_run: bool,
}

/// Applies `objects` (already [`prepare`]d) in order, reporting each result through `report`.
/// The preflight checks abort with an error; a failing object does not stop the others, and
/// the count of failures is returned.
pub async fn apply(
    client: &Client,
    objects: &[Object],
    opts: &ApplyOptions,
    report: &mut (dyn FnMut(&Applied) + Send),
) -> Result<usize, ApplyError> {
    let ns = opts.namespace.as_str();
    let mut resolver = Resolver {
        client: client.clone(),
        cache: HashMap::new(),
    };
    let mut failures = 0;
    let (first, rest): (Vec<&Object>, Vec<&Object>) =
        objects.iter().partition(|o| o.kind() == "Namespace");

    // 1. The namespace.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let namespace_absent = namespaces
        .get_opt(ns)
        .await
        .map_err(|source| ApplyError::Api {
            what: format!("cannot read namespace {ns}"),
            source,
        })?
        .is_none();
    for o in first {
        let result = apply_one(&mut resolver, o, ns, opts.dry_run, false).await;
        failures += usize::from(result.is_err());
        report(&Applied {
            object: o.display(),
            result,
        });
    }
    if failures > 0 {
        return Ok(failures);
    }

    // 2. The secret the workloads refer to.
    let needs_secret = rest
        .iter()
        .any(|o| o.doc.to_string().contains(&format!("\"{SECRET}\"")));
    if needs_secret && !(opts.dry_run && namespace_absent) {
        let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), ns);
        let found = secrets
            .get_metadata_opt(SECRET)
            .await
            .map_err(|source| ApplyError::Api {
                what: format!("cannot check Secret {SECRET} in {ns}"),
                source,
            })?;
        if found.is_none() {
            return Err(ApplyError::SecretMissing(ns.to_string()));
        }
    }

    // 3. KEDA, for the objects that need it.
    let keda: Vec<String> = rest
        .iter()
        .filter(|o| o.api_version().starts_with("keda.sh/"))
        .map(|o| o.display())
        .collect();
    if !keda.is_empty() && !keda_served(client).await? {
        return Err(ApplyError::KedaMissing(keda.join(", ")));
    }

    // 4. The rest.
    for o in rest {
        let result = apply_one(&mut resolver, o, ns, opts.dry_run, namespace_absent).await;
        failures += usize::from(result.is_err());
        report(&Applied {
            object: o.display(),
            result,
        });
    }
    Ok(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_objects_go_namespace_first_and_workloads_last() {
        let objs = prepare(load_bundled().unwrap(), "agents", None).unwrap();
        assert_eq!(objs[0].display(), "namespace/agents");
        let pos = |d: &str| objs.iter().position(|o| o.display() == d).unwrap();
        assert!(pos("triggerauthentication/rabbitmq-auth") < pos("scaledjob/ai-agent"));
        assert!(pos("persistentvolumeclaim/agent-checkpoints") < pos("job/ai-agent-batch"));
    }

    #[test]
    fn namespace_and_image_are_rewritten() {
        let objs = prepare(load_bundled().unwrap(), "team-a", Some("reg/agent:9")).unwrap();
        assert_eq!(objs[0].name(), "team-a");
        for o in &objs[1..] {
            assert_eq!(o.doc["metadata"]["namespace"], "team-a", "{}", o.display());
        }
        let job = objs.iter().find(|o| o.kind() == "Job").unwrap();
        assert_eq!(
            job.doc
                .pointer("/spec/template/spec/containers/0/image")
                .unwrap(),
            "reg/agent:9"
        );
        let sj = objs.iter().find(|o| o.kind() == "ScaledJob").unwrap();
        assert_eq!(
            sj.doc
                .pointer("/spec/jobTargetRef/template/spec/containers/0/image")
                .unwrap(),
            "reg/agent:9"
        );
        let rb = objs.iter().find(|o| o.kind() == "RoleBinding").unwrap();
        assert_eq!(rb.doc["subjects"][0]["namespace"], "team-a");
    }

    #[test]
    fn the_example_secret_is_refused() {
        let m = manifests::get(EXAMPLE_SECRET).unwrap();
        let objs: Vec<Object> = manifests::documents(m)
            .unwrap()
            .into_iter()
            .map(|doc| Object {
                file: m.file.into(),
                doc,
            })
            .collect();
        let err = prepare(objs, "agents", None).unwrap_err();
        assert!(matches!(err, ApplyError::ExampleSecret(_)));
        assert!(
            err.to_string()
                .contains("kubectl create secret generic agent-secrets -n agents")
        );
    }
}
