//! The files in `assets/`: the Grafana dashboard only queries series that really exist (the
//! agent's metrics contract, kube-state-metrics, the RabbitMQ Prometheus plugin) and uses its
//! datasource variable everywhere; the Dockerfile builds the binary the manifests run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// helpers

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn dashboard() -> Value {
    let path = asset("grafana-dashboard.json");
    serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn panels(dash: &Value) -> Vec<&Value> {
    let list = dash["panels"]
        .as_array()
        .expect("dashboard has a panels array");
    // Panels folded into a row live under the row's own `panels`.
    let mut out = Vec::new();
    for p in list {
        if p["type"] == "row" {
            out.extend(p["panels"].as_array().into_iter().flatten());
        } else {
            out.push(p);
        }
    }
    out
}

fn title(panel: &Value) -> &str {
    panel["title"].as_str().unwrap_or("<untitled>")
}

fn targets(panel: &Value) -> &[Value] {
    panel["targets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("panel {:?} has no targets", title(panel)))
}

/// Every `(panel title, expr)` of the dashboard.
fn exprs(dash: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for panel in panels(dash) {
        for t in targets(panel) {
            let expr = t["expr"].as_str().unwrap_or_else(|| {
                panic!(
                    "a target of panel {:?} has no string expr: {t}",
                    title(panel)
                )
            });
            out.push((title(panel).to_string(), expr.to_string()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// what the dashboard may query

/// `fleetctl agent`'s metrics contract (GET /metrics), with the series of its one histogram.
const AGENT_METRICS: &[&str] = &[
    "agent_tasks_completed_total",
    "agent_task_duration_seconds_bucket",
    "agent_task_duration_seconds_sum",
    "agent_task_duration_seconds_count",
    "agent_llm_tokens_total",
    "agent_task_steps_total",
    "agent_checkpoints_total",
    "agent_inflight_tasks",
    "agent_circuit_open",
    "agent_resident_memory_bytes",
    "agent_info",
];

/// kube-state-metrics series the dashboard uses (names as kube-state-metrics v2 exposes them).
const KUBE_STATE_METRICS: &[&str] = &[
    "kube_pod_container_resource_limits",
    "kube_pod_status_phase",
    "kube_pod_labels",
    "kube_job_status_active",
];

/// RabbitMQ Prometheus plugin series the dashboard uses: the per-queue ones of
/// `/metrics/detailed?family=queue_coarse_metrics` (the default `/metrics` has no `queue` label).
const RABBITMQ_METRICS: &[&str] = &[
    "rabbitmq_detailed_queue_messages_ready",
    "rabbitmq_detailed_queue_messages_unacked",
];

fn allowed() -> BTreeSet<&'static str> {
    AGENT_METRICS
        .iter()
        .chain(KUBE_STATE_METRICS)
        .chain(RABBITMQ_METRICS)
        .copied()
        .collect()
}

/// The metric names of `expr` that are not in the allow-list.
fn unknown_metrics(expr: &str) -> Vec<String> {
    let allowed = allowed();
    metric_names(expr)
        .into_iter()
        .filter(|m| !allowed.contains(m.as_str()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// a small PromQL tokenizer

/// PromQL functions, aggregation operators and keywords: identifiers that are not metric names.
const PROMQL_WORDS: &[&str] = &[
    // aggregation operators
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
    // keywords and binary operators
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "and",
    "or",
    "unless",
    "atan2",
    "start",
    "end",
    "inf",
    "nan",
    "le",
    // functions
    "abs",
    "absent",
    "absent_over_time",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count_over_time",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "deg",
    "delta",
    "deriv",
    "double_exponential_smoothing",
    "exp",
    "floor",
    "histogram_avg",
    "histogram_count",
    "histogram_fraction",
    "histogram_quantile",
    "histogram_stddev",
    "histogram_stdvar",
    "histogram_sum",
    "holt_winters",
    "hour",
    "idelta",
    "increase",
    "irate",
    "label_join",
    "label_replace",
    "last_over_time",
    "ln",
    "log10",
    "log2",
    "mad_over_time",
    "max_over_time",
    "min_over_time",
    "minute",
    "month",
    "pi",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sin",
    "sinh",
    "sort",
    "sort_by_label",
    "sort_by_label_desc",
    "sort_desc",
    "sqrt",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "tan",
    "tanh",
    "time",
    "timestamp",
    "vector",
    "year",
];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LIST_WORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Index just past the string literal that starts at `i` (quote included).
fn skip_string(s: &[char], i: usize) -> usize {
    let quote = s[i];
    let mut j = i + 1;
    while j < s.len() {
        if s[j] == '\\' && quote != '`' {
            j += 2;
            continue;
        }
        if s[j] == quote {
            return j + 1;
        }
        j += 1;
    }
    panic!(
        "unterminated string literal in {:?}",
        s.iter().collect::<String>()
    )
}

/// Index just past the bracket that closes the one at `i`, skipping string literals.
fn skip_group(s: &[char], i: usize, open: char, close: char) -> usize {
    let mut depth = 0;
    let mut j = i;
    while j < s.len() {
        match s[j] {
            '"' | '\'' | '`' => {
                j = skip_string(s, j);
                continue;
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    panic!(
        "unbalanced {open}{close} in {:?}",
        s.iter().collect::<String>()
    )
}

fn skip_spaces(s: &[char], mut i: usize) -> usize {
    while i < s.len() && s[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Metric selectors of a PromQL expression, in order: the metric name and the text of its
/// `{...}` label matchers (empty when there are none).
fn selectors(expr: &str) -> Vec<(String, String)> {
    let s: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            '"' | '\'' | '`' => i = skip_string(&s, i),
            '#' => {
                while i < s.len() && s[i] != '\n' {
                    i += 1;
                }
            }
            // Ranges, subqueries and durations: `[5m]`, `[$__rate_interval]`, `[1h:5m]`.
            '[' => i = skip_group(&s, i, '[', ']'),
            // Matchers without a metric name before them (`{__name__="x"}`): the name would
            // hide from this check, so it is reported as is and fails the allow-list.
            '{' => {
                let end = skip_group(&s, i, '{', '}');
                let body: String = s[i + 1..end - 1].iter().collect();
                if body.contains("__name__") {
                    out.push(("__name__".to_string(), body));
                }
                i = end;
            }
            // Grafana variables: `$namespace`, `${datasource}`, `${queue:regex}`.
            '$' => {
                i += 1;
                if i < s.len() && s[i] == '{' {
                    i = skip_group(&s, i, '{', '}');
                } else {
                    while i < s.len() && is_ident_char(s[i]) {
                        i += 1;
                    }
                }
            }
            // Numbers and durations: `0.99`, `1e3`, `0x1f`, `5m`, `1h30m`.
            c if c.is_ascii_digit()
                || (c == '.' && s.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                while i < s.len() && (is_ident_char(s[i]) || s[i] == '.') {
                    i += 1;
                }
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < s.len() && is_ident_char(s[i]) {
                    i += 1;
                }
                let word: String = s[start..i].iter().collect();
                let next = skip_spaces(&s, i);
                let lower = word.to_ascii_lowercase();
                if LABEL_LIST_WORDS.contains(&lower.as_str()) {
                    if next < s.len() && s[next] == '(' {
                        i = skip_group(&s, next, '(', ')');
                    }
                } else if PROMQL_WORDS.contains(&lower.as_str()) {
                    // a function, an aggregation or a keyword
                } else if next < s.len() && s[next] == '{' {
                    let end = skip_group(&s, next, '{', '}');
                    out.push((word, s[next + 1..end - 1].iter().collect()));
                    i = end;
                } else {
                    out.push((word, String::new()));
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Metric names referenced by a PromQL expression, in order, without duplicates.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, _) in selectors(expr) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// the tokenizer itself

#[test]
fn extractor_finds_the_metric_and_nothing_else() {
    assert_eq!(
        metric_names(r#"sum by (x) (rate(foo_total{a="b"}[5m]))"#),
        ["foo_total"]
    );
}

#[test]
fn extractor_skips_functions_labels_ranges_strings_and_variables() {
    let cases: &[(&str, &[&str])] = &[
        (
            r#"histogram_quantile(0.99, sum by (le) (rate(lat_bucket{namespace="$namespace"}[$__rate_interval])))"#,
            &["lat_bucket"],
        ),
        (
            r#"a_bytes / on (namespace, pod) group_left (node) max by (namespace, pod) (b_bytes{resource="memory"})"#,
            &["a_bytes", "b_bytes"],
        ),
        (
            r#"count(x{phase="Running"} == 1 and on(pod) y{label_app="worker"}) or vector(0)"#,
            &["x", "y"],
        ),
        (
            r#"label_replace(up{job=~"a|b"}, "dst", "$1 {not_a_metric}", "src", "(.*)")"#,
            &["up"],
        ),
        (
            r#"sum without (instance) (increase(c_total[1h] offset 1d)) > bool 0 unless absent(d)"#,
            &["c_total", "d"],
        ),
        (
            r#"max_over_time(rate(e_total{q="}"}[5m])[1h:5m]) * 1e3 + .5 - ${scale}"#,
            &["e_total"],
        ),
        (r#"sum(f) / sum(f)"#, &["f"]),
        (r#"{__name__="hidden"}"#, &["__name__"]),
        (r#"topk(5, sum by (model) (g:rate5m))"#, &["g:rate5m"]),
    ];
    for (expr, want) in cases {
        assert_eq!(metric_names(expr), *want, "{expr}");
    }
}

#[test]
fn allow_list_rejects_unknown_and_misspelled_metrics() {
    // A plausible but wrong name for agent_tasks_completed_total.
    assert_eq!(
        unknown_metrics(r#"sum by (status) (rate(agent_tasks_total{namespace="agents"}[5m]))"#),
        ["agent_tasks_total"]
    );
    // The aggregated /metrics series has no queue label; only the detailed one is allowed.
    assert_eq!(
        unknown_metrics(r#"rabbitmq_queue_messages_ready{queue="agent-tasks"}"#),
        ["rabbitmq_queue_messages_ready"]
    );
    assert!(unknown_metrics(r#"sum(agent_inflight_tasks{namespace="agents"})"#).is_empty());
}

// ---------------------------------------------------------------------------------------------
// the dashboard

const PANEL_TITLES: &[&str] = &[
    "p99 task duration",
    "Token burn rate by model",
    "Tasks by status",
    "In-flight tasks",
    "Circuit breakers open",
    "Memory against limit",
    "Queue depth against pod count",
];

#[test]
fn dashboard_is_grafana_json_with_its_variables() {
    let dash = dashboard();
    let schema = dash["schemaVersion"].as_u64().expect("schemaVersion");
    assert!((36..=41).contains(&schema), "schemaVersion {schema}");
    assert!(dash["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(dash["uid"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        dash["id"].is_null(),
        "an exported dashboard has no database id"
    );

    let vars = dash["templating"]["list"]
        .as_array()
        .expect("templating.list");
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no template variable {name}"))
    };
    let ds = var("datasource");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");
    assert_eq!(var("namespace")["current"]["value"], "agents");
    assert_eq!(var("queue")["current"]["value"], "agent-tasks");
}

#[test]
fn dashboard_has_the_panels_each_described() {
    let dash = dashboard();
    let all = panels(&dash);
    let titles: Vec<&str> = all.iter().map(|p| title(p)).collect();
    for want in PANEL_TITLES {
        assert!(titles.contains(want), "no panel {want:?} in {titles:?}");
    }
    let mut ids = BTreeSet::new();
    for p in &all {
        assert!(
            p["description"].as_str().is_some_and(|d| d.len() > 20),
            "panel {:?} has no description",
            title(p)
        );
        assert!(
            p["gridPos"].is_object(),
            "panel {:?} has no gridPos",
            title(p)
        );
        let id = p["id"].as_u64().expect("panel id");
        assert!(ids.insert(id), "duplicate panel id {id}");
        assert!(
            !targets(p).is_empty(),
            "panel {:?} has no targets",
            title(p)
        );
    }
}

#[test]
fn every_target_has_an_expr_over_known_metrics() {
    let dash = dashboard();
    let allowed = allowed();
    let mut used = BTreeSet::new();
    for (panel, expr) in exprs(&dash) {
        assert!(!expr.trim().is_empty(), "panel {panel:?} has an empty expr");
        let names = metric_names(&expr);
        assert!(!names.is_empty(), "panel {panel:?}: no metric in {expr}");
        for name in names {
            assert!(
                allowed.contains(name.as_str()),
                "panel {panel:?} queries {name}, which is not a known series: {expr}"
            );
            used.insert(name);
        }
    }
    // The kube-state-metrics and RabbitMQ lists hold exactly what the dashboard uses.
    for name in KUBE_STATE_METRICS.iter().chain(RABBITMQ_METRICS) {
        assert!(
            used.contains(*name),
            "{name} is allowed but no panel uses it"
        );
    }
}

#[test]
fn selectors_are_scoped_by_the_variables() {
    let dash = dashboard();
    for (panel, expr) in exprs(&dash) {
        for (name, matchers) in selectors(&expr) {
            let want = if name.starts_with("rabbitmq_") {
                r#"queue="$queue""#
            } else {
                r#"namespace="$namespace""#
            };
            assert!(
                matchers.replace(' ', "").contains(want),
                "panel {panel:?}: {name} is not filtered by {want}: {expr}"
            );
        }
    }
}

#[test]
fn variable_queries_use_known_metrics() {
    let dash = dashboard();
    let allowed = allowed();
    for v in dash["templating"]["list"]
        .as_array()
        .expect("templating.list")
    {
        if v["type"] != "query" {
            continue;
        }
        let query = v["query"]["query"]
            .as_str()
            .or_else(|| v["query"].as_str())
            .unwrap_or_else(|| panic!("variable {} has no query", v["name"]));
        let inner = query
            .strip_prefix("label_values(")
            .and_then(|q| q.strip_suffix(')'))
            .unwrap_or_else(|| panic!("variable {}: expected label_values(...)", v["name"]));
        let (selector, _label) = inner.rsplit_once(',').expect("label_values(metric, label)");
        for name in metric_names(selector) {
            assert!(
                allowed.contains(name.as_str()),
                "variable {} queries unknown {name}",
                v["name"]
            );
        }
    }
}

#[test]
fn no_hard_coded_datasource_uids() {
    fn uses_variable(ds: &Value) -> bool {
        let uid = match ds {
            Value::String(s) => s.as_str(),
            Value::Object(o) => o.get("uid").and_then(Value::as_str).unwrap_or(""),
            _ => "",
        };
        uid == "${datasource}" || uid == "$datasource"
    }
    fn walk(v: &Value, at: &str, bad: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, child) in o {
                    let here = format!("{at}/{k}");
                    if k == "datasource" && !child.is_null() && !uses_variable(child) {
                        bad.push(format!("{here} = {child}"));
                    }
                    walk(child, &here, bad);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), bad);
                }
            }
            _ => {}
        }
    }

    let dash = dashboard();
    let mut bad = Vec::new();
    walk(&dash, "", &mut bad);
    assert!(bad.is_empty(), "hard-coded datasources: {bad:#?}");
    assert!(
        dash.get("__inputs").is_none(),
        "use the datasource variable"
    );

    for p in panels(&dash) {
        assert!(
            uses_variable(&p["datasource"]),
            "panel {:?}: datasource must be ${{datasource}}",
            title(p)
        );
        assert_eq!(
            p["datasource"]["type"],
            "prometheus",
            "panel {:?}",
            title(p)
        );
    }
}

#[test]
fn queue_panel_names_its_rabbitmq_endpoint() {
    let dash = dashboard();
    let panel = panels(&dash)
        .into_iter()
        .find(|p| title(p) == "Queue depth against pod count")
        .expect("queue panel");
    let desc = panel["description"].as_str().unwrap_or_default();
    assert!(
        desc.contains("/metrics/detailed?family=queue_coarse_metrics"),
        "the description says where the per-queue series come from: {desc}"
    );
}

// ---------------------------------------------------------------------------------------------
// the Dockerfile

/// Instructions of a Dockerfile: (upper-case keyword, arguments), continuation lines joined and
/// comments (including parser directives) dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head.trim_end());
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (kw, args) = current
            .split_once(char::is_whitespace)
            .unwrap_or((&current, ""));
        out.push((kw.to_ascii_uppercase(), args.trim().to_string()));
        current.clear();
    }
    assert!(
        current.is_empty(),
        "Dockerfile ends with a continuation line"
    );
    out
}

fn exec_form(args: &str, kw: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("{kw} is not in exec form ({e}): {args}"))
}

fn dockerfile() -> (String, Vec<(String, String)>) {
    let text = read(&asset("Dockerfile"));
    let ins = instructions(&text);
    (text, ins)
}

#[test]
fn dockerfile_instruction_parser() {
    let ins =
        instructions("# syntax=x\nFROM a AS b\n# c\nRUN one \\\n  # gone\n  two\nCMD [\"x\"]\n");
    assert_eq!(
        ins,
        [
            ("FROM".to_string(), "a AS b".to_string()),
            ("RUN".to_string(), "one two".to_string()),
            ("CMD".to_string(), r#"["x"]"#.to_string()),
        ]
    );
}

#[test]
fn dockerfile_has_two_stages_and_a_locked_release_build() {
    let (_, ins) = dockerfile();
    let froms: Vec<&str> = ins
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, a)| a.as_str())
        .collect();
    assert_eq!(froms.len(), 2, "two stages: {froms:?}");
    let build: Vec<&str> = froms[0].split_whitespace().collect();
    assert_eq!(build.len(), 3, "{}", froms[0]);
    assert!(build[0].starts_with("rust:"), "{}", froms[0]);
    assert!(build[1].eq_ignore_ascii_case("as"), "{}", froms[0]);
    let stage = build[2];
    assert!(
        froms[1].starts_with("gcr.io/distroless/"),
        "minimal runtime: {}",
        froms[1]
    );

    let second = ins.iter().rposition(|(k, _)| k == "FROM").unwrap();
    let (build_stage, runtime) = ins.split_at(second);
    let cargo = build_stage
        .iter()
        .find(|(k, a)| k == "RUN" && a.contains("cargo build"))
        .map(|(_, a)| a.as_str())
        .expect("a RUN with cargo build in the build stage");
    for flag in ["--locked", "--release", "--bin fleetctl"] {
        assert!(cargo.contains(flag), "cargo build without {flag}: {cargo}");
    }
    assert!(
        runtime.iter().any(|(k, a)| k == "COPY"
            && a.contains(&format!("--from={stage}"))
            && a.ends_with(" /usr/local/bin/fleetctl")),
        "the runtime stage copies the binary from {stage} to /usr/local/bin/fleetctl"
    );
}

#[test]
fn dockerfile_copies_what_cargo_needs() {
    let (_, ins) = dockerfile();
    let copied: BTreeSet<String> = ins
        .iter()
        .filter(|(k, a)| k == "COPY" && !a.starts_with("--from"))
        .flat_map(|(_, a)| {
            let words: Vec<&str> = a
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let sources = &words[..words.len().saturating_sub(1)];
            sources
                .iter()
                .map(|w| w.trim_start_matches("./").trim_end_matches('/').to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `manifests/` is embedded by src/manifests.rs (include_str!).
    let mut needed: BTreeSet<String> = ["Cargo.toml", "Cargo.lock", "src", "manifests"]
        .map(String::from)
        .into();
    if root.join("build.rs").exists() {
        needed.insert("build.rs".into());
    }
    // Every target declared in Cargo.toml must exist for cargo to accept the manifest, even
    // when building only the binary: its `path`, else the default directory of its kind.
    let mut implicit: Option<&str> = None;
    for line in read(&root.join("Cargo.toml")).lines() {
        let line = line.trim();
        if line.starts_with('[') {
            needed.extend(implicit.take().map(String::from));
            implicit = match line {
                "[[bench]]" => Some("benches"),
                "[[test]]" => Some("tests"),
                "[[example]]" => Some("examples"),
                _ => None,
            };
            continue;
        }
        let Some(value) = line
            .strip_prefix("path")
            .and_then(|rest| rest.trim_start().strip_prefix('='))
        else {
            continue;
        };
        let path = value.trim().trim_matches('"');
        needed.insert(path.split('/').next().unwrap_or(path).to_string());
        implicit = None;
    }
    needed.extend(implicit.map(String::from));
    for n in &needed {
        assert!(
            copied.contains(n),
            "the build stage does not COPY {n}: {copied:?}"
        );
    }
}

#[test]
fn dockerfile_runs_fleetctl_agent_as_non_root() {
    let (text, ins) = dockerfile();

    let user = ins
        .iter()
        .rfind(|(k, _)| k == "USER")
        .map(|(_, a)| a.as_str())
        .expect("a USER instruction");
    let last_from = ins.iter().rposition(|(k, _)| k == "FROM").unwrap();
    let last_user = ins.iter().rposition(|(k, _)| k == "USER").unwrap();
    assert!(last_user > last_from, "USER is set in the runtime stage");
    let (uid, gid) = user.split_once(':').unwrap_or((user, ""));
    assert!(
        !["root", "0"].contains(&uid) && !["root", "0"].contains(&gid),
        "non-root USER: {user}"
    );
    // The manifests run as 65532:65532 with runAsNonRoot, which needs a numeric user.
    assert_eq!(user, "65532:65532");

    let last = |kw: &str| {
        ins.iter()
            .rfind(|(k, _)| k == kw)
            .map(|(_, a)| exec_form(a, kw))
            .unwrap_or_default()
    };
    let entrypoint = last("ENTRYPOINT");
    let cmd = last("CMD");
    let argv: Vec<String> = entrypoint.iter().chain(&cmd).cloned().collect();
    assert!(argv.len() >= 2, "ENTRYPOINT + CMD: {argv:?}");
    assert_eq!(
        Path::new(&argv[0]).file_name().and_then(|f| f.to_str()),
        Some("fleetctl"),
        "{argv:?}"
    );
    assert_eq!(argv[1], "agent", "{argv:?}");
    // The manifests override the entrypoint with `command: ["fleetctl", "agent"]`: the binary
    // must sit in a directory of the distroless PATH.
    assert!(argv[0] == "fleetctl" || argv[0] == "/usr/local/bin/fleetctl");

    assert!(
        ins.iter()
            .any(|(k, a)| k == "EXPOSE"
                && a.split_whitespace().any(|p| p == "8080" || p == "8080/tcp")),
        "EXPOSE 8080"
    );

    let build = format!(
        "docker build -f assets/Dockerfile -t ghcr.io/fleetctl/agent:{} .",
        env!("CARGO_PKG_VERSION")
    );
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
    assert!(
        header.iter().any(|l| l.contains(&build)),
        "the leading comment gives the build command `{build}`"
    );
}
