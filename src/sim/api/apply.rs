//! Server-side apply and `metadata.managedFields`.
//!
//! Field ownership is kept per manager entry (manager, operation, subresource) as a set of field
//! paths, stored in the FieldsV1 trie encoding Kubernetes uses (`f:<field>`, `k:<key json>`,
//! `v:<value json>`, `.` for a node that is itself owned). The algorithms follow
//! structured-merge-diff: `apply` merges the applied configuration into the live object, prunes
//! what the applier dropped since its last apply (unless someone else owns it), and reports
//! conflicts on fields other managers own whose value would change; `record_update` gives the
//! writer of a create/update/patch every field it changed.
//!
//! Lists merge by the same keys as strategic merge patch (`patch::merge_key`); other lists, and
//! label selectors, are atomic.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde_json::{Map, Value, json};

use super::patch::{MergeKey, merge_key};

/// An apply that would change a field another manager owns.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The owning manager's name.
    pub manager: String,
    /// The field, e.g. `.spec.replicas` or
    /// `.spec.template.spec.containers[name="agent"].image`.
    pub field: String,
    /// Set when the owner's entry is an `Update` (not an `Apply`): its apiVersion. kube-apiserver
    /// then names the owner `"<manager>" using <apiVersion>`.
    pub api_version: Option<String>,
}

impl Conflict {
    /// The owner as kube-apiserver prints it: `"kubectl"`, or
    /// `"kubectl-client-side-apply" using apps/v1` for an `Update` entry. Status causes use
    /// `conflict with <this>` as their message.
    pub fn owner(&self) -> String {
        match &self.api_version {
            Some(v) => format!("{:?} using {v}", self.manager),
            None => format!("{:?}", self.manager),
        }
    }
}

