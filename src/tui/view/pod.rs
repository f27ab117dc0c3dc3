//! A pod's detail (status, termination, resources against use, the agent's metrics with
//! sparklines, its events, the log tail) and its full-screen log.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use super::widgets::{self, Palette};
use crate::fleet::usage::{pod_cpu_cell, pod_memory_cell};
use crate::metrics::series::PodSeries;
use crate::tui::model::{Model, ShownLine, pod_status};

/// A series' points, oldest first.
type Points = Vec<(jiff::Timestamp, f64)>;

const TASKS: &str = "agent_tasks_completed_total";
const INFLIGHT: &str = "agent_inflight_tasks";
const RSS: &str = "agent_resident_memory_bytes";
const TOKENS: &str = "agent_llm_tokens_total";
const DURATION: &str = "agent_task_duration_seconds";

fn kv<'a>(k: &'a str, v: String, p: &Palette) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{k:<13}"), p.dim()),
        Span::raw(v),
    ])
}

pub fn draw(m: &Model, name: &str, f: &mut Frame, body: Rect, p: &Palette) {
    let Some(pod) = m.fleet.pods().get(name) else {
        let msg = Paragraph::new(format!(
            " pod {name} is gone (deleted, or no longer labelled); Esc goes back"
        ))
        .style(p.warn())
        .block(Block::default().borders(Borders::ALL));
        f.render_widget(msg, body);
        return;
    };
    let top_h = (body.height / 2).max(10).min(body.height);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Min(0)]).areas(body);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    let series = m
        .agents
        .store()
        .pod(&format!("{}/{}", pod.namespace, pod.name));

    let mut lines = vec![
        kv("status", pod_status(pod), p),
        kv(
            "ready",
            if pod.ready { "yes".into() } else { "no".into() },
            p,
        ),
        kv("restarts", pod.restarts.to_string(), p),
        kv("age", widgets::age(m.now, pod.created), p),
        kv("node", pod.node.clone().unwrap_or_else(|| "-".into()), p),
        kv("IP", pod.ip.clone().unwrap_or_else(|| "-".into()), p),
        kv(
            "job",
            match (&pod.job_name, pod.completion_index) {
                (Some(j), Some(i)) => format!("{j} (index {i})"),
                (Some(j), None) => j.clone(),
                _ => "-".into(),
            },
            p,
        ),
    ];
    if let Some(t) = &pod.last_termination {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<13}", "terminated"), p.dim()),
            Span::styled(
                format!(
                    "{} exit {} {}",
                    t.reason,
                    t.exit_code,
                    t.at.map(widgets::clock).unwrap_or_default()
                ),
                if t.exit_code == 0 {
                    Style::default()
                } else {
                    p.bad()
                },
            ),
        ]));
    }
    if let Some(t) = &pod.last_oom {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<13}", "OOMKilled"), p.dim()),
            Span::styled(
                format!(
                    "{} {}",
                    t.container,
                    t.at.map(widgets::clock).unwrap_or_default()
                ),
                p.bad(),
            ),
        ]));
    }
    if let Some(d) = &pod.disruption_target {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<13}", "disruption"), p.dim()),
            Span::styled(d.reason.clone(), p.warn()),
        ]));
    }
    if let Some(msg) = pod
        .scheduling_message
        .as_ref()
        .or(pod.status_message.as_ref())
    {
        lines.push(Line::styled(
            widgets::first_words(msg, usize::from(left.width.saturating_sub(2))),
            p.warn(),
        ));
    }
    let used = series.and_then(PodSeries::memory).map(|(rss, _)| rss);
    lines.push(kv(
        "memory",
        format!(
            "{} used · request {} · limit {}",
            used.map_or_else(|| "-".into(), widgets::bytes),
            pod.memory_request_bytes
                .map_or_else(|| "-".into(), widgets::bytes),
            pod.memory_limit_bytes
                .map_or_else(|| "none".into(), widgets::bytes),
        ),
        p,
    ));
    if let Some(u) = m.open_pod_usage {
        lines.push(kv(
            "usage",
            format!(
                "CPU {} · MEM {}",
                pod_cpu_cell(u.cpu_millicores, u.cpu_against),
                pod_memory_cell(u.memory_bytes, u.memory_against)
            ),
            p,
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(
            format!(" {} ", pod.name),
            p.accent(),
        )));
    f.render_widget(Paragraph::new(lines).block(block), left);

    draw_metrics(m, series, f, right, p);

    let [events, logs] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(bottom);
    draw_events(m, f, events, p);
    draw_log_lines(m, name, f, logs, p, false);
}

