//! Tests of `metrics::parse`.

use super::*;

const LABEL_VALUES: &str = include_str!("../../../tests/fixtures/metrics/label_values.txt");
const COLON_NAMES: &str = include_str!("../../../tests/fixtures/metrics/colon_names.txt");
const HISTOGRAM: &str = include_str!("../../../tests/fixtures/metrics/histogram.txt");
const OPENMETRICS_TOTAL: &str =
    include_str!("../../../tests/fixtures/metrics/openmetrics_total.txt");
const UNREADABLE: &str = include_str!("../../../tests/fixtures/metrics/unreadable.txt");

/// What prometheus-parse itself makes of a fixture.
fn upstream(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

#[test]
fn label_values_with_commas_equals_braces_and_escapes() {
    let s = parse(LABEL_VALUES);
    assert_eq!(s.unreadable_lines, 0, "{:?}", s.unreadable);
    let f = s.family("agent_http_requests_total").unwrap();
    assert_eq!(f.kind, Kind::Counter);
    assert_eq!(
        f.help.as_deref(),
        Some("Requests to tools, by path and query.")
    );
    let got: Vec<(Labels, f64)> = f
        .samples()
        .iter()
        .map(|s| (s.labels.clone(), s.value))
        .collect();
    assert_eq!(
        got,
        [
            (
                labels(&[
                    ("path", "/search,fetch"),
                    ("query", "q=a&n=2"),
                    ("body", "{\"k\":\"v\"}"),
                    ("note", "first\nsecond"),
                    ("dir", "C:\\tools\\"),
                ]),
                7.0
            ),
            (
                // The empty `body` is no label at all.
                labels(&[
                    ("path", "}"),
                    ("query", "="),
                    ("note", "say \"hi\""),
                    ("dir", "\\")
                ]),
                3.0
            ),
            (labels(&[("path", "x"), ("query", "spaced")]), 1.0),
        ]
    );
    // Sorted by name.
    let names: Vec<&str> = got[0].0.iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["body", "dir", "note", "path", "query"]);

    // The trap: prometheus-parse splits on `,` and `=`, keeps escapes and loses the line
    // with `}` in a value.
    let up = upstream(LABEL_VALUES);
    assert!(
        up.samples
            .iter()
            .all(|s| s.labels.get("path") != Some("/search,fetch")),
        "{up:?}"
    );
    assert!(up.samples.iter().all(|s| s.labels.get("path") != Some("}")));
}

#[test]
fn metric_names_with_colons() {
    let s = parse(COLON_NAMES);
    assert_eq!(s.unreadable_lines, 0, "{:?}", s.unreadable);
    let f = s.family("job:agent_tasks:rate5m").unwrap();
    assert_eq!(f.kind, Kind::Gauge);
    assert_eq!(
        f.help.as_deref(),
        Some("Tasks per second, recorded per job.")
    );
    assert_eq!(
        s.value("job:agent_tasks:rate5m", &[("job", "batch")]),
        Some(0.5)
    );
    assert_eq!(s.value("instance:memory_used:ratio", &[]), Some(0.25));
    assert_eq!(
        s.family("instance:memory_used:ratio").unwrap().kind,
        Kind::Untyped
    );

    // The trap: prometheus-parse drops every one of these lines.
    assert!(upstream(COLON_NAMES).samples.is_empty());
}

