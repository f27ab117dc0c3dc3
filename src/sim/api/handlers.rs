//! Resource requests: get, list, create, update, patch (merge, strategic, JSON, apply) and
//! delete, with validation, defaults, managed fields and Table output.

use std::sync::Arc;

use hyper::Method;
use serde_json::{Value, json};

use super::apply;
use super::bounds;
use super::defaults;
use super::escalation;
use super::openapi;
use super::patch::{self, PatchError};
use super::registry::ResourceType;
use super::request::Target;
use super::request::{ApiState, Req, Resp, body_value, json_response, selectors};
use super::status::{ApiError, success_deleted};
use super::store::{DeleteOptions, Deleted, Part, Propagation, timestamp};
use super::table;
use super::validate;
use super::{subresources, watch};

pub async fn resource(state: &Arc<ApiState>, t: Target, r: Req) -> Result<Resp, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    let rt = t.rt.clone();
    let sub = t.subresource.as_deref();
    let writes = !matches!(r.method, Method::GET | Method::HEAD);
    if writes && rt.read_only {
        return Err(ApiError::method_not_supported(&rt, r.method.as_str()));
    }
    if rt.group == super::metrics_api::GROUP && !rt.from_crd {
        return super::metrics_api::resource(state, &t, &r);
    }
    match (sub, &r.method, t.name.as_deref()) {
        (Some("eviction"), &Method::POST, Some(name)) => {
            subresources::evict(state, &rt, &ns, name, &r).await
        }
        (Some("binding"), &Method::POST, Some(name)) => {
            subresources::bind(state, &rt, &ns, name, &r)
        }
        (Some("log"), &Method::GET, Some(name)) => {
            super::logs::logs(state, &rt, &ns, name, &r).await
        }
        (Some("proxy"), _, Some(name)) => {
            subresources::proxy(state, &rt, &ns, name, &t.rest, &r).await
        }
        (Some("scale"), _, Some(name)) => subresources::scale(state, &rt, &ns, name, &r),
        (None, &Method::GET, None) if r.query.flag("watch") => {
            watch::watch(state, &rt, t.namespace.as_deref(), &r)
        }
        (None, &Method::GET, None) => list(state, &rt, t.namespace.as_deref(), &r),
        (None | Some("status"), &Method::GET, Some(name)) => get(state, &rt, &ns, name, &r),
        (None, &Method::POST, None) => create(state, &rt, &ns, &r),
        (None | Some("status") | Some("finalize"), &Method::PUT, Some(name)) => {
            update(state, &rt, &ns, name, part(sub), &r)
        }
        (None | Some("status"), &Method::PATCH, Some(name)) => {
            patch(state, &rt, &ns, name, part(sub), &r)
        }
        (None, &Method::DELETE, Some(name)) => delete(state, &rt, &ns, name, &r),
        (None, &Method::DELETE, None) => delete_collection(state, &rt, t.namespace.as_deref(), &r),
        _ => Err(ApiError::method_not_supported(&rt, r.method.as_str())),
    }
}

fn part(sub: Option<&str>) -> Part {
    if sub == Some("status") {
        Part::Status
    } else {
        Part::Main
    }
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// The field manager of a write: the query parameter, else the client's name from its
/// User-Agent, as kube-apiserver derives it.
fn manager(r: &Req) -> String {
    match r.query.get("fieldManager") {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => r
            .user_agent
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown")
            .to_string(),
    }
}

/// Checks that a body object is of the type addressed, and fills apiVersion and kind.
fn typed_body(rt: &ResourceType, ns: &str, mut obj: Value) -> Result<Value, ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    let api_version = rt.api_version();
    match obj["apiVersion"].as_str() {
        Some(v) if v != api_version => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
        _ => obj["apiVersion"] = json!(api_version),
    }
    match obj["kind"].as_str() {
        Some(k) if k != rt.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )));
        }
        _ => obj["kind"] = json!(rt.kind),
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    if rt.namespaced
        && let Some(body_ns) = obj["metadata"]["namespace"].as_str()
        && !body_ns.is_empty()
        && body_ns != ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(obj)
}

