//! Deployments and ReplicaSets (pkg/apis/apps/validation).

use super::*;

// ---------------------------------------------------------------------------------------------
// Deployments and ReplicaSets (pkg/apis/apps/validation)

pub(super) fn nonnegative(spec: &Value, key: &str, path: &str, errs: &mut Errs) {
    if let Some(v) = spec.get(key).and_then(Value::as_i64)
        && v < 0
    {
        errs.push(invalid(
            &format!("{path}.{key}"),
            v.to_string(),
            "must be greater than or equal to 0",
        ));
    }
}

pub(super) fn validate_replicated(obj: &Value, deployment: bool, errs: &mut Errs) {
    let spec = &obj["spec"];
    nonnegative(spec, "replicas", "spec", errs);
    let selector = spec.get("selector").cloned().unwrap_or(Value::Null);
    if selector.is_null() {
        errs.push(required("spec.selector", ""));
    } else {
        validate_label_selector(&selector, "spec.selector", errs);
        if selector_is_empty(&selector) {
            errs.push(invalid(
                "spec.selector",
                go_label_selector(&selector),
                "empty selector is invalid for deployment",
            ));
        }
    }
    let template = &spec["template"];
    let labels = string_map(&template["metadata"]["labels"]);
    if !selector_parses(&selector) {
        errs.push(invalid(
            "spec.selector",
            go_label_selector(&selector),
            "invalid label selector",
        ));
    } else {
        if !selector_is_empty(&selector) && !selector_matches(&selector, &labels) {
            errs.push(invalid(
                "spec.template.metadata.labels",
                go_btree_map(&labels, true),
                "`selector` does not match template `labels`",
            ));
        }
        validate_pod_template(
            template,
            &template["metadata"]["labels"],
            "spec.template",
            errs,
        );
        let rp = restart_policy(&template["spec"]);
        if rp != "Always" {
            errs.push(not_supported(
                "spec.template.spec.restartPolicy",
                go_quote(rp),
                &["Always"],
            ));
        }
        if present(&template["spec"], "activeDeadlineSeconds") {
            errs.push(forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in ReplicaSet is not Supported",
            ));
        }
    }
    if deployment {
        let strategy = &spec["strategy"];
        if let Some(t) = strategy.get("type").and_then(Value::as_str) {
            match t {
                "RollingUpdate" => {}
                "Recreate" => {
                    if present(strategy, "rollingUpdate") {
                        errs.push(forbidden(
                            "spec.strategy.rollingUpdate",
                            "may not be specified when strategy `type` is 'Recreate'",
                        ));
                    }
                }
                "" => errs.push(required("spec.strategy.type", "")),
                other => errs.push(not_supported(
                    "spec.strategy.type",
                    go_quote(other),
                    &["Recreate", "RollingUpdate"],
                )),
            }
        }
        nonnegative(spec, "revisionHistoryLimit", "spec", errs);
        if let Some(pds) = spec.get("progressDeadlineSeconds").and_then(Value::as_i64) {
            nonnegative(spec, "progressDeadlineSeconds", "spec", errs);
            let mrs = spec["minReadySeconds"].as_i64().unwrap_or(0);
            if pds <= mrs {
                errs.push(invalid(
                    "spec.progressDeadlineSeconds",
                    pds.to_string(),
                    "must be greater than minReadySeconds",
                ));
            }
        }
    }
    nonnegative(spec, "minReadySeconds", "spec", errs);
}
