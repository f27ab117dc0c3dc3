//! The defaults kube-apiserver fills in on create, for the kinds whose behaviour depends on them
//! (the Job controller reads a Job's selector and parallelism; kubectl prints a pod's phase).

use serde_json::{Value, json};

use super::registry::ResourceType;

fn set_default(obj: &mut Value, path: &[&str], v: Value) {
    let mut cur = obj;
    for (i, seg) in path.iter().enumerate() {
        if i + 1 == path.len() {
            if cur.get(*seg).is_none_or(Value::is_null) {
                cur[*seg] = v;
            }
            return;
        }
        if !cur[*seg].is_object() {
            cur[*seg] = json!({});
        }
        cur = &mut cur[*seg];
    }
}

/// Pod spec defaults shared by Pods and the templates of Jobs and Deployments.
fn pod_spec(spec: &mut Value, restart: &str) {
    set_default(spec, &["restartPolicy"], json!(restart));
    set_default(spec, &["terminationGracePeriodSeconds"], json!(30));
    set_default(spec, &["dnsPolicy"], json!("ClusterFirst"));
    set_default(spec, &["schedulerName"], json!("default-scheduler"));
    set_default(spec, &["securityContext"], json!({}));
    if let Some(cs) = spec["containers"].as_array_mut() {
        for c in cs {
            set_default(
                c,
                &["imagePullPolicy"],
                json!(if c["image"]
                    .as_str()
                    .is_some_and(|i| i.ends_with(":latest") || !i.contains(':'))
                {
                    "Always"
                } else {
                    "IfNotPresent"
                }),
            );
            set_default(
                c,
                &["terminationMessagePath"],
                json!("/dev/termination-log"),
            );
            set_default(c, &["terminationMessagePolicy"], json!("File"));
            set_default(c, &["resources"], json!({}));
        }
    }
}

/// Fills the defaults of a new object of `rt`.
pub fn on_create(rt: &ResourceType, obj: &mut Value) {
    on_write(rt, obj);
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => {
            // A new pod's status is the kubelet's to write, whatever the client sent (a podIP
            // of its choosing would be where pods/proxy goes), as kube-apiserver's
            // PrepareForCreate resets it.
            obj["status"] = json!({});
            pod_spec(&mut obj["spec"], "Always");
            set_default(obj, &["status", "phase"], json!("Pending"));
            set_default(obj, &["status", "qosClass"], json!(qos_class(&obj["spec"])));
        }
        ("batch", "Job") => job(obj),
        ("apps", "Deployment") => {
            set_default(obj, &["spec", "replicas"], json!(1));
            set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
            set_default(obj, &["spec", "progressDeadlineSeconds"], json!(600));
            set_default(
                obj,
                &["spec", "strategy"],
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
            );
            pod_spec(&mut obj["spec"]["template"]["spec"], "Always");
        }
        ("apps", "ReplicaSet") => {
            set_default(obj, &["spec", "replicas"], json!(1));
            pod_spec(&mut obj["spec"]["template"]["spec"], "Always");
        }
        ("", "Namespace") => {
            let name = obj["metadata"]["name"].clone();
            set_default(
                obj,
                &["metadata", "labels", "kubernetes.io/metadata.name"],
                name,
            );
            set_default(obj, &["spec", "finalizers"], json!(["kubernetes"]));
            set_default(obj, &["status", "phase"], json!("Active"));
        }
        ("", "Service") => {
            set_default(obj, &["spec", "type"], json!("ClusterIP"));
            set_default(obj, &["spec", "sessionAffinity"], json!("None"));
            let ip = format!("10.96.{}.{}", fastrand::u8(0..=255), fastrand::u8(1..=254));
            set_default(obj, &["spec", "clusterIP"], json!(ip.clone()));
            set_default(obj, &["spec", "clusterIPs"], json!([ip]));
            if let Some(ports) = obj["spec"]["ports"].as_array_mut() {
                for p in ports {
                    set_default(p, &["protocol"], json!("TCP"));
                    let port = p["port"].clone();
                    set_default(p, &["targetPort"], port);
                }
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            // What the apiextensions controller reports once the names are accepted.
            let names = obj["spec"]["names"].clone();
            let storage: Vec<Value> = obj["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["storage"].as_bool() == Some(true))
                .map(|v| v["name"].clone())
                .collect();
            let now = super::store::timestamp(jiff::Timestamp::now());
            obj["status"] = json!({
                "acceptedNames": names,
                "storedVersions": storage,
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
                ],
            });
        }
        ("", "Secret") => set_default(obj, &["type"], json!("Opaque")),
        ("", "PersistentVolumeClaim") => {
            set_default(obj, &["spec", "volumeMode"], json!("Filesystem"));
            set_default(obj, &["status", "phase"], json!("Pending"));
        }
        ("policy", "PodDisruptionBudget") => {
            set_default(
                obj,
                &["status"],
                json!({
                    "currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0, "observedGeneration": 0
                }),
            );
        }
        _ => {}
    }
}

