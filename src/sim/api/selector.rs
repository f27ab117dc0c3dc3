//! Field selectors as list and watch requests carry them (label selectors are
//! [`crate::fleet::selector::Selector`]).
//!
//! Fields: `path=value`, `path==value`, `path!=value` over the object's JSON, e.g.
//! `metadata.name`, `status.phase`, `involvedObject.uid`, `spec.nodeName`. `status.successful`
//! on Jobs reads `status.succeeded`, as the Job field selector does.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = vec![];
        for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (path, eq, value) = if let Some((k, v)) = p.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = p.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = p.split_once('=') {
                (k, true, v)
            } else {
                return Err(format!("invalid selector: '{p}'; can't understand '{p}'"));
            };
            reqs.push((path.trim().to_string(), eq, value.trim().to_string()));
        }
        Ok(Self(reqs))
    }

    /// Selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(path, eq, want)| {
            let got = field_value(obj, path);
            (got == *want) == *eq
        })
    }

    /// The value the selector requires for `path`, if it pins one (`metadata.name=x`).
    pub fn pinned(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(p, eq, _)| p == path && *eq)
            .map(|(_, _, v)| v.as_str())
    }
}

/// A field's value as a selector compares it: strings as they are, numbers and booleans in
/// their JSON form, missing as "".
fn field_value(obj: &Value, path: &str) -> String {
    let path = match (obj["kind"].as_str(), path) {
        (Some("Job"), "status.successful") => "status.succeeded",
        _ => path,
    };
    let mut v = obj;
    for seg in path.split('.') {
        v = &v[seg];
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Null => match path {
            "status.succeeded" => "0".into(),
            _ => String::new(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields() {
        let o = json!({"kind": "Job", "metadata": {"name": "j"}, "status": {"succeeded": 1}});
        assert!(FieldSelector::parse("metadata.name=j").unwrap().matches(&o));
        assert!(
            FieldSelector::parse("status.successful=1")
                .unwrap()
                .matches(&o)
        );
        assert!(
            !FieldSelector::parse("metadata.name!=j")
                .unwrap()
                .matches(&o)
        );
        let ev =
            json!({"involvedObject": {"kind": "Pod", "name": "p", "namespace": "n", "uid": "u"}});
        let sel = FieldSelector::parse("involvedObject.kind=Pod,involvedObject.name=p,involvedObject.namespace=n,involvedObject.uid=u").unwrap();
        assert!(sel.matches(&ev));
        assert_eq!(
            FieldSelector::parse("metadata.name=x")
                .unwrap()
                .pinned("metadata.name"),
            Some("x")
        );
        assert!(FieldSelector::parse("nonsense").is_err());
    }
}
