//! Kubernetes' strategic merge patch for built-in kinds.

use serde_json::{Map, Value};

use super::PatchError::{self, BadRequest, Unprocessable};
use super::{MergeKey, merge_key};

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