/// The body of a write to the object `name`: typed, named as the URL names it, and free of
/// unknown fields when the request is strict.
fn named_body(rt: &ResourceType, ns: &str, name: &str, r: &Req) -> Result<Value, ApiError> {
    let obj = typed_body(rt, ns, body_value(r)?)?;
    let body_name = name_of(&obj);
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    check_unknown(rt, &obj, r)?;
    Ok(obj)
}

/// `fieldValidation`: Strict refuses unknown fields (400), Warn lets them pass.
fn check_unknown(rt: &ResourceType, obj: &Value, r: &Req) -> Result<(), ApiError> {
    if r.query.get("fieldValidation") != Some("Strict") {
        return Ok(());
    }
    let unknown = validate::unknown_fields(rt, obj);
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(validate::strict_message(
            rt, &unknown,
        )))
    }
}

fn invalid(rt: &ResourceType, name: &str, causes: Vec<validate::Cause>) -> ApiError {
    let message = validate::invalid_message(rt, name, &causes);
    ApiError::invalid(
        rt,
        name,
        message,
        serde_json::to_value(&causes).unwrap_or(json!([])),
    )
}

/// The update rules for `new` replacing `old`.
fn check_update(rt: &ResourceType, name: &str, old: &Value, new: &Value) -> Result<(), ApiError> {
    let causes = validate::validate_update(rt, old, new);
    if causes.is_empty() {
        Ok(())
    } else {
        Err(invalid(rt, name, causes))
    }
}

/// A non-apply write's new object: checked, and its changed fields owned by `mgr`.
fn checked_update(
    rt: &ResourceType,
    name: &str,
    old: &Value,
    mut new: Value,
    mgr: &str,
    at: &str,
) -> Result<Value, ApiError> {
    defaults::on_write(rt, &mut new);
    check_update(rt, name, old, &new)?;
    apply::record_update(Some(old), &mut new, mgr, at);
    Ok(new)
}

