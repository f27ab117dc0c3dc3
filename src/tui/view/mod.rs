//! `view(&Model, &mut Frame)`: draws the model and nothing else. Rows are already sorted and
//! filtered by `Model::refresh`; tables draw only the rows that fit.

mod dialog;
mod events;
mod fleet;
mod fleets;
mod help;
mod pod;
mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::model::{Link, Model, Prompt, Screen, UsageHeader};
use super::msg::LinkKind;
pub use help::help_len;
pub use widgets::Palette;

/// Rows of chrome around the body: two header lines, the status line and the key hints.
const CHROME: u16 = 4;

pub fn view(m: &Model, f: &mut Frame) {
    let area = f.area();
    let [header, body, status, hints] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let p = Palette::new(m.color);
    draw_header(m, f, header, &p);
    match m.screen() {
        Screen::Fleets => fleets::draw(m, f, body, &p),
        Screen::Fleet(id) => fleet::draw(m, id, f, body, &p),
        Screen::Pod(name) => pod::draw(m, name, f, body, &p),
        Screen::Logs(name) => pod::draw_logs(m, name, f, body, &p),
        Screen::Events => events::draw(m, f, body, &p),
        Screen::Actions => events::draw_actions(m, f, body, &p),
        Screen::Health => help::draw_health(m, f, body, &p),
        Screen::Help => help::draw(m, f, body, &p),
    }
    draw_status(m, f, status, &p);
    draw_hints(m, f, hints, &p);
    if let Some(d) = &m.dialog {
        dialog::draw(m, d, f, area, &p);
    }
}

/// The rows a table shows on the current screen at the current size; `update` keeps cursors
/// inside this so the selection stays visible.
pub fn table_rows(m: &Model) -> usize {
    let body = Rect::new(0, 0, m.width, m.height.saturating_sub(CHROME));
    let area = match m.screen() {
        Screen::Fleets => fleets::layout(body).0,
        Screen::Fleet(_) => fleet::layout(body).pods,
        Screen::Pod(_) => return 1,
        _ => body,
    };
    // Borders and the header row.
    usize::from(area.height.saturating_sub(3)).max(1)
}

/// Health lines (the `i` screen): what does not answer, and why.
pub fn health_lines(m: &Model) -> Vec<String> {
    help::health_lines(m)
}

fn link_span<'a>(name: &'a str, link: Option<&Link>, p: &Palette, wide: bool) -> Vec<Span<'a>> {
    let (mark, style, text) = match link {
        Some(Link::Up) => ("●", p.good(), "up".to_string()),
        Some(Link::Down { reason, .. }) if wide => ("✗", p.bad(), widgets::first_words(reason, 40)),
        Some(Link::Down { .. }) => ("✗", p.bad(), "down (i)".to_string()),
        Some(Link::Off) => ("-", p.dim(), "off".to_string()),
        _ => ("…", p.dim(), "connecting".to_string()),
    };
    vec![
        Span::styled(format!("{name} "), p.dim()),
        Span::styled(mark, style),
        Span::raw(format!(" {text}  ")),
    ]
}

