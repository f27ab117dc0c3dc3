//! PodDisruptionBudgets (pkg/apis/policy/validation) and NetworkPolicies
//! (pkg/apis/networking/validation).

use super::*;

// ---------------------------------------------------------------------------------------------
// PodDisruptionBudgets (pkg/apis/policy/validation)

pub(super) fn validate_int_or_percent(v: &Value, path: &str, errs: &mut Errs) {
    match v {
        Value::String(s) => {
            let digits = s.strip_suffix('%').unwrap_or_default();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                errs.push(invalid(
                    path,
                    go_int_or_string(v),
                    &regex_error(
                        "a valid percent string must be a numeric string followed by an ending '%'",
                        "[0-9]+%",
                        &["1%", "93%"],
                    ),
                ));
            } else if digits.parse::<u64>().is_ok_and(|p| p > 100) {
                errs.push(invalid(
                    path,
                    go_int_or_string(v),
                    "must not be greater than 100%",
                ));
            }
        }
        Value::Number(n) => {
            if n.as_i64().is_some_and(|i| i < 0) {
                errs.push(invalid(
                    path,
                    n.to_string(),
                    "must be greater than or equal to 0",
                ));
            }
        }
        other => errs.push(invalid(
            path,
            other.to_string(),
            "must be an integer or percentage (e.g '5%')",
        )),
    }
}

pub(super) fn go_pdb_spec(spec: &Value) -> String {
    let ptr = |key: &str, ty: &str, addr: &str| {
        if present(spec, key) {
            format!("(*{ty})(0xc000{addr})")
        } else {
            format!("(*{ty})(nil)")
        }
    };
    format!(
        "policy.PodDisruptionBudgetSpec{{MinAvailable:{}, Selector:{}, MaxUnavailable:{}, UnhealthyPodEvictionPolicy:{}}}",
        ptr("minAvailable", "intstr.IntOrString", "1a2b40"),
        ptr("selector", "v1.LabelSelector", "1a2b60"),
        ptr("maxUnavailable", "intstr.IntOrString", "1a2b80"),
        ptr(
            "unhealthyPodEvictionPolicy",
            "policy.UnhealthyPodEvictionPolicyType",
            "1a2ba0"
        ),
    )
}

pub(super) fn validate_pdb(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    let (min, max) = (&spec["minAvailable"], &spec["maxUnavailable"]);
    if !min.is_null() && !max.is_null() {
        errs.push(invalid(
            "spec",
            go_pdb_spec(spec),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    if !min.is_null() {
        validate_int_or_percent(min, "spec.minAvailable", errs);
    }
    if !max.is_null() {
        validate_int_or_percent(max, "spec.maxUnavailable", errs);
    }
    validate_label_selector(&spec["selector"], "spec.selector", errs);
    if let Some(p) = spec
        .get("unhealthyPodEvictionPolicy")
        .and_then(Value::as_str)
        && p != "AlwaysAllow"
        && p != "IfHealthyBudget"
    {
        errs.push(not_supported(
            "spec.unhealthyPodEvictionPolicy",
            go_quote(p),
            &["AlwaysAllow", "IfHealthyBudget"],
        ));
    }
}

pub(super) fn validate_network_policy(obj: &Value, errs: &mut Errs) {
    let spec = &obj["spec"];
    validate_label_selector(&spec["podSelector"], "spec.podSelector", errs);
    let types = arr(spec, "policyTypes");
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or_default();
        if t != "Ingress" && t != "Egress" {
            errs.push(not_supported(
                &format!("spec.policyTypes[{i}]"),
                go_quote(t),
                &["Ingress", "Egress"],
            ));
        }
    }
    if types.len() > 2 {
        errs.push(invalid(
            "spec.policyTypes",
            go_string_slice(&spec["policyTypes"]),
            "may not specify more than two policyTypes",
        ));
    }
    for (dir, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr(spec, dir).iter().enumerate() {
            let rp = format!("spec.{dir}[{i}]");
            for (j, port) in arr(rule, "ports").iter().enumerate() {
                let pp = format!("{rp}.ports[{j}]");
                validate_protocol(port, &pp, errs);
                match port.get("port") {
                    Some(Value::Number(n)) => {
                        let p = n.as_i64().unwrap_or(0);
                        for msg in is_valid_port_num(p) {
                            errs.push(invalid(&format!("{pp}.port"), p.to_string(), &msg));
                        }
                    }
                    Some(Value::String(s)) => {
                        for msg in is_valid_port_name(s) {
                            errs.push(invalid(&format!("{pp}.port"), go_quote(s), &msg));
                        }
                    }
                    _ => {}
                }
            }
            for (j, peer) in arr(rule, peers).iter().enumerate() {
                let pp = format!("{rp}.{peers}[{j}]");
                if let Some(ip) = peer.get("ipBlock").filter(|v| !v.is_null()) {
                    let cidr = str_at(ip, "cidr");
                    if cidr.is_empty() {
                        errs.push(required(&format!("{pp}.ipBlock.cidr"), ""));
                    } else if !is_valid_cidr(cidr) {
                        errs.push(invalid(
                            &format!("{pp}.ipBlock.cidr"),
                            go_quote(cidr),
                            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                        ));
                    }
                }
                for key in ["podSelector", "namespaceSelector"] {
                    validate_label_selector(&peer[key], &format!("{pp}.{key}"), errs);
                }
            }
        }
    }
}
