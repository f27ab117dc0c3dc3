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

mod fieldset;
mod managed;
#[cfg(test)]
mod tests;
mod walk;

use self::fieldset::*;
use self::managed::*;
use self::walk::*;

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
    let none = json!({});
    let cmp = compare(old.unwrap_or(&none), new, builtin);
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
