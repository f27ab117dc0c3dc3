//! The paths and operations of each resource type: verbs, query parameters, request bodies
//! and responses, as kube-apiserver 1.32 publishes them.

use super::*;

pub(super) fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

/// The component name of a type's object schema: Kubernetes' for built-ins, the reversed
/// group for custom resources (`sh.keda.v1alpha1.ScaledJob`).
pub fn schema_name(rt: &ResourceType) -> String {
    if rt.builtin
        && let Some(prefix) = builtin_prefix(&rt.group)
    {
        let name = expand(&format!("{prefix}.{}", rt.kind));
        if catalogue().contains_key(&name) {
            return name;
        }
    }
    let mut parts: Vec<&str> = rt.group.split('.').collect();
    parts.reverse();
    format!("{}.{}.{}", parts.join("."), rt.version, rt.kind)
}

pub(super) fn base_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// `api/v1` or `apis/batch/v1`: the key of a group/version in the v3 index.
pub(super) fn index_key(group: &str, version: &str) -> String {
    base_path(group, version)[1..].to_string()
}

pub(super) fn query(name: &str, ty: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description,
           "schema": {"type": ty, "uniqueItems": true}})
}

pub(super) fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "description": description, "required": true,
           "schema": {"type": "string", "uniqueItems": true}})
}

pub(super) fn pretty() -> Value {
    query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed.",
    )
}

pub(super) fn dry_run() -> Value {
    query(
        "dryRun",
        "string",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    )
}

pub(super) fn field_manager() -> Value {
    query(
        "fieldManager",
        "string",
        "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
    )
}

pub(super) fn field_validation() -> Value {
    query(
        "fieldValidation",
        "string",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
    )
}

pub(super) fn list_params() -> Vec<Value> {
    vec![
        query(
            "allowWatchBookmarks",
            "boolean",
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
        ),
        query(
            "continue",
            "string",
            "The continue option should be set when retrieving more results from the server.",
        ),
        query(
            "fieldSelector",
            "string",
            "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
        ),
        query(
            "labelSelector",
            "string",
            "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
        ),
        query(
            "limit",
            "integer",
            "limit is a maximum number of responses to return for a list call.",
        ),
        query(
            "resourceVersion",
            "string",
            "resourceVersion sets a constraint on what resource versions a request may be served from.",
        ),
        query(
            "resourceVersionMatch",
            "string",
            "resourceVersionMatch determines how resourceVersion is applied to list calls.",
        ),
        query(
            "sendInitialEvents",
            "boolean",
            "`sendInitialEvents=true` may be set together with `watch=true`.",
        ),
        query(
            "timeoutSeconds",
            "integer",
            "Timeout for the list/watch call.",
        ),
        query(
            "watch",
            "boolean",
            "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
        ),
    ]
}

pub(super) fn delete_params() -> Vec<Value> {
    vec![
        dry_run(),
        query(
            "gracePeriodSeconds",
            "integer",
            "The duration in seconds before the object should be deleted.",
        ),
        query(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "boolean",
            "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.",
        ),
        query(
            "orphanDependents",
            "boolean",
            "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7.",
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'.",
        ),
    ]
}

pub(super) fn json_content(schema: &Value) -> Value {
    json!({
        "application/json": {"schema": schema},
        "application/yaml": {"schema": schema},
    })
}

pub(super) fn responses(codes: &[(&str, &str)], schema: &Value) -> Value {
    let mut r = Map::new();
    for (code, description) in codes {
        r.insert(
            (*code).into(),
            json!({"description": description, "content": json_content(schema)}),
        );
    }
    r.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(r)
}

/// `batch` -> `Batch`, `rbac.authorization.k8s.io` -> `RbacAuthorization`, "" -> `Core`,
/// `keda.sh` -> `KedaSh`: how Kubernetes spells groups in operation ids.
pub(super) fn group_camel(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    let g = group.strip_suffix(".k8s.io").unwrap_or(group);
    g.split(['.', '-'])
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub(super) fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub(super) struct OpCtx<'a> {
    rt: &'a ResourceType,
    tag: String,
    /// `CoreV1`, `BatchV1`...
    gv_camel: String,
}

impl OpCtx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn op(
        &self,
        verb: &str,
        action: &str,
        op_suffix: &str,
        description: &str,
        params: Vec<Value>,
        body: Option<Value>,
        resp: Value,
        gvk_value: Value,
    ) -> Value {
        let mut o = Map::new();
        o.insert("tags".into(), json!([self.tag]));
        o.insert("description".into(), json!(description));
        o.insert(
            "operationId".into(),
            json!(format!("{verb}{}{op_suffix}", self.gv_camel)),
        );
        if !params.is_empty() {
            o.insert("parameters".into(), Value::Array(params));
        }
        if let Some(b) = body {
            o.insert("requestBody".into(), b);
        }
        o.insert("responses".into(), resp);
        o.insert("x-kubernetes-action".into(), json!(action));
        o.insert("x-kubernetes-group-version-kind".into(), gvk_value);
        Value::Object(o)
    }
}

pub(super) fn body(schema: &Value) -> Value {
    json!({"content": {"*/*": {"schema": schema}}, "required": true})
}