/// What the API server does to every written object, created or updated, before validation:
/// a Secret's `stringData` is folded into `data` (base64), and a podFailurePolicy condition
/// pattern without a status means `True`.
pub fn on_write(rt: &ResourceType, obj: &mut Value) {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Secret") => {
            use base64::Engine;
            let Some(Value::Object(plain)) =
                obj.as_object_mut().and_then(|m| m.remove("stringData"))
            else {
                return;
            };
            if !obj["data"].is_object() {
                obj["data"] = json!({});
            }
            for (k, v) in plain {
                let text = v.as_str().unwrap_or_default();
                obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
            }
        }
        ("batch", "Job") => {
            let rules = obj["spec"]["podFailurePolicy"]["rules"].as_array_mut();
            for rule in rules.into_iter().flatten() {
                let conds = rule["onPodConditions"].as_array_mut();
                for c in conds.into_iter().flatten() {
                    if c["status"].as_str().is_none_or(str::is_empty) {
                        c["status"] = json!("True");
                    }
                }
            }
        }
        _ => {}
    }
}

/// Job defaults and the selector the apiserver generates: the Job's uid as controller-uid, on
/// the selector and on the template's labels.
fn job(obj: &mut Value) {
    let uid = obj["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let spec = &mut obj["spec"];
    let indexed = spec["completionMode"].as_str() == Some("Indexed");
    if spec["completions"].is_null() && spec["parallelism"].is_null() {
        spec["completions"] = json!(1);
        spec["parallelism"] = json!(1);
    }
    set_default(spec, &["parallelism"], json!(1));
    set_default(
        spec,
        &["backoffLimit"],
        json!(if spec["backoffLimitPerIndex"].is_null() {
            6
        } else {
            2147483647
        }),
    );
    set_default(
        spec,
        &["completionMode"],
        json!(if indexed { "Indexed" } else { "NonIndexed" }),
    );
    set_default(spec, &["suspend"], json!(false));
    let replacement = if spec["podFailurePolicy"].is_null() {
        "TerminatingOrFailed"
    } else {
        "Failed"
    };
    set_default(spec, &["podReplacementPolicy"], json!(replacement));
    if spec["manualSelector"].as_bool() != Some(true) {
        spec["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
        let labels = &mut spec["template"]["metadata"]["labels"];
        if !labels.is_object() {
            *labels = json!({});
        }
        labels["batch.kubernetes.io/controller-uid"] = json!(uid);
        labels["batch.kubernetes.io/job-name"] = json!(name);
        labels["controller-uid"] = json!(uid);
        labels["job-name"] = json!(name);
    }
    pod_spec(&mut spec["template"]["spec"], "Never");
}

/// A pod's QoS class from its containers' requests and limits.
pub fn qos_class(spec: &Value) -> &'static str {
    let cs: Vec<&Value> = spec["containers"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let any = cs.iter().any(|c| {
        c["resources"]["requests"]
            .as_object()
            .is_some_and(|m| !m.is_empty())
            || c["resources"]["limits"]
                .as_object()
                .is_some_and(|m| !m.is_empty())
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = cs.iter().all(|c| {
        let l = &c["resources"]["limits"];
        let r = &c["resources"]["requests"];
        ["cpu", "memory"]
            .iter()
            .all(|k| !l[*k].is_null() && (r[*k].is_null() || r[*k] == l[*k]))
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::api::registry::Registry;

    #[test]
    fn job_gets_selector_and_defaults() {
        let reg = Registry::new(false);
        let rt = reg.find("batch", "v1", "jobs").unwrap();
        let mut j = json!({"metadata": {"name": "j", "uid": "u-1"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i:1"}]}}}});
        on_create(rt, &mut j);
        assert_eq!(j["spec"]["completions"], 1);
        assert_eq!(j["spec"]["parallelism"], 1);
        assert_eq!(j["spec"]["backoffLimit"], 6);
        assert_eq!(
            j["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"],
            "u-1"
        );
        assert_eq!(j["spec"]["template"]["metadata"]["labels"]["job-name"], "j");
        assert_eq!(
            j["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn qos() {
        assert_eq!(qos_class(&json!({"containers": [{}]})), "BestEffort");
        assert_eq!(
            qos_class(
                &json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]})
            ),
            "Guaranteed"
        );
        assert_eq!(
            qos_class(
                &json!({"containers": [{"resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "2Gi"}}}]})
            ),
            "Burstable"
        );
    }
}
