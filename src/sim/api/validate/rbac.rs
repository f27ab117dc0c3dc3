//! Roles and RoleBindings (pkg/apis/rbac/validation).

use super::*;

pub(super) fn validate_role(obj: &Value, errs: &mut Errs) {
    for (i, rule) in arr(obj, "rules").iter().enumerate() {
        let rp = format!("rules[{i}]");
        if arr(rule, "verbs").is_empty() {
            errs.push(required(
                &format!("{rp}.verbs"),
                "verbs must contain at least one value",
            ));
        }
        if !arr(rule, "nonResourceURLs").is_empty() {
            errs.push(invalid(
                &format!("{rp}.nonResourceURLs"),
                go_string_slice(&rule["nonResourceURLs"]),
                "namespaced rules cannot apply to non-resource URLs",
            ));
            continue;
        }
        if arr(rule, "apiGroups").is_empty() {
            errs.push(required(
                &format!("{rp}.apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if arr(rule, "resources").is_empty() {
            errs.push(required(
                &format!("{rp}.resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
}

pub(super) fn validate_role_binding(obj: &Value, errs: &mut Errs) {
    let rr = &obj["roleRef"];
    let group = str_at(rr, "apiGroup");
    if group != "rbac.authorization.k8s.io" {
        errs.push(not_supported(
            "roleRef.apiGroup",
            go_quote(group),
            &["rbac.authorization.k8s.io"],
        ));
    }
    let kind = str_at(rr, "kind");
    if kind != "Role" && kind != "ClusterRole" {
        errs.push(not_supported(
            "roleRef.kind",
            go_quote(kind),
            &["Role", "ClusterRole"],
        ));
    }
    let name = str_at(rr, "name");
    if name.is_empty() {
        errs.push(required("roleRef.name", ""));
    } else {
        for msg in is_valid_path_segment_name(name) {
            errs.push(invalid("roleRef.name", go_quote(name), &msg));
        }
    }
    for (i, s) in arr(obj, "subjects").iter().enumerate() {
        let sp = format!("subjects[{i}]");
        let sname = str_at(s, "name");
        if sname.is_empty() {
            errs.push(required(&format!("{sp}.name"), ""));
        }
        let sgroup = str_at(s, "apiGroup");
        match str_at(s, "kind") {
            "ServiceAccount" => {
                if !sname.is_empty() {
                    for msg in is_dns1123_subdomain(sname) {
                        errs.push(invalid(&format!("{sp}.name"), go_quote(sname), &msg));
                    }
                }
                if !sgroup.is_empty() {
                    errs.push(not_supported(
                        &format!("{sp}.apiGroup"),
                        go_quote(sgroup),
                        &[""],
                    ));
                }
            }
            "User" | "Group" => {
                if sgroup != "rbac.authorization.k8s.io" {
                    errs.push(not_supported(
                        &format!("{sp}.apiGroup"),
                        go_quote(sgroup),
                        &["rbac.authorization.k8s.io"],
                    ));
                }
            }
            other => errs.push(not_supported(
                &format!("{sp}.kind"),
                go_quote(other),
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
}

pub(super) fn go_role_ref(v: &Value) -> String {
    format!(
        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
        go_quote(str_at(v, "apiGroup")),
        go_quote(str_at(v, "kind")),
        go_quote(str_at(v, "name"))
    )
}
