//! The bundled manifests: embedded copies match the files on disk, the kustomization renders,
//! and the fixes to the article's defects are in place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fleetctl::manifests::{self, BUNDLED, EXAMPLE_SECRET, KUSTOMIZATION, Manifest};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// helpers

fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests")
}

fn manifest(file: &str) -> &'static Manifest {
    manifests::get(file).unwrap_or_else(|| panic!("{file} is not bundled"))
}

fn docs(file: &str) -> Vec<Value> {
    manifests::documents(manifest(file)).unwrap_or_else(|e| panic!("{e}: {e:?}"))
}

/// The only document of `file`, checking its kind.
fn single(file: &str, kind: &str) -> Value {
    let mut all = docs(file);
    assert_eq!(all.len(), 1, "{file} should hold exactly one document");
    let doc = all.remove(0);
    assert_eq!(doc["kind"], kind, "{file}");
    doc
}

fn at<'a>(doc: &'a Value, pointer: &str) -> &'a Value {
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("missing {pointer} in {}", doc["kind"]))
}

fn str_list(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_else(|| panic!("not a string: {s}")))
        .collect()
}

fn scaledjob() -> Value {
    single("agent-scaledjob.yaml", "ScaledJob")
}

fn job() -> Value {
    single("agent-job.yaml", "Job")
}

/// The pod templates of both workloads, with a label for messages.
fn pod_templates() -> [(&'static str, Value); 2] {
    [
        (
            "ScaledJob",
            at(&scaledjob(), "/spec/jobTargetRef/template").clone(),
        ),
        ("Job", at(&job(), "/spec/template").clone()),
    ]
}

/// `kubectl` if it can run. When it cannot: panics under CI=true, otherwise says the test is
/// skipped and returns None.
fn kubectl(test: &str) -> Option<Command> {
    match Command::new("kubectl")
        .args(["version", "--client"])
        .output()
    {
        Ok(out) if out.status.success() => Some(Command::new("kubectl")),
        result => {
            let why = match result {
                Ok(out) => format!(
                    "`kubectl version --client` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                Err(e) => format!("kubectl could not be run: {e}"),
            };
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "kubectl is required: install kubectl 1.32 and put it on PATH \
                     (CI=true, so this test may not be skipped; {why})"
                );
            }
            eprintln!("SKIPPED {test}: {why}; install kubectl 1.32 to run it");
            None
        }
    }
}

/// Renders a kustomize directory with `kubectl kustomize` into its documents.
fn kustomize(mut kubectl: Command, dir: &Path) -> Vec<Value> {
    let out = kubectl
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("run kubectl kustomize");
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("kustomize output is UTF-8");
    serde_saphyr::from_multiple::<Value>(&text).expect("kustomize output parses")
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} among the documents"))
}

/// The kinds and names every rendering of the bundle must contain.
const EXPECTED_OBJECTS: &[(&str, &str)] = &[
    ("Namespace", "agents"),
    ("LimitRange", "agent-limits"),
    ("ServiceAccount", "fleetctl"),
    ("Role", "fleetctl"),
    ("RoleBinding", "fleetctl"),
    ("PersistentVolumeClaim", "agent-checkpoints"),
    ("PodDisruptionBudget", "agent-pdb"),
    ("NetworkPolicy", "agent-netpol"),
    ("Service", "agent-metrics"),
    ("TriggerAuthentication", "rabbitmq-auth"),
    ("Job", "ai-agent-batch"),
    ("ScaledJob", "ai-agent"),
];

// ---------------------------------------------------------------------------------------------
// the embedded files and the kustomization

#[test]
fn embedded_files_equal_the_files_on_disk() {
    for m in BUNDLED {
        let path = manifests_dir().join(m.file);
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        assert!(
            on_disk == m.yaml,
            "{} differs from the embedded copy",
            m.file
        );
    }
}