fn draw_metrics(m: &Model, series: Option<&PodSeries>, f: &mut Frame, area: Rect, p: &Palette) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(" Agent metrics ", p.accent())));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(s) = series else {
        let why = if m.info.scrape {
            "not scraped yet"
        } else {
            "scraping is off (--scrape off)"
        };
        f.render_widget(Paragraph::new(why).style(p.dim()), inner);
        return;
    };
    let window = m.agents.store().config().window;
    let tasks = s.rate_points(TASKS, &[("status", "success")]);
    let tokens = s.rate_points(TOKENS, &[]);
    let inflight = s.gauge_points(INFLIGHT, &[]);
    let rss = s.gauge_points(RSS, &[]);
    let last = |v: &[(jiff::Timestamp, f64)]| v.last().map(|x| x.1);
    let rows: Vec<(&str, String, Points)> = vec![
        ("tasks/s", widgets::rate(last(&tasks)), tasks),
        ("tokens/s", widgets::rate(last(&tokens)), tokens),
        (
            "in flight",
            widgets::opt(s.gauge(INFLIGHT, &[]).map(|v| v as i64)),
            inflight,
        ),
        (
            "memory",
            s.memory()
                .map_or_else(|| "-".into(), |(b, _)| widgets::bytes(b)),
            rss,
        ),
    ];
    let mut y = inner.y;
    let label_w = 22u16;
    for (name, value, points) in rows {
        if y >= inner.y + inner.height {
            break;
        }
        let line = Rect::new(inner.x, y, inner.width, 1);
        let [label, spark] =
            Layout::horizontal([Constraint::Length(label_w), Constraint::Min(0)]).areas(line);
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!("{name:<10}"), p.dim()),
                Span::raw(format!("{value:>10} ")),
            ])),
            label,
        );
        let data: Vec<u64> = tail(&points, usize::from(spark.width))
            .iter()
            .map(|(_, v)| (v * 100.0).max(0.0) as u64)
            .collect();
        f.render_widget(Sparkline::default().data(&data).style(p.series_b()), spark);
        y += 1;
    }
    let mut extra = vec![Line::from(vec![
        Span::styled(format!("{:<10}", "p50/p99"), p.dim()),
        Span::raw(format!(
            "{:>10}",
            match (
                s.quantile(DURATION, 0.5, m.now, window),
                s.quantile(DURATION, 0.99, m.now, window)
            ) {
                (Some(a), Some(b)) => format!("{a:.1}s/{b:.1}s"),
                _ => "-".into(),
            }
        )),
    ])];
    if let Some(why) = s.stale(m.now, window) {
        extra.push(Line::styled(format!("stale: {why}"), p.warn()));
    }
    if y < inner.y + inner.height {
        let rest = Rect::new(inner.x, y, inner.width, inner.y + inner.height - y);
        f.render_widget(Paragraph::new(extra), rest);
    }
}

fn tail<T>(v: &[T], n: usize) -> &[T] {
    &v[v.len().saturating_sub(n)..]
}

fn draw_events(m: &Model, f: &mut Frame, area: Rect, p: &Palette) {
    let evs: Vec<_> = m
        .pod_events
        .iter()
        .filter_map(|k| m.fleet.events().get(k))
        .collect();
    let lines: Vec<Line> = evs
        .iter()
        .take(usize::from(area.height.saturating_sub(2)))
        .map(|e| {
            Line::from(vec![
                Span::styled(format!("{} ", widgets::age(m.now, e.last_seen)), p.dim()),
                Span::styled(
                    format!("{} ", e.reason),
                    if e.warning { p.warn() } else { p.good() },
                ),
                Span::raw(e.message.clone()),
            ])
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(
            format!(" Events ({}) ", evs.len()),
            p.accent(),
        )));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn shown<'a>(l: &'a ShownLine, p: &Palette) -> Line<'a> {
    match l {
        ShownLine::Fields {
            time,
            level,
            event,
            task_id,
            rest,
        } => Line::from(vec![
            Span::styled(format!("{time:<9}"), p.dim()),
            Span::styled(
                format!("{level:<6}"),
                match level.as_str() {
                    "ERROR" => p.bad(),
                    "WARN" => p.warn(),
                    _ => p.dim(),
                },
            ),
            Span::raw(format!("{event:<20} ")),
            Span::styled(
                format!("{:<9}", task_id.chars().take(8).collect::<String>()),
                p.accent(),
            ),
            Span::styled(rest.as_str(), p.dim()),
        ]),
        ShownLine::Plain(s) => Line::raw(s.as_str()),
    }
}

fn draw_log_lines(m: &Model, pod: &str, f: &mut Frame, area: Rect, p: &Palette, full: bool) {
    let tail = m.logs.as_ref().filter(|t| t.pod == pod);
    let mut title = vec![Span::styled(" Log ", p.accent())];
    if let Some(t) = tail {
        if let Some(why) = &t.ended {
            title.push(Span::styled(format!("(ended: {why}) "), p.dim()));
        } else if t.follow {
            title.push(Span::styled("(following) ", p.good()));
        } else {
            title.push(Span::styled("(held: f follows) ", p.warn()));
        }
        if t.dropped > 0 {
            title.push(Span::styled(
                format!("{} older lines dropped ", t.dropped),
                p.dim(),
            ));
        }
    }
    let page = usize::from(area.height.saturating_sub(2));
    let len = tail.map_or(0, |t| t.lines.len());
    // The log screen scrolls with its cursor; the detail screen shows the newest lines.
    let (offset, selected) = match (tail, full) {
        (Some(t), true) => (t.cursor.offset, Some(t.cursor.selected)),
        _ => (len.saturating_sub(page), None),
    };
    let lines: Vec<Line> = match tail {
        Some(t) if len > 0 => (offset..(offset + page).min(len))
            .filter_map(|i| {
                let line = shown(t.lines.get(i)?, p);
                Some(if selected == Some(i) && !t.follow {
                    line.style(p.selected())
                } else {
                    line
                })
            })
            .collect(),
        Some(_) => vec![Line::styled("waiting for log lines…", p.dim())],
        None => vec![Line::styled("no log followed", p.dim())],
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(title))
        .title_bottom(Line::from(format!(" {len} lines ")).right_aligned());
    f.render_widget(Paragraph::new(lines).block(block), area);
}

pub fn draw_logs(m: &Model, name: &str, f: &mut Frame, body: Rect, p: &Palette) {
    draw_log_lines(m, name, f, body, p, true);
}
