//! The three non-apply patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
//! Kubernetes' strategic merge patch for built-in kinds, plus the merge-key table that
//! server-side apply (`apply.rs`) shares.
//!
//! All functions are pure: they take the stored object and the parsed patch body and return the
//! patched object.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The patch document is malformed (answered 400 BadRequest by the caller).
    #[error("{0}")]
    BadRequest(String),
    /// The patch cannot be applied to this object, e.g. a JSON-patch `test` failed or a path is
    /// missing (answered 422).
    #[error("{0}")]
    Unprocessable(String),
    /// The patch would make the object larger than the server keeps (answered 413).
    #[error("{0}")]
    TooLarge(String),
}

use PatchError::{BadRequest, TooLarge, Unprocessable};

/// The most operations one JSON patch may hold (kube-apiserver's `maxJSONPatchOperations`).
pub const MAX_JSON_PATCH_OPS: usize = 10_000;

/// What a JSON patch may build: no value nested deeper than the server keeps, and at most this
/// many bytes of values added or copied in all (so `copy` cannot double an object until memory
/// runs out, nor remove-and-copy loops burn the CPU).
pub struct PatchLimits {
    pub max_depth: usize,
    pub max_added_bytes: usize,
}

/// How the items of a list field are identified when two versions of the list are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeKey {
    /// Items are maps identified by the value of this field (`containers` by `name`).
    Field(&'static str),
    /// Items are scalars merged as a set (`finalizers`).
    PrimitiveSet,
}

/// The merge key of a list field, by field name (path-independent). `sample_item` is any item
/// of the list (or `Null` for an empty list); it only disambiguates `ports` (container ports are
/// keyed by `containerPort`, Service ports by `port`). `None`: the list is replaced wholesale by
/// a strategic merge patch and owned atomically by server-side apply.
pub fn merge_key(field: &str, sample_item: &Value) -> Option<MergeKey> {
    let key = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "ports" => {
            if sample_item.get("containerPort").is_some() {
                "containerPort"
            } else {
                "port"
            }
        }
        "finalizers" => return Some(MergeKey::PrimitiveSet),
        _ => return None,
    };
    Some(MergeKey::Field(key))
}

// ---------------------------------------------------------------------------------------------
// RFC 7386
// ---------------------------------------------------------------------------------------------

/// JSON merge patch (RFC 7386): objects merge recursively, `null` removes a key, anything else
/// (arrays included) replaces the target value.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    let Value::Object(patch_map) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    for (key, value) in patch_map {
        if value.is_null() {
            out.remove(key);
        } else {
            let merged = merge_patch(out.get(key).unwrap_or(&Value::Null), value);
            out.insert(key.clone(), merged);
        }
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------------
// RFC 6902
// ---------------------------------------------------------------------------------------------

/// JSON patch (RFC 6902): `add`, `remove`, `replace`, `move`, `copy` and `test`, applied in
/// order to a copy of `target`. A malformed document is `BadRequest`; an operation that does not
/// fit the object (missing path, failed test, index out of range) is `Unprocessable`.
pub fn json_patch(target: &Value, ops: &Value) -> Result<Value, PatchError> {
    json_patch_bounded(
        target,
        ops,
        &PatchLimits {
            max_depth: usize::MAX,
            max_added_bytes: usize::MAX,
        },
    )
}