#[test]
fn every_yaml_file_on_disk_is_embedded() {
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(manifests_dir()).expect("read manifests/") {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            on_disk.insert(name);
        }
    }
    let embedded: BTreeSet<String> = BUNDLED.iter().map(|m| m.file.to_owned()).collect();
    assert_eq!(on_disk, embedded);
}

#[test]
fn kustomization_resources_are_exactly_the_applied_files() {
    let k = single(KUSTOMIZATION, "Kustomization");
    let listed = str_list(&k["resources"]);
    let applied: Vec<&str> = manifests::resources().map(|m| m.file).collect();
    assert_eq!(listed, applied);
    assert!(!listed.contains(&EXAMPLE_SECRET));
    assert_eq!(applied.len(), 10);
}

#[test]
fn embedded_documents_are_the_expected_objects() {
    let all: Vec<Value> = manifests::resources()
        .flat_map(|m| manifests::documents(m).unwrap())
        .collect();
    for (kind, name) in EXPECTED_OBJECTS {
        find(&all, kind, name);
    }
    assert_eq!(all.len(), EXPECTED_OBJECTS.len());
}

#[test]
fn kubectl_kustomize_renders_every_object() {
    let Some(kubectl) = kubectl("kubectl_kustomize_renders_every_object") else {
        return;
    };
    let rendered = kustomize(kubectl, &manifests_dir());
    assert_eq!(rendered.len(), EXPECTED_OBJECTS.len());
    for (kind, name) in EXPECTED_OBJECTS {
        find(&rendered, kind, name);
    }
    assert!(
        rendered.iter().all(|d| d["kind"] != "Secret"),
        "the example secret must not be rendered"
    );
    // Rendering changes nothing in the workloads.
    assert_eq!(*find(&rendered, "Job", "ai-agent-batch"), job());
    assert_eq!(*find(&rendered, "ScaledJob", "ai-agent"), scaledjob());
}

/// The commented-out example in kustomization.yaml must keep working: uncomment it in a copy
/// of the directory and check that it overrides the storage class, the ipBlock and the image.
#[test]
fn kustomization_example_patch_works_when_uncommented() {
    let Some(kubectl) = kubectl("kustomization_example_patch_works_when_uncommented") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("fleetctl-manifests-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for m in BUNDLED {
        std::fs::write(dir.join(m.file), m.yaml).unwrap();
    }
    let text = manifest(KUSTOMIZATION).yaml;
    let (head, rest) = text
        .split_once("# BEGIN example patches\n")
        .expect("kustomization.yaml has a BEGIN example patches marker");
    let (example, _) = rest
        .split_once("# END example patches")
        .expect("kustomization.yaml has an END example patches marker");
    let mut patched = head.to_owned();
    for line in example.lines() {
        let line = line
            .strip_prefix("# ")
            .unwrap_or_else(|| panic!("example line is not commented: {line:?}"));
        patched.push_str(line);
        patched.push('\n');
    }
    std::fs::write(dir.join(KUSTOMIZATION), patched).unwrap();

    let rendered = kustomize(kubectl, &dir);
    std::fs::remove_dir_all(&dir).unwrap();

    let pvc = find(&rendered, "PersistentVolumeClaim", "agent-checkpoints");
    assert_eq!(pvc["spec"]["storageClassName"], "standard-rwx");
    let netpol = find(&rendered, "NetworkPolicy", "agent-netpol");
    assert_eq!(
        *at(netpol, "/spec/ingress/1/from/0/ipBlock/cidr"),
        "10.0.0.0/28"
    );
    assert_eq!(*at(netpol, "/spec/ingress/1/ports/0/port"), 8080);
    let job = find(&rendered, "Job", "ai-agent-batch");
    let sj = find(&rendered, "ScaledJob", "ai-agent");
    for image in [
        at(job, "/spec/template/spec/containers/0/image"),
        at(sj, "/spec/jobTargetRef/template/spec/containers/0/image"),
    ] {
        assert_eq!(*image, "ghcr.io/fleetctl/agent:0.2.0");
    }
}

// ---------------------------------------------------------------------------------------------
// workloads

