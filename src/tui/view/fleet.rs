//! A fleet's detail: queue depth against running pods over time with KEDA's next scale, its
//! Jobs (Indexed completion as a bar), PDB and findings, the disruption timeline, and its pods.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Cell, Chart, Dataset, GraphType, Paragraph, Row};

use super::widgets::{self, Palette};
use crate::fleet::duration::human_duration;
use crate::fleet::model::DisruptionKind;
use crate::fleet::objects::{FleetId, PodPhase};
use crate::fleet::status::FleetStatus;
use crate::fleet::usage::{pod_cpu_cell, pod_memory_cell};
use crate::tui::model::{Model, bar_text, pod_status};

pub struct FleetLayout {
    pub chart: Rect,
    pub jobs: Rect,
    pub disruptions: Rect,
    pub pods: Rect,
}

pub fn layout(body: Rect) -> FleetLayout {
    let chart_h = (body.height * 3 / 10).max(6);
    let mid_h = if body.height >= 30 { 9 } else { 6 };
    let [chart, mid, pods] = Layout::vertical([
        Constraint::Length(chart_h),
        Constraint::Length(mid_h),
        Constraint::Min(4),
    ])
    .areas(body);
    let [jobs, disruptions] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(mid);
    FleetLayout {
        chart,
        jobs,
        disruptions,
        pods,
    }
}

pub fn draw(m: &Model, id: &FleetId, f: &mut Frame, body: Rect, p: &Palette) {
    let l = layout(body);
    let status = m
        .snapshot
        .fleets
        .iter()
        .find(|s| s.kind == id.kind && s.name == id.name);
    draw_chart(m, id, status, f, l.chart, p);
    draw_jobs(m, status, f, l.jobs, p);
    draw_disruptions(m, id, f, l.disruptions, p);
    draw_pods(m, id, f, l.pods, p);
}

fn draw_chart(
    m: &Model,
    id: &FleetId,
    st: Option<&FleetStatus>,
    f: &mut Frame,
    area: Rect,
    p: &Palette,
) {
    let now = m.now;
    let points: Vec<_> = m
        .fleet
        .history(id)
        .map(|h| h.series.iter().copied().collect())
        .unwrap_or_default();
    let secs = |at: jiff::Timestamp| -(now.duration_since(at).as_secs_f64());
    let queue: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|pt| pt.queue_ready.map(|q| (secs(pt.at), q as f64)))
        .collect();
    let pods: Vec<(f64, f64)> = points
        .iter()
        .map(|pt| (secs(pt.at), pt.pods as f64))
        .collect();
    let span = points
        .first()
        .map_or(60.0, |pt| now.duration_since(pt.at).as_secs_f64())
        .max(60.0);
    let top = queue
        .iter()
        .chain(&pods)
        .map(|(_, y)| *y)
        .fold(1.0_f64, f64::max)
        .ceil();
    let mut title = vec![Span::styled(
        format!(" {}/{} ", id.kind.lower(), id.name),
        p.accent(),
    )];
    if let Some(s) = st {
        title.push(Span::styled("queue ", p.series_a()));
        title.push(Span::raw(format!(
            "{} ready  ",
            widgets::opt(s.queue_ready)
        )));
        title.push(Span::styled("pods ", p.series_b()));
        title.push(Span::raw(format!("{} running  ", s.pods.running)));
        if let Some(n) = s.predicted_next_scale {
            title.push(Span::styled("KEDA next poll: ", p.dim()));
            title.push(Span::raw(format!("+{n} Jobs ")));
        }
        title.push(Span::styled(
            format!("{:?}", s.state).to_lowercase(),
            match s.state {
                crate::fleet::objects::FleetState::Running => p.good(),
                _ => p.warn(),
            },
        ));
        title.push(Span::raw(" "));
    }
    let datasets = vec![
        Dataset::default()
            .name("queue ready")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(p.series_a())
            .data(&queue),
        Dataset::default()
            .name("pods")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(p.series_b())
            .data(&pods),
    ];
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Line::from(title)),
        )
        .x_axis(Axis::default().bounds([-span, 0.0]).labels(vec![
            Span::styled(
                format!("-{}", human_duration(Duration::from_secs(span as u64))),
                p.dim(),
            ),
            Span::styled("now", p.dim()),
        ]))
        .y_axis(Axis::default().bounds([0.0, top]).labels(vec![
            Span::styled("0", p.dim()),
            Span::styled(format!("{top}"), p.dim()),
        ]))
        .hidden_legend_constraints((Constraint::Ratio(1, 1), Constraint::Ratio(1, 1)));
    f.render_widget(chart, area);
}