/// [`json_patch`] within `limits`: an operation that would nest deeper is `Unprocessable`, more
/// than [`MAX_JSON_PATCH_OPS`] operations or more bytes added than allowed is `TooLarge`.
pub fn json_patch_bounded(
    target: &Value,
    ops: &Value,
    limits: &PatchLimits,
) -> Result<Value, PatchError> {
    let Value::Array(ops) = ops else {
        return Err(BadRequest(
            "json patch must be a JSON array of operations".to_string(),
        ));
    };
    if ops.len() > MAX_JSON_PATCH_OPS {
        return Err(TooLarge(format!(
            "The allowed count of operations in a JSON patch is {MAX_JSON_PATCH_OPS}, but found {}",
            ops.len()
        )));
    }
    let mut added = 0usize;
    // Each value an operation puts into the document: within the depth, and counted.
    let mut admit = |path: &[String], v: &Value| -> Result<(), PatchError> {
        let room = limits.max_depth.saturating_sub(path.len());
        if super::bounds::depth_within(v, room) > room {
            return Err(Unprocessable(format!(
                "the patched object would be nested more than {} levels deep",
                limits.max_depth
            )));
        }
        let left = limits.max_added_bytes.saturating_sub(added);
        match super::bounds::json_len_within(v, left) {
            Some(n) => {
                added += n;
                Ok(())
            }
            None => Err(TooLarge(format!(
                "the JSON patch adds more than {} bytes to the object",
                limits.max_added_bytes
            ))),
        }
    };
    let mut doc = target.clone();
    for op in ops {
        let Value::Object(op) = op else {
            return Err(BadRequest(format!(
                "json patch operation must be an object, got {op}"
            )));
        };
        let name = match op.get("op") {
            Some(Value::String(s)) => s.as_str(),
            _ => return Err(BadRequest("json patch operation has no \"op\"".to_string())),
        };
        let path_str = match op.get("path") {
            Some(Value::String(s)) => s.as_str(),
            _ => {
                return Err(BadRequest(format!(
                    "json patch operation {name:?} has no \"path\""
                )));
            }
        };
        let path = parse_pointer(path_str)?;
        let value = || {
            op.get("value").cloned().ok_or_else(|| {
                BadRequest(format!(
                    "json patch operation {name:?} at {path_str:?} has no \"value\""
                ))
            })
        };
        let from = || -> Result<(Vec<String>, &str), PatchError> {
            match op.get("from") {
                Some(Value::String(s)) => Ok((parse_pointer(s)?, s.as_str())),
                _ => Err(BadRequest(format!(
                    "json patch operation {name:?} has no \"from\""
                ))),
            }
        };
        match name {
            "add" => {
                let v = value()?;
                admit(&path, &v)?;
                pointer_add(&mut doc, &path, path_str, v)?
            }
            "remove" => {
                pointer_remove(&mut doc, &path, path_str)?;
            }
            "replace" => {
                let v = value()?;
                admit(&path, &v)?;
                let slot = pointer_get_mut(&mut doc, &path).ok_or_else(|| missing(path_str))?;
                *slot = v;
            }
            "move" => {
                let (from_path, from_str) = from()?;
                if from_path != path && path.starts_with(&from_path) {
                    return Err(Unprocessable(format!(
                        "cannot move {from_str:?} into its own child {path_str:?}"
                    )));
                }
                let v = pointer_remove(&mut doc, &from_path, from_str)?;
                if path.len() > from_path.len() {
                    admit(&path, &v)?;
                }
                pointer_add(&mut doc, &path, path_str, v)?;
            }
            "copy" => {
                let (from_path, from_str) = from()?;
                let from_value = pointer_get(&doc, &from_path).ok_or_else(|| missing(from_str))?;
                admit(&path, from_value)?;
                let v = from_value.clone();
                pointer_add(&mut doc, &path, path_str, v)?;
            }
            "test" => {
                let expected = value()?;
                let actual = pointer_get(&doc, &path).ok_or_else(|| missing(path_str))?;
                if !json_equal(actual, &expected) {
                    return Err(Unprocessable(format!(
                        "testing value {path_str} failed: test failed"
                    )));
                }
            }
            other => return Err(BadRequest(format!("Unexpected kind: {other}"))),
        }
    }
    Ok(doc)
}

fn missing(path: &str) -> PatchError {
    Unprocessable(format!("doc is missing path: {path:?}: missing value"))
}

/// RFC 6901 pointer → reference tokens (`~1` → `/`, `~0` → `~`).
fn parse_pointer(pointer: &str) -> Result<Vec<String>, PatchError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(BadRequest(format!(
            "invalid JSON pointer {pointer:?}: must be empty or start with '/'"
        )));
    };
    rest.split('/')
        .map(|token| {
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => {
                            return Err(BadRequest(format!(
                                "invalid JSON pointer {pointer:?}: bad escape"
                            )));
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            Ok(out)
        })
        .collect()
}

