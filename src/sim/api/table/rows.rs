//! The cells of one row per built-in kind, as kubectl 1.32's printers fill them.

use super::*;

/// `metav1.FormatLabelSelector`: requirements sorted by key, `<none>` when empty or absent,
/// `<error>` when Kubernetes could not read it.
pub fn format_label_selector(sel: &Value) -> String {
    if !sel.is_object() {
        return "<none>".into();
    }
    match Selector::from_json(sel) {
        Ok(s) => or_none(s.to_string()),
        Err(_) => "<error>".into(),
    }
}

/// `labels.FormatLabels` of a plain map: `k=v` sorted, `<none>` when empty.
pub(super) fn format_labels(m: &Value) -> String {
    let mut parts: Vec<String> = m
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect())
        .unwrap_or_default();
    parts.sort();
    or_none(parts.join(","))
}

/// Container names and images of a pod template, comma-joined.
pub(super) fn container_cells(pod_spec: &Value) -> (String, String) {
    let cs = arr(&pod_spec["containers"]);
    let names: Vec<String> = cs.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<String> = cs.iter().map(|c| s(&c["image"])).collect();
    (names.join(","), images.join(","))
}

pub(super) fn has_condition(conds: &Value, ty: &str) -> bool {
    arr(conds)
        .iter()
        .any(|c| c["type"] == ty && c["status"] == "True")
}

