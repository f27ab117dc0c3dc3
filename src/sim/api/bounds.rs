//! The bounds every object the server accepts keeps: nested at most [`MAX_DEPTH`] levels deep
//! (so that it always round-trips through JSON, the watch stream and the state file, whose
//! readers stop at 128 levels) and at most [`MAX_OBJECT_BYTES`] as JSON. Checked on every
//! decoded body and on every object a patch or an apply produces.

use serde_json::Value;

use super::status::ApiError;

/// The deepest nesting accepted: objects and arrays inside one another. Real objects stay far
/// below (a CRD's schema is the deepest at ~30); the margin to serde_json's 128 leaves room
/// for the envelopes an object travels in (watch events, Tables, the state file).
pub const MAX_DEPTH: usize = 100;

/// The largest object accepted, as JSON: the request-body limit.
pub const MAX_OBJECT_BYTES: usize = super::request::MAX_BODY;

/// How deeply `v` nests (a scalar is 0, `{}` and `[]` are 1), without recursion; stops
/// counting past `limit`.
pub fn depth_within(v: &Value, limit: usize) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Object(m) => Box::new(m.values()),
            Value::Array(a) => Box::new(a.iter()),
            _ => continue,
        };
        let d = d + 1;
        deepest = deepest.max(d);
        if deepest > limit {
            return deepest;
        }
        stack.extend(children.map(|c| (c, d)));
    }
    deepest
}

/// The length of `v` as compact JSON, or None when it exceeds `limit` (counting stops there).
pub fn json_len_within(v: &Value, limit: usize) -> Option<usize> {
    struct Count {
        n: usize,
        limit: usize,
    }
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.n += buf.len();
            if self.n > self.limit {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count { n: 0, limit };
    serde_json::to_writer(&mut c, v).ok()?;
    Some(c.n)
}

/// The object is too deep for the store to keep (422) or too large (413).
pub fn check(v: &Value) -> Result<(), ApiError> {
    let d = depth_within(v, MAX_DEPTH);
    if d > MAX_DEPTH {
        return Err(too_deep());
    }
    if json_len_within(v, MAX_OBJECT_BYTES).is_none() {
        return Err(ApiError::too_large(MAX_OBJECT_BYTES));
    }
    Ok(())
}

pub fn too_deep() -> ApiError {
    ApiError::new(
        422,
        "Invalid",
        format!(
            "the object is nested more than {MAX_DEPTH} levels deep; flatten it (at most {MAX_DEPTH} levels are kept)"
        ),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        let mut v = json!(1);
        for _ in 0..levels {
            v = json!({ "a": v });
        }
        v
    }

    #[test]
    fn depth_counts_containers() {
        assert_eq!(depth_within(&json!(1), 10), 0);
        assert_eq!(depth_within(&json!({}), 10), 1);
        assert_eq!(depth_within(&json!({"a": [1, {"b": []}]}), 10), 4);
        assert_eq!(depth_within(&nested(50), 10), 11);
    }

    #[test]
    fn check_refuses_deep_and_large_objects() {
        assert!(check(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(check(&nested(MAX_DEPTH + 1)).unwrap_err().code, 422);
        let big = json!({"data": "x".repeat(MAX_OBJECT_BYTES)});
        assert_eq!(check(&big).unwrap_err().code, 413);
        assert_eq!(json_len_within(&json!({"a": 1}), 100), Some(7));
    }

    #[test]
    fn the_deepest_object_accepted_round_trips_in_its_envelopes() {
        let obj = nested(MAX_DEPTH - 1);
        // A watch event, and the state file's entry inside its list.
        let wrapped = json!({"rv": 1, "objects": [{"group": "", "plural": "x", "object": {"type": "ADDED", "object": obj}}]});
        let text = serde_json::to_string(&wrapped).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, wrapped);
    }
}
