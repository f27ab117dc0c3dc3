//! The JSONPath subset kubectl's printer columns use (`.a.b`, `[n]`, `[*]`, `['k']`,
//! `[?(@.k=="v")]`), and how Go prints what it selects. Used for CRDs'
//! `additionalPrinterColumns` in Table output.

use serde_json::Value;

/// How Go's `fmt.Fprint` renders a decoded JSON value (what kubectl's JSONPath printer shows).
pub fn go_text(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(x) => x.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_text).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_text(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// One step of a simple JSONPath.
#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
    /// `[?(@.a.b=="x")]`: keep array elements whose field path equals the literal.
    Filter(Vec<String>, Value),
}

fn parse_jsonpath(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    let p = p.strip_prefix('$').unwrap_or(p);
    let mut steps = Vec::new();
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j > start {
                    steps.push(Step::Field(p[start..j].to_string()));
                }
                i = j;
            }
            b'[' => {
                let end = p[i..].find(']').map(|e| e + i)?;
                // A filter can contain ']' only inside quotes; find the closing ")]".
                let end = if p[i + 1..].starts_with("?(") {
                    p[i..].find(")]").map(|e| e + i + 1)?
                } else {
                    end
                };
                let inner = p[i + 1..end].trim();
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
                    let (lhs, rhs) = f.split_once("==")?;
                    let fields = lhs
                        .trim()
                        .strip_prefix('@')?
                        .split('.')
                        .filter(|x| !x.is_empty())
                        .map(String::from)
                        .collect();
                    let rhs = rhs.trim();
                    let lit = if let Some(q) = rhs
                        .strip_prefix('"')
                        .and_then(|r| r.strip_suffix('"'))
                        .or_else(|| rhs.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
                    {
                        Value::String(q.to_string())
                    } else {
                        serde_json::from_str(rhs).ok()?
                    };
                    steps.push(Step::Filter(fields, lit));
                } else if let Some(q) = inner
                    .strip_prefix('\'')
                    .and_then(|x| x.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
                {
                    steps.push(Step::Field(q.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().ok()?));
                }
                i = end + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// Every value a simple JSONPath (`.a.b`, `[n]`, `[*]`, `[?(@.k=="v")]`) selects.
pub fn jsonpath(obj: &Value, path: &str) -> Vec<Value> {
    let Some(steps) = parse_jsonpath(path) else {
        return vec![];
    };
    let mut cur = vec![obj.clone()];
    for step in &steps {
        let mut next = Vec::new();
        for v in &cur {
            match step {
                Step::Field(f) => {
                    if let Some(x) = v.get(f.as_str()) {
                        next.push(x.clone());
                    }
                }
                Step::Index(n) => {
                    if let Some(x) = v.get(*n) {
                        next.push(x.clone());
                    }
                }
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter().cloned()),
                    Value::Object(m) => next.extend(m.values().cloned()),
                    _ => {}
                },
                Step::Filter(fields, lit) => {
                    for e in v.as_array().into_iter().flatten() {
                        let mut x = e;
                        for f in fields {
                            x = &x[f.as_str()];
                        }
                        if x == lit {
                            next.push(e.clone());
                        }
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

pub fn jsonpath_first(obj: &Value, path: &str) -> Option<Value> {
    jsonpath(obj, path).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jsonpath_subset() {
        let v = json!({"a": {"b": [{"k": "x", "v": 1}, {"k": "y", "v": 2}]}, "m": {"dot.key": 5}});
        assert_eq!(jsonpath(&v, ".a.b[1].v"), vec![json!(2)]);
        assert_eq!(jsonpath(&v, "{.a.b[*].k}"), vec![json!("x"), json!("y")]);
        assert_eq!(jsonpath(&v, ".a.b[?(@.k=='y')].v"), vec![json!(2)]);
        assert_eq!(jsonpath(&v, ".a.b[?(@.v==1)].k"), vec![json!("x")]);
        assert_eq!(jsonpath(&v, ".m['dot.key']"), vec![json!(5)]);
        assert!(jsonpath(&v, ".a.c").is_empty());
        assert!(jsonpath(&v, "a b").is_empty());
    }
}