pub(super) fn pod_row(pod: &Value, now: Timestamp) -> (Vec<Value>, Option<Value>) {
    let spec = &pod["spec"];
    let status = &pod["status"];
    let conds = &status["conditions"];
    let init_specs = arr(&spec["initContainers"]);
    let restartable = |name: &Value| {
        init_specs
            .iter()
            .any(|c| &c["name"] == name && c["restartPolicy"] == "Always")
    };
    let total = arr(&spec["containers"]).len()
        + init_specs
            .iter()
            .filter(|c| c["restartPolicy"] == "Always")
            .count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;
    let later = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };

    let phase = s(&status["phase"]);
    let mut reason = phase.clone();
    if let Some(r) = status["reason"].as_str().filter(|r| !r.is_empty()) {
        reason = r.to_string();
    }
    if arr(conds)
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["reason"] == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let row_conditions = match phase.as_str() {
        "Succeeded" => Some(json!([{"type": "Completed", "status": "True",
            "reason": "Succeeded", "message": "The pod has completed successfully."}])),
        "Failed" => Some(json!([{"type": "Completed", "status": "True",
            "reason": "Failed", "message": "The pod failed."}])),
        _ => None,
    };

    let init_statuses = arr(&status["initContainerStatuses"]);
    let mut initializing = false;
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += int(&c["restartCount"]);
        let finished = parse_time(&c["lastState"]["terminated"]["finishedAt"]);
        last_restart = later(last_restart, finished);
        let is_sidecar = restartable(&c["name"]);
        if is_sidecar {
            sidecar_restarts += int(&c["restartCount"]);
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let term = &c["state"]["terminated"];
        let waiting_reason = c["state"]["waiting"]["reason"].as_str().unwrap_or("");
        if term.is_object() && int(&term["exitCode"]) == 0 {
            continue;
        } else if is_sidecar && c["started"] == true {
            if c["ready"] == true {
                ready += 1;
            }
            continue;
        } else if term.is_object() {
            reason = match term["reason"].as_str().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None if int(&term["signal"]) != 0 => {
                    format!("Init:Signal:{}", int(&term["signal"]))
                }
                None => format!("Init:ExitCode:{}", int(&term["exitCode"])),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || has_condition(conds, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in arr(&status["containerStatuses"]).iter().rev() {
            restarts += int(&c["restartCount"]);
            last_restart = later(
                last_restart,
                parse_time(&c["lastState"]["terminated"]["finishedAt"]),
            );
            let st = &c["state"];
            let waiting = st["waiting"]["reason"].as_str().unwrap_or("");
            let term = &st["terminated"];
            let term_reason = term["reason"].as_str().unwrap_or("");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if term.is_object() && !term_reason.is_empty() {
                reason = term_reason.to_string();
            } else if term.is_object() {
                reason = if int(&term["signal"]) != 0 {
                    format!("Signal:{}", int(&term["signal"]))
                } else {
                    format!("ExitCode:{}", int(&term["exitCode"]))
                };
            } else if c["ready"] == true && st["running"].is_object() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_condition(conds, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    let deleting = pod["metadata"]["deletionTimestamp"].is_string();
    if deleting && status["reason"] == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Failed" && phase != "Succeeded" {
        reason = "Terminating".into();
    }

    let restarts_str = match last_restart {
        Some(t) if restarts != 0 => {
            format!("{restarts} ({} ago)", human_duration(now.duration_since(t)))
        }
        _ => restarts.to_string(),
    };

    let ip = arr(&status["podIPs"])
        .first()
        .map(|p| s(&p["ip"]))
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| s(&status["podIP"]));
    let gates = arr(&spec["readinessGates"]);
    let readiness = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let true_count = gates
            .iter()
            .filter(|g| {
                arr(conds)
                    .iter()
                    .find(|c| c["type"] == g["conditionType"])
                    .is_some_and(|c| c["status"] == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    (
        vec![
            json!(s(&pod["metadata"]["name"])),
            json!(format!("{ready}/{total}")),
            json!(reason),
            json!(restarts_str),
            json!(since(&pod["metadata"]["creationTimestamp"], now)),
            json!(or_none(ip)),
            json!(or_none(s(&spec["nodeName"]))),
            json!(or_none(s(&status["nominatedNodeName"]))),
            json!(readiness),
        ],
        row_conditions,
    )
}

pub(super) fn job_row(job: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &job["spec"];
    let status = &job["status"];
    let succeeded = int(&status["succeeded"]);
    let completions = if spec["completions"].is_number() {
        format!("{succeeded}/{}", int(&spec["completions"]))
    } else {
        let parallelism = int(&spec["parallelism"]);
        if parallelism > 1 {
            format!("{succeeded}/1 of {parallelism}")
        } else {
            format!("{succeeded}/1")
        }
    };
    let duration = match (
        parse_time(&status["startTime"]),
        parse_time(&status["completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.duration_since(start)),
        (Some(start), Some(done)) => human_duration(done.duration_since(start)),
    };
    let conds = &status["conditions"];
    let state = if has_condition(conds, "Complete") {
        "Complete"
    } else if has_condition(conds, "Failed") {
        "Failed"
    } else if job["metadata"]["deletionTimestamp"].is_string() {
        "Terminating"
    } else if has_condition(conds, "Suspended") {
        "Suspended"
    } else if has_condition(conds, "FailureTarget") {
        "FailureTarget"
    } else if has_condition(conds, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (names, images) = container_cells(&spec["template"]["spec"]);
    vec![
        json!(s(&job["metadata"]["name"])),
        json!(state),
        json!(completions),
        json!(duration),
        json!(since(&job["metadata"]["creationTimestamp"], now)),
        json!(names),
        json!(images),
        json!(format_label_selector(&spec["selector"])),
    ]
}

pub(super) fn node_row(node: &Value, now: Timestamp) -> Vec<Value> {
    let status = &node["status"];
    // The last Ready condition wins, as with kubectl's map of conditions.
    let mut states: Vec<String> = arr(&status["conditions"])
        .iter()
        .rev()
        .find(|c| c["type"] == "Ready")
        .map(|c| {
            if c["status"] == "True" {
                "Ready".to_string()
            } else {
                "NotReady".to_string()
            }
        })
        .into_iter()
        .collect();
    if states.is_empty() {
        states.push("Unknown".into());
    }
    if node["spec"]["unschedulable"] == true {
        states.push("SchedulingDisabled".into());
    }
    let mut roles = BTreeSet::new();
    if let Some(labels) = node["metadata"]["labels"].as_object() {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role" {
                let v = s(v);
                if !v.is_empty() {
                    roles.insert(v);
                }
            }
        }
    }
    let roles: Vec<String> = roles.into_iter().collect();
    let address = |ty: &str| {
        arr(&status["addresses"])
            .iter()
            .find(|a| a["type"] == ty)
            .map(|a| s(&a["address"]))
            .unwrap_or_else(|| "<none>".into())
    };
    let info = &status["nodeInfo"];
    let unknown = |v: &Value| {
        let v = s(v);
        if v.is_empty() { "<unknown>".into() } else { v }
    };
    vec![
        json!(s(&node["metadata"]["name"])),
        json!(states.join(",")),
        json!(or_none(roles.join(","))),
        json!(since(&node["metadata"]["creationTimestamp"], now)),
        json!(s(&info["kubeletVersion"])),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(unknown(&info["osImage"])),
        json!(unknown(&info["kernelVersion"])),
        json!(unknown(&info["containerRuntimeVersion"])),
    ]
}

pub(super) fn event_row(ev: &Value, now: Timestamp, events_k8s: bool) -> Vec<Value> {
    // events.k8s.io/v1 names the core fields differently; read either shape.
    let pick = |core: &str, new: &str| -> Value {
        let v = &ev[core];
        if !v.is_null() || !events_k8s {
            v.clone()
        } else {
            ev[new].clone()
        }
    };
    let first_ts = pick("firstTimestamp", "deprecatedFirstTimestamp");
    let last_ts = pick("lastTimestamp", "deprecatedLastTimestamp");
    let first = if parse_time(&first_ts).is_some() {
        since(&first_ts, now)
    } else {
        since(&ev["eventTime"], now)
    };
    let mut last = if parse_time(&last_ts).is_some() {
        since(&last_ts, now)
    } else {
        first.clone()
    };
    let mut count = int(&pick("count", "deprecatedCount"));
    if ev["series"].is_object() {
        last = since(&ev["series"]["lastObservedTime"], now);
        count = int(&ev["series"]["count"]);
    } else if count == 0 {
        count = 1;
    }
    let involved = if ev["involvedObject"].is_object() || !events_k8s {
        &ev["involvedObject"]
    } else {
        &ev["regarding"]
    };
    let kind = s(&involved["kind"]).to_lowercase();
    let target = match involved["name"].as_str().filter(|n| !n.is_empty()) {
        Some(n) => format!("{kind}/{n}"),
        None => kind,
    };
    let source = pick("source", "deprecatedSource");
    let first_non_empty = |a: String, b: String| if a.is_empty() { b } else { a };
    let component = first_non_empty(s(&source["component"]), s(&ev["reportingController"]));
    let instance = first_non_empty(s(&source["host"]), s(&ev["reportingInstance"]));
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    let message = s(&pick("message", "note")).trim().to_string();
    vec![
        json!(last),
        json!(s(&ev["type"])),
        json!(s(&ev["reason"])),
        json!(target),
        json!(s(&involved["fieldPath"])),
        json!(source),
        json!(message),
        json!(first),
        json!(count),
        json!(s(&ev["metadata"]["name"])),
    ]
}

pub(super) fn service_row(svc: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &svc["spec"];
    let ty = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
    let cluster_ip = arr(&spec["clusterIPs"])
        .first()
        .map(s)
        .or_else(|| spec["clusterIP"].as_str().map(String::from))
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| "<none>".into());
    let external_ips: Vec<String> = arr(&spec["externalIPs"]).iter().map(s).collect();
    let external = match ty.as_str() {
        "ClusterIP" | "NodePort" => or_none(external_ips.join(",")),
        "LoadBalancer" => {
            let lb: Vec<String> = arr(&svc["status"]["loadBalancer"]["ingress"])
                .iter()
                .map(|i| {
                    let ip = s(&i["ip"]);
                    if ip.is_empty() { s(&i["hostname"]) } else { ip }
                })
                .filter(|x| !x.is_empty())
                .collect();
            let mut all = lb;
            all.extend(external_ips);
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => s(&spec["externalName"]),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = arr(&spec["ports"])
        .iter()
        .map(|p| {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            let node_port = int(&p["nodePort"]);
            if node_port > 0 {
                format!("{}:{node_port}/{proto}", int(&p["port"]))
            } else {
                format!("{}/{proto}", int(&p["port"]))
            }
        })
        .collect();
    vec![
        json!(s(&svc["metadata"]["name"])),
        json!(ty),
        json!(cluster_ip),
        json!(external),
        json!(or_none(ports.join(","))),
        json!(since(&svc["metadata"]["creationTimestamp"], now)),
        json!(format_labels(&spec["selector"])),
    ]
}

pub(super) fn pvc_row(pvc: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &pvc["spec"];
    let status = &pvc["status"];
    let mut phase = s(&status["phase"]);
    if pvc["metadata"]["deletionTimestamp"].is_string() {
        phase = "Terminating".into();
    }
    let volume = s(&spec["volumeName"]);
    let (mut capacity, mut modes) = (String::new(), String::new());
    if !volume.is_empty() {
        let have: Vec<String> = arr(&status["accessModes"]).iter().map(s).collect();
        modes = [
            ("ReadWriteOnce", "RWO"),
            ("ReadOnlyMany", "ROX"),
            ("ReadWriteMany", "RWX"),
            ("ReadWriteOncePod", "RWOP"),
        ]
        .iter()
        .filter(|(m, _)| have.iter().any(|h| h == m))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",");
        capacity = match &status["capacity"]["storage"] {
            Value::String(q) => q.clone(),
            Value::Number(n) => n.to_string(),
            _ => "0".into(),
        };
    }
    let class = pvc["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| s(&spec["storageClassName"]));
    let unset = |x: String| if x.is_empty() { "<unset>".into() } else { x };
    vec![
        json!(s(&pvc["metadata"]["name"])),
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(unset(class)),
        json!(unset(s(&spec["volumeAttributesClassName"]))),
        json!(since(&pvc["metadata"]["creationTimestamp"], now)),
        json!(unset(s(&spec["volumeMode"]))),
    ]
}

pub(super) fn int_or_string(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(x) => x.clone(),
        _ => "N/A".into(),
    }
}

pub(super) fn role_binding_row(rb: &Value, now: Timestamp) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        s(&rb["roleRef"]["kind"]),
        s(&rb["roleRef"]["name"])
    );
    let (mut users, mut groups, mut sas) = (vec![], vec![], vec![]);
    for subj in arr(&rb["subjects"]) {
        match subj["kind"].as_str().unwrap_or_default() {
            "User" => users.push(s(&subj["name"])),
            "Group" => groups.push(s(&subj["name"])),
            "ServiceAccount" => sas.push(format!("{}/{}", s(&subj["namespace"]), s(&subj["name"]))),
            _ => {}
        }
    }
    vec![
        json!(s(&rb["metadata"]["name"])),
        json!(role),
        json!(since(&rb["metadata"]["creationTimestamp"], now)),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ]
}

pub(super) fn len_of(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    }
}

pub(super) fn cells(
    p: Printer,
    obj: &Value,
    now: Timestamp,
    events_k8s: bool,
) -> (Vec<Value>, Option<Value>) {
    let name = json!(s(&obj["metadata"]["name"]));
    let age = json!(since(&obj["metadata"]["creationTimestamp"], now));
    let spec = &obj["spec"];
    let status = &obj["status"];
    let cells = match p {
        Printer::Pod => return pod_row(obj, now),
        Printer::Job => job_row(obj, now),
        Printer::Deployment | Printer::ReplicaSet => {
            let desired = if spec["replicas"].is_number() {
                int(&spec["replicas"])
            } else {
                1
            };
            let (names, images) = container_cells(&spec["template"]["spec"]);
            let mut c = vec![name];
            if p == Printer::Deployment {
                c.push(json!(format!(
                    "{}/{desired}",
                    int(&status["readyReplicas"])
                )));
                c.push(json!(int(&status["updatedReplicas"])));
                c.push(json!(int(&status["availableReplicas"])));
            } else {
                c.push(json!(desired));
                c.push(json!(int(&status["replicas"])));
                c.push(json!(int(&status["readyReplicas"])));
            }
            c.extend([
                age,
                json!(names),
                json!(images),
                json!(format_label_selector(&spec["selector"])),
            ]);
            c
        }
        Printer::Node => node_row(obj, now),
        Printer::Namespace => vec![name, json!(s(&status["phase"])), age],
        Printer::Event => event_row(obj, now, events_k8s),
        Printer::Service => service_row(obj, now),
        Printer::Secret => vec![
            name,
            json!(s(&obj["type"])),
            json!(len_of(&obj["data"])),
            age,
        ],
        Printer::ConfigMap => vec![
            name,
            json!(len_of(&obj["data"]) + len_of(&obj["binaryData"])),
            age,
        ],
        Printer::ServiceAccount => vec![name, json!(len_of(&obj["secrets"])), age],
        Printer::Pvc => pvc_row(obj, now),
        Printer::CreatedAt => vec![name, json!(created_at(obj))],
        Printer::Pdb => vec![
            name,
            json!(int_or_string(&spec["minAvailable"])),
            json!(int_or_string(&spec["maxUnavailable"])),
            json!(int(&status["disruptionsAllowed"])),
            age,
        ],
        Printer::NetworkPolicy => vec![
            name,
            json!(format_label_selector(&spec["podSelector"])),
            age,
        ],
        Printer::RoleBinding => role_binding_row(obj, now),
        Printer::Lease => vec![name, json!(s(&spec["holderIdentity"])), age],
        Printer::Default => vec![name, age],
    };
    (cells, None)
}
