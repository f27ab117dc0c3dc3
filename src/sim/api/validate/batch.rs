//! Jobs (pkg/apis/batch/validation): spec, pod failure policy, generated selector and
//! labels, and what may change on update.

use super::*;

// ---------------------------------------------------------------------------------------------
// Jobs (pkg/apis/batch/validation)

pub(super) const JOB_NAME_LABELS: [&str; 2] = ["job-name", "batch.kubernetes.io/job-name"];
pub(super) const JOB_UID_LABELS: [&str; 2] =
    ["controller-uid", "batch.kubernetes.io/controller-uid"];

/// Template labels and selector as the Job strategy leaves them before validation: unless
/// `manualSelector`, the job-name and controller-uid labels are added to the template and the
/// controller-uid label to the selector.
pub(super) fn job_effective(obj: &Value) -> (BTreeMap<String, String>, Value, bool) {
    let meta = &obj["metadata"];
    let (name, uid) = (str_at(meta, "name"), str_at(meta, "uid"));
    let spec = &obj["spec"];
    let manual = spec["manualSelector"].as_bool() == Some(true);
    let mut labels = string_map(&spec["template"]["metadata"]["labels"]);
    let mut selector = spec.get("selector").cloned().unwrap_or(Value::Null);
    if !manual {
        for k in JOB_NAME_LABELS {
            labels.entry(k.into()).or_insert_with(|| name.into());
        }
        for k in JOB_UID_LABELS {
            labels.entry(k.into()).or_insert_with(|| uid.into());
        }
        if !selector.is_object() {
            selector = json!({});
        }
        let ml = selector
            .as_object_mut()
            .map(|s| s.entry("matchLabels").or_insert_with(|| json!({})));
        if let Some(Value::Object(ml)) = ml {
            ml.entry(JOB_UID_LABELS[1])
                .or_insert_with(|| Value::String(uid.into()));
        }
    }
    (labels, selector, manual)
}

pub(super) fn validate_job(obj: &Value, errs: &mut Errs, create: bool) {
    let (labels, selector, manual) = job_effective(obj);
    let meta = &obj["metadata"];
    let (name, uid) = (str_at(meta, "name"), str_at(meta, "uid"));
    if create && !manual {
        // validateGeneratedSelector
        let mut expected = BTreeMap::new();
        for (key, want) in [
            (JOB_UID_LABELS[0], uid),
            (JOB_NAME_LABELS[0], name),
            (JOB_UID_LABELS[1], uid),
            (JOB_NAME_LABELS[1], name),
        ] {
            let got = labels.get(key).map(String::as_str).unwrap_or_default();
            if got != want && !(want == uid && uid.is_empty()) {
                errs.push(invalid(
                    &format!("spec.template.metadata.labels[{key}]"),
                    go_btree_map(&labels, false),
                    &format!("must be '{want}'"),
                ));
            }
            expected.insert(key.to_string(), want.to_string());
        }
        if selector_parses(&selector) && !selector_matches(&selector, &expected) {
            errs.push(invalid(
                "spec.selector",
                go_label_selector(&selector),
                "`selector` not auto-generated",
            ));
        }
    }
    validate_job_spec(obj, &labels, &selector, errs);
    let spec = &obj["spec"];
    if create
        && str_at(spec, "completionMode") == "Indexed"
        && let Some(c) = spec.get("completions").and_then(Value::as_i64)
        && c > 0
    {
        let host = format!("{name}-{}", c - 1);
        if !is_dns1123_label(&host).is_empty() {
            errs.push(invalid(
                "metadata.name",
                go_quote(name),
                &format!("will not able to create pod with invalid DNS label: {host}"),
            ));
        }
    }
}