#[test]
fn histograms_regroup_buckets_sum_and_count() {
    let s = parse(HISTOGRAM);
    assert_eq!(s.unreadable_lines, 0, "{:?}", s.unreadable);
    let f = s.family("agent_task_duration_seconds").unwrap();
    assert_eq!(f.kind, Kind::Histogram);
    assert!(s.family("agent_task_duration_seconds_sum").is_none());
    assert!(s.family("agent_task_duration_seconds_count").is_none());
    let hs = f.histograms();
    assert_eq!(hs.len(), 2);
    let small = hs
        .iter()
        .find(|h| h.labels == labels(&[("model", "small")]))
        .unwrap();
    assert_eq!(
        small.buckets,
        [
            Bucket {
                le: 0.5,
                count: 1.0
            },
            Bucket {
                le: 1.0,
                count: 4.0
            },
            Bucket {
                le: 2.5,
                count: 9.0
            },
            Bucket {
                le: f64::INFINITY,
                count: 10.0
            },
        ]
    );
    assert_eq!((small.sum, small.count), (Some(12.5), Some(10.0)));
    let large = hs
        .iter()
        .find(|h| h.labels.get("model") == Some("large"))
        .unwrap();
    assert_eq!((large.sum, large.count), (Some(9.0), Some(3.0)));

    let rpc = s.family("rpc_seconds").unwrap();
    assert_eq!(rpc.kind, Kind::Summary);
    let sm = &rpc.summaries()[0];
    assert_eq!(
        sm.quantiles,
        [
            Quantile {
                quantile: 0.5,
                value: 0.2
            },
            Quantile {
                quantile: 0.99,
                value: 0.9
            }
        ]
    );
    assert_eq!((sm.sum, sm.count), (Some(40.0), Some(100.0)));

    // The trap: prometheus-parse returns `_sum` and `_count` as separate untyped samples.
    let up = upstream(HISTOGRAM);
    let sum = up
        .samples
        .iter()
        .find(|s| s.metric == "agent_task_duration_seconds_sum")
        .unwrap();
    assert!(matches!(sum.value, prometheus_parse::Value::Untyped(_)));
}

#[test]
fn total_series_are_counters() {
    let s = parse(OPENMETRICS_TOTAL);
    assert_eq!(s.unreadable_lines, 0, "{:?}", s.unreadable);
    let f = s.family("agent_tasks_completed_total").unwrap();
    assert_eq!(f.kind, Kind::Counter);
    assert_eq!(f.help.as_deref(), Some("Tasks finished by this agent."));
    assert_eq!(
        s.value("agent_tasks_completed_total", &[("status", "success")]),
        Some(5.0)
    );
    // The exemplar after the value is not part of it.
    assert_eq!(
        s.value("agent_tasks_completed_total", &[("status", "failure")]),
        Some(1.0)
    );
    // Undeclared `_total`: a counter too.
    assert_eq!(
        s.family("agent_llm_tokens_total").unwrap().kind,
        Kind::Counter
    );
    // `_created` is kept, apart, and not a counter.
    assert_eq!(
        s.family("agent_tasks_completed_created").unwrap().kind,
        Kind::Untyped
    );

    // The trap: prometheus-parse leaves them untyped.
    let up = upstream(OPENMETRICS_TOTAL);
    assert!(
        up.samples
            .iter()
            .all(|s| !matches!(s.value, prometheus_parse::Value::Counter(_)))
    );
}

#[test]
fn unreadable_lines_are_counted_and_shown() {
    let s = parse(UNREADABLE);
    // `{`, `twelve`, trailing `extra`, no name, a duplicate, a bare `# TYPE`.
    assert_eq!(s.unreadable_lines, 6, "{:?}", s.unreadable);
    assert_eq!(
        s.unreadable,
        [
            Unreadable {
                line: 3,
                text: "agent_inflight_tasks{".into()
            },
            Unreadable {
                line: 4,
                text: "agent_steps_total twelve".into()
            },
            Unreadable {
                line: 5,
                text: "agent_steps_total 12 1700000000000 extra".into()
            },
        ]
    );
    // The first of a duplicate stands; the rest of the body is read.
    assert_eq!(s.value("agent_inflight_tasks", &[]), Some(2.0));
    assert_eq!(s.value("agent_circuit_open", &[]), Some(0.0));
    assert!(s.family("agent_steps_total").is_none());

    // Not UTF-8, and a line far too long to keep: unreadable, shown shortened.
    let mut body = b"ok 1\n\xff\xfe 2\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 10_000));
    let s = parse_bytes(&body);
    assert_eq!(s.unreadable_lines, 2);
    assert_eq!(s.unreadable[0].line, 2);
    assert_eq!(s.unreadable[1].text.chars().count(), EXAMPLE_CHARS);
    assert_eq!(s.value("ok", &[]), Some(1.0));
    assert_eq!(s.bytes, body.len());
}

