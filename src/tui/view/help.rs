//! The help screen, written from the key table, and the health screen: what does not answer
//! and why (API, broker, management API, refused kinds, pods not scraped).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::widgets::Palette;
use crate::fleet::usage::{NOT_SERVED, UsageReading};
use crate::tui::keymap::{self, Scope};
use crate::tui::model::{Link, Model};
use crate::tui::msg::LinkKind;

/// Help lines: a heading per scope, then one line per binding.
fn help_text() -> Vec<(Option<Scope>, String)> {
    let mut out = Vec::new();
    let mut last = None;
    for (scope, keys, help) in keymap::help_lines() {
        if last != Some(scope) {
            if last.is_some() {
                out.push((None, String::new()));
            }
            out.push((Some(scope), scope.title().to_string()));
            last = Some(scope);
        }
        out.push((None, format!("  {keys:<14} {help}")));
    }
    out
}

pub fn help_len() -> usize {
    help_text().len()
}

fn scrolled(lines: Vec<Line<'static>>, offset: usize, room: usize) -> Vec<Line<'static>> {
    lines.into_iter().skip(offset).take(room).collect()
}

pub fn draw(m: &Model, f: &mut Frame, body: Rect, p: &Palette) {
    let lines: Vec<Line> = help_text()
        .into_iter()
        .map(|(heading, text)| match heading {
            Some(_) => Line::styled(text, p.header()),
            None => Line::raw(text),
        })
        .collect();
    let room = usize::from(body.height.saturating_sub(2));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(" Keys (Esc: back) ", p.accent())));
    f.render_widget(
        Paragraph::new(scrolled(lines, m.help_cursor.offset, room)).block(block),
        body,
    );
}

fn link_line(name: &str, link: Option<&Link>) -> String {
    match link {
        Some(Link::Up) => format!("{name}: up"),
        Some(Link::Down { reason, since }) => format!(
            "{name}: down since {} UTC: {reason}",
            super::widgets::clock(*since)
        ),
        Some(Link::Off) => format!("{name}: off"),
        _ => format!("{name}: not answered yet"),
    }
}

/// Everything that is not answering, one line each.
pub fn health_lines(m: &Model) -> Vec<String> {
    let mut out = vec![
        link_line("Kubernetes API", m.links.get(&LinkKind::Api)),
        link_line("broker (AMQP)", m.links.get(&LinkKind::Broker)),
        link_line("management API", m.links.get(&LinkKind::Mgmt)),
    ];
    for (kind, why) in m.fleet.unavailable() {
        out.push(format!("{kind:?}: {why}"));
    }
    for (q, why) in &m.queue_errors {
        out.push(format!("queue {q}: {why}"));
    }
    for (q, r) in &m.mgmt {
        if let Err(why) = r {
            out.push(format!("queue {q} (management API): {why}"));
        }
    }
    if !m.info.scrape {
        out.push("scraping: off (--scrape off)".into());
    }
    match &m.usage.last {
        Some(UsageReading::NotServed) => out.push(format!("usage: {NOT_SERVED}")),
        Some(UsageReading::Served(_)) => {
            if let Some(at) = m.usage.at {
                out.push(format!(
                    "usage (metrics.k8s.io): up, last read at {} UTC",
                    super::widgets::clock(at)
                ));
            }
        }
        _ => {}
    }
    if let Some(e) = &m.usage.error {
        out.push(format!("usage (metrics.k8s.io): the last read failed: {e}"));
    }
    for f in &m.snapshot.fleets {
        if let Some(x) = &f.metrics {
            for (pod, why) in &x.not_scraped {
                out.push(format!(
                    "{}: pod {} not scraped: {why}",
                    f.display(),
                    pod.rsplit('/').next().unwrap_or(pod)
                ));
            }
            if x.unreadable_lines > 0 {
                out.push(format!(
                    "{}: {} unreadable /metrics lines",
                    f.display(),
                    x.unreadable_lines
                ));
            }
        }
    }
    out
}

pub fn draw_health(m: &Model, f: &mut Frame, body: Rect, p: &Palette) {
    let lines: Vec<Line> = health_lines(m)
        .into_iter()
        .map(|l| {
            if l.contains(": up") && !l.contains("not scraped") {
                Line::styled(l, p.good())
            } else {
                Line::styled(l, p.warn())
            }
        })
        .collect();
    let room = usize::from(body.height.saturating_sub(2));
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(" Health (Esc: back) ", p.accent())));
    f.render_widget(
        Paragraph::new(scrolled(lines, m.health_cursor.offset, room)).block(block),
        body,
    );
}