#[test]
fn scaledjob_scales_on_the_agent_tasks_queue() {
    let sj = scaledjob();
    assert_eq!(sj["apiVersion"], "keda.sh/v1alpha1");
    assert_eq!(sj["metadata"]["name"], "ai-agent");
    assert_eq!(sj["metadata"]["namespace"], "agents");
    assert_eq!(sj["metadata"]["labels"]["app"], "ai-agent");
    let spec = &sj["spec"];
    assert_eq!(spec["pollingInterval"], 15);
    assert_eq!(spec["maxReplicaCount"], 500);
    assert_eq!(spec["scalingStrategy"]["strategy"], "default");
    assert!(spec["successfulJobsHistoryLimit"].as_u64().is_some());
    assert!(spec["failedJobsHistoryLimit"].as_u64().is_some());
    let triggers = spec["triggers"].as_array().expect("triggers");
    assert_eq!(triggers.len(), 1);
    let t = &triggers[0];
    assert_eq!(t["type"], "rabbitmq");
    assert_eq!(
        t["metadata"],
        json!({
            "protocol": "amqp",
            "queueName": "agent-tasks",
            "mode": "QueueLength",
            "value": "5",
        }),
        "trigger metadata values are strings, and the host comes from the auth ref only"
    );
    assert_eq!(t["authenticationRef"], json!({"name": "rabbitmq-auth"}));
    assert_eq!(spec["jobTargetRef"]["parallelism"], 1);
    assert_eq!(spec["jobTargetRef"]["completions"], 1);
}

#[test]
fn job_is_an_indexed_batch_of_one_hundred() {
    let job = job();
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["metadata"]["name"], "ai-agent-batch");
    assert_eq!(job["metadata"]["namespace"], "agents");
    assert_eq!(job["metadata"]["labels"]["app"], "ai-agent");
    assert_eq!(
        job["metadata"]["annotations"]["fleetctl.io/queue"],
        "agent-tasks"
    );
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 100);
    assert_eq!(spec["parallelism"], 20);
    assert_eq!(spec["backoffLimit"], 3);
    assert_eq!(spec["ttlSecondsAfterFinished"], 3600);
}

#[test]
fn both_workloads_use_the_same_pod_template_and_failure_policy() {
    let sj = scaledjob();
    let job = job();
    let sj_spec = &sj["spec"]["jobTargetRef"];
    let job_spec = &job["spec"];
    assert_eq!(
        sj_spec["template"]["metadata"],
        job_spec["template"]["metadata"]
    );
    assert_eq!(sj_spec["template"]["spec"], job_spec["template"]["spec"]);
    assert_eq!(sj_spec["template"], job_spec["template"]);
    assert_eq!(sj_spec["podFailurePolicy"], job_spec["podFailurePolicy"]);
    assert_eq!(sj_spec["backoffLimit"], 3);
    assert_eq!(job_spec["backoffLimit"], 3);
}

