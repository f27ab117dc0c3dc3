//! The core kinds: Pods and pod templates (pkg/apis/core/validation), Services, ConfigMap
//! and Secret keys, PersistentVolumeClaims.

use super::*;

// ---------------------------------------------------------------------------------------------
// Pods (pkg/apis/core/validation)

pub(super) const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
pub(super) const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
pub(super) const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// The pod spec's `restartPolicy` after defaulting.
pub(super) fn restart_policy(spec: &Value) -> &str {
    match spec.get("restartPolicy").and_then(Value::as_str) {
        Some(p) => p,
        None => "Always",
    }
}

pub(super) fn validate_pod_template(template: &Value, labels: &Value, path: &str, errs: &mut Errs) {
    let meta = &template["metadata"];
    validate_labels(labels, &format!("{path}.labels"), errs);
    validate_annotations(&meta["annotations"], &format!("{path}.annotations"), errs);
    validate_pod_spec(&template["spec"], &format!("{path}.spec"), errs);
}

pub(super) fn validate_pod_spec(spec: &Value, path: &str, errs: &mut Errs) {
    // Volumes.
    let mut volumes = BTreeSet::new();
    for (i, v) in arr(spec, "volumes").iter().enumerate() {
        let vp = format!("{path}.volumes[{i}]");
        let name = str_at(v, "name");
        if name.is_empty() {
            errs.push(required(&format!("{vp}.name"), ""));
        } else {
            for msg in is_dns1123_label(name) {
                errs.push(invalid(&format!("{vp}.name"), go_quote(name), &msg));
            }
            if !volumes.insert(name.to_string()) {
                errs.push(duplicate(&format!("{vp}.name"), go_quote(name)));
            }
        }
        let sources = v
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, v)| *k != "name" && !v.is_null())
                    .count()
            })
            .unwrap_or_default();
        if sources == 0 {
            errs.push(required(&vp, "must specify a volume type"));
        }
        if let Some(claim) = v.get("persistentVolumeClaim").filter(|c| c.is_object()) {
            let cp = format!("{vp}.persistentVolumeClaim.claimName");
            let claim_name = str_at(claim, "claimName");
            if claim_name.is_empty() {
                errs.push(required(&cp, ""));
            } else {
                // The name of a PersistentVolumeClaim; nothing else can be one.
                for msg in is_dns1123_subdomain(claim_name) {
                    errs.push(invalid(&cp, go_quote(claim_name), &msg));
                }
            }
        }
        if let Some(host) = v.get("hostPath").filter(|h| h.is_object()) {
            let hp = format!("{vp}.hostPath.path");
            let p = str_at(host, "path");
            if p.is_empty() {
                errs.push(required(&hp, ""));
            } else if p.split('/').any(|e| e == "..") {
                errs.push(invalid(&hp, go_quote(p), "must not contain '..'"));
            }
        }
    }

    // Containers, then init containers (names unique across both).
    let containers = arr(spec, "containers");
    let mut names = BTreeSet::new();
    if containers.is_empty() {
        errs.push(required(&format!("{path}.containers"), ""));
    }
    for (i, c) in containers.iter().enumerate() {
        validate_container(
            c,
            &format!("{path}.containers[{i}]"),
            &volumes,
            &mut names,
            errs,
        );
    }
    for (i, c) in arr(spec, "initContainers").iter().enumerate() {
        validate_container(
            c,
            &format!("{path}.initContainers[{i}]"),
            &volumes,
            &mut names,
            errs,
        );
    }

    let rp = restart_policy(spec);
    if rp.is_empty() {
        errs.push(required(&format!("{path}.restartPolicy"), ""));
    } else if !RESTART_POLICIES.contains(&rp) {
        errs.push(not_supported(
            &format!("{path}.restartPolicy"),
            go_quote(rp),
            RESTART_POLICIES,
        ));
    }
    if let Some(ads) = spec.get("activeDeadlineSeconds").and_then(Value::as_i64)
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        errs.push(invalid(
            &format!("{path}.activeDeadlineSeconds"),
            ads.to_string(),
            "must be between 1 and 2147483647, inclusive",
        ));
    }
}

