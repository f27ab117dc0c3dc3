//! The three non-apply patch formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
//! Kubernetes' strategic merge patch for built-in kinds, plus the merge-key table that
//! server-side apply (`apply.rs`) shares.
//!
//! All functions are pure: they take the stored object and the parsed patch body and return the
//! patched object. This file holds what the formats share (errors, limits, the merge-key table)
//! and the merge patch; [`json`] the JSON patch; [`strategic`] the strategic merge patch.

mod json;
mod strategic;
#[cfg(test)]
mod tests;

pub use json::{json_patch, json_patch_bounded};
pub use strategic::strategic_merge_patch;

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