fn draw_jobs(m: &Model, st: Option<&FleetStatus>, f: &mut Frame, area: Rect, p: &Palette) {
    let inner_w = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    if let Some(s) = st {
        match &s.pdb {
            Some(pdb) => lines.push(Line::from(vec![
                Span::styled("PDB ", p.dim()),
                Span::raw(format!(
                    "{}: {}/{} healthy, {} allowed",
                    pdb.name, pdb.current_healthy, pdb.desired_healthy, pdb.disruptions_allowed
                )),
                if pdb.sync_failed {
                    Span::styled(" SyncFailed", p.bad())
                } else if pdb.disruptions_allowed <= 0 {
                    Span::styled(" (blocks evictions)", p.warn())
                } else {
                    Span::raw("")
                },
            ])),
            None => lines.push(Line::styled("PDB none", p.dim())),
        }
        for x in &s.findings {
            let style = match x.severity {
                crate::fleet::health::Severity::Critical => p.bad(),
                crate::fleet::health::Severity::Warning => p.warn(),
            };
            lines.push(Line::styled(
                widgets::first_words(&x.message, inner_w),
                style,
            ));
        }
    }
    let count = m.job_rows.len();
    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(lines.len());
    for row in m.job_rows.iter().take(room) {
        let Some(j) = m.fleet.jobs().get(&row.name) else {
            continue;
        };
        let state = if j.conditions.complete {
            Span::styled("complete", p.good())
        } else if j.conditions.failed {
            Span::styled("failed", p.bad())
        } else if j.suspended {
            Span::styled("suspended", p.warn())
        } else {
            Span::raw(format!("{} active", j.active))
        };
        let mut spans = vec![
            Span::raw(format!("{} ", widgets::first_words(&j.name, 28))),
            state,
            Span::styled(format!(" {}✓ {}✗ ", j.succeeded, j.failed), p.dim()),
        ];
        if let Some(cells) = &row.bar {
            let used: usize = spans.iter().map(|s| s.width()).sum();
            spans.push(Span::styled(
                bar_text(cells, inner_w.saturating_sub(used)),
                p.accent(),
            ));
        }
        lines.push(Line::from(spans));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(
            format!(" Jobs ({count}) · PDB · findings "),
            p.accent(),
        )));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn kind_label(k: DisruptionKind) -> &'static str {
    match k {
        DisruptionKind::OomKilled => "OOMKilled",
        DisruptionKind::Evicted => "evicted (kubelet)",
        DisruptionKind::Preempted => "preempted",
        DisruptionKind::ApiEviction => "evicted (API)",
    }
}

