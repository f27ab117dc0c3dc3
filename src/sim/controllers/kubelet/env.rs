//! A container's environment and command line, resolved from the pod spec as the kubelet does:
//! literal values with `$(VAR)` references, `fieldRef`, `resourceFieldRef`, `secretKeyRef`,
//! `configMapKeyRef` and `envFrom`. Secrets and ConfigMaps are read from the API first
//! ([`fetch_refs`]); resolving is then pure ([`resolve`]).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};
use kube::api::Api;
use kube::{Client, ResourceExt};

/// Why a container cannot be configured (`CreateContainerConfigError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("secret \"{0}\" not found")]
    SecretNotFound(String),
    #[error("configmap \"{0}\" not found")]
    ConfigMapNotFound(String),
    #[error("couldn't find key {key} in {kind} {ns}/{name}")]
    KeyNotFound {
        kind: &'static str,
        ns: String,
        name: String,
        key: String,
    },
    #[error("unsupported fieldPath: {0}")]
    FieldPath(String),
    #[error("cannot read {0}: {1}")]
    Api(String, String),
}

/// The Secrets and ConfigMaps a pod's containers refer to, by name (None: not found).
#[derive(Debug, Default, Clone)]
pub struct Refs {
    pub secrets: BTreeMap<String, Option<BTreeMap<String, String>>>,
    pub config_maps: BTreeMap<String, Option<BTreeMap<String, String>>>,
}

fn referenced(c: &Container) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut secrets = BTreeSet::new();
    let mut cms = BTreeSet::new();
    for e in c.env.iter().flatten() {
        if let Some(from) = &e.value_from {
            if let Some(s) = &from.secret_key_ref {
                secrets.insert(s.name.clone());
            }
            if let Some(m) = &from.config_map_key_ref {
                cms.insert(m.name.clone());
            }
        }
    }
    for f in c.env_from.iter().flatten() {
        if let Some(s) = &f.secret_ref {
            secrets.insert(s.name.clone());
        }
        if let Some(m) = &f.config_map_ref {
            cms.insert(m.name.clone());
        }
    }
    (secrets, cms)
}

/// A value read from the API: a Secret's or ConfigMap's data (None: not found).
type Data = Option<BTreeMap<String, String>>;

/// How long a Secret or ConfigMap read stays good for the containers that start next, as the
/// kubelet's TTL cache of the objects its pods refer to: 10,000 pods of one Job starting
/// within a minute read their Secret about once a second instead of 10,000 times.
pub const REF_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// (kind, namespace, name) of a Secret or ConfigMap.
type RefKey = (&'static str, String, String);

/// Secrets and ConfigMaps read lately, and when.
#[derive(Default)]
pub struct RefCache {
    entries: std::sync::Mutex<std::collections::HashMap<RefKey, (std::time::Instant, Data)>>,
}

impl RefCache {
    fn get(&self, kind: &'static str, ns: &str, name: &str) -> Option<Data> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&(kind, ns.to_string(), name.to_string()))
            .filter(|(at, _)| at.elapsed() < REF_TTL)
            .map(|(_, d)| d.clone())
    }

    fn put(&self, kind: &'static str, ns: &str, name: &str, data: Data) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 1_024 {
            entries.retain(|_, (at, _)| at.elapsed() < REF_TTL);
        }
        entries.insert(
            (kind, ns.to_string(), name.to_string()),
            (std::time::Instant::now(), data),
        );
    }
}

/// Reads every Secret and ConfigMap `c` refers to (through `cache`).
pub async fn fetch_refs(
    client: &Client,
    cache: &RefCache,
    ns: &str,
    c: &Container,
) -> Result<Refs, EnvError> {
    let (secrets, cms) = referenced(c);
    let mut refs = Refs::default();
    let sapi: Api<Secret> = Api::namespaced(client.clone(), ns);
    for name in secrets {
        if let Some(d) = cache.get("secret", ns, &name) {
            refs.secrets.insert(name, d);
            continue;
        }
        let s = sapi
            .get_opt(&name)
            .await
            .map_err(|e| EnvError::Api(format!("secret \"{name}\""), e.to_string()))?;
        let data = s.map(|s| {
            let mut m: BTreeMap<String, String> = s
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                .collect();
            m.extend(s.string_data.unwrap_or_default());
            m
        });
        cache.put("secret", ns, &name, data.clone());
        refs.secrets.insert(name, data);
    }
    let capi: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    for name in cms {
        if let Some(d) = cache.get("configmap", ns, &name) {
            refs.config_maps.insert(name, d);
            continue;
        }
        let m = capi
            .get_opt(&name)
            .await
            .map_err(|e| EnvError::Api(format!("configmap \"{name}\""), e.to_string()))?
            .map(|m| m.data.unwrap_or_default());
        cache.put("configmap", ns, &name, m.clone());
        refs.config_maps.insert(name, m);
    }
    Ok(refs)
}

