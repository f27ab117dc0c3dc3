//! Dialogs over the screen: a plan being worked out, a confirm that says exactly what will
//! happen, the seed count, and a plan that failed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::widgets::Palette;
use crate::tui::cmd::Action;
use crate::tui::model::{Dialog, Model};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

pub fn draw(_m: &Model, d: &Dialog, f: &mut Frame, area: Rect, p: &Palette) {
    let width = (area.width * 4 / 5).clamp(40, 100);
    let (title, mut lines, keys): (String, Vec<Line>, &str) = match d {
        Dialog::Planning { action, .. } => (
            action.title(),
            vec![Line::styled("working out what this will do…", p.dim())],
            "Esc cancel",
        ),
        Dialog::Confirm {
            action,
            lines,
            warning,
            changes,
            ..
        } => {
            let mut out: Vec<Line> = lines.iter().map(|l| Line::raw(l.clone())).collect();
            if let Some(w) = warning {
                out.push(Line::raw(""));
                out.push(Line::styled(format!("! {w}"), p.warn()));
            }
            let keys = match (action, changes) {
                (_, false) => "Enter/Esc close",
                (Action::Drain { .. }, true) => "Enter run · Space evict the rest too · Esc cancel",
                _ => "Enter run · Esc cancel",
            };
            (action.title(), out, keys)
        }
        Dialog::SeedCount {
            queue,
            value,
            error,
        } => {
            let mut out = vec![
                Line::raw(format!(
                    "Publish test tasks into queue {queue}, with publisher confirms."
                )),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("count: ", p.dim()),
                    Span::styled(value.clone(), p.accent()),
                    Span::styled("▏", p.accent()),
                ]),
            ];
            if let Some(e) = error {
                out.push(Line::styled(e.clone(), p.bad()));
            }
            (
                "seed".to_string(),
                out,
                "type a number · Enter seed · Esc cancel",
            )
        }
        Dialog::Error { title, message } => (
            title.clone(),
            vec![Line::styled(message.clone(), p.bad())],
            "Enter/Esc close",
        ),
    };
    lines.push(Line::raw(""));
    lines.push(Line::styled(keys, p.dim()));
    let inner_w = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_w).max(1))
        .sum();
    let height = (rows as u16 + 2).min(area.height);
    let rect = centered(area, width, height);
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(Span::styled(format!(" {title} "), p.title())));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
}