/// The 409 message, worded as kube-apiserver's `getConflictMessage`:
/// `Apply failed with 1 conflict: conflict with "m": .spec.x`, or for several
/// `Apply failed with 2 conflicts: conflicts with "m":\n- .spec.x\n- .spec.y` (grouped by owner).
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.owner(),
            only.field
        );
    }
    let mut owners: Vec<String> = Vec::new();
    let mut fields: HashMap<String, Vec<&str>> = HashMap::new();
    for c in conflicts {
        let owner = c.owner();
        if !fields.contains_key(&owner) {
            owners.push(owner.clone());
        }
        fields.entry(owner).or_default().push(&c.field);
    }
    let mut lines = Vec::new();
    for owner in owners {
        lines.push(format!("conflicts with {owner}:"));
        for field in &fields[&owner] {
            lines.push(format!("- {field}"));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Metadata fields nobody owns (kube-apiserver's stripMetaManager set, plus the deletion fields
/// only DELETE writes).
const META_SERVER_FIELDS: &[&str] = &[
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Fields an applied configuration cannot set.
const META_NOT_APPLIED: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The object a server-side apply (`application/apply-patch+yaml`) produces, with its
/// `metadata.managedFields` updated; `Err` lists the conflicts when `force` is false.
///
/// `live` is the stored object (`None`: the apply creates it). `now` is the RFC 3339 time
/// written into the applier's entry when the object changes. Applying the same configuration
/// twice returns an identical object.
///
/// As kube-apiserver does for the `kubectl` manager: conflicts only with fields the object's
/// `last-applied-configuration` annotation still describes (a client-side apply) are taken over
/// without error, and that annotation, when present, is rewritten to the applied configuration.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, Vec<Conflict>> {
    let live_v = live
        .map(without_managed_fields)
        .unwrap_or_else(|| json!({}));
    let mut entries = live.map(decode_entries).unwrap_or_default();
    let config = sanitize_config(applied);
    let api_version = config
        .get("apiVersion")
        .or_else(|| live_v.get("apiVersion"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let builtin = is_builtin(&api_version);

    let merged = ssa_merge(&live_v, &config, None);
    let mut new_set = to_field_set(&config);
    strip_ignored(&mut new_set);

    let existing = entries
        .iter()
        .position(|e| e.manager == manager && e.operation == "Apply" && e.subresource.is_none());
    let was_new = existing.is_none();
    let me = match existing {
        Some(i) => i,
        None => {
            entries.push(Entry {
                manager: manager.to_string(),
                operation: "Apply".to_string(),
                api_version: api_version.clone(),
                time: None,
                subresource: None,
                set: FieldSet::default(),
            });
            entries.len() - 1
        }
    };
    let last_set = std::mem::replace(&mut entries[me].set, new_set);
    let merged = prune(merged, &entries, &last_set, builtin);

    let cmp = compare(&live_v, &merged, builtin);
    let mut changed = cmp.modified.clone();
    changed.union(&cmp.added);
    let mut conflicts: Vec<(usize, FieldSet)> = entries
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != me)
        .map(|(i, e)| (i, e.set.intersection(&changed)))
        .filter(|(_, s)| !s.is_empty())
        .collect();
    if !conflicts.is_empty() && !force {
        let allowed = if manager == "kubectl" {
            live.and_then(|l| allowed_by_last_applied(l, &live_v, builtin))
        } else {
            None
        };
        let remaining: Vec<(usize, FieldSet)> = conflicts
            .iter()
            .map(|(i, s)| {
                let mut s = s.clone();
                if let Some(allowed) = &allowed {
                    s.difference(allowed);
                }
                (*i, s)
            })
            .filter(|(_, s)| !s.is_empty())
            .collect();
        if !remaining.is_empty() {
            return Err(describe_conflicts(&entries, &remaining));
        }
    }
    // Forced (or migrated from client-side apply): ownership moves to the applier.
    for (i, set) in conflicts.drain(..) {
        entries[i].set.difference(&set);
    }
    for (i, e) in entries.iter_mut().enumerate() {
        if i != me {
            e.set.difference(&cmp.removed);
        }
    }

    let mut result = merged;
    if manager == "kubectl" && last_applied(&result).is_some() {
        let annotation = build_last_applied(applied);
        if let Some(Value::Object(annotations)) = result
            .pointer_mut("/metadata/annotations")
            .filter(|a| a.is_object())
        {
            annotations.insert(LAST_APPLIED.to_string(), Value::String(annotation));
        }
    }
    if was_new || result != live_v {
        entries[me].time = Some(now.to_string());
        entries[me].api_version = api_version;
    }
    entries.retain(|e| !e.set.is_empty());
    write_entries(&mut result, entries);
    Ok(result)
}

/// Field ownership for a non-apply write (create, PUT, merge/strategic/JSON patch) by
/// `manager`: every field `new` adds or changes relative to `old` (`None` on create) becomes
/// owned by `manager` (operation `Update`) and leaves every other entry; removed fields leave
/// every entry. Writes `new.metadata.managedFields`.
///
/// Managed fields come from `new` when the write carries a non-empty list (`[{}]` resets them),
/// otherwise from `old`.
pub fn record_update(old: Option<&Value>, new: &mut Value, manager: &str, now: &str) {
    let old_entries = old.map(decode_entries).unwrap_or_default();
    let mut entries = match new.pointer("/metadata/managedFields") {
        Some(Value::Array(list)) if !list.is_empty() => {
            if list
                .iter()
                .all(|e| e.as_object().is_some_and(|m| m.is_empty()))
            {
                Vec::new()
            } else if old.and_then(|o| o.pointer("/metadata/managedFields"))
                == new.pointer("/metadata/managedFields")
            {
                old_entries
            } else {
                decode_list(list).unwrap_or(old_entries)
            }
        }
        _ => old_entries,
    };
    let api_version = new
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let builtin = is_builtin(&api_version);
    let old_v = old.map(without_managed_fields).unwrap_or_else(|| json!({}));
    let new_v = without_managed_fields(new);
    let cmp = compare(&old_v, &new_v, builtin);
    let mut changed = cmp.modified;
    changed.union(&cmp.added);

    let mine =
        |e: &Entry| e.manager == manager && e.operation == "Update" && e.subresource.is_none();
    for e in entries.iter_mut() {
        e.set.difference(&cmp.removed);
        if !mine(e) {
            e.set.difference(&changed);
        }
    }
    if !changed.is_empty() {
        match entries.iter_mut().find(|e| mine(e)) {
            Some(e) => {
                e.set.union(&changed);
                e.time = Some(now.to_string());
                e.api_version = api_version;
            }
            None => entries.push(Entry {
                manager: manager.to_string(),
                operation: "Update".to_string(),
                api_version,
                time: Some(now.to_string()),
                subresource: None,
                set: changed,
            }),
        }
    }
    entries.retain(|e| !e.set.is_empty());
    write_entries(new, entries);
}

// ---------------------------------------------------------------------------------------------
// Field sets
// ---------------------------------------------------------------------------------------------

/// A set of field paths as a trie. Children are keyed by encoded path elements (`f:name`,
/// `k:{"name":"a"}`, `v:"x"`); `member` marks a node that is itself in the set. Nodes that are
/// neither members nor have children are never kept.
#[derive(Debug, Clone, Default, PartialEq)]
struct FieldSet {
    member: bool,
    children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    fn insert(&mut self, path: &[String]) {
        let mut node = self;
        for pe in path {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.member = true;
    }

    fn node(&self, path: &[String]) -> Option<&FieldSet> {
        path.iter().try_fold(self, |node, pe| node.children.get(pe))
    }

    fn union(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (k, c) in &other.children {
            self.children.entry(k.clone()).or_default().union(c);
        }
    }

    /// Removes the members of `other` (not their descendants).
    fn difference(&mut self, other: &FieldSet) {
        if other.member {
            self.member = false;
        }
        for (k, oc) in &other.children {
            if let Some(c) = self.children.get_mut(k) {
                c.difference(oc);
                if c.is_empty() {
                    self.children.remove(k);
                }
            }
        }
    }

    fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if let Some(oc) = other.children.get(k) {
                let i = c.intersection(oc);
                if !i.is_empty() {
                    out.children.insert(k.clone(), i);
                }
            }
        }
        out
    }

    /// Members in structured-merge-diff's iteration order: at each level the member children,
    /// then the subtrees.
    fn members(&self) -> Vec<Vec<String>> {
        fn walk(set: &FieldSet, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            for (k, c) in &set.children {
                if c.member {
                    prefix.push(k.clone());
                    out.push(prefix.clone());
                    prefix.pop();
                }
            }
            for (k, c) in &set.children {
                if !c.children.is_empty() {
                    prefix.push(k.clone());
                    walk(c, prefix, out);
                    prefix.pop();
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    /// Every node (members and their ancestors), parents before children.
    fn nodes(&self) -> Vec<Vec<String>> {
        fn walk(set: &FieldSet, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            for (k, c) in &set.children {
                prefix.push(k.clone());
                out.push(prefix.clone());
                walk(c, prefix, out);
                prefix.pop();
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    /// FieldsV1 JSON (the root's own membership is not representable and never set).
    fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".to_string(), json!({}));
        }
        for (k, c) in &self.children {
            m.insert(k.clone(), c.to_fields_v1());
        }
        Value::Object(m)
    }

    fn from_fields_v1(v: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        if let Value::Object(m) = v {
            set.member = m.is_empty();
            for (k, c) in m {
                if k == "." {
                    set.member = true;
                } else {
                    let child = FieldSet::from_fields_v1(c);
                    set.children.insert(k.clone(), child);
                }
            }
        }
        set
    }
}

/// Drops identity, server-managed metadata and status: nobody owns them.
fn strip_ignored(set: &mut FieldSet) {
    set.member = false;
    for k in ["f:apiVersion", "f:kind", "f:status"] {
        set.children.remove(k);
    }
    if let Some(meta) = set.children.get_mut("f:metadata") {
        meta.member = false;
        for f in META_SERVER_FIELDS {
            meta.children.remove(&format!("f:{f}"));
        }
        if meta.is_empty() {
            set.children.remove("f:metadata");
        }
    }
}

fn field_pe(name: &str) -> String {
    format!("f:{name}")
}

/// `.spec.containers[name="agent"].image`, as structured-merge-diff prints paths.
fn display_path(path: &[String]) -> String {
    let mut s = String::new();
    for pe in path {
        if let Some(name) = pe.strip_prefix("f:") {
            s.push('.');
            s.push_str(name);
        } else if let Some(key) = pe.strip_prefix("k:") {
            let fields: Vec<String> = match serde_json::from_str::<Value>(key) {
                Ok(Value::Object(m)) => m.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                _ => vec![key.to_string()],
            };
            s.push('[');
            s.push_str(&fields.join(","));
            s.push(']');
        } else if let Some(value) = pe.strip_prefix("v:") {
            s.push_str("[=");
            s.push_str(value);
            s.push(']');
        } else {
            s.push_str(pe);
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Schema stand-ins: list kinds, atomic maps, implicit structs
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum ListKind {
    Atomic,
    Keyed(&'static str),
    Set,
}

/// How a list field merges. A list whose items do not fit its declared kind (an item without
/// the key, duplicate keys, maps in a set) is treated as atomic.
fn list_kind(field: Option<&str>, a: &[Value], b: &[Value]) -> ListKind {
    let Some(field) = field else {
        return ListKind::Atomic;
    };
    let sample = a.first().or(b.first()).unwrap_or(&Value::Null);
    match merge_key(field, sample) {
        Some(MergeKey::Field(key)) => {
            let valid = |items: &[Value]| {
                let mut seen = BTreeSet::new();
                items.iter().all(|i| match i.get(key) {
                    Some(k) if !k.is_null() && !k.is_object() && !k.is_array() => {
                        seen.insert(k.to_string())
                    }
                    _ => false,
                })
            };
            if valid(a) && valid(b) {
                ListKind::Keyed(key)
            } else {
                ListKind::Atomic
            }
        }
        Some(MergeKey::PrimitiveSet) => {
            let valid = |items: &[Value]| {
                let mut seen = BTreeSet::new();
                items
                    .iter()
                    .all(|i| !i.is_object() && !i.is_array() && seen.insert(i.to_string()))
            };
            if valid(a) && valid(b) {
                ListKind::Set
            } else {
                ListKind::Atomic
            }
        }
        None => ListKind::Atomic,
    }
}

/// The path element of a list item (`Atomic` lists have none; callers never ask).
fn item_pe(kind: ListKind, item: &Value) -> String {
    match kind {
        ListKind::Keyed(key) => {
            let mut m = Map::new();
            m.insert(
                key.to_string(),
                item.get(key).cloned().unwrap_or(Value::Null),
            );
            format!("k:{}", Value::Object(m))
        }
        _ => format!("v:{item}"),
    }
}

/// Label selectors are atomic (`structType`/`mapType: atomic` in the built-in schemas).
fn atomic_map(field: Option<&str>) -> bool {
    field == Some("selector")
}

/// Built-in kinds are typed Go structs; custom resources are unstructured.
fn is_builtin(api_version: &str) -> bool {
    match api_version.split_once('/') {
        None => true,
        Some((group, _)) => !group.contains('.') || group.ends_with(".k8s.io"),
    }
}

/// Nodes that always exist in a built-in typed object (non-pointer Go structs reached from the
/// root through non-pointer structs) and so are never "added" by a write. `metadata` is such a
/// node for every kind.
fn implicit_struct(path: &[String], builtin: bool) -> bool {
    let names: Option<Vec<&str>> = path.iter().map(|pe| pe.strip_prefix("f:")).collect();
    let Some(names) = names else {
        return false;
    };
    match names.as_slice() {
        ["metadata"] => true,
        _ if !builtin => false,
        ["spec"] | ["status"] | ["involvedObject"] | ["source"] => true,
        [
            "spec",
            "strategy" | "updateStrategy" | "template" | "jobTemplate",
        ] => true,
        ["spec", "jobTemplate", "spec", "template"] => true,
        // PodSpec.containers has no omitempty: an empty pod spec already has it (as null).
        [.., "spec", "containers"] => true,
        [.., "template" | "jobTemplate", "metadata" | "spec"] => true,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Walks over values
// ---------------------------------------------------------------------------------------------

/// The fields a configuration sets (structured-merge-diff `ToFieldSet`): leaves, list items,
/// empty maps and atomic values are members; non-empty maps are not.
fn to_field_set(value: &Value) -> FieldSet {
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
fn all_paths(
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
struct Comparison {
    modified: FieldSet,
    added: FieldSet,
    removed: FieldSet,
}

/// structured-merge-diff `Compare`, with identity/server metadata and status left out.
fn compare(old: &Value, new: &Value, builtin: bool) -> Comparison {
    fn walk(
        old: Option<&Value>,
        new: Option<&Value>,
        field: Option<&str>,
        path: &mut Vec<String>,
        c: &mut Comparison,
        builtin: bool,
    ) {
        match (old, new) {
            (None, None) => {}
            (Some(o), None) => all_paths(o, field, path, &mut c.removed, None),
            (None, Some(n)) => all_paths(n, field, path, &mut c.added, Some(builtin)),
            (Some(Value::Object(om)), Some(Value::Object(nm))) if !atomic_map(field) => {
                let keys: BTreeSet<&String> = om.keys().chain(nm.keys()).collect();
                for k in keys {
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
                    let index = |items: &[Value]| -> BTreeMap<String, Value> {
                        items
                            .iter()
                            .map(|i| (item_pe(kind, i), i.clone()))
                            .collect()
                    };
                    let (oi, ni) = (index(oa), index(na));
                    let pes: BTreeSet<&String> = oi.keys().chain(ni.keys()).collect();
                    for pe in pes {
                        path.push(pe.clone());
                        walk(oi.get(pe), ni.get(pe), None, path, c, builtin);
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
fn strip_nulls(v: &Value) -> Value {
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
fn ssa_merge(live: &Value, config: &Value, field: Option<&str>) -> Value {
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
fn merge_list_items(lhs: &[Value], rhs: &[Value], kind: ListKind) -> Vec<Value> {
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
fn prune(mut merged: Value, entries: &[Entry], last: &FieldSet, builtin: bool) -> Value {
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
fn is_key_field(path: &[String]) -> bool {
    let [.., parent, last] = path else {
        return false;
    };
    let (Some(key), Some(name)) = (parent.strip_prefix("k:"), last.strip_prefix("f:")) else {
        return false;
    };
    matches!(serde_json::from_str::<Value>(key), Ok(Value::Object(k)) if k.contains_key(name))
}

fn item_matches(item: &Value, pe: &str) -> bool {
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

fn remove_path(v: &mut Value, path: &[String]) -> bool {
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

// ---------------------------------------------------------------------------------------------
// Client-side apply interplay (kubectl manager)
// ---------------------------------------------------------------------------------------------

fn last_applied(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Fields the client-side apply annotation describes with the value the object still has:
/// conflicts on them do not stop `kubectl apply --server-side` (kube-apiserver's
/// lastAppliedManager).
fn allowed_by_last_applied(live: &Value, live_v: &Value, builtin: bool) -> Option<FieldSet> {
    let config: Value = serde_json::from_str(last_applied(live)?).ok()?;
    if !config.is_object() {
        return None;
    }
    let mut set = to_field_set(&config);
    strip_ignored(&mut set);
    let cmp = compare(&config, live_v, builtin);
    set.difference(&cmp.modified);
    Some(set)
}

/// The annotation kube-apiserver writes after a `kubectl` server-side apply: the applied
/// configuration without the annotation itself, JSON-encoded with a trailing newline.
fn build_last_applied(applied: &Value) -> String {
    let mut config = applied.clone();
    if let Some(Value::Object(annotations)) = config.pointer_mut("/metadata/annotations") {
        annotations.remove(LAST_APPLIED);
    }
    format!("{config}\n")
}

// ---------------------------------------------------------------------------------------------
// managedFields entries
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: Option<String>,
    set: FieldSet,
}

fn decode_entries(obj: &Value) -> Vec<Entry> {
    match obj.pointer("/metadata/managedFields") {
        Some(Value::Array(list)) => decode_list(list).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn decode_list(list: &[Value]) -> Option<Vec<Entry>> {
    list.iter()
        .map(|e| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
            let mut set = e
                .get("fieldsV1")
                .map(FieldSet::from_fields_v1)
                .unwrap_or_default();
            set.member = false;
            Some(Entry {
                manager: s("manager").unwrap_or_default(),
                operation: s("operation")?,
                api_version: s("apiVersion").unwrap_or_default(),
                time: s("time"),
                subresource: s("subresource").filter(|s| !s.is_empty()),
                set,
            })
        })
        .collect()
}

fn encode_entry(e: &Entry) -> Value {
    let mut m = Map::new();
    m.insert("manager".into(), json!(e.manager));
    m.insert("operation".into(), json!(e.operation));
    m.insert("apiVersion".into(), json!(e.api_version));
    if let Some(t) = &e.time {
        m.insert("time".into(), json!(t));
    }
    m.insert("fieldsType".into(), json!("FieldsV1"));
    m.insert("fieldsV1".into(), e.set.to_fields_v1());
    if let Some(s) = &e.subresource {
        m.insert("subresource".into(), json!(s));
    }
    Value::Object(m)
}

/// Writes the entries in kube-apiserver's order (operation, then time to the second, then
/// manager, apiVersion, subresource); no entries removes the field.
fn write_entries(obj: &mut Value, mut entries: Vec<Entry>) {
    let seconds = |e: &Entry| {
        e.time
            .as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map_or(0, |t| t.as_second())
    };
    entries.sort_by(|a, b| {
        (
            &a.operation,
            seconds(a),
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                seconds(b),
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    if entries.is_empty() {
        if let Some(Value::Object(meta)) = root.get_mut("metadata") {
            meta.remove("managedFields");
        }
        return;
    }
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(meta) = meta {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(encode_entry).collect()),
        );
    }
}

fn without_managed_fields(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(Value::Object(meta)) = v.get_mut("metadata") {
        meta.remove("managedFields");
    }
    v
}

/// The applied configuration minus what an apply cannot set (status, server metadata).
fn sanitize_config(applied: &Value) -> Value {
    let mut config = match applied {
        Value::Object(_) => applied.clone(),
        _ => json!({}),
    };
    if let Value::Object(root) = &mut config {
        root.remove("status");
        if let Some(Value::Object(meta)) = root.get_mut("metadata") {
            for f in META_NOT_APPLIED {
                meta.remove(*f);
            }
        }
    }
    config
}

/// Conflicts as reported: sorted by owner, then by field in structured-merge-diff order.
fn describe_conflicts(entries: &[Entry], conflicts: &[(usize, FieldSet)]) -> Vec<Conflict> {
    let mut by_owner: Vec<&(usize, FieldSet)> = conflicts.iter().collect();
    by_owner.sort_by(|(a, _), (b, _)| {
        let (a, b) = (&entries[*a], &entries[*b]);
        (&a.manager, &a.operation, &a.api_version).cmp(&(&b.manager, &b.operation, &b.api_version))
    });
    let mut out = Vec::new();
    for (i, set) in by_owner {
        let e = &entries[*i];
        for path in set.members() {
            out.push(Conflict {
                manager: e.manager.clone(),
                field: display_path(&path),
                api_version: (e.operation == "Update").then(|| e.api_version.clone()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: &str = "2025-01-01T00:00:00Z";
    const T2: &str = "2025-01-01T00:01:00Z";
    const T3: &str = "2025-01-01T00:02:00Z";

    fn deployment(replicas: u64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "agent", "namespace": "default", "labels": {"app": "agent"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "agent", "image": image}]}
                }
            }
        })
    }

    /// What the store adds on create.
    fn stored(mut obj: Value) -> Value {
        obj["metadata"]["uid"] = json!("u-1");
        obj["metadata"]["resourceVersion"] = json!("1");
        obj["metadata"]["creationTimestamp"] = json!(T1);
        obj
    }

    fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
        obj["metadata"]["managedFields"]
            .as_array()?
            .iter()
            .find(|e| e["manager"] == manager && e["operation"] == operation)
    }

    #[test]
    fn create_via_apply() {
        let cm = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
            "data": {"key": "some value"},
            "status": {"ignored": true}
        });
        let out = apply(None, &cm, "kubectl", false, T1).unwrap();
        assert_eq!(
            out,
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {
                    "name": "test-cm", "namespace": "default", "labels": {"test-label": "test"},
                    "managedFields": [{
                        "manager": "kubectl",
                        "operation": "Apply",
                        "apiVersion": "v1",
                        "time": T1,
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {
                            "f:data": {"f:key": {}},
                            "f:metadata": {"f:labels": {"f:test-label": {}}}
                        }
                    }]
                },
                "data": {"key": "some value"}
            })
        );
    }

    #[test]
    fn managed_fields_encoding_keyed_list_and_set() {
        let cfg = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "finalizers": ["a/b"]},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "x"}},
                "template": {"spec": {"containers": [{
                    "name": "agent", "image": "i:1", "args": ["--x"], "resources": {},
                    "ports": [{"containerPort": 9090}]
                }]}}
            }
        });
        let out = apply(None, &cfg, "fleetctl", false, T1).unwrap();
        assert_eq!(
            out["metadata"]["managedFields"][0]["fieldsV1"],
            json!({
                "f:metadata": {"f:finalizers": {"v:\"a/b\"": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"agent\"}": {
                            ".": {},
                            "f:args": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {"k:{\"containerPort\":9090}": {".": {}, "f:containerPort": {}}},
                            "f:resources": {}
                        }
                    }}}
                }
            })
        );
    }

    #[test]
    fn reapply_unchanged_is_identical() {
        let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
        let again = apply(Some(&live), &deployment(1, "a:1"), "kubectl", false, T2).unwrap();
        assert_eq!(again, live);
        let third = apply(Some(&again), &deployment(1, "a:1"), "kubectl", false, T3).unwrap();
        assert_eq!(third, live);
    }

    #[test]
    fn apply_change_updates_time() {
        let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
        let out = apply(Some(&live), &deployment(2, "a:1"), "kubectl", false, T2).unwrap();
        assert_eq!(out["spec"]["replicas"], 2);
        assert_eq!(out["metadata"]["uid"], "u-1");
        assert_eq!(out["metadata"]["resourceVersion"], "1");
        assert_eq!(entry(&out, "kubectl", "Apply").unwrap()["time"], T2);
    }

    #[test]
    fn apply_removing_a_field_drops_it() {
        let mut cfg = deployment(1, "a:1");
        cfg["metadata"]["labels"]["tier"] = json!("x");
        cfg["spec"]["paused"] = json!(false);
        let live = stored(apply(None, &cfg, "kubectl", false, T1).unwrap());
        assert_eq!(live["spec"]["paused"], false);

        let out = apply(Some(&live), &deployment(1, "a:1"), "kubectl", false, T2).unwrap();
        assert!(out["spec"].get("paused").is_none());
        assert_eq!(out["metadata"]["labels"], json!({"app": "agent"}));
        let fields = &entry(&out, "kubectl", "Apply").unwrap()["fieldsV1"];
        assert!(fields["f:spec"].get("f:paused").is_none());
        assert!(fields["f:metadata"]["f:labels"].get("f:tier").is_none());
    }

    #[test]
    fn dropped_field_owned_by_another_manager_stays() {
        let mut cfg = deployment(1, "a:1");
        cfg["spec"]["paused"] = json!(true);
        let live = stored(apply(None, &cfg, "kubectl", false, T1).unwrap());
        // another applier shares `paused` (same value)
        let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "agent"}, "spec": {"paused": true}});
        let live = apply(Some(&live), &other, "ops", false, T2).unwrap();
        let out = apply(Some(&live), &deployment(1, "a:1"), "kubectl", false, T3).unwrap();
        assert_eq!(out["spec"]["paused"], true);
        assert!(
            entry(&out, "kubectl", "Apply").unwrap()["fieldsV1"]["f:spec"]
                .get("f:paused")
                .is_none()
        );
        assert!(
            entry(&out, "ops", "Apply").unwrap()["fieldsV1"]["f:spec"]
                .get("f:paused")
                .is_some()
        );
    }

    #[test]
    fn conflict_with_another_applier() {
        let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
        let other = deployment(5, "a:2");
        let err = apply(Some(&live), &other, "ops", false, T2).unwrap_err();
        assert_eq!(
            err,
            vec![
                Conflict {
                    manager: "kubectl".into(),
                    field: ".spec.replicas".into(),
                    api_version: None
                },
                Conflict {
                    manager: "kubectl".into(),
                    field: ".spec.template.spec.containers[name=\"agent\"].image".into(),
                    api_version: None
                },
            ]
        );
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"agent\"].image"
        );
        assert_eq!(
            conflict_message(&err[..1]),
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
        );
    }

    #[test]
    fn conflict_message_several_owners() {
        let c = |m: &str, f: &str, v: Option<&str>| Conflict {
            manager: m.into(),
            field: f.into(),
            api_version: v.map(Into::into),
        };
        assert_eq!(
            conflict_message(&[
                c("a", ".spec.x", None),
                c("a", ".spec.y", None),
                c("b", ".spec.z", Some("batch/v1")),
            ]),
            "Apply failed with 3 conflicts: conflicts with \"a\":\n- .spec.x\n- .spec.y\nconflicts with \"b\" using batch/v1:\n- .spec.z"
        );
    }

    #[test]
    fn force_takes_ownership() {
        let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
        let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "agent"}, "spec": {"replicas": 7}});
        let out = apply(Some(&live), &other, "keda", true, T2).unwrap();
        assert_eq!(out["spec"]["replicas"], 7);
        assert_eq!(
            entry(&out, "keda", "Apply").unwrap()["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}})
        );
        let kubectl = &entry(&out, "kubectl", "Apply").unwrap()["fieldsV1"];
        assert!(kubectl["f:spec"].get("f:replicas").is_none());
        assert!(kubectl["f:spec"].get("f:template").is_some());
        // kubectl re-applying its old value now conflicts with keda
        let err = apply(Some(&out), &deployment(1, "a:1"), "kubectl", false, T3).unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"keda\": .spec.replicas"
        );
        // Apply entries sort before Update entries; Apply entries by time.
        let managers: Vec<&str> = out["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["kubectl", "keda"]);
    }

    #[test]
    fn shared_ownership_on_equal_value() {
        let live = stored(apply(None, &deployment(3, "a:1"), "kubectl", false, T1).unwrap());
        let other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "agent"}, "spec": {"replicas": 3}});
        let out = apply(Some(&live), &other, "ops", false, T2).unwrap();
        assert!(
            entry(&out, "kubectl", "Apply").unwrap()["fieldsV1"]["f:spec"]
                .get("f:replicas")
                .is_some()
        );
        assert!(
            entry(&out, "ops", "Apply").unwrap()["fieldsV1"]["f:spec"]
                .get("f:replicas")
                .is_some()
        );
        // Either owner changing it now conflicts with the other.
        let err = apply(Some(&out), &deployment(4, "a:1"), "kubectl", false, T3).unwrap_err();
        assert_eq!(err[0].manager, "ops");
        assert_eq!(err[0].field, ".spec.replicas");
        // The object did not change, so the existing kubectl entry keeps its time.
        assert_eq!(entry(&out, "kubectl", "Apply").unwrap()["time"], T1);
    }

    fn client_side_created(replicas: u64) -> Value {
        let mut obj = deployment(replicas, "a:1");
        let annotation = format!("{}\n", deployment(replicas, "a:1"));
        obj["metadata"]["annotations"] = json!({ LAST_APPLIED: annotation });
        let mut obj = stored(obj);
        record_update(None, &mut obj, "kubectl-client-side-apply", T1);
        obj
    }

    #[test]
    fn client_side_apply_then_server_side_apply_conflicts() {
        let live = client_side_created(1);
        let e = entry(&live, "kubectl-client-side-apply", "Update").unwrap();
        assert!(e["fieldsV1"]["f:spec"].get("f:replicas").is_some());

        let err = apply(Some(&live), &deployment(3, "a:1"), "fleetctl", false, T2).unwrap_err();
        assert_eq!(
            err,
            vec![Conflict {
                manager: "kubectl-client-side-apply".into(),
                field: ".spec.replicas".into(),
                api_version: Some("apps/v1".into()),
            }]
        );
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        // The same value is not a conflict.
        assert!(apply(Some(&live), &deployment(1, "a:1"), "fleetctl", false, T2).is_ok());

        // Without the last-applied annotation, even the kubectl manager conflicts.
        let mut bare = live.clone();
        bare["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        let err = apply(Some(&bare), &deployment(3, "a:1"), "kubectl", false, T2).unwrap_err();
        assert_eq!(err[0].manager, "kubectl-client-side-apply");
    }

    #[test]
    fn kubectl_server_side_apply_upgrades_from_client_side_apply() {
        let live = client_side_created(1);
        let out = apply(Some(&live), &deployment(3, "a:1"), "kubectl", false, T2).unwrap();
        assert_eq!(out["spec"]["replicas"], 3);
        let csa = entry(&out, "kubectl-client-side-apply", "Update").unwrap();
        assert!(csa["fieldsV1"]["f:spec"].get("f:replicas").is_none());
        // The annotation now records the server-side applied configuration.
        let annotation = out["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap();
        assert_eq!(annotation, format!("{}\n", deployment(3, "a:1")));

        // A field changed since the client-side apply (e.g. by `kubectl scale`) still conflicts.
        let mut scaled = live.clone();
        scaled["spec"]["replicas"] = json!(5);
        record_update(Some(&live), &mut scaled, "kubectl-scale", T2);
        let err = apply(Some(&scaled), &deployment(3, "a:1"), "kubectl", false, T3).unwrap_err();
        assert_eq!(err[0].manager, "kubectl-scale");
    }

    #[test]
    fn keyed_lists_merge_and_own_per_item() {
        let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
        let sidecar = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agent"},
            "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "s:1"}]}}}
        });
        let out = apply(Some(&live), &sidecar, "injector", false, T2).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "agent", "image": "a:1"}, {"name": "sidecar", "image": "s:1"}])
        );
        assert_eq!(
            entry(&out, "injector", "Apply").unwrap()["fieldsV1"],
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"sidecar\"}": {".": {}, "f:image": {}, "f:name": {}}
            }}}}})
        );
        // kubectl re-applies its config (without the sidecar): the sidecar stays.
        let again = apply(Some(&out), &deployment(1, "a:2"), "kubectl", false, T3).unwrap();
        assert_eq!(
            again["spec"]["template"]["spec"]["containers"],
            json!([{"name": "agent", "image": "a:2"}, {"name": "sidecar", "image": "s:1"}])
        );
        // The injector drops its container: it goes.
        let only_meta =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agent"}});
        let dropped = apply(Some(&again), &only_meta, "injector", false, T3).unwrap();
        assert_eq!(
            dropped["spec"]["template"]["spec"]["containers"],
            json!([{"name": "agent", "image": "a:2"}])
        );
        assert!(entry(&dropped, "injector", "Apply").is_none());
    }

    #[test]
    fn keyed_list_item_fields_owned_by_others_survive_pruning() {
        let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
        let mut patched = live.clone();
        patched["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("Always");
        record_update(Some(&live), &mut patched, "editor", T2);
        // kubectl drops the container: its own fields go, the editor's field keeps the item.
        let mut cfg = deployment(1, "a:1");
        cfg["spec"]["template"]["spec"]["containers"] = json!([{"name": "other", "image": "o:1"}]);
        let out = apply(Some(&patched), &cfg, "kubectl", false, T3).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "agent", "imagePullPolicy": "Always"}, {"name": "other", "image": "o:1"}])
        );
    }

    #[test]
    fn merge_order_follows_structured_merge_diff() {
        let kind = ListKind::Keyed("name");
        let order = |live: &[&str], config: &[&str]| -> Vec<String> {
            let items = |names: &[&str]| -> Vec<Value> {
                names.iter().map(|n| json!({"name": n})).collect()
            };
            merge_list_items(&items(live), &items(config), kind)
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(order(&["a", "b", "c"], &["b", "d"]), ["a", "b", "c", "d"]);
        assert_eq!(order(&["a", "b"], &["b", "a"]), ["b", "a"]);
        assert_eq!(order(&["a", "b", "c"], &["c", "a"]), ["b", "c", "a"]);
        assert_eq!(order(&[], &["x", "y"]), ["x", "y"]);
    }

    #[test]
    fn record_update_on_create_and_patch() {
        let mut job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "namespace": "default", "uid": "u", "resourceVersion": "5",
                "labels": {"app": "x"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}],
                "restartPolicy": "Never"}}},
            "status": {"active": 1}
        });
        record_update(None, &mut job, "keda", T1);
        assert_eq!(
            job["metadata"]["managedFields"],
            json!([{
                "manager": "keda", "operation": "Update", "apiVersion": "batch/v1", "time": T1,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:template": {"f:spec": {
                        "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}},
                        "f:restartPolicy": {}
                    }}}
                }
            }])
        );

        // A patch by another manager takes the changed field silently.
        let old = job.clone();
        let mut new = job.clone();
        new["metadata"]["labels"]["app"] = json!("y");
        new["metadata"]["finalizers"] = json!(["batch.kubernetes.io/job-tracking"]);
        new["status"]["active"] = json!(2);
        record_update(Some(&old), &mut new, "kube-controller-manager", T2);
        let kcm = entry(&new, "kube-controller-manager", "Update").unwrap();
        assert_eq!(
            kcm["fieldsV1"],
            json!({"f:metadata": {
                "f:finalizers": {".": {}, "v:\"batch.kubernetes.io/job-tracking\"": {}},
                "f:labels": {"f:app": {}}
            }})
        );
        let keda = entry(&new, "keda", "Update").unwrap();
        // keda keeps the labels map node itself: a member leaf encodes as `{}`.
        assert_eq!(keda["fieldsV1"]["f:metadata"], json!({"f:labels": {}}));
        assert_eq!(keda["time"], T1);

        // No change: nothing recorded, entries untouched.
        let mut same = new.clone();
        record_update(Some(&new), &mut same, "someone", T3);
        assert_eq!(same, new);

        // Removing a field removes it from its owner; an emptied entry disappears.
        let mut removed = new.clone();
        removed["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("finalizers");
        removed["metadata"]["labels"]["app"] = json!("x");
        record_update(Some(&new), &mut removed, "keda", T3);
        assert!(entry(&removed, "kube-controller-manager", "Update").is_none());
        assert_eq!(entry(&removed, "keda", "Update").unwrap()["time"], T3);
    }

    #[test]
    fn record_update_custom_resource_marks_spec() {
        let mut sj = json!({
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob",
            "metadata": {"name": "s"}, "spec": {"pollingInterval": 5}
        });
        record_update(None, &mut sj, "kubectl-create", T1);
        assert_eq!(
            sj["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:spec": {".": {}, "f:pollingInterval": {}}})
        );
    }

    #[test]
    fn record_update_managed_fields_from_request() {
        let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
        // PUT without managedFields keeps the stored ones.
        let mut put = live.clone();
        put["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        record_update(Some(&live), &mut put, "editor", T2);
        assert_eq!(
            put["metadata"]["managedFields"],
            live["metadata"]["managedFields"]
        );
        // `[{}]` resets them; the writer owns only what it changed.
        let mut reset = live.clone();
        reset["metadata"]["managedFields"] = json!([{}]);
        record_update(Some(&live), &mut reset, "editor", T2);
        assert!(reset["metadata"].get("managedFields").is_none());
        let mut reset = live.clone();
        reset["metadata"]["managedFields"] = json!([{}]);
        reset["spec"]["replicas"] = json!(2);
        record_update(Some(&live), &mut reset, "editor", T2);
        assert_eq!(
            reset["metadata"]["managedFields"].as_array().unwrap().len(),
            1
        );
        assert_eq!(
            entry(&reset, "editor", "Update").unwrap()["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}})
        );
    }

    #[test]
    fn update_then_apply_of_different_value_conflicts() {
        let live = stored(apply(None, &deployment(1, "a:1"), "kubectl", false, T1).unwrap());
        let mut scaled = live.clone();
        scaled["spec"]["replicas"] = json!(4);
        record_update(Some(&live), &mut scaled, "keda-operator", T2);
        assert!(
            entry(&scaled, "kubectl", "Apply").unwrap()["fieldsV1"]["f:spec"]
                .get("f:replicas")
                .is_none()
        );
        let err = apply(Some(&scaled), &deployment(1, "a:1"), "kubectl", false, T3).unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"keda-operator\" using apps/v1: .spec.replicas"
        );
    }

    #[test]
    fn ignored_fields_in_applied_config() {
        let mut cfg = deployment(1, "a:1");
        cfg["metadata"]["resourceVersion"] = json!("999");
        cfg["metadata"]["uid"] = json!("other");
        cfg["metadata"]["managedFields"] = json!([{"manager": "x", "operation": "Update"}]);
        cfg["metadata"]["creationTimestamp"] = Value::Null;
        cfg["status"] = json!({"replicas": 9});
        let mut live = stored(deployment(1, "a:1"));
        live["status"] = json!({"replicas": 1});
        let out = apply(Some(&live), &cfg, "kubectl", false, T2).unwrap();
        assert_eq!(out["metadata"]["resourceVersion"], "1");
        assert_eq!(out["metadata"]["uid"], "u-1");
        assert_eq!(out["metadata"]["creationTimestamp"], T1);
        assert_eq!(out["status"], json!({"replicas": 1}));
        let fields = &out["metadata"]["managedFields"];
        assert_eq!(fields.as_array().unwrap().len(), 1);
        assert_eq!(fields[0]["manager"], "kubectl");
        assert!(fields[0]["fieldsV1"].get("f:status").is_none());
        assert!(fields[0]["fieldsV1"]["f:metadata"].get("f:name").is_none());
    }

    #[test]
    fn custom_resource_lists_are_atomic() {
        let sj = |queue: &str| {
            json!({
                "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob",
                "metadata": {"name": "agents", "namespace": "default"},
                "spec": {"pollingInterval": 5, "triggers": [
                    {"type": "rabbitmq", "metadata": {"queueName": queue}}
                ]}
            })
        };
        let live = stored(apply(None, &sj("q1"), "kubectl", false, T1).unwrap());
        assert_eq!(
            live["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:spec": {"f:pollingInterval": {}, "f:triggers": {}}})
        );
        let err = apply(Some(&live), &sj("q2"), "other", false, T2).unwrap_err();
        assert_eq!(err[0].field, ".spec.triggers");
        let out = apply(Some(&live), &sj("q2"), "kubectl", false, T2).unwrap();
        assert_eq!(out["spec"]["triggers"][0]["metadata"]["queueName"], "q2");
    }

    #[test]
    fn display_paths() {
        assert_eq!(
            display_path(&[
                "f:spec".into(),
                "k:{\"containerPort\":80}".into(),
                "f:x".into(),
                "v:\"a\"".into()
            ]),
            ".spec[containerPort=80].x[=\"a\"]"
        );
    }
}
