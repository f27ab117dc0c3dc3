//! Label selectors, written once: parsed from kubectl's string syntax (`-l`, the API's
//! `labelSelector` parameter) or read from a `metav1.LabelSelector` in JSON, matched against
//! labels, and written back in the canonical string form (`metav1.FormatLabelSelector`).
//!
//! The string syntax is kubectl's: comma-separated requirements `k=v`, `k==v`, `k!=v`,
//! `k in (a,b)`, `k notin (a,b)`, `k` and `!k`. Keys and values are checked as label keys and
//! values are. A selector keeps its requirements sorted by key (stably), so two selectors that
//! print alike compare equal, and `Selector::parse(&s.to_string()) == Ok(s)`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a selector could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("unable to parse requirement: invalid label key \"{0}\"")]
    InvalidKey(String),
    #[error("unable to parse requirement: invalid label value \"{0}\"")]
    InvalidValue(String),
    #[error("unable to parse requirement: found '{found}', expected: {expected}")]
    Syntax { found: String, expected: String },
    #[error("\"{0}\" is not a valid label selector operator")]
    InvalidOperator(String),
    #[error("for '{0}' operator, values set can't be empty")]
    EmptyValues(String),
    #[error("values set must be empty for exists and does not exist")]
    ValuesNotAllowed,
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Requirement {
    /// `k=v` (also `k==v`, and every `matchLabels` entry).
    Equals { key: String, value: String },
    /// `k!=v`: also true when the label is absent.
    NotEquals { key: String, value: String },
    /// `k in (a,b)`.
    In {
        key: String,
        values: BTreeSet<String>,
    },
    /// `k notin (a,b)`: also true when the label is absent.
    NotIn {
        key: String,
        values: BTreeSet<String>,
    },
    /// `k`.
    Exists { key: String },
    /// `!k`.
    DoesNotExist { key: String },
}

impl Requirement {
    pub fn key(&self) -> &str {
        match self {
            Requirement::Equals { key, .. }
            | Requirement::NotEquals { key, .. }
            | Requirement::In { key, .. }
            | Requirement::NotIn { key, .. }
            | Requirement::Exists { key }
            | Requirement::DoesNotExist { key } => key,
        }
    }

    /// Whether the label value `got` (None when absent) satisfies the requirement.
    pub fn matches_value(&self, got: Option<&str>) -> bool {
        match self {
            Requirement::Equals { value, .. } => got == Some(value.as_str()),
            Requirement::NotEquals { value, .. } => got != Some(value.as_str()),
            Requirement::In { values, .. } => got.is_some_and(|g| values.contains(g)),
            Requirement::NotIn { values, .. } => !got.is_some_and(|g| values.contains(g)),
            Requirement::Exists { .. } => got.is_some(),
            Requirement::DoesNotExist { .. } => got.is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |values: &BTreeSet<String>| values.iter().cloned().collect::<Vec<_>>().join(",");
        match self {
            Requirement::Equals { key, value } => write!(f, "{key}={value}"),
            Requirement::NotEquals { key, value } => write!(f, "{key}!={value}"),
            Requirement::In { key, values } => write!(f, "{key} in ({})", set(values)),
            Requirement::NotIn { key, values } => write!(f, "{key} notin ({})", set(values)),
            Requirement::Exists { key } => write!(f, "{key}"),
            Requirement::DoesNotExist { key } => write!(f, "!{key}"),
        }
    }
}

/// A label selector: every requirement must hold. Empty selects everything;
/// [`Selector::nothing`] selects nothing (a null `metav1.LabelSelector`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Selector {
    requirements: Vec<Requirement>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    nothing: bool,
}

impl Selector {
    /// Selects everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Selects nothing. It prints as the empty string, as Kubernetes' own does.
    pub fn nothing() -> Self {
        Selector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// `k=v` for every label.
    pub fn from_labels(labels: BTreeMap<String, String>) -> Self {
        Self::new(
            labels
                .into_iter()
                .map(|(key, value)| Requirement::Equals { key, value })
                .collect(),
        )
    }

    /// These requirements, sorted by key.
    pub fn new(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key().cmp(b.key()));
        Selector {
            requirements,
            nothing: false,
        }
    }

