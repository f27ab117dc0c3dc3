//! Label and field selectors as list and watch requests carry them.
//!
//! Labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated.
//! Fields: `path=value`, `path==value`, `path!=value` over the object's JSON, e.g.
//! `metadata.name`, `status.phase`, `involvedObject.uid`, `spec.nodeName`. `status.successful`
//! on Jobs reads `status.succeeded`, as the Job field selector does.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector(Vec<LabelReq>);

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = vec![];
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let req = if let Some(rest) = p.strip_prefix('!') {
                LabelReq::NotExists(key(rest)?)
            } else if let Some((k, v)) = p.split_once("!=") {
                LabelReq::Ne(key(k)?, v.trim().to_string())
            } else if let Some((k, v)) = p.split_once("==") {
                LabelReq::Eq(key(k)?, v.trim().to_string())
            } else if let Some((k, v)) = p.split_once('=') {
                LabelReq::Eq(key(k)?, v.trim().to_string())
            } else if let Some((k, vs)) = set_op(p, " notin ") {
                LabelReq::NotIn(key(k)?, vs?)
            } else if let Some((k, vs)) = set_op(p, " in ") {
                LabelReq::In(key(k)?, vs?)
            } else {
                LabelReq::Exists(key(p)?)
            };
            reqs.push(req);
        }
        Ok(Self(reqs))
    }

    /// Selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::Ne(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = vec![];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn set_op<'a>(p: &'a str, op: &str) -> Option<(&'a str, Result<Vec<String>, String>)> {
    let (k, rest) = p.split_once(op)?;
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("unable to parse requirement: found '{rest}', expected: '('"));
    Some((
        k,
        inner.map(|i| {
            i.split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        }),
    ))
}

fn key(k: &str) -> Result<String, String> {
    let k = k.trim();
    if k.is_empty() || k.contains(char::is_whitespace) {
        return Err(format!(
            "unable to parse requirement: invalid label key \"{k}\""
        ));
    }
    Ok(k.to_string())
}

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
    fn labels() {
        let o = json!({"metadata": {"labels": {"app": "ai-agent", "tier": "x"}}});
        for (sel, want) in [
            ("app=ai-agent", true),
            ("app==ai-agent", true),
            ("app!=ai-agent", false),
            ("app in (a,ai-agent)", true),
            ("app notin (ai-agent)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing,app=ai-agent", true),
            ("app=ai-agent,tier in (y, z)", false),
            ("", true),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
        assert!(LabelSelector::parse("app in x").is_err());
    }

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
