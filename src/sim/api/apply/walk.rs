//! Walks over values: the field set of an object, what changed between two objects, and the
//! merge and prune of an apply.

use super::*;

// ---------------------------------------------------------------------------------------------
// Walks over values
// ---------------------------------------------------------------------------------------------

/// The fields a configuration sets (structured-merge-diff `ToFieldSet`): leaves, list items,
/// empty maps and atomic values are members; non-empty maps are not.
pub(super) fn to_field_set(value: &Value) -> FieldSet {
    fn walk(v: &Value, field: Option<&str>, path: &mut Vec<String>, out: &mut FieldSet) {
        match v {
            Value::Object(m) if !m.is_empty() && !atomic_map(field) => {
                for (k, c) in m {
                    path.push(field_pe(k));
                    walk(c, Some(k), path, out);
                    path.pop();
                }
            }
            Value::Array(items) => match list_kind(field, items, &[]) {
                ListKind::Atomic => out.insert(path),
                kind => {
                    for item in items {
                        path.push(item_pe(kind, item));
                        out.insert(path);
                        if kind != ListKind::Set {
                            walk(item, None, path, out);
                        }
                        path.pop();
                    }
                }
            },
            _ => out.insert(path),
        }
    }
    let mut out = FieldSet::default();
    if let Value::Object(m) = value {
        let mut path = Vec::new();
        for (k, c) in m {
            path.push(field_pe(k));
            walk(c, Some(k), &mut path, &mut out);
            path.pop();
        }
    }
    out
}

/// Every path at and below `path` (a whole added or removed subtree), maps included, except
/// implicit struct nodes when `implicit` is given.
pub(super) fn all_paths(
    v: &Value,
    field: Option<&str>,
    path: &mut Vec<String>,
    out: &mut FieldSet,
    implicit: Option<bool>,
) {
    if !path.is_empty() && !implicit.is_some_and(|builtin| implicit_struct(path, builtin)) {
        out.insert(path);
    }
    match v {
        Value::Object(m) if !atomic_map(field) => {
            for (k, c) in m {
                path.push(field_pe(k));
                all_paths(c, Some(k), path, out, implicit);
                path.pop();
            }
        }
        Value::Array(items) => match list_kind(field, items, &[]) {
            ListKind::Atomic => {}
            kind => {
                for item in items {
                    path.push(item_pe(kind, item));
                    if kind == ListKind::Set {
                        out.insert(path);
                    } else {
                        all_paths(item, None, path, out, implicit);
                    }
                    path.pop();
                }
            }
        },
        _ => {}
    }
}

#[derive(Debug, Default)]
pub(super) struct Comparison {
    pub(super) modified: FieldSet,
    pub(super) added: FieldSet,
    pub(super) removed: FieldSet,
}

/// structured-merge-diff `Compare`, with identity/server metadata and status left out, and
/// `metadata.managedFields` not looked at.
pub(super) fn compare(old: &Value, new: &Value, builtin: bool) -> Comparison {
    fn walk<'a>(
        old: Option<&'a Value>,
        new: Option<&'a Value>,
        field: Option<&str>,
        path: &mut Vec<String>,
        c: &mut Comparison,
        builtin: bool,
    ) {
        match (old, new) {
            (None, None) => {}
            // Most of an object is untouched by a write (a pod's spec under a status patch):
            // an equality test without allocating is what that costs, not a walk of its paths.
            (Some(o), Some(n)) if o == n => {}
            (Some(o), None) => all_paths(o, field, path, &mut c.removed, None),
            (None, Some(n)) => all_paths(n, field, path, &mut c.added, Some(builtin)),
            (Some(Value::Object(om)), Some(Value::Object(nm))) if !atomic_map(field) => {
                let keys: BTreeSet<&String> = om.keys().chain(nm.keys()).collect();
                // The bookkeeping itself is not a field (the callers' objects keep theirs).
                let in_metadata = path.len() == 1 && field == Some("metadata");
                for k in keys {
                    if in_metadata && k == "managedFields" {
                        continue;
                    }
                    path.push(field_pe(k));
                    walk(om.get(k), nm.get(k), Some(k), path, c, builtin);
                    path.pop();
                }
            }
            (Some(Value::Array(oa)), Some(Value::Array(na))) => match list_kind(field, na, oa) {
                ListKind::Atomic => {
                    if oa != na {
                        c.modified.insert(path);
                    }
                }
                kind => {
                    let index = |items: &'a [Value]| -> BTreeMap<String, &'a Value> {
                        items.iter().map(|i| (item_pe(kind, i), i)).collect()
                    };
                    let (oi, ni) = (index(oa), index(na));
                    let pes: BTreeSet<&String> = oi.keys().chain(ni.keys()).collect();
                    for pe in pes {
                        path.push(pe.clone());
                        walk(
                            oi.get(pe).copied(),
                            ni.get(pe).copied(),
                            None,
                            path,
                            c,
                            builtin,
                        );
                        path.pop();
                    }
                }
            },
            (Some(o), Some(n)) => {
                if o != n {
                    c.modified.insert(path);
                }
            }
        }
    }
    let mut c = Comparison::default();
    walk(Some(old), Some(new), None, &mut Vec::new(), &mut c, builtin);
    strip_ignored(&mut c.modified);
    strip_ignored(&mut c.added);
    strip_ignored(&mut c.removed);
    c
}

