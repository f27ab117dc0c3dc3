//! The Prometheus text exposition (format 0.0.4, and the OpenMetrics lines exporters commonly
//! mix in) read into fleetctl's own types. Pure: no I/O, no clock.
//!
//! Each line goes through prometheus-parse's line reader first. It gets plain lines right, but
//! mis-reads others (DESIGN.md, known traps), so its answer is only taken when it checks out:
//!
//! - its label split breaks on `,`, `=` and `}` inside quoted values and keeps escapes raw, so
//!   the label block it found is always re-read here, quote- and escape-aware;
//! - it does not know metric names with `:` and stops at the first `}`, so every line it
//!   ignores, and every sample whose pieces do not check out (name, labels, value, timestamp,
//!   nothing left over), is re-read here by a strict reader of the whole line;
//! - it leaves a histogram's `_sum` and `_count` and OpenMetrics' `_total` counters untyped, so
//!   types are resolved here: histograms and summaries are regrouped (buckets, `_sum`,
//!   `_count`), `*_total` series are counters;
//! - it skips what it cannot read without saying so; here every such line is counted in
//!   [`Scrape::unreadable_lines`], and the first few are kept to show.
//!
//! Labels are sorted by name and a label with an empty value is dropped (in Prometheus an empty
//! label is the same series as no label). Duplicate series are unreadable lines (the first one
//! stands).

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use prometheus_parse::{LineInfo, SampleType};
use serde::Serialize;

/// How many unreadable lines a [`Scrape`] keeps as examples.
pub const UNREADABLE_EXAMPLES: usize = 3;
/// How much of an unreadable line is kept.
const EXAMPLE_CHARS: usize = 120;

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

impl Kind {
    fn from_type(t: SampleType) -> Self {
        match t {
            SampleType::Counter => Kind::Counter,
            SampleType::Gauge => Kind::Gauge,
            SampleType::Histogram => Kind::Histogram,
            SampleType::Summary => Kind::Summary,
            SampleType::Untyped => Kind::Untyped,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
            Kind::Untyped => "untyped",
        }
    }
}

/// A series' labels, sorted by name, without empty values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// Labels from pairs in any order; a later pair wins over an earlier one of the same name.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut v: Vec<(String, String)> = Vec::new();
        for (k, val) in pairs {
            let k = k.into();
            v.retain(|(n, _)| *n != k);
            v.push((k, val.into()));
        }
        v.retain(|(_, val)| !val.is_empty());
        v.sort();
        Labels(v)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every `(name, value)` of `filter` is among these labels.
    pub fn matches(&self, filter: &[(&str, &str)]) -> bool {
        filter.iter().all(|(k, v)| self.get(k) == Some(*v))
    }

    /// These labels without `name`, and its value.
    fn take(mut self, name: &str) -> (Self, Option<String>) {
        let i = self.0.iter().position(|(k, _)| k == name);
        let v = i.map(|i| self.0.remove(i).1);
        (self, v)
    }
}

impl fmt::Display for Labels {
    /// `{a="x",b="y \"quoted\""}`, escaped as the text format wants; nothing when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        f.write_char('{')?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            write!(f, "{k}=\"")?;
            for c in v.chars() {
                match c {
                    '\\' => f.write_str("\\\\")?,
                    '"' => f.write_str("\\\"")?,
                    '\n' => f.write_str("\\n")?,
                    c => f.write_char(c)?,
                }
            }
            f.write_char('"')?;
        }
        f.write_char('}')
    }
}

/// One counter, gauge or untyped series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
    /// The exposition's own timestamp (milliseconds), when it gives one.
    pub timestamp_ms: Option<i64>,
}

/// A cumulative histogram bucket: `count` observations were `<= le`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bucket {
    pub le: f64,
    pub count: f64,
}

/// One histogram series: its buckets sorted by `le`, its `_sum` and `_count`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    pub labels: Labels,
    pub buckets: Vec<Bucket>,
    pub sum: Option<f64>,
    pub count: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantile {
    pub quantile: f64,
    pub value: f64,
}

/// One summary series: its quantiles sorted, its `_sum` and `_count`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub labels: Labels,
    pub quantiles: Vec<Quantile>,
    pub sum: Option<f64>,
    pub count: Option<f64>,
}

/// A family's series, by shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Points {
    Scalar(Vec<Sample>),
    Histogram(Vec<Histogram>),
    Summary(Vec<Summary>),
}