pub(super) fn validate_container(
    c: &Value,
    path: &str,
    volumes: &BTreeSet<String>,
    names: &mut BTreeSet<String>,
    errs: &mut Errs,
) {
    let name = str_at(c, "name");
    let np = format!("{path}.name");
    if name.is_empty() {
        errs.push(required(&np, ""));
    } else {
        for msg in is_dns1123_label(name) {
            errs.push(invalid(&np, go_quote(name), &msg));
        }
    }
    if !names.insert(name.to_string()) {
        errs.push(duplicate(&np, go_quote(name)));
    }
    let image = str_at(c, "image");
    if image.is_empty() {
        errs.push(required(&format!("{path}.image"), ""));
    } else if image.trim() != image {
        errs.push(invalid(
            &format!("{path}.image"),
            go_quote(image),
            "must not have leading or trailing whitespace",
        ));
    }
    if let Some(p) = c.get("imagePullPolicy").and_then(Value::as_str) {
        if p.is_empty() {
            errs.push(required(&format!("{path}.imagePullPolicy"), ""));
        } else if !PULL_POLICIES.contains(&p) {
            errs.push(not_supported(
                &format!("{path}.imagePullPolicy"),
                go_quote(p),
                PULL_POLICIES,
            ));
        }
    }
    validate_container_ports(arr(c, "ports"), &format!("{path}.ports"), errs);
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get(probe).filter(|p| p.is_object()) {
            validate_probe(p, &format!("{path}.{probe}"), errs);
        }
    }
    for (i, e) in arr(c, "env").iter().enumerate() {
        if str_at(e, "name").is_empty() {
            errs.push(required(&format!("{path}.env[{i}].name"), ""));
        }
    }
    for (i, m) in arr(c, "volumeMounts").iter().enumerate() {
        let mp = format!("{path}.volumeMounts[{i}]");
        let mname = str_at(m, "name");
        if mname.is_empty() {
            errs.push(required(&format!("{mp}.name"), ""));
        } else if !volumes.contains(mname) {
            errs.push(not_found(&format!("{mp}.name"), go_quote(mname)));
        }
        if str_at(m, "mountPath").is_empty() {
            errs.push(required(&format!("{mp}.mountPath"), ""));
        }
        let sub = str_at(m, "subPath");
        if sub.starts_with('/') {
            errs.push(invalid(
                &format!("{mp}.subPath"),
                go_quote(sub),
                "must be a relative path",
            ));
        }
        if sub.split('/').any(|e| e == "..") {
            errs.push(invalid(
                &format!("{mp}.subPath"),
                go_quote(sub),
                "must not contain '..'",
            ));
        }
    }
}

/// A probe's timers are never negative; its own grace period, when set, is positive
/// (pkg/apis/core/validation `validateProbe`).
fn validate_probe(p: &Value, path: &str, errs: &mut Errs) {
    for key in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        super::apps::nonnegative(p, key, path, errs);
    }
    if let Some(g) = p
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        && g <= 0
    {
        errs.push(invalid(
            &format!("{path}.terminationGracePeriodSeconds"),
            g.to_string(),
            "must be greater than 0",
        ));
    }
}

pub(super) fn validate_container_ports(ports: &[Value], path: &str, errs: &mut Errs) {
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = format!("{path}[{i}]");
        let name = str_at(p, "name");
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(invalid(&format!("{pp}.name"), go_quote(name), &msg));
                }
            } else if !names.insert(name.to_string()) {
                errs.push(duplicate(&format!("{pp}.name"), go_quote(name)));
            }
        }
        let cp = p.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
        if cp == 0 {
            errs.push(required(&format!("{pp}.containerPort"), ""));
        } else {
            for msg in is_valid_port_num(cp) {
                errs.push(invalid(
                    &format!("{pp}.containerPort"),
                    cp.to_string(),
                    &msg,
                ));
            }
        }
        if let Some(hp) = p.get("hostPort").and_then(Value::as_i64)
            && hp != 0
        {
            for msg in is_valid_port_num(hp) {
                errs.push(invalid(&format!("{pp}.hostPort"), hp.to_string(), &msg));
            }
        }
        validate_protocol(p, &pp, errs);
    }
}