pub(super) fn patch_body(smp: bool) -> Value {
    let patch = schema_ref(&expand("meta.Patch"));
    let mut content = Map::new();
    content.insert(
        "application/apply-patch+yaml".into(),
        json!({"schema": patch}),
    );
    content.insert(
        "application/json-patch+json".into(),
        json!({"schema": patch}),
    );
    content.insert(
        "application/merge-patch+json".into(),
        json!({"schema": patch}),
    );
    if smp {
        content.insert(
            "application/strategic-merge-patch+json".into(),
            json!({"schema": patch}),
        );
    }
    json!({"content": content, "required": true})
}

/// Whether kubectl should compute strategic merge patches for the kind from this document.
/// CustomResourceDefinitions are left to merge patches: their nested `openAPIV3Schema` maps
/// cannot be followed through a schema, and kubectl's compiled-in types do not include them.
pub(super) fn serves_smp(rt: &ResourceType) -> bool {
    rt.builtin && rt.group != "apiextensions.k8s.io"
}

/// The path items of one resource type.
pub(super) fn type_paths(rt: &ResourceType, paths: &mut BTreeMap<String, Value>) {
    let base = base_path(&rt.group, &rt.version);
    let ctx = OpCtx {
        rt,
        tag: format!(
            "{}_{}",
            {
                let g = group_camel(&rt.group);
                let mut c = g.chars();
                c.next()
                    .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            },
            rt.version
        ),
        gv_camel: format!("{}{}", group_camel(&rt.group), upper_first(&rt.version)),
    };
    let kind = &rt.kind;
    let obj = schema_ref(&schema_name(rt));
    let list = schema_ref(&format!("{}List", schema_name(rt)));
    let status_schema = schema_ref(&expand("meta.Status"));
    let own_gvk = gvk(&rt.group, &rt.version, kind);
    let ns = if rt.namespaced { "Namespaced" } else { "" };
    let writable = !ctx.rt.read_only;
    let smp = serves_smp(rt);

    let (collection, item) = if rt.namespaced {
        (
            format!("{base}/namespaces/{{namespace}}/{}", rt.plural),
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", rt.plural),
        )
    } else {
        (
            format!("{base}/{}", rt.plural),
            format!("{base}/{}/{{name}}", rt.plural),
        )
    };
    let ns_param = || {
        path_param(
            "namespace",
            "object name and auth scope, such as for teams and projects",
        )
    };
    let name_param = |what: &str| path_param("name", &format!("name of the {what}"));
    let mut scope_params = vec![];
    if rt.namespaced {
        scope_params.push(ns_param());
    }

    // Collection.
    let mut c = Map::new();
    c.insert(
        "get".into(),
        ctx.op(
            "list",
            "list",
            &format!("{ns}{kind}"),
            &format!("list or watch objects of kind {kind}"),
            list_params(),
            None,
            responses(&[("200", "OK")], &list),
            own_gvk.clone(),
        ),
    );
    if writable {
        c.insert(
            "post".into(),
            ctx.op(
                "create",
                "post",
                &format!("{ns}{kind}"),
                &format!("create a {kind}"),
                vec![dry_run(), field_manager(), field_validation()],
                Some(body(&obj)),
                responses(
                    &[("200", "OK"), ("201", "Created"), ("202", "Accepted")],
                    &obj,
                ),
                own_gvk.clone(),
            ),
        );
        let mut dc = delete_params();
        dc.extend(list_params().into_iter().filter(|p| {
            !matches!(
                p["name"].as_str(),
                Some("allowWatchBookmarks") | Some("watch")
            )
        }));
        c.insert(
            "delete".into(),
            ctx.op(
                "delete",
                "deletecollection",
                &format!("Collection{ns}{kind}"),
                &format!("delete collection of {kind}"),
                dc,
                Some(body(&schema_ref(&expand("meta.DeleteOptions")))),
                responses(&[("200", "OK")], &status_schema),
                own_gvk.clone(),
            ),
        );
    }
    let mut params = scope_params.clone();
    params.push(pretty());
    c.insert("parameters".into(), Value::Array(params));
    paths.insert(collection, Value::Object(c));

    // Every namespace.
    if rt.namespaced {
        let mut a = Map::new();
        a.insert(
            "get".into(),
            ctx.op(
                "list",
                "list",
                &format!("{kind}ForAllNamespaces"),
                &format!("list or watch objects of kind {kind}"),
                list_params(),
                None,
                responses(&[("200", "OK")], &list),
                own_gvk.clone(),
            ),
        );
        a.insert("parameters".into(), json!([pretty()]));
        paths.insert(format!("{base}/{}", rt.plural), Value::Object(a));
    }

    // One object.
    let item_params = |what: &str| {
        let mut p = vec![name_param(what)];
        p.extend(scope_params.iter().cloned());
        p.push(pretty());
        Value::Array(p)
    };
    let read_write = |suffix: &str,
                      what: &str,
                      schema: &Value,
                      gvk_value: &Value,
                      with_delete: bool| {
        let mut m = Map::new();
        let sfx = format!("{ns}{kind}{suffix}");
        m.insert(
            "get".into(),
            ctx.op(
                "read",
                "get",
                &sfx,
                &format!("read {what} of the specified {kind}"),
                vec![],
                None,
                responses(&[("200", "OK")], schema),
                gvk_value.clone(),
            ),
        );
        if writable {
            m.insert(
                "put".into(),
                ctx.op(
                    "replace",
                    "put",
                    &sfx,
                    &format!("replace {what} of the specified {kind}"),
                    vec![dry_run(), field_manager(), field_validation()],
                    Some(body(schema)),
                    responses(&[("200", "OK"), ("201", "Created")], schema),
                    gvk_value.clone(),
                ),
            );
            let mut patch_params = vec![dry_run(), field_manager(), field_validation()];
            patch_params.push(query(
                "force",
                "boolean",
                "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
            ));
            m.insert(
                "patch".into(),
                ctx.op(
                    "patch",
                    "patch",
                    &sfx,
                    &format!("partially update {what} of the specified {kind}"),
                    patch_params,
                    Some(patch_body(smp)),
                    responses(&[("200", "OK"), ("201", "Created")], schema),
                    gvk_value.clone(),
                ),
            );
            if with_delete {
                m.insert(
                    "delete".into(),
                    ctx.op(
                        "delete",
                        "delete",
                        &sfx,
                        &format!("delete a {kind}"),
                        delete_params(),
                        Some(body(&schema_ref(&expand("meta.DeleteOptions")))),
                        responses(&[("200", "OK"), ("202", "Accepted")], schema),
                        gvk_value.clone(),
                    ),
                );
            }
        }
        m.insert("parameters".into(), item_params(what));
        Value::Object(m)
    };
    paths.insert(item.clone(), read_write("", kind, &obj, &own_gvk, true));

    let s = rt.subresources;
    if s.status {
        paths.insert(
            format!("{item}/status"),
            read_write(
                "Status",
                &format!("status of {kind}"),
                &obj,
                &own_gvk,
                false,
            ),
        );
    }
    if s.scale {
        paths.insert(
            format!("{item}/scale"),
            read_write(
                "Scale",
                &format!("scale of {kind}"),
                &schema_ref(&expand("as.Scale")),
                &gvk("autoscaling", "v1", "Scale"),
                false,
            ),
        );
    }
    // Subresources that are only created (POST): binding, eviction.
    let create_only = |sub_kind: &str, schema: &str, sub_gvk: Value| {
        let schema = schema_ref(&expand(schema));
        let mut m = Map::new();
        m.insert(
            "post".into(),
            ctx.op(
                "create",
                "post",
                &format!("{ns}{kind}{sub_kind}"),
                &format!("create {} of a {kind}", sub_kind.to_lowercase()),
                vec![dry_run(), field_manager(), field_validation()],
                Some(body(&schema)),
                responses(
                    &[("200", "OK"), ("201", "Created"), ("202", "Accepted")],
                    &schema,
                ),
                sub_gvk,
            ),
        );
        m.insert("parameters".into(), item_params(sub_kind));
        Value::Object(m)
    };
    if s.binding && writable {
        paths.insert(
            format!("{item}/binding"),
            create_only("Binding", "core.Binding", gvk("", "v1", "Binding")),
        );
    }
    if s.eviction && writable {
        paths.insert(
            format!("{item}/eviction"),
            create_only(
                "Eviction",
                "policy.Eviction",
                gvk("policy", "v1", "Eviction"),
            ),
        );
    }
    if s.proxy {
        let proxy_gvk = gvk(&rt.group, &rt.version, &format!("{kind}ProxyOptions"));
        let string_resp = json!({
            "200": {"description": "OK", "content": {"*/*": {"schema": {"type": "string"}}}},
            "401": {"description": "Unauthorized"},
        });
        for (suffix, with_path) in [("proxy", false), ("proxy/{path}", true)] {
            let mut m = Map::new();
            for (method, verb) in [
                ("get", "connectGet"),
                ("post", "connectPost"),
                ("put", "connectPut"),
                ("patch", "connectPatch"),
                ("delete", "connectDelete"),
            ] {
                let op_suffix =
                    format!("{ns}{kind}Proxy{}", if with_path { "WithPath" } else { "" });
                m.insert(
                    method.into(),
                    ctx.op(
                        verb,
                        "connect",
                        &op_suffix,
                        &format!(
                            "connect {} requests to proxy of {kind}",
                            method.to_uppercase()
                        ),
                        vec![],
                        None,
                        string_resp.clone(),
                        proxy_gvk.clone(),
                    ),
                );
            }
            let mut p = vec![path_param(
                "name",
                &format!("name of the {kind}ProxyOptions"),
            )];
            p.extend(scope_params.iter().cloned());
            if with_path {
                p.push(path_param("path", "path to the resource"));
            } else {
                p.push(query(
                    "path",
                    "string",
                    "Path is the URL path to use for the current proxy request to pod.",
                ));
            }
            m.insert("parameters".into(), Value::Array(p));
            paths.insert(format!("{item}/{suffix}"), Value::Object(m));
        }
    }
}