/// A metric family. Counters are named as their series are (`x_total`, also when the
/// exposition declared `# TYPE x counter`); histograms and summaries by their base name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Family {
    pub name: String,
    pub kind: Kind,
    /// The `# HELP` text as written (escapes not undone).
    pub help: Option<String>,
    pub points: Points,
}

impl Family {
    pub fn samples(&self) -> &[Sample] {
        match &self.points {
            Points::Scalar(s) => s,
            _ => &[],
        }
    }

    pub fn histograms(&self) -> &[Histogram] {
        match &self.points {
            Points::Histogram(h) => h,
            _ => &[],
        }
    }

    pub fn summaries(&self) -> &[Summary] {
        match &self.points {
            Points::Summary(s) => s,
            _ => &[],
        }
    }

    /// The labels of each series, whatever its shape.
    pub fn series_labels(&self) -> impl Iterator<Item = &Labels> {
        let scalars = self.samples().iter().map(|s| &s.labels);
        let histograms = self.histograms().iter().map(|h| &h.labels);
        let summaries = self.summaries().iter().map(|s| &s.labels);
        scalars.chain(histograms).chain(summaries)
    }
}

/// A line that could not be read: its number (from 1) and its start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub line: usize,
    pub text: String,
}

/// What one `/metrics` body held.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scrape {
    /// In order of first appearance.
    pub families: Vec<Family>,
    /// Lines that are neither empty, a comment, nor a readable sample or `# TYPE`/`# HELP`.
    pub unreadable_lines: usize,
    /// The first [`UNREADABLE_EXAMPLES`] of them.
    pub unreadable: Vec<Unreadable>,
    /// Size of the body read.
    pub bytes: usize,
}

impl Scrape {
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The counter, gauge or untyped series of `name` (none when it is not a scalar family).
    pub fn samples(&self, name: &str) -> &[Sample] {
        self.family(name).map_or(&[], Family::samples)
    }

    /// The value of the first series of `name` whose labels include `filter`.
    pub fn value(&self, name: &str, filter: &[(&str, &str)]) -> Option<f64> {
        self.samples(name)
            .iter()
            .find(|s| s.labels.matches(filter))
            .map(|s| s.value)
    }

    pub fn histograms(&self, name: &str) -> &[Histogram] {
        self.family(name).map_or(&[], Family::histograms)
    }

    /// Series over all families (a histogram or summary series counts once).
    pub fn series_count(&self) -> usize {
        self.families
            .iter()
            .map(|f| f.series_labels().count())
            .sum()
    }

    /// What was read, as text format 0.0.4 (HELP as written, TYPE, samples): reading it again
    /// gives the same families.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.families {
            if let Some(h) = &f.help {
                let _ = writeln!(out, "# HELP {} {h}", f.name);
            }
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
            let ts = |t: Option<i64>| t.map(|t| format!(" {t}")).unwrap_or_default();
            match &f.points {
                Points::Scalar(samples) => {
                    for s in samples {
                        let _ = writeln!(
                            out,
                            "{}{} {}{}",
                            f.name,
                            s.labels,
                            Value(s.value),
                            ts(s.timestamp_ms)
                        );
                    }
                }
                Points::Histogram(hs) => {
                    for h in hs {
                        for b in &h.buckets {
                            let labels = with_label(&h.labels, "le", b.le);
                            let _ = writeln!(out, "{}_bucket{labels} {}", f.name, Value(b.count));
                        }
                        write_sum_count(&mut out, &f.name, &h.labels, h.sum, h.count);
                    }
                }
                Points::Summary(ss) => {
                    for s in ss {
                        for q in &s.quantiles {
                            let labels = with_label(&s.labels, "quantile", q.quantile);
                            let _ = writeln!(out, "{}{labels} {}", f.name, Value(q.value));
                        }
                        write_sum_count(&mut out, &f.name, &s.labels, s.sum, s.count);
                    }
                }
            }
        }
        out
    }
}

fn with_label(labels: &Labels, name: &str, v: f64) -> Labels {
    let mut pairs = labels.0.clone();
    pairs.push((name.to_string(), Value(v).to_string()));
    Labels::from_pairs(pairs)
}

fn write_sum_count(out: &mut String, name: &str, l: &Labels, sum: Option<f64>, n: Option<f64>) {
    if let Some(s) = sum {
        let _ = writeln!(out, "{name}_sum{l} {}", Value(s));
    }
    if let Some(c) = n {
        let _ = writeln!(out, "{name}_count{l} {}", Value(c));
    }
}