    /// kubectl's selector syntax; the empty string selects everything.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let p = part.trim();
            if !p.is_empty() {
                reqs.push(requirement(p)?);
            }
        }
        Ok(Self::new(reqs))
    }

    /// A `metav1.LabelSelector` (`matchLabels` and `matchExpressions` with `In`, `NotIn`,
    /// `Exists`, `DoesNotExist`), as `LabelSelectorAsSelector` reads it: null selects nothing,
    /// `{}` everything, and an unknown operator or a misplaced values list is an error.
    pub fn from_json(v: &Value) -> Result<Self, SelectorError> {
        if v.is_null() {
            return Ok(Self::nothing());
        }
        let mut reqs = Vec::new();
        if let Some(m) = v.get("matchLabels").and_then(Value::as_object) {
            for (k, val) in m {
                let value = val.as_str().unwrap_or_default();
                reqs.push(Requirement::Equals {
                    key: key(k)?,
                    value: label_value(value)?,
                });
            }
        }
        let exprs = v.get("matchExpressions").and_then(Value::as_array);
        for e in exprs.into_iter().flatten() {
            let k = key(e.get("key").and_then(Value::as_str).unwrap_or_default())?;
            let values = e
                .get("values")
                .and_then(Value::as_array)
                .map(|vs| {
                    vs.iter()
                        .map(|v| label_value(v.as_str().unwrap_or_default()))
                        .collect::<Result<BTreeSet<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default();
            let op = e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default();
            reqs.push(match op {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(SelectorError::EmptyValues(op.to_lowercase()));
                }
                "In" => Requirement::In { key: k, values },
                "NotIn" => Requirement::NotIn { key: k, values },
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(SelectorError::ValuesNotAllowed);
                }
                "Exists" => Requirement::Exists { key: k },
                "DoesNotExist" => Requirement::DoesNotExist { key: k },
                other => return Err(SelectorError::InvalidOperator(other.to_string())),
            });
        }
        Ok(Self::new(reqs))
    }

    /// A selector field as the fleet model reads it: absent or null selects everything (the
    /// model's reading of a PDB without a selector), one Kubernetes cannot read selects
    /// nothing.
    pub fn from_json_field(v: Option<&Value>) -> Self {
        match v {
            None | Some(Value::Null) => Self::everything(),
            Some(v) => Self::from_json(v).unwrap_or_else(|_| Self::nothing()),
        }
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty() && !self.nothing
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|k| labels.get(k).map(String::as_str))
    }

    /// Matches against labels looked up by `get` (no map needs building).
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        !self.nothing
            && self
                .requirements
                .iter()
                .all(|r| r.matches_value(get(r.key())))
    }

    /// Matches a wire object's `metadata.labels`.
    pub fn matches_object(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        self.matches_with(|k| labels.get(k).and_then(Value::as_str))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = vec![];
    let (mut depth, mut start) = (0i32, 0);
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

/// One trimmed, non-empty requirement.
fn requirement(p: &str) -> Result<Requirement, SelectorError> {
    if let Some(rest) = p.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist { key: key(rest)? });
    }
    if !p.contains('(')
        && let Some(i) = p.find(['=', '!'])
    {
        let (k, rest) = p.split_at(i);
        let (equal, value) = if let Some(v) = rest.strip_prefix("!=") {
            (false, v)
        } else if let Some(v) = rest.strip_prefix("==") {
            (true, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (true, v)
        } else {
            return Err(SelectorError::Syntax {
                found: rest.to_string(),
                expected: "=, ==, !=".into(),
            });
        };
        let (key, value) = (key(k)?, label_value(value.trim())?);
        return Ok(if equal {
            Requirement::Equals { key, value }
        } else {
            Requirement::NotEquals { key, value }
        });
    }
    let end = p
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(p.len());
    let (k, rest) = p.split_at(end);
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Ok(Requirement::Exists { key: key(k)? });
    }
    let (negated, set) = if let Some(s) = rest.strip_prefix("notin") {
        (true, s)
    } else if let Some(s) = rest.strip_prefix("in") {
        (false, s)
    } else {
        return Err(SelectorError::Syntax {
            found: rest.to_string(),
            expected: "in, notin, =, ==, !=".into(),
        });
    };
    let set = set.trim();
    let inner = set
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| SelectorError::Syntax {
            found: set.to_string(),
            expected: "'('".into(),
        })?;
    // As in kubectl, `()` is the set holding the empty value and `(a,)` holds "a" and "".
    let values = inner
        .split(',')
        .map(|v| label_value(v.trim()))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let key = key(k)?;
    Ok(if negated {
        Requirement::NotIn { key, values }
    } else {
        Requirement::In { key, values }
    })
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_` and `.`, beginning and ending alphanumeric.
fn key(k: &str) -> Result<String, SelectorError> {
    let k = k.trim();
    let bad = || SelectorError::InvalidKey(k.to_string());
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        let ok = !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !ok {
            return Err(bad());
        }
    }
    if name.is_empty() || !name_part(name) {
        return Err(bad());
    }
    Ok(k.to_string())
}

/// A label value: empty, or a name part.
fn label_value(v: &str) -> Result<String, SelectorError> {
    if v.is_empty() || name_part(v) {
        Ok(v.to_string())
    } else {
        Err(SelectorError::InvalidValue(v.to_string()))
    }
}

fn name_part(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    s.len() <= 63
        && s.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        && s.chars().next().is_some_and(alnum)
        && s.chars().last().is_some_and(alnum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_full_kubectl_syntax() {
        let l = labels(&[("app", "ai-agent"), ("tier", "x")]);
        for (sel, want) in [
            ("app=ai-agent", true),
            ("app==ai-agent", true),
            ("app!=ai-agent", false),
            ("app != other", true),
            ("app in (a,ai-agent)", true),
            ("app in(a, ai-agent)", true),
            ("app notin (ai-agent)", false),
            ("missing notin (x)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing,app=ai-agent", true),
            ("app=ai-agent,tier in (y, z)", false),
            ("app = ai-agent, tier = x", true),
            ("", true),
        ] {
            assert_eq!(Selector::parse(sel).unwrap().matches(&l), want, "{sel}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (sel, msg) in [
            (
                "app in x",
                "unable to parse requirement: found 'x', expected: '('",
            ),
            (
                "a b",
                "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=",
            ),
            ("=x", "unable to parse requirement: invalid label key \"\""),
            (
                "app=a b",
                "unable to parse requirement: invalid label value \"a b\"",
            ),
            (
                "-app",
                "unable to parse requirement: invalid label key \"-app\"",
            ),
        ] {
            assert_eq!(Selector::parse(sel).unwrap_err().to_string(), msg, "{sel}");
        }
    }

    #[test]
    fn canonical_form_sorts_by_key_and_values() {
        let s = Selector::parse("tier in (b,a,a), app==x, !gone").unwrap();
        assert_eq!(s.to_string(), "app=x,!gone,tier in (a,b)");
        assert_eq!(
            Selector::from_labels(labels(&[("b", "2"), ("a", "1")])).to_string(),
            "a=1,b=2"
        );
    }

    #[test]
    fn json_selectors() {
        let l = labels(&[("app", "ai-agent"), ("tier", "a")]);
        let sel = |op: &str, values: &[&str]| {
            Selector::from_json(&json!({"matchExpressions": [
                {"key": "tier", "operator": op, "values": values}
            ]}))
        };
        assert!(sel("In", &["a", "b"]).unwrap().matches(&l));
        assert!(!sel("NotIn", &["a"]).unwrap().matches(&l));
        assert!(sel("Exists", &[]).unwrap().matches(&l));
        assert!(!sel("DoesNotExist", &[]).unwrap().matches(&l));
        assert!(sel("In", &[]).is_err());
        assert!(sel("Exists", &["a"]).is_err());
        assert!(sel("Like", &["a"]).is_err());
        assert!(Selector::from_json(&json!({})).unwrap().matches(&l));
        assert!(!Selector::from_json(&Value::Null).unwrap().matches(&l));
        let s = Selector::from_json(&json!({
            "matchLabels": {"app": "ai-agent"},
            "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["x"]}]
        }))
        .unwrap();
        assert_eq!(s.to_string(), "app=ai-agent,app notin (x)");
        assert!(s.matches(&l));
        assert!(s.matches_object(&json!({"metadata": {"labels": {"app": "ai-agent"}}})));
        assert!(!s.matches_object(&json!({"metadata": {}})));
    }

    #[test]
    fn serde_round_trip() {
        for s in [
            Selector::parse("a in (x,y),!b").unwrap(),
            Selector::nothing(),
        ] {
            let back: Selector = serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
            assert_eq!(back, s);
        }
    }

    // Property tests: the string form reads back as the same selector, and a selector read
    // from JSON matches exactly what the metav1 semantics select.

    fn arb_key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c]",
            "[a-z][a-z0-9._-]{0,6}[a-z0-9]",
            "[a-z]{1,4}\\.io/[a-z][a-z0-9-]{0,4}[a-z0-9]",
        ]
    }

    fn arb_value() -> impl Strategy<Value = String> {
        prop_oneof!["", "[xyz]", "[a-z0-9][a-z0-9._-]{0,5}[a-z0-9]"]
    }

    fn arb_requirement() -> impl Strategy<Value = Requirement> {
        let set = || proptest::collection::btree_set(arb_value(), 1..4);
        prop_oneof![
            (arb_key(), arb_value()).prop_map(|(key, value)| Requirement::Equals { key, value }),
            (arb_key(), arb_value()).prop_map(|(key, value)| Requirement::NotEquals { key, value }),
            (arb_key(), set()).prop_map(|(key, values)| Requirement::In { key, values }),
            (arb_key(), set()).prop_map(|(key, values)| Requirement::NotIn { key, values }),
            arb_key().prop_map(|key| Requirement::Exists { key }),
            arb_key().prop_map(|key| Requirement::DoesNotExist { key }),
        ]
    }

    /// A metav1.LabelSelector in JSON.
    fn arb_json() -> impl Strategy<Value = Value> {
        let expr = (
            arb_key(),
            prop_oneof!["In", "NotIn", "Exists", "DoesNotExist"],
            proptest::collection::vec("[xyz]", 1..3),
        )
            .prop_map(|(key, op, values)| {
                let values = if op == "In" || op == "NotIn" {
                    values
                } else {
                    vec![]
                };
                json!({"key": key, "operator": op, "values": values})
            });
        (
            proptest::collection::btree_map(arb_key(), "[xyz]", 0..3),
            proptest::collection::vec(expr, 0..3),
        )
            .prop_map(|(ml, me)| json!({"matchLabels": ml, "matchExpressions": me}))
    }

    /// The metav1 semantics, written out independently of the code under test.
    fn json_selects(sel: &Value, labels: &BTreeMap<String, String>) -> bool {
        let ml = sel["matchLabels"].as_object().into_iter().flatten();
        let ml_ok = ml
            .into_iter()
            .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
        let me = sel["matchExpressions"].as_array().into_iter().flatten();
        ml_ok
            && me.into_iter().all(|e| {
                let have = labels.get(e["key"].as_str().unwrap_or_default());
                let values: Vec<&str> = e["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                match e["operator"].as_str().unwrap_or_default() {
                    "In" => have.is_some_and(|h| values.contains(&h.as_str())),
                    "NotIn" => !have.is_some_and(|h| values.contains(&h.as_str())),
                    "Exists" => have.is_some(),
                    _ => have.is_none(),
                }
            })
    }

    fn arb_labels() -> impl Strategy<Value = BTreeMap<String, String>> {
        proptest::collection::btree_map(arb_key(), "[xyz]|", 0..5)
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(reqs in proptest::collection::vec(arb_requirement(), 0..5)) {
            let s = Selector::new(reqs);
            prop_assert_eq!(Selector::parse(&s.to_string()), Ok(s));
        }

        #[test]
        fn json_and_string_forms_select_alike(sel in arb_json(), labels in arb_labels()) {
            let s = Selector::from_json(&sel).unwrap();
            let reparsed = Selector::parse(&s.to_string()).unwrap();
            prop_assert_eq!(&reparsed, &s);
            prop_assert_eq!(s.matches(&labels), json_selects(&sel, &labels));
            prop_assert_eq!(reparsed.matches(&labels), json_selects(&sel, &labels));
        }
    }
}