pub(super) fn validate_protocol(p: &Value, path: &str, errs: &mut Errs) {
    if let Some(proto) = p.get("protocol").and_then(Value::as_str) {
        if proto.is_empty() {
            errs.push(required(&format!("{path}.protocol"), ""));
        } else if !PROTOCOLS.contains(&proto) {
            errs.push(not_supported(
                &format!("{path}.protocol"),
                go_quote(proto),
                PROTOCOLS,
            ));
        }
    }
}

pub(super) fn validate_pod(obj: &Value, errs: &mut Errs) {
    validate_pod_spec(&obj["spec"], "spec", errs);
}

pub(super) const POD_UPDATE_MSG: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

pub(super) fn validate_pod_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    let mut munged = ns.clone();
    if !munged.is_object() {
        munged = json!({});
    }
    // Images may change.
    for key in ["containers", "initContainers"] {
        let old_list = arr(os, key);
        if let Some(list) = munged.get_mut(key).and_then(Value::as_array_mut)
            && list.len() == old_list.len()
        {
            for (c, o) in list.iter_mut().zip(old_list) {
                if let Some(c) = c.as_object_mut() {
                    match o.get("image") {
                        Some(img) => c.insert("image".into(), img.clone()),
                        None => c.remove("image"),
                    };
                }
            }
        }
    }
    // activeDeadlineSeconds may be set, or lowered.
    let new_ads = ns.get("activeDeadlineSeconds").and_then(Value::as_i64);
    let old_ads = os.get("activeDeadlineSeconds").and_then(Value::as_i64);
    match (new_ads, old_ads) {
        (Some(n), Some(o)) if n > o => errs.push(invalid(
            "spec.activeDeadlineSeconds",
            n.to_string(),
            "must be less than or equal to previous value",
        )),
        (None, Some(_)) => errs.push(invalid(
            "spec.activeDeadlineSeconds",
            go_quote("null"),
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    set_or_remove(
        &mut munged,
        "activeDeadlineSeconds",
        os.get("activeDeadlineSeconds"),
    );
    // Tolerations may only be added.
    let old_tol: Vec<Value> = arr(os, "tolerations").iter().map(norm).collect();
    let new_tol: Vec<Value> = arr(ns, "tolerations").iter().map(norm).collect();
    if old_tol.iter().all(|t| new_tol.contains(t)) {
        set_or_remove(&mut munged, "tolerations", os.get("tolerations"));
    }
    // terminationGracePeriodSeconds: negative may become 1.
    let new_grace = ns
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    let old_grace = os
        .get("terminationGracePeriodSeconds")
        .and_then(Value::as_i64);
    if new_grace == Some(1) && old_grace.is_some_and(|g| g < 0) {
        set_or_remove(
            &mut munged,
            "terminationGracePeriodSeconds",
            os.get("terminationGracePeriodSeconds"),
        );
    }
    // Scheduling gates may only be removed.
    let old_gates = arr(os, "schedulingGates");
    if arr(ns, "schedulingGates")
        .iter()
        .all(|g| old_gates.contains(g))
    {
        set_or_remove(&mut munged, "schedulingGates", os.get("schedulingGates"));
    }
    if !same(&munged, os) {
        let (m, o) = (norm(&munged), norm(os));
        errs.push(forbidden(
            "spec",
            &format!("{POD_UPDATE_MSG}\n{}", spec_diff(&o, &m)),
        ));
    }
}

pub(super) fn set_or_remove(target: &mut Value, key: &str, value: Option<&Value>) {
    if let Some(t) = target.as_object_mut() {
        match value {
            Some(v) => t.insert(key.into(), v.clone()),
            None => t.remove(key),
        };
    }
}

/// A short stand-in for the `cmp.Diff` kube-apiserver appends: the top-level spec fields that
/// differ, old (`-`) then new (`+`).
pub(super) fn spec_diff(old: &Value, new: &Value) -> String {
    let empty = Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    let mut out = String::from("  core.PodSpec{\n");
    for k in keys {
        let (a, b) = (o.get(k), n.get(k));
        if a != b {
            if let Some(a) = a {
                out.push_str(&format!("- \t{k}: {a},\n"));
            }
            if let Some(b) = b {
                out.push_str(&format!("+ \t{k}: {b},\n"));
            }
        }
    }
    out.push_str("  }\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Other core and built-in kinds

pub(super) fn validate_service(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    let stype = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !TYPES.contains(&stype) {
        errs.push(not_supported("spec.type", go_quote(stype), TYPES));
    }
    let ports = arr(spec, "ports");
    let headless = str_at(spec, "clusterIP") == "None";
    if ports.is_empty() && !headless && stype != "ExternalName" {
        errs.push(required("spec.ports", ""));
    }
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = format!("spec.ports[{i}]");
        let name = str_at(p, "name");
        if ports.len() > 1 && name.is_empty() {
            errs.push(required(&format!("{pp}.name"), ""));
        } else if !name.is_empty() {
            for msg in is_dns1123_label(name) {
                errs.push(invalid(&format!("{pp}.name"), go_quote(name), &msg));
            }
            if !names.insert(name.to_string()) {
                errs.push(duplicate(&format!("{pp}.name"), go_quote(name)));
            }
        }
        let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
        for msg in is_valid_port_num(port) {
            errs.push(invalid(&format!("{pp}.port"), port.to_string(), &msg));
        }
        validate_protocol(p, &pp, errs);
        match p.get("targetPort") {
            Some(Value::Number(n)) => {
                let t = n.as_i64().unwrap_or(0);
                for msg in is_valid_port_num(t) {
                    errs.push(invalid(&format!("{pp}.targetPort"), t.to_string(), &msg));
                }
            }
            Some(Value::String(s)) => {
                for msg in is_valid_port_name(s) {
                    errs.push(invalid(&format!("{pp}.targetPort"), go_quote(s), &msg));
                }
            }
            _ => {}
        }
    }
}

pub(super) fn validate_data_keys(obj: &Value, fields: &[&str], errs: &mut Errs) {
    for f in fields {
        if let Some(m) = obj[*f].as_object() {
            for k in m.keys() {
                // Secret stringData is merged into data before validation.
                let shown = if *f == "stringData" { "data" } else { f };
                for msg in is_config_map_key(k) {
                    errs.push(invalid(&format!("{shown}[{k}]"), go_quote(k), &msg));
                }
            }
        }
    }
}

pub(super) fn validate_immutable_data(new: &Value, old: &Value, fields: &[&str], errs: &mut Errs) {
    if old["immutable"].as_bool() != Some(true) {
        return;
    }
    const MSG: &str = "field is immutable when `immutable` is set";
    for f in fields {
        if !same(&new[*f], &old[*f]) {
            errs.push(forbidden(f, MSG));
        }
    }
    if new["immutable"].as_bool() != Some(true) {
        errs.push(forbidden("immutable", MSG));
    }
}

pub(super) fn validate_pvc(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    let modes = arr(spec, "accessModes");
    const MODES: &[&str] = &[
        "ReadOnlyMany",
        "ReadWriteMany",
        "ReadWriteOnce",
        "ReadWriteOncePod",
    ];
    if modes.is_empty() {
        errs.push(required(
            "spec.accessModes",
            "at least 1 access mode is required",
        ));
    }
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !MODES.contains(&m) {
            errs.push(not_supported("spec.accessModes", go_quote(m), MODES));
        }
    }
    if spec["resources"]["requests"].get("storage").is_none() {
        errs.push(required("spec.resources[storage]", ""));
    }
}