/// A value as the text format writes it (`+Inf`, `-Inf`, `NaN`, else Rust's shortest
/// round-trip form).
struct Value(f64);

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            v if v.is_nan() => f.write_str("NaN"),
            v if v == f64::INFINITY => f.write_str("+Inf"),
            v if v == f64::NEG_INFINITY => f.write_str("-Inf"),
            v => write!(f, "{v}"),
        }
    }
}

/// Reads a `/metrics` body. Never fails and never panics: what cannot be read is counted.
pub fn parse(text: &str) -> Scrape {
    parse_bytes(text.as_bytes())
}

/// [`parse`] for a body that may not be UTF-8: a line that is not is unreadable.
pub fn parse_bytes(body: &[u8]) -> Scrape {
    let mut b = Builder::default();
    for (n, raw) in body.split(|&c| c == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match std::str::from_utf8(raw) {
            Ok(line) => b.line(n + 1, line),
            Err(_) => b.unreadable(n + 1, &String::from_utf8_lossy(raw)),
        }
    }
    let mut s = b.finish();
    s.bytes = body.len();
    s
}

// ---------------------------------------------------------------------------------------------
// Reading lines

/// A sample line's pieces, labels still including `le` / `quantile`.
#[derive(Debug, PartialEq)]
struct RawSample<'a> {
    name: &'a str,
    labels: Labels,
    value: f64,
    timestamp_ms: Option<i64>,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    i
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn is_metric_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// The end of the name (`[a-zA-Z_][a-zA-Z0-9_]*`, plus `:` when `colon`) starting at `i`.
fn name_end(b: &[u8], i: usize, colon: bool) -> Option<usize> {
    let ok_first = |c: u8| c.is_ascii_alphabetic() || c == b'_' || (colon && c == b':');
    if !b.get(i).is_some_and(|&c| ok_first(c)) {
        return None;
    }
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || (colon && b[j] == b':')) {
        j += 1;
    }
    Some(j)
}

/// A number as the text format writes it: Go's float syntax, `+Inf`, `-Inf`, `NaN`.
fn parse_value(s: &str) -> Option<f64> {
    // Rust accepts what Go writes, case-insensitive inf/nan included; it also accepts
    // "infinity", which no exporter writes.
    s.parse::<f64>().ok()
}

/// A timestamp: integer milliseconds (0.0.4), or OpenMetrics' float seconds.
fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    let secs = s.parse::<f64>().ok().filter(|v| v.is_finite())?;
    let ms = (secs * 1000.0).round();
    (ms.abs() < 9.0e15).then_some(ms as i64)
}

/// Reads the label block of `line` whose `{` is at `open`: quote-aware, with the text format's
/// escapes (`\\`, `\"`, `\n`; any other escape is kept as written, as Prometheus does).
/// Returns the labels and the index just past the closing `}`.
fn read_labels(line: &str, open: usize) -> Option<(Labels, usize)> {
    let b = line.as_bytes();
    debug_assert_eq!(b.get(open), Some(&b'{'));
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut i = open + 1;
    loop {
        i = skip_blanks(b, i);
        if *b.get(i)? == b'}' {
            return finish_labels(pairs).map(|l| (l, i + 1));
        }
        let end = name_end(b, i, false)?;
        let name = &line[i..end];
        i = skip_blanks(b, end);
        if *b.get(i)? != b'=' {
            return None;
        }
        i = skip_blanks(b, i + 1);
        if *b.get(i)? != b'"' {
            return None;
        }
        i += 1;
        let mut value = String::new();
        let mut run = i;
        loop {
            match *b.get(i)? {
                b'"' => break,
                b'\\' => {
                    value.push_str(&line[run..i]);
                    match *b.get(i + 1)? {
                        b'n' => value.push('\n'),
                        b'\\' => value.push('\\'),
                        b'"' => value.push('"'),
                        _ => {
                            // Kept as written: the backslash here, the character with the run.
                            value.push('\\');
                            run = i + 1;
                            i += 1;
                            continue;
                        }
                    }
                    i += 2;
                    run = i;
                }
                _ => i += 1,
            }
        }
        value.push_str(&line[run..i]);
        pairs.push((name.to_string(), value));
        i = skip_blanks(b, i + 1);
        match *b.get(i)? {
            b',' => i += 1,
            b'}' => return finish_labels(pairs).map(|l| (l, i + 1)),
            _ => return None,
        }
    }
}