#[test]
fn pod_template_is_selected_and_scrapable() {
    for (owner, t) in pod_templates() {
        assert_eq!(
            t["metadata"]["labels"],
            json!({"app": "ai-agent"}),
            "{owner}"
        );
        assert_eq!(
            t["metadata"]["annotations"],
            json!({
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "8080",
                "prometheus.io/path": "/metrics",
            }),
            "{owner}"
        );
        let spec = &t["spec"];
        assert_eq!(spec["terminationGracePeriodSeconds"], 30, "{owner}");
        assert_eq!(spec["automountServiceAccountToken"], false, "{owner}");
        let containers = spec["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 1, "{owner}");
        let c = &containers[0];
        assert_eq!(c["name"], "agent");
        assert_eq!(
            c["image"],
            format!("ghcr.io/fleetctl/agent:{}", env!("CARGO_PKG_VERSION")),
            "{owner}: the default image tag is the crate version"
        );
        assert_eq!(str_list(&c["command"]), ["fleetctl", "agent"]);
        assert_eq!(
            str_list(&c["args"]),
            [
                "--queue",
                "agent-tasks",
                "--checkpoint-dir",
                "/checkpoints",
                "--metrics-addr",
                "0.0.0.0:8080",
            ]
        );
        assert_eq!(
            c["ports"],
            json!([{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}])
        );
        assert_eq!(
            c["env"],
            json!([
                {"name": "TASK_QUEUE_URL",
                 "valueFrom": {"secretKeyRef": {"name": "agent-secrets", "key": "queue-url"}}},
                {"name": "POD_NAME",
                 "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "NAMESPACE",
                 "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            ])
        );
        assert_eq!(
            c["resources"],
            json!({"requests": {"memory": "1Gi", "cpu": "250m"}, "limits": {"memory": "2Gi"}})
        );
        assert_eq!(
            c["livenessProbe"]["httpGet"],
            json!({"path": "/healthz", "port": "metrics"})
        );
        assert_eq!(
            c["readinessProbe"]["httpGet"],
            json!({"path": "/readyz", "port": "metrics"})
        );
    }
}

#[test]
fn evictions_do_not_burn_retries() {
    for (owner, t) in pod_templates() {
        assert_eq!(t["spec"]["restartPolicy"], "Never", "{owner}");
    }
    for (owner, spec) in [
        ("ScaledJob", scaledjob()["spec"]["jobTargetRef"].clone()),
        ("Job", job()["spec"].clone()),
    ] {
        let rules = spec["podFailurePolicy"]["rules"].as_array().expect("rules");
        assert_eq!(
            rules[0],
            json!({"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}),
            "{owner}: the DisruptionTarget rule comes first so a disruption is never counted"
        );
        assert_eq!(
            rules[1],
            json!({"action": "FailJob",
                   "onExitCodes": {"containerName": "agent", "operator": "In", "values": [2]}}),
            "{owner}"
        );
        assert_eq!(
            rules[2],
            json!({"action": "Ignore",
                   "onExitCodes": {"containerName": "agent", "operator": "In", "values": [143]}}),
            "{owner}: an agent interrupted by SIGTERM (checkpointed, requeued) is replaced, not counted"
        );
        assert_eq!(
            rules.len(),
            3,
            "{owner}: no rule may ignore OOMKills (exit 137)"
        );
    }
}

#[test]
fn queue_name_agrees_everywhere() {
    let sj = scaledjob();
    let job = job();
    let from_trigger = &sj["spec"]["triggers"][0]["metadata"]["queueName"];
    let from_annotation = &job["metadata"]["annotations"]["fleetctl.io/queue"];
    assert_eq!(from_trigger, from_annotation);
    for (owner, t) in pod_templates() {
        let args = str_list(&t["spec"]["containers"][0]["args"]);
        let i = args.iter().position(|a| *a == "--queue").unwrap();
        assert_eq!(args[i + 1], from_trigger.as_str().unwrap(), "{owner}");
    }
}

// ---------------------------------------------------------------------------------------------
// pod security

#[test]
fn pods_run_unprivileged_with_a_read_only_root() {
    for (owner, t) in pod_templates() {
        let spec = &t["spec"];
        let psc = &spec["securityContext"];
        assert_eq!(psc["runAsNonRoot"], true, "{owner}");
        assert_eq!(psc["runAsUser"], 65532, "{owner}");
        assert_eq!(psc["runAsGroup"], 65532, "{owner}");
        assert_eq!(psc["fsGroup"], 65532, "{owner}");
        assert_eq!(
            psc["seccompProfile"],
            json!({"type": "RuntimeDefault"}),
            "{owner}"
        );
        assert!(spec.get("initContainers").is_none(), "{owner}");
        assert!(spec.get("hostNetwork").is_none(), "{owner}");
        for c in spec["containers"].as_array().unwrap() {
            let sc = &c["securityContext"];
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{owner}");
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{owner}");
            assert_eq!(sc["capabilities"], json!({"drop": ["ALL"]}), "{owner}");
            assert!(sc.get("privileged").is_none(), "{owner}");
            assert!(
                sc.get("runAsUser").is_none(),
                "{owner}: set at pod level only"
            );
        }
    }
}

#[test]
fn only_the_checkpoint_volume_and_tmp_are_writable() {
    for (owner, t) in pod_templates() {
        let spec = &t["spec"];
        let volumes = spec["volumes"].as_array().unwrap();
        let volume = |name: &str| {
            volumes
                .iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("{owner}: no volume {name}"))
        };
        let mut writable = BTreeSet::new();
        for c in spec["containers"].as_array().unwrap() {
            for m in c["volumeMounts"].as_array().unwrap() {
                if m["readOnly"] == true {
                    continue;
                }
                let v = volume(m["name"].as_str().unwrap());
                let source = if v["persistentVolumeClaim"]["claimName"] == "agent-checkpoints" {
                    "pvc agent-checkpoints"
                } else if v.get("emptyDir").is_some() {
                    "emptyDir"
                } else {
                    panic!("{owner}: writable mount of an unexpected volume: {v}")
                };
                writable.insert((m["mountPath"].as_str().unwrap().to_owned(), source));
            }
        }
        let expected = BTreeSet::from([
            ("/checkpoints".to_owned(), "pvc agent-checkpoints"),
            ("/tmp".to_owned(), "emptyDir"),
        ]);
        assert_eq!(writable, expected, "{owner}");
        assert_eq!(volumes.len(), 2, "{owner}: no other volumes");
    }
}

// ---------------------------------------------------------------------------------------------
// disruption budget, network policy, service, RBAC and the rest

#[test]
fn pdb_uses_an_integer_min_available() {
    let pdb = single("agent-pdb.yaml", "PodDisruptionBudget");
    assert_eq!(pdb["apiVersion"], "policy/v1");
    let spec = &pdb["spec"];
    assert!(
        spec["minAvailable"].is_u64(),
        "minAvailable must be an integer (a percentage fails on Job-owned pods): {}",
        spec["minAvailable"]
    );
    assert_eq!(spec["minAvailable"], 1);
    assert!(
        spec.get("maxUnavailable").is_none(),
        "maxUnavailable fails on Job-owned pods"
    );
    assert_eq!(spec["unhealthyPodEvictionPolicy"], "AlwaysAllow");
    assert_eq!(
        spec["selector"],
        json!({"matchLabels": {"app": "ai-agent"}})
    );
}

#[test]
fn pdb_and_netpol_select_the_agent_pods() {
    let pdb = single("agent-pdb.yaml", "PodDisruptionBudget");
    let netpol = single("agent-netpol.yaml", "NetworkPolicy");
    let svc = single("agent-metrics-service.yaml", "Service");
    for (owner, t) in pod_templates() {
        let labels = t["metadata"]["labels"].as_object().unwrap();
        for (what, selector) in [
            ("PDB", &pdb["spec"]["selector"]["matchLabels"]),
            (
                "NetworkPolicy",
                &netpol["spec"]["podSelector"]["matchLabels"],
            ),
            ("Service", &svc["spec"]["selector"]),
        ] {
            for (k, v) in selector.as_object().unwrap() {
                assert_eq!(
                    labels.get(k),
                    Some(v),
                    "{what} does not select {owner} pods"
                );
            }
        }
    }
}

fn has_port(rule: &Value, protocol: &str, port: u64) -> bool {
    rule["ports"].as_array().is_some_and(|ps| {
        ps.iter()
            .any(|p| p["protocol"] == protocol && p["port"] == port)
    })
}

/// Every object under a `namespaceSelector` key anywhere in `v`.
fn namespace_selectors(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "namespaceSelector" {
                    out.push(child.clone());
                }
                namespace_selectors(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| namespace_selectors(i, out)),
        _ => {}
    }
}

#[test]
fn netpol_admits_scrapes_and_dns() {
    let np = single("agent-netpol.yaml", "NetworkPolicy");
    let spec = &np["spec"];
    assert_eq!(str_list(&spec["policyTypes"]), ["Ingress", "Egress"]);
    let ingress = spec["ingress"].as_array().expect("ingress rules");
    assert!(
        !ingress.is_empty(),
        "Ingress declared without a rule denies everything"
    );

    // Every ingress rule is for the metrics port only.
    for rule in ingress {
        assert_eq!(rule["ports"], json!([{"protocol": "TCP", "port": 8080}]));
    }
    // From the monitoring namespace, selected by the label every namespace carries.
    let monitoring = json!({"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}});
    assert!(
        ingress.iter().any(|r| r["from"]
            .as_array()
            .is_some_and(|f| f.iter().any(|p| p["namespaceSelector"] == monitoring))),
        "no ingress from namespace monitoring on 8080"
    );
    // From the control plane (API server pod proxy): the ipBlock patch point at index 1.
    let ip = at(spec, "/ingress/1/from/0/ipBlock/cidr");
    assert_eq!(ip, "192.0.2.0/24", "placeholder documentation range");
    assert!(has_port(&ingress[1], "TCP", 8080));

    // DNS on both protocols.
    let egress = spec["egress"].as_array().expect("egress rules");
    assert!(
        egress.iter().any(|r| has_port(r, "UDP", 53)),
        "no DNS over UDP"
    );
    assert!(
        egress.iter().any(|r| has_port(r, "TCP", 53)),
        "no DNS over TCP"
    );
    // RabbitMQ and HTTPS.
    for port in [5672, 5671, 443] {
        assert!(
            egress.iter().any(|r| has_port(r, "TCP", port)),
            "no egress to {port}"
        );
    }
    let all_ports: BTreeSet<(String, u64)> = egress
        .iter()
        .flat_map(|r| r["ports"].as_array().unwrap().iter())
        .map(|p| {
            (
                p["protocol"].as_str().unwrap().to_owned(),
                p["port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(all_ports.len(), 5, "unexpected egress ports: {all_ports:?}");

    // No namespace selected by a custom `name` label.
    let mut selectors = Vec::new();
    namespace_selectors(spec, &mut selectors);
    assert!(!selectors.is_empty());
    for s in selectors {
        assert!(
            s["matchLabels"].get("name").is_none(),
            "custom name label: {s}"
        );
        for expr in s["matchExpressions"].as_array().into_iter().flatten() {
            assert_ne!(expr["key"], "name", "custom name label: {s}");
        }
    }
}

#[test]
fn metrics_service_exposes_port_8080() {
    let svc = single("agent-metrics-service.yaml", "Service");
    assert_eq!(svc["metadata"]["name"], "agent-metrics");
    assert_eq!(svc["spec"]["selector"], json!({"app": "ai-agent"}));
    assert_eq!(
        svc["spec"]["ports"],
        json!([{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}])
    );
}

#[test]
fn role_grants_exactly_what_fleetctl_needs() {
    let rbac = docs("rbac.yaml");
    let sa = find(&rbac, "ServiceAccount", "fleetctl");
    assert_eq!(sa["metadata"]["namespace"], "agents");
    let role = find(&rbac, "Role", "fleetctl");
    let mut granted = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        let keys: BTreeSet<&str> = rule
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["apiGroups", "resources", "verbs"]),
            "no resourceNames or nonResourceURLs"
        );
        for group in str_list(&rule["apiGroups"]) {
            for resource in str_list(&rule["resources"]) {
                for verb in str_list(&rule["verbs"]) {
                    assert!(
                        granted.insert((group.to_owned(), resource.to_owned(), verb.to_owned())),
                        "granted twice: {group} {resource} {verb}"
                    );
                }
            }
        }
    }
    let mut expected = BTreeSet::new();
    let mut grant = |group: &str, resources: &[&str], verbs: &[&str]| {
        for r in resources {
            for v in verbs {
                expected.insert((group.to_owned(), (*r).to_owned(), (*v).to_owned()));
            }
        }
    };
    grant("", &["pods", "events"], &["list", "watch"]);
    grant("batch", &["jobs"], &["list", "watch", "patch"]);
    grant("apps", &["deployments"], &["list", "watch", "patch"]);
    grant("policy", &["poddisruptionbudgets"], &["list", "watch"]);
    grant(
        "networking.k8s.io",
        &["networkpolicies"],
        &["list", "watch"],
    );
    grant("keda.sh", &["scaledjobs"], &["list", "watch", "patch"]);
    grant("", &["pods/eviction"], &["create"]);
    grant("", &["pods/proxy"], &["get"]);
    assert_eq!(granted, expected);

    let binding = find(&rbac, "RoleBinding", "fleetctl");
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "fleetctl"})
    );
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "fleetctl", "namespace": "agents"}])
    );
}

