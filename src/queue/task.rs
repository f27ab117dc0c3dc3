//! The task message: JSON, one per AMQP message, with `message_id` equal to the task id.
//!
//! ```json
//! {"id": "…uuid…", "kind": "demo", "prompt": "…", "steps": 5, "step_ms": 1000,
//!  "created_at": "2026-11-28T07:00:00Z", "fail_times": 1}
//! ```
//!
//! Fields beyond the six named ones (`fail_times`, `memory_mb`, …) ride along in `extra`, so a
//! payload file can ask the sim executor for failures or memory without this type knowing every
//! knob.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub const DEFAULT_STEPS: u32 = 5;
pub const DEFAULT_STEP_MS: u64 = 1000;
pub const CONTENT_TYPE: &str = "application/json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: Uuid,
    pub kind: String,
    pub prompt: String,
    pub steps: u32,
    pub step_ms: u64,
    pub created_at: Timestamp,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What every task of one seeding shares; [`Template::task`] stamps out the individual tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub kind: String,
    /// The prompt; `{n}` is replaced by the task's 1-based number in the seeding.
    pub prompt: String,
    pub steps: u32,
    pub step_ms: u64,
    pub extra: Map<String, Value>,
}

impl Template {
    pub fn new(kind: &str, steps: u32, step_ms: u64) -> Self {
        Self {
            kind: kind.to_string(),
            prompt: "demo task {n}".to_string(),
            steps,
            step_ms,
            extra: Map::new(),
        }
    }

    /// This template with the fields of one payload object laid over it. Fails with a message
    /// naming the field when a known field has the wrong type or the payload sets `id`.
    pub fn overlay(&self, payload: &Value) -> Result<Self, PayloadError> {
        let Value::Object(fields) = payload else {
            return Err(PayloadError::NotAnObject(kind_of(payload)));
        };
        let mut t = self.clone();
        for (key, value) in fields {
            match key.as_str() {
                "id" | "created_at" => return Err(PayloadError::Generated(key.clone())),
                "kind" => t.kind = as_str(key, value)?,
                "prompt" => t.prompt = as_str(key, value)?,
                "steps" => {
                    t.steps = u32::try_from(as_u64(key, value)?)
                        .map_err(|_| PayloadError::TooLarge(value.to_string()))?
                }
                "step_ms" => t.step_ms = as_u64(key, value)?,
                _ => {
                    t.extra.insert(key.clone(), value.clone());
                }
            }
        }
        Ok(t)
    }

    /// Task number `n` (1-based) of a seeding.
    pub fn task(&self, id: Uuid, n: u64, now: Timestamp) -> Task {
        Task {
            id,
            kind: self.kind.clone(),
            prompt: self.prompt.replace("{n}", &n.to_string()),
            steps: self.steps,
            step_ms: self.step_ms,
            created_at: now,
            extra: self.extra.clone(),
        }
    }
}

/// Why a payload document cannot make task templates; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("expected a JSON object or an array of objects, found {0}")]
    NotAnObject(&'static str),
    #[error("sets \"{0}\", which is generated for every task; remove it")]
    Generated(String),
    #[error("\"{0}\" must be a string, found {1}")]
    NotAString(String, &'static str),
    #[error("\"{0}\" must be a whole number ≥ 0, found {1}")]
    NotACount(String, String),
    #[error("\"steps\" is too large: {0}")]
    TooLarge(String),
    #[error("the array is empty")]
    EmptyArray,
    #[error("element {0}: {1}")]
    Element(usize, Box<PayloadError>),
}

/// The templates a payload document yields: one for an object, one per element for an array.
pub fn templates_from_payload(base: &Template, doc: &Value) -> Result<Vec<Template>, PayloadError> {
    match doc {
        Value::Array(items) if items.is_empty() => Err(PayloadError::EmptyArray),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                base.overlay(v)
                    .map_err(|e| PayloadError::Element(i, Box::new(e)))
            })
            .collect(),
        other => Ok(vec![base.overlay(other)?]),
    }
}

fn as_str(key: &str, v: &Value) -> Result<String, PayloadError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| PayloadError::NotAString(key.to_string(), kind_of(v)))
}

fn as_u64(key: &str, v: &Value) -> Result<u64, PayloadError> {
    v.as_u64()
        .ok_or_else(|| PayloadError::NotACount(key.to_string(), v.to_string()))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-11-28T07:00:00Z".parse().unwrap()
    }

    #[test]
    fn task_json_has_the_documented_fields() {
        let t = Template::new("demo", 3, 250).task(Uuid::nil(), 7, now());
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(
            v,
            json!({"id": "00000000-0000-0000-0000-000000000000", "kind": "demo",
                   "prompt": "demo task 7", "steps": 3, "step_ms": 250,
                   "created_at": "2026-11-28T07:00:00Z"})
        );
        let back: Task = serde_json::from_value(v).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn payload_overrides_and_extras() {
        let base = Template::new("demo", 3, 250);
        let ts = templates_from_payload(
            &base,
            &json!([{"kind": "summarise", "steps": 2, "fail_times": 1},
                    {"prompt": "p{n}", "memory_mb": 512}]),
        )
        .unwrap();
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[0].kind, "summarise");
        assert_eq!(ts[0].steps, 2);
        assert_eq!(ts[0].extra["fail_times"], json!(1));
        let t = ts[1].task(Uuid::nil(), 4, now());
        assert_eq!(t.prompt, "p4");
        assert_eq!(t.steps, 3);
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["memory_mb"], json!(512));
    }

    #[test]
    fn payload_errors_name_the_field() {
        let base = Template::new("demo", 3, 250);
        let e = templates_from_payload(&base, &json!({"steps": -1})).unwrap_err();
        assert!(e.to_string().contains("\"steps\""), "{e}");
        let e = templates_from_payload(&base, &json!({"id": "x"})).unwrap_err();
        assert!(e.to_string().contains("generated"), "{e}");
        let e = templates_from_payload(&base, &json!([1])).unwrap_err();
        assert!(e.to_string().contains("element 0"), "{e}");
        assert!(templates_from_payload(&base, &json!([])).is_err());
        assert!(templates_from_payload(&base, &json!("x")).is_err());
    }

    #[test]
    fn the_sample_payloads_are_valid() {
        let doc: Value = serde_json::from_str(include_str!("../../assets/tasks.json")).unwrap();
        let ts = templates_from_payload(&Template::new("demo", 1, 1), &doc).unwrap();
        assert_eq!(ts.len(), 4);
        assert!(ts.iter().any(|t| t.extra.contains_key("fail_times")));
        assert!(ts.iter().any(|t| t.extra.contains_key("memory_mb")));
    }
}
