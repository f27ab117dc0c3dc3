//! Who a request is, and (with `--enforce-rbac`) whether Roles allow it.
//!
//! The kubeconfig's token is the cluster admin. Any other token must be the `token` of a
//! Secret of type `kubernetes.io/service-account-token`: the request then acts as that
//! ServiceAccount, and RoleBindings in the target namespace decide (Roles only; ClusterRoles
//! are not served).

use base64::Engine;
use hyper::Method;
use serde_json::Value;

use super::registry::{Registry, ResourceType};
use super::request::{Route, Target};
use super::selector::FieldSelector;
use super::status::ApiError;
use super::store::Store;
use crate::fleet::selector::Selector;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Admin,
    ServiceAccount { namespace: String, name: String },
}

impl Identity {
    pub fn user(&self) -> String {
        match self {
            Identity::Admin => "admin".into(),
            Identity::ServiceAccount { namespace, name } => {
                format!("system:serviceaccount:{namespace}:{name}")
            }
        }
    }
}

/// The identity of a bearer token, if any.
pub fn identify(store: &Store, admin_token: &str, token: &str) -> Option<Identity> {
    if token.is_empty() {
        return None;
    }
    if same_secret(token.as_bytes(), admin_token.as_bytes()) {
        return Some(Identity::Admin);
    }
    let reg = store.registry();
    let secrets = reg.find("", "v1", "secrets")?;
    let page = store
        .list(
            secrets,
            None,
            &Selector::default(),
            &FieldSelector::default(),
            None,
            None,
        )
        .ok()?;
    page.items.iter().find_map(|s| {
        if s["type"] != "kubernetes.io/service-account-token" {
            return None;
        }
        let stored = s["data"]["token"].as_str()?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(stored)
            .ok()?;
        (!decoded.is_empty() && same_secret(&decoded, token.as_bytes())).then(|| {
            Identity::ServiceAccount {
                namespace: s["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                name: s["metadata"]["annotations"]["kubernetes.io/service-account.name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            }
        })
    })
}

/// Whether two secrets are equal, in a time that depends on their lengths only (not on where
/// they first differ), so response times do not reveal a token byte by byte.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The RBAC verb of a request.
pub fn verb(method: &Method, t: &Target, watch: bool) -> &'static str {
    match (method, t.name.is_some()) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) if watch => "watch",
        (&Method::GET, false) => "list",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => "get",
    }
}

fn contains(list: &Value, want: &str) -> bool {
    list.as_array()
        .is_some_and(|a| a.iter().any(|v| v == "*" || v == want))
}

/// Whether Roles bound to `sa` in the target namespace allow the request.
pub fn authorize(
    store: &Store,
    reg: &Registry,
    who: &Identity,
    route: &Route,
    method: &Method,
    watch: bool,
) -> Result<(), ApiError> {
    if *who == Identity::Admin {
        return Ok(());
    }
    let Route::Resource(t) = route else {
        // Discovery, OpenAPI and version are open to every authenticated identity.
        return Ok(());
    };
    let verb = verb(method, t, watch);
    let resource = match &t.subresource {
        Some(sub) => format!("{}/{sub}", t.rt.plural),
        None => t.rt.plural.clone(),
    };
    let ns = t.namespace.clone().unwrap_or_default();
    let denied = || {
        forbidden(
            &t.rt,
            who,
            verb,
            &resource,
            &ns,
            t.name.as_deref().unwrap_or(""),
        )
    };
    if allows(
        store,
        reg,
        who,
        &ns,
        &t.rt.group,
        &resource,
        verb,
        t.name.as_deref(),
    ) {
        Ok(())
    } else {
        Err(denied())
    }
}

/// Whether Roles bound to `who` in namespace `ns` allow `verb` on `resource` (`pods`, or
/// `pods/eviction` for a subresource) of `group`, for the object `name` if one is named. The
/// admin is allowed everything; a ServiceAccount nothing at the cluster scope.
#[allow(clippy::too_many_arguments)]
pub fn allows(
    store: &Store,
    reg: &Registry,
    who: &Identity,
    ns: &str,
    group: &str,
    resource: &str,
    verb: &str,
    name: Option<&str>,
) -> bool {
    if *who == Identity::Admin {
        return true;
    }
    if ns.is_empty() {
        return false;
    }
    held_rules(store, reg, who, ns)
        .iter()
        .any(|rule| rule_allows(rule, group, resource, verb, name))
}