fn draw_disruptions(m: &Model, id: &FleetId, f: &mut Frame, area: Rect, p: &Palette) {
    let room = usize::from(area.height.saturating_sub(2));
    let lines: Vec<Line> = match m.fleet.history(id) {
        Some(h) if !h.disruptions.is_empty() => h
            .disruptions
            .iter()
            .rev()
            .take(room)
            .map(|d| {
                let style = match d.kind {
                    DisruptionKind::OomKilled => p.bad(),
                    _ => p.warn(),
                };
                Line::from(vec![
                    Span::styled(format!("{} ", widgets::clock(d.at)), p.dim()),
                    Span::styled(format!("{:<17} ", kind_label(d.kind)), style),
                    Span::raw(format!("{} ", d.pod)),
                    Span::styled(d.node.clone().unwrap_or_default(), p.dim()),
                ])
            })
            .collect(),
        _ => vec![Line::styled(
            "no evictions, OOMKills or preemptions seen",
            p.dim(),
        )],
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(" Disruptions ", p.accent())));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_pods(m: &Model, _id: &FleetId, f: &mut Frame, area: Rect, p: &Palette) {
    // Narrow terminals drop READY; wide ones add the node, the last termination, then the IP.
    let ready = area.width >= 100;
    let wide = area.width >= 120;
    let ip = area.width >= 150;
    let mut header = vec!["NAME", "STATUS"];
    let mut widths = vec![Constraint::Min(24), Constraint::Length(19)];
    if ready {
        header.push("READY");
        widths.push(Constraint::Length(5));
    }
    header.extend(["RST", "AGE", "CPU", "MEM"]);
    widths.extend([
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(10),
    ]);
    if wide {
        header.push("NODE");
        widths.push(Constraint::Length(11));
        if ip {
            header.push("IP");
            widths.push(Constraint::Length(15));
        }
        header.push("LAST TERMINATION");
        widths.push(Constraint::Length(18));
    }
    let sort = format!(
        " sorted by {}{} ",
        m.pod_sort.label(),
        if m.pod_sort_desc { " (reversed)" } else { "" }
    );
    let title = Line::from(vec![
        Span::styled(" Pods ", p.accent()),
        Span::styled(sort, p.dim()),
        Span::styled(
            if m.pods_filter.is_empty() {
                String::new()
            } else {
                format!("/{} ", m.pods_filter)
            },
            p.warn(),
        ),
    ]);
    widgets::table(
        f,
        area,
        title,
        &header,
        &widths,
        m.pod_rows.len(),
        Some(m.pods_cursor),
        p,
        |i| {
            let Some(pod) = m.fleet.pods().get(&m.pod_rows[i]) else {
                return Row::new(vec![Cell::from(m.pod_rows[i].clone()), Cell::from("gone")]);
            };
            let status = pod_status(pod);
            let style = match pod.phase {
                PodPhase::Failed => p.bad(),
                _ if pod.unschedulable || pod.deletion => p.warn(),
                PodPhase::Pending => p.warn(),
                PodPhase::Running if pod.ready => p.good(),
                _ => Style::default(),
            };
            let u = m.pod_usage.get(i).copied().unwrap_or_default();
            let mut cells = vec![
                Cell::from(pod.name.clone()),
                Cell::from(status).style(style),
            ];
            if ready {
                cells.push(Cell::from(if pod.ready { "1/1" } else { "0/1" }));
            }
            cells.extend([
                Cell::from(pod.restarts.to_string()).style(if pod.restarts > 0 {
                    p.warn()
                } else {
                    Style::default()
                }),
                Cell::from(widgets::age(m.now, pod.created)),
                usage_cell(
                    pod_cpu_cell(u.cpu_millicores, u.cpu_against),
                    u.cpu_millicores
                        .zip(u.cpu_against)
                        .map(|(c, a)| c / a.max(1.0)),
                    p,
                ),
                usage_cell(
                    pod_memory_cell(u.memory_bytes, u.memory_against),
                    u.memory_bytes
                        .zip(u.memory_against)
                        .map(|(b, a)| b as f64 / a.max(1) as f64),
                    p,
                ),
            ]);
            if wide {
                cells.push(Cell::from(pod.node.clone().unwrap_or_else(|| "-".into())));
                if ip {
                    cells.push(Cell::from(pod.ip.clone().unwrap_or_else(|| "-".into())));
                }
                cells.push(Cell::from(pod.last_termination.as_ref().map_or_else(
                    || "-".into(),
                    |t| format!("{} ({})", t.reason, t.exit_code),
                )));
            }
            Row::new(cells)
        },
    );
}

/// A usage cell, yellow from 75% of the limit and red from 90%.
fn usage_cell<'a>(text: String, ratio: Option<f64>, p: &Palette) -> Cell<'a> {
    let style = match ratio {
        Some(r) if r >= 0.9 => p.bad(),
        Some(r) if r >= 0.75 => p.warn(),
        _ => Style::default(),
    };
    Cell::from(text).style(style)
}