#[test]
fn trigger_authentication_reads_the_agent_secret() {
    let auth = single("rabbitmq-auth.yaml", "TriggerAuthentication");
    assert_eq!(auth["apiVersion"], "keda.sh/v1alpha1");
    assert_eq!(
        auth["spec"]["secretTargetRef"],
        json!([{"parameter": "host", "name": "agent-secrets", "key": "rabbitmq-host"}])
    );
}

#[test]
fn example_secret_holds_placeholders_only() {
    let secret = single(EXAMPLE_SECRET, "Secret");
    assert_eq!(secret["metadata"]["name"], "agent-secrets");
    assert_eq!(secret["metadata"]["namespace"], "agents");
    assert!(secret.get("data").is_none(), "use stringData");
    let data = secret["stringData"].as_object().unwrap();
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 2);
    for key in ["queue-url", "rabbitmq-host"] {
        let url = data[key].as_str().unwrap();
        assert!(url.starts_with("amqp://USER:PASSWORD@"), "{key}: {url}");
    }
    let yaml = manifest(EXAMPLE_SECRET).yaml;
    assert!(yaml.contains("kubectl create secret generic agent-secrets -n agents"));
    assert!(yaml.contains("--from-literal=queue-url="));
    assert!(yaml.contains("--from-literal=rabbitmq-host="));
}