#[test]
fn the_agents_own_exposition_reads_whole() {
    let m = crate::agent::telemetry::Metrics::new("3");
    m.task_done(crate::agent::telemetry::Status::Success);
    m.tokens("sim", 330);
    m.observe_duration(0.3);
    m.observe_duration(7.0);
    let s = parse(&m.encode());
    assert_eq!(s.unreadable_lines, 0, "{:?}", s.unreadable);
    let kind = |n: &str| s.family(n).map(|f| f.kind);
    assert_eq!(kind("agent_tasks_completed_total"), Some(Kind::Counter));
    assert_eq!(kind("agent_llm_tokens_total"), Some(Kind::Counter));
    assert_eq!(kind("agent_resident_memory_bytes"), Some(Kind::Gauge));
    assert_eq!(kind("agent_task_duration_seconds"), Some(Kind::Histogram));
    assert_eq!(
        s.value("agent_tasks_completed_total", &[("status", "success")]),
        Some(1.0)
    );
    let h = &s.histograms("agent_task_duration_seconds")[0];
    assert_eq!((h.count, h.sum), (Some(2.0), Some(7.3)));
    assert_eq!(h.buckets.len(), 15);
    assert_eq!(h.buckets.last().unwrap().le, f64::INFINITY);
}

#[test]
fn odd_but_valid_lines() {
    let s = parse(
        "a{} 1\n\
         b\t2\t1700000000000\n\
         c{x=\"1\"} -Inf\n\
         d NaN\n\
         e 3 1.5\n\
         \u{20}\u{20}f 4\r\n\
         # a comment that is no directive\n\
         #TYPE g counter\n",
    );
    assert_eq!(s.unreadable_lines, 0, "{:?}", s.unreadable);
    assert_eq!(s.value("a", &[]), Some(1.0));
    assert_eq!(s.samples("b")[0].timestamp_ms, Some(1_700_000_000_000));
    assert_eq!(s.value("c", &[("x", "1")]), Some(f64::NEG_INFINITY));
    assert!(s.value("d", &[]).unwrap().is_nan());
    // OpenMetrics timestamps are seconds.
    assert_eq!(s.samples("e")[0].timestamp_ms, Some(1500));
    assert_eq!(s.value("f", &[]), Some(4.0));
}

#[test]
fn samples_that_do_not_fit_their_family_are_unreadable() {
    let s = parse(
        "# TYPE h histogram\n\
         h 1\n\
         h_bucket 1\n\
         h_bucket{le=\"x\"} 1\n\
         h_bucket{le=\"1\"} 1\n\
         h_bucket{le=\"1\"} 2\n\
         h_sum 1\n\
         h_sum 2\n\
         m{a=\"1\",a=\"2\"} 1\n\
         # TYPE s summary\n\
         s 1\n",
    );
    // `h`, no `le`, a bad `le`, a second `le="1"`, a second `_sum`, a repeated label,
    // a quantile without `quantile`.
    assert_eq!(s.unreadable_lines, 7, "{:?}", s.unreadable);
    let h = &s.histograms("h")[0];
    assert_eq!(
        h.buckets,
        [Bucket {
            le: 1.0,
            count: 1.0
        }]
    );
    assert_eq!(h.sum, Some(1.0));
}

#[test]
fn what_was_read_reads_back_the_same() {
    for text in [
        LABEL_VALUES,
        COLON_NAMES,
        HISTOGRAM,
        OPENMETRICS_TOTAL,
        UNREADABLE,
    ] {
        let once = parse(text);
        let again = parse(&once.to_text());
        assert_eq!(again.unreadable_lines, 0, "{}", once.to_text());
        assert_eq!(again.families, once.families, "{}", once.to_text());
    }
}

#[test]
fn prometheus_parse_and_the_strict_reader_agree_where_both_read() {
    for line in [
        "a 1",
        "a{b=\"c\"} 2 1700000000000",
        "a{b=\"c,d\",e=\"f=g\"} 3",
        "a{b=\"x\\\"y\"} 4",
    ] {
        let LineInfo::Sample {
            metric_name,
            labels,
            value,
            timestamp,
        } = LineInfo::parse(line)
        else {
            panic!("{line}");
        };
        assert_eq!(
            accept_fast(line, metric_name, labels, value, timestamp),
            read_sample(line),
            "{line}"
        );
    }
}