/// Sorted, duplicates refused, empty values dropped.
fn finish_labels(mut pairs: Vec<(String, String)>) -> Option<Labels> {
    pairs.sort_unstable_by(|a, c| a.0.cmp(&c.0));
    if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    pairs.retain(|(_, v)| !v.is_empty());
    Some(Labels(pairs))
}

/// The strict reader of a whole sample line:
/// `name[{labels}] value [timestamp] [# exemplar]`.
fn read_sample(line: &str) -> Option<RawSample<'_>> {
    let b = line.as_bytes();
    let start = skip_blanks(b, 0);
    let end = name_end(b, start, true)?;
    let name = &line[start..end];
    let (labels, i) = if b.get(end) == Some(&b'{') {
        read_labels(line, end)?
    } else {
        (Labels::default(), end)
    };
    if !b.get(i).is_some_and(|&c| is_blank(c)) {
        return None;
    }
    let mut tokens = line[i..].split([' ', '\t']).filter(|t| !t.is_empty());
    let value = parse_value(tokens.next()?)?;
    let mut timestamp_ms = None;
    match tokens.next() {
        None => {}
        // An OpenMetrics exemplar: not kept.
        Some(t) if t.starts_with('#') => return Some(RawSample::new(name, labels, value, None)),
        Some(t) => timestamp_ms = Some(parse_timestamp(t)?),
    }
    match tokens.next() {
        None => {}
        Some(t) if t.starts_with('#') => {}
        Some(_) => return None,
    }
    Some(RawSample::new(name, labels, value, timestamp_ms))
}

impl<'a> RawSample<'a> {
    fn new(name: &'a str, labels: Labels, value: f64, timestamp_ms: Option<i64>) -> Self {
        RawSample {
            name,
            labels,
            value,
            timestamp_ms,
        }
    }
}

/// Offset of `part` (a sub-slice of `line`) in `line`.
fn offset_in(line: &str, part: &str) -> Option<usize> {
    let off = (part.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
    (off + part.len() <= line.len()).then_some(off)
}

/// prometheus-parse's reading of a sample line, taken only when every piece checks out.
fn accept_fast<'a>(
    line: &'a str,
    name: &'a str,
    labels: Option<&'a str>,
    value: &'a str,
    timestamp: Option<&'a str>,
) -> Option<RawSample<'a>> {
    if !is_metric_name(name) {
        return None;
    }
    let labels = match labels {
        None => Labels::default(),
        Some(block) => {
            // Its block stops at the first `}`: re-read from the `{`, and it must end there.
            let open = offset_in(line, block)?.checked_sub(1)?;
            let (labels, end) = read_labels(line, open)?;
            if end != open + block.len() + 2 {
                return None;
            }
            labels
        }
    };
    let value_f = parse_value(value)?;
    let timestamp_ms = match timestamp {
        Some(t) => Some(parse_timestamp(t)?),
        None => None,
    };
    // Its pattern is not anchored at the end: nothing may follow.
    let last = timestamp.unwrap_or(value);
    let end = offset_in(line, last)? + last.len();
    if !line[end..].trim().is_empty() {
        return None;
    }
    Some(RawSample::new(name, labels, value_f, timestamp_ms))
}

/// `# TYPE name type` / `# HELP name text` for the names prometheus-parse does not read
/// (with `:`). `Err` for a TYPE or HELP line that is malformed, `Ok(None)` for a comment.
fn read_comment(line: &str) -> Result<Option<Directive<'_>>, ()> {
    let rest = line.trim_start().strip_prefix('#').unwrap_or("");
    let mut tokens = rest.split([' ', '\t']).filter(|t| !t.is_empty());
    let (Some(word), true) = (tokens.next(), rest.starts_with([' ', '\t'])) else {
        return Ok(None);
    };
    match word {
        "TYPE" => {
            let name = tokens.next().filter(|n| is_metric_name(n)).ok_or(())?;
            let t = tokens.next().ok_or(())?;
            Ok(Some(Directive::Type(
                name,
                Kind::from_type(SampleType::parse(t)),
            )))
        }
        "HELP" => {
            let name = tokens.next().filter(|n| is_metric_name(n)).ok_or(())?;
            let start = offset_in(line, name).ok_or(())? + name.len();
            Ok(Some(Directive::Help(name, line[start..].trim())))
        }
        _ => Ok(None),
    }
}