#[test]
fn limits_pvc_and_namespace() {
    let ns = single("namespace.yaml", "Namespace");
    assert_eq!(ns["metadata"]["name"], "agents");

    let lr = single("namespace-limits.yaml", "LimitRange");
    let limit = &lr["spec"]["limits"][0];
    assert_eq!(limit["type"], "Container");
    for field in ["default", "defaultRequest"] {
        for resource in ["memory", "cpu"] {
            assert!(limit[field][resource].is_string(), "{field}.{resource}");
        }
    }
    assert!(limit["max"]["memory"].is_string());

    let pvc = single("agent-pvc.yaml", "PersistentVolumeClaim");
    assert_eq!(pvc["metadata"]["name"], "agent-checkpoints");
    assert_eq!(str_list(&pvc["spec"]["accessModes"]), ["ReadWriteMany"]);
    assert_eq!(pvc["spec"]["storageClassName"], "efs-sc");
    assert!(pvc["spec"]["resources"]["requests"]["storage"].is_string());
}

#[test]
fn every_file_starts_with_a_comment_and_every_fix_is_commented() {
    for m in BUNDLED {
        assert!(m.yaml.starts_with("# "), "{} has no header comment", m.file);
    }
    for (file, defect) in [
        ("agent-pdb.yaml", "defect a"),
        ("agent-netpol.yaml", "defect b"),
        ("agent-netpol.yaml", "defect e"),
        ("agent-scaledjob.yaml", "defect c"),
        ("agent-scaledjob.yaml", "defect d"),
        ("agent-scaledjob.yaml", "defect f"),
        ("agent-job.yaml", "defect c"),
        ("agent-job.yaml", "defect d"),
        ("agent-job.yaml", "defect f"),
    ] {
        assert!(
            manifest(file)
                .yaml
                .contains(&format!("FIX (article {defect})")),
            "{file} lacks the comment for {defect}"
        );
    }
}
