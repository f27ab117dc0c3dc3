//! JSON patch (RFC 6902), bounded in what it may build.

use serde_json::Value;

use super::PatchError::{self, BadRequest, TooLarge, Unprocessable};
use super::{MAX_JSON_PATCH_OPS, PatchLimits};

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
        if crate::sim::api::bounds::depth_within(v, room) > room {
            return Err(Unprocessable(format!(
                "the patched object would be nested more than {} levels deep",
                limits.max_depth
            )));
        }
        let left = limits.max_added_bytes.saturating_sub(added);
        match crate::sim::api::bounds::json_len_within(v, left) {
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