enum Directive<'a> {
    Type(&'a str, Kind),
    Help(&'a str, &'a str),
}

// ---------------------------------------------------------------------------------------------
// Grouping samples into families

/// What a sample is, given the declared types.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Scalar(Kind),
    /// A histogram bucket (`le`) or a summary quantile (`quantile`).
    Bound,
    Sum,
    Count,
}

/// A histogram or summary series while it is read: `(le or quantile, value)` pairs.
struct Grouped {
    labels: Labels,
    pairs: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
}

struct FamilyBuilder {
    name: String,
    kind: Kind,
    samples: Vec<Sample>,
    /// Per label set: the index of its sample (scalars) or of its grouped series.
    index: HashMap<Labels, usize>,
    grouped: Vec<Grouped>,
}

#[derive(Default)]
struct Builder {
    families: Vec<FamilyBuilder>,
    by_name: HashMap<String, usize>,
    types: HashMap<String, Kind>,
    help: HashMap<String, String>,
    unreadable_lines: usize,
    unreadable: Vec<Unreadable>,
}

impl Builder {
    fn unreadable(&mut self, line: usize, text: &str) {
        self.unreadable_lines += 1;
        if self.unreadable.len() < UNREADABLE_EXAMPLES {
            self.unreadable.push(Unreadable {
                line,
                text: text.chars().take(EXAMPLE_CHARS).collect(),
            });
        }
    }

    fn line(&mut self, n: usize, line: &str) {
        match LineInfo::parse(line) {
            LineInfo::Empty => {}
            LineInfo::Doc { metric_name, doc } => {
                self.help.insert(metric_name.to_string(), doc.to_string());
            }
            LineInfo::Type {
                metric_name,
                metric_alias,
                sample_type,
            } => {
                // For a histogram it names the `_bucket` series and gives the family as alias.
                let family = metric_alias.unwrap_or(metric_name);
                self.types.insert(family, Kind::from_type(sample_type));
            }
            LineInfo::Sample {
                metric_name,
                labels,
                value,
                timestamp,
            } => {
                let s = accept_fast(line, metric_name, labels, value, timestamp)
                    .or_else(|| read_sample(line));
                self.sample(n, line, s);
            }
            LineInfo::Ignored if line.trim_start().starts_with('#') => match read_comment(line) {
                Ok(Some(Directive::Type(name, kind))) => {
                    self.types.insert(name.to_string(), kind);
                }
                Ok(Some(Directive::Help(name, text))) => {
                    self.help.insert(name.to_string(), text.to_string());
                }
                Ok(None) => {}
                Err(()) => self.unreadable(n, line),
            },
            LineInfo::Ignored => self.sample(n, line, read_sample(line)),
        }
    }

    fn sample(&mut self, n: usize, line: &str, s: Option<RawSample<'_>>) {
        if !s.is_some_and(|s| self.add(s)) {
            self.unreadable(n, line);
        }
    }

