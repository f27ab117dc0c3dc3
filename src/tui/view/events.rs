//! The namespace's events, newest first (warnings only on `w`), and the action log.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::widgets::{self, Palette};
use crate::tui::model::Model;

pub fn draw(m: &Model, f: &mut Frame, body: Rect, p: &Palette) {
    let title = Line::from(vec![
        Span::styled(" Events ", p.accent()),
        Span::styled(
            if m.warnings_only {
                "warnings only (w: all) "
            } else {
                "all (w: warnings only) "
            },
            p.dim(),
        ),
        Span::styled(
            if m.events_filter.is_empty() {
                String::new()
            } else {
                format!("/{} ", m.events_filter)
            },
            p.warn(),
        ),
    ]);
    let widths = [
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(20),
        Constraint::Length(30),
        Constraint::Length(5),
        Constraint::Min(20),
    ];
    widgets::table(
        f,
        body,
        title,
        &["LAST", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"],
        &widths,
        m.event_rows.len(),
        Some(m.events_cursor),
        p,
        |i| {
            let Some(e) = m.fleet.events().get(&m.event_rows[i]) else {
                return Row::new(Vec::<Cell>::new());
            };
            Row::new(vec![
                Cell::from(widgets::age(m.now, e.last_seen)),
                if e.warning {
                    Cell::from("Warning").style(p.warn())
                } else {
                    Cell::from("Normal").style(p.dim())
                },
                Cell::from(e.reason.clone()),
                Cell::from(format!(
                    "{}/{}",
                    e.involved_kind.to_lowercase(),
                    e.involved_name
                )),
                Cell::from(e.count.to_string()),
                Cell::from(e.message.clone()),
            ])
        },
    );
}

pub fn draw_actions(m: &Model, f: &mut Frame, body: Rect, p: &Palette) {
    // The selected entry's progress lines (a smoke test's checklist) below the table.
    let len = m.actions.len();
    let selected = len
        .checked_sub(1 + m.actions_cursor.selected)
        .and_then(|i| m.actions.get(i))
        .filter(|e| !e.lines.is_empty());
    let (body, panel) = match selected {
        Some(e) => {
            let h = (e.lines.len() as u16 + 2).min(body.height / 2);
            let [a, b] =
                ratatui::layout::Layout::vertical([Constraint::Min(0), Constraint::Length(h)])
                    .areas(body);
            (a, Some((b, e)))
        }
        None => (body, None),
    };
    if let Some((area, e)) = panel {
        let room = usize::from(area.height.saturating_sub(2));
        let lines: Vec<Line> = e
            .lines
            .iter()
            .skip(e.lines.len().saturating_sub(room))
            .map(|l| {
                let style = if l.starts_with("[FAIL]") {
                    p.bad()
                } else if l.starts_with("[ok]") {
                    p.good()
                } else {
                    Style::default()
                };
                Line::styled(l.clone(), style)
            })
            .collect();
        let block = ratatui::widgets::Block::default()
            .borders(ratatui::widgets::Borders::ALL)
            .title(Line::from(Span::styled(
                format!(" {} ", e.title),
                p.accent(),
            )));
        f.render_widget(ratatui::widgets::Paragraph::new(lines).block(block), area);
    }
    let widths = [
        Constraint::Length(8),
        Constraint::Length(38),
        Constraint::Length(9),
        Constraint::Min(20),
    ];
    let len = m.actions.len();
    widgets::table(
        f,
        body,
        Line::from(Span::styled(
            " Action log (x cancels what is running) ",
            p.accent(),
        )),
        &["AT", "ACTION", "RESULT", "MESSAGE"],
        &widths,
        len,
        Some(m.actions_cursor),
        p,
        |i| {
            // Newest first.
            let Some(e) = m.actions.get(len - 1 - i) else {
                return Row::new(Vec::<Cell>::new());
            };
            let (result, style, text) = match &e.result {
                None => (
                    "running",
                    p.accent(),
                    e.progress.clone().unwrap_or_default(),
                ),
                Some(Ok(s)) => ("ok", p.good(), s.clone()),
                Some(Err(s)) => ("failed", p.bad(), s.clone()),
            };
            Row::new(vec![
                Cell::from(widgets::clock(e.at)).style(p.dim()),
                Cell::from(e.title.clone()),
                Cell::from(result).style(style),
                Cell::from(text).style(Style::default()),
            ])
        },
    );
}