pub(super) fn validate_job_spec(
    obj: &Value,
    labels: &BTreeMap<String, String>,
    selector: &Value,
    errs: &mut Errs,
) {
    let spec = &obj["spec"];
    let int = |k: &str| spec.get(k).and_then(Value::as_i64);
    for k in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ] {
        if let Some(v) = int(k)
            && v < 0
        {
            errs.push(invalid(
                &format!("spec.{k}"),
                v.to_string(),
                "must be greater than or equal to 0",
            ));
        }
        if k == "maxFailedIndexes" && int(k).is_some() && int("backoffLimitPerIndex").is_none() {
            errs.push(required(
                "spec.backoffLimitPerIndex",
                "when maxFailedIndexes is specified",
            ));
        }
    }
    let mode = spec.get("completionMode").and_then(Value::as_str);
    if let Some(m) = mode {
        if m != "NonIndexed" && m != "Indexed" {
            errs.push(not_supported(
                "spec.completionMode",
                go_quote(m),
                &["NonIndexed", "Indexed"],
            ));
        }
        if m == "Indexed" {
            if int("completions").is_none() {
                errs.push(required(
                    "spec.completions",
                    "when completion mode is Indexed",
                ));
            }
            if let Some(p) = int("parallelism")
                && p > 100_000
            {
                errs.push(invalid(
                    "spec.parallelism",
                    p.to_string(),
                    "must be less than or equal to 100000 when completion mode is Indexed",
                ));
            }
            if let (Some(c), Some(mfi)) = (int("completions"), int("maxFailedIndexes"))
                && mfi > c
            {
                errs.push(invalid(
                    "spec.maxFailedIndexes",
                    mfi.to_string(),
                    "must be less than or equal to completions",
                ));
            }
        }
    }
    if mode.is_none_or(|m| m == "NonIndexed") {
        for k in ["backoffLimitPerIndex", "maxFailedIndexes"] {
            if let Some(v) = int(k) {
                errs.push(invalid(
                    &format!("spec.{k}"),
                    v.to_string(),
                    "requires indexed completion mode",
                ));
            }
        }
    }
    let template = &spec["template"];
    let pfp = &spec["podFailurePolicy"];
    if !pfp.is_null() {
        validate_pod_failure_policy(spec, template, errs);
    }
    if present(spec, "successPolicy") && mode != Some("Indexed") {
        errs.push(invalid(
            "spec.successPolicy",
            go_struct("batch.SuccessPolicy", &spec["successPolicy"]),
            "requires indexed completion mode",
        ));
    }
    if let Some(prp) = spec.get("podReplacementPolicy").and_then(Value::as_str) {
        if !pfp.is_null() {
            if prp != "Failed" {
                errs.push(not_supported(
                    "spec.podReplacementPolicy",
                    go_quote(prp),
                    &["Failed"],
                ));
            }
        } else if prp != "Failed" && prp != "TerminatingOrFailed" {
            errs.push(not_supported(
                "spec.podReplacementPolicy",
                go_quote(prp),
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }
    let labels_value: Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    validate_pod_template(
        template,
        &Value::Object(labels_value),
        "spec.template",
        errs,
    );
    let rp_path = "spec.template.spec.restartPolicy";
    let rp = restart_policy(&template["spec"]);
    if rp == "Always" || rp.is_empty() {
        errs.push(required(rp_path, "valid values: \"OnFailure\", \"Never\""));
    } else if rp != "OnFailure" && rp != "Never" {
        errs.push(not_supported(
            rp_path,
            go_quote(rp),
            &["OnFailure", "Never"],
        ));
    } else if !pfp.is_null() && rp != "Never" {
        errs.push(invalid(
            rp_path,
            go_quote(rp),
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }

    // ValidateJobSpec: the selector, and that it selects the template.
    if selector.is_null() {
        errs.push(required("spec.selector", ""));
    } else {
        validate_label_selector(selector, "spec.selector", errs);
    }
    if selector_parses(selector) && !selector_matches(selector, labels) {
        errs.push(invalid(
            "spec.template.metadata.labels",
            go_btree_map(labels, true),
            "`selector` does not match template `labels`",
        ));
    }
}

pub(super) fn validate_pod_failure_policy(spec: &Value, template: &Value, errs: &mut Errs) {
    let rules = arr(&spec["podFailurePolicy"], "rules");
    let path = "spec.podFailurePolicy.rules";
    if rules.len() > 20 {
        errs.push(Cause::new(
            "FieldValueTooMany",
            path,
            format!("Too many: {}: must have at most 20 items", rules.len()),
        ));
    }
    let tspec = &template["spec"];
    let containers: BTreeSet<&str> = arr(tspec, "containers")
        .iter()
        .chain(arr(tspec, "initContainers"))
        .map(|c| str_at(c, "name"))
        .collect();
    const ACTIONS: &[&str] = &["Count", "FailIndex", "FailJob", "Ignore"];
    for (i, rule) in rules.iter().enumerate() {
        let rp = format!("{path}[{i}]");
        let action = str_at(rule, "action");
        if action.is_empty() {
            errs.push(required(
                &format!("{rp}.action"),
                "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]",
            ));
        } else if action == "FailIndex" {
            if !present(spec, "backoffLimitPerIndex") {
                errs.push(invalid(
                    &format!("{rp}.action"),
                    go_quote(action),
                    "requires the backoffLimitPerIndex to be set",
                ));
            }
        } else if !ACTIONS.contains(&action) {
            errs.push(not_supported(
                &format!("{rp}.action"),
                go_quote(action),
                ACTIONS,
            ));
        }
        let exit = &rule["onExitCodes"];
        let conds = arr(rule, "onPodConditions");
        if !exit.is_null() {
            let ep = format!("{rp}.onExitCodes");
            let op = str_at(exit, "operator");
            if op.is_empty() {
                errs.push(required(
                    &format!("{ep}.operator"),
                    "valid values: [\"In\" \"NotIn\"]",
                ));
            } else if op != "In" && op != "NotIn" {
                errs.push(not_supported(
                    &format!("{ep}.operator"),
                    go_quote(op),
                    &["In", "NotIn"],
                ));
            }
            if let Some(cn) = exit.get("containerName").and_then(Value::as_str)
                && !containers.contains(cn)
            {
                errs.push(invalid(
                    &format!("{ep}.containerName"),
                    go_quote(cn),
                    "must be one of the container or initContainer names in the pod template",
                ));
            }
            let values: Vec<i64> = arr(exit, "values")
                .iter()
                .filter_map(Value::as_i64)
                .collect();
            let render = || {
                let items: Vec<String> = values.iter().map(i64::to_string).collect();
                format!("[]int32{{{}}}", items.join(", "))
            };
            if values.is_empty() {
                errs.push(invalid(
                    &format!("{ep}.values"),
                    "[]int32(nil)".into(),
                    "at least one value is required",
                ));
            }
            let mut seen = BTreeSet::new();
            for (j, v) in values.iter().enumerate() {
                let vp = format!("{ep}.values[{j}]");
                if op == "In" && *v == 0 {
                    errs.push(invalid(
                        &vp,
                        "0".into(),
                        "must not be 0 for the In operator",
                    ));
                }
                if !seen.insert(*v) {
                    errs.push(duplicate(&vp, v.to_string()));
                }
            }
            if values.windows(2).any(|w| w[0] > w[1]) {
                errs.push(invalid(
                    &format!("{ep}.values"),
                    render(),
                    "must be ordered",
                ));
            }
        }
        for (j, c) in conds.iter().enumerate() {
            let cp = format!("{rp}.onPodConditions[{j}]");
            let t = str_at(c, "type");
            for msg in is_qualified_name(t) {
                errs.push(invalid(&format!("{cp}.type"), go_quote(t), &msg));
            }
            // status defaults to True.
            if let Some(s) = c.get("status").and_then(Value::as_str) {
                const STATUSES: &[&str] = &["False", "True", "Unknown"];
                if s.is_empty() {
                    errs.push(required(
                        &format!("{cp}.status"),
                        "valid values: [\"False\" \"True\" \"Unknown\"]",
                    ));
                } else if !STATUSES.contains(&s) {
                    errs.push(not_supported(
                        &format!("{cp}.status"),
                        go_quote(s),
                        STATUSES,
                    ));
                }
            }
        }
        if !exit.is_null() && !conds.is_empty() {
            errs.push(invalid_omit(
                &rp,
                "specifying both OnExitCodes and OnPodConditions is not supported",
            ));
        }
        if exit.is_null() && conds.is_empty() {
            errs.push(invalid_omit(
                &rp,
                "specifying one of OnExitCodes and OnPodConditions is required",
            ));
        }
    }
}

pub(super) fn validate_job_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    // Completions: immutable, except that an Indexed Job may scale it together with
    // parallelism (elastic Indexed Jobs, GA in 1.31).
    let (nc, oc) = (&ns["completions"], &os["completions"]);
    if str_at(ns, "completionMode") == "Indexed" {
        if !same(nc, oc)
            && let Some(c) = nc.as_i64()
            && Some(c) != ns["parallelism"].as_i64()
        {
            errs.push(invalid(
                "spec.completions",
                c.to_string(),
                "can only be modified in tandem with spec.parallelism",
            ));
        }
    } else {
        immutable(errs, "spec.completions", nc, oc, go_scalar);
    }
    immutable(
        errs,
        "spec.selector",
        &ns["selector"],
        &os["selector"],
        go_label_selector,
    );
    // The template; while the Job is suspended and has never started, scheduling directives
    // (node selector, tolerations, node affinity, scheduling gates, labels, annotations) may
    // change.
    let (mut nt, mut ot) = (norm(&ns["template"]), norm(&os["template"]));
    let suspended = os["suspend"].as_bool() == Some(true);
    let never_started = !present(&old["status"], "startTime");
    if suspended && never_started {
        for t in [&mut nt, &mut ot] {
            if let Some(meta) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("labels");
                meta.remove("annotations");
            }
            if let Some(spec) = t.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("nodeSelector");
                spec.remove("tolerations");
                spec.remove("schedulingGates");
                if let Some(aff) = spec.get_mut("affinity").and_then(Value::as_object_mut) {
                    aff.remove("nodeAffinity");
                }
            }
            *t = norm(t);
        }
    }
    if nt != ot {
        errs.push(invalid(
            "spec.template",
            go_struct("core.PodTemplateSpec", &ns["template"]),
            IMMUTABLE,
        ));
    }
    immutable(
        errs,
        "spec.completionMode",
        &ns["completionMode"],
        &os["completionMode"],
        go_scalar,
    );
    immutable(
        errs,
        "spec.podFailurePolicy",
        &ns["podFailurePolicy"],
        &os["podFailurePolicy"],
        |v| go_struct("batch.PodFailurePolicy", v),
    );
    for k in ["backoffLimitPerIndex", "managedBy"] {
        immutable(errs, &format!("spec.{k}"), &ns[k], &os[k], go_scalar);
    }
    immutable(
        errs,
        "spec.successPolicy",
        &ns["successPolicy"],
        &os["successPolicy"],
        |v| go_struct("batch.SuccessPolicy", v),
    );
}
