//! The home screen: one row per fleet, then the findings of every fleet.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row};

use super::widgets::{self, Palette};
use crate::fleet::health::Severity;
use crate::fleet::status::FleetStatus;
use crate::fleet::usage::{fleet_cpu_cell, fleet_memory_cell};
use crate::tui::model::Model;
use crate::tui::update::dlq;

/// The table and, below it, the findings panel.
pub fn layout(body: Rect) -> (Rect, Rect) {
    let findings = if body.height >= 14 {
        (body.height / 3).clamp(4, 10)
    } else {
        0
    };
    let [table, panel] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(findings)]).areas(body);
    (table, panel)
}

/// A management API figure of `queue`: the value, `?` when unknown (the reason is on the
/// health screen), `-` without a queue.
pub fn mgmt_cell(
    m: &Model,
    queue: Option<&str>,
    pick: impl Fn(&crate::queue::mgmt::MgmtQueue) -> String,
) -> String {
    let Some(q) = queue else {
        return "-".into();
    };
    match m.mgmt.get(q) {
        Some(Ok(d)) => pick(d),
        _ => "?".into(),
    }
}

/// kubectl's short names, for narrow terminals.
fn short_kind(k: crate::fleet::objects::FleetKind) -> &'static str {
    match k {
        crate::fleet::objects::FleetKind::ScaledJob => "sj",
        crate::fleet::objects::FleetKind::Job => "job",
        crate::fleet::objects::FleetKind::Deployment => "deploy",
    }
}

fn state(f: &FleetStatus) -> String {
    format!("{:?}", f.state).to_lowercase()
}

/// The columns: header, width, and the screen width from which the column is shown.
const COLUMNS: &[(&str, u16, u16)] = &[
    ("FLEET", 0, 0),
    ("STATE", 8, 0),
    ("QUEUE", 14, 170),
    ("READY", 5, 0),
    ("UNACK", 6, 110),
    ("DLQ", 4, 0),
    ("IN/s", 6, 170),
    ("OUT/s", 6, 170),
    ("JOBS", 9, 0),
    ("PODS", 7, 0),
    ("OOM", 3, 0),
    ("EV", 3, 0),
    ("RST", 4, 110),
    ("TASK/s", 6, 0),
    ("P99", 6, 120),
    ("TOKENS/s", 8, 170),
    ("CPU", 10, 130),
    ("MEM", 10, 110),
    ("FINDINGS", 8, 0),
];