fn name_of(obj: &Value) -> String {
    obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn get(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    r: &Req,
) -> Result<Resp, ApiError> {
    let obj = state.store.get(rt, ns, name)?;
    if table::wants_table(&r.accept) {
        let meta = json!({"resourceVersion": obj["metadata"]["resourceVersion"]});
        let t = table::to_table(
            rt,
            std::slice::from_ref(&*obj),
            meta,
            now(),
            include(r),
            table::table_version(&r.accept),
        );
        return Ok(json_response(200, &t));
    }
    Ok(json_response(200, &*obj))
}

fn include(r: &Req) -> table::IncludeObject {
    table::IncludeObject::from_query(r.query.get("includeObject"))
}

fn list(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: Option<&str>,
    r: &Req,
) -> Result<Resp, ApiError> {
    let (labels, fields) = selectors(r)?;
    let limit = r.query.u64("limit").map(|l| l as usize);
    let page = state
        .store
        .list(rt, ns, &labels, &fields, limit, r.query.get("continue"))?;
    let mut meta = json!({"resourceVersion": page.rv.to_string()});
    if let Some(c) = &page.continue_token {
        meta["continue"] = json!(c);
    }
    if let Some(n) = page.remaining {
        meta["remainingItemCount"] = json!(n);
    }
    if table::wants_table(&r.accept) {
        let t = table::to_table(
            rt,
            &page.items,
            meta,
            now(),
            include(r),
            table::table_version(&r.accept),
        );
        return Ok(json_response(200, &t));
    }
    let items: Vec<&Value> = page.items.iter().map(|o| &**o).collect();
    Ok(json_response(
        200,
        &json!({"kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": meta, "items": items}),
    ))
}

fn create(state: &Arc<ApiState>, rt: &ResourceType, ns: &str, r: &Req) -> Result<Resp, ApiError> {
    let obj = typed_body(rt, ns, body_value(r)?)?;
    check_unknown(rt, &obj, r)?;
    let mgr = manager(r);
    let at = timestamp(now());
    let schema = crd_schema(state, rt);
    admit_host_path(state, rt, &obj)?;
    let writer = escalation::writer(state, &r.who, rt, ns, &obj);
    let created = state.store.create(rt, ns, obj, r.query.dry_run(), |o| {
        let mut o = o.clone();
        defaults::on_create(rt, &mut o);
        escalation::check(&writer, rt, None, &mut o)?;
        check_ranges(rt, schema.as_ref(), &name_of(&o), &o)?;
        let causes = validate::validate_create(rt, &o);
        if !causes.is_empty() {
            return Err(invalid(rt, &name_of(&o), causes));
        }
        apply::record_update(None, &mut o, &mgr, &at);
        Ok(o)
    })?;
    Ok(json_response(201, &escalation::answer(&writer, created)))
}

fn update(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    part: Part,
    r: &Req,
) -> Result<Resp, ApiError> {
    let obj = named_body(rt, ns, name, r)?;
    let mgr = manager(r);
    let at = timestamp(now());
    let schema = crd_schema(state, rt);
    check_ranges(rt, schema.as_ref(), name, &obj)?;
    let writer = escalation::writer(state, &r.who, rt, ns, &obj);
    let updated = state
        .store
        .update(rt, ns, name, part, r.query.dry_run(), |old| {
            let mut new = obj.clone();
            new["metadata"]["name"] = json!(name);
            let mut new = checked_update(rt, name, old, new, &mgr, &at)?;
            escalation::check(&writer, rt, Some(old), &mut new)?;
            Ok(new)
        })?;
    Ok(json_response(200, &escalation::answer(&writer, updated)))
}

fn patch_error(e: PatchError) -> ApiError {
    match e {
        PatchError::BadRequest(m) => ApiError::bad_request(m),
        PatchError::Unprocessable(m) => ApiError::new(422, "Invalid", m, None),
        PatchError::TooLarge(m) => ApiError::new(413, "RequestEntityTooLarge", m, None),
    }
}

/// How often a patch is computed again when its object changed while it was computed.
const PATCH_ATTEMPTS: usize = 8;

fn patch(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    part: Part,
    r: &Req,
) -> Result<Resp, ApiError> {
    let ct = r
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let force = r.query.get("force");
    if ct == "application/apply-patch+yaml" {
        return server_side_apply(state, rt, ns, name, part, r);
    }
    if force.is_some() {
        return Err(ApiError::new(
            422,
            "Invalid",
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
            None,
        ));
    }
    let patch_doc = serde_json::from_slice::<Value>(&r.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let kind = match ct.as_str() {
        "application/merge-patch+json" => 0,
        "application/strategic-merge-patch+json" if !rt.builtin => {
            return Err(ApiError::unsupported_media_type(&ct));
        }
        "application/strategic-merge-patch+json" => 1,
        "application/json-patch+json" => 2,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    let mgr = manager(r);
    let at = timestamp(now());
    let strict = r.query.get("fieldValidation") == Some("Strict");
    let schema = crd_schema(state, rt);
    let limits = patch::PatchLimits {
        max_depth: bounds::MAX_DEPTH,
        max_added_bytes: 2 * bounds::MAX_OBJECT_BYTES,
    };
    // The patch is computed outside the store's lock, from the object as it is now; it is
    // written only if the object is still that version, else computed again.
    for _ in 0..PATCH_ATTEMPTS {
        let base = state.store.get(rt, ns, name)?;
        let new = match kind {
            0 => patch::merge_patch(&base, &patch_doc),
            1 => patch::strategic_merge_patch(&base, &patch_doc).map_err(patch_error)?,
            _ => patch::json_patch_bounded(&base, &patch_doc, &limits).map_err(patch_error)?,
        };
        bounds::check(&new)?;
        if strict {
            let unknown = validate::unknown_fields(rt, &new);
            if !unknown.is_empty() {
                return Err(ApiError::bad_request(validate::strict_message(
                    rt, &unknown,
                )));
            }
        }
        check_ranges(rt, schema.as_ref(), name, &new)?;
        let writer = escalation::writer(state, &r.who, rt, ns, &new);
        let base_rv = base["metadata"]["resourceVersion"].clone();
        let stale = std::cell::Cell::new(false);
        let result = state
            .store
            .update(rt, ns, name, part, r.query.dry_run(), |old| {
                if old["metadata"]["resourceVersion"] != base_rv {
                    stale.set(true);
                    return Err(ApiError::conflict(rt, name));
                }
                let mut new = checked_update(rt, name, old, new, &mgr, &at)?;
                escalation::check(&writer, rt, Some(old), &mut new)?;
                Ok(new)
            });
        if stale.get() {
            continue;
        }
        return Ok(json_response(200, &escalation::answer(&writer, result?)));
    }
    Err(ApiError::conflict(rt, name))
}

/// A pod with a `hostPath` volume is refused (403, as PodSecurity's baseline level refuses it)
/// unless the sim was started with `--allow-host-path`: a pod's volumes stay inside the state
/// directory.
fn admit_host_path(state: &ApiState, rt: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    if state.allow_host_path || !(rt.group.is_empty() && rt.kind == "Pod") {
        return Ok(());
    }
    let host: Vec<&str> = obj["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["hostPath"].is_object())
        .map(|v| v["name"].as_str().unwrap_or_default())
        .collect();
    if host.is_empty() {
        return Ok(());
    }
    Err(ApiError::forbidden(
        rt,
        &name_of(obj),
        &format!(
            "hostPath volumes ({}) are refused by this cluster; start `fleetctl sim` with --allow-host-path to allow them",
            host.iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// The `openAPIV3Schema` of a custom resource's version, from its CustomResourceDefinition
/// (built-in kinds use the served schemas). Read before a write takes the store's lock.
fn crd_schema(state: &Arc<ApiState>, rt: &ResourceType) -> Option<Value> {
    if rt.builtin && !rt.from_crd {
        return None;
    }
    let reg = state.store.registry();
    let crds = reg.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")?;
    let crd = state
        .store
        .get(crds, "", &format!("{}.{}", rt.plural, rt.group))
        .ok()?;
    crd["spec"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == rt.version.as_str())
        .map(|v| v["schema"]["openAPIV3Schema"].clone())
}

/// Every integer field fits its type (int32, int64), as typed decoding needs: 422 otherwise.
fn check_ranges(
    rt: &ResourceType,
    schema: Option<&Value>,
    name: &str,
    obj: &Value,
) -> Result<(), ApiError> {
    let bad = openapi::integer_ranges(rt, schema, obj);
    if bad.is_empty() {
        return Ok(());
    }
    let causes = bad
        .into_iter()
        .map(|b| validate::Cause {
            reason: "FieldValueInvalid".into(),
            message: format!("Invalid value: {}: {}", b.value, b.detail),
            field: b.field,
        })
        .collect();
    Err(invalid(rt, name, causes))
}

fn server_side_apply(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    part: Part,
    r: &Req,
) -> Result<Resp, ApiError> {
    let mgr = match r.query.get("fieldManager") {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => {
            return Err(ApiError::new(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                Some(
                    json!({"kind": "PatchOptions", "group": "meta.k8s.io", "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]}),
                ),
            ));
        }
    };
    let force = r.query.flag("force");
    let applied = named_body(rt, ns, name, r)?;
    let schema = crd_schema(state, rt);
    check_ranges(rt, schema.as_ref(), name, &applied)?;
    let writer = escalation::writer(state, &r.who, rt, ns, &applied);
    let at = timestamp(now());
    let conflict = |cs: Vec<apply::Conflict>| {
        let causes: Vec<Value> = cs
            .iter()
            .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{}\"", c.manager), "field": c.field}))
            .collect();
        ApiError::new(
            409,
            "Conflict",
            apply::conflict_message(&cs),
            Some(json!({"causes": causes})),
        )
    };
    if part == Part::Status {
        let updated = state
            .store
            .update(rt, ns, name, Part::Status, r.query.dry_run(), |old| {
                apply::apply(Some(old), &applied, &mgr, force, &at).map_err(conflict)
            })?;
        return Ok(json_response(200, &updated));
    }
    let (obj, created) = state.store.upsert(
        rt,
        ns,
        name,
        r.query.dry_run(),
        |live| {
            let mut new = apply::apply(live, &applied, &mgr, force, &at).map_err(conflict)?;
            bounds::check(&new)?;
            new["metadata"]["name"] = json!(name);
            if let Some(old) = live {
                defaults::on_write(rt, &mut new);
                check_update(rt, name, old, &new)?;
                escalation::check(&writer, rt, Some(old), &mut new)?;
            }
            Ok(new)
        },
        // A new object: the server's defaults, then the create rules, with uid and namespace set.
        |o| {
            admit_host_path(state, rt, o)?;
            let mut o = o.clone();
            defaults::on_create(rt, &mut o);
            escalation::check(&writer, rt, None, &mut o)?;
            let causes = validate::validate_create(rt, &o);
            if !causes.is_empty() {
                return Err(invalid(rt, name, causes));
            }
            Ok(o)
        },
    )?;
    Ok(json_response(
        if created { 201 } else { 200 },
        &escalation::answer(&writer, obj),
    ))
}

fn delete_options(r: &Req) -> Result<DeleteOptions, ApiError> {
    let mut o = DeleteOptions {
        grace_period: r
            .query
            .get("gracePeriodSeconds")
            .and_then(|v| v.parse().ok()),
        dry_run: r.query.dry_run(),
        propagation: r
            .query
            .get("propagationPolicy")
            .and_then(Propagation::parse),
        ..Default::default()
    };
    if !r.body.is_empty() {
        let b: Value = serde_json::from_slice(&r.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?;
        if let Some(g) = b["gracePeriodSeconds"].as_i64() {
            o.grace_period = Some(g);
        }
        if b["dryRun"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == "All"))
        {
            o.dry_run = true;
        }
        if let Some(p) = b["propagationPolicy"].as_str() {
            o.propagation = Some(Propagation::parse(p).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "propagationPolicy: Unsupported value: \"{p}\": supported values: \"Orphan\", \"Background\", \"Foreground\""
                ))
            })?);
        } else if let Some(orphan) = b["orphanDependents"].as_bool() {
            o.propagation = Some(if orphan {
                Propagation::Orphan
            } else {
                Propagation::Background
            });
        }
        o.uid = b["preconditions"]["uid"].as_str().map(String::from);
        o.resource_version = b["preconditions"]["resourceVersion"]
            .as_str()
            .map(String::from);
    }
    Ok(o)
}

fn delete(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    r: &Req,
) -> Result<Resp, ApiError> {
    let opts = delete_options(r)?;
    match state.store.delete(rt, ns, name, &opts)? {
        Deleted::Pending(obj) => Ok(json_response(200, &obj)),
        Deleted::Gone(obj) => {
            let uid = obj["metadata"]["uid"].as_str().unwrap_or_default();
            Ok(json_response(200, &success_deleted(rt, name, uid)))
        }
    }
}

fn delete_collection(
    state: &Arc<ApiState>,
    rt: &ResourceType,
    ns: Option<&str>,
    r: &Req,
) -> Result<Resp, ApiError> {
    let (labels, fields) = selectors(r)?;
    let opts = delete_options(r)?;
    let page = state.store.list(rt, ns, &labels, &fields, None, None)?;
    let mut items = vec![];
    for o in page.items {
        let n = o["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        if let Ok(Deleted::Gone(v) | Deleted::Pending(v)) = state.store.delete(rt, n, name, &opts) {
            items.push(v);
        }
    }
    Ok(json_response(
        200,
        &json!({"kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": {"resourceVersion": state.store.current_rv().to_string()}, "items": items}),
    ))
}