/// An array index token: digits without leading zeros.
fn array_index(token: &str) -> Option<usize> {
    if token.is_empty()
        || !token.bytes().all(|b| b.is_ascii_digit())
        || (token.len() > 1 && token.starts_with('0'))
    {
        return None;
    }
    token.parse().ok()
}

fn pointer_get<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |node, token| match node {
        Value::Object(m) => m.get(token),
        Value::Array(a) => a.get(array_index(token)?),
        _ => None,
    })
}

fn pointer_get_mut<'a>(doc: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(doc, |node, token| match node {
        Value::Object(m) => m.get_mut(token),
        Value::Array(a) => a.get_mut(array_index(token)?),
        _ => None,
    })
}

fn pointer_add(
    doc: &mut Value,
    path: &[String],
    path_str: &str,
    value: Value,
) -> Result<(), PatchError> {
    let Some((last, parent_path)) = path.split_last() else {
        *doc = value;
        return Ok(());
    };
    let parent = pointer_get_mut(doc, parent_path).ok_or_else(|| missing(path_str))?;
    match parent {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
                return Ok(());
            }
            match array_index(last) {
                Some(i) if i <= a.len() => {
                    a.insert(i, value);
                    Ok(())
                }
                _ => Err(Unprocessable(format!(
                    "unable to add {path_str:?}: index out of bounds"
                ))),
            }
        }
        _ => Err(missing(path_str)),
    }
}

fn pointer_remove(doc: &mut Value, path: &[String], path_str: &str) -> Result<Value, PatchError> {
    let Some((last, parent_path)) = path.split_last() else {
        return Err(Unprocessable(
            "unable to remove the whole document".to_string(),
        ));
    };
    let parent = pointer_get_mut(doc, parent_path).ok_or_else(|| missing(path_str))?;
    match parent {
        Value::Object(m) => m.remove(last).ok_or_else(|| missing(path_str)),
        Value::Array(a) => match array_index(last) {
            Some(i) if i < a.len() => Ok(a.remove(i)),
            _ => Err(Unprocessable(format!(
                "unable to remove {path_str:?}: index out of bounds"
            ))),
        },
        _ => Err(missing(path_str)),
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || match (x.as_f64(), y.as_f64()) {
                    (Some(p), Some(q)) => p == q,
                    _ => false,
                }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch
// ---------------------------------------------------------------------------------------------

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Kubernetes' strategic merge patch for built-in kinds. Maps merge recursively and `null`
/// deletes; lists with a merge key (see [`merge_key`]) merge item by item; `finalizers` merge as
/// a set; other lists are replaced. Supports `$patch` (`replace`, `delete`, `merge`),
/// `$retainKeys`, `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>`; directive
/// keys never reach the result.
pub fn strategic_merge_patch(target: &Value, patch: &Value) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(BadRequest(format!(
            "strategic merge patch must be a JSON object, got {patch}"
        )));
    };
    let original = match target {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    smp_map(original, patch).map(Value::Object)
}

fn smp_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        match directive.as_str() {
            Some("replace") => {
                let mut rest = patch.clone();
                rest.remove(DIRECTIVE);
                return smp_map(Map::new(), &rest);
            }
            Some("delete") => return Ok(Map::new()),
            Some("merge") => {}
            _ => {
                return Err(BadRequest(format!(
                    "Unknown patch type: {directive} in map: {}",
                    Value::Object(patch.clone())
                )));
            }
        }
    }

    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let keys = string_list(retain).ok_or_else(|| {
            BadRequest(format!(
                "invalid patch: $retainKeys must be a list of strings, got {retain}"
            ))
        })?;
        for key in patch.keys() {
            if !key.starts_with('$') && !keys.contains(&key.as_str()) {
                return Err(Unprocessable(format!(
                    "The patch content doesn't match $retainKeys list: {key:?} is not in {retain}"
                )));
            }
        }
        original.retain(|k, _| keys.contains(&k.as_str()));
    }

    let mut orders: Vec<(&str, &Vec<Value>)> = Vec::new();
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(SET_ELEMENT_ORDER) {
            let Value::Array(order) = value else {
                return Err(BadRequest(format!(
                    "invalid patch: {key} must be a list, got {value}"
                )));
            };
            orders.push((field, order));
        }
    }
    let order_of = |field: &str| orders.iter().find(|(f, _)| *f == field).map(|(_, o)| *o);

    for (key, value) in patch {
        let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) else {
            continue;
        };
        let Value::Array(doomed) = value else {
            return Err(BadRequest(format!(
                "invalid patch: {key} must be a list, got {value}"
            )));
        };
        if let Some(Value::Array(items)) = original.get_mut(field) {
            items.retain(|item| !doomed.contains(item));
            if items.is_empty() {
                original.remove(field);
            }
        }
    }

    for (key, value) in patch {
        if key == DIRECTIVE
            || key == RETAIN_KEYS
            || key.starts_with(SET_ELEMENT_ORDER)
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
        {
            continue;
        }
        if value.is_null() {
            original.remove(key);
            continue;
        }
        let merged = match (original.remove(key), value) {
            (Some(Value::Object(o)), Value::Object(p)) => Value::Object(smp_map(o, p)?),
            (_, Value::Object(p)) => Value::Object(smp_map(Map::new(), p)?),
            (Some(Value::Array(o)), Value::Array(p)) => {
                Value::Array(smp_list(key, o, p, order_of(key))?)
            }
            (_, Value::Array(p)) => Value::Array(smp_list(key, Vec::new(), p, order_of(key))?),
            (_, scalar) => scalar.clone(),
        };
        original.insert(key.clone(), merged);
    }

    // `$setElementOrder` for a list the patch does not otherwise touch: reorder only.
    for (field, order) in &orders {
        if patch.contains_key(*field) {
            continue;
        }
        if let Some(Value::Array(items)) = original.remove(*field) {
            let reordered = smp_list(field, items, &[], Some(order))?;
            original.insert(field.to_string(), Value::Array(reordered));
        }
    }
    Ok(original)
}