pub fn draw(m: &Model, f: &mut Frame, body: Rect, p: &Palette) {
    let (table, panel) = layout(body);
    let shown: Vec<bool> = COLUMNS.iter().map(|c| body.width >= c.2).collect();
    let header: Vec<&str> = COLUMNS
        .iter()
        .zip(&shown)
        .filter(|(_, s)| **s)
        .map(|(c, _)| c.0)
        .collect();
    let widths: Vec<Constraint> = COLUMNS
        .iter()
        .zip(&shown)
        .filter(|(_, s)| **s)
        .map(|(c, _)| {
            if c.1 == 0 {
                Constraint::Min(14)
            } else {
                Constraint::Length(c.1)
            }
        })
        .collect();
    let title = Line::from(vec![
        Span::styled(" Fleets ", p.accent()),
        Span::styled(
            if m.fleets_filter.is_empty() {
                String::new()
            } else {
                format!("/{} ", m.fleets_filter)
            },
            p.warn(),
        ),
    ]);
    let plain = ratatui::style::Style::default();
    widgets::table(
        f,
        table,
        title,
        &header,
        &widths,
        m.fleet_rows.len(),
        Some(m.fleets_cursor),
        p,
        |i| {
            let fl = &m.snapshot.fleets[m.fleet_rows[i]];
            let q = fl.queue.as_deref();
            let mm = fl.metrics.as_ref();
            let d = &fl.disruptions_last_hour;
            let ready = match (q, fl.queue_ready) {
                (_, Some(r)) => r.to_string(),
                (Some(_), None) => "?".into(),
                (None, None) => "-".into(),
            };
            let dlq_name = q.map(dlq);
            let dlq_cell = mgmt_cell(m, dlq_name.as_deref(), |d| d.ready.to_string());
            let dlq_style = if !matches!(dlq_cell.as_str(), "0" | "-" | "?") {
                p.warn()
            } else {
                plain
            };
            let ev = d.evicted + d.api_eviction + d.preempted;
            // The same cells as `fleetctl status`: the API's usage, else the agents' RSS.
            let worst_mem = fl
                .usage
                .as_ref()
                .and_then(|u| u.worst_memory.as_ref().map(|w| w.used_ratio))
                .or_else(|| {
                    fl.usage
                        .is_none()
                        .then(|| mm.and_then(|x| x.worst_memory_headroom.as_ref()))
                        .flatten()
                        .map(|h| h.used_ratio)
                });
            let mem = fleet_memory_cell(
                fl.usage.as_ref(),
                mm.and_then(|x| x.worst_memory_headroom.as_ref()),
            );
            let cells: Vec<Cell> = vec![
                Cell::from(if body.width >= 110 {
                    fl.display()
                } else {
                    format!("{}/{}", short_kind(fl.kind), fl.name)
                }),
                Cell::from(state(fl)).style(match fl.state {
                    crate::fleet::objects::FleetState::Running => p.good(),
                    _ => p.warn(),
                }),
                Cell::from(q.unwrap_or("-").to_string()),
                Cell::from(ready),
                Cell::from(mgmt_cell(m, q, |d| d.unacked.to_string())),
                Cell::from(dlq_cell).style(dlq_style),
                Cell::from(mgmt_cell(m, q, |d| widgets::rate(d.publish_rate))),
                Cell::from(mgmt_cell(m, q, |d| widgets::rate(d.deliver_rate))),
                Cell::from(format!(
                    "{}/{}/{}",
                    fl.jobs.active, fl.jobs.succeeded, fl.jobs.failed
                )),
                Cell::from(format!("{}/{}", fl.pods.running, fl.pods.pending)),
                Cell::from(d.oom_killed.to_string()).style(if d.oom_killed > 0 {
                    p.bad()
                } else {
                    plain
                }),
                Cell::from(ev.to_string()).style(if ev > 0 { p.warn() } else { plain }),
                Cell::from(fl.pods.restarts.to_string()),
                Cell::from(widgets::rate(mm.and_then(|x| x.tasks_per_s))),
                Cell::from(
                    mm.and_then(|x| x.p99_task_seconds)
                        .map_or_else(|| "-".into(), |v| format!("{v:.1}s")),
                ),
                Cell::from(mm.filter(|x| x.tasks_per_s.is_some()).map_or_else(
                    || "-".into(),
                    |x| widgets::rate(Some(x.tokens_per_s.values().sum())),
                )),
                Cell::from(fleet_cpu_cell(fl.usage.as_ref())),
                Cell::from(mem).style(match worst_mem {
                    Some(r) if r >= 0.9 => p.bad(),
                    Some(r) if r >= 0.75 => p.warn(),
                    _ => plain,
                }),
                findings_cell(fl, p),
            ];
            Row::new(
                cells
                    .into_iter()
                    .zip(&shown)
                    .filter(|(_, s)| **s)
                    .map(|(c, _)| c),
            )
        },
    );
    if panel.height > 0 {
        draw_findings(m, f, panel, p);
    }
    if m.snapshot.fleets.is_empty() && table.height > 4 {
        let lines = if m.listed_at.is_none() {
            vec![
                Line::from(""),
                Line::from(format!(
                    "  Listing fleets, Jobs, pods and events in namespace {}…",
                    m.snapshot.namespace
                )),
            ]
        } else {
            vec![
                Line::from(""),
                Line::from(format!(
                    "  No fleets labelled {} in namespace {}.",
                    m.snapshot.selector, m.snapshot.namespace
                )),
                Line::from(
                    "  a applies the bundled manifests; : then `ns NAME` watches another namespace.",
                ),
            ]
        };
        let inner = Rect::new(
            table.x + 1,
            table.y + 2,
            table.width.saturating_sub(2),
            table.height.saturating_sub(3),
        );
        f.render_widget(Paragraph::new(lines).style(p.dim()), inner);
    }
}

fn findings_cell<'a>(fl: &FleetStatus, p: &Palette) -> Cell<'a> {
    match (fl.findings.len(), fl.worst()) {
        (0, _) => Cell::from("ok").style(p.good()),
        (n, Some(Severity::Critical)) => Cell::from(format!("{n} crit")).style(p.bad()),
        (n, _) => Cell::from(format!("{n} warn")).style(p.warn()),
    }
}

fn draw_findings(m: &Model, f: &mut Frame, area: Rect, p: &Palette) {
    let room = usize::from(area.height.saturating_sub(2));
    let all: Vec<_> = m.snapshot.findings().collect();
    let mut lines: Vec<Line> = all
        .iter()
        .take(room)
        .map(|(fl, x)| {
            let (mark, style) = match x.severity {
                Severity::Critical => ("critical", p.bad()),
                Severity::Warning => ("warning ", p.warn()),
            };
            Line::from(vec![
                Span::styled(format!(" {mark} "), style),
                Span::styled(format!("{} ", fl.display()), p.accent()),
                Span::raw(x.message.clone()),
            ])
        })
        .collect();
    if all.is_empty() {
        lines.push(Line::styled(" no findings", p.good()));
    } else if all.len() > room
        && let Some(last) = lines.last_mut()
    {
        *last = Line::styled(format!(" … and {} more", all.len() + 1 - room), p.dim());
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(" Findings ", p.accent())));
    f.render_widget(Paragraph::new(lines).block(block), area);
}