/// Whether one Role rule allows `verb` on `resource` of `group` (for the object `name`, if
/// one is named).
pub fn rule_allows(
    rule: &Value,
    group: &str,
    resource: &str,
    verb: &str,
    name: Option<&str>,
) -> bool {
    contains(&rule["apiGroups"], group)
        && contains(&rule["resources"], resource)
        && contains(&rule["verbs"], verb)
        && (rule["resourceNames"]
            .as_array()
            .is_none_or(|n| n.is_empty())
            || name.is_some_and(|n| contains(&rule["resourceNames"], n)))
}

/// The rules of every Role bound to the ServiceAccount `who` in namespace `ns` (none for the
/// admin, who needs none, and at the cluster scope).
pub fn held_rules(store: &Store, reg: &Registry, who: &Identity, ns: &str) -> Vec<Value> {
    let Identity::ServiceAccount {
        namespace: sa_ns,
        name: sa,
    } = who
    else {
        return vec![];
    };
    if ns.is_empty() {
        return vec![];
    }
    let find = |plural: &str| reg.find("rbac.authorization.k8s.io", "v1", plural).cloned();
    let (Some(bindings_rt), Some(roles_rt)) = (find("rolebindings"), find("roles")) else {
        return vec![];
    };
    let all = |rt: &ResourceType| {
        store
            .list(
                rt,
                Some(ns),
                &Selector::default(),
                &FieldSelector::default(),
                None,
                None,
            )
            .map(|p| p.items)
            .unwrap_or_default()
    };
    let roles = all(&roles_rt);
    let mut rules = vec![];
    for b in all(&bindings_rt).iter() {
        let bound = b["subjects"].as_array().is_some_and(|subs| {
            subs.iter().any(|s| {
                s["kind"] == "ServiceAccount"
                    && s["name"] == sa.as_str()
                    && s["namespace"].as_str().unwrap_or(ns) == sa_ns
            })
        });
        if !bound || b["roleRef"]["kind"] != "Role" {
            continue;
        }
        for r in roles
            .iter()
            .filter(|r| r["metadata"]["name"] == b["roleRef"]["name"])
        {
            rules.extend(r["rules"].as_array().cloned().unwrap_or_default());
        }
    }
    rules
}

/// The path of `authorization.k8s.io/v1` SelfSubjectAccessReviews.
pub const SSAR_PATH: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/// Answers a SelfSubjectAccessReview (`POST` [`SSAR_PATH`]) as the API server does: 201 with the
/// review and its `status.allowed`, from the Roles when RBAC is enforced; every authenticated
/// identity may ask.
pub fn self_subject_access_review(
    store: &Store,
    reg: &Registry,
    who: &Identity,
    enforce: bool,
    body: &[u8],
) -> Result<Value, ApiError> {
    let review: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of a SelfSubjectAccessReview is not JSON: {e}"
        ))
    })?;
    let spec = &review["spec"];
    let (allowed, reason) = if let Some(attrs) = spec["resourceAttributes"].as_object() {
        let field = |k: &str| attrs.get(k).and_then(Value::as_str).unwrap_or_default();
        let resource = match field("subresource") {
            "" => field("resource").to_string(),
            sub => format!("{}/{sub}", field("resource")),
        };
        let name = Some(field("name")).filter(|n| !n.is_empty());
        let ok = !enforce
            || allows(
                store,
                reg,
                who,
                field("namespace"),
                field("group"),
                &resource,
                field("verb"),
                name,
            );
        let why = match who {
            Identity::Admin => "the cluster admin may do everything".to_string(),
            _ if !enforce => "RBAC is not enforced".to_string(),
            _ if ok => "allowed by a RoleBinding".to_string(),
            _ => String::new(),
        };
        (ok, why)
    } else if spec["nonResourceAttributes"].is_object() {
        (
            true,
            "non-resource URLs are open to every identity".to_string(),
        )
    } else {
        return Err(ApiError::bad_request(
            "SelfSubjectAccessReview: spec.resourceAttributes or spec.nonResourceAttributes is required",
        ));
    };
    let mut status = serde_json::json!({"allowed": allowed});
    if !reason.is_empty() {
        status["reason"] = Value::String(reason);
    }
    Ok(serde_json::json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    }))
}

fn forbidden(
    rt: &ResourceType,
    who: &Identity,
    verb: &str,
    resource: &str,
    ns: &str,
    name: &str,
) -> ApiError {
    let scope = if ns.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{ns}\"")
    };
    let why = format!(
        "User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
        who.user(),
        rt.group
    );
    ApiError::forbidden(rt, name, &why)
}