fn string_list(v: &Value) -> Option<Vec<&str>> {
    v.as_array()?.iter().map(Value::as_str).collect()
}

/// A patch value that lands where the original has nothing: merged into an empty value so that
/// nulls and directives are dropped.
fn smp_fresh(field: &str, value: &Value) -> Result<Value, PatchError> {
    match value {
        Value::Object(p) => Ok(Value::Object(smp_map(Map::new(), p)?)),
        Value::Array(p) => Ok(Value::Array(smp_list(field, Vec::new(), p, None)?)),
        other => Ok(other.clone()),
    }
}

fn smp_list(
    field: &str,
    mut original: Vec<Value>,
    patch: &[Value],
    order: Option<&Vec<Value>>,
) -> Result<Vec<Value>, PatchError> {
    let sample = patch.first().or(original.first()).unwrap_or(&Value::Null);
    match merge_key(field, sample) {
        None => patch
            .iter()
            .map(|item| match item {
                Value::Object(m) => Ok(Value::Object(smp_map(Map::new(), m)?)),
                other => Ok(other.clone()),
            })
            .collect(),
        Some(MergeKey::PrimitiveSet) => {
            if patch
                .iter()
                .chain(&original)
                .any(|v| v.is_object() || v.is_array())
            {
                // Not a list of scalars after all: replace, like a list without strategy.
                return patch.iter().map(|v| smp_fresh(field, v)).collect();
            }
            let server_order = original.clone();
            for item in patch {
                if !original.contains(item) {
                    original.push(item.clone());
                }
            }
            Ok(match order {
                Some(order) => {
                    apply_element_order(original, order, &server_order, &|v| Some(v.clone()))
                }
                None => original,
            })
        }
        Some(MergeKey::Field(key)) => {
            let server_order = original.clone();
            let mut replace = false;
            let mut items: Vec<Map<String, Value>> = Vec::new();
            for item in patch {
                let Value::Object(item) = item else {
                    return Err(BadRequest(format!(
                        "invalid patch: list {field:?} has merge key {key:?} but item {item} is not a map"
                    )));
                };
                match item.get(DIRECTIVE) {
                    None => items.push(item.clone()),
                    Some(Value::String(d)) if d == "merge" => {
                        let mut item = item.clone();
                        item.remove(DIRECTIVE);
                        items.push(item);
                    }
                    Some(Value::String(d)) if d == "replace" => replace = true,
                    Some(Value::String(d)) if d == "delete" => {
                        let Some(id) = item.get(key) else {
                            return Err(Unprocessable(no_merge_key(item, key)));
                        };
                        original.retain(|o| o.get(key) != Some(id));
                    }
                    Some(d) => {
                        return Err(BadRequest(format!(
                            "Unknown patch type: {d} in map: {}",
                            Value::Object(item.clone())
                        )));
                    }
                }
            }
            if replace {
                original.clear();
            }
            for item in items {
                let Some(id) = item.get(key).cloned() else {
                    return Err(Unprocessable(no_merge_key(&item, key)));
                };
                match original.iter().position(|o| o.get(key) == Some(&id)) {
                    Some(pos) => {
                        let base = match std::mem::take(&mut original[pos]) {
                            Value::Object(m) => m,
                            _ => Map::new(),
                        };
                        original[pos] = Value::Object(smp_map(base, &item)?);
                    }
                    None => original.push(Value::Object(smp_map(Map::new(), &item)?)),
                }
            }
            Ok(match order {
                Some(order) => {
                    apply_element_order(original, order, &server_order, &|v| v.get(key).cloned())
                }
                None => original,
            })
        }
    }
}