/// A `fieldRef` value.
fn field(pod: &Pod, pod_ip: &str, path: &str) -> Result<String, EnvError> {
    let bracketed = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix("']"))
            .map(str::to_string)
    };
    if let Some(k) = bracketed("metadata.annotations['") {
        return Ok(pod.annotations().get(&k).cloned().unwrap_or_default());
    }
    if let Some(k) = bracketed("metadata.labels['") {
        return Ok(pod.labels().get(&k).cloned().unwrap_or_default());
    }
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    Ok(match path {
        "metadata.name" => pod.name_any(),
        "metadata.namespace" => pod.namespace().unwrap_or_default(),
        "metadata.uid" => pod.uid().unwrap_or_default(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_else(|| "default".into()),
        "status.podIP" | "status.podIPs" => pod_ip.to_string(),
        "status.hostIP" | "status.hostIPs" => status
            .and_then(|s| s.host_ip.clone())
            .unwrap_or_else(|| "127.0.0.1".into()),
        other => return Err(EnvError::FieldPath(other.to_string())),
    })
}

/// `$(VAR)` references to variables defined earlier are expanded; `$$` escapes; unknown
/// references stay as written (Kubernetes' `expansion.Expand`).
pub fn expand(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let Some(a) = after.strip_prefix('(')
            && let Some(end) = a.find(')')
        {
            let name = &a[..end];
            match vars.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = &a[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The container's environment, in definition order (later definitions win), plus
/// `HOSTNAME` as the container runtime sets it.
pub fn resolve(
    pod: &Pod,
    c: &Container,
    pod_ip: &str,
    refs: &Refs,
) -> Result<Vec<(String, String)>, EnvError> {
    let ns = pod.namespace().unwrap_or_default();
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<String> = vec![];
    let mut put = |vars: &mut BTreeMap<String, String>, k: String, v: String| {
        if !vars.contains_key(&k) {
            order.push(k.clone());
        }
        vars.insert(k, v);
    };
    let hostname = pod
        .spec
        .as_ref()
        .and_then(|s| s.hostname.clone())
        .unwrap_or_else(|| pod.name_any());
    put(&mut vars, "HOSTNAME".into(), hostname);
    let secret = |name: &str| {
        refs.secrets
            .get(name)
            .cloned()
            .flatten()
            .ok_or_else(|| EnvError::SecretNotFound(name.into()))
    };
    let config_map = |name: &str| {
        refs.config_maps
            .get(name)
            .cloned()
            .flatten()
            .ok_or_else(|| EnvError::ConfigMapNotFound(name.into()))
    };
    for f in c.env_from.iter().flatten() {
        let prefix = f.prefix.clone().unwrap_or_default();
        let data = if let Some(s) = &f.secret_ref {
            match secret(&s.name) {
                Ok(d) => d,
                Err(_) if s.optional == Some(true) => continue,
                Err(e) => return Err(e),
            }
        } else if let Some(m) = &f.config_map_ref {
            match config_map(&m.name) {
                Ok(d) => d,
                Err(_) if m.optional == Some(true) => continue,
                Err(e) => return Err(e),
            }
        } else {
            continue;
        };
        for (k, v) in data {
            put(&mut vars, format!("{prefix}{k}"), v);
        }
    }
    for e in c.env.iter().flatten() {
        let value = match &e.value_from {
            None => expand(e.value.as_deref().unwrap_or_default(), &vars),
            Some(from) => {
                if let Some(f) = &from.field_ref {
                    field(pod, pod_ip, &f.field_path)?
                } else if let Some(s) = &from.secret_key_ref {
                    let found = secret(&s.name).and_then(|d| {
                        d.get(&s.key).cloned().ok_or_else(|| EnvError::KeyNotFound {
                            kind: "Secret",
                            ns: ns.clone(),
                            name: s.name.clone(),
                            key: s.key.clone(),
                        })
                    });
                    match found {
                        Ok(v) => v,
                        Err(_) if s.optional == Some(true) => continue,
                        Err(e) => return Err(e),
                    }
                } else if let Some(m) = &from.config_map_key_ref {
                    let found = config_map(&m.name).and_then(|d| {
                        d.get(&m.key).cloned().ok_or_else(|| EnvError::KeyNotFound {
                            kind: "ConfigMap",
                            ns: ns.clone(),
                            name: m.name.clone(),
                            key: m.key.clone(),
                        })
                    });
                    match found {
                        Ok(v) => v,
                        Err(_) if m.optional == Some(true) => continue,
                        Err(e) => return Err(e),
                    }
                } else if let Some(r) = &from.resource_field_ref {
                    resource_field(c, &r.resource)
                } else {
                    String::new()
                }
            }
        };
        put(&mut vars, e.name.clone(), value);
    }
    Ok(order
        .into_iter()
        .map(|k| {
            let v = vars.remove(&k).unwrap_or_default();
            (k, v)
        })
        .collect())
}

/// `resourceFieldRef` with the default divisor: memory in bytes, CPU in whole cores (rounded
/// up).
fn resource_field(c: &Container, resource: &str) -> String {
    let res = c.resources.as_ref();
    let (which, name) = resource.split_once('.').unwrap_or(("limits", resource));
    let q = res
        .and_then(|r| match which {
            "requests" => r.requests.as_ref(),
            _ => r.limits.as_ref(),
        })
        .and_then(|m| m.get(name))
        .map(|q| q.0.clone());
    match (name, q) {
        ("cpu", Some(q)) => crate::fleet::objects::parse_cpu_millis(&q)
            .map(|m| m.div_ceil(1000).to_string())
            .unwrap_or_default(),
        (_, Some(q)) => crate::fleet::objects::parse_quantity_bytes(&q)
            .map(|b| b.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The command line of a container running the agent image: `command` + `args` with `$(VAR)`
/// expanded. A leading `fleetctl` (the image's binary) is dropped, and `agent` is added when
/// missing, so the result is what follows the executable.
pub fn argv(c: &Container, env: &[(String, String)]) -> Vec<String> {
    let vars: BTreeMap<String, String> = env.iter().cloned().collect();
    let mut all: Vec<String> = c
        .command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .map(|a| expand(a, &vars))
        .collect();
    if all
        .first()
        .is_some_and(|a| a == "fleetctl" || a.ends_with("/fleetctl"))
    {
        all.remove(0);
    }
    if all.first().map(String::as_str) != Some("agent") {
        all.insert(0, "agent".into());
    }
    all
}

/// The agent listens on the pod's IP: a `--metrics-addr` on a wildcard host is moved there, and
/// one is added (on the first declared containerPort, else 8080) when absent.
pub fn bind_to_pod_ip(argv: &mut Vec<String>, c: &Container, pod_ip: &str) {
    let port = c
        .ports
        .iter()
        .flatten()
        .next()
        .map(|p| p.container_port)
        .unwrap_or(8080);
    let rehost = |v: &str| -> String {
        match v.rsplit_once(':') {
            Some(("0.0.0.0" | "[::]" | "::" | "", p)) => {
                format!("{pod_ip}:{p}")
            }
            _ => v.to_string(),
        }
    };
    let mut found = false;
    let mut i = 0;
    while i < argv.len() {
        if argv[i] == "--metrics-addr" && i + 1 < argv.len() {
            argv[i + 1] = rehost(&argv[i + 1]);
            found = true;
            i += 1;
        } else if let Some(v) = argv[i].strip_prefix("--metrics-addr=") {
            argv[i] = format!("--metrics-addr={}", rehost(v));
            found = true;
        }
        i += 1;
    }
    if !found {
        argv.push("--metrics-addr".into());
        argv.push(format!("{pod_ip}:{port}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "agent-0-abcde", "namespace": "agents", "uid": "u1",
                         "annotations": {"batch.kubernetes.io/job-completion-index": "7"},
                         "labels": {"app": "ai-agent"}},
            "spec": {"nodeName": "sim-node-1", "containers": [{
                "name": "agent", "image": "x",
                "command": ["fleetctl", "agent"],
                "args": ["--queue", "$(QUEUE)", "--checkpoint-dir", "/checkpoints", "--metrics-addr", "0.0.0.0:8080"],
                "ports": [{"containerPort": 8080}],
                "resources": {"limits": {"memory": "2Gi", "cpu": "1500m"}},
                "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
                "env": [
                    {"name": "QUEUE", "value": "agent-tasks"},
                    {"name": "URL", "valueFrom": {"secretKeyRef": {"name": "agent-secrets", "key": "queue-url"}}},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
                    {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}},
                    {"name": "CPUS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                    {"name": "GREETING", "value": "queue $(QUEUE) on $$(HOST) $(NOPE)"},
                    {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k", "optional": true}}}
                ]
            }]}
        }))
        .unwrap()
    }

    fn refs() -> Refs {
        let mut r = Refs::default();
        r.secrets.insert(
            "agent-secrets".into(),
            Some([("queue-url".to_string(), "amqp://u:p@h/%2f".to_string())].into()),
        );
        r.secrets.insert("missing".into(), None);
        r.config_maps.insert(
            "cfg".into(),
            Some([("mode".to_string(), "fast".to_string())].into()),
        );
        r
    }

    #[test]
    fn every_source_resolves() {
        let p = pod();
        let c = &p.spec.as_ref().unwrap().containers[0];
        let env: BTreeMap<String, String> = resolve(&p, c, "127.1.0.9", &refs())
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(env["HOSTNAME"], "agent-0-abcde");
        assert_eq!(env["URL"], "amqp://u:p@h/%2f");
        assert_eq!(env["POD_NAME"], "agent-0-abcde");
        assert_eq!(env["NAMESPACE"], "agents");
        assert_eq!(env["JOB_COMPLETION_INDEX"], "7");
        assert_eq!(env["IP"], "127.1.0.9");
        assert_eq!(env["MODE"], "fast");
        assert_eq!(env["CFG_mode"], "fast");
        assert_eq!(env["MEM"], (2u64 << 30).to_string());
        assert_eq!(env["CPUS"], "2");
        assert_eq!(env["GREETING"], "queue agent-tasks on $(HOST) $(NOPE)");
        assert!(!env.contains_key("OPT"));
    }

    #[test]
    fn missing_references_name_what_is_missing() {
        let p = pod();
        let c = &p.spec.as_ref().unwrap().containers[0];
        let mut r = refs();
        r.secrets.insert("agent-secrets".into(), None);
        assert_eq!(
            resolve(&p, c, "ip", &r).unwrap_err().to_string(),
            "secret \"agent-secrets\" not found"
        );
        let mut r = refs();
        r.secrets
            .insert("agent-secrets".into(), Some(BTreeMap::new()));
        assert_eq!(
            resolve(&p, c, "ip", &r).unwrap_err().to_string(),
            "couldn't find key queue-url in Secret agents/agent-secrets"
        );
        assert_eq!(
            referenced(c),
            (
                ["agent-secrets".to_string(), "missing".to_string()].into(),
                ["cfg".to_string()].into()
            )
        );
    }

    #[test]
    fn command_line_and_metrics_address() {
        let p = pod();
        let c = &p.spec.as_ref().unwrap().containers[0];
        let env = resolve(&p, c, "127.1.0.9", &refs()).unwrap();
        let mut a = argv(c, &env);
        assert_eq!(
            a,
            [
                "agent",
                "--queue",
                "agent-tasks",
                "--checkpoint-dir",
                "/checkpoints",
                "--metrics-addr",
                "0.0.0.0:8080"
            ]
        );
        bind_to_pod_ip(&mut a, c, "127.1.0.9");
        assert_eq!(a[6], "127.1.0.9:8080");
        let mut b = vec!["agent".to_string()];
        bind_to_pod_ip(&mut b, c, "127.1.0.9");
        assert_eq!(b, ["agent", "--metrics-addr", "127.1.0.9:8080"]);
        let mut d = vec![
            "agent".to_string(),
            "--metrics-addr=127.0.0.1:0".to_string(),
        ];
        bind_to_pod_ip(&mut d, c, "127.1.0.9");
        assert_eq!(d[1], "--metrics-addr=127.0.0.1:0");
    }
}