/// Nulls mean "absent" in a stored object.
pub(super) fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, c)| !c.is_null())
                .map(|(k, c)| (k.clone(), strip_nulls(c)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// structured-merge-diff `Merge`: the configuration wins; maps merge recursively; keyed lists
/// and sets merge item by item, ordered as structured-merge-diff orders them (configuration
/// order for the items it names, live-only items kept in place).
pub(super) fn ssa_merge(live: &Value, config: &Value, field: Option<&str>) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if !atomic_map(field) => {
            let mut out = l.clone();
            for (k, cv) in c {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                let merged = match l.get(k) {
                    Some(lv) => ssa_merge(lv, cv, Some(k)),
                    None => strip_nulls(cv),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match list_kind(field, c, l) {
            ListKind::Atomic => strip_nulls(config),
            kind => Value::Array(merge_list_items(l, c, kind)),
        },
        _ => strip_nulls(config),
    }
}

/// structured-merge-diff's associative-list merge order.
pub(super) fn merge_list_items(lhs: &[Value], rhs: &[Value], kind: ListKind) -> Vec<Value> {
    let lpe: Vec<String> = lhs.iter().map(|i| item_pe(kind, i)).collect();
    let rpe: Vec<String> = rhs.iter().map(|i| item_pe(kind, i)).collect();
    let lmap: HashMap<&str, &Value> = lpe.iter().map(String::as_str).zip(lhs).collect();
    let rmap: HashMap<&str, &Value> = rpe.iter().map(String::as_str).zip(rhs).collect();
    let merge_item = |pe: &str| -> Value {
        let r = rmap[pe];
        match lmap.get(pe) {
            Some(l) if kind != ListKind::Set => ssa_merge(l, r, None),
            _ => strip_nulls(r),
        }
    };
    let mut shared: VecDeque<&str> = rpe
        .iter()
        .map(String::as_str)
        .filter(|pe| lmap.contains_key(pe))
        .collect();
    let mut next_shared = shared.pop_front();
    let mut merged_rhs: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let (mut li, mut ri) = (0, 0);
    while li < lhs.len() || ri < rhs.len() {
        if li < lhs.len() && ri < rhs.len() {
            let pe = lpe[li].as_str();
            if pe == rpe[ri] {
                merged_rhs.insert(pe);
                out.push(merge_item(pe));
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if rmap.contains_key(pe) && next_shared.is_some_and(|ns| ns != pe) {
                li += 1;
                continue;
            }
        }
        if li < lhs.len() {
            let pe = lpe[li].as_str();
            if !rmap.contains_key(pe) {
                out.push(lhs[li].clone());
                li += 1;
                continue;
            } else if merged_rhs.contains(pe) || ri >= rhs.len() {
                li += 1;
                continue;
            }
        }
        if ri < rhs.len() {
            let pe = rpe[ri].as_str();
            merged_rhs.insert(pe);
            out.push(merge_item(pe));
            ri += 1;
            if next_shared == Some(pe) {
                next_shared = shared.pop_front();
            }
        }
    }
    out
}

/// Removes what the applier owned last time but no longer applies, unless some manager (the
/// applier included) still owns it or something below it.
pub(super) fn prune(mut merged: Value, entries: &[Entry], last: &FieldSet, builtin: bool) -> Value {
    if last.is_empty() {
        return merged;
    }
    let mut owned = FieldSet::default();
    for e in entries {
        owned.union(&e.set);
    }
    let mut removed: Vec<Vec<String>> = Vec::new();
    for path in last.nodes() {
        if removed.iter().any(|r| path.starts_with(r))
            || owned.node(&path).is_some()
            || implicit_struct(&path, builtin)
            || is_key_field(&path)
        {
            continue;
        }
        if remove_path(&mut merged, &path) {
            removed.push(path);
        }
    }
    merged
}

/// A key field of a keyed list item (`…k:{"name":"a"}.f:name`): it stays while the item does.
pub(super) fn is_key_field(path: &[String]) -> bool {
    let [.., parent, last] = path else {
        return false;
    };
    let (Some(key), Some(name)) = (parent.strip_prefix("k:"), last.strip_prefix("f:")) else {
        return false;
    };
    matches!(serde_json::from_str::<Value>(key), Ok(Value::Object(k)) if k.contains_key(name))
}

pub(super) fn item_matches(item: &Value, pe: &str) -> bool {
    if let Some(key) = pe.strip_prefix("k:") {
        match serde_json::from_str::<Value>(key) {
            Ok(Value::Object(k)) => k.iter().all(|(f, want)| item.get(f) == Some(want)),
            _ => false,
        }
    } else if let Some(value) = pe.strip_prefix("v:") {
        serde_json::from_str::<Value>(value).is_ok_and(|want| *item == want)
    } else {
        false
    }
}

pub(super) fn remove_path(v: &mut Value, path: &[String]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = v;
    for pe in parents {
        let next = if let Some(name) = pe.strip_prefix("f:") {
            node.as_object_mut().and_then(|m| m.get_mut(name))
        } else {
            node.as_array_mut()
                .and_then(|items| items.iter_mut().find(|i| item_matches(i, pe)))
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    if let Some(name) = last.strip_prefix("f:") {
        node.as_object_mut().and_then(|m| m.remove(name)).is_some()
    } else if let Some(items) = node.as_array_mut() {
        let before = items.len();
        items.retain(|i| !item_matches(i, last));
        items.len() != before
    } else {
        false
    }
}
