//! `podFailurePolicy`: which rule, if any, a failed pod matches, and what it decides.

use super::*;

// ---------------------------------------------------------------------------------------------
// podFailurePolicy

pub(super) fn exit_codes_match(rule: &PodFailurePolicyRule, pod: &Pod) -> Option<(String, i32)> {
    let req = rule.on_exit_codes.as_ref()?;
    let status = pod.status.as_ref()?;
    let all = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for cs in all {
        if req.container_name.as_ref().is_some_and(|n| *n != cs.name) {
            continue;
        }
        let Some(code) = cs
            .state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(|t| t.exit_code)
        else {
            continue;
        };
        if code == 0 {
            continue;
        }
        let hit = match req.operator.as_str() {
            "In" => req.values.contains(&code),
            "NotIn" => !req.values.contains(&code),
            _ => false,
        };
        if hit {
            return Some((cs.name.clone(), code));
        }
    }
    None
}

pub(super) fn conditions_match(rule: &PodFailurePolicyRule, pod: &Pod) -> Option<String> {
    for pattern in rule.on_pod_conditions.iter().flatten() {
        if let Some(c) = pod_condition(pod, &pattern.type_) {
            let want = if pattern.status.is_empty() {
                "True"
            } else {
                pattern.status.as_str()
            };
            if c.status == want {
                return Some(pattern.type_.clone());
            }
        }
    }
    None
}

/// `matchPodFailurePolicy`: first matching rule wins; only pods in phase Failed match.
pub(super) fn match_policy(spec: &JobSpec, pod: &Pod, ns: &str) -> PolicyVerdict {
    let counted = PolicyVerdict {
        counts: true,
        action: None,
        message: None,
    };
    let Some(policy) = &spec.pod_failure_policy else {
        return counted;
    };
    let failed_phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed");
    if !failed_phase {
        return counted;
    }
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    for (i, rule) in policy.rules.iter().enumerate() {
        let action = match rule.action.as_str() {
            "FailJob" => PolicyAction::FailJob,
            "FailIndex" => PolicyAction::FailIndex,
            "Ignore" => PolicyAction::Ignore,
            "Count" => PolicyAction::Count,
            _ => continue,
        };
        let message = if let Some((container, code)) = exit_codes_match(rule, pod) {
            format!(
                "Container {container} for pod {ns}/{pod_name} failed with exit code {code} matching {} rule at index {i}",
                rule.action
            )
        } else if let Some(cond) = conditions_match(rule, pod) {
            format!(
                "Pod {ns}/{pod_name} has condition {cond} matching {} rule at index {i}",
                rule.action
            )
        } else {
            continue;
        };
        return PolicyVerdict {
            counts: action != PolicyAction::Ignore,
            action: Some(action),
            message: (action == PolicyAction::FailJob).then_some(message),
        };
    }
    counted
}