    /// The family a series belongs to and its role there.
    fn role<'a>(&self, name: &'a str) -> Option<(&'a str, Kind, Role)> {
        match self.types.get(name) {
            Some(Kind::Summary) => return Some((name, Kind::Summary, Role::Bound)),
            // A histogram has no series of its own name.
            Some(Kind::Histogram) => return None,
            Some(&k) => return Some((name, k, Role::Scalar(k))),
            None => {}
        }
        for (suffix, role) in [
            ("_bucket", Role::Bound),
            ("_sum", Role::Sum),
            ("_count", Role::Count),
        ] {
            if let Some(base) = name.strip_suffix(suffix) {
                match self.types.get(base) {
                    Some(Kind::Histogram) => return Some((base, Kind::Histogram, role)),
                    Some(Kind::Summary) if role != Role::Bound => {
                        return Some((base, Kind::Summary, role));
                    }
                    _ => {}
                }
            }
        }
        // OpenMetrics declares `# TYPE x counter` for series `x_total`; undeclared `*_total`
        // series are counters too.
        if let Some(base) = name.strip_suffix("_total")
            && matches!(self.types.get(base), None | Some(Kind::Counter))
        {
            return Some((name, Kind::Counter, Role::Scalar(Kind::Counter)));
        }
        Some((name, Kind::Untyped, Role::Scalar(Kind::Untyped)))
    }

    /// The family `name`, created on first use; None when it exists with another type (a
    /// TYPE line after its samples, or a clash of names).
    fn family(&mut self, name: &str, kind: Kind) -> Option<&mut FamilyBuilder> {
        let i = match self.by_name.get(name) {
            Some(&i) => i,
            None => {
                self.by_name.insert(name.to_string(), self.families.len());
                self.families.push(FamilyBuilder {
                    name: name.to_string(),
                    kind,
                    samples: Vec::new(),
                    index: HashMap::new(),
                    grouped: Vec::new(),
                });
                self.families.len() - 1
            }
        };
        let f = &mut self.families[i];
        (f.kind == kind).then_some(f)
    }

    /// False when the sample does not fit: no role, a clash, a duplicate, a missing or
    /// unreadable `le` / `quantile`.
    fn add(&mut self, s: RawSample<'_>) -> bool {
        let Some((family, kind, role)) = self.role(s.name) else {
            return false;
        };
        // Checked before the family exists, so that no family is left without series.
        let (labels, bound) = match role {
            Role::Bound => {
                let name = if kind == Kind::Histogram {
                    "le"
                } else {
                    "quantile"
                };
                let (labels, bound) = s.labels.take(name);
                match bound
                    .as_deref()
                    .and_then(parse_value)
                    .filter(|v| !v.is_nan())
                {
                    Some(b) => (labels, b),
                    None => return false,
                }
            }
            _ => (s.labels, f64::NAN),
        };
        let Some(f) = self.family(family, kind) else {
            return false;
        };
        if let Role::Scalar(_) = role {
            if f.index.contains_key(&labels) {
                return false;
            }
            f.index.insert(labels.clone(), f.samples.len());
            f.samples.push(Sample {
                labels,
                value: s.value,
                timestamp_ms: s.timestamp_ms,
            });
            return true;
        }
        let i = match f.index.get(&labels) {
            Some(&i) => i,
            None => {
                f.index.insert(labels.clone(), f.grouped.len());
                f.grouped.push(Grouped {
                    labels,
                    pairs: Vec::new(),
                    sum: None,
                    count: None,
                });
                f.grouped.len() - 1
            }
        };
        let g = &mut f.grouped[i];
        match role {
            Role::Sum => set_once(&mut g.sum, s.value),
            Role::Count => set_once(&mut g.count, s.value),
            _ if g.pairs.iter().any(|p| p.0 == bound) => false,
            _ => {
                g.pairs.push((bound, s.value));
                true
            }
        }
    }

    fn finish(self) -> Scrape {
        let help = self.help;
        let families = self
            .families
            .into_iter()
            .map(|f| {
                let help = help.get(&f.name).cloned().or_else(|| {
                    let base = f.name.strip_suffix("_total")?;
                    help.get(base).cloned()
                });
                let mut grouped = f.grouped;
                for g in &mut grouped {
                    g.pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                }
                let points = match f.kind {
                    Kind::Histogram => Points::Histogram(
                        grouped
                            .into_iter()
                            .map(|g| Histogram {
                                labels: g.labels,
                                buckets: g
                                    .pairs
                                    .into_iter()
                                    .map(|(le, count)| Bucket { le, count })
                                    .collect(),
                                sum: g.sum,
                                count: g.count,
                            })
                            .collect(),
                    ),
                    Kind::Summary => Points::Summary(
                        grouped
                            .into_iter()
                            .map(|g| Summary {
                                labels: g.labels,
                                quantiles: g
                                    .pairs
                                    .into_iter()
                                    .map(|(quantile, value)| Quantile { quantile, value })
                                    .collect(),
                                sum: g.sum,
                                count: g.count,
                            })
                            .collect(),
                    ),
                    _ => Points::Scalar(f.samples),
                };
                Family {
                    name: f.name,
                    kind: f.kind,
                    help,
                    points,
                }
            })
            .collect();
        Scrape {
            families,
            unreadable_lines: self.unreadable_lines,
            unreadable: self.unreadable,
            bytes: 0,
        }
    }
}

/// Sets `slot` unless it is already set (a duplicate `_sum` / `_count`).
fn set_once(slot: &mut Option<f64>, v: f64) -> bool {
    if slot.is_some() {
        return false;
    }
    *slot = Some(v);
    true
}

#[cfg(test)]
mod tests;
