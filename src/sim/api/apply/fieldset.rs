//! Field sets: the owned paths of one manager, in the FieldsV1 trie encoding, and the schema
//! stand-ins that decide how a path is written (list kinds, atomic maps, implicit structs).

use super::*;

// ---------------------------------------------------------------------------------------------
// Field sets
// ---------------------------------------------------------------------------------------------

/// A set of field paths as a trie. Children are keyed by encoded path elements (`f:name`,
/// `k:{"name":"a"}`, `v:"x"`); `member` marks a node that is itself in the set. Nodes that are
/// neither members nor have children are never kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct FieldSet {
    pub(super) member: bool,
    pub(super) children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    pub(super) fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    pub(super) fn insert(&mut self, path: &[String]) {
        let mut node = self;
        for pe in path {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.member = true;
    }

    pub(super) fn node(&self, path: &[String]) -> Option<&FieldSet> {
        path.iter().try_fold(self, |node, pe| node.children.get(pe))
    }

    pub(super) fn union(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (k, c) in &other.children {
            self.children.entry(k.clone()).or_default().union(c);
        }
    }

    /// Removes the members of `other` (not their descendants).
    pub(super) fn difference(&mut self, other: &FieldSet) {
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

    pub(super) fn intersection(&self, other: &FieldSet) -> FieldSet {
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
    pub(super) fn members(&self) -> Vec<Vec<String>> {
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
    pub(super) fn nodes(&self) -> Vec<Vec<String>> {
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
    pub(super) fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".to_string(), json!({}));
        }
        for (k, c) in &self.children {
            m.insert(k.clone(), c.to_fields_v1());
        }
        Value::Object(m)
    }

    pub(super) fn from_fields_v1(v: &Value) -> FieldSet {
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
pub(super) fn strip_ignored(set: &mut FieldSet) {
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

pub(super) fn field_pe(name: &str) -> String {
    format!("f:{name}")
}

/// `.spec.containers[name="agent"].image`, as structured-merge-diff prints paths.
pub(super) fn display_path(path: &[String]) -> String {
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
pub(super) enum ListKind {
    Atomic,
    Keyed(&'static str),
    Set,
}

/// How a list field merges. A list whose items do not fit its declared kind (an item without
/// the key, duplicate keys, maps in a set) is treated as atomic.
pub(super) fn list_kind(field: Option<&str>, a: &[Value], b: &[Value]) -> ListKind {
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
pub(super) fn item_pe(kind: ListKind, item: &Value) -> String {
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
pub(super) fn atomic_map(field: Option<&str>) -> bool {
    field == Some("selector")
}

/// Built-in kinds are typed Go structs; custom resources are unstructured.
pub(super) fn is_builtin(api_version: &str) -> bool {
    match api_version.split_once('/') {
        None => true,
        Some((group, _)) => !group.contains('.') || group.ends_with(".k8s.io"),
    }
}

/// Nodes that always exist in a built-in typed object (non-pointer Go structs reached from the
/// root through non-pointer structs) and so are never "added" by a write. `metadata` is such a
/// node for every kind.
pub(super) fn implicit_struct(path: &[String], builtin: bool) -> bool {
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