fn draw_header(m: &Model, f: &mut Frame, area: Rect, p: &Palette) {
    let i = &m.info;
    let mut first = vec![
        Span::styled(" fleetctl ", p.title()),
        Span::raw(" "),
        Span::styled("ctx ", p.dim()),
        Span::raw(format!("{}  ", i.context)),
        Span::styled("ns ", p.dim()),
        Span::raw(format!("{}  ", i.namespace)),
        Span::styled("server ", p.dim()),
        Span::raw(format!("{}  ", i.server)),
    ];
    if let Some(local) = &i.local {
        first.push(Span::styled(format!("[{local}]"), p.accent()));
    }
    let wide = area.width >= 120;
    let mut second = link_span("api", m.links.get(&LinkKind::Api), p, wide);
    second.extend(link_span("broker", m.links.get(&LinkKind::Broker), p, wide));
    second.extend(link_span("mgmt", m.links.get(&LinkKind::Mgmt), p, wide));
    let (scraped, not) = m
        .snapshot
        .fleets
        .iter()
        .filter_map(|f| f.metrics.as_ref())
        .fold((0, 0), |(a, b), x| {
            (a + x.pods_scraped, b + x.not_scraped.len())
        });
    second.push(Span::styled("scrape ", p.dim()));
    if !i.scrape {
        second.push(Span::styled("off", p.dim()));
    } else if not > 0 {
        second.push(Span::styled(
            format!("{scraped}/{} pods (i: why)", scraped + not),
            p.warn(),
        ));
    } else {
        second.push(Span::raw(format!("{scraped} pods")));
    }
    if !m.fleet.unavailable().is_empty() {
        second.push(Span::styled(
            format!("  {} kind(s) degraded (i)", m.fleet.unavailable().len()),
            p.warn(),
        ));
    }
    second.extend(usage_span(&m.usage_header, p, wide));
    f.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

/// What the header says about resource usage, once for the whole console.
fn usage_span(u: &UsageHeader, p: &Palette, wide: bool) -> Vec<Span<'static>> {
    let (text, style) = match u {
        UsageHeader::Waiting => ("usage …".to_string(), p.dim()),
        UsageHeader::Fresh { pods } => (format!("usage {pods} pods"), Style::default()),
        UsageHeader::Stale { age } if wide => (
            format!(
                "usage stale: read {} ago",
                crate::fleet::duration::human_duration(*age)
            ),
            p.warn(),
        ),
        UsageHeader::Stale { age } => (
            format!(
                "usage stale {}",
                crate::fleet::duration::human_duration(*age)
            ),
            p.warn(),
        ),
        UsageHeader::NotServed if wide => (
            "usage: metrics.k8s.io not served (no metrics-server)".to_string(),
            p.warn(),
        ),
        UsageHeader::NotServed => ("usage: no metrics-server (i)".to_string(), p.warn()),
        UsageHeader::Failed(e) if wide => {
            (format!("usage ✗ {}", widgets::first_words(e, 40)), p.bad())
        }
        UsageHeader::Failed(_) => ("usage ✗ (i)".to_string(), p.bad()),
    };
    vec![Span::raw("  "), Span::styled(text, style)]
}

fn draw_status(m: &Model, f: &mut Frame, area: Rect, p: &Palette) {
    let line = match &m.prompt {
        Some(Prompt::Filter(t)) => Line::from(vec![
            Span::styled("/", p.accent()),
            Span::raw(t.clone()),
            Span::styled("▏", p.accent()),
        ]),
        Some(Prompt::Palette(t)) => Line::from(vec![
            Span::styled(":", p.accent()),
            Span::raw(t.clone()),
            Span::styled("▏", p.accent()),
            Span::styled("   fleet NAME · pod NAME · ns NAME", p.dim()),
        ]),
        None => match &m.status {
            Some(s) => Line::from(vec![
                Span::styled(format!("{} ", widgets::clock(s.at)), p.dim()),
                Span::styled(
                    s.text.clone(),
                    if s.error { p.bad() } else { Style::default() },
                ),
            ]),
            None => Line::from(""),
        },
    };
    f.render_widget(Paragraph::new(line), area);
}

fn draw_hints(m: &Model, f: &mut Frame, area: Rect, p: &Palette) {
    let hints: &[(&str, &str)] = match m.screen() {
        Screen::Fleets => &[
            ("Enter", "open"),
            ("s", "seed"),
            ("p/r", "pause/resume"),
            ("d", "drain"),
            ("a", "apply"),
            ("E", "events"),
            ("/", "filter"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Screen::Fleet(_) => &[
            ("Enter", "pod"),
            ("l", "logs"),
            ("e", "evict"),
            ("o", "sort"),
            ("s", "seed"),
            ("p/r/d", "pause/resume/drain"),
            ("Esc", "back"),
            ("?", "help"),
        ],
        Screen::Pod(_) => &[
            ("l", "logs"),
            ("e", "evict"),
            ("Esc", "back"),
            ("?", "help"),
            ("q", "quit"),
        ],
        Screen::Logs(_) => &[
            ("f", "follow"),
            ("j/k", "scroll"),
            ("Esc", "back"),
            ("q", "quit"),
        ],
        Screen::Events => &[
            ("w", "warnings only"),
            ("/", "filter"),
            ("Esc", "back"),
            ("q", "quit"),
        ],
        _ => &[("j/k", "scroll"), ("Esc", "back"), ("q", "quit")],
    };
    let mut spans = Vec::new();
    for (k, what) in hints {
        spans.push(Span::styled(
            format!(" {k}"),
            p.accent().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(format!(" {what} "), p.dim()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