fn no_merge_key(item: &Map<String, Value>, key: &str) -> String {
    format!(
        "map: {} does not contain declared merge key: {key}",
        Value::Object(item.clone())
    )
}

/// `$setElementOrder`: the items named in `order` come in that order; items it does not name
/// (server-only items) keep their place relative to the original list, as Kubernetes'
/// `normalizeElementOrder`/`mergeSortedSlice` do.
fn apply_element_order(
    merged: Vec<Value>,
    order: &[Value],
    server_order: &[Value],
    id: &dyn Fn(&Value) -> Option<Value>,
) -> Vec<Value> {
    let order_ids: Vec<Option<Value>> = order
        .iter()
        .map(|o| {
            if o.is_object() {
                id(o)
            } else {
                Some(o.clone())
            }
        })
        .collect();
    let server_ids: Vec<Option<Value>> = server_order.iter().map(id).collect();
    let index_in = |ids: &[Option<Value>], v: &Value| {
        let vid = id(v);
        vid.as_ref()
            .and_then(|vid| ids.iter().position(|i| i.as_ref() == Some(vid)))
    };
    let (mut listed, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|v| index_in(&order_ids, v).is_some());
    listed.sort_by_key(|v| index_in(&order_ids, v));
    // Stable: items missing from the original list keep their merged order, at the end.
    server_only.sort_by_key(|v| index_in(&server_ids, v).unwrap_or(usize::MAX));

    let mut out = Vec::with_capacity(listed.len() + server_only.len());
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        listed.into_iter().peekable(),
    );
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.next()),
            (None, Some(_)) => out.extend(right.next()),
            (Some(l), Some(r)) => {
                let take_left = matches!(
                    (index_in(&server_ids, l), index_in(&server_ids, r)),
                    (Some(a), Some(b)) if a < b
                );
                if take_left {
                    out.extend(left.next());
                } else {
                    out.extend(right.next());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // ---- merge patch ----

    #[test]
    fn merge_patch_rfc7386_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, want) in cases {
            assert_eq!(merge_patch(&target, &patch), want, "{target} + {patch}");
        }
    }

    // ---- JSON patch ----

    #[test]
    fn json_patch_operations() {
        let doc = json!({"spec":{"replicas":1,"list":["a","b"]},"metadata":{"labels":{"a/b":"x","m~n":"y"}}});
        let ops = json!([
            {"op":"test","path":"/spec/replicas","value":1.0},
            {"op":"replace","path":"/spec/replicas","value":3},
            {"op":"add","path":"/spec/list/-","value":"c"},
            {"op":"add","path":"/spec/list/0","value":"z"},
            {"op":"remove","path":"/spec/list/1"},
            {"op":"copy","from":"/metadata/labels/a~1b","path":"/spec/copied"},
            {"op":"move","from":"/metadata/labels/m~0n","path":"/spec/moved"},
            {"op":"add","path":"/metadata/annotations","value":{"k":"v"}},
        ]);
        let out = json_patch(&doc, &ops).unwrap();
        assert_eq!(
            out,
            json!({
                "spec":{"replicas":3,"list":["z","b","c"],"copied":"x","moved":"y"},
                "metadata":{"labels":{"a/b":"x"},"annotations":{"k":"v"}}
            })
        );
        // add at "" replaces the whole document
        assert_eq!(
            json_patch(&doc, &json!([{"op":"add","path":"","value":{"x":1}}])).unwrap(),
            json!({"x":1})
        );
    }

    #[test]
    fn json_patch_errors() {
        let doc = json!({"spec":{"replicas":1,"list":["a"]}});
        let unprocessable = |ops: Value| {
            assert!(
                matches!(json_patch(&doc, &ops), Err(PatchError::Unprocessable(_))),
                "{ops}"
            )
        };
        let bad = |ops: Value| {
            assert!(
                matches!(json_patch(&doc, &ops), Err(PatchError::BadRequest(_))),
                "{ops}"
            )
        };
        unprocessable(json!([{"op":"test","path":"/spec/replicas","value":2}]));
        unprocessable(json!([{"op":"remove","path":"/spec/missing"}]));
        unprocessable(json!([{"op":"replace","path":"/spec/missing","value":1}]));
        unprocessable(json!([{"op":"add","path":"/nope/x","value":1}]));
        unprocessable(json!([{"op":"add","path":"/spec/list/5","value":1}]));
        unprocessable(json!([{"op":"add","path":"/spec/list/01","value":1}]));
        unprocessable(json!([{"op":"move","from":"/spec","path":"/spec/inner"}]));
        bad(json!({"op":"add"}));
        bad(json!([{"op":"frobnicate","path":"/x"}]));
        bad(json!([{"path":"/x"}]));
        bad(json!([{"op":"add","path":"x","value":1}]));
        bad(json!([{"op":"add","path":"/x"}]));
        bad(json!([{"op":"add","path":"/a~2b","value":1}]));
        // A failed op leaves no partial result: the input is untouched.
        assert_eq!(doc, json!({"spec":{"replicas":1,"list":["a"]}}));
    }

    // ---- strategic merge patch ----

    fn smp(target: Value, patch: Value) -> Value {
        strategic_merge_patch(&target, &patch).unwrap()
    }

    #[test]
    fn smp_maps_and_null() {
        assert_eq!(
            smp(
                json!({"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"replicas":1}}),
                json!({"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"replicas":2}})
            ),
            json!({"metadata":{"labels":{"b":"2","c":"3"}},"spec":{"replicas":2}})
        );
        assert!(matches!(
            strategic_merge_patch(&json!({}), &json!([1])),
            Err(PatchError::BadRequest(_))
        ));
    }

    #[test]
    fn smp_containers_merge_by_name() {
        let target = json!({"spec":{"containers":[
            {"name":"agent","image":"a:1","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]},
            {"name":"sidecar","image":"s:1"}
        ]}});
        let patch = json!({"spec":{"containers":[
            {"name":"agent","image":"a:2","env":[{"name":"Y","value":"3"},{"name":"Z","value":"4"}]},
            {"name":"new","image":"n:1","args":null}
        ]}});
        assert_eq!(
            smp(target, patch),
            json!({"spec":{"containers":[
                {"name":"agent","image":"a:2","env":[
                    {"name":"X","value":"1"},{"name":"Y","value":"3"},{"name":"Z","value":"4"}]},
                {"name":"sidecar","image":"s:1"},
                {"name":"new","image":"n:1"}
            ]}})
        );
    }

    #[test]
    fn smp_list_without_merge_key_is_replaced() {
        assert_eq!(
            smp(
                json!({"spec":{"containers":[{"name":"a","args":["x","y"]}],"tolerations":[{"key":"k"}]}}),
                json!({"spec":{"containers":[{"name":"a","args":["z"]}],"tolerations":[]}})
            ),
            json!({"spec":{"containers":[{"name":"a","args":["z"]}],"tolerations":[]}})
        );
    }

    #[test]
    fn smp_patch_directives_in_lists_and_maps() {
        let target = json!({"spec":{
            "containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}],
            "volumes":[{"name":"v1"},{"name":"v2"}],
            "nodeSelector":{"x":"1","y":"2"},
            "affinity":{"nodeAffinity":{"k":"v"}}
        }});
        let patch = json!({"spec":{
            "containers":[{"$patch":"delete","name":"a"}],
            "volumes":[{"name":"v3"},{"$patch":"replace"}],
            "nodeSelector":{"$patch":"replace","z":"3"},
            "affinity":{"$patch":"delete"}
        }});
        assert_eq!(
            smp(target, patch),
            json!({"spec":{
                "containers":[{"name":"b","image":"2"}],
                "volumes":[{"name":"v3"}],
                "nodeSelector":{"z":"3"},
                "affinity":{}
            }})
        );
        // `$patch: merge` is the default and is dropped.
        assert_eq!(
            smp(
                json!({"spec":{"containers":[{"name":"a","image":"1"}]}}),
                json!({"spec":{"containers":[{"$patch":"merge","name":"a","image":"2"}]}})
            ),
            json!({"spec":{"containers":[{"name":"a","image":"2"}]}})
        );
        assert!(matches!(
            strategic_merge_patch(
                &json!({}),
                &json!({"spec":{"containers":[{"$patch":"delete","image":"x"}]}})
            ),
            Err(PatchError::Unprocessable(_))
        ));
        assert!(matches!(
            strategic_merge_patch(&json!({}), &json!({"spec":{"$patch":"explode"}})),
            Err(PatchError::BadRequest(_))
        ));
        assert!(matches!(
            strategic_merge_patch(&json!({}), &json!({"spec":{"containers":[{"image":"x"}]}})),
            Err(PatchError::Unprocessable(_))
        ));
    }

    #[test]
    fn smp_directives_in_new_values_are_dropped() {
        assert_eq!(
            smp(
                json!({}),
                json!({"spec":{"template":{"$patch":"replace","spec":{
                    "containers":[{"name":"a","$patch":"merge","env":[{"$patch":"delete","name":"X"}]}],
                    "$setElementOrder/containers":[{"name":"a"}],
                    "gone":null
                }}}})
            ),
            json!({"spec":{"template":{"spec":{"containers":[{"name":"a","env":[]}]}}}})
        );
    }

    #[test]
    fn smp_job_controller_removes_finalizer() {
        let job = json!({"metadata":{"name":"j","finalizers":["batch.kubernetes.io/job-tracking","other"]}});
        let patch = json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["batch.kubernetes.io/job-tracking"]}});
        assert_eq!(
            smp(job, patch.clone()),
            json!({"metadata":{"name":"j","finalizers":["other"]}})
        );
        // Removing the last finalizer drops the (omitempty) field.
        let pod =
            json!({"metadata":{"name":"p","finalizers":["batch.kubernetes.io/job-tracking"]}});
        assert_eq!(smp(pod, patch.clone()), json!({"metadata":{"name":"p"}}));
        // Nothing to delete from: no-op, and the directive never appears.
        assert_eq!(
            smp(json!({"metadata":{"name":"p"}}), patch),
            json!({"metadata":{"name":"p"}})
        );
    }

    #[test]
    fn smp_finalizers_merge_as_set() {
        assert_eq!(
            smp(
                json!({"metadata":{"finalizers":["a","b"]}}),
                json!({"metadata":{"finalizers":["c","a","c"]}})
            ),
            json!({"metadata":{"finalizers":["a","b","c"]}})
        );
    }

    #[test]
    fn smp_retain_keys() {
        assert_eq!(
            smp(
                json!({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}),
                json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})
            ),
            json!({"spec":{"strategy":{"type":"Recreate"}}})
        );
        assert!(matches!(
            strategic_merge_patch(&json!({}), &json!({"spec":{"$retainKeys":["a"],"b":1}})),
            Err(PatchError::Unprocessable(_))
        ));
    }

    #[test]
    fn smp_set_element_order() {
        let target = json!({"spec":{"containers":[
            {"name":"a","image":"1"},{"name":"b","image":"2"},{"name":"c","image":"3"}
        ]}});
        let patch = json!({"spec":{
            "$setElementOrder/containers":[{"name":"c"},{"name":"d"},{"name":"a"},{"name":"b"}],
            "containers":[{"name":"d","image":"4"}]
        }});
        let out = smp(target.clone(), patch);
        let names: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["c", "d", "a", "b"]);
        assert!(out["spec"].get("$setElementOrder/containers").is_none());

        // Without it: target order kept, new items appended.
        let out = smp(
            target.clone(),
            json!({"spec":{"containers":[{"name":"d"},{"name":"a","image":"9"}]}}),
        );
        let names: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(out["spec"]["containers"][0]["image"], "9");

        // Order only, partial: server-only items keep their relative position.
        let out = smp(
            target,
            json!({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"}]}}),
        );
        let names: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["b", "c", "a"]);

        // Primitive lists.
        assert_eq!(
            smp(
                json!({"metadata":{"finalizers":["x","y"]}}),
                json!({"metadata":{"$setElementOrder/finalizers":["z","y","x"],"finalizers":["z"]}})
            ),
            json!({"metadata":{"finalizers":["z","y","x"]}})
        );
    }

    #[test]
    fn smp_conditions_by_type_and_ports() {
        assert_eq!(
            smp(
                json!({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Other","status":"True"}]}}),
                json!({"status":{"conditions":[{"type":"Ready","status":"True"}]}})
            ),
            json!({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Other","status":"True"}]}})
        );
        assert_eq!(
            smp(
                json!({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}}),
                json!({"spec":{"ports":[{"port":80,"targetPort":9090}]}})
            ),
            json!({"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}})
        );
        assert_eq!(
            merge_key("ports", &json!({"containerPort":80})),
            Some(MergeKey::Field("containerPort"))
        );
        assert_eq!(
            merge_key("ports", &json!({"port":80})),
            Some(MergeKey::Field("port"))
        );
        assert_eq!(
            merge_key("volumeMounts", &Value::Null),
            Some(MergeKey::Field("mountPath"))
        );
        assert_eq!(
            merge_key("finalizers", &Value::Null),
            Some(MergeKey::PrimitiveSet)
        );
        assert_eq!(merge_key("args", &Value::Null), None);
    }

    #[test]
    fn smp_type_mismatch_takes_patch() {
        assert_eq!(
            smp(
                json!({"a":"x","b":{"c":1}}),
                json!({"a":{"k":null,"j":1},"b":"s"})
            ),
            json!({"a":{"j":1},"b":"s"})
        );
    }

    #[test]
    fn bounded_json_patch_stops_doubling_and_deep_nesting() {
        let limits = PatchLimits {
            max_depth: 20,
            max_added_bytes: 10_000,
        };
        let doc = json!({"a": "x".repeat(100)});
        // Each copy doubles the object: the budget stops it long before memory does.
        let doubling: Vec<Value> = (0..40)
            .map(|i| json!({"op": "copy", "from": "", "path": format!("/c{i}")}))
            .collect();
        assert!(matches!(
            json_patch_bounded(&doc, &Value::Array(doubling), &limits),
            Err(PatchError::TooLarge(_))
        ));
        // Copying an object into its own child nests it one level deeper each time.
        let deeper: Vec<Value> = (0..40)
            .map(|_| json!({"op": "copy", "from": "", "path": "/a"}))
            .collect();
        assert!(matches!(
            json_patch_bounded(&doc, &Value::Array(deeper), &limits),
            Err(PatchError::Unprocessable(_))
        ));
        let too_many = Value::Array(vec![
            json!({"op": "test", "path": "", "value": doc});
            MAX_JSON_PATCH_OPS + 1
        ]);
        assert!(matches!(
            json_patch_bounded(&doc, &too_many, &limits),
            Err(PatchError::TooLarge(_))
        ));
        let fine = json!([{"op": "copy", "from": "/a", "path": "/b"}]);
        assert_eq!(
            json_patch_bounded(&doc, &fine, &limits).unwrap()["b"],
            doc["a"]
        );
    }
}
